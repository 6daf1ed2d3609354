"""An account's first load appends into its empty tables; every later load merges.

`sync/first_load.py`: the rows a first sync lands are the ones a merge would have landed
(one per key, the newest by `dedup_sort`), a run killed between that load and its
deduplication is mended by the next run, and the run after a first sync merges again.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from simplymeet.accounts import DEFAULT_ACCOUNT
from simplymeet.emulator import start_emulator
from simplymeet.sync import first_load
from simplymeet.sync import tables as t
from simplymeet.sync.resource_names import RESOURCE_NAMES
from simplymeet.sync.runner import RUNS_TABLE, make_pipeline
from simplymeet.sync.source import DEDUP_SORT, appendable_tables, landed_tables
from tests.sync_support import (
    EVENTS_ONLY,
    assert_events_match,
    client_for,
    create_poll,
    query,
    read_only,
    run_sync,
    settings_for,
)
from tests.synced_template import synced_copy

EVENTS = 300


@pytest.fixture
def emulator() -> Any:
    with start_emulator(seed=8, events=EVENTS) as emu:
        yield emu


@pytest.fixture
def synced(tmp_path_factory, tmp_path, emulator) -> Any:
    """Settings of a private copy of a first sync of every resource of `emulator`: the first
    sync each test would run itself, run once per test run (`tests/synced_template.py`)."""
    return synced_copy(tmp_path_factory, tmp_path, emulator)


# What these hold depends on the clock of the read (free slots from now on), not on the load.
_READ_AT_A_TIME = {t.AVAILABILITY_DAYS.name, t.AVAILABILITY_SLOTS.name}


def _warehouse(settings: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a first load may append to, without the times the run put
    in them (its own, and when it first saw a cancellation policy's version)."""
    stamps = {t.CANCELLATION_POLICIES.name: ", first_seen_at"}
    # One connection for every table: one per query was ~40 opens a call, most of the CPU of
    # the test that compares two warehouses.
    with read_only(settings) as con:
        landed = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
        return {
            name: con.execute(
                f"select * exclude (_synced_at{stamps.get(name, '')}) from raw.{name} order by all"
            ).fetchall()
            for name in (table.name for table in appendable_tables(list(RESOURCE_NAMES)))
            if name not in _READ_AT_A_TIME and name in landed
        }


def _write_dispositions(settings: Any) -> dict[str, str]:
    tables = make_pipeline(settings).default_schema.tables
    return {name: tables[name]["write_disposition"] for name in ("events", "users")}


def _duplicate_two_events(settings: Any) -> list[int]:
    """Copy two events (the copy a second older, as a read before an update would be) and a
    participant row of each, as a first load that read them twice would have appended."""
    con = duckdb.connect(settings.get("warehouse", "duckdb_path"))
    try:
        ids = [
            row[0]
            for row in con.execute(
                "select distinct event_id from raw.events__participants order by 1 limit 2"
            ).fetchall()
        ]
        for event_id in ids:
            con.execute(
                "insert into raw.events select * replace (updated_at - interval 1 second as "
                "updated_at, 'stale copy' as notes) from raw.events where id = ?",
                [event_id],
            )
            con.execute(
                "insert into raw.events__participants select * from raw.events__participants "
                "where event_id = ? limit 1",
                [event_id],
            )
    finally:
        con.close()
    return ids


def test_a_first_sync_lands_what_a_merging_first_sync_lands(tmp_path, emulator, monkeypatch):
    appended = settings_for(tmp_path / "appended", emulator)
    run_sync(appended, emulator)
    monkeypatch.setattr(first_load, "append_targets", lambda *a, **k: frozenset())
    merged = settings_for(tmp_path / "merged", emulator)
    run_sync(merged, emulator)
    landed = _warehouse(appended)
    assert landed == _warehouse(merged)
    assert len(landed["events"]) == EVENTS


def test_a_first_sync_appends_without_a_staging_copy(synced):
    settings = synced
    assert _write_dispositions(settings) == {"events": "append", "users": "append"}
    staged = query(
        settings, "select table_name from duckdb_tables() where schema_name = 'raw_staging'"
    )
    assert staged == []


def test_the_sync_after_the_first_merges_a_changed_event_in_place(synced, emulator):
    settings = synced
    [(event_id,)] = query(settings, "select min(id) from raw.events")
    with client_for(emulator) as client:
        client.call("event_notes", {"id": event_id}, body={"notes": "moved to Thursday"})
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    assert _write_dispositions(settings)["events"] == "merge"
    assert query(settings, f"select notes from raw.events where id = {event_id}") == [
        ("moved to Thursday",)
    ]
    assert_events_match(settings, emulator)


def test_a_key_read_twice_keeps_one_row_the_newest(synced, emulator):
    settings = synced
    ids = _duplicate_two_events(settings)
    with make_pipeline(settings).sql_client() as client:
        removed = first_load.drop_duplicate_keys(
            client, landed_tables(["events"]), DEFAULT_ACCOUNT, DEDUP_SORT
        )
    assert removed == {"events": 2, "events__participants": 2}
    assert query(settings, "select count(*), count(distinct id) from raw.events") == [
        (EVENTS, EVENTS)
    ]
    notes = query(settings, f"select notes from raw.events where id in ({ids[0]}, {ids[1]})")
    assert ("stale copy",) not in notes
    assert_events_match(settings, emulator)


def test_a_key_appended_by_two_runs_keeps_the_later_runs_copy(synced, emulator):
    # A killed first run's package, loaded beside the next run's own (both appending): the
    # kept copy must carry the later stamp, which the drop of unrefreshed rows and the prune
    # of stale children go by (the earlier copy left an account's users emptied, exit 0).
    settings = synced
    run_sync(settings, emulator, resources=["users"])
    con = duckdb.connect(settings.get("warehouse", "duckdb_path"))
    try:
        [(newest,)] = con.execute("select max(_synced_at) from raw.users").fetchall()
        # The earlier run's copies first, as its package loads first.
        con.execute("create temp table fresh as select * from raw.users")
        con.execute("delete from raw.users")
        con.execute(
            "insert into raw.users select * replace (_synced_at - interval 1 minute as "
            "_synced_at, 'Stale Copy' as full_name) from fresh"
        )
        con.execute("insert into raw.users select * from fresh")
    finally:
        con.close()
    with make_pipeline(settings).sql_client() as client:
        first_load.drop_duplicate_keys(
            client, landed_tables(["users"]), DEFAULT_ACCOUNT, DEDUP_SORT
        )
    kept = query(settings, "select distinct _synced_at, full_name = 'Stale Copy' from raw.users")
    assert kept == [(newest, False)]


def test_duplicates_a_killed_first_load_left_are_dropped_by_the_next_run(synced, emulator):
    settings = synced
    # Killed after the load, before the deduplication and the run's record.
    _duplicate_two_events(settings)
    con = duckdb.connect(settings.get("warehouse", "duckdb_path"))
    con.execute(f"delete from raw.{RUNS_TABLE}")
    con.close()
    # A run without a record deduplicates every resource's tables, whatever it syncs.
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    assert query(settings, "select count(*), count(distinct id) from raw.events") == [
        (EVENTS, EVENTS)
    ]
    assert_events_match(settings, emulator)


def test_a_table_first_filled_after_the_first_run_merges(tmp_path, emulator):
    settings = settings_for(tmp_path, emulator)
    run_sync(settings, emulator, resources=["events"])
    run_sync(settings, emulator, resources=["events", "users"])
    assert _write_dispositions(settings)["users"] == "merge"


def test_targets_are_the_empty_tables_of_an_account_without_a_recorded_run():
    tables = [table.name for table in landed_tables(["users"])]
    before = {t.USERS.name: 3}
    assert first_load.append_targets(tables, before, first_of_account=True) == {
        t.ORGANIZATIONS.name
    }
    assert first_load.append_targets(tables, before, first_of_account=False) == frozenset()


def test_a_list_changed_after_the_first_sync_is_replaced_not_appended(synced, emulator):
    settings = synced
    create_poll(emulator)
    run_sync(settings, emulator, resources=["polls"])
    polls = emulator.store.list_dtos("polls")
    assert query(settings, "select count(*), count(distinct id) from raw.polls") == [
        (len(polls), len(polls))
    ]


def _threads(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select current_setting('threads')").fetchone()[0])


def test_an_appending_load_runs_duckdb_on_one_thread_and_puts_its_setting_back(tmp_path):
    path = str(tmp_path / "w.duckdb")
    held = duckdb.connect(path)
    try:
        held.execute("SET threads = 3")
        with first_load.one_thread(held, appending=True):
            other = duckdb.connect(path)  # as dlt's connections: the same database
            assert _threads(other) == 1
            other.close()
        assert _threads(held) == 3
    finally:
        held.close()


def test_a_merging_load_keeps_duckdb_s_threads(tmp_path):
    held = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        held.execute("SET threads = 3")
        with first_load.one_thread(held, appending=False):
            assert _threads(held) == 3
    finally:
        held.close()


def test_a_first_sync_loads_on_one_thread_and_the_next_on_every_thread(
    tmp_path, emulator, monkeypatch
):
    import dlt

    seen: list[int] = []
    load = dlt.Pipeline.load

    def observed_load(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self.sql_client() as client:
            seen.append(int(client.execute_sql("select current_setting('threads')")[0][0]))
        return load(self, *args, **kwargs)

    monkeypatch.setattr(dlt.Pipeline, "load", observed_load)
    settings = settings_for(tmp_path, emulator)
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    with duckdb.connect() as fresh:
        assert seen == [1, _threads(fresh)]


def test_an_organization_without_a_booking_syncs_and_builds_twice(tmp_path):
    # dlt makes a table with the first row it loads: no booking, no raw.events.
    with start_emulator(seed=3, events=0) as emulator:
        settings = settings_for(tmp_path, emulator)
        first = run_sync(settings, emulator, build_models=True)
        again = run_sync(settings, emulator, build_models=True)
    assert not first.model_test_failures and not again.model_test_failures
    assert again.reconciled is False
