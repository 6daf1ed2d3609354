"""Event types' tags and availability are read on their own cadence, with nothing lost.

The expected tags come from the emulator's store (what it serves), never from what the sync
read; the availability check counts the snapshot's rows per event type and day.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs

import httpx
import pytest

from simplymeet.client import SimplyMeetClient
from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.sync import SyncRequest, sync
from simplymeet.sync import per_type_refresh as ptr
from simplymeet.sync.availability_reads import availability_query, slot_minutes
from tests.loopback import behind, served
from tests.sync_support import client_for, query, run_sync, settings_for
from tests.synced_template import synced_copy

HORIZON_DAYS = 3


@pytest.fixture
def small_emulator():
    """An emulator with few events: these tests are about the per-event-type endpoints."""
    with start_emulator(seed=3, events=50) as emu:
        yield emu


@pytest.fixture
def synced(tmp_path_factory, tmp_path, small_emulator: RunningEmulator):
    """Settings (24-hour cadence) of a warehouse after one full sync of `small_emulator`."""
    settings = synced_copy(
        tmp_path_factory,
        tmp_path,
        small_emulator,
        per_event_type_refresh_hours=24.0,
        availability_horizon_days=HORIZON_DAYS,
        reconcile_every_hours=1000.0,
    )
    small_emulator.reset_log()
    return settings


PER_TYPE = ("event_type_tags", "availability")
"""The resources read per event type: they plan what is due from the event type list, so the
other resources (their tables loaded too) would only add to each sync's cost."""


def _type_ids(emulator: RunningEmulator) -> list[int]:
    return sorted(row["id"] for row in emulator.store.list_dtos("event_types"))


TAGS_PATH = "/panel/api/event-type-tag/"
AVAILABILITY_PATH = "/panel/api/event-type/availability/"


def _types_asked(emulator: RunningEmulator, prefix: str) -> set[int]:
    """Event types whose tags (or availability) were requested."""
    return {
        int(record.path[len(prefix) :].strip("/"))
        for record in emulator.requests
        if record.method == "GET" and record.path.startswith(prefix)
    }


def test_an_event_type_costs_one_tag_request_and_one_more_when_it_has_tags(
    tmp_path, small_emulator
):
    # A short page that is not empty may be a server's own page size: the next is asked.
    types = _type_ids(small_emulator)
    tagged = [i for i in types if small_emulator.store.tags_of_event_type(i)]
    assert 0 < len(tagged) < len(types)
    settings = settings_for(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=["event_type_tags"])

    assert small_emulator.count("event_type_tag_list") == len(types) + len(tagged)


def _served_tags(emulator: RunningEmulator) -> set[tuple[int, int, str]]:
    return {
        (type_id, tag["id"], tag["name"])
        for type_id in _type_ids(emulator)
        for tag in emulator.store.tags_of_event_type(type_id)
    }


def _warehouse_tags(settings) -> set[tuple[int, int, str]]:
    rows = query(settings, "select event_type_id, id, name from raw.event_type_tags")
    return {(int(a), int(b), str(c)) for a, b, c in rows}


def _unused_tag(emulator: RunningEmulator, type_id: int) -> int:
    on = {tag["id"] for tag in emulator.store.tags_of_event_type(type_id)}
    return next(tag.id for tag in emulator.store.ref.event_type_tags if tag.id not in on)


def test_incremental_run_within_the_cadence_reads_no_tags_or_availability(synced, small_emulator):
    run_sync(synced, small_emulator, resources=PER_TYPE)

    assert _types_asked(small_emulator, TAGS_PATH) == set()
    assert _types_asked(small_emulator, AVAILABILITY_PATH) == set()


def test_a_run_lists_the_event_types_once_for_every_resource_that_needs_them(
    synced, small_emulator
):
    run_sync(synced, small_emulator, resources=("event_types", *PER_TYPE))

    assert small_emulator.count("event_type_list") == 1


def test_tags_equal_the_server_after_a_cadence_skip(synced, small_emulator):
    run_sync(synced, small_emulator, resources=PER_TYPE)

    assert _warehouse_tags(synced) == _served_tags(small_emulator)
    assert _warehouse_tags(synced)


def test_availability_snapshot_is_complete_after_a_cadence_skip(synced, small_emulator):
    run_sync(synced, small_emulator, resources=PER_TYPE)

    today = dt.datetime.now(dt.UTC).date()
    rows = query(
        synced,
        "select event_type_id, count(distinct date) from raw.event_type_availability_days "
        f"where snapshot_date = '{today.isoformat()}' group by event_type_id",
    )
    assert dict(rows) == {type_id: HORIZON_DAYS for type_id in _type_ids(small_emulator)}


def test_cadence_refresh_reads_every_event_type_and_lands_a_tag_change(synced, small_emulator):
    type_id = _type_ids(small_emulator)[0]
    with client_for(small_emulator) as client:
        client.event_type_tag_add(type_id, _unused_tag(small_emulator, type_id))
    refreshed = synced.with_overrides("sync", per_event_type_refresh_hours=0.0)

    run_sync(refreshed, small_emulator, resources=PER_TYPE)

    types = set(_type_ids(small_emulator))
    assert _types_asked(small_emulator, TAGS_PATH) == types
    assert _types_asked(small_emulator, AVAILABILITY_PATH) == types
    assert _warehouse_tags(refreshed) == _served_tags(small_emulator)


def test_full_refresh_reads_every_event_types_tags_and_availability(synced, small_emulator):
    run_sync(synced, small_emulator, resources=PER_TYPE, full_refresh=True)

    types = set(_type_ids(small_emulator))
    assert _types_asked(small_emulator, TAGS_PATH) == types
    assert _types_asked(small_emulator, AVAILABILITY_PATH) == types


def test_a_changed_event_type_is_read_again_within_the_cadence(synced, small_emulator):
    changed = small_emulator.store.ref.event_types[0]
    with small_emulator.store.lock:
        changed.name = changed.name + " (renamed)"
        small_emulator.store.changed(rendered=True)
    run_sync(synced, small_emulator, resources=PER_TYPE)

    assert _types_asked(small_emulator, TAGS_PATH) == {changed.id}
    assert _types_asked(small_emulator, AVAILABILITY_PATH) == {changed.id}


def test_an_availability_request_names_its_event_type_in_the_query_as_in_the_path(
    tmp_path, small_emulator
):
    # GetEventTypeAvailabilityRequestDTO lists `id` ("The id of the event type"), not optional.
    settings = settings_for(tmp_path, small_emulator, availability_horizon_days=HORIZON_DAYS)

    run_sync(settings, small_emulator, resources=["availability"])

    asked = {
        int(record.path[len(AVAILABILITY_PATH) :].strip("/")): parse_qs(record.query).get("id")
        for record in small_emulator.requests
        if record.method == "GET" and record.path.startswith(AVAILABILITY_PATH)
    }
    assert asked == {type_id: [str(type_id)] for type_id in _type_ids(small_emulator)}


def test_the_slots_of_a_flexible_type_served_without_a_duration_last_the_duration_asked_for(
    tmp_path, small_emulator
):
    # A flexible type has no length of its own: its read asks for its first duration, and
    # each slot answered lasts that long (not nothing, which left its days offering 0 minutes).
    small_emulator.set_readings("flexible_duration=null")
    flexible = {
        et.id: et.durations[0][1] for et in small_emulator.store.ref.event_types if et.durations
    }
    settings = settings_for(tmp_path, small_emulator, availability_horizon_days=HORIZON_DAYS)

    run_sync(settings, small_emulator, resources=["availability"])

    landed = dict(
        query(
            settings,
            "select event_type_id, any_value(duration_minutes)"
            " from raw.event_type_availability_slots"
            f" where event_type_id in ({', '.join(map(str, flexible))}) group by all",
        )
    )
    assert flexible and landed == flexible


def test_an_event_type_whose_single_host_is_a_bare_id_is_asked_for_that_hosts_availability():
    # A server that sends one reference as its id sends others so too (`users: [7]`).
    event_type = {"id": 5, "duration": 30, "users": [7]}

    asked = availability_query(NOW.date(), HORIZON_DAYS, event_type)

    assert asked["userId"] == "7"


def test_an_event_type_whose_duration_is_a_bare_id_is_asked_for_that_duration():
    event_type = {"id": 5, "duration": 30, "users": [{"id": 7}], "eventTypeDurations": [41]}

    asked = availability_query(NOW.date(), HORIZON_DAYS, event_type)

    assert asked["durationId"] == "41"


def test_an_event_type_whose_duration_is_spelled_as_a_decimal_is_asked_for_that_duration():
    event_type = {
        "id": 5,
        "duration": "60.00",
        "eventTypeDurations": [{"id": 41, "duration": 30}, {"id": 42, "duration": 60}],
    }

    asked = availability_query(NOW.date(), HORIZON_DAYS, event_type)

    assert asked["durationId"] == "42"
    assert slot_minutes(event_type) == 60


# --- the plan itself ------------------------------------------------------------------------

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def _planned(every_hours: float = 24.0, **refresh) -> tuple[ptr.RefreshPlan, ptr.Refresh]:
    plan = ptr.RefreshPlan({})
    first = ptr.Refresh(every_hours=every_hours, now=NOW, snapshot_date=NOW.date())
    plan.record([1, 2], {1: "a", 2: "b"}, first)
    return plan, ptr.Refresh(**{"every_hours": every_hours, "now": NOW, **refresh})


def test_plan_makes_nothing_due_within_the_cadence():
    plan, later = _planned(now=NOW + dt.timedelta(hours=23), snapshot_date=NOW.date())

    assert plan.due({1: "a", 2: "b"}, later) == []


def test_plan_makes_every_type_due_once_the_cadence_has_passed():
    plan, later = _planned(now=NOW + dt.timedelta(hours=24))

    assert plan.due({1: "a", 2: "b"}, later) == [1, 2]


def test_plan_makes_every_type_due_on_a_new_snapshot_date():
    tomorrow = NOW.date() + dt.timedelta(days=1)
    plan, later = _planned(now=NOW + dt.timedelta(hours=1), snapshot_date=tomorrow)

    assert plan.due({1: "a", 2: "b"}, later) == [1, 2]


def test_plan_makes_new_and_changed_types_due():
    plan, later = _planned(now=NOW + dt.timedelta(hours=1))

    assert plan.due({1: "a", 2: "changed", 3: "new"}, later) == [2, 3]


def test_plan_forgets_types_no_longer_listed():
    plan, later = _planned(now=NOW + dt.timedelta(hours=1))
    plan.record([], {1: "a"}, later)

    assert plan.due({1: "a", 2: "b"}, later) == [2]


def test_a_renamed_user_tag_is_renamed_on_its_event_types_within_the_cadence(tmp_path):
    # Read as the user's tags, a type's tags change with a user tag: no type's row does.
    with start_emulator(seed=3, events=50, readings="type_tags=user") as emulator:
        settings = settings_for(tmp_path, emulator, per_event_type_refresh_hours=24.0)
        type_id = _type_ids(emulator)[0]
        with client_for(emulator) as client:
            tag = client.user_event_type_tag_create("Deals")
            assert tag is not None
            client.event_type_tag_add(type_id, tag.id)
            run_sync(settings, emulator, resources=("event_type_tags", "user_event_type_tags"))
            client.user_event_type_tag_update(tag.id, name="Big deals")
        run_sync(settings, emulator, resources=("event_type_tags", "user_event_type_tags"))

        assert (type_id, tag.id, "Big deals") in _warehouse_tags(settings)
        assert _warehouse_tags(settings) == _served_tags(emulator)


def test_user_tags_listed_in_a_new_order_on_each_request_make_no_type_due(tmp_path):
    # The same tags in another order (a SELECT without ORDER BY) changed nothing.
    with start_emulator(seed=3, events=50) as emulator:
        reversed_order = [False]

        def shuffled(up, path, pairs, body, headers):
            answer = served(up, path, pairs, body, headers)
            if path.rstrip("/").endswith("/user-event-type-tag") and answer.json():
                reversed_order[0] = not reversed_order[0]
                tags = answer.json()
                return httpx.Response(200, json=tags[::-1] if reversed_order[0] else tags)
            return answer

        with behind(emulator, shuffled) as base_url:
            settings = settings_for(tmp_path, emulator, per_event_type_refresh_hours=24.0)
            settings = settings.with_overrides("api", base_url=base_url)
            resources = ("event_type_tags", "user_event_type_tags")
            with SimplyMeetClient(base_url, api_key=emulator.api_key) as client:
                sync(settings, client, SyncRequest(resources=resources, build_models=False))
                emulator.reset_log()
                sync(settings, client, SyncRequest(resources=resources, build_models=False))

        assert _types_asked(emulator, TAGS_PATH) == set()
