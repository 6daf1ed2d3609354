"""The emulator keeps rendered event pages between writes, and never serves one stale.

A page read twice is rendered once; any write (over HTTP, or in process the way drift writes)
is visible on the very next read; faults still act on a kept page; the bytes are the same as
rendered afresh.
"""

from __future__ import annotations

import httpx
import pytest

from simplymeet.emulator import event_writes, start_emulator
from tests.emulator_support import api_http

PAGE = {"page": 2, "onPage": 50, "orderField": "id", "orderDirection": "asc"}


def _page(http: httpx.Client, **extra: object) -> dict:
    response = http.get("/event/", params={**PAGE, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def _first_active(items: list[dict]) -> int:
    return next(item["id"] for item in items if item["state"] == "active")


def test_a_page_read_again_is_served_from_the_cache(emulator, emulator_http):
    first = emulator_http.get("/event/", params=PAGE)
    hits = emulator.store.pages.hits
    again = emulator_http.get("/event/", params=PAGE)
    assert emulator.store.pages.hits == hits + 1
    assert again.content == first.content


def test_a_kept_page_is_byte_for_byte_the_page_rendered_afresh(emulator, emulator_http):
    emulator_http.get("/event/", params=PAGE)
    kept = emulator_http.get("/event/", params=PAGE).content
    with start_emulator(seed=1, events=2000, anchor=emulator.store.anchor) as fresh:
        fresh.store.pages.enabled = False
        with api_http(fresh) as http:
            rendered = http.get("/event/", params=PAGE).content
    assert kept == rendered


def test_a_write_over_http_is_visible_on_the_very_next_page_read(emulator_http):
    event_id = _first_active(_page(emulator_http)["items"])
    response = emulator_http.put(f"/event/cancel/{event_id}", json={"reason": "Budget cut"})
    assert response.status_code == 204
    items = {item["id"]: item for item in _page(emulator_http)["items"]}
    assert items[event_id]["state"] == "canceled"


def test_an_in_process_write_like_drift_is_visible_on_the_next_page_read(emulator, emulator_http):
    event_id = _page(emulator_http)["items"][0]["id"]
    with emulator.store.lock:
        event_writes.set_notes(emulator.store, event_id, "written by drift")
    items = {item["id"]: item for item in _page(emulator_http)["items"]}
    assert items[event_id]["notes"] == "written by drift"


def test_a_write_that_bumps_no_generation_still_drops_every_kept_page(emulator, emulator_http):
    _page(emulator_http)
    assert len(emulator.store.pages) == 1
    response = emulator_http.put("/organization-cancellation-policy", json={"period": 48})
    assert response.status_code == 200
    assert len(emulator.store.pages) == 0


def test_a_failed_write_drops_every_kept_page_too(emulator, emulator_http):
    _page(emulator_http)
    response = emulator_http.put("/event/cancel/999999", json={"reason": "x"})
    assert response.status_code == 404
    assert len(emulator.store.pages) == 0


def test_faults_still_apply_to_a_kept_page(emulator, emulator_http):
    _page(emulator_http)
    emulator.set_faults("500=1.0")
    assert emulator_http.get("/event/", params=PAGE).status_code == 500
    emulator.set_faults(None)
    assert emulator_http.get("/event/", params=PAGE).status_code == 200


def test_the_api_key_is_checked_before_a_kept_page_is_served(emulator, emulator_http):
    _page(emulator_http)
    response = emulator_http.get("/event/", params=PAGE, headers={"X-API-KEY": "wrong"})
    assert response.status_code == 401


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cache_can_be_turned_off(emulator, emulator_http, enabled):
    emulator.store.pages.enabled = enabled
    _page(emulator_http)
    _page(emulator_http)
    assert emulator.store.pages.hits == (1 if enabled else 0)


def test_a_full_cache_keeps_its_pages_and_does_not_keep_new_ones(emulator, emulator_http):
    """A scan bigger than the budget must not evict each page before it is read again."""
    cache = emulator.store.pages
    second = emulator_http.get("/event/", params=PAGE).content
    third = emulator_http.get("/event/", params={**PAGE, "page": 3}).content
    cache.clear()
    cache.budget_bytes = max(len(second), len(third)) + 10  # room for one page, not two
    emulator_http.get("/event/", params=PAGE)
    emulator_http.get("/event/", params={**PAGE, "page": 3})
    assert len(cache) == 1
    hits = cache.hits
    emulator_http.get("/event/", params=PAGE)
    assert cache.hits == hits + 1
    emulator_http.get("/event/", params={**PAGE, "page": 3})
    assert cache.hits == hits + 1


def test_pages_kept_before_an_in_process_write_are_dropped_when_the_next_is_kept(
    emulator, emulator_http
):
    _page(emulator_http)
    _page(emulator_http, page=3)
    with emulator.store.lock:
        event_writes.set_notes(emulator.store, 1, "drift")
    _page(emulator_http, page=4)
    assert len(emulator.store.pages) == 1
