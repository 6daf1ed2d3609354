"""A second read of an event type's availability the same day replaces its snapshot of the day,
whatever it answers; a read that fails replaces nothing.

The merge on (snapshot_date, event_type_id) deletes only the keys a load has rows for, so these
are the reads that land none: fully booked, disabled (400), deleted upstream.
"""

from __future__ import annotations

import datetime as dt

import pytest

from simplymeet.client import RetryPolicy, ServerError, SimplyMeetClient
from simplymeet.config import Settings
from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.sync import SyncRequest, sync
from simplymeet.sync import per_type_refresh as ptr
from tests.sync_support import client_for, query, run_sync
from tests.synced_template import synced_copy

HORIZON_DAYS = 3
AVAILABILITY = ("availability",)
FAST = RetryPolicy(max_retries=1, backoff_base=0.001, max_delay=0.01)


@pytest.fixture
def small_emulator():
    """An emulator with few events: these tests are about the availability reads."""
    with start_emulator(seed=3, events=50) as emu:
        yield emu


@pytest.fixture
def synced(tmp_path_factory, tmp_path, small_emulator: RunningEmulator) -> Settings:
    """Settings (24-hour cadence) of a warehouse after one full sync of `small_emulator`."""
    return synced_copy(
        tmp_path_factory,
        tmp_path,
        small_emulator,
        per_event_type_refresh_hours=24.0,
        availability_horizon_days=HORIZON_DAYS,
        reconcile_every_hours=1000.0,
    )


def _today_rows(settings: Settings, table: str) -> dict[int, int]:
    """Rows per event type in today's snapshot of `table`."""
    rows = query(
        settings,
        f"select event_type_id, count(*) from raw.{table} "
        f"where snapshot_date = '{dt.datetime.now(dt.UTC).date().isoformat()}' group by 1",
    )
    return dict(rows)


def _offering(settings: Settings) -> int:
    """An event type with slots in today's snapshot (the first one)."""
    return min(_today_rows(settings, "event_type_availability_slots"))


def test_a_type_fully_booked_since_the_first_read_keeps_no_slots_in_todays_snapshot(
    synced, small_emulator
):
    booked = _offering(synced)
    today = dt.datetime.now(dt.UTC).date()
    days_off = [
        {"type": "date", "config": {"date": (today + dt.timedelta(days=k)).isoformat()}}
        for k in range(-1, HORIZON_DAYS + 1)  # a day either side: the type's timezone
    ]
    with client_for(small_emulator) as client:
        client.availability_rule_save(
            {"eventTypeIds": [booked], "availabilityRules": days_off, "availabilityType": "date"}
        )

    run_sync(synced, small_emulator, resources=AVAILABILITY, full_refresh=True)

    slots = _today_rows(synced, "event_type_availability_slots")
    assert booked not in slots
    assert slots  # the other types' snapshots stay


def test_a_type_disabled_and_refused_with_400_keeps_nothing_in_todays_snapshot(
    synced, small_emulator
):
    disabled = small_emulator.store.event_type_by_id(_offering(synced))
    assert disabled is not None
    with small_emulator.store.lock:
        disabled.is_enabled = False
        small_emulator.store.changed(rendered=True)  # a changed type is read again at once
    small_emulator.set_readings("disabled_availability=400")

    run_sync(synced, small_emulator, resources=AVAILABILITY)

    assert disabled.id not in _today_rows(synced, "event_type_availability_slots")
    assert disabled.id not in _today_rows(synced, "event_type_availability_days")


def test_a_type_deleted_upstream_keeps_nothing_in_todays_snapshot(synced, small_emulator):
    deleted = _offering(synced)
    small_emulator.store.delete_event_type(deleted)

    run_sync(synced, small_emulator, resources=AVAILABILITY)

    assert deleted not in _today_rows(synced, "event_type_availability_slots")
    assert deleted not in _today_rows(synced, "event_type_availability_days")


def test_an_availability_read_that_fails_keeps_todays_snapshot_and_fails_the_run(
    synced, small_emulator
):
    before = _today_rows(synced, "event_type_availability_slots")
    small_emulator.set_faults("500=1,endpoints=event_type_availability")

    with (
        pytest.raises(ServerError, match=r"^availability not read \(kept as they were"),
        SimplyMeetClient(
            small_emulator.base_url, api_key=small_emulator.api_key, retry=FAST
        ) as client,
    ):
        sync(
            synced,
            client,
            SyncRequest(resources=AVAILABILITY, full_refresh=True, build_models=False),
        )

    assert before and _today_rows(synced, "event_type_availability_slots") == before


# --- the plan's record of reads -------------------------------------------------------------

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
TODAY = ptr.Refresh(every_hours=24.0, now=NOW, snapshot_date=NOW.date())


def test_plan_remembers_a_type_no_longer_listed_as_read_gone_on_that_snapshot_date():
    plan = ptr.RefreshPlan({})
    plan.record([1, 2], {1: "a", 2: "b"}, TODAY)

    plan.record([], {2: "b"}, ptr.Refresh(24.0, NOW + dt.timedelta(hours=1), NOW.date()))

    assert ptr.SnapshotRead(1, NOW.date(), NOW + dt.timedelta(hours=1)) in plan.snapshot_reads()


def test_plan_forgets_a_gone_type_once_the_snapshot_date_moves_on():
    plan = ptr.RefreshPlan({})
    plan.record([1], {1: "a"}, TODAY)
    plan.record([], {}, TODAY)
    tomorrow = NOW + dt.timedelta(days=1)

    plan.record([], {}, ptr.Refresh(24.0, tomorrow, tomorrow.date()))

    assert plan.snapshot_reads() == []
