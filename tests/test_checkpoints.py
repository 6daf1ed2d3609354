"""Fewer checkpoints alone on a sync's critical path: the load's connection is handed over
open to the model build (its settings put back), and one checkpoint runs beside the data
tests. What is written is all in the file once the run ends, and nothing holds the file
after it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from simplymeet.checkpoints import (
    Checkpointing,
    checkpoint_beside,
    checkpoints_deferred,
    global_settings,
    hand_over,
    hand_overs,
)
from simplymeet.emulator import start_emulator
from simplymeet.sync.lock import warehouse_kept_open
from tests.sync_support import run_sync, settings_for

ROWS = 100_000
"""Under one row group (122,880 rows): DuckDB writes the rows of a larger table to the file
itself as it commits, and only their place to the log."""


def _log_size(path: Path) -> int:
    log = path.with_name(path.name + ".wal")
    return log.stat().st_size if log.exists() else 0


def _write_unchecked(con: duckdb.DuckDBPyConnection, name: str = "t") -> None:
    """Commit a table whose rows stay in the write-ahead log."""
    with checkpoints_deferred(con):
        con.execute(
            f"create or replace table {name} as "
            f"select range as n, md5(range::varchar) as s from range({ROWS})"
        )


def _another_process_opens(path: Path) -> str:
    code = f"import duckdb; duckdb.connect({str(path)!r}).close(); print('opened')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return done.stdout.strip() or done.stderr.strip().splitlines()[-1]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    return path


def test_a_commit_while_checkpoints_are_deferred_leaves_its_rows_in_the_log(warehouse):
    con = duckdb.connect(str(warehouse))
    con.execute("set checkpoint_threshold = '1MB'")
    _write_unchecked(con)
    assert _log_size(warehouse) > 1_000_000


def test_deferring_checkpoints_puts_the_threshold_back(warehouse):
    con = duckdb.connect(str(warehouse))
    [(before,)] = con.execute("select current_setting('checkpoint_threshold')").fetchall()
    with checkpoints_deferred(con):
        pass
    assert con.execute("select current_setting('checkpoint_threshold')").fetchall() == [(before,)]


def test_a_checkpoint_beside_reads_empties_the_log(warehouse):
    con = duckdb.connect(str(warehouse))
    _write_unchecked(con)
    with checkpoint_beside(con):
        assert con.execute("select count(*) from t").fetchall() == [(ROWS,)]
    assert _log_size(warehouse) == 0


def test_a_checkpoint_another_write_transaction_refuses_fails_nothing(warehouse):
    con = duckdb.connect(str(warehouse))
    _write_unchecked(con)
    writer = con.cursor()
    writer.execute("begin")
    writer.execute("create table u as select -1 as n")
    running = Checkpointing(con)
    running.wait()
    writer.execute("commit")
    assert "other write transactions" in (running.error or "")
    assert con.execute("select count(*) from t union all select n from u").fetchall() == [
        (ROWS,),
        (-1,),
    ]


def test_a_connection_is_handed_over_only_inside_hand_overs(warehouse):
    con = duckdb.connect(str(warehouse))
    assert hand_over(con, global_settings(con)) is False


def test_the_next_stage_finds_the_settings_a_fresh_open_has(warehouse):
    with warehouse_kept_open(warehouse) as con:
        fresh = global_settings(con)
    with hand_overs():
        with warehouse_kept_open(warehouse, hand_over=True) as con:
            # As dlt sets them for a load.
            con.execute("set global memory_limit = '100MB'")
            con.execute("set global checkpoint_threshold = '1GB'")
            con.execute("set global TimeZone = 'America/New_York'")
        with warehouse_kept_open(warehouse) as con:
            assert global_settings(con) == fresh


def test_a_block_that_ends_while_a_checkpoint_runs_on_its_connection_closes_after_it(
    warehouse,
):
    with warehouse_kept_open(warehouse) as con:
        _write_unchecked(con)
        for name in "uvwxyz":
            _write_unchecked(con, name)
        Checkpointing(con)  # not waited for here
    assert _log_size(warehouse) == 0


def test_a_handed_over_connection_holds_the_file_until_the_hand_overs_end(warehouse):
    with hand_overs():
        with warehouse_kept_open(warehouse, hand_over=True) as con:
            _write_unchecked(con)
        assert "Conflicting lock" in _another_process_opens(warehouse)
    assert _another_process_opens(warehouse) == "opened"


def test_what_a_handed_over_connection_wrote_is_checkpointed_into_the_file(warehouse):
    with hand_overs(), warehouse_kept_open(warehouse, hand_over=True) as con:
        _write_unchecked(con)
    assert _log_size(warehouse) == 0
    read = duckdb.connect(str(warehouse), read_only=True)
    assert read.execute("select count(*) from t").fetchall() == [(ROWS,)]


def test_the_next_stage_reads_what_the_handed_over_connection_wrote(warehouse):
    with hand_overs():
        with warehouse_kept_open(warehouse, hand_over=True) as con:
            _write_unchecked(con)
        with warehouse_kept_open(warehouse) as con:
            # Written while the checkpoint runs: its commit waits for it.
            con.execute("create table u as select count(*) as n from t")
            assert con.execute("select n from u").fetchall() == [(ROWS,)]
    read = duckdb.connect(str(warehouse), read_only=True)
    assert read.execute("select n from u").fetchall() == [(ROWS,)]


def test_a_block_that_raised_closes_its_connection_at_once(warehouse):
    with hand_overs():
        with pytest.raises(RuntimeError), warehouse_kept_open(warehouse, hand_over=True):
            raise RuntimeError("the load failed")
        assert _another_process_opens(warehouse) == "opened"


def test_a_sync_with_its_models_leaves_everything_checkpointed_and_the_file_free(tmp_path):
    with start_emulator(seed=1, events=300) as emulator:
        settings = settings_for(tmp_path, emulator)
        summary = run_sync(settings, emulator, build_models=True)
    assert summary.models_built
    path = Path(settings.get("warehouse", "duckdb_path"))
    assert _log_size(path) == 0
    assert _another_process_opens(path) == "opened"
