"""Walking lists page by page against the emulator: edges, order, concurrency, early stops."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import pytest

from simplymeet.client import ProtocolError, SimplyMeetClient
from simplymeet.client.pages import READ_AHEAD
from simplymeet.contract import dtos
from simplymeet.emulator import RunningEmulator, start_emulator

EVENTS = 600


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A seeded emulator with EVENTS events, enough for many pages, started per test."""
    with start_emulator(seed=1, events=EVENTS) as emu:
        yield emu


BY_ID = {"orderField": "id", "orderDirection": "asc"}


def settled(emulator: RunningEmulator, endpoint: str, at_least: int = 0, wait: float = 0.2) -> int:
    """Requests logged for `endpoint` once the log has caught up (it lags the response)."""
    deadline = time.monotonic() + wait
    count = emulator.count(endpoint)
    while time.monotonic() < deadline:
        time.sleep(0.01)
        count = emulator.count(endpoint)
        if at_least and count >= at_least:
            break
    return count


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[SimplyMeetClient]:
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key, concurrency=4) as client:
        yield client


@pytest.mark.parametrize("events", [0, 1, 100, 101])
def test_iter_pages_yields_every_event_once_at_the_page_edges(events: int):
    with (
        start_emulator(events=events) as emu,
        SimplyMeetClient(emu.base_url, api_key=emu.api_key) as client,
    ):
        pages = list(client.iter_pages("event_list", BY_ID, on_page=100))
        ids = [item["id"] for page in pages for item in page.items]
        assert ids == sorted(set(ids)) and len(ids) == events
        assert [p.number for p in pages] == list(range(1, math.ceil(events / 100) + 1))
        assert settled(emu, "event_list", max(1, len(pages))) == max(1, len(pages))


def test_concurrent_pages_yield_every_item_exactly_once_in_order(
    emulator: RunningEmulator, client: SimplyMeetClient
):
    ids = [item["id"] for item in client.iter_items("event_list", BY_ID, on_page=37)]
    assert len(ids) == EVENTS and len(set(ids)) == EVENTS
    assert ids == sorted(ids)


def test_concurrent_pages_run_on_several_connections_at_once():
    with (
        start_emulator(events=240, latency_ms=100) as emu,
        SimplyMeetClient(emu.base_url, api_key=emu.api_key, concurrency=4) as client,
    ):
        total = sum(len(page) for page in client.iter_pages("event_list", on_page=20))
        assert total == 240
        # Pages answered one after another would reuse one keep-alive connection; a window of
        # four requests in flight at once needs four (asserted on connections, not on time,
        # so a loaded machine cannot make it flaky).
        assert emu.connections_accepted >= client.concurrency


def test_concurrent_pages_are_read_a_bounded_way_ahead_of_the_consumer(
    emulator: RunningEmulator, client: SimplyMeetClient
):
    pages = client.iter_pages("event_list", on_page=10)  # 200 pages
    next(pages)
    expected = 1 + client.concurrency * READ_AHEAD
    assert settled(emulator, "event_list", at_least=expected, wait=10.0) >= expected
    requested = settled(emulator, "event_list", wait=0.3)
    pages.close()
    assert requested == expected


def test_descending_pages_follow_the_servers_order(
    emulator: RunningEmulator, client: SimplyMeetClient
):
    query = {"orderField": "updatedAt", "orderDirection": "desc"}
    stamps = [item["updatedAt"] for item in client.iter_items("event_list", query, on_page=100)]
    assert len(stamps) == EVENTS and stamps == sorted(stamps, reverse=True)


def test_pages_can_be_typed(client: SimplyMeetClient):
    page = next(client.iter_pages("event_list", on_page=5, raw=False))
    assert all(isinstance(item, dtos.EventDTO) for item in page.items)
    assert page.meta is not None and page.meta.itemsCount == EVENTS


def test_pages_take_a_query_dto_with_a_filter(client: SimplyMeetClient):
    query = dtos.GetEventListRequestDTO(filter=dtos.GetEventListFilterDTO(state="canceled"))
    states = {item["state"] for item in client.iter_items("event_list", query, on_page=100)}
    assert states == {"canceled"}


NOTHING = {"filter": {"ids": [987654321]}}
"""An event list query no event matches."""


def test_an_empty_list_yields_no_page(client: SimplyMeetClient):
    assert list(client.iter_pages("event_list", NOTHING, on_page=10)) == []


def test_keep_empty_yields_an_empty_lists_page_with_its_meta(client: SimplyMeetClient):
    [page] = list(client.iter_pages("event_list", NOTHING, on_page=10, keep_empty=True))

    assert page.items == []
    assert page.meta is not None and page.meta.itemsCount == 0


def test_plain_array_lists_page_until_a_short_page(
    emulator: RunningEmulator, client: SimplyMeetClient
):
    users = client.user_list()
    pages = list(client.iter_pages("user_list", on_page=2))
    assert [u["id"] for p in pages for u in p.items] == [u.id for u in users]
    assert all(p.meta is None for p in pages)
    # A last page of exactly on_page items needs one more (empty) request to be sure.
    expected = len(users) // 2 + 1
    assert settled(emulator, "user_list", expected) == expected + 1  # + the user_list() above


def test_a_paged_plain_array_whose_server_keeps_to_a_smaller_page_is_read_whole(
    emulator: RunningEmulator, client: SimplyMeetClient
):
    # The reference pages the poll list (GetPollListRequestDTO) but answers a plain array,
    # which carries no count: a server that serves fewer than `onPage` is told from a last
    # page only by asking the next one.
    polls = [p["id"] for p in client.iter_items("poll_list", on_page=100)]
    emulator.set_faults("page_cap=2,endpoints=poll_list")
    before = emulator.count("poll_list")

    capped = [p["id"] for p in client.iter_items("poll_list", on_page=100)]

    assert len(polls) > 2
    assert capped == polls
    # every page of two, then the one that says the list is over
    assert settled(emulator, "poll_list", before + 1) - before == len(polls) // 2 + 1


def _event_type_with_tags(emulator: RunningEmulator, client: SimplyMeetClient) -> int:
    """An event type given every event type tag of the organization (more than two)."""
    event_type = client.event_type_list(on_page=1).items[0].id
    assert event_type is not None
    tags = [tag.id for tag in emulator.store.ref.event_type_tags]
    assert len(tags) > 2
    for tag in tags:
        client.call("event_type_tag_add", path_params={"eventTypeId": event_type, "tagId": tag})
    return event_type


def test_an_empty_plain_array_is_one_request(emulator: RunningEmulator, client: SimplyMeetClient):
    event_type = client.event_type_list(on_page=1).items[0].id
    for tag in client.iter_items("event_type_tag_list", path_params={"eventTypeId": event_type}):
        client.call(
            "event_type_tag_remove", path_params={"eventTypeId": event_type, "tagId": tag["id"]}
        )
    before = emulator.count("event_type_tag_list")

    list(client.iter_items("event_type_tag_list", path_params={"eventTypeId": event_type}))

    assert settled(emulator, "event_type_tag_list", before + 1) - before == 1


def test_an_event_type_s_tags_a_server_pages_smaller_are_read_whole(
    emulator: RunningEmulator, client: SimplyMeetClient
):
    # Nothing says what the tag list of an event type answers: a server that pages it at its
    # own size, fewer than asked, is read page by page.
    event_type = _event_type_with_tags(emulator, client)
    path = {"eventTypeId": event_type}
    tags = [tag["id"] for tag in client.iter_items("event_type_tag_list", path_params=path)]
    emulator.set_faults("page_cap=2,endpoints=event_type_tag_list")

    capped = [tag["id"] for tag in client.iter_items("event_type_tag_list", path_params=path)]

    assert capped == tags


def test_an_account_wide_plain_array_a_server_pages_smaller_is_read_whole(
    emulator: RunningEmulator, client: SimplyMeetClient
):
    # The reference gives the user list no paging, but every list is sent `page` and
    # `onPage`: a server that honours them with fewer rows than asked is read page by page.
    users = [u["id"] for u in client.iter_items("user_list", on_page=100)]
    emulator.set_faults("page_cap=2,endpoints=user_list")

    capped = [u["id"] for u in client.iter_items("user_list", on_page=100)]

    assert len(users) > 2
    assert capped == users


def test_plain_array_lists_with_path_params_page_too(client: SimplyMeetClient):
    event_type = client.event_type_list(on_page=1).items[0].id
    assert event_type is not None
    days = list(
        client.iter_items(
            "event_type_availability",
            {"startDate": "2030-01-01", "endDate": "2030-01-10"},
            path_params={"id": event_type},
            on_page=3,
        )
    )
    assert [d["date"] for d in days] == [f"2030-01-{n:02}" for n in range(1, 11)]


def test_sequential_pages_stop_requesting_when_the_caller_stops(
    emulator: RunningEmulator, client: SimplyMeetClient
):
    for page in client.iter_pages_sequential("event_list", BY_ID, on_page=10, prefetch=False):
        assert page.number == 1
        break
    assert settled(emulator, "event_list") == 1


def test_sequential_pages_prefetch_at_most_one_page_ahead(
    emulator: RunningEmulator, client: SimplyMeetClient
):
    pages = client.iter_pages_sequential("event_list", BY_ID, on_page=10)
    first, second = next(pages), next(pages)
    pages.close()
    assert (first.number, second.number) == (1, 2)
    assert 2 <= settled(emulator, "event_list", wait=0.3) <= 3


def test_sequential_pages_reach_the_end_in_order(client: SimplyMeetClient):
    ids = [
        item["id"]
        for page in client.iter_pages_sequential("event_list", BY_ID, on_page=100)
        for item in page.items
    ]
    assert ids == list(range(1, EVENTS + 1))


def test_more_pages_than_max_pages_is_refused(client: SimplyMeetClient):
    with pytest.raises(ProtocolError, match="max_pages"):
        list(client.iter_pages("event_list", on_page=100, max_pages=5))


def test_on_page_outside_the_documented_bounds_is_refused(client: SimplyMeetClient):
    with pytest.raises(ValueError, match="on_page"):
        next(client.iter_pages("event_list", on_page=101))
