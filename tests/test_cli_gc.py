"""The `simplymeet` program exempts what a command imported from garbage collection; a command
run inside another process (a test's CliRunner, an orchestrator) leaves that process's
collection alone."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import duckdb
from click.testing import CliRunner

from simplymeet.cli.main import cli

# The program's own entry point, reporting at exit how many objects the collector never walks.
_PROGRAM = """
import atexit, gc, sys
from simplymeet.cli.main import main
atexit.register(lambda: print("frozen", gc.get_freeze_count(), file=sys.stderr))
main()
"""


def _frozen_at_exit(*args: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, *args], capture_output=True, text=True, timeout=120
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("frozen "))
    return int(line.split()[1])


def test_the_program_freezes_what_a_command_imported(tmp_path: Path) -> None:
    # `models test` imports DuckDB and the models before it finds no warehouse and exits 1.
    assert _frozen_at_exit("models", "test", "--db", str(tmp_path / "none.duckdb")) > 10_000


def test_a_command_that_stops_before_its_imports_freezes_nothing(tmp_path: Path) -> None:
    # No API key: the sync exits 2 before dlt and pyarrow load.
    frozen = _frozen_at_exit("sync", "--db", str(tmp_path / "w.duckdb"))
    assert frozen == 0


def test_a_command_run_in_another_process_leaves_its_collection_alone(tmp_path: Path) -> None:
    before = gc.get_freeze_count()
    result = CliRunner().invoke(cli, ["models", "test", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2, result.output
    # Frozen objects still die by reference count, so the count may fall; a freeze adds
    # every object alive (tens of thousands with DuckDB and the models imported).
    assert gc.get_freeze_count() <= before


_ENTRY = """
import atexit, sys, threading, time
from simplymeet.cli.main import main
if "--late-writer" in sys.argv:
    sys.argv.remove("--late-writer")
    path = sys.argv.pop()
    def write_late():
        time.sleep(0.5)
        open(path, "w").write("written")
    threading.Thread(target=write_late).start()
atexit.register(lambda: print("exit handler ran", file=sys.stderr))
sys.argv[0] = "simplymeet"
main()
"""


def _program(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _ENTRY, *args], capture_output=True, text=True, timeout=120
    )


def test_the_program_ends_with_every_line_of_a_long_output_written(tmp_path: Path) -> None:
    database = tmp_path / "empty.duckdb"
    duckdb.connect(str(database)).close()

    done = _program(
        "sql", "select range from range(300000)", "--db", str(database), "--format", "csv"
    )

    assert done.returncode == 0
    assert done.stdout.splitlines()[-1] == "299999"
    assert len(done.stdout.splitlines()) == 300_001


def test_the_program_ends_with_the_exit_code_its_command_chose(tmp_path: Path) -> None:
    done = _program("sync", "--config", str(tmp_path / "missing.toml"))

    assert done.returncode == 2
    assert "config file not found" in done.stderr


def test_the_program_runs_the_exit_handlers_before_it_ends() -> None:
    done = _program("--help")

    assert done.returncode == 0
    assert "exit handler ran" in done.stderr


def test_the_program_waits_for_a_thread_still_running_before_it_ends(tmp_path: Path) -> None:
    marker = tmp_path / "late.txt"

    done = _program("--help", "--late-writer", str(marker))

    assert done.returncode == 0
    assert marker.read_text() == "written"
