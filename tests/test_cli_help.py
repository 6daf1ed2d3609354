"""Every command explains itself: a one-line summary and an example invocation."""

from __future__ import annotations

import click
import pytest

from simplymeet.cli.main import cli
from tests.cli_support import every_command

COMMANDS = [(" ".join(("simplymeet", *path)), command) for path, command in every_command(cli)]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_has_a_summary_line(path, command):
    assert command.help and command.help.strip().splitlines()[0].strip(), path


@pytest.mark.parametrize(
    ("path", "command"),
    [(p, c) for p, c in COMMANDS if not isinstance(c, click.Group)],
    ids=[p for p, c in COMMANDS if not isinstance(c, click.Group)],
)
def test_command_help_shows_an_example(path, command):
    assert "Example" in (command.help or ""), f"{path} has no example in its help"


@pytest.mark.parametrize(
    ("path", "command"),
    [(p, c) for p, c in COMMANDS if not isinstance(c, click.Group)],
    ids=[p for p, c in COMMANDS if not isinstance(c, click.Group)],
)
def test_every_option_is_explained(path, command):
    unexplained = [
        opt.name
        for opt in command.params
        if isinstance(opt, click.Option) and not opt.hidden and not opt.help
    ]
    assert not unexplained, f"{path}: options without help: {unexplained}"
