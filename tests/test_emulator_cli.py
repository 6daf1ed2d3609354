"""`emulator serve`: help with an example, and the API key never printed."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from simplymeet.emulator.cli import emulator_group


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    for args in ([], ["serve"]):
        result = runner.invoke(emulator_group, [*args, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.output


def test_serve_without_an_api_key_refuses(monkeypatch):
    monkeypatch.delenv("SIMPLYMEET_API_KEY", raising=False)
    result = CliRunner().invoke(emulator_group, ["serve", "--events", "1"])
    assert result.exit_code != 0
    assert "SIMPLYMEET_API_KEY" in result.output


@pytest.mark.parametrize("spec", ["500=7", "429=nan", "retry_after=inf"])
def test_serve_rejects_a_bad_fault_spec(monkeypatch, spec):
    monkeypatch.setenv("SIMPLYMEET_API_KEY", "secret-value")
    result = CliRunner().invoke(emulator_group, ["serve", "--faults", spec])
    assert result.exit_code != 0
    assert "secret-value" not in result.output


def test_serve_on_a_port_already_taken_is_a_one_line_usage_error(monkeypatch):
    monkeypatch.setenv("SIMPLYMEET_API_KEY", "secret-value")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            emulator_group, ["serve", "--events", "1", "--host", "127.0.0.1", "--port", str(port)]
        )
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
