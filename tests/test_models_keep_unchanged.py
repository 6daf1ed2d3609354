"""A build asked to keep unchanged models (a sync's) keeps them when nothing they are made of
changed since the last build, and the data tests that passed on them are not run again.

Each test starts, as in `test_models_test_scope`, from a warehouse synced once, built (which
records what it was made of), and tested on every row.
"""

from __future__ import annotations

import duckdb

from simplymeet.config import Settings
from simplymeet.models import build_models
from simplymeet.models.datatests import run_model_tests
from simplymeet.models.project import load_project
from tests.sync_support import query, run_sync
from tests.test_models_incremental import _differences_of
from tests.test_models_test_scope import (
    _END_BEFORE_START,
    _bookings,
    _path,
    _write,
)


def _keep(settings: Settings, **options):
    return build_models(_path(settings), settings=settings, keep_unchanged=True, **options)


def _execute(settings: Settings, sql: str) -> None:
    con = duckdb.connect(_path(settings))
    try:
        con.execute(sql)
    finally:
        con.close()


def test_a_build_that_may_keep_unchanged_models_keeps_them_when_nothing_changed(tested):
    built = _keep(tested)

    assert built.unchanged
    assert built.models == []


def test_the_data_tests_after_a_build_that_kept_every_model_do_not_run_again(tested):
    built = _keep(tested)

    run = run_model_tests(_path(tested), settings=tested, changes=built.changes)

    assert run.unchanged
    assert run.failures == []


def test_a_booking_a_sync_wrote_since_makes_the_build_build(tested):
    _write(tested, "notes = 'moved'", _bookings(tested, 1))

    built = _keep(tested)

    assert not built.unchanged
    assert built["fct_events"].incremental


def test_a_list_stamped_again_as_unchanged_keeps_the_models(tested):
    # What a sync does to a list it read unchanged (cleanup.confirm_unchanged).
    _execute(tested, "update raw.users set _synced_at = now() + interval 1 second")

    assert _keep(tested).unchanged


def test_a_list_whose_content_changed_makes_the_build_build(tested):
    _execute(tested, "update raw.users set timezone = 'Asia/Tokyo'")

    assert not _keep(tested).unchanged


def test_changed_working_hours_make_the_build_build(tested):
    later = tested.with_overrides("models", working_day_start="10:00")

    assert not _keep(later).unchanged


def test_a_model_missing_from_the_warehouse_makes_the_build_build_it(tested):
    _execute(tested, "drop table analytics.kpi_summary")

    built = _keep(tested)

    assert not built.unchanged
    assert built["kpi_summary"].rows is not None


def test_a_model_replaced_by_hand_since_the_build_makes_the_build_build_it_again(tested):
    _execute(
        tested,
        "create or replace table analytics.kpi_summary as "
        "select * from analytics.kpi_summary limit 0",
    )

    built = _keep(tested)

    assert not built.unchanged
    assert built["kpi_summary"].rows


def test_a_build_not_asked_to_keep_unchanged_models_builds_every_model(tested):
    built = build_models(_path(tested), settings=tested)

    assert not built.unchanged
    assert len(built.models) == len(load_project().models)


def test_after_failing_tests_the_tests_run_again_though_every_model_was_kept(tested):
    _write(tested, _END_BEFORE_START, _bookings(tested, 1))
    built = build_models(_path(tested), settings=tested)
    assert run_model_tests(_path(tested), settings=tested, changes=built.changes).failures

    kept = _keep(tested)
    run = run_model_tests(_path(tested), settings=tested, changes=kept.changes)

    assert kept.unchanged
    assert not run.unchanged
    assert run.failures


def test_a_warehouse_without_events_is_always_built():
    # Without events `as_of` is the clock: the models may change with nothing written.
    con = duckdb.connect()
    build_models(con, settings=Settings())

    assert not build_models(con, settings=Settings(), keep_unchanged=True).unchanged


def test_a_sync_that_wrote_nothing_leaves_the_models_equal_to_a_rebuild(tested, tested_emulator):
    # It wrote no event, yet found them current later: as_of moves with it.
    summary = run_sync(tested, tested_emulator, build_models=True)

    assert summary.model_test_failures == []
    tables = [m.name for m in load_project().models if m.materialization == "table"]
    assert _differences_of(_path(tested), tables) == dict.fromkeys(tables, (0, 0))


def test_a_sync_that_wrote_nothing_moves_as_of_to_when_it_found_the_events_current(
    tested, tested_emulator
):
    summary = run_sync(tested, tested_emulator, build_models=True)

    [(as_of,)] = query(tested, "select as_of from analytics.int_as_of")
    [(current,)] = query(tested, "select max(events_current_at) from raw._sync_runs")
    assert summary.events_current_at is not None
    assert as_of == current


def test_a_booking_re_read_after_the_last_complete_sync_does_not_move_as_of(tested):
    # A write-back's refresh re-reads the bookings it touched, not the others: one of those
    # may have ended and been marked a no-show since, unknown to the warehouse.
    _write(tested, "notes = 're-read'", _bookings(tested, 1))

    _keep(tested)

    [(as_of,)] = query(tested, "select as_of from analytics.int_as_of")
    [(current,)] = query(tested, "select max(events_current_at) from raw._sync_runs")
    [(newest,)] = query(tested, "select max(_synced_at) from raw.events")
    assert newest > current
    assert as_of == current


def test_a_booking_written_by_a_run_whose_clock_is_behind_makes_the_build_build(tested):
    [booking] = _bookings(tested, 1)
    con = duckdb.connect(_path(tested))
    try:
        [(oldest,)] = con.execute(
            "select min(_synced_at) - interval 1 hour from raw.events"
        ).fetchall()
        con.execute(
            "update raw.events set notes = 'behind', _synced_at = ? where id = ?",
            [oldest, booking],
        )
    finally:
        con.close()

    assert not _keep(tested).unchanged
