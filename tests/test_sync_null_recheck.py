"""An event served with a core field null is read again by id in the next run (issue 10:
what a live account serves that a lab does not; `sync/null_recheck.py`).

A server whose join or cache misses once serves an event without its invitee, type or date.
The run lands what it was served; the next run reads such events again by id, so the miss
does not outlive it, and a null served on that read as well is the server's answer until
the reconcile's cadence asks again.
"""

from __future__ import annotations

import datetime as dt

import pytest

from simplymeet.emulator import RunningEmulator
from simplymeet.emulator.drift import stamp_future
from simplymeet.sync import null_recheck
from tests.sync_support import (
    assert_events_match,
    client_for,
    live_event_dtos,
    query,
    run_sync,
    settings_for,
)

NULLED = (7, 1500)
CORE = "invitee_email, event_type_id, scheduled_at"


def _core_fields(settings, event_id: int) -> tuple:
    [row] = query(settings, f"select {CORE} from raw.events where id = {event_id}")
    return row


def _first_sync_with_nulls(tmp_path, emulator: RunningEmulator, anomaly: str = ""):
    emulator.set_anomalies(anomaly or "nulled=" + "|".join(map(str, NULLED)))
    settings = settings_for(tmp_path, emulator, resources=["events"])
    run_sync(settings, emulator)
    return settings


def test_the_run_lands_the_nulls_it_was_served(tmp_path, emulator):
    settings = _first_sync_with_nulls(tmp_path, emulator)
    assert _core_fields(settings, NULLED[0]) == (None, None, None)


def test_the_next_run_lands_the_fields_the_server_serves_again(tmp_path, emulator):
    settings = _first_sync_with_nulls(tmp_path, emulator)
    emulator.set_anomalies(None)
    summary = run_sync(settings, emulator)
    assert summary.events_rechecked == len(NULLED)
    assert_events_match(settings, emulator)


def test_a_canceled_event_served_null_on_a_server_listing_it_only_when_asked_is_mended(
    tmp_path, emulator
):
    # Its read by id asks for the ids in the list, which leaves canceled events out unless
    # a state is asked for: the ids it leaves out are asked for as canceled ones.
    emulator.set_readings("canceled_listed=when_asked")
    [canceled] = [e["id"] for e in live_event_dtos(emulator) if e["state"] == "canceled"][:1]
    settings = _first_sync_with_nulls(tmp_path, emulator, f"nulled={canceled}")
    assert _core_fields(settings, canceled) == (None, None, None)
    emulator.set_anomalies(None)

    run_sync(settings, emulator)

    assert None not in _core_fields(settings, canceled)
    assert_events_match(settings, emulator)


def test_an_unchanged_event_still_null_after_its_recheck_is_not_read_a_third_time(
    tmp_path, emulator
):
    settings = _first_sync_with_nulls(tmp_path, emulator)
    assert run_sync(settings, emulator).events_rechecked == len(NULLED)
    assert run_sync(settings, emulator).events_rechecked == 0
    assert _core_fields(settings, NULLED[0]) == (None, None, None)


def test_a_run_on_the_reconcile_s_cadence_asks_again_for_nulls_served_twice(tmp_path, emulator):
    # The server's glitch lasted across both reads; it serves the fields again since.
    settings = _first_sync_with_nulls(tmp_path, emulator)
    run_sync(settings, emulator)
    emulator.set_anomalies(None)

    summary = run_sync(settings, emulator, reconcile=True)

    assert summary.events_rechecked == len(NULLED)
    assert_events_match(settings, emulator)


def test_a_reconciling_run_lands_what_its_read_by_id_serves_for_rows_stamped_minutes_ago(
    tmp_path, emulator
):
    # Stamped below the lag's window and within the reconcile's look back, whose rows served
    # as the warehouse holds them are not loaded again: the read by id must be.
    for event_id in NULLED:
        stamp_future(emulator.store, event_id, ahead_seconds=-600)
    stamp_future(emulator.store, 3, ahead_seconds=0)  # the newest change: the cursor is now
    nulled = "nulled=" + "|".join(map(str, NULLED)) + ",nulled_fields=endDate|invitee.email"
    settings = _first_sync_with_nulls(tmp_path, emulator, nulled)
    emulator.set_anomalies(None)

    summary = run_sync(settings, emulator, reconcile=True)

    assert summary.events_rechecked == len(NULLED)
    assert_events_match(settings, emulator)


def test_a_null_served_again_in_a_run_that_set_rows_aside_is_asked_once_more(tmp_path, emulator):
    settings = _first_sync_with_nulls(tmp_path, emulator)
    # The recheck's run finds the server glitching elsewhere too: a row it must set aside.
    with client_for(emulator) as client:
        client.event_notes(3, notes="read by the next run")
    emulator.set_anomalies("nulled=" + "|".join(map(str, NULLED)) + ",null_id=3")
    assert run_sync(settings, emulator).rejected_rows == 1
    emulator.set_anomalies(None)

    summary = run_sync(settings, emulator)

    assert summary.events_rechecked == len(NULLED)
    assert _core_fields(settings, NULLED[0]) != (None, None, None)


def test_a_run_an_hour_after_the_last_sweep_asks_again_for_nulls_served_twice(
    tmp_path, emulator, monkeypatch
):
    settings = _first_sync_with_nulls(tmp_path, emulator)
    run_sync(settings, emulator)  # served null again: the server's answer, for now
    emulator.set_anomalies(None)
    monkeypatch.setattr(null_recheck, "SWEEP_EVERY", dt.timedelta(0))  # the hour has passed

    summary = run_sync(settings, emulator)

    assert summary.events_rechecked == len(NULLED)
    assert_events_match(settings, emulator)


def test_an_event_changed_while_still_served_null_is_rechecked_again(tmp_path, emulator):
    settings = _first_sync_with_nulls(tmp_path, emulator)
    run_sync(settings, emulator)
    with client_for(emulator) as client:
        client.event_notes(NULLED[0], notes="changed")
    run_sync(settings, emulator)  # lands the change, served null again
    assert run_sync(settings, emulator).events_rechecked == 1


def test_a_run_without_nulls_rechecks_nothing(tmp_path, emulator):
    settings = settings_for(tmp_path, emulator, resources=["events"])
    run_sync(settings, emulator)
    assert run_sync(settings, emulator).events_rechecked == 0


def test_no_more_than_the_cap_is_read_again_in_one_run(tmp_path, emulator, monkeypatch):
    monkeypatch.setattr(null_recheck, "RECHECK_CAP", 1)
    settings = _first_sync_with_nulls(tmp_path, emulator)
    emulator.set_anomalies(None)
    assert run_sync(settings, emulator).events_rechecked == 1
    assert _core_fields(settings, NULLED[1]) == (None, None, None)


@pytest.mark.parametrize("field", ["state", "user", "endDate", "invitee.email"])
def test_a_null_state_owner_end_or_invitee_address_is_rechecked_too(tmp_path, emulator, field):
    settings = _first_sync_with_nulls(
        tmp_path, emulator, f"nulled={NULLED[0]},nulled_fields={field}"
    )
    emulator.set_anomalies(None)
    assert run_sync(settings, emulator).events_rechecked == 1
    assert_events_match(settings, emulator)


def test_a_first_sync_of_the_events_into_a_warehouse_without_them_checks_nothing(
    tmp_path, emulator
):
    settings = settings_for(tmp_path, emulator, resources=["users"])
    run_sync(settings, emulator)
    summary = run_sync(settings, emulator, resources=["events"])
    assert summary.events_rechecked == 0
