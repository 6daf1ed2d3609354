"""Later syncs bring the warehouse back to the emulator's state, at a cost set by the changes."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from simplymeet.emulator import RunningEmulator, start_emulator
from tests.sync_support import (
    EVENTS_ONLY,
    assert_events_match,
    client_for,
    live_event_dtos,
    query,
    run_sync,
    settings_for,
)
from tests.synced_template import synced_copy


@pytest.fixture
def synced(tmp_path_factory, tmp_path, emulator: RunningEmulator):
    """Settings of a warehouse that has had one full sync of `emulator`."""
    return synced_copy(tmp_path_factory, tmp_path, emulator)


_UNTOUCHED_ACTIVE: dict[tuple[object, ...], list[tuple[int, str]]] = {}
"""(id, scheduledAt) of every active event of an untouched store, by seed, size and anchor:
finding the future ones rendered ~1,750 events one at a time (as much CPU as the sync), and an
untouched store of one seed, size and anchor serves the same events."""


def _active(emulator: RunningEmulator) -> list[tuple[int, str]]:
    """(id, scheduledAt) of each active event the emulator serves, by ascending id."""
    store = emulator.store
    untouched = store.generation == 0 and store.ref_generation == 0
    key = (store.seed, store.event_count, store.anchor)
    if untouched and key in _UNTOUCHED_ACTIVE:
        return _UNTOUCHED_ACTIVE[key]
    active = [
        (dto["id"], dto["scheduledAt"])
        for dto in live_event_dtos(emulator)
        if dto["state"] == "active"
    ]
    if untouched:
        _UNTOUCHED_ACTIVE[key] = active
    return active


def _future_active_ids(emulator: RunningEmulator, count: int) -> list[int]:
    now = dt.datetime.now(dt.UTC).isoformat()
    return [event_id for event_id, scheduled in _active(emulator) if scheduled > now][:count]


def _past_active_ids(emulator: RunningEmulator, count: int) -> list[int]:
    now = dt.datetime.now(dt.UTC).isoformat()
    return [event_id for event_id, scheduled in _active(emulator) if scheduled < now][:count]


def test_incremental_sync_after_every_kind_of_change_matches_emulator(synced, emulator):
    future = _future_active_ids(emulator, 6)
    past = _past_active_ids(emulator, 2)
    with client_for(emulator) as client:
        client.event_cancel(future[0], reason="host ill")
        moved_type = emulator.store.event_dto(future[1])["eventType"]["id"]
        client.event_reschedule(
            future[1], "2030-01-07 10:00:00", "2030-01-07 10:30:00", event_type_id=moved_type
        )
        client.event_notes(future[2], notes="bring the contract")
        client.event_invite_participants(future[3], emails=["guest@example.com"])
        client.event_no_show(past[0])
        client.event_delete(future[4])
        event_type = emulator.store.event_dto(future[5])["eventType"]["id"]
        client.event_create(
            {
                "eventType": event_type,
                "scheduledAt": "2030-02-04 09:00:00",
                "invitee": {"fullName": "Ada Lovelace", "email": "ada@example.com"},
            }
        )
    summary = run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=True)
    assert_events_match(synced, emulator)
    assert summary.deleted_found == 1


def test_incremental_sync_requests_event_pages_in_proportion_to_changes(synced, emulator):
    changed = _future_active_ids(emulator, 250)
    with client_for(emulator) as client:
        for event_id in changed:
            client.event_notes(event_id, notes="updated")
    emulator.reset_log()
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    pages = emulator.count("event_list")
    # 250 changed rows span 3 pages of 100, one more page reaches past the cursor, and the
    # page after it may already be prefetched when the scan stops.
    assert pages <= math.ceil(250 / 100) + 1 + 1
    assert_events_match(synced, emulator)


def test_an_unchanged_source_costs_a_page_one_prefetched_one_above_the_last_id_one_canceled(
    synced, emulator
):
    emulator.reset_log()
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert emulator.count("event_list") == 4


def test_deleted_events_stay_in_the_warehouse_marked_deleted(synced, emulator):
    [victim] = _future_active_ids(emulator, 1)
    with client_for(emulator) as client:
        client.event_delete(victim)
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=True)
    [(deleted_at,)] = query(synced, f"select deleted_at from raw.events where id = {victim}")
    assert deleted_at is not None


def test_deletes_wait_for_the_reconcile_pass(synced, emulator):
    [victim] = _future_active_ids(emulator, 1)
    with client_for(emulator) as client:
        client.event_delete(victim)
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    rows = query(synced, f"select deleted_at from raw.events where id = {victim}")
    assert rows == [(None,)]


def test_reconcile_runs_by_itself_once_the_cadence_has_passed(synced, emulator):
    # The first sync never reconciles (nothing to compare with), so `synced` is what it would
    # have written under this cadence too; only the next run reads the setting.
    settings = synced.with_overrides("sync", reconcile_every_hours=0.0)
    [victim] = _future_active_ids(emulator, 1)
    with client_for(emulator) as client:
        client.event_delete(victim)
    summary = run_sync(settings, emulator, resources=EVENTS_ONLY)
    assert summary.reconciled
    assert summary.deleted_found == 1


def test_participant_removed_upstream_disappears_from_child_table(synced, emulator):
    [event_id] = _future_active_ids(emulator, 1)
    # A participant the API no longer lists, as an earlier sync would have landed it.
    con_sql = (
        "insert into raw.events__participants"
        " (account, event_id, id, email, created_at, _synced_at) values"
        f" ('default', {event_id}, 999999999, 'gone@example.com', now(), timestamptz '2020-01-01')"
    )
    import duckdb

    con = duckdb.connect(synced.get("warehouse", "duckdb_path"))
    con.execute(con_sql)
    con.close()
    with client_for(emulator) as client:
        client.event_notes(event_id, notes="touched, so the event is re-synced")
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    rows = query(synced, "select count(*) from raw.events__participants where id = 999999999")
    assert rows == [(0,)]
    assert_events_match(synced, emulator)


def test_stale_child_row_is_caught_by_the_comparison(synced, emulator):
    # Proves assert_events_match can fail: a planted child row must be noticed.
    [event_id] = _future_active_ids(emulator, 1)
    import duckdb

    con = duckdb.connect(synced.get("warehouse", "duckdb_path"))
    con.execute(
        "insert into raw.events__participants"
        " (account, event_id, id, email, created_at, _synced_at)"
        f" values ('default', {event_id}, 999999998, 'planted@example.com', now(), now())"
    )
    con.close()
    with pytest.raises(AssertionError):
        assert_events_match(synced, emulator)


def test_since_rereads_events_updated_after_the_date(synced, emulator):
    summary = run_sync(
        synced, emulator, resources=EVENTS_ONLY, since=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    )
    events = {row.name: row for row in summary.tables}["events"]
    assert events.loaded == 2000
    assert_events_match(synced, emulator)


def test_full_refresh_rereads_everything_and_reconciles(synced, emulator):
    [victim] = _future_active_ids(emulator, 1)
    with client_for(emulator) as client:
        client.event_delete(victim)
    summary = run_sync(synced, emulator, resources=EVENTS_ONLY, full_refresh=True)
    events = {row.name: row for row in summary.tables}["events"]
    assert events.loaded == 1999
    assert summary.deleted_found == 1
    assert_events_match(synced, emulator)


def test_a_dataset_name_dlt_normalizes_is_found_again_by_the_next_run(tmp_path):
    with start_emulator(seed=1, events=30) as emulator:
        settings = settings_for(tmp_path, emulator)
        first = run_sync(settings, emulator, resources=EVENTS_ONLY, dataset="SimplyMeet Raw")
        again = run_sync(settings, emulator, resources=EVENTS_ONLY, dataset="SimplyMeet Raw")
    landed = {row.name: row for row in first.tables}["events"].rows_after
    assert landed == 30
    assert {row.name: row for row in again.tables}["events"].rows_before == landed
