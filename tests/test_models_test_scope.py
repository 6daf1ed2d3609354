"""Data tests of what changed: after tests passed, the booking models' tests read only the
bookings changed since, and find what reading every row would find among them.

Each test starts from a warehouse synced once, built, and tested on every row (so the state
of a passing run is recorded); a booking "written by a sync" is a raw row given a newer
`_synced_at`, as the sync stamps it.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import duckdb
import pytest

from simplymeet.config import Settings
from simplymeet.models import build_models, test_models
from simplymeet.models.datatests import TestFailure, run_model_tests
from simplymeet.models.errors import ModelBuildError, ModelProjectError
from simplymeet.models.project import default_sql_dir, load_project
from simplymeet.models.test_scope import STATE_TABLE, Scope
from simplymeet.sync import SyncRequest, SyncSummary, full_tests_reason
from tests.sync_support import client_for, run_sync


def _path(settings: Settings) -> str:
    return str(settings.get("warehouse", "duckdb_path"))


def _bookings(settings: Settings, count: int, skip: int = 0) -> list[int]:
    con = duckdb.connect(_path(settings), read_only=True)
    try:
        rows = con.execute(
            "select id from raw.events where deleted_at is null order by id limit ? offset ?",
            [count, skip],
        ).fetchall()
    finally:
        con.close()
    return [row[0] for row in rows]


def _write(settings: Settings, sql: str, ids: list[int]) -> None:
    """An update of raw.events for `ids`, stamped as a sync stamps what it writes."""
    con = duckdb.connect(_path(settings))
    try:
        con.execute(
            f"update raw.events set {sql}, _synced_at = now() + interval 1 second "
            f"where id in ({', '.join(str(i) for i in ids)})"
        )
    finally:
        con.close()


def _corrupt_unstamped(settings: Settings, sql: str, ids: list[int]) -> None:
    """An update of raw.events for `ids` that no sync made: no new stamp."""
    con = duckdb.connect(_path(settings))
    try:
        con.execute(f"update raw.events set {sql} where id in ({', '.join(map(str, ids))})")
    finally:
        con.close()


def _build_and_test(settings: Settings, **options):
    built = build_models(_path(settings), settings=settings)
    return run_model_tests(_path(settings), settings=settings, changes=built.changes, **options)


_END_BEFORE_START = "end_date = scheduled_at - interval 1 hour"
"""A change to raw.events that fails a data test of the bookings it is made to."""


def _found(failures: list[TestFailure]) -> set[tuple[str, str, int]]:
    return {(f.model, f.test, f.failing_rows) for f in failures}


def test_after_passing_tests_the_next_build_tests_only_the_bookings_written_since(tested):
    _write(tested, "notes = 'moved'", _bookings(tested, 3))

    run = _build_and_test(tested)

    assert run.failures == []
    assert run.bookings == 3
    assert 0 < len(run.scoped) < run.tests
    assert run.full_reason is None


def test_scoped_tests_read_each_booking_model_from_one_table_of_its_changed_rows(tested):
    _write(tested, "notes = 'moved'", _bookings(tested, 3))
    con = duckdb.connect(_path(tested))
    made: list[str] = []
    original = Scope.create_narrowed

    def create_and_note(scope: Scope, connection) -> None:
        original(scope, connection)
        made.extend(
            name
            for name, rows in connection.execute(
                "select table_name, estimated_size from duckdb_tables() where temporary"
            ).fetchall()
            if rows <= 3
        )

    try:
        built = build_models(con, settings=tested)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Scope, "create_narrowed", create_and_note)
            run = run_model_tests(con, settings=tested, changes=built.changes)
        left = con.execute("select count(*) from duckdb_tables() where temporary").fetchone()
    finally:
        con.close()

    assert run.failures == [] and run.bookings == 3
    assert {"_scoped_fct_events", "_scoped_stg_events"} <= set(made)
    assert left == (0,)


def test_scoped_tests_find_the_failures_reading_every_row_finds_among_changed_bookings(tested):
    broken = _bookings(tested, 2)
    _write(tested, _END_BEFORE_START, broken)

    scoped = _build_and_test(tested)
    whole = test_models(_path(tested), settings=tested)

    assert scoped.bookings == 2
    assert _found(scoped.failures) == _found(whole)
    assert ("stg_events", "ends_not_before_it_starts", 2) in _found(whole)


def test_a_failing_scoped_test_reports_every_offending_row_of_the_table(tested):
    _corrupt_unstamped(tested, _END_BEFORE_START, _bookings(tested, 1, 5))
    _write(tested, _END_BEFORE_START, _bookings(tested, 1))

    run = _build_and_test(tested)

    assert run.scoped
    assert ("stg_events", "ends_not_before_it_starts", 2) in _found(run.failures)


def test_after_failing_tests_the_next_run_reads_every_row(tested):
    _write(tested, _END_BEFORE_START, _bookings(tested, 1))
    assert _build_and_test(tested).failures
    _corrupt_unstamped(tested, _END_BEFORE_START, _bookings(tested, 1, 5))

    run = _build_and_test(tested)

    assert run.full_reason == "no passing tests since the last build"
    assert ("stg_events", "ends_not_before_it_starts", 2) in _found(run.failures)


def test_a_build_without_passing_tests_after_it_leaves_the_next_run_reading_every_row(tested):
    build_models(_path(tested), settings=tested)  # killed before its tests, say

    run = _build_and_test(tested)

    assert run.scoped == []
    assert run.full_reason == "no passing tests since the last build"


def test_a_build_that_rolls_back_keeps_the_state_of_the_passing_tests(tested, tmp_path):
    sql = tmp_path / "broken-sql"
    shutil.copytree(default_sql_dir(), sql)
    broken = sql / "marts" / "kpi_summary.sql"
    broken.write_text("select no_such_column from analytics.fct_events")
    with pytest.raises(ModelBuildError, match="kpi_summary"):
        build_models(_path(tested), settings=tested, sql_dir=sql)

    run = _build_and_test(tested)

    assert run.full_reason is None
    assert run.bookings == 0


def test_a_changed_model_makes_the_tests_read_every_row(tested, tmp_path):
    sql = tmp_path / "sql"
    shutil.copytree(default_sql_dir(), sql)
    view = sql / "staging" / "stg_events.sql"
    view.write_text(view.read_text() + "\n-- edited\n")
    built = build_models(_path(tested), settings=tested, sql_dir=sql)

    run = run_model_tests(_path(tested), settings=tested, sql_dir=sql, changes=built.changes)

    assert run.scoped == []
    assert "changed" in (run.full_reason or "")


def test_a_clock_behind_the_last_tested_stamp_makes_the_tests_read_every_row(tested):
    con = duckdb.connect(_path(tested))
    con.execute(f"update analytics.{STATE_TABLE} set through = now() + interval 1 day")
    con.close()

    run = _build_and_test(tested)

    assert run.scoped == []
    assert run.full_reason == "the clock is behind the stamps of the last tested rows"


def test_the_caller_can_make_the_tests_read_every_row(tested):
    run = _build_and_test(tested, full_reason="the run reconciled every booking")

    assert run.scoped == []
    assert run.full_reason == "the run reconciled every booking"


def test_many_changed_bookings_make_the_tests_read_every_row(tested):
    _write(tested, "notes = 'bulk'", _bookings(tested, 100))

    run = _build_and_test(tested)

    assert run.scoped == []
    assert run.full_reason == "100 bookings changed"


def test_a_booking_table_rebuilt_whole_makes_the_tests_reading_it_read_every_row(tested):
    con = duckdb.connect(_path(tested))
    con.execute("update raw.users set full_name = 'Renamed Host'")  # rebuilds fct_events
    con.close()

    run = _build_and_test(tested)

    assert run.failures == []
    scoped_models = {model for model, _test in run.scoped}
    assert "fct_events" not in scoped_models
    assert "stg_events" in scoped_models


def test_a_test_naming_a_run_wide_column_reads_every_row(tested, tmp_path):
    sql = tmp_path / "sql"
    shutil.copytree(default_sql_dir(), sql)
    with (sql / "marts" / "fct_events.toml").open("a", encoding="utf-8") as declared:
        declared.write('\n[[tests]]\nname = "as_of_known"\nexpression = "as_of is not null"\n')
    built = build_models(_path(tested), settings=tested, sql_dir=sql)
    first = run_model_tests(_path(tested), settings=tested, sql_dir=sql, changes=built.changes)
    assert first.failures == []
    _write(tested, "notes = 'moved'", _bookings(tested, 2))
    built = build_models(_path(tested), settings=tested, sql_dir=sql)

    run = run_model_tests(_path(tested), settings=tested, sql_dir=sql, changes=built.changes)

    assert ("fct_events", "as_of_known") not in run.scoped
    assert ("fct_events", "host_timezone.not_null") in run.scoped


def test_a_sync_after_passing_tests_logs_how_many_tests_read_only_changed_bookings(
    tested, tested_emulator, caplog
):
    ids = _bookings(tested, 2)
    with client_for(tested_emulator) as client:
        for event_id in ids:
            client.event_notes(event_id, notes="scoped")
    caplog.set_level(logging.INFO, logger="simplymeet.sync")

    summary = run_sync(tested, tested_emulator, build_models=True)

    # The bookings the run wrote: the two changed, and any the cursor's edge read again
    # (a row within the lag of the template's sync, minutes before in a full test run).
    con = duckdb.connect(_path(tested), read_only=True)
    try:
        written = {
            row[0]
            for row in con.execute(
                "select id from raw.events "
                "where _synced_at = (select max(_synced_at) from raw.events)"
            ).fetchall()
        }
    finally:
        con.close()
    assert summary.model_test_failures == []
    assert set(ids) <= written
    assert any(
        f"read only the {len(written)} bookings changed" in record.getMessage()
        for record in caplog.records
    )


def test_a_run_that_reconciled_or_refreshed_in_full_tests_every_row():
    reconciled = SyncSummary(account="default")
    reconciled.reconciled = True

    assert full_tests_reason([reconciled], SyncRequest()) == "the run reconciled every booking"
    assert full_tests_reason([SyncSummary(account="default")], SyncRequest()) is None
    assert full_tests_reason([], SyncRequest(full_refresh=True)) == "a full refresh"


def _project_with(tmp_path: Path, model: str, sql: str, toml: str) -> Path:
    folder = tmp_path / "sql"
    shutil.copytree(default_sql_dir(), folder)
    (folder / "staging" / f"{model}.sql").write_text(sql)
    (folder / "staging" / f"{model}.toml").write_text(toml)
    return folder


def test_a_booking_view_reading_a_table_of_another_kind_is_refused(tmp_path):
    folder = _project_with(
        tmp_path,
        "stg_event_hosts_named",
        "select e.account, e.id as event_id, u.full_name from raw.events as e "
        "join raw.users as u on u.id = e.user_id",
        'booking = ["account", "event_id"]\n',
    )

    with pytest.raises(ModelProjectError, match=r"raw\.users"):
        load_project(folder)


def test_a_booking_table_that_is_not_incremental_by_booking_is_refused(tmp_path):
    folder = _project_with(
        tmp_path,
        "stg_event_copy",
        "-- materialized: table\nselect account, id as event_id from raw.events",
        'booking = ["account", "event_id"]\n',
    )

    with pytest.raises(ModelProjectError, match="incremental"):
        load_project(folder)


def test_a_booking_declaration_names_the_account_first(tmp_path):
    folder = _project_with(
        tmp_path,
        "stg_event_copy",
        "select account, id as event_id from raw.events",
        'booking = ["event_id"]\n',
    )

    with pytest.raises(ModelProjectError, match="account"):
        load_project(folder)
