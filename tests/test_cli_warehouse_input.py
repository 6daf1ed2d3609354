"""A warehouse named on the command line that is not one is the user's input: exit 2."""

from __future__ import annotations

import pytest

from tests.cli_support import run_cli


@pytest.mark.parametrize("command", [("models", "build"), ("report",), ("alerts", "check")])
def test_a_warehouse_that_is_not_a_duckdb_file_exits_2_in_one_line(tmp_path, command):
    other = tmp_path / "notes.duckdb"
    other.write_text("not a database\n")

    result = run_cli(*command, "--db", str(other))

    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert "not a valid DuckDB database file" in line
