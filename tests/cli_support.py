"""`simplymeet` run in-process with Click's `CliRunner`, seen as its process would be seen.

A `simplymeet` subprocess pays ~1 s of CPU to import before it does anything, and a sync
in it pays dlt's import again. Where a test is about what the command prints and the code it
exits with, not about the process itself, `run_cli` gives the same: the same `cli` group turns
errors into one line and an exit code, `result.exit_code` is the code `sys.exit` was given,
and `result.stdout` / `result.stderr` are what each stream received.

Two things a process gets for free are kept here. The environment is the one the process
would have had: every `SIMPLYMEET_*` variable of the test run is removed and the given ones
set. And log records reach the command's stderr, as they would in the process: the root
logger (pytest's handlers sit there, so `logging.basicConfig` in `cli` is a no-op here) and
dlt's own handler (bound to whatever `sys.stderr` was when dlt first logged) both write to
the `sys.stderr` of the moment, so a test that expects one line on stderr still sees any log
line a run adds.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click
from click.testing import CliRunner, Result

from simplymeet.cli.main import cli
from tests.test_sync_resilience import cli_env

# `cli`'s own format (logging.basicConfig in simplymeet.cli.main).
_LOG_FORMAT = "%(levelname)s: %(name)s: %(message)s"


class _CurrentStderr:
    """A stream that writes to whatever `sys.stderr` is when written to (CliRunner swaps it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def run_cli(*args: str, env: Mapping[str, str] | None = None) -> Result:
    """`simplymeet *args` in-process with `env` as its only `SIMPLYMEET_*` variables (plus any
    other variable `env` names). Exceptions the command lets escape fail the test."""
    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SIMPLYMEET_")}
    overrides.update(env or {})
    with _logs_to_command_stderr():
        return CliRunner().invoke(cli, list(args), env=overrides, catch_exceptions=False)


def sync_env(settings: Any, api_key: str, **extra: str) -> dict[str, str]:
    """The `SIMPLYMEET_*` variables `cli_env` gives a `simplymeet` subprocess, plus `extra`."""
    env = {k: v for k, v in cli_env(settings, api_key).items() if k.startswith("SIMPLYMEET_")}
    env.update(extra)
    return env


@contextmanager
def _logs_to_command_stderr() -> Iterator[None]:
    root = logging.getLogger()
    handler = logging.StreamHandler(_CurrentStderr())
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    handler.setLevel(logging.WARNING)  # cli's default verbosity
    root.addHandler(handler)
    # dlt's handler may be created during the run, bound to the runner's stream (closed after
    # it): pointed at the current stderr, it writes where a later test's run can read it.
    _point_dlt_at_current_stderr()
    try:
        yield
    finally:
        root.removeHandler(handler)
        _point_dlt_at_current_stderr()


def _point_dlt_at_current_stderr() -> None:
    for handler in logging.getLogger("dlt").handlers:
        # Exactly dlt's plain handler: pytest's capturing handlers are StreamHandlers too.
        if type(handler) is logging.StreamHandler and not isinstance(
            handler.stream, _CurrentStderr
        ):
            handler.setStream(_CurrentStderr())  # type: ignore[arg-type]


def every_command(
    group: click.Group, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command under `group` and its path, as click lists them (a group built on first
    use, like the write-back's, included)."""
    ctx = click.Context(group)
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        assert command is not None, (*path, name)
        found.append(((*path, name), command))
        if isinstance(command, click.Group):
            found.extend(every_command(command, (*path, name)))
    return found
