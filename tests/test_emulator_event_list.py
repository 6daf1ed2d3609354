"""GET /event/: paging edges, ordering, every filter and every filter spelling."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from simplymeet.client.client import tls_context
from simplymeet.contract.dates import parse_api_datetime
from simplymeet.emulator import RunningEmulator, start_emulator
from tests.emulator_support import api_http


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """conftest's emulator (seed 1, 2,000 events), shared by the module: every test only reads."""
    with start_emulator(seed=1, events=2000) as emu:
        yield emu


@pytest.fixture(scope="module")
def emulator_http(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """conftest's emulator_http, on the shared emulator."""
    with api_http(emulator) as client:
        yield client


def _get(emu, **params):
    return httpx.get(
        f"{emu.base_url}/panel/api/event/",
        params=params,
        headers={"X-API-KEY": emu.api_key},
        verify=tls_context(),
    )


def _all_ids(client, **params) -> list[int]:
    body = client.get("/event/", params={"skipPagination": "true", **params}).json()
    return [e["id"] for e in body["items"]]


# --- paging ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "pages", "last_page_size"),
    [(0, 0, 0), (1, 1, 1), (100, 1, 100), (101, 2, 1)],
)
def test_paging_edges(events, pages, last_page_size):
    with start_emulator(events=events) as emu:
        first = _get(emu, page=1, onPage=100).json()
        assert first["meta"] == {
            "pagesCount": pages,
            "itemsPerPage": 100,
            "itemsCount": events,
            "currentPage": 1,
        }
        last = _get(emu, page=max(pages, 1), onPage=100).json()
        assert len(last["items"]) == last_page_size


def test_last_page_is_partial_and_the_next_one_empty(emulator_http):
    last = emulator_http.get("/event/", params={"page": 21, "onPage": 99}).json()
    assert len(last["items"]) == 2000 - 20 * 99
    assert last["meta"]["pagesCount"] == 21
    beyond = emulator_http.get("/event/", params={"page": 22, "onPage": 99}).json()
    assert beyond["items"] == []
    assert beyond["meta"]["currentPage"] == 22


def test_pages_cover_every_event_exactly_once(emulator, emulator_http):
    seen = []
    for page in range(1, 21):
        seen += [
            e["id"]
            for e in emulator_http.get("/event/", params={"page": page, "onPage": 100}).json()[
                "items"
            ]
        ]
    assert sorted(seen) == emulator.store.all_event_ids()
    assert len(seen) == len(set(seen))


def test_default_page_is_1_and_on_page_is_20(emulator_http):
    meta = emulator_http.get("/event/").json()["meta"]
    assert (meta["currentPage"], meta["itemsPerPage"]) == (1, 20)


@pytest.mark.parametrize(
    ("name", "value"), [("onPage", 0), ("onPage", 101), ("page", 0), ("onPage", "x")]
)
def test_out_of_bounds_paging_is_422_naming_the_field(emulator_http, name, value):
    response = emulator_http.get("/event/", params={name: value})
    assert response.status_code == 422
    assert name in response.json()["errors"]


def test_skip_pagination_returns_everything(emulator_http):
    body = emulator_http.get("/event/", params={"skipPagination": "true", "onPage": 5}).json()
    assert len(body["items"]) == 2000
    assert body["meta"]["itemsCount"] == 2000


def test_trailing_slash_is_optional(emulator_http):
    with_slash = emulator_http.get("/event/", params={"onPage": 3}).json()
    without = emulator_http.get("/event", params={"onPage": 3}).json()
    assert with_slash == without


def test_event_items_are_valid_event_dtos(emulator_http):
    from simplymeet.contract.dtos import EventDTO

    for item in emulator_http.get("/event/", params={"onPage": 100}).json()["items"]:
        event = EventDTO.model_validate(item)
        assert event.id and event.uuid and event.user and event.eventType and event.invitee
        assert set(item) == set(EventDTO.model_fields)


# --- ordering --------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_order_by_updated_at(emulator_http, direction):
    params = {"orderField": "updatedAt", "orderDirection": direction, "skipPagination": "true"}
    items = emulator_http.get("/event/", params=params).json()["items"]
    keys = [(parse_api_datetime(e["updatedAt"]), e["id"]) for e in items]
    assert keys == sorted(keys, reverse=direction == "desc")


@pytest.mark.parametrize(
    "field", ["createdAt", "scheduledAt", "id", "state", "canceledAt", "duration"]
)
def test_order_by_scalar_fields_is_sorted_with_id_tie_break(emulator_http, field):
    params = {"orderField": field, "orderDirection": "asc", "skipPagination": "true"}
    items = emulator_http.get("/event/", params=params).json()["items"]
    keys = [((e[field] is not None, e[field] or ""), e["id"]) for e in items]
    assert keys == sorted(keys)


def test_order_by_invitee_email(emulator_http):
    params = {"orderField": "invitee.email", "skipPagination": "true"}
    emails = [
        e["invitee"]["email"] for e in emulator_http.get("/event/", params=params).json()["items"]
    ]
    assert emails == sorted(emails)


def test_order_by_uuid(emulator_http):
    params = {"orderField": "uuid", "orderDirection": "desc", "onPage": 100}
    uuids = [e["uuid"] for e in emulator_http.get("/event/", params=params).json()["items"]]
    assert uuids == sorted(uuids, reverse=True)


def test_unknown_order_field_is_422(emulator_http):
    response = emulator_http.get("/event/", params={"orderField": "nope"})
    assert response.status_code == 422
    assert "orderField" in response.json()["errors"]


def test_bad_order_direction_is_422(emulator_http):
    response = emulator_http.get("/event/", params={"orderDirection": "up"})
    assert response.status_code == 422
    assert "orderDirection" in response.json()["errors"]


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        [("filter[ids][]", "3"), ("filter[ids][]", "5")],
        [("filter[ids][0]", "3"), ("filter[ids][1]", "5")],
        [("filter[ids]", "3,5")],
        [("ids", "3,5")],
        [("ids[]", "3"), ("ids[]", "5")],
    ],
    ids=["brackets", "indexed", "comma", "top-level", "top-level-brackets"],
)
def test_ids_filter_accepts_every_spelling(emulator_http, params):
    response = emulator_http.get("/event/", params=params)
    assert [e["id"] for e in response.json()["items"]] == [3, 5]


def test_state_filter(emulator, emulator_http):
    ids = _all_ids(emulator_http, **{"filter[state]": "canceled"})
    assert ids
    assert all(emulator.store.event_dto(i)["state"] == "canceled" for i in ids)
    assert len(ids) == sum(
        1
        for i in emulator.store.all_event_ids()
        if emulator.store.event_dto(i)["state"] == "canceled"
    )


def test_unknown_state_is_422(emulator_http):
    response = emulator_http.get("/event/", params={"filter[state]": "gone"})
    assert response.status_code == 422
    assert "filter.state" in response.json()["errors"]


def test_event_type_type_filter(emulator_http):
    items = emulator_http.get(
        "/event/", params={"filter[eventTypeType]": "round-robin", "skipPagination": "true"}
    ).json()["items"]
    assert items and {e["eventType"]["type"] for e in items} == {"round-robin"}


def test_payment_status_filter(emulator_http):
    items = emulator_http.get(
        "/event/", params={"filter[paymentStatus]": "refunded", "skipPagination": "true"}
    ).json()["items"]
    assert items and {e["payment"]["status"] for e in items} == {"refunded"}


def test_invitee_filter_matches_name_or_email_case_insensitively(emulator, emulator_http):
    sample = emulator.store.event_dto(42)["invitee"]
    last_name = sample["fullName"].split(" ", 1)[1]
    by_name = emulator_http.get(
        "/event/", params={"filter[invitee]": last_name.upper(), "skipPagination": "true"}
    ).json()["items"]
    assert 42 in [e["id"] for e in by_name]
    assert all(
        last_name.lower() in (e["invitee"]["fullName"] + e["invitee"]["email"]).lower()
        for e in by_name
    )
    domain = sample["email"].split("@")[1]
    by_email = _all_ids(emulator_http, **{"filter[invitee]": "@" + domain})
    assert 42 in by_email


def test_uuid_filter(emulator, emulator_http):
    uuid = emulator.store.event_dto(77)["uuid"]
    assert _all_ids(emulator_http, **{"filter[uuid]": uuid}) == [77]
    assert _all_ids(emulator_http, **{"filter[uuid]": "00000000-0000-4000-8000-000000000000"}) == []


def test_event_type_list_filter(emulator_http):
    items = emulator_http.get(
        "/event/",
        params=[
            ("filter[eventTypeList][]", "1"),
            ("filter[eventTypeList][]", "2"),
            ("skipPagination", "1"),
        ],
    ).json()["items"]
    assert items and {e["eventType"]["id"] for e in items} <= {1, 2}


def test_user_list_filter(emulator_http):
    items = emulator_http.get(
        "/event/", params={"filter[userList]": "2", "skipPagination": "true"}
    ).json()["items"]
    assert items
    assert all(2 in [u["id"] for u in e["users"]] for e in items)


def test_organization_tag_list_filter(emulator, emulator_http):
    links = {
        row["eventTypeId"]: {t["id"] for t in row["tags"]}
        for row in emulator.store.list_dtos("event_type_tag_links")
    }
    tag = next(t for tags in links.values() for t in tags)
    items = emulator_http.get(
        "/event/", params={"filter[organizationTagList][]": tag, "skipPagination": "true"}
    ).json()["items"]
    assert items and all(tag in links[e["eventType"]["id"]] for e in items)


def test_scheduled_at_range_is_inclusive_utc_dates(emulator, emulator_http):
    day = emulator.store.anchor - dt.timedelta(days=30)
    while day.weekday() >= 5:  # the seeded hosts work weekdays: a weekend day holds none
        day -= dt.timedelta(days=1)
    params = {
        "filter[scheduledAtFrom]": day.isoformat(),
        "filter[scheduledAtTo]": day.isoformat(),
        "skipPagination": "true",
    }
    items = emulator_http.get("/event/", params=params).json()["items"]
    assert items and {parse_api_datetime(e["scheduledAt"]).date() for e in items} == {day}
    expected = [
        i
        for i in emulator.store.all_event_ids()
        if parse_api_datetime(emulator.store.event_dto(i)["scheduledAt"]).date() == day
    ]
    assert sorted(e["id"] for e in items) == expected


def test_invalid_scheduled_at_date_is_422(emulator_http):
    response = emulator_http.get("/event/", params={"filter[scheduledAtFrom]": "2024-13-45"})
    assert response.status_code == 422
    assert "filter.scheduledAtFrom" in response.json()["errors"]


def test_filters_combine_with_and(emulator_http):
    both = _all_ids(
        emulator_http, **{"filter[state]": "canceled", "filter[eventTypeType]": "regular"}
    )
    canceled = set(_all_ids(emulator_http, **{"filter[state]": "canceled"}))
    regular = set(_all_ids(emulator_http, **{"filter[eventTypeType]": "regular"}))
    assert set(both) == canceled & regular


def test_filtered_meta_counts_only_matches(emulator_http):
    meta = emulator_http.get("/event/", params={"filter[state]": "no_show", "onPage": 10}).json()[
        "meta"
    ]
    assert 0 < meta["itemsCount"] < 2000
    assert meta["pagesCount"] == -(-meta["itemsCount"] // 10)


def test_huge_pages_are_streamed_chunked_and_complete():
    with start_emulator(events=4500) as emu:
        response = _get(emu, skipPagination="true")
        assert response.headers.get("transfer-encoding") == "chunked"
        body = response.json()
        assert [e["id"] for e in body["items"]] == list(range(1, 4501))
        assert body["meta"]["itemsCount"] == 4500


@pytest.mark.parametrize("field", ["notes", "location", "onlineEventId", "locationType"])
def test_order_by_text_fields(emulator_http, field):
    params = {"orderField": field, "skipPagination": "true"}
    items = emulator_http.get("/event/", params=params).json()["items"]
    keys = [(e[field] or "", e["id"]) for e in items]
    assert keys == sorted(keys)


def test_descending_order_breaks_ties_by_id_descending(emulator_http):
    params = {"orderField": "state", "orderDirection": "desc", "skipPagination": "true"}
    items = emulator_http.get("/event/", params=params).json()["items"]
    keys = [(e["state"], e["id"]) for e in items]
    assert keys == sorted(keys, reverse=True)


def test_pages_are_served_without_a_meta_under_the_no_meta_reading() -> None:
    with start_emulator(seed=3, events=50, readings="meta=none") as emu:
        body = _get(emu, page=2, onPage=20).json()
        types = httpx.get(
            f"{emu.base_url}/panel/api/event-type/",
            headers={"X-API-KEY": emu.api_key},
            verify=tls_context(),
        ).json()

    assert set(body) == {"items"} and len(body["items"]) == 20
    assert set(types) == {"items"} and types["items"]
