"""One odd or failing secondary endpoint does not sink the sync (finding F5).

The reference leaves the answers of the ACL, integration, availability, tag and policy reads
loosely specified, and lists no `orderField` values. Each other reading a server may give is
served by the emulator (`readings=`, docs/emulator.md) and read by the sync as the reference
allows: the run lands everything else, and what it already kept survives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from simplymeet.client import ProtocolError, RetryPolicy, ServerError, SimplyMeetClient
from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.emulator.account_handlers import PAGED_AVAILABILITY_DAYS
from simplymeet.models import build_models
from simplymeet.sync import SyncRequest, policy_versions, sync
from simplymeet.sync import tables as t
from simplymeet.sync.api import keyed_values, list_body, one_policy
from simplymeet.sync.policy_versions import landed_version
from simplymeet.sync.runner import make_pipeline
from simplymeet.sync.source import UNSCOPED, integration_rows
from tests.cli_support import run_cli, sync_env
from tests.loopback import Answer, Pairs, behind, served
from tests.sync_support import (
    EVENTS_ONLY,
    assert_events_match,
    book_events,
    client_for,
    expected_rows,
    landed_count,
    live_event_dtos,
    query,
    run_sync,
    settings_for,
    warehouse_rows,
)
from tests.synced_template import synced_copy

HORIZON_DAYS = 3
FAST = RetryPolicy(max_retries=1, backoff_base=0.001, max_delay=0.01)
"""Retries that give up at once: a failure for good, without the real back-off's wait."""


@pytest.fixture
def small_emulator():
    """An emulator with few events: these tests are about the endpoints beside the events."""
    with start_emulator(seed=3, events=50) as emu:
        yield emu


@pytest.fixture
def synced(tmp_path_factory, tmp_path, small_emulator: RunningEmulator):
    """Settings of a warehouse after one full sync of `small_emulator` as seeded (the template
    of test_sync_per_type_refresh), every event type's tags and availability due again."""
    settings = synced_copy(
        tmp_path_factory,
        tmp_path,
        small_emulator,
        per_event_type_refresh_hours=24.0,
        availability_horizon_days=HORIZON_DAYS,
        reconcile_every_hours=1000.0,
    )
    small_emulator.reset_log()
    return settings.with_overrides("sync", per_event_type_refresh_hours=0.0)


def _fresh(tmp_path, emulator: RunningEmulator):
    return settings_for(tmp_path, emulator, availability_horizon_days=HORIZON_DAYS)


def _warnings(caplog: pytest.LogCaptureFixture, resource: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.getMessage().startswith(f"{resource}:")
    ]


# --- shapes ---------------------------------------------------------------------------------


def test_an_integration_list_answered_as_an_empty_array_lands_no_integrations(
    synced, small_emulator
):
    small_emulator.set_readings("integrations=array")
    with small_emulator.store.lock:
        small_emulator.store.ref.integrations = {"user": [], "organization": []}

    run_sync(synced, small_emulator, resources=("integrations",))

    assert query(synced, "select count(*) from raw.integrations") == [(0,)]


def test_an_integration_list_answered_as_one_array_lands_every_integration_unscoped(
    tmp_path, small_emulator
):
    served = small_emulator.store.list_dtos("integrations")[0]
    small_emulator.set_readings("integrations=array")
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=("integrations",))

    rows = query(settings, "select scope, name from raw.integrations order by position_in_parent")
    names = [item["type"] for item in (*served["user"], *served["organization"])]
    assert rows == [(UNSCOPED, name) for name in names]


def test_an_integration_list_answered_as_an_array_of_the_dto_lands_as_the_dto_itself(
    tmp_path, small_emulator
):
    served = small_emulator.store.list_dtos("integrations")[0]
    small_emulator.set_readings("integrations=wrapped")
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=("integrations",))

    rows = query(
        settings, "select scope, name from raw.integrations order by scope desc, position_in_parent"
    )
    expected = [("user", i["type"]) for i in served["user"]]
    expected += [("organization", i["type"]) for i in served["organization"]]
    assert len(expected) > 1 and rows == expected


def test_acl_rules_keyed_by_resource_land_as_the_rules_served_as_a_list(tmp_path, small_emulator):
    small_emulator.set_readings("acl=by_resource")
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=("acl_rules",))

    served = small_emulator.store.list_dtos("acl")
    assert warehouse_rows(settings, t.ACL_RULES) == expected_rows(t.ACL_RULES, served)


def test_a_poll_list_served_fewer_a_page_than_asked_lands_every_poll(tmp_path, small_emulator):
    # A plain array carries no count: a short page may be the server's own page size.
    small_emulator.set_faults("page_cap=2,endpoints=poll_list")
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=("polls",))

    served = small_emulator.store.list_dtos("polls")
    assert len(served) > 2
    assert warehouse_rows(settings, t.POLLS) == expected_rows(t.POLLS, served)


# MetaDataDTO's itemsCount alone (the page size is the first page's length), or `{items}`
# with no meta at all (a short page may be the server's own page size: the reference bounds
# onPage, it does not make a server keep to it).
_SHORT_PAGE_METAS = pytest.mark.parametrize("meta", ["count_only", "none"])


@_SHORT_PAGE_METAS
def test_events_paged_smaller_than_asked_with_a_count_alone_or_no_meta_all_land(
    tmp_path, small_emulator, meta
):
    small_emulator.set_readings(f"meta={meta}")
    small_emulator.set_faults("page_cap=10,endpoints=event_list")
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=EVENTS_ONLY)

    assert_events_match(settings, small_emulator)


@_SHORT_PAGE_METAS
def test_changes_paged_smaller_than_asked_with_a_count_alone_or_no_meta_all_land(tmp_path, meta):
    with start_emulator(
        seed=4, events=300, readings=f"meta={meta}", faults="page_cap=10,endpoints=event_list"
    ) as emulator:
        settings = _fresh(tmp_path, emulator)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        with client_for(emulator) as client:  # more changes than two served pages hold
            for event_id in emulator.store.all_event_ids()[:50]:
                client.event_notes(event_id, notes=f"changed {event_id}")

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert_events_match(settings, emulator)


def test_cancellations_listed_only_when_asked_on_pages_without_a_meta_all_land(tmp_path):
    # More cancellations than a served page holds, on a server listing canceled bookings only
    # when asked: only their own read shows them, and its short page 1 is not the last.
    with start_emulator(
        seed=4,
        events=300,
        readings="meta=none,canceled_listed=when_asked",
        faults="page_cap=10,endpoints=event_list",
    ) as emulator:
        settings = _fresh(tmp_path, emulator)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        with client_for(emulator) as client:
            active = [dto["id"] for dto in live_event_dtos(emulator) if dto["state"] == "active"]
            client.event_cancel_list(active[:30], reason="closing the office")

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert_events_match(settings, emulator)


def test_events_read_newest_first_paged_smaller_than_asked_with_a_count_alone_all_land(
    tmp_path, small_emulator
):
    # The server refuses orderField=id: every event is read newest first, page after page.
    small_emulator.set_readings("meta=count_only,order_fields=updatedAt")
    small_emulator.set_faults("page_cap=10,endpoints=event_list")
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=EVENTS_ONLY)

    assert_events_match(settings, small_emulator)


def test_event_types_paged_smaller_than_asked_with_only_their_count_in_the_meta_all_land(
    tmp_path, small_emulator
):
    small_emulator.set_readings("meta=count_only")
    small_emulator.set_faults("page_cap=10,endpoints=event_type_list")
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=("event_types",))

    served = small_emulator.store.list_dtos("event_types")
    assert len(served) > 10
    assert warehouse_rows(settings, t.EVENT_TYPES) == expected_rows(t.EVENT_TYPES, served)


def test_a_poll_skipped_by_a_delete_while_the_polls_are_paged_is_read_again(
    tmp_path, small_emulator
):
    # Page 2 answered as if a poll before it had gone since page 1: a plain array has no
    # count, so only a second read shows the poll no page held.
    small_emulator.set_faults("page_cap=2,shift=1,pages=2,max=1,endpoints=poll_list")
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=("polls",))

    served = small_emulator.store.list_dtos("polls")
    assert warehouse_rows(settings, t.POLLS) == expected_rows(t.POLLS, served)


def test_an_event_type_skipped_by_a_delete_and_a_create_while_paged_is_read_again(
    tmp_path, small_emulator
):
    # After page 1, one type goes and another comes: every page still adds up to the count,
    # and the type that moved onto page 1 is on no page of that read.
    small_emulator.set_faults("page_cap=10,endpoints=event_type_list")
    store = small_emulator.store
    swapped: list[int] = []

    def swap_after_page_1(up, path, pairs, body, headers):
        answer = served(up, path, pairs, body, headers)
        if path.rstrip("/").endswith("/event-type") and ("page", "2") not in pairs and not swapped:
            with store.lock:
                gone = store.ref.event_types.pop(4)
                last = max(et.id for et in store.ref.event_types)
                store.ref.event_types.append(dataclasses.replace(gone, id=last + 1))
                store.changed(rendered=True)
            swapped.append(gone.id)
        return answer

    settings = _synced_through(small_emulator, swap_after_page_1, tmp_path, ["event_types"])

    served_now = store.list_dtos("event_types")
    assert swapped and len(served_now) > 10
    assert warehouse_rows(settings, t.EVENT_TYPES) == expected_rows(t.EVENT_TYPES, served_now)


def _synced_through(
    emulator: RunningEmulator, answer: Answer, tmp_path, resources: list[str], **api: Any
):
    """Sync `resources` through a proxy answering with `answer` (with `api` settings such as
    `page_size`); the settings of the warehouse."""
    with behind(emulator, answer) as base_url:
        settings = _fresh(tmp_path, emulator).with_overrides("api", base_url=base_url, **api)
        with SimplyMeetClient(base_url, api_key=emulator.api_key) as client:
            sync(settings, client, SyncRequest(resources=resources, build_models=False))
    return settings


def _is_poll_page(path: str, pairs: Pairs, number: int) -> bool:
    return path.rstrip("/").endswith("/poll") and ("page", str(number)) in pairs


def test_a_poll_deleted_between_a_full_page_and_an_empty_next_page_is_read_again(
    tmp_path, small_emulator
):
    # Six polls at five a page; poll 1 goes after page 1: poll 6 moves onto page 1, unread,
    # and page 2 comes back empty.
    deleted: list[int] = []

    def delete_after_page_1(up, path, pairs, body, headers):
        method = headers.get(":method")
        answer = served(up, path, pairs, body, headers)
        if method == "GET" and _is_poll_page(path, pairs, 1) and not deleted:
            up.delete("/panel/api/poll/1", headers=headers).raise_for_status()
            deleted.append(1)
        return answer

    settings = _synced_through(
        small_emulator, delete_after_page_1, tmp_path, ["polls"], page_size=5
    )

    served_now = small_emulator.store.list_dtos("polls")
    assert deleted and len(served_now) == 5
    assert warehouse_rows(settings, t.POLLS) == expected_rows(t.POLLS, served_now)


def test_a_page_served_once_as_the_page_before_is_read_again(tmp_path, small_emulator):
    # A cache answers page 2 with page 1 once: the list does not end there.
    stale: list[int] = []

    def page_1_again(up, path, pairs, body, headers):
        if _is_poll_page(path, pairs, 2) and not stale:
            stale.append(2)
            pairs = [(k, "1" if k == "page" else v) for k, v in pairs]
        return served(up, path, pairs, body, headers)

    settings = _synced_through(small_emulator, page_1_again, tmp_path, ["polls"], page_size=3)

    assert stale
    served_now = small_emulator.store.list_dtos("polls")
    assert warehouse_rows(settings, t.POLLS) == expected_rows(t.POLLS, served_now)


def test_a_list_that_fits_one_page_is_read_once(tmp_path, small_emulator):
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=("polls",))

    # Page 1, short of what was asked, and the empty page 2 that says it was the last.
    assert small_emulator.count("poll_list") == 2


def test_polls_naming_their_owner_and_event_type_by_id_land_those_ids(tmp_path, small_emulator):
    small_emulator.set_readings("poll_refs=ids")
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=("polls",))

    served = small_emulator.store.list_dtos("polls")  # the store's own reading: objects
    landed = query(settings, "select id, user_id, event_type_id from raw.polls order by id")
    assert landed == sorted((p["id"], p["user"]["id"], p["eventType"]["id"]) for p in served)


def test_a_list_served_once_with_one_item_twice_is_read_again_and_lands_as_it_is(
    tmp_path, small_emulator
):
    small_emulator.set_faults("twin=1,max=1,endpoints=user_event_type_tag_list")
    settings = _fresh(tmp_path, small_emulator)

    summary = run_sync(settings, small_emulator, resources=("user_event_type_tags",))

    tags = small_emulator.store.list_dtos("user_event_type_tags")
    assert summary.rejected_rows == 0
    assert sorted(query(settings, "select id from raw.user_event_type_tags")) == sorted(
        (tag["id"],) for tag in tags
    )


def test_user_tags_event_types_and_users_naming_objects_by_id_land_those_ids(
    tmp_path, small_emulator
):
    small_emulator.set_anomalies(
        "refs_as_ids=user|users|organization,"
        "endpoints=user_event_type_tag_list|event_type_list|user_list"
    )
    settings = _fresh(tmp_path, small_emulator)

    summary = run_sync(
        settings, small_emulator, resources=("user_event_type_tags", "event_types", "users")
    )

    store = small_emulator.store
    assert summary.rejected_rows == 0
    tags = store.list_dtos("user_event_type_tags")
    landed = query(settings, "select id, user_id from raw.user_event_type_tags")
    assert sorted(landed) == sorted((tag["id"], tag["user"]["id"]) for tag in tags)
    types = store.list_dtos("event_types")
    landed = query(settings, "select id, user_id from raw.event_types")
    assert sorted(landed) == sorted((et["id"], et["user"]["id"]) for et in types)
    landed = query(settings, "select event_type_id, user_id from raw.event_types__users")
    assert sorted(landed) == sorted((et["id"], u["id"]) for et in types for u in et["users"])
    users = store.list_dtos("users")
    landed = query(settings, "select id, organization_id from raw.users")
    assert sorted(landed) == sorted((u["id"], u["organization"]["id"]) for u in users)


_PLAIN_LISTS = {
    "users": (t.USERS, "users"),
    "user_event_type_tags": (t.USER_EVENT_TYPE_TAGS, "user_event_type_tags"),
    "polls": (t.POLLS, "polls"),
    "acl_rules": (t.ACL_RULES, "acl"),
}
"""Resources read from plain arrays: (table, the emulator's `list_dtos` kind)."""


def _assert_plain_lists_landed(settings: Any, emulator: RunningEmulator) -> None:
    for table, kind in _PLAIN_LISTS.values():
        served = emulator.store.list_dtos(kind)
        assert served, kind
        assert warehouse_rows(settings, table) == expected_rows(table, served), table.name


@pytest.mark.parametrize("status", ["400", "404", "422"])
def test_plain_lists_whose_server_refuses_the_page_past_the_last_land_every_row(
    tmp_path, small_emulator, status
):
    small_emulator.set_readings(f"past_last_page={status}")
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=tuple(_PLAIN_LISTS))

    _assert_plain_lists_landed(settings, small_emulator)


def test_plain_lists_of_a_server_refusing_paging_parameters_it_does_not_know_land_every_row(
    tmp_path, small_emulator
):
    small_emulator.set_readings("paging_params=400,past_last_page=422")
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=(*_PLAIN_LISTS, "event_types", "event_type_tags"))

    _assert_plain_lists_landed(settings, small_emulator)
    served = small_emulator.store.list_dtos("event_type_tag_links")
    landed = query(settings, "select event_type_id, id from raw.event_type_tags")
    assert sorted(landed) == sorted(
        (link["eventTypeId"], tag["id"]) for link in served for tag in link["tags"]
    )


def test_votes_on_slots_numbered_within_each_poll_all_land(tmp_path, small_emulator):
    small_emulator.set_readings("poll_slot_ids=per_poll")  # every poll has a slot 1
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=("polls",))

    served = [
        (poll["id"], number, vote["email"])
        for poll in small_emulator.store.list_dtos("polls")
        for number, slot in enumerate(poll["availability"], start=1)
        for vote in slot["results"]
    ]
    landed = query(
        settings, "select poll_id, availability_id, email from raw.polls__availability__results"
    )
    assert len({poll for poll, _, _ in served}) > 1
    assert sorted(landed) == sorted(served)


def test_slots_all_given_their_polls_id_land_numbered_by_position_with_their_votes(
    tmp_path, small_emulator
):
    small_emulator.set_readings("poll_slot_ids=poll")  # PollAvailabilityDTO: "id int Poll ID"
    settings = _fresh(tmp_path, small_emulator)

    summary = run_sync(settings, small_emulator, resources=("polls",))

    polls = small_emulator.store.list_dtos("polls")
    slots = [
        (poll["id"], number, slot["date"])
        for poll in polls
        for number, slot in enumerate(poll["availability"], start=1)
    ]
    votes = [
        (poll["id"], number, vote["email"])
        for poll in polls
        for number, slot in enumerate(poll["availability"], start=1)
        for vote in slot["results"]
    ]
    assert summary.rejected_rows == 0
    landed = query(settings, "select poll_id, id, date from raw.polls__availability")
    assert sorted((poll, slot) for poll, slot, _ in landed) == sorted(s[:2] for s in slots)
    landed = query(
        settings, "select poll_id, availability_id, email from raw.polls__availability__results"
    )
    assert sorted(landed) == sorted(votes)


def _served_votes(emulator: RunningEmulator) -> list[tuple[int, int, str]]:
    return [
        (poll["id"], slot["id"], vote["email"])
        for poll in emulator.store.list_dtos("polls")
        for slot in poll["availability"]
        for vote in slot["results"]
    ]


def _landed_votes(settings: Any) -> list[tuple[int, int, str]]:
    return sorted(
        query(
            settings,
            "select poll_id, availability_id, email from raw.polls__availability__results",
        )
    )


def test_polls_listed_without_their_slots_are_read_whole_by_id(tmp_path, small_emulator):
    small_emulator.set_readings("poll_list=summary")  # GET /poll/{id} serves the slots
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=("polls",))

    served = _served_votes(small_emulator)
    assert served and _landed_votes(settings) == sorted(served)
    assert small_emulator.received("poll_get") == len(small_emulator.store.list_dtos("polls"))


def test_a_polls_slots_served_null_once_are_read_by_id_not_dropped(tmp_path, small_emulator):
    victim = small_emulator.store.list_dtos("polls")[0]["id"]

    def slots_null(up, path, pairs, body, headers):
        answer = served(up, path, pairs, body, headers)
        if path.rstrip("/").endswith("/poll"):
            polls = [
                {**poll, "availability": None} if poll["id"] == victim else poll
                for poll in answer.json()
            ]
            return httpx.Response(200, json=polls)
        return answer

    settings = _synced_through(small_emulator, slots_null, tmp_path, ["polls"])

    assert any(poll == victim for poll, _, _ in _served_votes(small_emulator))
    assert _landed_votes(settings) == sorted(_served_votes(small_emulator))


def test_event_types_served_without_their_empty_lists_are_not_read_by_id(tmp_path, small_emulator):
    # A serializer that leaves out empty arrays (a fixed type's durations, a type with no
    # questions): nothing is missing, and a read by id per type would come on every run.
    def empty_lists_left_out(up, path, pairs, body, headers):
        answer = served(up, path, pairs, body, headers)
        if path.rstrip("/").endswith("/event-type"):
            page = answer.json()
            page["items"] = [{k: v for k, v in et.items() if v != []} for et in page["items"]]
            return httpx.Response(200, json=page)
        return answer

    settings = _synced_through(small_emulator, empty_lists_left_out, tmp_path, ["event_types"])

    assert small_emulator.received("event_type_get") == 0
    assert warehouse_rows(settings, t.EVENT_TYPES) == expected_rows(
        t.EVENT_TYPES, small_emulator.store.list_dtos("event_types")
    )


def test_an_event_types_hosts_served_null_once_are_read_by_id_not_dropped(tmp_path, small_emulator):
    victim = small_emulator.store.ref.event_types[0].id

    def hosts_null(up, path, pairs, body, headers):
        answer = served(up, path, pairs, body, headers)
        if path.rstrip("/").endswith("/event-type"):
            page = answer.json()
            for item in page["items"]:
                if item["id"] == victim:
                    item["users"] = None
            return httpx.Response(200, json=page)
        return answer

    settings = _synced_through(small_emulator, hosts_null, tmp_path, ["event_types"])

    wanted = sorted(
        (et["id"], user["id"])
        for et in small_emulator.store.list_dtos("event_types")
        for user in et["users"]
    )
    landed = query(settings, "select event_type_id, user_id from raw.event_types__users")
    assert any(et == victim for et, _ in wanted) and sorted(landed) == wanted


def _days_per_event_type(settings: Any, emulator: RunningEmulator) -> dict[int, int]:
    """Sync the availability alone; the days landed per event type."""
    run_sync(settings, emulator, resources=("availability",))
    rows = query(
        settings,
        "select event_type_id, count(distinct date) from raw.event_type_availability_days "
        "group by event_type_id",
    )
    return dict(rows)


def _every_day(emulator: RunningEmulator) -> dict[int, int]:
    """Every event type with every day of the horizon."""
    return dict.fromkeys(
        (row["id"] for row in emulator.store.list_dtos("event_types")), HORIZON_DAYS
    )


@pytest.mark.parametrize(
    "reading",
    [
        "by_date",  # an object keyed by date, read as its values
        # The reference gives the availability no paging; a server that pages it anyway
        # says so in `{meta, items}`, and every page is read.
        "paged",
        # A plain array carries no count: a server with a range limit it does not state
        # answers fewer days than asked, and the days after its last one are asked for.
        "capped",
    ],
)
def test_availability_served_another_way_lands_every_day_of_every_event_type(
    tmp_path, small_emulator, reading
):
    small_emulator.set_readings(f"availability={reading}")
    settings = _fresh(tmp_path, small_emulator)

    assert HORIZON_DAYS > PAGED_AVAILABILITY_DAYS
    assert _days_per_event_type(settings, small_emulator) == _every_day(small_emulator)


def _slot_starts(settings: Any, emulator: RunningEmulator) -> list[tuple[Any, ...]]:
    """Sync the availability alone; every slot's event type and start instant."""
    run_sync(settings, emulator, resources=("availability",))
    return query(
        settings,
        "select event_type_id, date, start_at from raw.event_type_availability_slots order by all",
    )


def test_availability_hours_without_a_leading_zero_land_at_the_instants_they_name(
    tmp_path, small_emulator
):
    # EventTypeAvailabilityHoursDTO gives `start` no format: PHP's `G:i` spells 9:00.
    padded = _slot_starts(_fresh(tmp_path / "padded", small_emulator), small_emulator)
    small_emulator.set_readings("availability_hours=unpadded")

    unpadded = _slot_starts(_fresh(tmp_path / "unpadded", small_emulator), small_emulator)

    assert any(start.hour < 10 for _, _, start in padded)
    assert unpadded == padded


def test_availability_a_server_needs_the_duration_of_lands_as_each_type_offers_it(
    tmp_path, small_emulator
):
    # GetEventTypeAvailabilityRequestDTO lists durationId without calling it optional.
    assert any(et.durations for et in small_emulator.store.ref.event_types)
    own = _slot_starts(_fresh(tmp_path / "own", small_emulator), small_emulator)
    small_emulator.set_readings("availability_params=required")

    needed = _slot_starts(_fresh(tmp_path / "needed", small_emulator), small_emulator)

    assert needed == own


def test_availability_that_reaches_the_horizon_is_read_in_one_request_per_event_type(
    tmp_path, small_emulator
):
    settings = _fresh(tmp_path, small_emulator)
    small_emulator.reset_log()

    _days_per_event_type(settings, small_emulator)

    asked = small_emulator.count("event_type_availability")
    assert asked == len(_every_day(small_emulator))


def test_an_object_whose_values_are_not_objects_is_an_error_naming_the_endpoint_and_shape():
    with pytest.raises(ProtocolError, match=r"GET /panel/api/acl \(acl_list\).*values are list"):
        keyed_values("acl_list", {"event": ["view"]}, "resource")


def test_a_list_of_other_than_objects_is_an_error_naming_the_endpoint_and_shape():
    with pytest.raises(ProtocolError, match=r"GET /panel/api/acl \(acl_list\).*items of str"):
        list_body("acl_list", ["event", "poll"], "resource")


def test_an_integration_list_of_another_shape_is_an_error_naming_the_endpoint_and_shape():
    with pytest.raises(ProtocolError, match=r"integration_list.*`user` to be an array, got str"):
        integration_rows({"user": "google_calendar"})


def test_a_policy_answered_as_an_array_of_one_object_is_that_policy():
    policy = {"type": "organization", "version": 3, "period": 720}
    assert one_policy("organization_cancellation_policy_get", [policy]) == policy


@pytest.mark.parametrize("served", [3, "3", 3.0])
def test_a_policy_version_served_as_digits_or_a_whole_float_is_that_version(served):
    assert landed_version({}, {"version": served, "enabled": True, "period": 60}) == 3


def test_a_policy_of_another_shape_is_an_error_naming_the_endpoint_and_shape():
    with pytest.raises(ProtocolError, match=r"user_cancellation_policy_get.*an array of 2"):
        one_policy("user_cancellation_policy_get", [{"version": 1}, {"version": 2}])


def _policy_changed_upstream(emulator: RunningEmulator, period: int) -> None:
    with client_for(emulator) as client:
        client.call("organization_cancellation_policy_update", body={"period": period})


def _policy_in_force(settings: Any) -> tuple[int, ...]:
    """The organization policy's period per landed version, oldest first seen first, and the
    one in force (the last first seen) last."""
    rows = query(
        settings,
        "select period from raw.cancellation_policies where type = 'organization' "
        "order by first_seen_at, version",
    )
    return tuple(period for (period,) in rows)


@pytest.mark.parametrize("reading", ["constant", "absent"])
def test_policy_changes_served_without_a_counted_version_each_land_and_the_last_is_in_force(
    tmp_path, small_emulator, reading
):
    small_emulator.set_readings(f"policy_version={reading}")
    settings = _fresh(tmp_path, small_emulator)
    first = small_emulator.store.policy("organization").period
    run_sync(settings, small_emulator, resources=("cancellation_policies",))

    for period in (60, 240, first):  # the last one back to the first policy
        _policy_changed_upstream(small_emulator, period)
        run_sync(settings, small_emulator, resources=("cancellation_policies",))
    run_sync(settings, small_emulator, resources=("cancellation_policies",))  # unchanged

    assert _policy_in_force(settings) == (first, 60, 240, first)


def test_policy_changes_served_with_a_counted_version_land_under_that_version(
    tmp_path, small_emulator
):
    settings = _fresh(tmp_path, small_emulator)
    run_sync(settings, small_emulator, resources=("cancellation_policies",))
    _policy_changed_upstream(small_emulator, 60)

    run_sync(settings, small_emulator, resources=("cancellation_policies",))

    served = small_emulator.store.policy("organization")
    landed = query(
        settings,
        "select version, period from raw.cancellation_policies where type = 'organization' "
        "order by first_seen_at desc limit 1",
    )
    assert landed == [(served.version, 60)]


def _policies_loaded(summary: Any) -> int:
    [table] = [table for table in summary.tables if table.name == "cancellation_policies"]
    return table.loaded


def test_a_run_finding_the_policies_unchanged_loads_and_counts_none(tmp_path, small_emulator):
    settings = _fresh(tmp_path, small_emulator)
    run_sync(settings, small_emulator, resources=("cancellation_policies",))

    again = run_sync(settings, small_emulator, resources=("cancellation_policies",))

    assert _policies_loaded(again) == 0
    assert query(settings, "select count(*) from raw.cancellation_policies") == [(2,)]


def test_a_run_after_one_policy_changed_loads_only_its_new_version(tmp_path, small_emulator):
    settings = _fresh(tmp_path, small_emulator)
    run_sync(settings, small_emulator, resources=("cancellation_policies",))
    _policy_changed_upstream(small_emulator, 60)

    again = run_sync(settings, small_emulator, resources=("cancellation_policies",))

    assert _policies_loaded(again) == 1
    assert query(settings, "select count(*) from raw.cancellation_policies") == [(3,)]


def test_a_policy_changed_under_a_version_the_warehouse_holds_lands_as_a_version_of_its_own(
    synced, small_emulator
):
    # Judged by the rows landed (a warehouse synced before versions were checked, say).
    served = small_emulator.store.render.policy(small_emulator.store.policy("organization"))
    with make_pipeline(synced).sql_client() as client:
        kept = policy_versions.landed(client, "default")

    changed = {**served, "period": served["period"] + 60}  # the same version served
    version = policy_versions.landed_version(kept["organization"], changed)

    assert str(served["version"]) in kept["organization"]["versions"]
    assert version < 0


# --- 404: none ------------------------------------------------------------------------------


def _latest_policies(settings: Any) -> dict[str, tuple[bool, int | None]]:
    """Per policy type, the version first seen last (the one in force from then on): whether
    it is enabled, and its period."""
    rows = query(
        settings,
        "select type, enabled, period from raw.cancellation_policies "
        "qualify row_number() over (partition by type order by first_seen_at desc) = 1",
    )
    return {kind: (enabled, period) for kind, enabled, period in rows}


def test_a_404_for_the_policies_keeps_the_versions_already_kept(synced, small_emulator):
    before = warehouse_rows(synced, t.CANCELLATION_POLICIES)
    small_emulator.set_readings("policies=404")

    run_sync(synced, small_emulator, resources=("cancellation_policies",))

    after = warehouse_rows(synced, t.CANCELLATION_POLICIES)
    assert before and all(row in after for row in before)


def test_a_policy_removed_upstream_lands_as_a_version_no_longer_in_force(synced, small_emulator):
    small_emulator.store.remove_policy("organization")

    run_sync(synced, small_emulator, resources=("cancellation_policies",))

    latest = _latest_policies(synced)
    assert latest["organization"] == (False, None)
    assert latest["user"][0] is True  # the user policy, still served, stays in force


def test_a_policy_still_removed_lands_no_further_version(synced, small_emulator):
    small_emulator.store.remove_policy("organization")
    run_sync(synced, small_emulator, resources=("cancellation_policies",))
    removed = warehouse_rows(synced, t.CANCELLATION_POLICIES)

    run_sync(synced, small_emulator, resources=("cancellation_policies",))

    assert warehouse_rows(synced, t.CANCELLATION_POLICIES) == removed


def test_a_policy_set_again_after_its_removal_is_in_force_again(synced, small_emulator):
    small_emulator.store.remove_policy("organization")
    run_sync(synced, small_emulator, resources=("cancellation_policies",))

    _policy_changed_upstream(small_emulator, 90)
    run_sync(synced, small_emulator, resources=("cancellation_policies",))

    assert _latest_policies(synced)["organization"] == (True, 90)


def test_a_404_for_the_policies_is_one_warning_line(tmp_path, small_emulator, caplog):
    small_emulator.set_readings("policies=404")

    with caplog.at_level(logging.WARNING, logger="simplymeet.sync"):
        run_sync(
            _fresh(tmp_path, small_emulator), small_emulator, resources=("cancellation_policies",)
        )

    [line] = _warnings(caplog, "cancellation_policies")
    assert "organization, user answered 404" in line


def test_an_event_type_whose_tag_list_answers_404_has_no_tags_and_the_others_keep_theirs(
    synced, small_emulator
):
    store = small_emulator.store
    tagged = [
        row["id"] for row in store.list_dtos("event_types") if store.tags_of_event_type(row["id"])
    ]
    emptied = tagged[0]
    with client_for(small_emulator) as client:
        for tag in store.tags_of_event_type(emptied):
            client.event_type_tag_remove(emptied, tag["id"])
    small_emulator.set_readings("empty_tags=404")

    run_sync(synced, small_emulator, resources=("event_type_tags",))

    rows = query(synced, "select event_type_id, id from raw.event_type_tags")
    served = {
        (type_id, tag["id"]) for type_id in tagged for tag in store.tags_of_event_type(type_id)
    }
    assert {(int(a), int(b)) for a, b in rows} == served
    assert emptied not in {type_id for type_id, _ in served} and len(tagged) > 1


def test_the_last_polls_and_user_tags_deleted_on_a_server_answering_none_with_404_leave_none(
    synced, small_emulator
):
    store = small_emulator.store
    with client_for(small_emulator) as client:
        for poll in store.list_dtos("polls"):
            client.poll_delete(poll["id"])
        for tag in list(store.ref.user_event_type_tags):
            client.user_event_type_tag_delete(tag.id)
    small_emulator.set_readings("empty_tags=404")

    run_sync(synced, small_emulator, resources=("polls", "user_event_type_tags"))

    assert query(synced, "select count(*) from raw.polls") == [(0,)]
    assert query(synced, "select count(*) from raw.user_event_type_tags") == [(0,)]


def test_a_base_url_whose_path_answers_every_request_404_keeps_the_lists_404_may_empty(
    synced, small_emulator
):
    # A wrong path (`/api/v1` put before the API's own) answers "no route" to everything:
    # that is no empty list of polls, user tags or policies.
    resources = ("polls", "user_event_type_tags", "cancellation_policies")
    tables = ("polls", "user_event_type_tags", "cancellation_policies")
    before = [query(synced, f"select count(*) from raw.{table}") for table in tables]
    wrong = f"{small_emulator.base_url}/api/v1"

    with (
        SimplyMeetClient(wrong, api_key=small_emulator.api_key, max_retries=0) as client,
        pytest.raises(Exception, match="not read"),
    ):
        sync(synced, client, SyncRequest(resources=list(resources), build_models=False))

    assert [query(synced, f"select count(*) from raw.{table}") for table in tables] == before
    assert all(count != [(0,)] for count in before)


def test_a_404_reads_as_no_policy_where_the_current_user_answers_with_a_server_error(
    synced, small_emulator
):
    # A 5xx comes from a route that is there: only a 404 there says the base URL is wrong.
    small_emulator.set_readings("policies=404")
    small_emulator.set_faults("500=1,endpoints=current_user_get")

    with SimplyMeetClient(
        small_emulator.base_url, api_key=small_emulator.api_key, retry=FAST
    ) as client:
        sync(synced, client, SyncRequest(resources=["cancellation_policies"], build_models=False))

    assert small_emulator.received("current_user_get") == 2  # asked once, retried once


@pytest.mark.parametrize("status", ["400", "404"])
def test_the_availability_of_a_disabled_event_type_refused_is_no_snapshot_and_the_others_land(
    tmp_path, small_emulator, status
):
    small_emulator.set_readings(f"disabled_availability={status}")
    settings = _fresh(tmp_path, small_emulator)

    run_sync(settings, small_emulator, resources=("availability",))

    rows = query(
        settings,
        "select event_type_id, count(distinct date) from raw.event_type_availability_days "
        "group by event_type_id",
    )
    types = small_emulator.store.list_dtos("event_types")
    enabled = [row["id"] for row in types if row["isEnabled"]]
    assert len(enabled) < len(types)
    assert dict(rows) == dict.fromkeys(enabled, HORIZON_DAYS)


def _flags_as_digit_strings(
    up: httpx.Client, path: str, pairs: Pairs, body: bytes | None, headers: dict[str, str]
) -> httpx.Response:
    """The emulator with the event types' `isEnabled` served as "1" / "0"."""
    answer = up.request(headers.pop(":method"), path, params=pairs, content=body, headers=headers)
    if path.rstrip("/") != "/panel/api/event-type" or answer.status_code != 200:
        return answer
    served = answer.json()
    for row in served["items"]:
        row["isEnabled"] = "1" if row["isEnabled"] else "0"
    return httpx.Response(200, json=served)


def test_a_type_disabled_as_the_string_0_whose_availability_is_refused_is_no_snapshot(
    tmp_path, small_emulator
):
    small_emulator.set_readings("disabled_availability=400")
    with behind(small_emulator, _flags_as_digit_strings) as base_url:
        settings = _fresh(tmp_path, small_emulator).with_overrides("api", base_url=base_url)
        with SimplyMeetClient(base_url, api_key=small_emulator.api_key) as client:
            sync(settings, client, SyncRequest(resources=["availability"], build_models=False))

    landed = {
        row[0]
        for row in query(settings, "select event_type_id from raw.event_type_availability_days")
    }
    types = small_emulator.store.list_dtos("event_types")
    assert landed == {row["id"] for row in types if row["isEnabled"]}


def test_availability_refused_for_a_disabled_type_keeps_the_earlier_snapshots(
    synced, small_emulator
):
    earlier = dt.date(2020, 1, 1).isoformat()
    count = (
        f"select count(*) from raw.event_type_availability_days where snapshot_date = '{earlier}'"
    )
    _backdate_snapshot(synced, earlier)
    kept = query(synced, count)
    small_emulator.set_readings("disabled_availability=400")

    run_sync(synced, small_emulator, resources=("availability",))

    assert kept[0][0] > 0 and query(synced, count) == kept


def _backdate_snapshot(settings, day: str) -> None:
    """Move the warehouse's snapshot to `day`: an earlier day's, which a run must keep."""
    import duckdb

    con = duckdb.connect(settings.get("warehouse", "duckdb_path"))
    try:
        for table in (t.AVAILABILITY_DAYS, t.AVAILABILITY_SLOTS):
            con.execute(f"update raw.{table.name} set snapshot_date = '{day}'")
    finally:
        con.close()


# --- orderField refused ---------------------------------------------------------------------

ORDER_REFUSED = "order_fields=scheduledAt|createdAt"


def test_an_event_list_that_refuses_the_updated_at_order_is_read_in_full(tmp_path):
    with start_emulator(seed=5, events=250, readings=ORDER_REFUSED) as emulator:
        settings = settings_for(tmp_path, emulator)

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert emulator.count("event_list", status=400) >= 1
        assert_events_match(settings, emulator)


def test_an_incremental_run_against_a_refused_order_lands_every_change(tmp_path):
    with start_emulator(seed=5, events=250, readings=ORDER_REFUSED) as emulator:
        settings = settings_for(tmp_path, emulator, lag_seconds=0)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        ids = emulator.store.all_event_ids()
        with client_for(emulator) as client:
            for event_id in (ids[0], ids[len(ids) // 2], ids[-1]):
                client.event_notes(event_id, notes=f"changed {event_id}")

        run_sync(settings, emulator, resources=EVENTS_ONLY)

        assert_events_match(settings, emulator)


def test_a_refused_order_is_one_warning_line(tmp_path, caplog):
    with (
        start_emulator(seed=5, events=120, readings=ORDER_REFUSED) as emulator,
        caplog.at_level(logging.WARNING, logger="simplymeet.sync"),
    ):
        run_sync(settings_for(tmp_path, emulator), emulator, resources=EVENTS_ONLY)

    lines = [r.getMessage() for r in caplog.records if "orderField" in r.getMessage()]
    assert lines == [
        "the event list refused orderField=updatedAt (HTTP 400); reading every page unordered"
    ]


# --- 403 of one endpoint --------------------------------------------------------------------


def test_a_403_from_one_endpoint_after_others_accepted_the_key_exits_4_naming_it(
    tmp_path, small_emulator
):
    small_emulator.set_readings("forbidden=integration_list")
    settings = _fresh(tmp_path, small_emulator)

    result = run_cli(
        "sync",
        "--no-models",
        "--resources",
        "event_types,integrations",
        env=sync_env(settings, small_emulator.api_key),
    )

    assert result.exit_code == 4, result.output
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "may not read this one (integration_list)" in error and "plan" not in error


# --- one resource failing for good -----------------------------------------------------------


def test_a_resource_failing_for_good_keeps_its_rows_while_the_others_load(synced, small_emulator):
    kept = warehouse_rows(synced, t.ACL_RULES)
    event_id = small_emulator.store.all_event_ids()[0]
    with client_for(small_emulator) as client:
        client.event_notes(event_id, notes="changed while the ACL fails")
    small_emulator.set_faults("500=1,endpoints=acl_list")

    with (
        pytest.raises(ServerError, match=r"^acl_rules not read \(kept as they were"),
        SimplyMeetClient(
            small_emulator.base_url, api_key=small_emulator.api_key, retry=FAST
        ) as client,
    ):
        sync(synced, client, SyncRequest(resources=("events", "acl_rules"), build_models=False))

    assert kept and warehouse_rows(synced, t.ACL_RULES) == kept
    assert_events_match(synced, small_emulator)


_NOTHING = {
    "204": httpx.Response(204),
    "empty body": httpx.Response(200, content=b""),
    "null": httpx.Response(200, json=None),
    "{}": httpx.Response(200, json={}),
    "items null": httpx.Response(200, json={"items": None}),
}


def _nothing_from(where: str, nothing: httpx.Response) -> Answer:
    """The emulator, except that requests to the path `where` (and below it, when it ends
    in `/`) are answered with `nothing`."""

    def answer(
        up: httpx.Client, path: str, pairs: Pairs, body: bytes | None, headers: dict[str, str]
    ) -> httpx.Response:
        method = headers.pop(":method")
        if path.rstrip("/") == where.rstrip("/") or (
            where.endswith("/") and path.startswith(where)
        ):
            return nothing
        return up.request(method, path, params=pairs, content=body, headers=headers)

    return answer


def _sync_through(
    settings: Any, emulator: RunningEmulator, answer: Answer, resources: tuple[str, ...]
) -> None:
    """Sync `resources` of an existing warehouse through a proxy answering with `answer`."""
    with behind(emulator, answer) as base_url:
        through = settings.with_overrides("api", base_url=base_url)
        with SimplyMeetClient(base_url, api_key=emulator.api_key, retry=FAST) as client:
            sync(through, client, SyncRequest(resources=resources, build_models=False))


@pytest.mark.parametrize("nothing", list(_NOTHING))
def test_a_list_answered_with_nothing_keeps_its_rows_and_fails_the_run(
    synced, small_emulator, nothing
):
    # The reference gives a list read a body: nothing is no proof the users are all gone.
    kept = warehouse_rows(synced, t.USERS)

    answer = _nothing_from("/panel/api/user", _NOTHING[nothing])
    with pytest.raises(ProtocolError, match=r"^users not read \(kept as they were.*nothing"):
        _sync_through(synced, small_emulator, answer, ("users",))

    assert kept and warehouse_rows(synced, t.USERS) == kept


def test_a_list_that_never_adds_up_keeps_its_rows_while_the_others_load_and_exits_8(
    synced, small_emulator
):
    kept = warehouse_rows(synced, t.EVENT_TYPES)
    event_id = small_emulator.store.all_event_ids()[0]
    with client_for(small_emulator) as client:
        client.event_notes(event_id, notes="changed while the event types never add up")
    small_emulator.set_faults("short=1,endpoints=event_type_list")  # every page short of its meta

    result = run_cli(
        "sync", "--no-models", "--resources", "events,event_types",
        env=sync_env(synced, small_emulator.api_key),
    )  # fmt: skip

    assert result.exit_code == 8, result.output
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "event_types" in error and "kept as they were" in error
    assert kept and warehouse_rows(synced, t.EVENT_TYPES) == kept
    assert_events_match(synced, small_emulator)


def test_polls_whose_pages_never_hold_the_same_polls_twice_keep_their_rows_and_exit_8(
    synced, small_emulator
):
    kept = warehouse_rows(synced, t.POLLS)
    # Every other read's page 2 skips a poll (seed 3 draws shift, none, shift, none): as a
    # server breaking ties in its order anew on each request.
    small_emulator.set_faults("page_cap=2,shift=0.5,pages=2,seed=3,endpoints=poll_list")

    result = run_cli(
        "sync", "--no-models", "--resources", "polls", env=sync_env(synced, small_emulator.api_key)
    )

    assert result.exit_code == 8, result.output
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "poll_list" in error and "served twice" in error  # the shift reads a poll twice
    assert kept and warehouse_rows(synced, t.POLLS) == kept


@pytest.mark.parametrize(("endpoint", "resource", "table"), [
    ("poll_list", "polls", t.POLLS),
    ("user_list", "users", t.USERS),
    ("user_event_type_tag_list", "user_event_type_tags", t.USER_EVENT_TYPE_TAGS),
])  # fmt: skip
def test_a_plain_list_serving_a_row_in_place_of_another_on_every_read_keeps_its_rows_and_exits_8(
    synced, small_emulator, endpoint, resource, table
):
    # Page 1's last row swapped for page 2's first on every read (an unstable order under
    # LIMIT/OFFSET): a plain array has no count to show the row no page held.
    kept = warehouse_rows(synced, table)
    small_emulator.set_faults(f"page_cap=2,swap=1,pages=1,endpoints={endpoint}")

    result = run_cli(
        "sync", "--no-models", "--resources", resource,
        env=sync_env(synced, small_emulator.api_key),
    )  # fmt: skip

    assert result.exit_code == 8, result.output
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert endpoint in error and "served twice" in error
    assert kept and warehouse_rows(synced, table) == kept


def test_a_403_on_one_resource_exits_4_naming_it_and_keeps_its_rows(synced, small_emulator):
    kept = query(synced, "select scope, position_in_parent, name from raw.integrations")
    small_emulator.set_readings("forbidden=integration_list")

    result = run_cli(
        "sync",
        "--no-models",
        "--resources",
        "event_types,integrations",
        env=sync_env(synced, small_emulator.api_key),
    )

    assert result.exit_code == 4, result.output
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith("error: integrations not read")
    assert (
        kept
        and query(synced, "select scope, position_in_parent, name from raw.integrations") == kept
    )


def test_new_unstamped_events_are_read_from_a_server_that_orders_by_updated_at_but_not_by_id(
    tmp_path,
):
    with start_emulator(seed=5, events=250, readings="order_fields=updatedAt") as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        made = book_events(emulator, 3, month=4)
        emulator.set_anomalies("null_updated=" + "|".join(map(str, made)))
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        landed = landed_count(settings, made)

    assert landed == len(made)


def test_cancelers_served_as_emails_split_the_cancellations_as_the_words_did(
    synced, small_emulator
):
    # CancellationDTO.canceler "The user of the cancellation." read as the person's e-mail:
    # the invitee's own is the invitee's side, the owner's the host's (users' e-mails).
    overall = (
        "select canceled_by_invitee, canceled_by_host, canceled_by_unknown "
        "from analytics.cancellation_rates where breakdown = 'overall'"
    )
    path = synced.get("warehouse", "duckdb_path")
    build_models(path, settings=synced)
    [words] = query(synced, overall)
    small_emulator.set_anomalies("canceler_as_email=1")
    run_sync(synced, small_emulator, resources=EVENTS_ONLY, full_refresh=True)
    build_models(path, settings=synced)

    [(served_as_emails,)] = query(
        synced, "select count(*) from raw.events where cancellation_canceler like '%@%'"
    )
    assert served_as_emails > 0
    assert query(synced, overall) == [words]
    assert words[0] > 0 and words[1] > 0


# --- ids far apart ------------------------------------------------------------------------------

_FAR = 1_700_000_000_000_000_000
_STEP = 4_194_304_000
"""Event ids served as `_FAR + id * _STEP`: a 64-bit generator's, a second's worth apart."""


def _far(event_id: int) -> int:
    return _FAR + event_id * _STEP


def _near(far_id: int) -> int:
    number, rest = divmod(far_id - _FAR, _STEP)
    return number if rest == 0 and number > 0 else 10**9  # an id the emulator does not have


def _ids_far_apart(
    up: httpx.Client, path: str, pairs: Pairs, body: bytes | None, headers: dict[str, str]
) -> httpx.Response:
    """The emulator's events under ids far apart, in the same order: asked by the far ids,
    answered with them."""
    method = headers.pop(":method")
    head, _, last = path.rstrip("/").rpartition("/")
    if head == "/panel/api/event" and last.isdigit():
        path = f"{head}/{_near(int(last))}"
    pairs = [(k, str(_near(int(v))) if k.startswith("filter[ids]") else v) for k, v in pairs]
    answer = up.request(method, path, params=pairs, content=body, headers=headers)
    if not path.startswith("/panel/api/event/") or answer.status_code != 200:
        return answer
    served = answer.json()
    for event in served.get("items", [served]):
        event["id"] = _far(event["id"])
        event["relatedEventIds"] = [_far(i) for i in event["relatedEventIds"]]
    return httpx.Response(200, json=served)


def test_events_whose_ids_are_far_apart_all_land(tmp_path, small_emulator):
    # Nothing in the reference says ids are small or dense: billions of ids lie between two
    # pages, too many to ask for, and the count the server stated proves none is missing.
    with behind(small_emulator, _ids_far_apart) as base_url:
        settings = _fresh(tmp_path, small_emulator).with_overrides(
            "api", base_url=base_url, page_size=10
        )
        with SimplyMeetClient(base_url, api_key=small_emulator.api_key) as client:
            sync(settings, client, SyncRequest(resources=EVENTS_ONLY, build_models=False))

    landed = {row[0] for row in query(settings, "select id from raw.events")}
    assert landed == {_far(i) for i in small_emulator.store.all_event_ids()}


def test_events_answered_with_nothing_fail_a_first_sync_naming_the_endpoint(
    tmp_path, small_emulator
):
    with behind(small_emulator, _nothing_from("/panel/api/event", httpx.Response(204))) as base_url:
        settings = _fresh(tmp_path, small_emulator).with_overrides("api", base_url=base_url)
        with (
            pytest.raises(PipelineStepFailed, match=r"event_list.*answered nothing"),
            SimplyMeetClient(base_url, api_key=small_emulator.api_key, retry=FAST) as client,
        ):
            sync(settings, client, SyncRequest(resources=EVENTS_ONLY, build_models=False))


def _rewritten(change: Callable[[str, bytes], bytes]) -> Answer:
    """The emulator, every successful answer's body passed through `change(path, body)`."""

    def answer(
        up: httpx.Client, path: str, pairs: Pairs, body: bytes | None, headers: dict[str, str]
    ) -> httpx.Response:
        served = up.request(
            headers.pop(":method"), path, params=pairs, content=body, headers=headers
        )
        if served.status_code != 200:
            return served
        kept = {"content-type": served.headers.get("content-type", "application/json")}
        return httpx.Response(200, content=change(path, served.content), headers=kept)

    return answer


def test_answers_written_after_a_byte_order_mark_all_land(tmp_path, small_emulator):
    # A PHP source file saved with a BOM writes it before every answer.
    with behind(small_emulator, _rewritten(lambda _path, body: b"\xef\xbb\xbf" + body)) as url:
        settings = _fresh(tmp_path, small_emulator).with_overrides("api", base_url=url)
        with SimplyMeetClient(url, api_key=small_emulator.api_key) as client:
            sync(settings, client, SyncRequest(resources=EVENTS_ONLY, build_models=False))

    assert_events_match(settings, small_emulator)


def test_answers_preceded_by_interim_early_hints_all_land(tmp_path, small_emulator):
    # A CDN in front of the API may send `103 Early Hints` (and a busy server `102
    # Processing`) before each answer: informational, to be skipped.
    hints = b"HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n"
    processing = b"HTTP/1.1 102 Processing\r\n\r\n"
    with behind(small_emulator, served, interim=hints + processing) as url:
        settings = _fresh(tmp_path, small_emulator).with_overrides("api", base_url=url)
        with SimplyMeetClient(url, api_key=small_emulator.api_key) as client:
            sync(settings, client, SyncRequest(resources=EVENTS_ONLY, build_models=False))

    assert_events_match(settings, small_emulator)


def test_an_event_page_that_is_not_json_fails_the_sync_naming_the_endpoint(
    tmp_path, small_emulator
):
    # NaN is no JSON value; pyarrow reads it all the same.
    def nan_duration(path: str, body: bytes) -> bytes:
        if path.rstrip("/") != "/panel/api/event":
            return body
        return body.replace(b'"duration":', b'"duration":NaN,"was":', 1)

    with behind(small_emulator, _rewritten(nan_duration)) as url:
        settings = _fresh(tmp_path, small_emulator).with_overrides("api", base_url=url)
        with (
            pytest.raises(PipelineStepFailed, match=r"event.*not JSON"),
            SimplyMeetClient(url, api_key=small_emulator.api_key, retry=FAST) as client,
        ):
            sync(settings, client, SyncRequest(resources=EVENTS_ONLY, build_models=False))


def test_an_event_whose_id_is_past_64_bits_is_set_aside_and_the_others_load(
    tmp_path, small_emulator
):
    victim = small_emulator.store.all_event_ids()[3]

    def huge_id(path: str, body: bytes) -> bytes:
        if path.rstrip("/") != "/panel/api/event":
            return body
        # Parsed, not replaced as text: an event's users and types carry ids of their own,
        # and which of them comes first depends on the day the bookings are seeded around.
        page = json.loads(body)
        for item in page["items"]:
            if item["id"] == victim:
                item["id"] = 18446744073709551621
        return json.dumps(page).encode()

    with behind(small_emulator, _rewritten(huge_id)) as url:
        settings = _fresh(tmp_path, small_emulator).with_overrides("api", base_url=url)
        with SimplyMeetClient(url, api_key=small_emulator.api_key) as client:
            summary = sync(settings, client, SyncRequest(resources=EVENTS_ONLY, build_models=False))

    landed = {row[0] for row in query(settings, "select id from raw.events")}
    assert landed == set(small_emulator.store.all_event_ids()) - {victim}
    assert summary.rejected_rows == 1


def test_tag_lists_answered_with_nothing_read_as_no_tags(tmp_path, small_emulator):
    # The reference leaves an event type's tag list's answer unsaid ("Retour: -"): nothing
    # may mean none, unlike the lists it says are returned.
    with behind(
        small_emulator, _nothing_from("/panel/api/event-type-tag/", httpx.Response(204))
    ) as base_url:
        settings = _fresh(tmp_path, small_emulator).with_overrides("api", base_url=base_url)
        with SimplyMeetClient(base_url, api_key=small_emulator.api_key, retry=FAST) as client:
            resources = ("event_types", "event_type_tags")
            sync(settings, client, SyncRequest(resources=resources, build_models=False))

    assert query(settings, "select count(*) from raw.event_type_tags") == [(0,)]


def test_an_event_type_deleted_between_its_summary_and_its_read_by_id_is_left_out(
    tmp_path,
) -> None:
    with start_emulator(seed=3, events=50, readings="event_type_list=summary") as emulator:
        store = emulator.store
        deleted: list[int] = []

        def delete_after_the_list(up, path, pairs, body, headers):
            answer = served(up, path, pairs, body, headers)
            if path.rstrip("/").endswith("/event-type") and not deleted:
                with store.lock:
                    gone = store.ref.event_types.pop(2)
                    store.changed(rendered=True)
                deleted.append(gone.id)
            return answer

        settings = _synced_through(emulator, delete_after_the_list, tmp_path, ["event_types"])
        wanted = sorted(et.id for et in store.ref.event_types)

    assert deleted and deleted[0] not in wanted
    assert [row[0] for row in query(settings, "select id from raw.event_types order by id")] == (
        wanted
    )


def test_event_types_listed_as_summaries_are_read_whole_by_id(tmp_path) -> None:
    # "Get list of event types … Retour: -"; SimpleEventTypeDTO is defined, named by none.
    with start_emulator(seed=3, events=50, readings="event_type_list=summary") as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, resources=["event_types", "availability"])
        wanted = sorted((et.id, et.duration, et.kind) for et in emulator.store.ref.event_types)
        gets = emulator.received("event_type_get")

    landed = query(settings, "select id, duration, type from raw.event_types order by id")
    assert landed == wanted
    assert gets == len(wanted)
    assert query(settings, "select count(*) from raw.event_type_availability_days")[0][0] > 0


@pytest.mark.parametrize("nothing", ["null", "{}"])
def test_an_event_type_read_whole_by_id_answered_with_nothing_keeps_the_types_and_fails(
    tmp_path, nothing
) -> None:
    # Kept as its summary, the type would land without its duration and hosts, exit 0.
    with start_emulator(seed=3, events=50, readings="event_type_list=summary") as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, resources=["event_types"])
        kept = warehouse_rows(settings, t.EVENT_TYPES)
        hosts = query(settings, "select count(*) from raw.event_types__users")
        victim = emulator.store.ref.event_types[0].id
        answer = _nothing_from(f"/panel/api/event-type/{victim}", _NOTHING[nothing])
        with pytest.raises(ProtocolError, match=rf"event type {victim} answered nothing"):
            _sync_through(settings, emulator, answer, ("event_types",))

    assert kept and warehouse_rows(settings, t.EVENT_TYPES) == kept
    assert query(settings, "select count(*) from raw.event_types__users") == hosts


def _state_filter_answered_404(up, path: str, pairs: Pairs, body, headers) -> httpx.Response:
    """The emulator's answers, but an event list asked for a state answered 404 (a server
    answering "none" so)."""
    if path.rstrip("/").endswith("/event") and any(k.startswith("filter[state]") for k, _ in pairs):
        return httpx.Response(404, json={"message": "Not found"})
    return served(up, path, pairs, body, headers)


def test_a_404_to_the_canceled_events_read_is_taken_for_none_not_a_failed_run(
    tmp_path, small_emulator
):
    settings = _synced_through(
        small_emulator, _state_filter_answered_404, tmp_path, list(EVENTS_ONLY)
    )

    assert_events_match(settings, small_emulator)
