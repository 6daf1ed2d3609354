"""Event pages read into Arrow a group at a time (`sync/page_groups.py`).

The page threads hand checked pages to their group; the thread that completes a group reads
it. What the consumer is handed must be what each page read alone gives, and no page that
fails or never arrives may leave the consumer waiting.
"""

from __future__ import annotations

import threading
from typing import Any

import orjson
import pytest

from simplymeet.client import SimplyMeetClient
from simplymeet.client.pages import Page, page_from_body
from simplymeet.emulator.running import start_emulator
from simplymeet.sync import SyncRequest, arrow_pages, sync
from simplymeet.sync import tables as t
from simplymeet.sync.api import SyncApi
from simplymeet.sync.page_groups import AwaitedPage, PageGroups
from tests.sync_support import (
    EVENTS_ONLY,
    checked_page,
    event_page_body,
    query,
    run_sync,
    settings_for,
)

WAIT_S = 30.0
"""Bound on every wait for a group here: a group left incomplete fails the test, not hangs."""


@pytest.fixture(scope="module")
def emulator() -> Any:
    with start_emulator(seed=9, events=450) as emu:
        yield emu


def _as_json(number: int, content: bytes) -> Page[Any]:
    return page_from_body(orjson.loads(content), number)


def _page_in_thread(groups: PageGroups, number: int) -> tuple[threading.Thread, list[Any]]:
    """Ask for page `number` from another thread; its result (or error) lands in the list."""
    out: list[Any] = []

    def ask() -> None:
        try:
            out.append(groups.page(AwaitedPage(number, [])))
        except Exception as exc:
            out.append(exc)

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    return thread, out


def _served_ids(page: Page[Any]) -> list[int]:
    return [row["id"] for row in page.items]


def test_a_page_is_handed_over_once_the_last_page_of_its_group_arrives(emulator):
    groups = PageGroups(2, 4, _as_json, size=3)
    groups.hand_over(2, checked_page(event_page_body(emulator, 2)))
    groups.hand_over(3, checked_page(event_page_body(emulator, 3)))
    thread, out = _page_in_thread(groups, 2)
    thread.join(0.3)
    assert thread.is_alive() and not out  # page 4 has not arrived
    groups.hand_over(4, checked_page(event_page_body(emulator, 4)))
    thread.join(WAIT_S)
    assert _served_ids(out[0]) == [
        row["id"] for row in orjson.loads(event_page_body(emulator, 2))["items"]
    ]


def test_each_page_of_a_group_is_the_page_read_alone(emulator):
    groups = PageGroups(2, 5, _as_json, size=4)
    for number in range(2, 6):
        groups.hand_over(number, checked_page(event_page_body(emulator, number)))
    for number in range(2, 6):
        page = groups.page(AwaitedPage(number, []))
        alone = arrow_pages.read_event_page(event_page_body(emulator, number))
        assert alone is not None and isinstance(page.items, arrow_pages.ArrowRows)
        assert page.items.struct.equals(alone.rows.struct)
        assert page.meta == alone.meta and page.number == number


def test_a_page_whose_request_failed_leaves_the_rest_of_its_group_readable(emulator):
    groups = PageGroups(2, 4, _as_json, size=3)
    groups.hand_over(2, checked_page(event_page_body(emulator, 2)))
    groups.hand_over(3, None)  # its request raised, or Arrow judged it on its own
    groups.hand_over(4, checked_page(event_page_body(emulator, 4)))
    assert len(groups.page(AwaitedPage(2, []))) == 100
    assert len(groups.page(AwaitedPage(4, []))) == 100


def test_the_last_group_is_as_short_as_the_list(emulator):
    groups = PageGroups(2, 5, _as_json, size=3)  # groups 2-4 and 5
    groups.hand_over(5, checked_page(event_page_body(emulator, 5)))
    thread, out = _page_in_thread(groups, 5)
    thread.join(WAIT_S)
    assert len(out[0]) == 50


def test_a_page_arrow_cannot_judge_is_read_as_json_by_its_group(emulator):
    items = orjson.loads(event_page_body(emulator, 3))["items"]
    items[7]["id"] = str(items[7]["id"])  # a known key in another reading: JSON's to judge
    groups = PageGroups(2, 3, _as_json, size=2)
    groups.hand_over(2, checked_page(event_page_body(emulator, 2)))
    groups.hand_over(3, checked_page(orjson.dumps({"items": items})))
    assert isinstance(groups.page(AwaitedPage(2, [])).items, arrow_pages.ArrowRows)
    assert groups.page(AwaitedPage(3, [])).items == items


def test_what_reading_a_page_as_json_raised_reaches_that_page_only(emulator):
    items = orjson.loads(event_page_body(emulator, 3))["items"]
    items[0]["id"] = "x"

    def refuse(number: int, content: bytes) -> Page[Any]:
        raise ValueError(f"page {number} refused")

    groups = PageGroups(2, 3, refuse, size=2)
    groups.hand_over(2, checked_page(event_page_body(emulator, 2)))
    groups.hand_over(3, checked_page(orjson.dumps({"items": items})))
    assert len(groups.page(AwaitedPage(2, []))) == 100
    with pytest.raises(ValueError, match="page 3 refused"):
        groups.page(AwaitedPage(3, []))


def _synced_ids(settings: Any) -> list[int]:
    return [row[0] for row in query(settings, "select id from raw.events order by id")]


def test_a_sync_of_many_groups_lands_what_the_reference_path_lands(tmp_path, emulator, monkeypatch):
    # 23 pages of 20: page 1 alone, then groups 2-9, 10-17 and a short 18-23.
    arrow = settings_for(tmp_path / "arrow", emulator)
    arrow = arrow.with_overrides("api", page_size=20)
    run_sync(arrow, emulator, resources=EVENTS_ONLY)
    monkeypatch.setattr(SyncApi, "arrow_pages", False)
    reference = settings_for(tmp_path / "reference", emulator).with_overrides("api", page_size=20)
    run_sync(reference, emulator, resources=EVENTS_ONLY)
    assert len(_synced_ids(arrow)) == 450
    for table in [t.EVENTS.name, *(child.table.name for child in t.EVENTS.children)]:
        sql = f"select * exclude (_synced_at) from raw.{table} order by all"
        assert query(arrow, sql) == query(reference, sql), table


def test_a_page_that_keeps_failing_ends_the_sync_with_its_error_not_a_wait(tmp_path, emulator):
    settings = settings_for(tmp_path, emulator).with_overrides("api", page_size=20)
    emulator.set_faults("500=1,pages=5,endpoints=event_list")
    outcome: list[BaseException | None] = []

    def sync_once() -> None:
        try:
            with SimplyMeetClient(
                emulator.base_url, api_key=emulator.api_key, concurrency=4, max_retries=1
            ) as client:
                sync(settings, client, SyncRequest(resources=EVENTS_ONLY, build_models=False))
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    try:
        thread = threading.Thread(target=sync_once, daemon=True)
        thread.start()
        thread.join(120)
    finally:
        emulator.set_faults(None)
    assert not thread.is_alive(), "the sync waited for a page that never came"
    assert outcome[0] is not None
    assert "page=5&" in str(outcome[0]) and "HTTP 500" in str(outcome[0])
