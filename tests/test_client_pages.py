"""Page bodies and the stop rules of paging (the HTTP side is in test_client_paging.py)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from simplymeet.client.errors import NotFoundError, ProtocolError, ValidationError
from simplymeet.client.pages import (
    READ_AHEAD,
    Page,
    RepeatGuard,
    has_next,
    iter_pages,
    iter_sequential,
    page_from_body,
    requested_through,
)
from simplymeet.contract.dtos import MetaDataDTO


def test_page_count_comes_from_meta_or_is_computed_from_counts():
    assert Page(1, [], MetaDataDTO(pagesCount=4)).pages_count == 4
    assert Page(1, [], MetaDataDTO(itemsCount=101, itemsPerPage=100)).pages_count == 2
    assert Page(1, []).pages_count is None


@pytest.mark.parametrize(
    "body", [[], {"items": None, "meta": {"itemsCount": 0}}, {"items": []}], ids=str
)
def test_empty_list_bodies_give_an_empty_page(body):
    assert page_from_body(body, 1).items == []


@pytest.mark.parametrize("body", [None, {}, {"items": None}], ids=str)
def test_nothing_ends_a_list_past_its_first_page_but_is_no_first_page(body):
    assert page_from_body(body, 2).items == []
    with pytest.raises(ValueError, match="answered nothing"):
        page_from_body(body, 1)


def test_items_that_are_not_an_array_are_refused():
    with pytest.raises(ValueError, match="array"):
        page_from_body({"items": {"id": 1}}, 1)


def test_items_served_as_an_object_keyed_by_position_are_its_values_in_order():
    # PHP's json_encode of an array with rows filtered out of it.
    body = {"meta": {"itemsCount": 2}, "items": {"3": {"id": 9}, "0": {"id": 7}}}

    assert page_from_body(body, 1).items == [{"id": 7}, {"id": 9}]


def test_a_plain_array_list_served_as_an_object_keyed_by_position_is_its_values():
    assert page_from_body({"1": {"id": 2}, "0": {"id": 1}}, 1).items == [{"id": 1}, {"id": 2}]


def test_has_next_follows_pages_count_when_known():
    assert has_next(Page(1, [{}], MetaDataDTO(pagesCount=2)), on_page=100)
    assert not has_next(Page(2, [{}] * 100, MetaDataDTO(pagesCount=2)), on_page=100)


def test_has_next_on_a_plain_array_stops_at_a_short_page():
    assert has_next(Page(1, [{}] * 100), on_page=100)
    assert not has_next(Page(1, [{}] * 99), on_page=100)


def test_repeat_guard_stops_on_a_page_that_only_repeats():
    guard = RepeatGuard()
    first = Page(1, [{"id": 1}, {"id": 2}])
    assert guard.fresh(first) is first
    assert guard.fresh(Page(2, [{"id": 1}, {"id": 2}])) is None


def test_repeat_guard_keeps_the_repeated_items_of_a_shifted_page_for_the_caller_to_judge():
    # An item served twice may stand where another was not served.
    guard = RepeatGuard()
    guard.fresh(Page(1, [{"id": 1}, {"id": 2}]))
    shifted = Page(2, [{"id": 2}, {"id": 3}])
    assert guard.fresh(shifted) is shifted


def test_repeat_guard_does_not_end_a_list_at_a_page_holding_only_an_earlier_pages_last_item():
    # Page 1's last item swapped for page 2's first: page 2 holds nothing new, yet it is no
    # page served again whole, as a server ignoring `page` serves one.
    guard = RepeatGuard()
    guard.fresh(Page(1, [{"id": 1}, {"id": 2}, {"id": 4}]))
    swapped = Page(2, [{"id": 4}])
    assert guard.fresh(swapped) is swapped


def test_repeat_guard_stops_on_a_page_repeating_an_earlier_one_in_another_order():
    # A server ignoring `page` may also serve its rows in no fixed order.
    guard = RepeatGuard()
    guard.fresh(Page(1, [{"id": 1}, {"id": 2}, {"id": 3}]))
    assert guard.fresh(Page(2, [{"id": 3}, {"id": 1}, {"id": 2}])) is None


def test_repeat_guard_compares_items_without_ids_by_content():
    guard = RepeatGuard()
    guard.fresh(Page(1, [{"resource": "event"}]))
    assert guard.fresh(Page(2, [{"resource": "event"}])) is None


def test_a_server_that_ignores_paging_is_read_once():
    # A full page that comes back the same whatever page is asked for: the emulator always
    # pages, so this server is a function here.
    asked: list[int] = []

    def fetch(number: int) -> Page[dict[str, int]]:
        asked.append(number)
        return Page(number, [{"id": i} for i in range(1, 11)])

    pages = list(iter_pages(fetch, endpoint="acl_list", on_page=10, window=4))
    assert [len(p) for p in pages] == [10]
    assert asked == [1, 2]


@pytest.mark.parametrize("refusal", [NotFoundError, ValidationError], ids=["404", "400/422"])
def test_a_full_plain_array_page_followed_by_a_refused_page_ends_the_list(refusal):
    def fetch(number: int) -> Page[dict[str, int]]:
        if number > 1:
            raise refusal(f"page {number} is out of range")
        return Page(number, [{"id": i} for i in range(1, 11)])

    pages = list(iter_pages(fetch, endpoint="user_list", on_page=10, window=4))

    assert [len(p) for p in pages] == [10]


def test_pages_read_one_by_one_with_a_count_alone_in_the_meta_go_on_to_the_counted_last():
    # itemsCount alone, ten a page where a hundred were asked: page 1 gives the page count.
    def fetch(number: int) -> Page[dict[str, int]]:
        items = [{"id": i} for i in range((number - 1) * 10 + 1, min(number * 10, 45) + 1)]
        return Page(number, items, MetaDataDTO(itemsCount=45))

    pages = list(iter_sequential(fetch, endpoint="event_list", on_page=100))

    assert [p.number for p in pages] == [1, 2, 3, 4, 5]
    assert sum(len(p) for p in pages) == 45


@pytest.mark.parametrize("window", [1, 4], ids=["one-by-one", "concurrent"])
def test_a_refused_page_the_meta_counted_comes_back_empty_for_the_lists_checks(window):
    # Deletes since page 1 counted three pages took the third away; the server refuses it.
    def fetch(number: int) -> Page[dict[str, int]]:
        if number > 2:
            raise ValidationError(f"page {number} is out of range")
        return Page(number, [{"id": number}], MetaDataDTO(itemsCount=3, itemsPerPage=1))

    pages = list(
        iter_pages(fetch, endpoint="event_type_list", on_page=1, window=window, keep_empty=True)
    )

    assert [(p.number, len(p), p.meta is None) for p in pages] == [
        (1, 1, False),
        (2, 1, False),
        (3, 0, True),
    ]


def test_a_plain_array_that_never_ends_stops_at_max_pages():
    def fetch(number: int) -> Page[dict[str, int]]:
        return Page(number, [{"id": number * 10 + i} for i in range(10)])

    with pytest.raises(ProtocolError, match="after 3"):
        list(iter_pages(fetch, endpoint="user_list", on_page=10, window=4, max_pages=3))


class _CountingPages:
    """`pages` pages of one item each; records which were asked for and how many at once."""

    def __init__(self, pages: int, seconds: float = 0.0) -> None:
        self.pages, self.seconds = pages, seconds
        self.asked: list[int] = []
        self.at_once = self.most_at_once = 0
        self._lock = threading.Condition()

    def __call__(self, number: int) -> Page[dict[str, int]]:
        with self._lock:
            self.asked.append(number)
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
            self._lock.notify_all()
        time.sleep(self.seconds)
        with self._lock:
            self.at_once -= 1
        meta = MetaDataDTO(pagesCount=self.pages, itemsCount=self.pages, itemsPerPage=1)
        return Page(number, [{"id": number}], meta)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: len(self.asked) >= count, timeout)


def test_pages_are_requested_ahead_while_the_consumer_holds_one():
    fetch = _CountingPages(100)
    pages = iter_pages(fetch, endpoint="event_list", on_page=1, window=4)
    next(pages)  # page 1; the consumer now works on it and asks for nothing more
    ahead = 4 * READ_AHEAD
    assert fetch.wait_for(1 + ahead)
    time.sleep(0.05)
    assert sorted(fetch.asked) == list(range(1, 2 + ahead))
    next(pages)  # page 2 taken: one more is asked for
    assert fetch.wait_for(2 + ahead)
    pages.close()


def test_no_more_pages_than_the_window_are_requested_at_once():
    fetch = _CountingPages(40, seconds=0.05)  # long enough for all four to overlap
    pages = list(iter_pages(fetch, endpoint="event_list", on_page=1, window=4))
    assert [page.number for page in pages] == list(range(1, 41))
    assert fetch.most_at_once == 4


def _three_pages_second_empty(number: int) -> Page:
    items = [] if number == 2 else [{"id": number}]
    return Page(number, items, MetaDataDTO(pagesCount=3, itemsCount=3, itemsPerPage=1))


@pytest.mark.parametrize("window", [1, 4])
def test_empty_pages_are_dropped_unless_kept(window):
    def numbers(keep: bool) -> list[int]:
        pages = iter_pages(
            _three_pages_second_empty, endpoint="event_list", on_page=1, window=window,
            keep_empty=keep,
        )  # fmt: skip
        return [page.number for page in pages]

    assert numbers(False) == [1, 3]
    assert numbers(True) == [1, 2, 3]


def test_page_problem_names_a_page_shorter_than_its_meta():
    from simplymeet.sync.checks import page_problem

    meta = MetaDataDTO(pagesCount=3, itemsCount=250, itemsPerPage=100, currentPage=2)
    assert page_problem(Page(2, [{}] * 100, meta), 100) is None
    assert "held 60 items" in (page_problem(Page(2, [{}] * 60, meta), 100) or "")
    assert page_problem(Page(3, [{}] * 50, meta), 100) is None
    assert page_problem(Page(1, [{}] * 60), 100) is None  # a plain array states no count


def test_the_last_page_is_asked_once_requested_through_reaches_it_and_not_before():
    total, window = 60, 3
    asked: set[int] = set()
    lock = threading.Lock()

    def fetch(number: int) -> Page[int]:
        with lock:
            asked.add(number)
        return Page(number, [number], MetaDataDTO(pagesCount=total, itemsCount=total))

    def last_asked_within(seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with lock:
                if total in asked:
                    return True
            time.sleep(0.005)
        return False

    before = total - window * READ_AHEAD - 1
    for page in iter_pages(fetch, endpoint="event_list", on_page=1, window=window):
        if page.number == before:
            assert requested_through(before, window) < total
            assert not last_asked_within(0.2)
        if page.number == before + 1:
            assert requested_through(before + 1, window) >= total
            assert last_asked_within(5)
            break


def test_a_last_page_stating_its_own_length_is_taken_at_its_count():
    # 100, 100, then 37 stating itemsPerPage 37: three pages, as counted.
    meta = MetaDataDTO(pagesCount=3, itemsCount=237, itemsPerPage=37, currentPage=3)

    assert replace(Page(3, [{}] * 37, meta), size_before=100).pages_count == 3


def test_a_full_last_page_at_the_size_the_pages_before_were_served_counts_the_rest():
    # Served 50 a page and counted by the 100 asked: 250 rows are 5 pages, not 3.
    meta = MetaDataDTO(pagesCount=3, itemsCount=250, itemsPerPage=50, currentPage=3)

    assert replace(Page(3, [{}] * 50, meta), size_before=50).pages_count == 5


def test_a_sequential_read_counted_by_the_on_page_asked_reads_every_page():
    def fetch(number: int) -> Page[dict[str, int]]:
        meta = MetaDataDTO(pagesCount=3, itemsCount=250, itemsPerPage=50, currentPage=number)
        return Page(number, [{"id": number * 100 + i} for i in range(50)], meta)

    pages = iter_sequential(fetch, endpoint="event_list", on_page=100)

    assert [page.number for page in pages] == [1, 2, 3, 4, 5]


def test_a_first_page_without_a_page_size_counted_short_of_its_items_counts_by_its_length():
    # Served 40 a page, counted by the 100 asked, itemsPerPage left out: 250 rows, 7 pages.
    meta = MetaDataDTO(pagesCount=3, itemsCount=250, currentPage=1)

    assert Page(1, [{}] * 40, meta).pages_count == 7


def test_a_first_page_without_a_page_size_whose_count_holds_its_items_is_taken_at_it():
    meta = MetaDataDTO(pagesCount=7, itemsCount=250, currentPage=1)

    assert Page(1, [{}] * 40, meta).pages_count == 7
