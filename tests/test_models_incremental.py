"""Incremental models: refreshed for what changed, and equal to a full rebuild.

The reference is each model's own SQL evaluated from scratch on the same warehouse after the
incremental build; every row must match both ways (`except all`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest

from simplymeet.config import Settings
from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.models import build_models
from simplymeet.models.errors import ModelProjectError
from simplymeet.models.incremental import Incremental, content_fingerprint
from simplymeet.models.incremental import build as incremental_build
from simplymeet.models.project import load_project
from tests.models_support import project_of
from tests.sync_support import (
    EVENTS_ONLY,
    client_for,
    live_event_dtos,
    run_sync,
    settings_for,
    sync_killed_before_loading,
)
from tests.synced_template import built_once, copy_template, template_for

INCREMENTAL = (
    "int_event_hosts",
    "int_host_bookings",
    "event_history",
    "event_state_transitions",
    "fct_events",
    "reschedules_per_booking",
)
UTILIZATION = (
    "int_utilization_intervals",
    "int_utilization_minutes",
    "int_utilization_day_minutes",
    "utilization_daily",
)
"""Refreshed per host and local day by digest of their inputs."""


@pytest.fixture
def small_emulator():
    with start_emulator(seed=5, events=300) as emu:
        yield emu


@pytest.fixture
def built(tmp_path_factory, tmp_path, small_emulator: RunningEmulator):
    """Settings of a warehouse synced once from `small_emulator`, models built in full.

    A copy of a template built once per run from an identical emulator: the sync and the full
    build are what every test here starts from, not what they test.
    """
    synced = template_for(tmp_path_factory, small_emulator, reconcile_every_hours=1000.0)

    def build_in_full(root: Path) -> None:
        copy_template(synced, root)
        settings = settings_for(root, small_emulator, reconcile_every_hours=1000.0)
        first = build_models(settings.get("warehouse", "duckdb_path"), settings=settings)
        assert not first["fct_events"].incremental

    copy_template(built_once(tmp_path_factory, f"built-{synced.name}", build_in_full), tmp_path)
    return settings_for(tmp_path, small_emulator, reconcile_every_hours=1000.0)


def _ids(emulator: RunningEmulator, state: str, count: int, skip: int = 0) -> list[int]:
    found = [dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == state]
    return found[skip : skip + count]


def _change_upstream(emulator: RunningEmulator) -> None:
    """Creates, updates, reschedules, cancels and deletes, as a day of use would bring."""
    active = _ids(emulator, "active", 9)
    with client_for(emulator) as client:
        for event_id in active[:3]:
            client.event_notes(event_id, notes="moved to room 2")
        # to another day: its host's booked day moves in int_host_bookings
        moved_type = emulator.store.event_dto(active[8])["eventType"]["id"]
        client.event_reschedule(
            active[8], "2030-03-05 10:00:00", "2030-03-05 10:30:00", event_type_id=moved_type
        )
        for event_id in active[3:6]:
            client.event_cancel(event_id, reason="host ill")
        for event_id in active[6:8]:
            client.event_delete(event_id)
        event_type = emulator.store.event_dto(active[0])["eventType"]["id"]
        for day in (4, 5):
            client.event_create(
                {
                    "eventType": event_type,
                    "scheduledAt": f"2030-02-0{day} 09:00:00",
                    "invitee": {"fullName": "Ada Lovelace", "email": "ada@example.com"},
                }
            )


def _differences(path: str, name: str) -> tuple[int, int]:
    """Rows only in the model's fresh result, and rows only in the built table."""
    return _differences_of(path, [name])[name]


def _differences_of(path: str, names: Iterable[str]) -> dict[str, tuple[int, int]]:
    """`_differences` of each model of `names`, through one connection; the model's SQL is
    evaluated once and compared both ways (it was evaluated once per direction)."""
    project = load_project()
    con = duckdb.connect(path, read_only=True)
    try:
        return {name: _differences_in(con, name, project[name].sql) for name in names}
    finally:
        con.close()


def _differences_in(con: duckdb.DuckDBPyConnection, name: str, sql: str) -> tuple[int, int]:
    found = con.execute(
        f"with fresh as materialized ({sql}),"
        f" built as materialized (select * from analytics.{name})"
        " select (select count(*) from (from fresh except all from built)),"
        " (select count(*) from (from built except all from fresh))"
    ).fetchone()
    return (int(found[0]), int(found[1])) if found else (-1, -1)


def test_incremental_build_after_creates_updates_cancels_and_deletes_equals_a_rebuild(
    built, small_emulator
):
    _change_upstream(small_emulator)
    run_sync(built, small_emulator, reconcile=True)
    path = built.get("warehouse", "duckdb_path")

    result = build_models(path, settings=built)

    assert {name: result[name].incremental for name in INCREMENTAL} == dict.fromkeys(
        INCREMENTAL, True
    )
    differences = _differences_of(path, INCREMENTAL + UTILIZATION)
    for name in INCREMENTAL + UTILIZATION:
        assert differences[name] == (0, 0), name


def test_incremental_build_with_nothing_changed_keeps_every_row(built, small_emulator):
    path = built.get("warehouse", "duckdb_path")

    result = build_models(path, settings=built)

    assert result["fct_events"].incremental
    for name in UTILIZATION:
        assert result[name].incremental, name
    differences = _differences_of(path, INCREMENTAL + UTILIZATION)
    for name in INCREMENTAL + UTILIZATION:
        assert differences[name] == (0, 0), name


@contextmanager
def _writes_in_one_second(clock: Any) -> Iterator[None]:
    """The emulator's writes in the block stamped within one whole second (the next), and
    every write after it in a later second."""
    second = clock.now_us() // 1_000_000 + 1
    ticks = itertools.count(second * 1_000_000)

    def now_us() -> int:
        with clock._lock:
            clock._last_us = next(ticks)
            return int(clock._last_us)

    clock.now_us = now_us
    try:
        yield
    finally:
        del clock.now_us
        with clock._lock:
            clock._last_us = max(clock._last_us, (second + 1) * 1_000_000)


def test_incremental_builds_of_bookings_served_without_updated_at_equal_a_rebuild(
    built, small_emulator
):
    # New bookings served unstamped (one canceled so), then one of them updated and stamped:
    # each step's history is keyed by createdAt, then by the first real stamp. The booking
    # and its cancel in one second, as the served stamps show it: a loaded machine once put
    # the cancel in the next, and the canceled booking then had two versions.
    event_type = small_emulator.store.event_dto(_ids(small_emulator, "active", 1)[0])["eventType"]
    with client_for(small_emulator) as client, _writes_in_one_second(small_emulator.store.clock):
        made = [
            client.event_create(
                {
                    "eventType": event_type["id"],
                    "scheduledAt": f"2030-02-0{day} 09:00:00",
                    "invitee": {"fullName": "Ada Lovelace", "email": "ada@example.com"},
                }
            )[0].id
            for day in (4, 5)
        ]
        client.event_cancel(made[1], reason="unstamped")
    small_emulator.set_anomalies("null_updated=" + "|".join(map(str, made)))
    path = built.get("warehouse", "duckdb_path")
    history = ("event_history", "event_state_transitions")

    run_sync(built, small_emulator, resources=EVENTS_ONLY)
    first = build_models(path, settings=built)
    after_first = _differences_of(path, history)
    small_emulator.set_anomalies(None)
    with client_for(small_emulator) as client:
        client.event_reschedule(
            made[0], "2030-03-05 10:00:00", "2030-03-05 10:30:00", event_type_id=event_type["id"]
        )
    run_sync(built, small_emulator, resources=EVENTS_ONLY)
    second = build_models(path, settings=built)

    assert all(result[name].incremental for result in (first, second) for name in history)
    assert after_first == dict.fromkeys(history, (0, 0))
    assert _differences_of(path, history) == dict.fromkeys(history, (0, 0))
    con = duckdb.connect(path, read_only=True)
    try:
        versions = con.execute(
            "select event_id, count(*) from analytics.event_history "
            f"where event_id in ({made[0]}, {made[1]}) group by all order by event_id"
        ).fetchall()
    finally:
        con.close()
    assert versions == [(made[0], 2), (made[1], 1)]


def test_a_change_to_a_rebuild_when_changed_input_rebuilds_the_model_in_full(built, small_emulator):
    host = small_emulator.store.ref.hosts[0]
    with small_emulator.store.lock:
        host.full_name = "Renamed Host"
        small_emulator.store.changed(rendered=True)
    run_sync(built, small_emulator)
    path = built.get("warehouse", "duckdb_path")

    result = build_models(path, settings=built)

    assert not result["fct_events"].incremental
    assert not result["int_host_bookings"].incremental
    differences = _differences_of(path, ["fct_events", "int_host_bookings"])
    assert differences["fct_events"] == (0, 0)
    assert differences["int_host_bookings"] == (0, 0)


def _project_with(tmp_path: Path, toml: str) -> Path:
    sql = tmp_path / "sql"
    sql.mkdir()
    (sql / "a.sql").write_text("-- grain: one row\n-- materialized: table\nselect 1 as id\n")
    (sql / "b.sql").write_text(
        "-- grain: one row per id\n-- materialized: table\n"
        "select a.id from analytics.a join raw.events on raw.events.id = a.id\n"
    )
    (sql / "b.toml").write_text(toml)
    return sql


def test_an_incremental_declaration_must_account_for_every_input(tmp_path):
    sql = _project_with(
        tmp_path,
        'key = ["id"]\n[incremental]\nchanged = "select 1 as id"\nwatermark = "select now()"\n'
        'narrow = { a = ["id"] }\n',
    )

    with pytest.raises(ModelProjectError, match=r"\['events'\]"):
        load_project(sql)


def test_an_unknown_incremental_setting_is_refused(tmp_path):
    sql = _project_with(
        tmp_path,
        'key = ["id"]\n[incremental]\nchanged = "select 1 as id"\nwatermark = "select now()"\n'
        'narrow = { a = ["id"] }\naccounted_for = ["events"]\nnarow = {}\n',
    )

    with pytest.raises(ModelProjectError, match="narow"):
        load_project(sql)


def test_incremental_build_reads_raw_from_the_configured_dataset():
    con = duckdb.connect()
    settings = Settings().with_overrides("warehouse", dataset="sm_raw")
    # Every incremental model and the models they read (24 of the project's ~50): the marts
    # that are rebuilt in full each time do not take part in an incremental build.
    incremental = sorted(m.name for m in load_project().models if m.incremental is not None)
    sql_dir = project_of(tuple(incremental))
    build_models(con, sql_dir=sql_dir, settings=settings)
    insert = (
        "insert into sm_raw.events (account, id, state, scheduled_at, updated_at, _synced_at) "
        "select 'default', range, 'active', timestamptz '2030-01-07 10:00:00+00', {at}, {at} "
        "from range({ids})"
    )
    con.execute(insert.format(at="now() - interval 1 hour", ids="1, 11"))
    build_models(con, sql_dir=sql_dir, settings=settings)
    con.execute(insert.format(at="now()", ids="11, 12"))

    result = build_models(con, sql_dir=sql_dir, settings=settings)

    assert result["fct_events"].incremental
    assert con.execute("select count(*) from analytics.fct_events").fetchall() == [(11,)]


def test_a_booking_whose_end_the_new_as_of_passes_becomes_past_in_every_model(built):
    path = built.get("warehouse", "duckdb_path")
    con = duckdb.connect(path)
    try:
        event_id, end = con.execute(
            "select event_id, scheduled_end_at from analytics.fct_events "
            "where not is_past order by scheduled_end_at limit 1"
        ).fetchone()
        # another booking written by a later sync that found the events current: as_of
        # moves past the first one's end
        con.execute(
            "update raw.events set _synced_at = ? + interval 1 minute "
            "where id = (select min(id) from raw.events where id <> ? and deleted_at is null)",
            [end, event_id],
        )
        con.execute(
            "update raw._sync_runs set events_current_at = ? + interval 1 minute "
            "where events_current_at = (select max(events_current_at) from raw._sync_runs)",
            [end],
        )
    finally:
        con.close()

    result = build_models(path, settings=built)

    assert result["reschedules_per_booking"].incremental
    con = duckdb.connect(path, read_only=True)
    try:
        past = con.execute(
            "select is_past from analytics.reschedules_per_booking where event_id = ?", [event_id]
        ).fetchone()
    finally:
        con.close()
    assert past == (True,)
    differences = _differences_of(path, ["fct_events", "reschedules_per_booking"])
    for name in ("fct_events", "reschedules_per_booking"):
        assert differences[name] == (0, 0), name


def test_a_booking_whose_end_a_quiet_run_passed_becomes_past_in_every_model(built):
    # A later run read the events whole and wrote none: they were current then.
    path = built.get("warehouse", "duckdb_path")
    with duckdb.connect(path) as con:
        event_id, end = con.execute(
            "select event_id, scheduled_end_at from analytics.fct_events "
            "where not is_past order by scheduled_end_at limit 1"
        ).fetchone()
        con.execute(
            "insert into raw._sync_runs (started_at, account, events_current_at) "
            "select ? + interval 1 minute, account, ? + interval 1 minute "
            "from raw._sync_runs limit 1",
            [end, end],
        )

    build_models(path, settings=built)

    with duckdb.connect(path, read_only=True) as con:
        past = con.execute(
            "select is_past from analytics.reschedules_per_booking where event_id = ?", [event_id]
        ).fetchone()
    assert past == (True,)
    differences = _differences_of(path, INCREMENTAL + UTILIZATION)
    for name in INCREMENTAL + UTILIZATION:
        assert differences[name] == (0, 0), name


def test_an_incremental_model_with_no_changed_key_is_not_computed_again():
    # The model raises when it is computed while `armed` holds; the second build finds no
    # changed key, so it must neither compute the model nor its narrowed inputs.
    con = duckdb.connect()
    con.execute("create schema raw; create schema analytics")
    con.execute("create table raw.events (id integer, _synced_at timestamptz)")
    con.execute("insert into raw.events values (1, now() - interval 1 hour), (2, now())")
    con.execute("create table raw.armed (armed boolean); insert into raw.armed values (false)")
    con.execute("create view analytics.stg as select id from raw.events")
    sql = (
        "select id from analytics.stg "
        "where (select case when armed then error('computed again') else true end "
        "from raw.armed)"
    )
    declared = Incremental(
        key=("id",),
        changed="select id from raw.events where _synced_at > $since",
        watermark="select max(_synced_at) from raw.events",
        narrow={"stg": ("id",)},
        accounted_for=("armed",),
    )
    incremental_build(con, "model", sql, declared)
    con.execute("update raw.armed set armed = true")

    outcome = incremental_build(con, "model", sql, declared)

    assert (outcome.incremental, outcome.changed_keys) == (True, 0)
    assert con.execute("select id from analytics.model order by id").fetchall() == [(1,), (2,)]


def _local_day(path: str, event_id: int) -> tuple[int, object]:
    con = duckdb.connect(path, read_only=True)
    try:
        found = con.execute(
            "select host_user_id, scheduled_date_local from analytics.fct_events "
            "where event_id = ?",
            [event_id],
        ).fetchone()
    finally:
        con.close()
    assert found is not None
    return found[0], found[1]


def test_a_booking_moved_to_another_day_recomputes_the_day_it_left_and_the_day_it_joined(
    built, small_emulator
):
    # Two bookings of one host and event type on different days, so both days are in the
    # pair's range (the seeded days follow the date the emulator starts on).
    active = [dto for dto in live_event_dtos(small_emulator) if dto["state"] == "active"]
    dto, target = next(
        (one, other)
        for one, other in itertools.permutations(active, 2)
        if other["eventType"]["id"] == one["eventType"]["id"]
        and other["user"]["id"] == one["user"]["id"]
        and other["scheduledAt"][:10] != one["scheduledAt"][:10]
    )
    moved = dto["id"]
    path = built.get("warehouse", "duckdb_path")
    host, left = _local_day(path, moved)
    start = dt.datetime.fromisoformat(target["scheduledAt"]) + dt.timedelta(hours=1)
    with client_for(small_emulator) as client:
        client.event_reschedule(
            moved, start, start + dt.timedelta(minutes=30), event_type_id=dto["eventType"]["id"]
        )
    run_sync(built, small_emulator, resources=EVENTS_ONLY)  # only the booking moved

    result = build_models(path, settings=built)

    _, joined = _local_day(path, moved)
    differences = _differences_of(path, UTILIZATION)
    for name in UTILIZATION:
        assert result[name].incremental, name
        changed = result[name].changed_keys
        assert changed is not None and host in changed["host_user_id"], name
        assert {left, joined} <= set(changed["date_local"]), name
        assert differences[name] == (0, 0), name


def _edit_raw(path: str, sql: str) -> None:
    con = duckdb.connect(path)
    try:
        con.execute(sql)
    finally:
        con.close()


def test_a_run_that_started_before_another_account_s_build_is_taken_in_by_the_next(
    built, small_emulator
):
    # Another account's run started an hour after this one, loaded and built first: the
    # watermark stands at its start, past this run's (a row of it, deleted, keeps the marts
    # as they are).
    path = built.get("warehouse", "duckdb_path")
    _edit_raw(
        path,
        "insert into raw.events (id, account, _synced_at, deleted_at) "
        "values (1, 'later', now() + interval 1 hour, now() + interval 1 hour)",
    )
    build_models(path, settings=built)
    [canceled] = _ids(small_emulator, "active", 1)
    with client_for(small_emulator) as client:
        client.event_cancel(canceled, reason="after the other build")
    run_sync(built, small_emulator)

    build_models(path, settings=built)

    assert _differences_of(path, ["fct_events"]) == {"fct_events": (0, 0)}


def test_a_load_a_killed_run_left_pending_is_taken_in_after_another_account_s_build(
    built, small_emulator
):
    # The pending rows carry the killed run's start: below a build another account's run
    # (started later) took since, and below nothing the re-run itself stamps.
    path = built.get("warehouse", "duckdb_path")
    [canceled] = _ids(small_emulator, "active", 1)
    with client_for(small_emulator) as client:
        client.event_cancel(canceled, reason="left pending")
    sync_killed_before_loading(built, small_emulator)
    _edit_raw(
        path,
        "insert into raw.events (id, account, _synced_at, deleted_at) "
        "values (1, 'later', now() + interval 1 hour, now() + interval 1 hour)",
    )
    build_models(path, settings=built)
    run_sync(built, small_emulator)

    build_models(path, settings=built)

    assert _differences_of(path, ["fct_events"]) == {"fct_events": (0, 0)}


def test_a_changed_availability_slot_recomputes_the_days_whose_snapshot_lists_it(built):
    path = built.get("warehouse", "duckdb_path")
    # A slot two days or more after the snapshot's (UTC) date. On the first listed date, east
    # of UTC, the local day starts on the UTC date before, which the snapshot does not list;
    # on the next, a snapshot taken late in its UTC day (after 23:00 for Paris) was taken once
    # that local day had begun. Either day falls back to working hours: no day counts the slot.
    _edit_raw(
        path,
        "update raw.event_type_availability_slots set available = not available "
        "where (event_type_id, snapshot_date, date, start) = "
        "(select (event_type_id, snapshot_date, date, start) "
        "from raw.event_type_availability_slots where date >= snapshot_date + 2 "
        "order by all limit 1)",
    )

    result = build_models(path, settings=built)

    changed = result["int_utilization_intervals"].changed_keys
    assert changed is not None and changed["date_local"]
    differences = _differences_of(path, UTILIZATION)
    for name in UTILIZATION:
        # a day of the host's other types may offer the same time: its union is unchanged
        assert result[name].incremental, name
        assert differences[name] == (0, 0), name


def test_a_host_time_zone_change_leaves_the_utilization_models_equal_to_a_rebuild(built):
    path = built.get("warehouse", "duckdb_path")
    _edit_raw(
        path,
        "update raw.users set timezone = 'Pacific/Kiritimati' "
        "where id = (select min(id) from raw.users)",
    )

    build_models(path, settings=built)

    differences = _differences_of(path, UTILIZATION)
    for name in UTILIZATION:
        assert differences[name] == (0, 0), name


def _remove_a_host_from_the_user_list(path: str) -> tuple[int, str]:
    """Drop the first host with bookings of types in other zones from `raw.users` (a removed
    colleague): their id and the zone their bookings embed for them."""
    with duckdb.connect(path) as con:
        found = con.execute(
            "select events.user_id, any_value(events.user_timezone) from raw.events as events"
            " join raw.event_types as types on events.event_type_id = types.id"
            " where types.timezone <> events.user_timezone"
            " group by events.user_id order by events.user_id limit 1"
        ).fetchone()
        assert found is not None
        con.execute("delete from raw.users where id = ?", [found[0]])
    return int(found[0]), str(found[1])


def test_a_host_the_user_list_no_longer_serves_keeps_the_zone_their_bookings_embed(built):
    path = built.get("warehouse", "duckdb_path")
    host, zone = _remove_a_host_from_the_user_list(path)

    build_models(path, settings=built)

    with duckdb.connect(path, read_only=True) as con:
        booked = con.execute(
            "select distinct host_timezone from analytics.fct_events where host_user_id = ?",
            [host],
        ).fetchall()
        days = con.execute(
            "select distinct host_timezone from analytics.int_host_bookings where host_user_id = ?",
            [host],
        ).fetchall()
    assert booked == [(zone,)] and days == [(zone,)]


def test_a_host_removed_from_the_user_list_leaves_the_models_equal_to_a_rebuild(built):
    path = built.get("warehouse", "duckdb_path")
    _remove_a_host_from_the_user_list(path)

    build_models(path, settings=built)

    differences = _differences_of(path, INCREMENTAL + UTILIZATION)
    for name in INCREMENTAL + UTILIZATION:
        assert differences[name] == (0, 0), name


def _digest_model(con: duckdb.DuckDBPyConnection) -> tuple[str, Incremental]:
    """A model summing `raw.items` per key, refreshed by a digest of each key's items; it
    raises when it computes key 0 while `raw.armed` holds."""
    con.execute("create schema raw; create schema analytics")
    con.execute("create table raw.items (k integer, v integer)")
    con.execute("insert into raw.items select range % 20, range from range(40)")
    con.execute("create table raw.armed (armed boolean); insert into raw.armed values (false)")
    con.execute("create view analytics.stg as select k, v from raw.items")
    sql = (
        "select k, sum(v) as total from analytics.stg "
        "where case when k = 0 and (select armed from raw.armed) "
        "then error('computed again') else true end group by k"
    )
    declared = Incremental(
        key=("k",),
        changed="",
        watermark="",
        narrow={"stg": ("k",)},
        accounted_for=("armed",),
        inputs_digest="select k, sum(hash(v)) as digest from analytics.stg group by k",
    )
    return sql, declared


def test_a_digest_refresh_recomputes_the_changed_new_and_gone_keys_only():
    con = duckdb.connect()
    sql, declared = _digest_model(con)
    incremental_build(con, "model", sql, declared)
    con.execute("update raw.armed set armed = true")
    con.execute("update raw.items set v = v + 100 where k = 1")
    con.execute("delete from raw.items where k = 2")
    con.execute("insert into raw.items values (25, 7)")

    outcome = incremental_build(con, "model", sql, declared)

    assert (outcome.incremental, outcome.changed_keys) == (True, 3)
    con.execute("update raw.armed set armed = false")
    fresh = con.execute(f"select * from ({sql}) order by k").fetchall()
    assert con.execute("select * from analytics.model order by k").fetchall() == fresh


def test_a_digest_refresh_after_a_refresh_sees_only_the_later_changes():
    con = duckdb.connect()
    sql, declared = _digest_model(con)
    incremental_build(con, "model", sql, declared)
    con.execute("update raw.items set v = v + 100 where k = 1")
    incremental_build(con, "model", sql, declared)
    con.execute("update raw.items set v = v + 100 where k = 3")

    outcome = incremental_build(con, "model", sql, declared)

    assert (outcome.incremental, outcome.changed_keys, outcome.keys) == (True, 1, {"k": [3]})


def test_an_incremental_declaration_by_digest_needs_no_changed_query(tmp_path):
    sql = _project_with(
        tmp_path,
        'key = ["id"]\n[incremental]\n'
        'inputs_digest = "select id, hash(id) as digest from analytics.a"\n'
        'narrow = { a = ["id"] }\naccounted_for = ["events"]\n',
    )

    declared = load_project(sql)["b"].incremental

    assert declared is not None and (declared.changed, declared.watermark) == ("", "")


def test_a_changed_query_without_its_watermark_is_refused(tmp_path):
    sql = _project_with(
        tmp_path,
        'key = ["id"]\n[incremental]\nchanged = "select 1 as id"\n'
        'inputs_digest = "select id, hash(id) as digest from analytics.a"\n'
        'narrow = { a = ["id"] }\naccounted_for = ["events"]\n',
    )

    with pytest.raises(ModelProjectError, match="watermark"):
        load_project(sql)


def test_a_relation_fingerprinted_once_in_a_build_is_not_read_again():
    con = duckdb.connect()
    con.execute("create schema analytics; create table analytics.t as select 1 as x")
    known: dict[str, str] = {}
    first = content_fingerprint(con, ("t",), known)
    con.execute("insert into analytics.t values (2)")

    again = content_fingerprint(con, ("t",), known)

    assert again == first != content_fingerprint(con, ("t",))
