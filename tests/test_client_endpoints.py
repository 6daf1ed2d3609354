"""Every endpoint of the contract, driven through the client's typed method against the emulator."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from simplymeet.client import Page, SimplyMeetClient
from simplymeet.contract import ENDPOINTS, dtos
from simplymeet.emulator import RunningEmulator, start_emulator


@dataclass(frozen=True)
class Known:
    """Ids found through the API, so each driver acts on something that exists."""

    events: list[int]  # active events, each driver takes its own
    event_type: int
    tagged_event_type: int
    tag: int
    poll: int
    poll_uuid: str
    poll_slots: list[int]
    user_tag: int


def discover(client: SimplyMeetClient) -> Known:
    active = client.event_list(on_page=20, filter={"state": "active"}).items
    event_types = client.event_type_list(on_page=100).items
    tagged = next(
        (et.id, tags[0].id)
        for et in event_types
        if (tags := client.event_type_tag_list(et.id))  # type: ignore[arg-type]
    )
    poll = client.poll_list()[0]
    return Known(
        events=[e.id for e in active],  # type: ignore[misc]
        event_type=event_types[0].id,  # type: ignore[arg-type]
        tagged_event_type=tagged[0],  # type: ignore[arg-type]
        tag=tagged[1],  # type: ignore[arg-type]
        poll=poll.id,  # type: ignore[arg-type]
        poll_uuid=poll.uuid,  # type: ignore[arg-type]
        poll_slots=[slot.id for slot in poll.availability or []],  # type: ignore[misc]
        user_tag=client.user_event_type_tag_list()[0].id,  # type: ignore[arg-type]
    )


# One driver per endpoint: the call and a check of what it returned. Each uses its own event
# (k.events[n]) so drivers never depend on one another's writes.
Driver = tuple[Callable[[Any, Known], Any], Callable[[Any], bool]]
is_none: Callable[[Any], bool] = lambda r: r is None  # noqa: E731


def list_of(dto: type) -> Callable[[Any], bool]:
    return lambda r: isinstance(r, list) and len(r) > 0 and all(isinstance(i, dto) for i in r)


def one(dto: type) -> Callable[[Any], bool]:
    return lambda r: isinstance(r, dto)


RULE = {
    "type": "weekday",
    "config": {"weekday": "monday"},
    "hourIntervals": [{"start": "09:00", "end": "17:00"}],
}

DRIVERS: dict[str, Driver] = {
    "acl_list": (lambda c, k: c.acl_list(), list_of(dtos.AclRuleDTO)),
    "availability_rule_save": (
        lambda c, k: c.availability_rule_save(
            {"eventTypeIds": [k.event_type], "availabilityRules": [RULE]}
        ),
        is_none,
    ),
    "organization_cancellation_policy_get": (
        lambda c, k: c.organization_cancellation_policy_get(),
        one(dtos.CancellationPolicyDTO),
    ),
    "organization_cancellation_policy_update": (
        lambda c, k: c.organization_cancellation_policy_update(enabled=True, period=720),
        lambda r: isinstance(r, dtos.CancellationPolicyDTO) and r.period == 720,
    ),
    "user_cancellation_policy_get": (
        lambda c, k: c.user_cancellation_policy_get(),
        one(dtos.CancellationPolicyDTO),
    ),
    "user_cancellation_policy_update": (
        lambda c, k: c.user_cancellation_policy_update(label="48 hours", period=2880),
        lambda r: isinstance(r, dtos.CancellationPolicyDTO) and r.period == 2880,
    ),
    "event_cancel": (lambda c, k: c.event_cancel(k.events[0], reason="test"), is_none),
    "event_cancel_list": (
        lambda c, k: c.event_cancel_list(k.events[1:3], reason="test"),
        is_none,
    ),
    "event_create": (
        lambda c, k: c.event_create(
            {
                "eventType": k.event_type,
                "scheduledAt": "2030-01-07 10:00:00",
                "invitee": {"fullName": "Ada Lovelace", "email": "ada@example.com"},
            }
        ),
        lambda r: isinstance(r, list) and len(r) == 1 and isinstance(r[0], dtos.EventDTO),
    ),
    "event_get": (
        lambda c, k: c.event_get(k.events[3]),
        lambda r: isinstance(r, dtos.EventDTO) and r.id is not None,
    ),
    "event_edit": (
        lambda c, k: c.event_edit(k.events[4], {"invitee": {"fullName": "Grace Hopper"}}),
        is_none,
    ),
    "event_delete": (lambda c, k: c.event_delete(k.events[5]), is_none),
    "event_delete_list": (lambda c, k: c.event_delete_list(k.events[6:8]), is_none),
    "event_notes": (lambda c, k: c.event_notes(k.events[8], "bring slides"), is_none),
    "event_invite_participants": (
        lambda c, k: c.event_invite_participants(k.events[9], ["bob@example.com"], "join us"),
        is_none,
    ),
    "event_list": (
        lambda c, k: c.event_list(page=1, on_page=5, order_field="id", order_direction="asc"),
        lambda r: isinstance(r, Page) and len(r.items) == 5 and r.pages_count is not None,
    ),
    "event_no_show": (lambda c, k: c.event_no_show(k.events[10]), is_none),
    "event_no_show_list": (lambda c, k: c.event_no_show_list(k.events[11:13]), is_none),
    "event_reschedule": (
        lambda c, k: c.event_reschedule(
            k.events[13], "2030-02-01 09:30:00", "2030-02-01 10:00:00", k.event_type
        ),
        is_none,
    ),
    "event_resend_notification": (
        lambda c, k: c.event_resend_notification(k.events[14]),
        is_none,
    ),
    "event_type_list": (
        lambda c, k: c.event_type_list(on_page=3),
        lambda r: isinstance(r, Page) and all(isinstance(i, dtos.EventTypeDTO) for i in r),
    ),
    "event_type_availability": (
        lambda c, k: c.event_type_availability(
            k.event_type, start_date="2030-01-07", end_date="2030-01-08"
        ),
        list_of(dtos.EventTypeAvailabilityDTO),
    ),
    "event_type_get": (lambda c, k: c.event_type_get(k.event_type), one(dtos.EventTypeDTO)),
    "event_type_tag_add": (
        lambda c, k: c.event_type_tag_add(k.event_type, k.tag),
        is_none,
    ),
    "event_type_tag_remove": (
        lambda c, k: c.event_type_tag_remove(k.tagged_event_type, k.tag),
        is_none,
    ),
    "event_type_tag_list": (
        lambda c, k: c.event_type_tag_list(k.tagged_event_type),
        list_of(dtos.EventTypeTagDTO),
    ),
    "integration_list": (lambda c, k: c.integration_list(), one(dtos.IntegrationListDTO)),
    "poll_result_create": (
        lambda c, k: c.poll_result_create(k.poll_uuid, k.poll_slots[:1], "eve@example.com"),
        is_none,
    ),
    "poll_list": (lambda c, k: c.poll_list(), list_of(dtos.PollDTO)),
    "poll_create": (
        lambda c, k: c.poll_create(
            {
                "eventTypeId": k.event_type,
                "name": "Kick-off",
                "availability": [{"date": "2030-01-07 10:00:00"}],
            }
        ),
        lambda r: isinstance(r, dtos.PollDTO) and r.name == "Kick-off",
    ),
    "poll_get": (lambda c, k: c.poll_get(k.poll), one(dtos.PollDTO)),
    "poll_delete": (lambda c, k: c.poll_delete(k.poll), is_none),
    "single_use_link_create": (
        lambda c, k: c.single_use_link_create(k.event_type),
        lambda r: isinstance(r, dtos.SingleUseLinkDTO) and bool(r.url),
    ),
    "current_user_get": (lambda c, k: c.current_user_get(), one(dtos.UserDTO)),
    "user_list": (lambda c, k: c.user_list(), list_of(dtos.UserDTO)),
    "user_event_type_tag_list": (
        lambda c, k: c.user_event_type_tag_list(),
        list_of(dtos.UserEventTypeTagDTO),
    ),
    "user_event_type_tag_create": (
        lambda c, k: c.user_event_type_tag_create("VIP", color="#ff0000"),
        lambda r: isinstance(r, dtos.UserEventTypeTagDTO) and r.name == "VIP",
    ),
    "user_event_type_tag_update": (
        lambda c, k: c.user_event_type_tag_update(k.user_tag, "Renamed"),
        lambda r: isinstance(r, dtos.UserEventTypeTagDTO) and r.name == "Renamed",
    ),
    "user_event_type_tag_delete": (
        lambda c, k: c.user_event_type_tag_delete(k.user_tag),
        is_none,
    ),
}


def logged(emulator: RunningEmulator, name: str, expect: int, **match: Any) -> int:
    """Requests the emulator logged for `name`, waiting briefly for the count to settle.

    The emulator logs a request after writing its response, so the client can see the answer
    a moment before the log does.
    """
    deadline = time.monotonic() + 2.0
    while (count := emulator.count(name, **match)) < expect and time.monotonic() < deadline:
        time.sleep(0.005)
    return count


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A small seeded emulator (enough active events for one per driver), started per test."""
    with start_emulator(seed=1, events=80) as emu:
        yield emu


@pytest.fixture
def known(emulator: RunningEmulator) -> Known:
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client:
        found = discover(client)
    deadline = time.monotonic() + 2.0  # let the log catch up before clearing it
    while len(emulator.requests) < client.stats.requests and time.monotonic() < deadline:
        time.sleep(0.005)
    emulator.reset_log()
    return found


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[SimplyMeetClient]:
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key, max_retries=0) as client:
        yield client


def test_every_endpoint_has_a_method_on_the_client():
    client = SimplyMeetClient(api_key="k")
    for name in ENDPOINTS:
        assert callable(getattr(client, name, None)), name


def test_every_endpoint_method_has_a_docstring_and_a_typed_return():
    client = SimplyMeetClient(api_key="k")
    for name in ENDPOINTS:
        method = getattr(client, name)
        assert (method.__doc__ or "").strip(), name
        assert inspect.signature(method).return_annotation is not inspect.Signature.empty, name
        assert "Call[" not in str(inspect.signature(method).return_annotation), name


def test_every_endpoint_has_a_driver_in_this_file():
    assert sorted(DRIVERS) == sorted(ENDPOINTS)


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_endpoint_works_through_the_sync_client(
    name: str, client: SimplyMeetClient, known: Known, emulator: RunningEmulator
):
    call, check = DRIVERS[name]
    result = call(client, known)
    assert check(result), result
    assert logged(emulator, name, 1) == 1
    assert 200 <= emulator.requests[-1].status < 300


def test_generic_call_returns_the_parsed_json(client: SimplyMeetClient, known: Known):
    body = client.call("event_get", {"id": known.events[0]})
    assert isinstance(body, dict) and body["id"] == known.events[0]


@pytest.mark.parametrize("suffix", ["/panel/api", "/panel/api/"])
def test_a_base_url_given_with_the_api_prefix_is_read_without_it(
    emulator: RunningEmulator, known: Known, suffix: str
):
    with SimplyMeetClient(emulator.base_url + suffix, api_key=emulator.api_key) as client:
        assert client.call("event_get", {"id": known.events[0]})["id"] == known.events[0]


def test_generic_call_can_return_the_typed_result(client: SimplyMeetClient, known: Known):
    event = client.call("event_get", {"id": known.events[0]}, raw=False)
    assert isinstance(event, dtos.EventDTO)


def test_generic_call_with_an_unknown_name_names_close_endpoints(client: SimplyMeetClient):
    with pytest.raises(ValueError, match="event_get"):
        client.call("event_fetch", {"id": 1})


def test_request_bodies_are_validated_before_sending(
    client: SimplyMeetClient, emulator: RunningEmulator
):
    with pytest.raises(ValueError, match="ids"):
        client.event_cancel_list([])
    with pytest.raises(ValueError, match="bogus"):
        client.call("event_cancel", {"id": 1}, body={"bogus": 1})
    assert emulator.requests == []


def test_dates_and_datetimes_are_sent_in_the_request_formats(
    client: SimplyMeetClient, known: Known, emulator: RunningEmulator
):
    import datetime as dt

    when = dt.datetime(2030, 3, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    client.event_reschedule(known.events[0], when, when + dt.timedelta(minutes=30), 1)
    client.event_type_availability(known.event_type, start_date=dt.date(2030, 3, 1))
    moved = client.event_get(known.events[0])
    assert moved.scheduledAt is not None and moved.scheduledAt.startswith("2030-03-01T08:00:00")
    assert "startDate=2030-03-01" in emulator.requests[1].query


def test_generic_typed_call_reads_several_created_events_as_a_list(
    client: SimplyMeetClient, known: Known
):
    created = client.call(
        "event_create",
        body={
            "eventType": known.event_type,
            "multipleScheduledAt": ["2030-01-07 10:00:00", "2030-01-08 10:00:00"],
            "invitee": {"fullName": "Ada Lovelace", "email": "ada@example.com"},
        },
        raw=False,
    )
    assert [type(e) for e in created] == [dtos.EventDTO, dtos.EventDTO]


def test_a_request_echoing_its_path_id_in_the_query_keeps_its_endpoint_s_name():
    from simplymeet.client.http import prepare

    req = prepare(
        "http://127.0.0.1:9",
        "event_type_availability",
        {"id": 7},
        {"startDate": "2031-01-01", "endDate": "2031-01-07"},
    )

    assert req.info.endpoint == "event_type_availability"
