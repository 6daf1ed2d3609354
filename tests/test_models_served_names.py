"""A booking keeps the names its host and event type were served with once the user list or
the event type list no longer serves them (a colleague who left, a type deleted upstream)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.models import build_models
from tests.sync_support import client_for, live_event_dtos, query, run_sync
from tests.synced_template import synced_copy


@pytest.fixture
def emulator() -> RunningEmulator:
    with start_emulator(seed=1, events=120) as running:
        yield running


@pytest.fixture
def synced(tmp_path_factory, tmp_path, emulator):
    """A private copy of one full sync of `emulator`."""
    return synced_copy(tmp_path_factory, tmp_path, emulator)


def _owned_booking(emulator: RunningEmulator) -> dict[str, Any]:
    """A booking with an owner who is not the API key's user (the organization's owner)."""
    owner = emulator.store.current_user().id
    return next(e for e in live_event_dtos(emulator) if e["user"]["id"] != owner)


def test_a_booking_of_an_event_type_deleted_upstream_keeps_the_type_s_name_and_kind(
    synced, emulator
):
    event = _owned_booking(emulator)
    emulator.store.delete_event_type(event["eventType"]["id"])

    run_sync(synced, emulator, build_models=True)

    assert (
        query(synced, f"select id from raw.event_types where id = {event['eventType']['id']}") == []
    )
    assert query(
        synced,
        f"select event_type_name, event_type_kind from analytics.fct_events "
        f"where event_id = {event['id']}",
    ) == [(event["eventType"]["name"], event["eventType"]["type"])]


def test_a_booking_of_a_host_removed_from_the_organization_keeps_the_host_s_name_and_e_mail(
    synced, emulator
):
    event = _owned_booking(emulator)
    emulator.store.remove_host(event["user"]["id"])

    run_sync(synced, emulator, build_models=True)

    assert query(synced, f"select id from raw.users where id = {event['user']['id']}") == []
    assert query(
        synced,
        f"select host_user_id, host_full_name, host_email from analytics.fct_events "
        f"where event_id = {event['id']}",
    ) == [(event["user"]["id"], event["user"]["fullName"], event["user"]["email"])]


def test_a_booking_served_without_its_length_lasts_its_deleted_event_type_s_duration(
    synced, emulator
):
    event = _owned_booking(emulator)
    emulator.set_anomalies(f"nulled={event['id']},nulled_fields=endDate|duration")
    emulator.store.delete_event_type(event["eventType"]["id"])

    run_sync(synced, emulator, full_refresh=True, build_models=True)

    assert query(
        synced,
        f"select duration_minutes, epoch(scheduled_end_at - scheduled_at) / 60 "
        f"from analytics.fct_events where event_id = {event['id']}",
    ) == [(event["eventType"]["duration"], event["eventType"]["duration"])]


def test_utilization_dates_a_booking_of_a_deleted_type_in_the_zone_it_embeds_as_fct_events_does(
    synced, emulator
):
    event = _owned_booking(emulator)
    host, event_type = event["user"]["id"], event["eventType"]["id"]
    emulator.store.delete_event_type(event_type)
    run_sync(synced, emulator)
    path = synced.get("warehouse", "duckdb_path")
    # A host whose zone nobody knows: the booking is dated in its deleted type's zone.
    with duckdb.connect(path) as con:
        con.execute(f"update raw.users set timezone = 'Nowhere/Unknown' where id = {host}")
        con.execute(f"update raw.events set user_timezone = null where user_id = {host}")

    build_models(path, settings=synced)

    [(dated_by_fct, zone)] = query(
        synced,
        "select scheduled_date_local, event_type_timezone from analytics.fct_events"
        f" where event_id = {event['id']}",
    )
    assert zone == event["eventType"]["timezone"]
    assert query(
        synced,
        "select host_timezone, date_local from analytics.int_host_bookings"
        f" where event_id = {event['id']} and host_user_id = {host}",
    ) == [(zone, dated_by_fct)]
    assert query(
        synced,
        "select distinct host_timezone from analytics.int_utilization_days"
        f" where host_user_id = {host} and event_type_id = {event_type}",
    ) == [(zone,)]


def test_a_booking_served_without_its_length_ends_in_its_history_where_fct_events_ends_it(
    synced, emulator
):
    event = _owned_booking(emulator)
    emulator.set_anomalies(f"nulled={event['id']},nulled_fields=endDate|duration")
    emulator.store.delete_event_type(event["eventType"]["id"])

    run_sync(synced, emulator, full_refresh=True, build_models=True)

    [(ends,)] = query(
        synced, f"select scheduled_end_at from analytics.fct_events where event_id = {event['id']}"
    )
    assert query(
        synced,
        "select distinct scheduled_end_at from analytics.event_history"
        f" where event_id = {event['id']} and is_current",
    ) == [(ends,)]


def test_a_deleted_booking_of_a_deleted_type_keeps_the_end_its_history_gave_it(synced, emulator):
    event = _owned_booking(emulator)
    emulator.set_anomalies(f"nulled={event['id']},nulled_fields=endDate|duration")
    emulator.store.delete_event_type(event["eventType"]["id"])
    run_sync(synced, emulator, full_refresh=True, build_models=True)
    history = (
        "select distinct scheduled_end_at from analytics.event_history"
        f" where event_id = {event['id']}"
    )
    before = query(synced, history)
    with client_for(emulator) as client:
        client.event_delete(event["id"])

    run_sync(synced, emulator, reconcile=True, build_models=True)

    assert query(synced, history) == before
    assert query(
        synced, f"select is_deleted from analytics.event_history where event_id = {event['id']}"
    )[0] == (True,)
