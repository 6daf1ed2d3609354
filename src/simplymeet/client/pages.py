"""Pages of a list endpoint, and iterating over them concurrently or one at a time.

A list may come back as `{"meta": {...}, "items": [...]}` or as a plain JSON array (see
docs/api-notes.md). With `meta.pagesCount` known after page 1, the remaining pages are fetched
concurrently through a bounded window and yielded in order; at most `window` pages are in
flight or waiting, so memory stays flat however long the list. Without it (a plain array),
pages are fetched one after another until a page is shorter than `onPage`, or repeats ids
already seen (a server that ignores paging would otherwise loop forever), or `max_pages`.

The iterators here only take a `fetch(page_number)` callable; the client supplies it.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from simplymeet.client.errors import NotFoundError, ProtocolError, ValidationError
from simplymeet.contract.arrays import as_list
from simplymeet.contract.dtos import MetaDataDTO
from simplymeet.contract.vocab import MAX_ON_PAGE

T = TypeVar("T")

DEFAULT_MAX_PAGES = 50_000
"""Hard cap on pages per iteration (5 million items at onPage=100): a guard, not a limit."""

READ_AHEAD = 4
"""Pages `iter_pages` keeps requested ahead of its consumer, per request in flight: a consumer
busy with a batch (cutting and writing 50 pages of events) leaves the requests going."""


def requested_through(number: int, window: int) -> int:
    """The last page `iter_pages(window=window)` has requested once it hands over page
    `number` (or the list's last, whichever is lower)."""
    return number + window * READ_AHEAD


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its number, its items and, for `{meta, items}` bodies, the meta.

    >>> page = Page(1, [{"id": 1}], MetaDataDTO(pagesCount=3))
    >>> page.pages_count, len(page)
    (3, 1)
    """

    number: int
    items: list[T]
    meta: MetaDataDTO | None = None
    refused: bool = False
    """A page the list's count included that the server refused (`_page_or_gone`)."""
    repeated: bool = False
    """Where a plain array's page held only items of the pages before (its items dropped):
    the list ends there, as a server ignoring `page` would have it, or rows created or
    deleted between two requests shifted a whole page. Yielded with `keep_empty` only."""
    size_before: int | None = None
    """The page size the pages before it were served at, where the reader saw them
    (`iter_sequential`): what the pages a last page's count leaves before it can hold."""

    @property
    def pages_count(self) -> int | None:
        """Total pages per the server's meta, or None for a plain array.

        A `pagesCount` lower than the full page's own `itemsCount` needs at its
        `itemsPerPage` (a server computing it from the `onPage` asked, not the size it
        serves) is raised to that: the items it leaves out are counted all the same, and a
        read stopping at it would never ask for them. A last page may state its own length
        as the page size: the page the count calls last is taken at its word where the
        pages before it can hold the rest."""
        meta = self.meta
        if meta is None:
            return None
        if meta.pagesCount is not None:
            per, count = meta.itemsPerPage or self._size_unsaid(meta), meta.itemsCount
            if count is None or not per or len(self.items) != per:
                return meta.pagesCount
            needed = math.ceil(count / per)
            # The page the count calls last, stating its own length, when the pages before
            # it can hold the rest (at the size they were served at, where it is known; else
            # at most `onPage`'s bound each): not a size to count by.
            last = self.number == meta.pagesCount
            before = self.size_before or MAX_ON_PAGE
            if last and count - per <= (self.number - 1) * before:
                return meta.pagesCount
            return max(meta.pagesCount, needed)
        if meta.itemsCount is not None and meta.itemsPerPage:
            return math.ceil(meta.itemsCount / meta.itemsPerPage)
        if meta.itemsCount is not None and self.number == 1 and self.items:
            # A count alone: the first page's length is the page size the server serves
            # (one lost from it only adds a page to ask, found empty).
            return math.ceil(meta.itemsCount / len(self.items))
        return None

    def _size_unsaid(self, meta: MetaDataDTO) -> int | None:
        """The page size of a meta that leaves `itemsPerPage` out: the size the pages before
        were served at, or page 1's own length where its count of pages could not hold the
        items counted at it (docs/api-notes.md: the first page's length is the page size)."""
        if self.size_before:
            return self.size_before
        if self.number != 1 or not self.items or meta.itemsCount is None:
            return None
        held = len(self.items) * (meta.pagesCount or 0)
        return len(self.items) if held < meta.itemsCount else None

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)


def page_from_body(body: Any, number: int, *, nothing_is_empty: bool = False) -> Page[Any]:
    """Read a list body in either shape; raise ValueError naming what arrived instead.

    >>> page_from_body([{"id": 1}], 1).items
    [{'id': 1}]
    >>> page_from_body({"meta": {"pagesCount": 2}, "items": []}, 1).pages_count
    2
    """
    if isinstance(body, dict) and body.get("items", ()) is None and body.get("meta") is None:
        body = None  # `{"items": null}` and no count says no more than `null`
    if body is None or body == {}:
        if number == 1 and not nothing_is_empty:
            # A list the reference says is returned: an answer of nothing (no body, a 204,
            # `null`, `{}`) is no proof it is empty, and read as empty it would replace the
            # rows kept. Past page 1 it ends the list; `nothing_is_empty` for a list whose
            # answer the reference leaves unsaid.
            raise ValueError(
                'answered nothing (an empty body, 204, null, {} or {"items": null}) for a list'
            )
        return Page(number, [])
    if isinstance(body, list):
        return Page(number, body)
    if isinstance(body, dict):
        if "items" in body:
            # PHP serves an array whose keys are not 0..n-1 (rows filtered out of it) as an
            # object keyed by position: its values are the items, in that order.
            items = [] if body["items"] is None else as_list(body["items"])
            if items is None:
                kind = type(body["items"]).__name__
                raise ValueError(f"expected `items` to be an array, got {kind}")
            meta = body.get("meta")
            return Page(number, items, MetaDataDTO.model_validate(meta) if meta else None)
        if (items := as_list(body)) is not None:
            return Page(number, items)
        keys = ", ".join(sorted(map(str, body))[:8])
        raise ValueError(f"expected {{meta, items}} or a JSON array, got an object with {keys}")
    raise ValueError(f"expected {{meta, items}} or a JSON array, got {type(body).__name__}")


def has_next(page: Page[Any], on_page: int) -> bool:
    """Whether a page after `page` should be requested."""
    count = page.pages_count
    if count is not None:
        return page.number < count
    return len(page.items) >= on_page


class RepeatGuard:
    """Says stop when a plain-array list serves a page it served before, whole (a server that
    ignores `page` serves page 1 again and again)."""

    def __init__(self) -> None:
        self._pages: set[frozenset[Any]] = set()

    def repeats(self, page: Page[Any]) -> bool:
        """Whether `page` holds the items of a page served before, in any order (a server
        that ignores `page` may also serve its rows in no fixed order; nothing is recorded)."""
        return bool(page.items) and _page_key(page) in self._pages

    def fresh(self, page: Page[Any]) -> Page[Any] | None:
        """The page as served, or None when it repeats a page served before.

        A page that repeats only some items keeps them: an item served twice may stand where
        another was not served (an unstable order under LIMIT/OFFSET: page 1's last row
        swapped for page 2's first), which the caller's checks judge. Dropped here, that
        page would read short and end the list, or read as nothing new and end it too."""
        if self.repeats(page):
            return None
        if page.items:
            self._pages.add(_page_key(page))
        return page


def _page_key(page: Page[Any]) -> frozenset[Any]:
    return frozenset(_identity(item) for item in page.items)


def _identity(item: Any) -> Any:
    if isinstance(item, dict) and item.get("id") is not None:
        return ("id", item["id"])
    return ("json", json.dumps(item, sort_keys=True, default=str))


def _page_after(fetch: Callable[[int], Page[Any]], number: int) -> Page[Any] | None:
    """Page `number + 1` of a plain array, or None where the server says there is none: a
    404, or a 400/422 refusing that page (page `number` was taken, so only the page number
    can be what it refuses: a server that checks `page` against its own count)."""
    try:
        return fetch(number + 1)
    except (NotFoundError, ValidationError):
        return None


def _fetch_next(fetch: Callable[[int], Page[Any]], number: int) -> Page[Any]:
    """Page `number + 1` of a list whose meta counts its pages (see `_page_or_gone`)."""
    return _page_or_gone(fetch, number + 1)


def _page_or_gone(fetch: Callable[[int], Page[Any]], number: int) -> Page[Any]:
    """Page `number` (after the first) of a list whose meta counted it, or an empty page
    where the server refuses it (404, 400, 422): deletes since that count may have taken it
    away. Empty, with no meta, it is judged by the list's own checks (a page of the count
    that never arrived, ids between pages not read), not taken as the end. So is a page
    answered with nothing (an empty body, a 204, `null`, `[]`, `{"items": []}`: no items and
    no meta) where page 1 counted it: a server with rows to serve there answers them with
    its meta, and a gateway's or a cache's empty answer read as the end would hide them."""
    try:
        page = fetch(number)
    except (NotFoundError, ValidationError):
        return Page(number, [], refused=True)
    return counted_page(page)


def counted_page(page: Page[Any]) -> Page[Any]:
    """`page` (past the first, of a list whose first page counted it) as its list's checks
    judge it: answered with nothing (no items, no meta), it is marked a page lost, as a
    refused one is (`_page_or_gone`), never taken for the list's end."""
    if page.number > 1 and page.meta is None and not page.items:
        return replace(page, refused=True)
    return page


def _too_many(endpoint: str, max_pages: int) -> ProtocolError:
    return ProtocolError(
        f"{endpoint}: still more pages after {max_pages}; stopped (raise max_pages if expected)",
        endpoint=endpoint,
    )


# --- sync -------------------------------------------------------------------------------------


def iter_pages(
    fetch: Callable[[int], Page[Any]],
    *,
    endpoint: str,
    on_page: int,
    window: int,
    max_pages: int = DEFAULT_MAX_PAGES,
    keep_empty: bool = False,
    paged_by_server: bool = False,
) -> Iterator[Page[Any]]:
    """Yield the non-empty pages in order, fetching pages 2..N concurrently when N is known.

    `window` pages are requested at once, and up to `window * READ_AHEAD` ahead of the
    consumer. `keep_empty` yields empty pages too, for a caller that checks each page against
    its meta (an empty page where the meta promises items is a page the server lost).
    """
    first = fetch(1)
    total = first.pages_count
    if total is None or window < 2:
        yield from iter_sequential(
            fetch, endpoint=endpoint, on_page=on_page, prefetch=True, max_pages=max_pages,
            first=first, keep_empty=keep_empty, paged_by_server=paged_by_server,
        )  # fmt: skip
        return
    if total > max_pages:
        raise _too_many(endpoint, max_pages)
    pool = ThreadPoolExecutor(max_workers=window, thread_name_prefix="simplymeet-pages")
    in_flight: deque[Future[Page[Any]]] = deque()
    next_number = 2
    try:
        page = first
        while True:
            while next_number <= total and len(in_flight) < window * READ_AHEAD:
                in_flight.append(pool.submit(_page_or_gone, fetch, next_number))
                next_number += 1
            # Page 1 too is handed over only once the pages after it are on their way.
            if page.items or keep_empty:
                yield page
            if not in_flight:
                break
            page = in_flight.popleft().result()
    finally:
        # A caller that stops early: drop pages not started; those in flight finish alone.
        for future in in_flight:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)


def iter_sequential(
    fetch: Callable[[int], Page[Any]],
    *,
    endpoint: str,
    on_page: int,
    prefetch: bool = True,
    max_pages: int = DEFAULT_MAX_PAGES,
    first: Page[Any] | None = None,
    keep_empty: bool = False,
    paged_by_server: bool = False,
) -> Iterator[Page[Any]]:
    """Yield pages one at a time; with `prefetch`, page n+1 is requested while n is consumed.

    Stopping the iteration (break, close) requests nothing further beyond that one prefetch.
    Page n+1 is requested only after page n's answer arrived, so the server answered them in
    order: what a scan that compares consecutive pages' counts relies on.

    `paged_by_server`: the reference pages this endpoint (it takes `page` and `onPage`). A
    plain array carries no count, so a page shorter than `onPage` may be the last one or the
    server's own page size (the reference lets `onPage` be anything up to 100; a server may
    keep to less): the next page is asked once, and when it holds new items the first page's
    length is the page size from then on. Ended by an empty page, a page of repeats, or a
    404, 400 or 422 refusing the page after one the server answered.
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simplymeet-prefetch")
    pending: Future[Page[Any] | None] | None = None
    guard = RepeatGuard()
    served: int | None = None
    counted: int | None = None  # the page count an earlier page's meta gave
    size: int | None = None  # the page size page 1 showed, where its meta held a count alone
    size_before: int | None = None  # the size a full page before this one was served at
    try:
        page: Page[Any] | None = first if first is not None else fetch(1)
        while page is not None:
            meta = page.meta
            if size_before is not None and page.size_before is None:
                page = replace(page, size_before=size_before)
            if meta is not None:
                # A meta without itemsPerPage: page 1's length is the page size (api-notes).
                own = len(page.items) if page.number == 1 else None
                served_at = meta.itemsPerPage or size_before or own
                if served_at and len(page.items) == served_at:
                    size_before = max(size_before or 0, served_at)
            if page.pages_count is not None:
                counted = page.pages_count
                if page.number == 1 and meta is not None and not meta.itemsPerPage:
                    size = len(page.items) if meta.pagesCount is None else None
            elif size and meta is not None and meta.itemsCount is not None:
                # A later page's count, by page 1's size: rows created while paging push
                # the oldest onto a page the first count did not include.
                counted = math.ceil(meta.itemsCount / size)
            if counted is None:
                fresh = guard.fresh(page)
                if fresh is None:
                    if keep_empty:
                        yield Page(page.number, [], repeated=True)
                    return
                page = fresh
            # A meta with a count alone gives the page count on page 1 only (its length is
            # the page size): the later pages are asked up to it.
            more = (
                page.number < counted if counted is not None else has_next(page, served or on_page)
            )
            if more and page.number >= max_pages:
                raise _too_many(endpoint, max_pages)
            plain = counted is None
            if more and prefetch:
                pending = pool.submit(_page_after if plain else _fetch_next, fetch, page.number)
            if page.items or keep_empty:
                yield page
            if not more:
                if not (paged_by_server and served is None and counted is None):
                    return
                if not 0 < len(page.items) < on_page or page.number >= max_pages:
                    return
                following = _page_after(fetch, page.number)
                if following is None or not following.items:
                    return
                if guard.repeats(following):
                    if keep_empty:
                        yield Page(following.number, [], repeated=True)
                    return
                served = len(page.items)
                page = following
                continue
            if pending is not None:
                page, pending = pending.result(), None
            else:
                page = (_page_after if plain else _fetch_next)(fetch, page.number)
    finally:
        if pending is not None:
            pending.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
