"""Booking history over the emulator: every version kept, every transition, state as of a date.

Expected versions come from what the emulator served after each change (its `updatedAt`,
`scheduledAt`), never from what our sync read.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import signal
import subprocess
import time
from typing import Any

import duckdb
import pytest

from simplymeet.contract.dates import parse_api_datetime
from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.emulator.drift import stamp_future, stamp_together
from simplymeet.models import build_models, test_models
from simplymeet.models.as_of import create_as_of_macro, no_show_rate_as_of, no_show_rates_as_of
from simplymeet.models.sample import SampleWarehouse
from tests.models_support import build_only
from tests.sync_support import EVENTS_ONLY, client_for, query, run_sync, settings_for
from tests.synced_template import synced_copy
from tests.test_sync_resilience import cli_env, simplymeet


@pytest.fixture
def small_emulator():
    """An emulator with 300 seeded events: enough past and upcoming bookings, a quick sync."""
    with start_emulator(seed=2, events=300) as emu:
        yield emu


def _warehouse(settings) -> str:
    return settings.get("warehouse", "duckdb_path")


def _served(emulator: RunningEmulator, event_id: int) -> dict[str, Any]:
    with emulator.store.lock:
        return emulator.store.event_dto(event_id)  # type: ignore[return-value]


def _ids(emulator: RunningEmulator, *, past: bool, count: int) -> list[int]:
    now = dt.datetime.now(dt.UTC)
    found = []
    for event_id in emulator.store.all_event_ids():
        dto = _served(emulator, event_id)
        start = parse_api_datetime(dto["scheduledAt"])
        # Upcoming ones start at least two days ahead, so every lead time is positive.
        eligible = start is not None and (
            start < now if past else start > now + dt.timedelta(days=2)
        )
        # Never moved before: the moves a test makes are then all the API lists (which
        # booking is upcoming changes with today's date; some seeded ones were moved already).
        if dto["state"] == "active" and eligible and not dto.get("rescheduling"):
            found.append(event_id)
        if len(found) == count:
            break
    return found


def _next_second(emulator: RunningEmulator, event_id: int) -> None:
    """Wait until the emulator's clock has left the second of the event's last `updatedAt`.

    The API gives `updatedAt` in whole seconds; two changes within one second are one version.
    """
    last = parse_api_datetime(_served(emulator, event_id)["updatedAt"])
    assert last is not None
    for _ in range(30):
        if time.time() >= last.timestamp() + 1:
            return
        time.sleep(0.1)


def _reschedule(
    client: Any, emulator: RunningEmulator, event_id: int, start: str, end: str
) -> None:
    """Move a booking, keeping its event type (the reference requires start, end and type)."""
    event_type_id = _served(emulator, event_id)["eventType"]["id"]
    client.event_reschedule(event_id, start, end, event_type_id)


def _minutes(later: str, earlier: str) -> float:
    a, b = parse_api_datetime(later), parse_api_datetime(earlier)
    assert a is not None and b is not None
    return (a - b).total_seconds() / 60


def _rows(con: duckdb.DuckDBPyConnection, sql: str, *params: Any) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
def three_syncs(tmp_path_factory):
    """Three syncs: canceled, rescheduled twice and marked no-show between them, models built.

    Returns the settings, the ids and every served version of the changed bookings. Built once
    per module (the tests using it are one xdist group) and read only: a test that changes the
    warehouse takes `three_syncs_copy`.
    """
    with start_emulator(seed=2, events=300) as emulator:
        # The first sync is the shared template's (the emulator is untouched until now).
        settings = synced_copy(tmp_path_factory, tmp_path_factory.mktemp("three_syncs"), emulator)
        return _three_syncs(settings, emulator)


@pytest.fixture
def three_syncs_copy(three_syncs, tmp_path):
    """`three_syncs` with the warehouse copied to `tmp_path`, for a test that changes it."""
    settings, ids, served = three_syncs
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(_warehouse(settings), copy)
    return settings.with_overrides("warehouse", duckdb_path=str(copy)), ids, served


def _three_syncs(settings, emulator: RunningEmulator):
    """`settings` holds the first sync; the changes and the two later syncs (events only: only
    bookings change, and every other table stays as the first sync landed it)."""
    canceled, moved = _ids(emulator, past=False, count=2)
    (missed,) = _ids(emulator, past=True, count=1)
    served = {i: [_served(emulator, i)] for i in (canceled, moved, missed)}
    with client_for(emulator) as client:
        client.event_cancel(canceled, reason="ill")
        _reschedule(client, emulator, moved, "2030-01-07 10:00:00", "2030-01-07 10:30:00")
    for i in (canceled, moved):
        served[i].append(_served(emulator, i))
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    _next_second(emulator, moved)
    with client_for(emulator) as client:
        _reschedule(client, emulator, moved, "2030-02-04 15:30:00", "2030-02-04 16:00:00")
        client.event_no_show(missed)
    for i in (moved, missed):
        served[i].append(_served(emulator, i))
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    build_models(_warehouse(settings), settings=settings)
    return settings, {"canceled": canceled, "moved": moved, "missed": missed}, served


def test_history_keeps_each_version_seen_across_three_syncs(three_syncs):
    settings, ids, served = three_syncs
    for event_id in ids.values():
        got = query(
            settings,
            "select valid_from, scheduled_at, is_current from analytics.event_history "
            f"where event_id = {event_id} order by version_number",
        )
        expected = served[event_id]
        assert [row[0] for row in got] == [parse_api_datetime(d["updatedAt"]) for d in expected]
        assert [row[1] for row in got] == [parse_api_datetime(d["scheduledAt"]) for d in expected]
        assert [row[2] for row in got] == [False] * (len(expected) - 1) + [True]


def test_each_transition_has_its_lead_time_to_the_start_then(three_syncs):
    settings, ids, served = three_syncs
    con = duckdb.connect(_warehouse(settings), read_only=True)
    transitions = _rows(
        con,
        "select event_id, transition_type, from_state, to_state, lead_time_minutes "
        "from analytics.event_state_transitions where event_id in (?, ?, ?) "
        "order by event_id, changed_at",
        ids["canceled"],
        ids["moved"],
        ids["missed"],
    )
    con.close()
    got = [
        (r["event_id"], r["transition_type"], r["from_state"], r["to_state"]) for r in transitions
    ]
    expected = [
        (ids["canceled"], "state", "booked", "canceled"),
        (ids["moved"], "schedule", "booked", "booked"),
        (ids["moved"], "schedule", "booked", "booked"),
        (ids["missed"], "state", "booked", "no_show"),
    ]
    assert got == sorted(expected, key=lambda row: row[0])
    expected_leads = []
    for event_id in sorted(ids.values()):
        versions = served[event_id]
        for before, after in itertools.pairwise(versions):
            expected_leads.append(_minutes(before["scheduledAt"], after["updatedAt"]))
    assert [r["lead_time_minutes"] for r in transitions] == pytest.approx(expected_leads)


def test_history_models_pass_their_data_tests(three_syncs):
    settings, _, _ = three_syncs
    history_models = [
        "stg_event_versions",
        "event_history",
        "event_state_transitions",
        "time_to_cancel",
        "reschedules_per_booking",
    ]
    assert test_models(_warehouse(settings), select=history_models) == []


def test_a_missing_transition_fails_the_consistency_test(three_syncs_copy):
    settings, ids, _ = three_syncs_copy
    con = duckdb.connect(_warehouse(settings))
    con.execute(f"delete from analytics.event_state_transitions where event_id = {ids['moved']}")
    failures = test_models(con, select=["event_state_transitions"])
    con.close()
    assert [f.test for f in failures] == ["transitions_are_consistent_with_the_history"]


def test_a_cancellation_edited_before_the_next_sync_is_timed_from_its_canceled_at(
    tmp_path_factory, tmp_path
):
    with start_emulator(seed=2, events=300) as emulator:
        settings = synced_copy(tmp_path_factory, tmp_path, emulator)
        [booking] = _ids(emulator, past=False, count=1)
        before = _served(emulator, booking)
        with client_for(emulator) as client:
            client.event_cancel(booking, reason="ill")
            canceled = _served(emulator, booking)
            _next_second(emulator, booking)
            client.event_notes(booking, "edited after the cancellation")
        edited = _served(emulator, booking)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
    build_models(_warehouse(settings), settings=settings)

    [(lead,)] = query(
        settings,
        "select lead_time_minutes from analytics.event_state_transitions "
        f"where event_id = {booking} and to_state = 'canceled'",
    )
    assert edited["updatedAt"] != canceled["canceledAt"]
    assert lead == pytest.approx(_minutes(before["scheduledAt"], canceled["canceledAt"]), abs=1e-6)


def test_reschedules_per_booking_counts_both_moves(three_syncs):
    settings, ids, _ = three_syncs
    [(seen, listed, total)] = query(
        settings,
        "select seen_reschedules, listed_reschedules, reschedules "
        f"from analytics.reschedules_per_booking where event_id = {ids['moved']}",
    )
    assert (seen, listed, total) == (2, 2, 2)


def test_a_cancellation_seen_between_syncs_is_timed_from_the_history(three_syncs):
    settings, ids, served = three_syncs
    lead = _minutes(
        served[ids["canceled"]][0]["scheduledAt"], served[ids["canceled"]][1]["updatedAt"]
    )
    bucket = "7d_plus" if lead >= 10080 else "3d_to_7d" if lead >= 4320 else "1d_to_3d"
    [(seen,)] = query(
        settings,
        f"select seen_in_history from analytics.time_to_cancel where lead_time_bucket = '{bucket}'",
    )
    assert seen == 1
    [(total, first_seen)] = query(
        settings,
        "select sum(seen_in_history), sum(first_seen_canceled) from analytics.time_to_cancel",
    )
    assert total == 1
    assert first_seen > 0


def test_rereading_every_event_adds_no_version(tmp_path_factory, tmp_path, small_emulator):
    settings = synced_copy(tmp_path_factory, tmp_path, small_emulator)
    run_sync(settings, small_emulator, resources=EVENTS_ONLY, full_refresh=True)
    [(rows, versions, events)] = query(
        settings,
        "select count(*), count(distinct (id, updated_at)), "
        "(select count(*) from raw.events) from raw.event_versions",
    )
    assert rows == versions == events


def test_history_starts_from_the_current_state_when_versions_were_not_kept(
    tmp_path, small_emulator
):
    settings = settings_for(tmp_path, small_emulator, event_history=False)
    run_sync(settings, small_emulator, resources=EVENTS_ONLY)  # versions are the events' own
    assert query(
        settings,
        "select count(*) from information_schema.tables where table_name = 'event_versions'",
    ) == [(0,)]
    build_models(_warehouse(settings), settings=settings)
    [(versions, current, events)] = query(
        settings,
        "select count(*), count(*) filter (where is_current), "
        "(select count(*) from analytics.stg_events) from analytics.event_history",
    )
    assert versions == current == events == 300


RATE_FIELDS = (
    "past_bookings",
    "canceled_bookings",
    "unknown_state_bookings",
    "eligible_bookings",
    "no_shows",
)


def _rates_by_breakdown(settings) -> dict[str, dict[int | None, tuple]]:
    rows = query(
        settings,
        f"select breakdown, coalesce(host_user_id, event_type_id), {', '.join(RATE_FIELDS)} "
        "from analytics.no_show_rates where breakdown in ('overall', 'host', 'event_type')",
    )
    found: dict[str, dict[int | None, tuple]] = {}
    for breakdown, key, *counts in rows:
        found.setdefault(breakdown, {})[key] = tuple(counts)
    return found


def _as_of_by_breakdown(path: str, ts: dt.datetime) -> dict[str, dict[int | None, tuple]]:
    return {
        by: {
            key: tuple(getattr(rate, f) for f in RATE_FIELDS)
            for key, rate in no_show_rates_as_of(path, ts, by=by).items()
        }
        for by in ("overall", "host", "event_type")
    }


def test_no_show_rates_as_of_a_past_date_equal_the_mart_built_then(
    tmp_path_factory, tmp_path, small_emulator
):
    emulator = small_emulator
    settings = synced_copy(tmp_path_factory, tmp_path, emulator)
    path = _warehouse(settings)
    build_models(path, settings=settings)
    then = _rates_by_breakdown(settings)
    known_at = dt.datetime.now(dt.UTC)
    missed = _ids(emulator, past=True, count=5)
    with client_for(emulator) as client:
        client.event_no_show_list(missed)
        client.event_cancel(_ids(emulator, past=True, count=1)[0])
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    build_models(path, settings=settings)
    now = _rates_by_breakdown(settings)
    assert now != then

    assert _as_of_by_breakdown(path, known_at) == then
    assert _as_of_by_breakdown(path, dt.datetime.now(dt.UTC)) == now
    overall = no_show_rate_as_of(path, known_at)
    assert tuple(getattr(overall, f) for f in RATE_FIELDS) == then["overall"][None]


def test_the_state_as_of_now_judges_past_at_the_marts_as_of_after_a_re_read_of_one_booking(
    tmp_path_factory, tmp_path, small_emulator
):
    # A write-back re-reads the bookings it changed: the others were not read again, so the
    # moment they are judged past at stays the last sync's, in the marts as here.
    settings = synced_copy(tmp_path_factory, tmp_path, small_emulator)
    [booking] = _ids(small_emulator, past=False, count=1)
    with client_for(small_emulator) as client:
        client.event_notes(booking, notes="changed by a write-back")
    run_sync(settings, small_emulator, resources=EVENTS_ONLY, refresh_ids=[booking])
    path = _warehouse(settings)
    build_models(path, settings=settings)

    [(as_of,)] = query(settings, "select as_of from analytics.int_as_of")
    [(newest,)] = query(settings, "select max(known_from) from analytics.event_history")
    assert newest > as_of
    assert no_show_rate_as_of(path, dt.datetime.now(dt.UTC)).as_of == as_of


def test_no_show_rates_as_of_refuses_an_unknown_breakdown(tmp_path):
    with pytest.raises(ValueError, match="by must be one of"):
        no_show_rates_as_of(tmp_path / "none.duckdb", "2026-01-01", by="weekday")


def test_no_shows_without_end_or_duration_are_past_as_of_a_later_date_as_in_the_mart(tmp_path):
    # the API may serve neither endDate nor duration: the booking lasts its event type's
    # duration (type 10), else ends where it starts (type 11), as fct_events says
    raw = SampleWarehouse(synced_at="2025-06-30T18:00:00Z")
    raw.user(1)
    raw.event_type(10, owner=1, duration=60)
    raw.event_type(11, owner=1, duration=None)
    for event_id, event_type in ((100, 10), (101, 11)):
        raw.event(
            event_id,
            host=1,
            event_type=event_type,
            scheduled_at="2025-06-10T10:00:00Z",
            duration=None,
            state="no_show",
        )
    path = tmp_path / "warehouse.duckdb"
    build_only(raw, duckdb.connect(str(path)), models=["event_history", "no_show_rates"]).close()

    rate = no_show_rate_as_of(path, "2025-07-01T00:00:00Z")

    with duckdb.connect(str(path), read_only=True) as con:
        mart = con.execute(
            "select past_bookings, no_shows from analytics.no_show_rates "
            "where breakdown = 'overall'"
        ).fetchall()
    assert [(rate.past_bookings, rate.no_shows)] == mart == [(2, 2)]


def test_events_as_of_macro_reads_the_state_known_at_a_date(three_syncs):
    settings, ids, _ = three_syncs
    con = duckdb.connect(_warehouse(settings), read_only=True)
    create_as_of_macro(con)
    first_known = con.execute("select min(known_from) from analytics.event_history").fetchone()
    [(state,)] = con.execute(
        "select state from events_as_of(?) where event_id = ?", [first_known[0], ids["canceled"]]
    ).fetchall()
    con.close()
    assert state == "booked"


def test_a_change_within_the_same_updated_at_second_is_the_current_version(tmp_path):
    with start_emulator(seed=4, events=30) as emulator:
        settings = settings_for(tmp_path, emulator)
        event_id = _ids(emulator, past=False, count=1)[0]
        second = int(time.time()) - 20  # inside the next run's lag window
        stamp_together(emulator.store, [event_id], second)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        with client_for(emulator) as client:
            client.event_cancel(event_id, reason="same second")
        stamp_together(emulator.store, [event_id], second)  # the cancel keeps the stamp
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        build_models(_warehouse(settings), settings=settings)

        [(state, valid_from)] = query(
            settings,
            "select state, valid_from from analytics.event_history "
            f"where event_id = {event_id} and is_current",
        )
        assert state == "canceled"
        assert valid_from == dt.datetime.fromtimestamp(second, dt.UTC)
        assert test_models(_warehouse(settings), select=["event_history"]) == []


def test_a_booking_read_before_and_after_a_change_in_one_run_and_second_is_its_live_row(
    tmp_path,
):
    # Edited then canceled within one second while one run read it on two pages: the version
    # kept is the first read, stamped with the same run as the live row that read the cancel.
    with start_emulator(seed=4, events=30) as emulator:
        settings = settings_for(tmp_path, emulator)
        event_id = _ids(emulator, past=False, count=1)[0]
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        with client_for(emulator) as client:
            client.event_cancel(event_id, reason="same second")
        run_sync(settings, emulator, resources=EVENTS_ONLY)
    with duckdb.connect(_warehouse(settings)) as con:
        con.execute(
            "update raw.event_versions set state = 'active', canceled_at = null, "
            "cancellation_reason = null, cancellation_canceler = null "
            "where id = ? and updated_at = (select updated_at from raw.events where id = ?)",
            [event_id, event_id],
        )

    build_models(_warehouse(settings), settings=settings)

    assert query(
        settings,
        f"select state from analytics.event_history where event_id = {event_id} and is_current",
    ) == [("canceled",)]
    assert test_models(_warehouse(settings), select=["event_history"]) == []


def test_a_killed_sync_leaves_no_version_twice(tmp_path):
    with start_emulator(seed=4, events=4000, latency_ms=150) as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", concurrency=2)
        # A real process, really killed (no cleanup of any kind runs in it).
        proc = subprocess.Popen(
            simplymeet("sync", "--no-models", "--resources", "events"),
            env=cli_env(settings, emulator.api_key),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(3.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        (moved,) = _ids(emulator, past=False, count=1)
        with client_for(emulator) as client:
            _reschedule(client, emulator, moved, "2030-01-07 10:00:00", "2030-01-07 10:30:00")
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        [(rows, versions, events)] = query(
            settings,
            "select count(*), count(distinct (id, updated_at)), "
            "(select count(*) from raw.events) from raw.event_versions",
        )
    assert rows == versions == events + 1 == 4001


def _two_account_history(path) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema analytics")
    con.execute(
        "create table analytics.event_history as select * from (values "
        "('north', 1, 7, 70, 'no_show'), ('south', 1, 7, 70, 'booked')) "
        "as v(account, event_id, host_user_id, event_type_id, state)"
    )
    con.execute(
        "alter table analytics.event_history add column valid_from timestamptz "
        "default timestamptz '2026-01-01 10:00:00+00'"
    )
    for column in ("known_from", "scheduled_end_at"):
        con.execute(
            f"alter table analytics.event_history add column {column} timestamptz "
            "default timestamptz '2026-01-01 10:00:00+00'"
        )
    con.execute("alter table analytics.event_history add column deleted_at timestamptz")
    con.close()


def test_a_host_breakdown_as_of_needs_an_account_when_the_warehouse_holds_several(tmp_path):
    path = tmp_path / "two.duckdb"
    _two_account_history(path)

    with pytest.raises(ValueError, match="holds 2 accounts: name one"):
        no_show_rates_as_of(path, "2026-02-01T00:00:00Z", by="host")


def test_a_host_breakdown_as_of_one_account_counts_only_its_bookings(tmp_path):
    path = tmp_path / "two.duckdb"
    _two_account_history(path)

    [rate] = no_show_rates_as_of(path, "2026-02-01T00:00:00Z", by="host", account="north").values()

    assert (rate.eligible_bookings, rate.no_shows) == (1, 1)


def test_a_version_stamped_ahead_of_the_clock_is_not_current_once_the_booking_changed_again(
    tmp_path, small_emulator
):
    # A server clock running a day ahead stamped one change; the next change has the real
    # time, earlier than it: the version seen last is what the booking is now.
    settings = settings_for(tmp_path, small_emulator)
    run_sync(settings, small_emulator, resources=EVENTS_ONLY)
    [event_id] = _ids(small_emulator, past=False, count=1)
    stamp_future(small_emulator.store, event_id, 86_400)
    run_sync(settings, small_emulator, resources=EVENTS_ONLY)
    with client_for(small_emulator) as client:
        client.event_notes(event_id, notes="changed after the skewed stamp")
    run_sync(settings, small_emulator, resources=EVENTS_ONLY)

    build_models(_warehouse(settings), settings=settings)

    assert test_models(_warehouse(settings), select=["event_history"]) == []
    [(current,)] = query(
        settings,
        f"select valid_from from analytics.event_history where event_id = {event_id} "
        "and is_current",
    )
    assert current == parse_api_datetime(_served(small_emulator, event_id)["updatedAt"])


# --- bookings served without updatedAt ------------------------------------------------------
# docs/api-notes.md: a server may leave `updatedAt` null until a booking is first updated. The
# emulator serves the ids given to `null_updated` so (docs/emulator.md).


def _unstamped(emulator: RunningEmulator, ids: list[int]) -> None:
    emulator.set_anomalies("null_updated=" + "|".join(map(str, ids)))


def _history_of(settings, event_id: int) -> list[tuple[str, dt.datetime, bool]]:
    return query(
        settings,
        "select state, valid_from, is_current from analytics.event_history "
        f"where event_id = {event_id} order by version_number",
    )


@pytest.fixture
def tiny_emulator():
    with start_emulator(seed=4, events=40) as emu:
        yield emu


def test_a_booking_served_without_updated_at_is_in_the_history_from_its_creation(
    tmp_path, tiny_emulator
):
    settings = settings_for(tmp_path, tiny_emulator)
    [event_id] = _ids(tiny_emulator, past=False, count=1)
    _unstamped(tiny_emulator, [event_id])
    run_sync(settings, tiny_emulator, resources=EVENTS_ONLY)
    build_models(_warehouse(settings), settings=settings)

    created = parse_api_datetime(_served(tiny_emulator, event_id)["createdAt"])
    assert _history_of(settings, event_id) == [("booked", created, True)]


def test_every_live_booking_served_without_updated_at_is_current_in_the_history(
    tmp_path, tiny_emulator
):
    settings = settings_for(tmp_path, tiny_emulator)
    _unstamped(tiny_emulator, list(tiny_emulator.store.all_event_ids()))
    run_sync(settings, tiny_emulator, resources=EVENTS_ONLY)
    build_models(_warehouse(settings), settings=settings)

    [(live, current)] = query(
        settings,
        "select (select count(*) from analytics.stg_events), "
        "(select count(*) from analytics.event_history where is_current)",
    )
    assert current == live == 40


def test_canceled_bookings_served_without_updated_at_are_counted_by_time_to_cancel(
    tmp_path, tiny_emulator
):
    settings = settings_for(tmp_path, tiny_emulator)
    canceled = _ids(tiny_emulator, past=False, count=3)
    with client_for(tiny_emulator) as client:
        for event_id in canceled:
            client.event_cancel(event_id, reason="unstamped")
    _unstamped(tiny_emulator, canceled)
    run_sync(settings, tiny_emulator, resources=EVENTS_ONLY)
    build_models(_warehouse(settings), settings=settings)

    assert test_models(_warehouse(settings), select=["time_to_cancel"]) == []


def test_no_show_rates_as_of_now_equal_the_mart_when_bookings_are_served_unstamped(
    tmp_path, tiny_emulator
):
    settings = settings_for(tmp_path, tiny_emulator)
    _unstamped(tiny_emulator, list(tiny_emulator.store.all_event_ids()))
    run_sync(settings, tiny_emulator, resources=EVENTS_ONLY)
    build_models(_warehouse(settings), settings=settings)

    now = _as_of_by_breakdown(_warehouse(settings), dt.datetime.now(dt.UTC))
    assert now == _rates_by_breakdown(settings)
    assert now["overall"][None][0] > 0  # past bookings were counted


def test_the_first_update_of_an_unstamped_booking_is_a_version_after_its_creation(
    tmp_path, tiny_emulator
):
    settings = settings_for(tmp_path, tiny_emulator)
    [event_id] = _ids(tiny_emulator, past=False, count=1)
    created = parse_api_datetime(_served(tiny_emulator, event_id)["createdAt"])
    _unstamped(tiny_emulator, [event_id])
    run_sync(settings, tiny_emulator, resources=EVENTS_ONLY)
    tiny_emulator.set_anomalies(None)  # updated: the server stamps it from now on
    with client_for(tiny_emulator) as client:
        client.event_cancel(event_id, reason="first update")
    canceled = parse_api_datetime(_served(tiny_emulator, event_id)["updatedAt"])
    run_sync(settings, tiny_emulator, resources=EVENTS_ONLY)
    build_models(_warehouse(settings), settings=settings)

    assert _history_of(settings, event_id) == [
        ("booked", created, False),
        ("canceled", canceled, True),
    ]
    assert query(
        settings,
        "select from_state, to_state from analytics.event_state_transitions "
        f"where event_id = {event_id}",
    ) == [("booked", "canceled")]
    assert test_models(_warehouse(settings), select=["event_history", "time_to_cancel"]) == []


def test_a_change_served_unstamped_after_a_stamped_version_is_the_current_version(
    tmp_path, tiny_emulator
):
    # Unstamped, stamped, then unstamped again (a server that drops the stamp): the booking's
    # latest content is current, placed at the latest stamp seen, not before it.
    settings = settings_for(tmp_path, tiny_emulator)
    [event_id] = _ids(tiny_emulator, past=False, count=1)
    _unstamped(tiny_emulator, [event_id])
    run_sync(settings, tiny_emulator, resources=EVENTS_ONLY)
    tiny_emulator.set_anomalies(None)
    with client_for(tiny_emulator) as client:
        _reschedule(client, tiny_emulator, event_id, "2030-01-07 10:00:00", "2030-01-07 10:30:00")
    moved = parse_api_datetime(_served(tiny_emulator, event_id)["updatedAt"])
    run_sync(settings, tiny_emulator, resources=EVENTS_ONLY)
    _next_second(tiny_emulator, event_id)
    with client_for(tiny_emulator) as client:
        client.event_cancel(event_id, reason="unstamped again")
    _unstamped(tiny_emulator, [event_id])
    run_sync(settings, tiny_emulator, resources=EVENTS_ONLY, full_refresh=True)
    build_models(_warehouse(settings), settings=settings)

    assert _history_of(settings, event_id)[-1] == ("canceled", moved, True)
    assert test_models(_warehouse(settings), select=["stg_event_versions", "event_history"]) == []
