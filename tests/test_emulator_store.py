"""The store's inspection API gives exactly what the API serves; its clock never goes back."""

from __future__ import annotations

import pytest

from simplymeet.emulator import Store


def test_event_dto_is_what_get_serves(emulator, emulator_http):
    for event_id in (1, 500, 2000):
        assert emulator.store.event_dto(event_id) == emulator_http.get(f"/event/{event_id}").json()


def test_event_dto_of_unknown_id_is_none(emulator):
    assert emulator.store.event_dto(0) is None
    assert emulator.store.event_dto(10**9) is None


def test_all_event_ids_match_the_listing(emulator, emulator_http):
    listed = emulator_http.get("/event/", params={"skipPagination": "true"}).json()["items"]
    assert emulator.store.all_event_ids() == sorted(e["id"] for e in listed)


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("users", "/user"),
        ("polls", "/poll"),
        ("user_event_type_tags", "/user-event-type-tag"),
        ("acl", "/acl"),
    ],
)
def test_list_dtos_match_the_plain_array_endpoints(emulator, emulator_http, kind, path):
    assert emulator.store.list_dtos(kind) == emulator_http.get(path).json()


def test_list_dtos_event_types_match_the_listing(emulator, emulator_http):
    items = emulator_http.get("/event-type", params={"skipPagination": "true"}).json()["items"]
    assert emulator.store.list_dtos("event_types") == items


def test_list_dtos_rejects_unknown_kinds(emulator):
    with pytest.raises(ValueError):
        emulator.store.list_dtos("nope")


def test_updated_at_never_goes_backwards():
    store = Store(events=50)
    stamps = [store.touch(7) for _ in range(1000)]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    latest_seeded = max(store.cols.col("updated_us")[:6])
    assert stamps[0] > latest_seeded
