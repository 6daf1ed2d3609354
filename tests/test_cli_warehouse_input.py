"""A warehouse named on the command line that is not one is the user's input: exit 2."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import duckdb
import pytest

from simplymeet.duckdb_files import another_kind_of_file
from tests.cli_support import run_cli


@pytest.mark.parametrize("command", [("models", "build"), ("report",), ("alerts", "check")])
def test_a_warehouse_that_is_not_a_duckdb_file_exits_2_in_one_line(tmp_path, command):
    other = tmp_path / "notes.duckdb"
    other.write_text("not a database\n")

    result = run_cli(*command, "--db", str(other))

    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert f"{other} is not a DuckDB file" in line


@pytest.mark.parametrize(
    "command",
    [
        ("models", "build"),
        ("report",),
        ("sql", "select 1"),
        ("sync",),
        ("writeback", "jobs"),
        ("event", "cancel", "--ids", "1", "--dry-run"),
        ("demo",),
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_a_sqlite_file_as_the_warehouse_exits_2_and_is_left_as_it_was(tmp_path, command):
    # DuckDB would open it through its SQLite extension, downloading it where it can.
    other = tmp_path / "scheduling.db"
    with sqlite3.connect(other) as con:
        con.execute("create table bookings (id integer)")
    con.close()
    before = other.read_bytes()

    env = {"SIMPLYMEET_API_KEY": "k" * 20, "SIMPLYMEET_API__BASE_URL": "http://127.0.0.1:9"}
    result = run_cli(*command, "--db", str(other), env=env)

    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert f"{other} is not a DuckDB file" in line
    assert other.read_bytes() == before


@pytest.mark.parametrize(
    "command",
    [("models", "build"), ("models", "test"), ("report",), ("writeback", "jobs")],
    ids=" ".join,
)
def test_a_warehouse_that_is_not_there_exits_2_in_one_line(tmp_path, command):
    missing = tmp_path / "nope.duckdb"

    result = run_cli(*command, "--db", str(missing))

    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert f"no DuckDB warehouse at {missing} (run `simplymeet sync` first)" in line
    assert not missing.exists()


@pytest.mark.parametrize(
    "command", [("sql", "select 1"), ("report",), ("alerts", "check")], ids=" ".join
)
def test_an_empty_file_as_the_warehouse_to_read_exits_2_in_one_line_saying_so(tmp_path, command):
    # DuckDB cannot open an empty file to read: its own error named no next step.
    empty = tmp_path / "empty.duckdb"
    empty.touch()

    result = run_cli(*command, "--db", str(empty))

    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert f"{empty} is an empty file, no DuckDB warehouse yet" in line
    assert empty.read_bytes() == b""


def test_a_configured_warehouse_that_is_a_folder_exits_2_in_one_line_saying_so(tmp_path):
    folder = tmp_path / "w.duckdb"
    folder.mkdir()

    result = run_cli("writeback", "jobs", env={"SIMPLYMEET_WAREHOUSE__DUCKDB_PATH": str(folder)})

    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line == f"error: the warehouse {folder} is a folder, not a DuckDB file"


def test_a_write_back_job_the_journal_does_not_know_exits_2_naming_it(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()

    result = run_cli("writeback", "show", "nosuchjob", "--db", str(warehouse))

    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert "no write-back job 'nosuchjob'" in line


def test_a_pipe_as_the_warehouse_is_refused_as_no_duckdb_file(tmp_path):
    pipe = tmp_path / "warehouse.duckdb"
    os.mkfifo(pipe)

    assert another_kind_of_file(pipe)


def test_a_command_given_a_pipe_as_the_warehouse_exits_2_instead_of_waiting_on_it(tmp_path):
    pipe = tmp_path / "warehouse.duckdb"
    os.mkfifo(pipe)

    # A process of its own, bounded: DuckDB would wait on the pipe for ever.
    done = subprocess.run(
        [sys.executable, "-m", "simplymeet.cli.main", "sql", "--db", str(pipe), "select 1"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert f"{pipe} is not a DuckDB file" in done.stderr
