"""The sync stays exact on an API that a busy organization actually has (issue 10, items 1-3, 7).

Writes never stop, one row carries a clock from tomorrow, a page comes back short or empty:
each run either proves what it read against the server's own counts or exits 8, and its cost
follows what changed.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from simplymeet.cli.errors import EXIT_INCOMPLETE, exit_code_for
from simplymeet.client import SimplyMeetClient
from simplymeet.contract.dates import parse_api_datetime
from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.emulator.drift import stamp_future, stamp_together
from simplymeet.sync import SyncRequest, make_pipeline, sync
from simplymeet.sync.events import FUTURE_NAMED
from simplymeet.sync.runner import event_cursor
from tests.loopback import Answer, behind, served
from tests.sync_support import (
    EVENTS_ONLY,
    assert_events_match,
    book_events,
    client_for,
    landed_count,
    live_event_dtos,
    query,
    run_sync,
    settings_for,
)
from tests.synced_template import synced_copy

PAGE = 100


@pytest.fixture
def synced(tmp_path_factory, tmp_path, emulator: RunningEmulator):
    """Settings of a warehouse that has had one full sync of `emulator` (2,000 events)."""
    return synced_copy(tmp_path_factory, tmp_path, emulator)


def _events_loaded(summary) -> int:
    return {row.name: row for row in summary.tables}["events"].loaded


def _touch(emulator: RunningEmulator, count: int, notes: str = "changed") -> list[int]:
    ids = emulator.store.all_event_ids()[:count]
    with client_for(emulator) as client:
        for event_id in ids:
            client.event_notes(event_id, notes=f"{notes} {event_id}")
    return ids


def _create(emulator: RunningEmulator, when: str = "2030-03-04 09:00:00") -> int:
    first = emulator.store.event_dto(emulator.store.all_event_ids()[0])
    assert first is not None
    event_type = first["eventType"]["id"]
    with client_for(emulator) as client:
        created = client.call(
            "event_create",
            body={
                "eventType": event_type,
                "scheduledAt": when,
                "invitee": {"fullName": "Grace Hopper", "email": "grace@example.com"},
            },
        )
    return int((created[0] if isinstance(created, list) else created)["id"])


HIDDEN_FOR_GOOD = "short=1,pages=1|2,endpoints=event_list"
"""Pages 1 and 2 of every list request short: the answers to `filter[ids]` (page 1) too, so no
read shows some rows, and the events read never add up to the count."""


def _incomplete(excinfo: pytest.ExceptionInfo[BaseException]) -> bool:
    return exit_code_for(excinfo.value)[0] == EXIT_INCOMPLETE


# --- 1. continuous writes ---------------------------------------------------------------------


def test_syncs_under_continuous_writes_cost_what_changed_and_converge(tmp_path):
    with start_emulator(seed=5, events=3000, latency_ms=15) as emulator:
        settings = settings_for(tmp_path, emulator, lag_seconds=2, reconcile_every_hours=1000.0)
        emulator.start_drift("rate=20,insert=0.3,update=0.5,delete=0.2,seed=8")
        writes_at_start = [sum(emulator.drift_stats.values())]
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        pages_per_run, writes_per_run = [], []
        for _ in range(2):
            writes_at_start.append(sum(emulator.drift_stats.values()))
            emulator.reset_log()
            run_sync(settings, emulator, resources=EVENTS_ONLY)
            pages_per_run.append(emulator.count("event_list"))
            # A run reads what was written since the run before it started: that run's cursor
            # was taken from pages read while it ran.
            writes_per_run.append(sum(emulator.drift_stats.values()) - writes_at_start[-2])
        emulator.stop_drift()
        run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=True)
        assert_events_match(settings, emulator)
    full_read = math.ceil(3000 / PAGE)
    for pages, writes in zip(pages_per_run, writes_per_run, strict=True):
        # The writes since the run before started, the lag window, a prefetched page, and
        # re-reads around the deletes: far from a read of the whole table.
        assert pages <= 2 * math.ceil(writes / PAGE) + 8, (pages_per_run, writes_per_run)
        # Writes arrive by the second: on a loaded machine a run lasts longer and sees more of
        # them, so "far from a full read" is only asked of runs that saw few (the bound above
        # is what holds at any speed).
        if writes < 3000 / 10:
            assert pages < full_read / 2, (pages_per_run, writes_per_run)


def test_first_sync_under_continuous_writes_leaves_a_cursor(tmp_path):
    with start_emulator(seed=6, events=3000, latency_ms=15) as emulator:
        settings = settings_for(tmp_path, emulator)
        emulator.start_drift("rate=40,insert=0.3,update=0.4,delete=0.3,seed=3")
        try:
            run_sync(settings, emulator, resources=EVENTS_ONLY)
        finally:
            emulator.stop_drift()
        cursor = event_cursor(make_pipeline(settings))
    assert cursor.updated_at is not None
    assert cursor.held_runs == 0


def test_rows_skipped_by_deletes_during_the_backfill_are_read_by_id(tmp_path):
    with start_emulator(seed=7, events=3000, latency_ms=15) as emulator:
        settings = settings_for(tmp_path, emulator, lag_seconds=2, reconcile_every_hours=1000.0)
        emulator.start_drift("rate=60,insert=0,update=0,delete=1,seed=4")
        try:
            run_sync(settings, emulator, resources=EVENTS_ONLY)
        finally:
            deletes = emulator.stop_drift().get("delete", 0)
        # Every event that still exists was read by that one run (deletes only mark later).
        live = {dto["id"] for dto in live_event_dtos(emulator)}
        landed = {row[0] for row in query(settings, "select id from raw.events")}
    assert deletes > 0
    assert live <= landed


# --- 2. the cursor cannot be poisoned ---------------------------------------------------------


def test_event_stamped_in_the_future_does_not_hide_later_changes(synced, emulator):
    stamp_future(emulator.store, emulator.store.all_event_ids()[10], ahead_seconds=86_400)
    run_sync(synced, emulator, resources=EVENTS_ONLY)
    created = _create(emulator)
    _touch(emulator, 3, "after the future row")
    run_sync(synced, emulator, resources=EVENTS_ONLY)
    assert query(synced, f"select count(*) from raw.events where id = {created}") == [(1,)]
    assert_events_match(synced, emulator)


def test_event_stamped_in_the_future_is_loaded_and_named_in_a_warning(synced, emulator, caplog):
    future_id = emulator.store.all_event_ids()[10]
    stamp_future(emulator.store, future_id, ahead_seconds=86_400)
    with caplog.at_level(logging.WARNING, logger="simplymeet.sync"):
        summary = run_sync(synced, emulator, resources=EVENTS_ONLY)
    assert summary.future_rows == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"event {future_id} " in w and "ahead of the server's clock" in w for w in warnings)
    assert_events_match(synced, emulator)


def test_many_rows_stamped_in_the_future_are_named_in_a_few_warnings_and_all_counted(
    tmp_path, emulator, caplog
):
    emulator.set_faults("date_ahead=-300")  # the clock stamping rows runs 5 minutes ahead
    settings = settings_for(tmp_path, emulator)
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    touched = _touch(emulator, 20, "stamped ahead")

    with caplog.at_level(logging.WARNING, logger="simplymeet.sync"):
        summary = run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)

    ahead = [r for r in caplog.records if "ahead of the server's clock" in r.getMessage()]
    assert summary.future_rows == len(touched)
    assert len(ahead) == FUTURE_NAMED + 1
    assert_events_match(settings, emulator)


def test_cursor_never_passes_the_servers_clock(synced, emulator):
    stamp_future(emulator.store, emulator.store.all_event_ids()[0], ahead_seconds=3_600)
    run_sync(synced, emulator, resources=EVENTS_ONLY)
    cursor = event_cursor(make_pipeline(synced)).updated_at
    assert cursor is not None
    assert cursor <= dt.datetime.now(dt.UTC)


def test_changes_are_read_when_the_servers_date_runs_ahead_of_its_row_stamps(tmp_path, emulator):
    emulator.set_faults("date_ahead=900")  # far past the default lag of 120 s
    settings = settings_for(tmp_path, emulator)
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    touched = _touch(emulator, 3, "behind the Date header")
    summary = run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert _events_loaded(summary) == len(touched)
    assert_events_match(settings, emulator)


def test_the_cursor_stays_at_the_newest_row_read_when_the_servers_date_runs_ahead(
    tmp_path, emulator
):
    emulator.set_faults("date_ahead=900")
    settings = settings_for(tmp_path, emulator)
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    newest = max(parse_api_datetime(row["updatedAt"]) for row in live_event_dtos(emulator))
    assert event_cursor(make_pipeline(settings)).updated_at == newest


def test_a_second_run_against_a_date_ahead_of_the_rows_loads_nothing(tmp_path, emulator):
    emulator.set_faults("date_ahead=900")
    settings = settings_for(tmp_path, emulator)
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    summary = run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert _events_loaded(summary) == 0


@pytest.mark.parametrize("rerun", [{"full_refresh": True}, {"since": dt.datetime(2000, 1, 1)}])
def test_full_refresh_and_since_set_the_cursor_from_what_they_read(synced, emulator, rerun):
    before = event_cursor(make_pipeline(synced)).updated_at
    since = rerun.get("since")
    if since is not None:
        rerun = {"since": since.replace(tzinfo=dt.UTC)}
    run_sync(synced, emulator, resources=EVENTS_ONLY, **rerun)
    after = event_cursor(make_pipeline(synced)).updated_at
    assert before is not None and after is not None
    assert before <= after <= dt.datetime.now(dt.UTC)


# --- 3. every scan checked against the server's counts ----------------------------------------


def test_short_page_in_an_incremental_scan_is_read_again(synced, emulator):
    _touch(emulator, 250)
    emulator.set_faults("short=1,pages=2,endpoints=event_list,max=1")
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert emulator.faults_injected == {"short": 1}
    assert_events_match(synced, emulator)


def _touch_a_second_per_half_page(synced, emulator: RunningEmulator, notes: str) -> list[int]:
    """`_touch` 250 events, stamped one second per 50 of them (newest first): no two pages
    share a second, so no tie across a page boundary makes the scan read a page again."""
    cursor = event_cursor(make_pipeline(synced)).updated_at
    assert cursor is not None
    while time.time() - cursor.timestamp() < 7:  # bounded: the template is seconds old at most
        time.sleep(0.2)
    ids = _touch(emulator, 250, notes)
    now = int(time.time())
    for group in range(5):
        stamp_together(emulator.store, ids[group * 50 : (group + 1) * 50], now - 1 - group)
    return ids


def test_a_page_answered_with_the_page_before_in_an_incremental_scan_is_read_again(
    synced, emulator
):
    # A cache keyed without the page number: page 2 comes back as page 1's rows.
    _touch_a_second_per_half_page(synced, emulator, "changed")
    emulator.set_faults("repeat=1,pages=2,endpoints=event_list,max=1")
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert emulator.faults_injected == {"repeat": 1}
    assert_events_match(synced, emulator)


def _bulk_change_across_page_1_and_2(synced, emulator: RunningEmulator, size: int) -> list[int]:
    """70 events changed a second after `size` others changed in one second (a bulk change):
    at 100 a page, the bulk straddles pages 1 and 2 of the newest-first read. Its ids."""
    cursor = event_cursor(make_pipeline(synced)).updated_at
    assert cursor is not None
    while time.time() - cursor.timestamp() < 7:  # bounded: the template is seconds old at most
        time.sleep(0.2)
    top, bulk = _touch(emulator, 70, "later"), emulator.store.all_event_ids()[70 : 70 + size]
    with client_for(emulator) as client:
        for event_id in bulk:
            client.event_notes(event_id, notes="bulk edit")
    now = int(time.time())
    stamp_together(emulator.store, bulk, now - 2)
    stamp_together(emulator.store, top, now - 1)
    return bulk


def _delete_before_page_2(emulator: RunningEmulator, event_id: int) -> Answer:
    """A proxy answer deleting `event_id` just before page 2 of the newest-first read."""

    def answer(
        up: httpx.Client, path: str, pairs: Any, body: bytes | None, headers: dict
    ) -> httpx.Response:
        if ("orderField", "updatedAt") in pairs and ("page", "2") in pairs:
            with client_for(emulator) as client:
                if emulator.store.has_event(event_id):
                    client.event_delete(event_id)
        return served(up, path, pairs, body, headers)

    return answer


def test_a_bulk_change_straddling_a_page_boundary_where_a_delete_dropped_the_count_lands_whole(
    synced, emulator
):
    # The server orders ties anew on every request: re-reading the pages around the boundary
    # shows a new half of the 60 each time. One page spanning them shows them all.
    bulk = _bulk_change_across_page_1_and_2(synced, emulator, 60)
    emulator.set_readings("tie_order=random")
    old = emulator.store.all_event_ids()[-1]

    _sync_through(synced, emulator, _delete_before_page_2(emulator, old))

    assert not emulator.store.has_event(old)
    landed = query(synced, "select count(*) from raw.events where notes = 'bulk edit'")
    assert landed == [(len(bulk),)]


def test_a_bulk_change_beyond_a_page_where_a_delete_dropped_the_count_is_proven_by_its_reread(
    synced, emulator
):
    # 150 events of one second, in a stable order: the pages read again around the boundary
    # show as many of them as their offsets span, and the events are not all read again.
    bulk = _bulk_change_across_page_1_and_2(synced, emulator, 150)
    emulator.reset_log()

    _sync_through(
        synced, emulator, _delete_before_page_2(emulator, emulator.store.all_event_ids()[-1])
    )

    landed = query(synced, "select count(*) from raw.events where notes = 'bulk edit'")
    assert landed == [(len(bulk),)]
    every_event = [r for r in emulator.requests if "orderField=id&orderDirection=asc" in r.query]
    assert every_event == []


def test_a_page_answered_with_the_page_before_on_every_read_never_leaves_a_change_unread(
    synced, emulator
):
    # No re-read of page 2 shows its rows: the events are read by id instead, and proven.
    changed = _touch_a_second_per_half_page(synced, emulator, "kept")
    emulator.set_faults("repeat=1,pages=2,endpoints=event_list")
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    landed = query(synced, "select count(*) from raw.events where notes like 'kept %'")
    assert landed == [(len(changed),)]
    assert_events_match(synced, emulator)


def test_a_page_count_short_of_the_items_it_counts_does_not_end_an_incremental_scan(
    synced, emulator
):
    # pagesCount 1 for 2,000 events of 100 a page (itemsCount and itemsPerPage exact): the
    # 250 changes sit on three pages.
    changed = _touch(emulator, 250, "kept")
    emulator.set_faults("low_pages=1,endpoints=event_list")
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    landed = query(synced, "select count(*) from raw.events where notes like 'kept %'")
    assert landed == [(len(changed),)]


def _changes_landed_through_capped_pages(tmp_path, cap: int, readings: str = "") -> bool:
    """Whether 200 changes of 250 events land when every page is served `cap` rows of the 100
    asked and counted by the 100 asked (3 pages: the count's last is full)."""
    with start_emulator(seed=8, events=250) as emulator:
        settings = settings_for(tmp_path, emulator)
        emulator.set_readings(readings)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        assert 0 < emulator.store.event_count % 100 <= 50  # the count's last page is full
        changed = _touch(emulator, 200, "kept")
        emulator.set_faults(f"page_cap={cap},cap_counts=asked,endpoints=event_list")

        run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)  # raises on exit 8

    landed = query(settings, "select count(*) from raw.events where notes like 'kept %'")
    return landed == [(len(changed),)]


def test_a_page_count_by_the_on_page_asked_does_not_end_a_scan_at_a_full_page(tmp_path):
    # Served 50 (said so), counted as 3 pages, not 5: the changes run on to page 4.
    assert _changes_landed_through_capped_pages(tmp_path, 50)


def test_a_page_count_by_the_on_page_asked_without_a_page_size_does_not_end_a_scan(tmp_path):
    # The meta leaving itemsPerPage out: page 1's length is the page size.
    assert _changes_landed_through_capped_pages(tmp_path, 40, "meta=no_page_size")


def test_a_quiet_run_on_pages_served_smaller_than_asked_without_a_page_size_reads_little(
    tmp_path,
):
    # 40 a page, asked 100, every count true but itemsPerPage left out: taken as 100 a page,
    # page 1 looked short on every read and every run read the whole list twice.
    with start_emulator(seed=8, events=250) as emulator:
        settings = settings_for(tmp_path, emulator)
        emulator.set_readings("meta=no_page_size")
        emulator.set_faults("page_cap=40,endpoints=event_list")
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        emulator.reset_log()

        run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)
        pages = emulator.count("event_list")

    assert pages <= 8, pages  # the whole list is 7 pages; twice over, 14 and more


def test_a_page_size_that_grows_between_pages_leaves_no_change_unread(synced, emulator):
    # 300 changes, a second per 100 of them. Page 1 is served 50 rows (its meta says so),
    # then the cap lifts and page 2 is served 100 as asked: rows 50-99 (the rest of the
    # newest second) are on neither page as read, and no tie across the two shows it.
    cursor = event_cursor(make_pipeline(synced)).updated_at
    assert cursor is not None
    while time.time() - cursor.timestamp() < 5:  # bounded: the template is seconds old at most
        time.sleep(0.2)
    changed = _touch(emulator, 300, "kept")
    now = int(time.time())
    for group in range(3):
        stamp_together(emulator.store, changed[group * 100 : (group + 1) * 100], now - 1 - group)
    emulator.set_faults("page_cap=50,cap_requests=1,endpoints=event_list")
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    landed = query(synced, "select count(*) from raw.events where notes like 'kept %'")
    assert landed == [(len(changed),)]


def test_a_page_holding_a_row_twice_on_every_read_never_leaves_the_row_it_hides_unread(
    synced, emulator
):
    # Page 2 of every read serves its middle row as an exact copy of the row before it: the
    # row it hides is on no page, however often page 2 is read again.
    changed = _touch_a_second_per_half_page(synced, emulator, "kept")
    emulator.set_faults("double=1,pages=2,endpoints=event_list")
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    emulator.set_faults(None)
    landed = query(synced, "select count(*) from raw.events where notes like 'kept %'")
    assert landed == [(len(changed),)]


def test_page_that_stays_short_fails_the_run_with_exit_8_and_keeps_what_was_read(synced, emulator):
    changed = _touch(emulator, 250, "kept")
    emulator.set_faults(HIDDEN_FOR_GOOD)
    with pytest.raises(Exception) as excinfo:
        run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert _incomplete(excinfo)
    assert "page 2" in str(excinfo.value) or "page 2" in str(excinfo.value.__cause__)
    landed = query(synced, "select count(*) from raw.events where notes like 'kept %'")
    assert landed[0][0] >= PAGE  # page 1's changes are loaded, not thrown away
    emulator.set_faults(None)
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert query(synced, "select count(*) from raw.events where notes like 'kept %'") == [
        (len(changed),)
    ]
    assert_events_match(synced, emulator)


def test_incomplete_run_holds_the_cursor_back_only_to_the_open_gap(synced, emulator):
    before = event_cursor(make_pipeline(synced)).updated_at
    _touch(emulator, 250)
    emulator.set_faults(HIDDEN_FOR_GOOD)
    with pytest.raises(Exception) as excinfo:
        run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert _incomplete(excinfo)
    held = event_cursor(make_pipeline(synced))
    # Pages 2 and 3 hold changed rows, newer than the old cursor: the cursor may move up to
    # them, no further, so the next run re-reads the gap and not the whole window again.
    assert held.held_runs == 1
    assert before is not None and held.updated_at is not None
    assert before < held.updated_at <= dt.datetime.now(dt.UTC)


@pytest.mark.parametrize("fault", ["short", "missing"])
def test_short_or_missing_page_in_the_first_sync_is_recovered(tmp_path, emulator, fault):
    settings = settings_for(tmp_path, emulator)
    emulator.set_faults(f"{fault}=1,pages=3|7,endpoints=event_list")
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    assert sum(emulator.faults_injected.values()) >= 2
    assert_events_match(settings, emulator)


def test_list_resource_that_does_not_add_up_fails_the_run_with_exit_8(tmp_path, emulator):
    settings = settings_for(tmp_path, emulator)
    emulator.set_faults("missing=1,endpoints=event_type_list")
    with pytest.raises(Exception) as excinfo:
        run_sync(settings, emulator, resources=["event_types"])
    assert _incomplete(excinfo)


def test_list_resource_with_a_transient_short_page_is_read_again(tmp_path, emulator):
    settings = settings_for(tmp_path, emulator)
    emulator.set_faults("short=1,endpoints=event_type_list,max=1")
    run_sync(settings, emulator, resources=["event_types"])
    rows = query(settings, "select count(*) from raw.event_types")[0][0]
    assert emulator.faults_injected == {"short": 1}
    assert rows == len(emulator.store.list_dtos("event_types"))


# --- 7. no reloading of unchanged rows --------------------------------------------------------


def test_unchanged_source_loads_no_events(synced, emulator):
    summary = run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert _events_loaded(summary) == 0


def test_changes_load_exactly_the_changed_events(synced, emulator):
    _touch(emulator, 100)
    summary = run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert _events_loaded(summary) == 100
    again = run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert _events_loaded(again) == 0


def test_rows_loaded_by_the_last_run_are_not_loaded_again_once_past_the_lag(tmp_path, emulator):
    settings = settings_for(tmp_path, emulator, lag_seconds=1)
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    ids = emulator.store.all_event_ids()
    with client_for(emulator) as client:
        for event_id in ids[:5]:
            client.event_notes(event_id, notes="first batch")
        assert (
            _events_loaded(run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False))
            == 5
        )
        # The next run's window still starts below these five; its own edge no longer holds them.
        time.sleep(2.5)
        for event_id in ids[100:200]:
            client.event_notes(event_id, notes="second batch")
    summary = run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert _events_loaded(summary) == 100
    assert_events_match(settings, emulator)


def test_sync_command_exits_8_naming_the_page_that_does_not_add_up(synced, emulator):
    from tests.cli_support import run_cli, sync_env

    _touch(emulator, 250)
    emulator.set_faults("missing=1,pages=1|2,endpoints=event_list")
    # The command's exit code and error line, not its process: run in-process
    # (`cli_support.run_cli`), without a second import of dlt.
    done = run_cli(
        "sync",
        "--no-models",
        "--no-reconcile",
        "--resources",
        "events",
        env=sync_env(synced, emulator.api_key),
    )
    assert done.exit_code == EXIT_INCOMPLETE, done.stderr[-2000:]
    [error] = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert "page 2" in error and "promises" in error


def test_server_that_refuses_to_order_by_id_is_read_newest_first(tmp_path, emulator, monkeypatch):
    from simplymeet.emulator import event_handlers

    # A server that knows fewer order fields than ours: `orderField=id` answers 422.
    monkeypatch.setattr(event_handlers, "_ORDER_FIELDS", event_handlers._ORDER_FIELDS - {"id"})
    settings = settings_for(tmp_path, emulator)
    emulator.set_faults("short=1,pages=4,endpoints=event_list,max=1")
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    assert emulator.count("event_list", status=422) == 1
    assert_events_match(settings, emulator)
    assert event_cursor(make_pipeline(settings)).updated_at is not None


class _WriteBetweenPages:
    """An `Answer` that holds page `after` of the event list until page `before` has been
    served, then does `write` once and serves it: a write between two pages ordered by the
    proxy, not by a latency window a loaded machine outlasts. `done` once written."""

    def __init__(self, before: int, after: int, write: Callable[[], None]) -> None:
        self.before, self.after, self.write = str(before), str(after), write
        self.served_before = threading.Event()
        self.done = False

    def __call__(self, up, path, pairs, body, headers):
        is_event_page = headers.get(":method") == "GET" and path.rstrip("/").endswith(
            "/panel/api/event"
        )
        if is_event_page and ("page", self.after) in pairs and not self.done:
            assert self.served_before.wait(timeout=60), f"page {self.before} was never served"
            self.write()
            self.done = True
        answer = served(up, path, pairs, body, headers)
        if is_event_page and ("page", self.before) in pairs:
            self.served_before.set()
        return answer


def test_equal_stamps_in_another_order_on_the_next_page_are_read_in_one_page(synced, emulator):
    from simplymeet.emulator.drift import stamp_together

    ids = emulator.store.all_event_ids()
    second = int(time.time()) - 30
    tied = ids[300:310]
    stamp_together(emulator.store, tied, second)
    with client_for(emulator) as client:
        for event_id in ids[:95]:  # newer: they fill offsets 0-94, the tie sits at 95-104
            client.event_notes(event_id, notes="above the tie")
    emulator.reset_log()
    # Once a page 1 has been served, the server orders the tied rows the other way round
    # (nothing orders equal stamps) before serving page 2: it shows page 1's five again.
    reversed_ties = _WriteBetweenPages(
        1, 2, lambda: stamp_together(emulator.store, tied[::-1], second)
    )
    with (
        behind(emulator, reversed_ties) as url,
        SimplyMeetClient(url, api_key=emulator.api_key, concurrency=4) as client,
    ):
        summary = sync(
            synced, client, SyncRequest(resources=EVENTS_ONLY, reconcile=False, build_models=False)
        )
    assert reversed_ties.done
    sizes = {
        dict(parse_qsl(r.query)).get("onPage")
        for r in emulator.requests
        if r.path.rstrip("/").endswith("/event")
    }
    assert sizes - {"100"}, sizes  # one page of another size, spanning the boundary
    assert summary.event_pages_reread >= 1
    assert_events_match(synced, emulator)


def test_the_read_above_the_last_id_goes_out_beside_the_last_pages(tmp_path):
    with start_emulator(seed=7, events=3000) as emulator:
        settings = settings_for(tmp_path, emulator)
        # The last page (30) is answered 4 s late: a read that waited for it would come after.
        emulator.set_faults("latency=4000,pages=30,endpoints=event_list")
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        answered = [
            dict(parse_qsl(r.query))
            for r in emulator.requests
            if r.path.startswith("/panel/api/event") and r.method == "GET"
        ]
        assert_events_match(settings, emulator)
    order = [(q.get("orderDirection"), q.get("page")) for q in answered]
    assert order.index(("desc", "1")) < order.index(("asc", "30"))


def _sync_while_deletes_pull_rows_onto_an_answered_last_page(tmp_path):
    """A first sync of 3,000 events during which 150 are deleted: its summary, whether the
    first victim is gone, the live ids and the landed ones."""
    from simplymeet.emulator import event_writes

    with start_emulator(seed=7, events=3000) as emulator:
        settings = settings_for(tmp_path, emulator, reconcile_every_hours=1000.0)
        victims = emulator.store.all_event_ids()[:150]

        def delete_victims() -> None:
            with emulator.store.lock:
                for event_id in victims:
                    event_writes.delete_event(emulator.store, event_id)

        # Once page 29 has been served, 150 events are deleted before page 30 (the last) is:
        # it comes back empty and the last rows now sit where page 29 was.
        with (
            behind(emulator, _WriteBetweenPages(29, 30, delete_victims)) as url,
            SimplyMeetClient(url, api_key=emulator.api_key, concurrency=4) as client,
        ):
            summary = sync(settings, client, SyncRequest(resources=EVENTS_ONLY, build_models=False))
        live = {dto["id"] for dto in live_event_dtos(emulator)}
        landed = {row[0] for row in query(settings, "select id from raw.events")}
        return summary, emulator.store.has_event(victims[0]), live, landed


def test_rows_pulled_onto_an_answered_last_page_by_deletes_are_read(tmp_path):
    _, victim_left, live, landed = _sync_while_deletes_pull_rows_onto_an_answered_last_page(
        tmp_path
    )

    assert not victim_left
    assert live <= landed


def test_rows_read_again_to_close_a_gap_are_not_read_again_by_id(tmp_path):
    # The read above the last id is read again to close the gap the deletes opened: its
    # rows, read twice on purpose, are no server repeat (they were 100 events read by id).
    summary, *_ = _sync_while_deletes_pull_rows_onto_an_answered_last_page(tmp_path)

    assert summary.events_reread == 0


def test_a_new_event_changed_within_its_second_between_two_reads_of_one_run_lands_as_it_is_now(
    tmp_path,
):
    from simplymeet.emulator import event_writes

    # Booked, then edited in the same second (an integration adding notes) between the run's
    # read of what changed and its read of the events created since: two versions of one row
    # with one updatedAt, of which the merge keeps either.
    with start_emulator(seed=2, events=60) as emulator:
        settings = settings_for(tmp_path, emulator, lag_seconds=0)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        [booked] = book_events(emulator, 1)
        store = emulator.store

        def edited_before_the_read_by_id(up, path, pairs, body, headers):
            if ("orderField", "id") in pairs and ("orderDirection", "desc") in pairs:
                with store.lock:
                    stamp = store.cols.get("updated_us", booked)
                    event_writes.set_notes(store, booked, "added within the second")
                    store.cols.set("updated_us", booked, stamp)
            return served(up, path, pairs, body, headers)

        with (
            behind(emulator, edited_before_the_read_by_id) as url,
            SimplyMeetClient(url, api_key=emulator.api_key) as client,
        ):
            sync(settings, client, SyncRequest(resources=EVENTS_ONLY, reconcile=False))
        run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)

        [(notes,)] = query(settings, f"select notes from raw.events where id = {booked}")
    assert notes == "added within the second"


# --- 8. a server that serves fewer rows than asked, a page that always hides one -------------


def test_more_equal_stamps_than_a_capped_page_holds_are_proven_and_the_syncs_exit_0(
    synced, emulator
):
    from simplymeet.emulator.drift import stamp_together

    # Asked for 100 a page, the server serves 50; 60 events share one second at the top.
    emulator.set_faults("page_cap=50,endpoints=event_list")
    stamp_together(emulator.store, emulator.store.all_event_ids()[:60], int(time.time()) - 5)
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert_events_match(synced, emulator)


def test_a_bulk_change_beyond_a_page_read_again_whole_has_no_event_read_again_by_id(
    synced, emulator
):
    # 1,200 events share one second (an import): no page holds them all, so every event is
    # read by id to prove none is missing. Those rows, read twice on purpose, are no server
    # repeat: counted as one, the run read them again by id, and past 1,000 exited 8 with
    # the warehouse complete.
    stamp_together(emulator.store, emulator.store.all_event_ids()[:1200], int(time.time()) - 5)

    summary = run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)

    assert summary.events_reread == 0
    assert_events_match(synced, emulator)


@pytest.mark.parametrize(
    ("fault", "at_least"),
    [
        # Page 1 of every ordering hides its last row; a page of 10 answers `filter[ids]`.
        ("hide=1,pages=1", 2),
        # Page 2 of every ordering leaves out its middle row: no gap between pages shows it.
        ("hole=1,pages=2", 1),
    ],
    ids=["its-last", "its-middle"],
)
def test_a_first_sync_past_a_page_that_always_hides_a_row_exits_0_when_the_ids_add_up(
    tmp_path, fault: str, at_least: int
):
    with start_emulator(seed=2, events=45) as emulator:
        settings = settings_for(tmp_path, emulator)
        emulator.set_faults(f"page_cap=10,{fault},endpoints=event_list")
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        assert emulator.faults_injected[fault.split("=")[0]] >= at_least
        assert_events_match(settings, emulator)


def test_a_first_sync_past_a_page_that_always_hides_a_row_exits_0_where_canceled_are_listed_apart(
    tmp_path,
):
    # The list counts no canceled booking; the ids between pages asked by id find them when
    # canceled ones are asked for: those are no part of what the list counted.
    with start_emulator(seed=2, events=300, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator)
        emulator.set_faults("page_cap=50,hole=1,pages=3,endpoints=event_list")
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        assert emulator.faults_injected["hole"] >= 1
        assert_events_match(settings, emulator)


def test_a_first_sync_counts_a_canceled_booking_only_a_read_asking_for_canceled_ones_found(
    tmp_path,
):
    # The list holds canceled bookings (and counts them), yet leaves one out of every answer
    # that asks no state: found by the ids between pages, it is one the list counted.
    with start_emulator(seed=2, events=300) as emulator:
        canceled = [d["id"] for d in live_event_dtos(emulator) if d["state"] == "canceled"]
        hidden = sorted(canceled)[len(canceled) // 2]

        def left_out(
            up: httpx.Client, path: str, pairs: Any, body: bytes | None, headers: dict
        ) -> httpx.Response:
            answer = served(up, path, pairs, body, headers)
            if path.rstrip("/").endswith("/event") and ("filter[state]", "canceled") not in pairs:
                page = answer.json()
                page["items"] = [row for row in page["items"] if row["id"] != hidden]
                return httpx.Response(answer.status_code, json=page)
            return answer

        settings = settings_for(tmp_path, emulator)
        _sync_through(settings, emulator, left_out)

        assert query(settings, f"select state from raw.events where id = {hidden}") == [
            ("canceled",)
        ]
        assert_events_match(settings, emulator)


def test_an_incremental_sync_past_a_page_that_always_hides_a_row_exits_0_with_every_change(
    tmp_path,
):
    with start_emulator(seed=2, events=45) as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        emulator.set_faults("page_cap=10,hide=1,pages=1,endpoints=event_list")
        _touch(emulator, 12)  # the tenth newest, hidden on page 1, is one of them
        run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)
        assert_events_match(settings, emulator)


def test_a_row_counted_but_left_out_of_every_list_answer_fails_the_first_sync_with_exit_8(
    tmp_path,
):
    with start_emulator(seed=2, events=45) as emulator:
        settings = settings_for(tmp_path, emulator)
        # Event 16 sits in the middle of page 2 of ten; asked by id, it is still left out.
        emulator.set_faults("page_cap=10,endpoints=event_list")
        emulator.set_anomalies("unlisted=16,endpoints=event_list")
        with pytest.raises(Exception) as excinfo:
            run_sync(settings, emulator, resources=EVENTS_ONLY)
    assert _incomplete(excinfo)


def test_a_page_that_hides_rows_from_every_read_still_fails_the_first_sync_with_exit_8(
    tmp_path,
):
    with start_emulator(seed=2, events=300) as emulator:
        settings = settings_for(tmp_path, emulator)
        emulator.set_faults("short=1,pages=1,endpoints=event_list")
        with pytest.raises(Exception) as excinfo:
            run_sync(settings, emulator, resources=EVENTS_ONLY)
    assert _incomplete(excinfo)


def test_a_first_sync_of_a_quiet_server_reports_no_page_read_again(tmp_path):
    with start_emulator(seed=2, events=150) as emulator:
        summary = run_sync(settings_for(tmp_path, emulator), emulator, resources=EVENTS_ONLY)
    assert summary.event_pages_reread == 0


# --- events served without updatedAt -----------------------------------------------------------


def _served_without_updated_at(emulator: RunningEmulator, ids: list[int]) -> None:
    """The server leaves `updatedAt` empty until an event is changed, and sorts it as SQLite
    and MySQL sort NULL: after every stamp, newest first."""
    emulator.set_anomalies("null_updated=" + "|".join(map(str, ids)))


def test_new_events_served_without_updated_at_and_sorted_last_are_read(tmp_path, monkeypatch):
    # More new events than the reads that cover a gap take (20 pages, lowered here): all of
    # them are read, however many were created since the last run.
    monkeypatch.setattr("simplymeet.sync.events.COVER_MAX_PAGES", 1)
    with start_emulator(seed=4, events=300) as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, resources=EVENTS_ONLY)  # every event stamped so far
        made = book_events(emulator, 150)
        _served_without_updated_at(emulator, [*range(7, 301, 7), *made])
        summary = run_sync(settings, emulator, resources=EVENTS_ONLY)
        landed = landed_count(settings, made)

    assert landed == len(made)
    assert summary.tables[0].rows_after == 450


def test_new_unstamped_events_are_read_from_a_server_paging_smaller_than_asked_with_a_count_alone(
    tmp_path,
):
    # Its meta holds itemsCount alone: the read above the last id goes on past page 2.
    made, landed = _new_unstamped_events_landed(
        tmp_path,
        150,
        events=100,
        readings="meta=count_only",
        faults="page_cap=10,endpoints=event_list",
    )

    assert landed == made


def test_a_bulk_change_stamping_more_rows_alike_than_a_page_holds_lands_whole_in_any_tie_order(
    tmp_path,
):
    # 250 events cancelled in one request share their updatedAt second, and the server
    # orders ties anew on every request (SQL under LIMIT/OFFSET): no page can show them all.
    with start_emulator(seed=5, events=600, readings="tie_order=random") as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        active = [dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == "active"][:250]
        with client_for(emulator) as client:
            client.call("event_cancel_list", body={"ids": active})
        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert_events_match(settings, emulator)


def test_a_bulk_cancel_listed_only_when_asked_lands_whole_in_any_tie_order(tmp_path):
    # 10 bookings cancelled in one request share their updatedAt second, 15 more cancelled a
    # second later sit above them: at 20 a page the 10 straddle the canceled read's first
    # boundary, and that read is the only one that lists them.
    _assert_bulk_cancels_land_canceled(tmp_path, [10, 15])


def test_a_bulk_cancel_larger_than_the_configured_page_lands_whole_in_any_tie_order(tmp_path):
    # 45 bookings cancelled in one request share their updatedAt second: at 20 a page they
    # straddle two boundaries of the canceled read, and one page of more than 20 shows them.
    _assert_bulk_cancels_land_canceled(tmp_path, [45])


def test_a_bulk_cancel_of_more_than_a_page_holds_listed_only_when_asked_lands_whole(
    tmp_path,
):
    # 60 bookings cancelled in one request share their updatedAt second, on a server serving
    # 20 rows a page at most: no page shows them all, and the canceled read is the only one
    # listing them. A later edit shows the list honours the order, so the read would stop
    # at the first page reaching below the window: read again in the order of their ids
    # instead, to the list's end, against its count.
    readings = "canceled_listed=when_asked,tie_order=random"
    with start_emulator(seed=5, events=300, readings=readings) as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=20)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        emulator.set_faults("page_cap=20,endpoints=event_list")
        active = [dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == "active"]
        with client_for(emulator) as client:
            client.call("event_cancel_list", body={"ids": active[:60]})
            time.sleep(1.1)  # the next second: the edit is stamped above the cancels
            client.event_notes(active[60], notes="a later edit")

        run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)

        assert_events_match(settings, emulator)


def test_a_first_sync_lands_a_bulk_cancel_listed_only_when_asked_in_any_tie_order(tmp_path):
    # Canceled before the first sync, 45 bookings share their updatedAt second at the top of
    # the canceled read, whose order no earlier run has proven: at 20 a page they straddle
    # two boundaries, and that read is the only one that lists them.
    readings = "canceled_listed=when_asked,tie_order=random"
    with start_emulator(seed=5, events=300, readings=readings) as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=20)
        active = [dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == "active"]
        with client_for(emulator) as client:
            client.call("event_cancel_list", body={"ids": active[:45]})

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert_events_match(settings, emulator)


@pytest.mark.parametrize("kind", ["null_id", "text_id"])
def test_a_canceled_booking_served_without_a_readable_id_is_set_aside_not_a_crash(tmp_path, kind):
    # Listed only when asked, one canceled booking comes with `"id": null` (or a text): the
    # run sets it aside and lands every other one.
    with start_emulator(seed=4, events=300, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=20)
        canceled = [dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == "canceled"]
        emulator.set_anomalies(f"{kind}={canceled[3]},endpoints=event_list")

        summary = run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert summary.rejected_rows == 1  # exit 9 on the command line
        landed = query(settings, "select id from raw.events where state = 'canceled'")
        assert {row[0] for row in landed} == set(canceled) - {canceled[3]}


def test_canceled_pages_showing_fewer_events_than_counted_are_read_again(tmp_path):
    # The first canceled read's page 2 serves page 1's first row in place of its own last (a
    # row served twice stands where another was not): every page agrees with its meta, no
    # stamp ties across a boundary, and one canceled booking is on no page.
    with start_emulator(seed=4, events=300, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=20)
        replaced: list[int] = []

        _sync_through(settings, emulator, _one_canceled_row_in_place_of_another(replaced, 1))

        assert replaced
        assert_events_match(settings, emulator)


def test_canceled_pages_showing_fewer_events_than_counted_on_every_read_fail_the_run(tmp_path):
    with start_emulator(seed=4, events=300, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=20)

        with pytest.raises(Exception) as failed:
            _sync_through(settings, emulator, _one_canceled_row_in_place_of_another([]))

        assert exit_code_for(failed.value)[0] == EXIT_INCOMPLETE


def test_a_canceled_booking_deleted_between_two_reads_stands_in_for_no_unshown_one(tmp_path):
    # As above, one booking on no page on every read; before the second read, one the first
    # read showed is deleted: the ids shown over both reads still hold one per count.
    with start_emulator(seed=4, events=300, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=10)
        fault = _one_canceled_row_in_place_of_another([])
        reads: list[str] = []
        deleted: list[int] = []

        def delete_before_the_second_read(
            up: httpx.Client, path: str, pairs: Any, body: bytes | None, headers: dict
        ) -> httpx.Response:
            asked = dict(pairs)
            if asked.get("filter[state]") == "canceled" and not asked.get("filter[ids][]"):
                if asked.get("page") == "1" and reads.count("last") == 1 and not deleted:
                    oldest = min(
                        (dto for dto in live_event_dtos(emulator) if dto["state"] == "canceled"),
                        key=lambda dto: (dto["updatedAt"], dto["id"]),
                    )
                    deleted.append(oldest["id"])
                    with client_for(emulator) as client:
                        client.event_delete(oldest["id"])
                reply = fault(up, path, pairs, body, headers)
                meta = reply.json().get("meta") or {}
                if int(asked.get("page", 1)) >= int(meta.get("pagesCount") or 10**9):
                    reads.append("last")
                return reply
            return served(up, path, pairs, body, headers)

        with pytest.raises(Exception) as failed:
            _sync_through(settings, emulator, delete_before_the_second_read)

        assert deleted
        assert exit_code_for(failed.value)[0] == EXIT_INCOMPLETE


def test_bookings_canceled_after_the_first_canceled_page_stand_in_for_no_unshown_one(tmp_path):
    # One booking is on no page of any read (page 13 serves page 12's first row in place of
    # its own last). A cancel before page 2 shifts page 1's last row onto it: taken for a tie,
    # a page of 100 is read, which holds the new cancel, not counted by page 1.
    with start_emulator(seed=4, events=600, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=10)
        more = [dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == "active"][-60:]
        with client_for(emulator) as client:
            client.call("event_cancel_list", body={"ids": more})
        for offset, event_id in enumerate(more):  # a second each, an hour ago: no ties
            stamp_together(emulator.store, [event_id], int(time.time()) - 3600 + offset)
        canceled: list[int] = []
        first_of_page_12: list[dict[str, Any]] = []

        def cancel_then_hide_one(
            up: httpx.Client, path: str, pairs: Any, body: bytes | None, headers: dict
        ) -> httpx.Response:
            asked = dict(pairs)
            if asked.get("filter[state]") != "canceled" or asked.get("onPage") != "10":
                return served(up, path, pairs, body, headers)
            if asked.get("page") == "2" and not canceled:
                canceled.append(
                    next(d["id"] for d in live_event_dtos(emulator) if d["state"] == "active")
                )
                with client_for(emulator) as client:
                    client.event_cancel(canceled[0])
            reply = served(up, path, pairs, body, headers)
            page = reply.json()
            if asked.get("page") == "12":
                first_of_page_12[:] = page["items"][:1]
            elif asked.get("page") == "13" and first_of_page_12:
                page["items"][-1] = first_of_page_12[0]
                return httpx.Response(reply.status_code, json=page)
            return reply

        with pytest.raises(Exception) as failed:
            _sync_through(settings, emulator, cancel_then_hide_one)

        assert canceled
        assert exit_code_for(failed.value)[0] == EXIT_INCOMPLETE


def _one_canceled_row_in_place_of_another(replaced: list[int], reads: int | None = None) -> Any:
    """An answer serving, on page 2 of the canceled events' first `reads` reads (every one
    for None), page 1's first row in place of its own last; `replaced` gets the ids left out."""
    first_of_page_1: list[dict[str, Any]] = []

    def answer(
        up: httpx.Client, path: str, pairs: Any, body: bytes | None, headers: dict
    ) -> httpx.Response:
        reply = served(up, path, pairs, body, headers)
        if ("filter[state]", "canceled") not in pairs or len(replaced) == reads:
            return reply
        page = reply.json()
        if ("page", "1") in pairs:
            first_of_page_1[:] = page["items"][:1]
        elif ("page", "2") in pairs and first_of_page_1:
            replaced.append(page["items"][-1]["id"])
            page["items"][-1] = first_of_page_1[0]
            return httpx.Response(reply.status_code, json=page)
        return reply

    return answer


def _assert_bulk_cancels_land_canceled(tmp_path: Any, groups: list[int]) -> None:
    """On a server listing canceled bookings only when asked and ordering ties anew on every
    request, synced at 20 a page: cancel `groups` of active bookings, each in one request a
    second after the one before; the next run (no reconcile) lands them all canceled."""
    readings = "canceled_listed=when_asked,tie_order=random"
    with start_emulator(seed=5, events=300, readings=readings) as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=20)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        active = [dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == "active"]
        with client_for(emulator) as client:
            for number, size in enumerate(groups):
                if number:
                    time.sleep(1.1)  # the next second: this group is stamped above the last
                taken, active = active[:size], active[size:]
                client.call("event_cancel_list", body={"ids": taken})
        before = len(emulator.requests)
        run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)

        assert_events_match(settings, emulator)
        # What the page spanning a tie read is not taken for a row served twice.
        by_id = [r for r in emulator.requests[before:] if "filter%5Bids%5D" in r.query]
        assert by_id == []


def test_new_unstamped_events_are_read_from_a_server_ignoring_the_id_order(tmp_path):
    # Asked newest id first, it answers its default order (oldest first): a first page of
    # low ids says nothing of the new ones.
    made, landed = _new_unstamped_events_landed(
        tmp_path, 3, events=300, readings="ignored_order=id"
    )

    assert landed == made


def test_an_old_event_changed_is_read_from_a_server_ignoring_the_updated_at_order(tmp_path):
    # Asked newest updatedAt first, it answers newest id first: the new bookings' stamps fall
    # with their ids, as if ordered, and an old event changed since sits where its id is.
    with start_emulator(
        seed=4, events=200, readings="ignored_order=updatedAt,default_order=id_desc"
    ) as emulator:
        settings = settings_for(tmp_path, emulator, lag_seconds=0).with_overrides(
            "api", page_size=10
        )
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        book_events(emulator, 15)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        with client_for(emulator) as client:
            client.event_notes(5, notes="changed long after it was booked")

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert_events_match(settings, emulator)


@pytest.mark.parametrize("asked", ["desc", "both"], ids=["newest-id-first", "direction-asked"])
def test_an_old_event_changed_is_read_from_a_server_sorting_by_id_in_the_direction_asked(
    tmp_path, asked
):
    # It sorts by id whatever field is asked, in the direction asked (or newest id first
    # either way): asked oldest first, it opens with another row than newest first, as a
    # server honouring updatedAt would. The old event changed since sits where its id is.
    readings = "ignored_order=updatedAt,default_order=id_desc"
    if asked == "both":
        readings += ",ignored_direction=asked"
    with start_emulator(seed=4, events=200, readings=readings) as emulator:
        # Bookings never updated since they were made: their stamps rise with their ids, and
        # a list by id falls with the stamps, as one by updatedAt would.
        ids = sorted(emulator.store.all_event_ids())
        for offset, event_id in enumerate(ids):
            stamp_together(emulator.store, [event_id], int(time.time()) - 3600 + offset)
        settings = settings_for(tmp_path, emulator, lag_seconds=0).with_overrides(
            "api", page_size=10
        )
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        book_events(emulator, 15)
        with client_for(emulator) as client:
            client.event_notes(5, notes="changed long after it was booked")

        run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)

        assert_events_match(settings, emulator)


@pytest.mark.parametrize(
    "readings",
    ["canceled_listed=when_asked", "canceled_listed=when_asked,order_fields=id|createdAt"],
    ids=["ordered", "updated-at-order-refused"],
)
def test_a_first_sync_of_a_server_listing_canceled_bookings_only_when_asked_lands_them(
    tmp_path, readings
):
    with start_emulator(seed=4, events=200, readings=readings) as emulator:
        settings = settings_for(tmp_path, emulator)

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        canceled = query(settings, "select count(*) from raw.events where state = 'canceled'")
        assert canceled[0][0] > 0
        assert_events_match(settings, emulator)


def test_a_first_sync_at_a_small_page_size_lands_every_booking_listed_only_when_asked(tmp_path):
    # Five a page, the first sync asks by id for the ids between its pages, canceled ones
    # among them: a canceled page of nothing else is no sign the list holds them.
    with start_emulator(seed=4, events=600, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=5)

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert_events_match(settings, emulator)


def test_bookings_canceled_on_a_server_listing_canceled_ones_only_when_asked_land_canceled(
    tmp_path,
):
    # Its list (and its count) leaves canceled events out unless filter[state] asks for one.
    with start_emulator(seed=4, events=200, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        canceled = [dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == "active"]
        with client_for(emulator) as client:
            for event_id in canceled[:3]:
                client.event_cancel(event_id)

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert_events_match(settings, emulator)


def test_a_run_after_a_cancel_on_a_server_listing_canceled_ones_only_when_asked_reads_no_ids(
    tmp_path,
):
    # Its count leaves the warehouse's canceled events out; with the canceled read's own
    # count added the totals agree, and no read of every id looks for deletions.
    with start_emulator(seed=4, events=200, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        active = [dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == "active"]
        with client_for(emulator) as client:
            client.event_cancel(active[0])
        before = len(emulator.requests)

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        asked = emulator.requests[before:]
        assert [r for r in asked if r.query.count("filter%5Bids%5D") > 1] == []
        assert_events_match(settings, emulator)


@pytest.mark.parametrize("state", ["active", "canceled"])
def test_an_event_deleted_on_a_server_listing_canceled_ones_only_when_asked_is_marked_deleted(
    tmp_path, state
):
    with start_emulator(seed=4, events=200, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        gone = next(dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == state)
        with client_for(emulator) as client:
            client.event_delete(gone)

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert query(settings, f"select deleted_at is not null from raw.events where id = {gone}")
        assert_events_match(settings, emulator)


def test_as_many_deletions_as_canceled_events_on_a_server_listing_them_are_all_marked_deleted(
    tmp_path,
):
    # The list's count plus the canceled read's equals the warehouse's by chance: the list
    # holds its canceled events, so the deletions are looked for all the same.
    with start_emulator(seed=4, events=200) as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        dtos = live_event_dtos(emulator)
        canceled = sum(1 for dto in dtos if dto["state"] == "canceled")
        gone = [dto["id"] for dto in dtos if dto["state"] == "active"][:canceled]
        with client_for(emulator) as client:
            for event_id in gone:
                client.event_delete(event_id)

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert_events_match(settings, emulator)


def test_as_many_deletions_as_canceled_events_on_a_server_ignoring_the_ids_filter_are_found(
    tmp_path,
):
    # Asked for one canceled event by id, it answers its list's first row: that is no sign
    # its list leaves canceled events out.
    def ids_ignored(
        up: httpx.Client, path: str, pairs: Any, body: bytes | None, headers: dict
    ) -> httpx.Response:
        pairs = [(key, value) for key, value in pairs if not key.startswith("filter[ids]")]
        return served(up, path, pairs, body, headers)

    with start_emulator(seed=1, events=40) as emulator:
        settings = settings_for(tmp_path, emulator)
        _sync_through(settings, emulator, ids_ignored)
        dtos = live_event_dtos(emulator)
        canceled = sum(1 for dto in dtos if dto["state"] == "canceled")
        gone = [dto["id"] for dto in dtos if dto["state"] == "active"][:canceled]
        with client_for(emulator) as client:
            for event_id in gone:
                client.event_delete(event_id)

        _sync_through(settings, emulator, ids_ignored)

        assert_events_match(settings, emulator)


def test_a_canceled_event_deleted_after_a_reconcile_on_a_server_listing_them_apart_is_found(
    tmp_path,
):
    # The reconcile after a booked event's delete leaves the list's count and the warehouse's
    # apart by the canceled events alone: not figures to keep from the next reconcile.
    with start_emulator(seed=1, events=40, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        dtos = live_event_dtos(emulator)
        booked = next(dto["id"] for dto in dtos if dto["state"] == "active")
        canceled = next(dto["id"] for dto in dtos if dto["state"] == "canceled")
        with client_for(emulator) as client:
            client.event_delete(booked)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        with client_for(emulator) as client:
            client.event_delete(canceled)

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert_events_match(settings, emulator)


def test_a_canceled_booking_a_delete_shifts_between_two_canceled_pages_still_lands(tmp_path):
    # Listed only when asked, the canceled bookings have no other read: a delete on their
    # page 1 just before page 2 is served moves a row from page 2 onto page 1, read by neither.
    with start_emulator(seed=4, events=300, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=20)
        canceled = sorted(
            (dto for dto in live_event_dtos(emulator) if dto["state"] == "canceled"),
            key=lambda dto: (dto["updatedAt"], dto["id"]),
            reverse=True,
        )
        assert len(canceled) > 20
        deleted: list[int] = []

        def delete_before_page_2(
            up: httpx.Client, path: str, pairs: Any, body: bytes | None, headers: dict
        ) -> httpx.Response:
            if not deleted and ("filter[state]", "canceled") in pairs and ("page", "2") in pairs:
                deleted.append(canceled[0]["id"])
                with client_for(emulator) as client:
                    client.event_delete(deleted[0])
            return served(up, path, pairs, body, headers)

        _sync_through(settings, emulator, delete_before_page_2)

        assert deleted
        assert_events_match(settings, emulator)


def test_a_cancel_then_a_delete_between_canceled_pages_still_lands_every_canceled_booking(
    tmp_path,
):
    # A cancel before page 2 and a delete of a row page 1 held before page 3: page 3 states
    # page 1's count, one row short of page 2's.
    with start_emulator(seed=4, events=300, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=10)
        done: list[str] = []

        def newest(state: str, rank: int = 0) -> int:
            return sorted(
                (dto for dto in live_event_dtos(emulator) if dto["state"] == state),
                key=lambda dto: (dto["updatedAt"], dto["id"]),
                reverse=True,
            )[rank]["id"]

        def cancel_then_delete(
            up: httpx.Client, path: str, pairs: Any, body: bytes | None, headers: dict
        ) -> httpx.Response:
            if ("filter[state]", "canceled") in pairs:
                with client_for(emulator) as client:
                    if ("page", "2") in pairs and not done:
                        client.event_cancel(newest("active"))
                        done.append("canceled")
                    elif ("page", "3") in pairs and done == ["canceled"]:
                        # Not the one just canceled: one page 1 held.
                        client.event_delete(newest("canceled", rank=1))
                        done.append("deleted")
            return served(up, path, pairs, body, headers)

        _sync_through(settings, emulator, cancel_then_delete)

        assert done == ["canceled", "deleted"]
        # The booking deleted mid-run is the next run's to mark deleted; none is missing.
        upstream = {dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == "canceled"}
        landed = query(settings, "select id from raw.events where state = 'canceled'")
        assert upstream <= {row[0] for row in landed}


def test_canceled_pages_that_lose_a_row_on_every_read_fail_the_run_and_the_next_converges(
    tmp_path,
):
    with start_emulator(seed=4, events=300, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=20)

        def delete_before_each_page_2(
            up: httpx.Client, path: str, pairs: Any, body: bytes | None, headers: dict
        ) -> httpx.Response:
            if ("filter[state]", "canceled") in pairs and ("page", "2") in pairs:
                newest = max(
                    (dto for dto in live_event_dtos(emulator) if dto["state"] == "canceled"),
                    key=lambda dto: (dto["updatedAt"], dto["id"]),
                )
                with client_for(emulator) as client:
                    client.event_delete(newest["id"])
            return served(up, path, pairs, body, headers)

        with pytest.raises(Exception) as failed:
            _sync_through(settings, emulator, delete_before_each_page_2)
        assert exit_code_for(failed.value)[0] == EXIT_INCOMPLETE

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert_events_match(settings, emulator)


def test_canceled_pages_whose_page_size_changes_between_them_fail_the_run_and_the_next_converges(
    tmp_path,
):
    # Page 1 of every canceled read is served 10 rows a page (its meta says so), the pages
    # after it 20 as asked: rows 11-20 are on neither page as read.
    with start_emulator(seed=4, events=300, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=20)

        def page_1_capped(
            up: httpx.Client, path: str, pairs: Any, body: bytes | None, headers: dict
        ) -> httpx.Response:
            if ("filter[state]", "canceled") in pairs and ("page", "1") in pairs:
                pairs = [(key, "10" if key == "onPage" else value) for key, value in pairs]
            return served(up, path, pairs, body, headers)

        with pytest.raises(Exception) as failed:
            _sync_through(settings, emulator, page_1_capped)
        assert exit_code_for(failed.value)[0] == EXIT_INCOMPLETE

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert_events_match(settings, emulator)


def test_a_booking_made_unstamped_beside_one_canceled_mid_run_lands_by_the_next_run(tmp_path):
    # Served without updatedAt (sorted after every stamp), a new booking is found only by the
    # read above the last id. One made and canceled just after, read with the canceled ones,
    # must not move the last id past it.
    with start_emulator(seed=4, events=300, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=10)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        # More cancellations since than a page holds: the canceled read goes past page 1.
        active = [dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == "active"]
        with client_for(emulator) as client:
            for event_id in active[:11]:
                client.event_cancel(event_id)
        made: list[int] = []

        def book_after_the_newest_ids(
            up: httpx.Client, path: str, pairs: Any, body: bytes | None, headers: dict
        ) -> httpx.Response:
            answer = served(up, path, pairs, body, headers)
            newest_ids = ("orderField", "id") in pairs and ("orderDirection", "desc") in pairs
            if newest_ids and not made:
                (unstamped,) = book_events(emulator, 1, month=5)
                emulator.set_anomalies(f"null_updated={unstamped}")
                (canceled,) = book_events(emulator, 1, month=6)
                with client_for(emulator) as client:
                    client.event_cancel(canceled)
                made.extend([unstamped, canceled])
            return answer

        with (
            behind(emulator, book_after_the_newest_ids) as url,
            SimplyMeetClient(url, api_key=emulator.api_key, concurrency=4) as client,
        ):
            request = SyncRequest(resources=list(EVENTS_ONLY), build_models=False, reconcile=False)
            sync(settings, client, request)

        run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)

        assert made and landed_count(settings, made) == 2


def test_a_booking_canceled_once_a_run_has_asked_for_the_canceled_ones_lands_canceled_next_run(
    tmp_path,
):
    # A run asks for the canceled bookings' first page as its scan starts; a booking canceled
    # after that answer, which the scan's newest-first pages never reach, is for the next
    # run's window to find.
    with start_emulator(seed=4, events=300, readings="canceled_listed=when_asked") as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=20)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        oldest = min(dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == "active")
        emulator.reset_log()
        emulator.set_faults("latency=150,endpoints=event_list")

        def cancel_once_answered() -> None:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if any("canceled" in r.query for r in emulator.requests):
                    with client_for(emulator) as client:
                        client.event_cancel(oldest)
                    return
                time.sleep(0.01)

        canceler = threading.Thread(target=cancel_once_answered)
        canceler.start()
        # No closing count: it would find the booking gone from the list in the same run.
        run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)
        canceler.join()
        emulator.set_faults(None)

        run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)

        assert query(settings, f"select state from raw.events where id = {oldest}") == [
            ("canceled",)
        ]
        assert_events_match(settings, emulator)


def test_a_booking_canceled_past_the_first_page_of_a_server_ignoring_the_order_lands_canceled(
    tmp_path,
):
    # Canceled events listed only when asked, in the server's own order (oldest id first):
    # the first page of the canceled ones holds old cancellations, and a read that stops at
    # a page reaching below its start, as if the list were newest first, never sees the rest.
    readings = "canceled_listed=when_asked,ignored_order=updatedAt"
    with start_emulator(seed=4, events=300, readings=readings) as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=20)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        [newest] = [dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == "active"][-1:]
        with client_for(emulator) as client:
            client.event_cancel(newest)

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert query(settings, f"select state from raw.events where id = {newest}") == [
            ("canceled",)
        ]
        assert_events_match(settings, emulator)


def test_a_server_whose_last_page_states_its_own_length_is_read_without_a_gap(tmp_path):
    # 237 events, pages of 100: the third says itemsPerPage 37.
    with start_emulator(seed=4, events=237, readings="meta=last_own_length") as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        with client_for(emulator) as client:
            client.event_notes(5, notes="changed")

        since = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # every page newest first
        run_sync(settings, emulator, resources=EVENTS_ONLY, since=since)

        assert_events_match(settings, emulator)


def test_rows_tied_across_pages_of_a_server_ignoring_the_updated_at_order_exit_0(tmp_path):
    from simplymeet.emulator.drift import stamp_together

    # Newest id first whatever is asked: three events of one bulk change straddle pages 1
    # and 2 (ids 192-190 of 200, ten a page), a tie only the updatedAt order would make a gap.
    with start_emulator(
        seed=4, events=200, readings="ignored_order=updatedAt,default_order=id_desc"
    ) as emulator:
        settings = settings_for(tmp_path, emulator, lag_seconds=0).with_overrides(
            "api", page_size=10
        )
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        stamp_together(emulator.store, [192, 191, 190], int(time.time()) - 5)

        run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)

        assert_events_match(settings, emulator)


def test_a_server_ignoring_the_updated_at_order_whose_pages_hold_fewer_than_it_counts_exits_8(
    tmp_path,
):
    with start_emulator(
        seed=4, events=200, readings="ignored_order=updatedAt,default_order=id_desc"
    ) as emulator:
        settings = settings_for(tmp_path, emulator, lag_seconds=0).with_overrides(
            "api", page_size=10
        )
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        with client_for(emulator) as client:
            client.event_notes(5, notes="changed long after it was booked")
        emulator.set_anomalies("unlisted=150,endpoints=event_list")

        with pytest.raises(Exception) as excinfo:
            run_sync(settings, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert _incomplete(excinfo)


def _new_unstamped_events_landed(tmp_path, count: int, **emulator: Any) -> tuple[int, int]:
    """A sync, `count` new events served without updatedAt, a sync: (made, landed)."""
    with start_emulator(seed=4, **emulator) as running:
        settings = settings_for(tmp_path, running)
        run_sync(settings, running, resources=EVENTS_ONLY)
        made = book_events(running, count)
        _served_without_updated_at(running, made)
        run_sync(settings, running, resources=EVENTS_ONLY)
        return len(made), landed_count(settings, made)


# --- ids far apart ---------------------------------------------------------------------------


def test_ids_too_far_apart_to_ask_for_are_proven_by_the_servers_count(tmp_path, monkeypatch):
    # A real account's ids may come from a sequence other records share: between two pages
    # lie more ids than the sync asks for one by one (a cap of 20,000, lowered here).
    monkeypatch.setattr("simplymeet.sync.events.ID_CHECK_CAP", 50)
    with start_emulator(seed=6, events=600) as emulator:
        with emulator.store.lock:
            emulator.store.cols.col("deleted")[100:380] = True
            emulator.store.changed()
        settings = settings_for(tmp_path, emulator)
        summary = run_sync(settings, emulator, resources=EVENTS_ONLY)
        again = run_sync(settings, emulator, resources=EVENTS_ONLY)
        assert_events_match(settings, emulator)

    assert summary.tables[0].rows_after == 320
    assert again.tables[0].loaded == 0


_GONE = {"id": 999_001, "email": "left@example.com", "createdAt": "2026-01-01T00:00:00+00:00"}
"""A participant the booking had a moment before the run read it again."""


def _read_in_two_versions(emulator: RunningEmulator, *, failing_by_id: bool = False) -> Any:
    """A booking canceled just now, and an `Answer` whose newest-first read serves it as it
    was a moment before (with `_GONE` among its participants) while the canceled events'
    read serves it as it is; with `failing_by_id`, reads by id answer 503."""
    event_id = next(i for i in emulator.store.all_event_ids() if _is_active(emulator, i))
    with client_for(emulator) as client:
        client.event_cancel(event_id, reason="moved away")

    def answer(up, path, pairs, body, headers):
        if failing_by_id and any(k.startswith("filter[ids]") for k, _ in pairs):
            return httpx.Response(503, json={"message": "try later"})
        reply = served(up, path, pairs, body, headers)
        if not path.rstrip("/").endswith("/event") or any(
            k.startswith("filter[") for k, _ in pairs
        ):
            return reply
        page = reply.json()
        for item in page.get("items") or []:
            if item["id"] == event_id:
                item["participants"] = [*item["participants"], _GONE]
                stamp = parse_api_datetime(item["updatedAt"]) - dt.timedelta(seconds=1)
                item["updatedAt"] = stamp.isoformat()
        return httpx.Response(reply.status_code, json=page)

    return event_id, answer


def _sync_through(synced, emulator: RunningEmulator, answer: Any, **client: Any) -> None:
    """An events-only sync of `emulator` through a proxy answering with `answer`."""
    with (
        behind(emulator, answer) as base_url,
        SimplyMeetClient(base_url, api_key=emulator.api_key, concurrency=4, **client) as c,
    ):
        sync(synced, c, SyncRequest(resources=list(EVENTS_ONLY), build_models=False))


def _participants(synced, event_id: int) -> list[int]:
    rows = query(synced, f"select id from raw.events__participants where event_id = {event_id}")
    return sorted(i for (i,) in rows)


def _served_participants(emulator: RunningEmulator, event_id: int) -> list[int]:
    return sorted(p["id"] for p in emulator.store.event_dto(event_id)["participants"])


def test_an_event_read_in_two_versions_in_one_run_keeps_only_the_newer_ones_child_rows(
    synced, emulator
):
    # Both versions load under the run's stamp: the newer parent row, the child rows of both.
    event_id, answer = _read_in_two_versions(emulator)

    _sync_through(synced, emulator, answer, max_retries=0)

    assert _participants(synced, event_id) == _served_participants(emulator, event_id)


def test_an_event_read_in_two_versions_keeps_its_child_rows_when_its_read_by_id_serves_nothing(
    synced, emulator
):
    # Canceled while the run read (active to its newest-first read, canceled to its read of
    # the canceled events) on a server listing a canceled booking only when asked for its
    # state: read again by id, it is not served, and none of its child rows may go.
    event_id = next(
        i
        for i in emulator.store.all_event_ids()
        if _is_active(emulator, i) and emulator.store.event_dto(i)["participants"]
    )
    emulator.set_readings("canceled_listed=when_asked")

    with client_for(emulator) as client:  # changed just before: the run reads it
        client.call("event_notes", path_params={"id": event_id}, body={"notes": "moving"})
    time.sleep(1.1)  # the cancel a second later: two versions, not two contents of one stamp

    def canceled_meanwhile(up, path, pairs, body, headers):
        if ("filter[state]", "canceled") in pairs and _is_active(emulator, event_id):
            with client_for(emulator) as client:
                client.event_cancel(event_id, reason="moved away")
        return served(up, path, pairs, body, headers)

    _sync_through(synced, emulator, canceled_meanwhile, max_retries=0)

    assert query(synced, f"select state from raw.events where id = {event_id}") == [("canceled",)]
    assert _participants(synced, event_id) == _served_participants(emulator, event_id)


def test_an_event_read_in_two_versions_by_a_run_that_failed_is_mended_by_the_next(synced, emulator):
    event_id, answer = _read_in_two_versions(emulator, failing_by_id=True)
    with pytest.raises(Exception):  # noqa: B017 - the server's 503, as the run ends on it
        _sync_through(synced, emulator, answer, max_retries=0)

    run_sync(synced, emulator, resources=EVENTS_ONLY)

    assert _participants(synced, event_id) == _served_participants(emulator, event_id)


def _is_active(emulator: RunningEmulator, event_id: int) -> bool:
    return (emulator.store.event_dto(event_id) or {}).get("state") == "active"
