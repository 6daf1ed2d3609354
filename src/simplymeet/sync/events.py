"""Reading events off the API so that no row is skipped, and proving it with the server's counts.

Offset pages are exact only while nothing writes. In `updatedAt`-descending order an update or
a create moves a row to the front (rows already read shift right: read twice, never skipped);
only a delete (or a row leaving a filter) shifts unread rows left, where one can slip between
two pages. Every page carries `meta.itemsCount` as the server counted it when answering, and
each write moves a row at a page boundary by at least as much as it moves the count. So when
pages are fetched one after another, a boundary across which the count did not fall cannot
have lost a row; where it fell, the rows between the two pages are read again, and only they
("covering" the gap: a run of pages starting above it and ending below it, itself unbroken).

The first read of everything is ordered by `id` ascending instead, with pages fetched
concurrently: in that order updates do not move rows and creates land at the end, so only a
delete can open a gap, and a gap is always between two ids. The ids between consecutive pages
that were not read are asked for by `filter[ids]` (one request answers up to 100 of them,
atomically), which also recovers the rows of a short or missing page. A server that does not
honour the id order is read newest-first, one page at a time, with the gap checks above.

A page whose items do not match its own meta (short, missing) is read again; a gap that
re-reading cannot close is a problem in the `ScanReport`, and the cursor stays where it was.

The cursor a complete scan leaves is the server's clock when the scan began (the `Date` of its
first page): every row older than that was read in its current version, every later change has
a later `updatedAt`. Rows stamped ahead of the server's clock are loaded and reported, and never
move the cursor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simplymeet.client import pages as paging
from simplymeet.client.errors import ValidationError
from simplymeet.client.pages import Page
from simplymeet.contract.dates import parse_api_datetime
from simplymeet.sync.api import SyncApi
from simplymeet.sync.arrow_pages import ArrowRows, micros, micros_of
from simplymeet.sync.checks import ScanReport, items_count, page_problem

log = logging.getLogger("simplymeet.sync")

UPDATED_AT = "updatedAt"
NEWEST_FIRST = {"orderField": UPDATED_AT, "orderDirection": "desc"}
BY_ID = {"orderField": "id", "orderDirection": "asc"}
BY_ID_DESC = {"orderField": "id", "orderDirection": "desc"}

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FUTURE_TOLERANCE = dt.timedelta(seconds=60)
"""How far past the server's clock an `updatedAt` may be before it counts as from the future
(the Date header has whole seconds; a backend node's clock may be slightly ahead)."""
COVER_ATTEMPTS = 8
"""Re-reads of one gap before it is reported as not closed. An attempt fails when another
delete lands between two of its pages; at 4 deletes/s and a slow page that is one attempt in
three, so 4 attempts still left about one run in a hundred incomplete under steady writes."""
COVER_MAX_PAGES = 20
"""Pages one cover may span before it gives up (a gap is a page boundary or one page wide)."""
MAX_ON_PAGE = 100
"""The reference's bound on `onPage`."""
ID_CHECK_CAP = 20_000
"""Unread ids between pages a backfill asks for by id (200 requests); beyond, it re-reads."""

Rows = Sequence[dict[str, Any]]
"""A page's rows: dicts, or `ArrowRows` (the same rows in Arrow, dicts on demand)."""


@dataclass
class Gap:
    """Rows may be missing between `hi` and `lo` (updatedAt, newest first), near page `page`."""

    page: int
    hi: dt.datetime | None
    lo: dt.datetime | None
    reason: str
    closed: bool = False
    tie: tuple[int, int] | None = None
    """For rows with equal `updatedAt` across a page boundary: their offsets (first, last)."""


class EventScan:
    """One run's read of the events; rows come out of `everything()` or `since()`.

    After the generator is exhausted, `complete` says whether the scan proved itself,
    `server_start` is the server's clock when it began, and `newest` the newest `updatedAt`
    read that is not from the future.
    """

    def __init__(self, api: SyncApi, page_size: int, report: ScanReport) -> None:
        self.api = api
        self.page_size = page_size
        self.report = report
        self.complete = True
        self.server_start: dt.datetime | None = None
        self.local_start = dt.datetime.now(dt.UTC)
        self.newest: dt.datetime | None = None
        self.unproven_below: dt.datetime | None = None
        """For an incomplete incremental scan: every row above this `updatedAt` was proven
        read; only the gaps below it (and above the window's start) remain uncertain."""
        self.newest_first: dict[str, str] = NEWEST_FIRST
        """The order `since` asks for; none once the server refused it (`_newest_first`)."""

    # --- the cursor this scan allows ---------------------------------------------------------

    def safe_cursor(self) -> dt.datetime | None:
        """The cursor a complete scan may leave: never past what the server can have committed."""
        if self.server_start is not None:
            return self.server_start
        if self.newest is None:
            return None
        # No Date header: the newest row read is a time the server's clock had reached.
        return min(self.newest, self.local_start)

    def edge_from(self, lag: dt.timedelta) -> dt.datetime:
        """Rows at or above this `updatedAt` will be read again by the next run."""
        return (self.server_start or self.local_start) - lag

    # --- reading everything ------------------------------------------------------------------

    def everything(self) -> Iterator[Rows]:
        """Every event: by id, pages concurrently, then the unread ids between pages by id."""
        spans: dict[int, tuple[int, int] | None] = {}
        bad: set[int] = set()
        ascending = True
        pages_count = 0
        try:
            first = self.api.event_page(1, self.page_size, order=BY_ID, arrow=True)
        except ValidationError:
            # A server that refuses to order by id (400/422): newest-first, page by page.
            log.info("the event list cannot be ordered by id here; reading it newest-first")
            yield from self.since(None)
            return
        pages = self.api.event_pages(self.page_size, order=BY_ID, first=first, arrow=True)
        ahead = ThreadPoolExecutor(1, thread_name_prefix="simplymeet-tail")
        tail_first: Future[Page[Any]] | None = None
        try:
            for page in pages:
                if tail_first is None and _last_pages_asked(page, self.api.concurrency):
                    # The read above the last id goes out beside the last pages, not a round
                    # trip after them: it needs only to see every row that outlived the scan,
                    # and only the last id read, known at the end, decides which are new.
                    tail_first = ahead.submit(self._tail_page, 1)
                self._started(page)
                self.report.event_pages += 1
                pages_count = max(pages_count, page.pages_count or 0)
                if page_problem(page, self.page_size):
                    bad.add(page.number)
                first_id, last_id, in_order = _id_span(page.items)
                if first_id is not None and last_id is not None:
                    # Only a page's own order tells: pages answered seconds apart under many
                    # deletes may overlap by more than a page.
                    if not in_order:
                        ascending = False
                    spans[page.number] = (first_id, last_id)
                else:
                    spans[page.number] = None
                if page.items:
                    yield self._observe(page.items)
            if not spans or pages_count == 0:
                # A plain array states no count: there is nothing to check the read against.
                return
            if not ascending:
                # The server ignored the id order: nothing to check by id. Read newest-first,
                # one page at a time, with the count checks.
                log.info("the event list is not ordered by id here; reading it newest-first")
                yield from self.since(None)
                return
            last_read = max((span[1] for span in spans.values() if span is not None), default=0)
            tail_read = yield from self._tail(last_read, tail_first)
        finally:
            ahead.shutdown(wait=False, cancel_futures=True)
        if not tail_read:
            self.report.problem(
                f"events: the ids after {last_read} could not be read without a gap "
                f"({COVER_ATTEMPTS} attempts)"
            )
            self.complete = False
        unread = _unread_ids(spans, bad, self.page_size)
        if len(unread) > ID_CHECK_CAP:
            self.report.problem(
                f"events: {len(unread):,} ids between pages were not read; too many to ask by id"
            )
            self.complete = False
            return
        for start in range(0, len(unread), self.page_size):
            self.report.reread_pages += 1
            chunk = unread[start : start + self.page_size]
            for rows in self.api.events_by_ids(chunk, self.page_size):
                if rows:
                    yield self._observe(rows)

    def _tail(
        self, last_read: int, first: Future[Page[Any]] | None = None
    ) -> Generator[Rows, None, bool]:
        """Every event with an id above `last_read`, read newest id first, without a gap.

        Deletes while the pages were fetched in parallel can pull the last rows onto a page
        already answered (the page after it then comes back empty): they are above the last
        id read. `first` is the read's first page when it was asked for beside the last
        pages. Returns (as the generator's value) whether an unbroken read reached it.
        """
        for _attempt in range(COVER_ATTEMPTS):
            previous: Page[Any] | None = None
            number, broken = 1, False
            while number <= COVER_MAX_PAGES:
                if number == 1 and first is not None:
                    page, first = first.result(), None
                else:
                    page = self._tail_page(number)
                self.report.reread_pages += 1
                ids = [_int(row.get("id")) for row in page.items]
                fresh = [
                    row for row, i in zip(page.items, ids, strict=True) if (i or 0) > last_read
                ]
                if fresh:
                    yield self._observe(fresh)
                if page_problem(page, self.page_size) or (
                    previous is not None and _fell(previous, page)
                ):
                    broken = True
                    break
                end = not page.items or number >= (page.pages_count or number)
                if end or len(fresh) < len(page.items):
                    return True
                previous, number = page, number + 1
            if not broken:
                return False
        return False

    def _tail_page(self, number: int) -> Page[Any]:
        return self.api.event_page(number, self.page_size, order=BY_ID_DESC)

    # --- reading what changed ----------------------------------------------------------------

    def since(self, start: dt.datetime | None) -> Iterator[Rows]:
        """Events with `updatedAt >= start` (every event for None), newest first, verified.

        Pages are requested one at a time and reading stops at the first page that reaches
        below `start`, so the cost follows what changed. A server that turns out not to honour
        the order is read to the end instead. Gaps found on the way are covered at the end.
        """
        self.report.window_from = start.isoformat() if start is not None else None
        gaps: list[Gap] = []
        open_gap: Gap | None = None
        previous: Page[Any] | None = None
        ordered = True
        last_stamp: dt.datetime | None = None
        seen: set[Any] = set()
        pages = self._newest_first()
        try:
            for page in pages:
                self._started(page)
                self.report.event_pages += 1
                problem = page_problem(page, self.page_size)
                if problem:
                    again = self.api.event_page(
                        page.number, self.page_size, order=self.newest_first
                    )
                    self.report.reread_pages += 1
                    if page_problem(again, self.page_size) is None:
                        page, problem = again, None
                stamps = [_updated(row) for row in page.items]
                for row, stamp in zip(page.items, stamps, strict=True):
                    # A row read on an earlier page may reappear here (writes pushed it right),
                    # newer than that page's last row: that is no disorder.
                    key = row.get("id")
                    if stamp is not None and key not in seen:
                        if last_stamp is not None and stamp > last_stamp:
                            ordered = False
                        last_stamp = stamp
                    seen.add(key)
                if open_gap is not None and stamps:
                    open_gap.lo = stamps[0]
                    open_gap = None
                before = _last_stamp(previous)
                if problem:
                    open_gap = Gap(page.number, before, None, problem)
                    gaps.append(open_gap)
                elif previous is not None and _fell(previous, page):
                    lost = (items_count(previous) or 0) - (items_count(page) or 0)
                    reason = (
                        f"{lost} event(s) deleted between pages {previous.number} and {page.number}"
                    )
                    lo = stamps[0] if stamps else None
                    gaps.append(Gap(previous.number, before, lo, reason))
                elif (
                    previous is not None
                    and self.newest_first
                    and stamps
                    and before is not None
                    and stamps[0] == before
                    and (start is None or before >= start)
                ):
                    gaps.append(_tie_gap(previous, page, before))
                fresh = [
                    row
                    for row, stamp in zip(page.items, stamps, strict=True)
                    if start is None or stamp is None or stamp >= start
                ]
                if fresh:
                    yield self._observe(fresh)
                previous = page
                if ordered and self.newest_first and len(fresh) < len(page.items):
                    break
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()
        if not ordered and self.newest_first:
            log.warning("the event list is not ordered by updatedAt; the scan read every page")
        self.report.gaps_found += len(gaps)
        for gap in gaps:
            if gap.closed:
                self.report.gaps_closed += 1
                continue
            if gap.tie is not None:
                closed = yield from self._cover_tie(gap, start)
            else:
                closed = yield from self._cover(gap, start, gaps)
            if closed:
                self.report.gaps_closed += 1
            else:
                self.complete = False
                floor = gap.lo if gap.lo is not None else start
                if floor is not None and (
                    self.unproven_below is None or floor < self.unproven_below
                ):
                    self.unproven_below = floor
                self.report.problem(
                    f"events: {gap.reason}; re-reading page {gap.page} and its neighbours "
                    f"{COVER_ATTEMPTS} times did not close the gap"
                )

    def _newest_first(self) -> Iterator[Page[Any]]:
        """The event pages newest first, one at a time. A server that refuses the order (a
        400/422 for `orderField=updatedAt`: the reference lists no values) is read without
        one, as a server that ignores it is: every page, nothing skipped by its stamps."""
        pages = self.api.event_pages(self.page_size, order=self.newest_first, sequential=True)
        try:
            first = next(pages, None)
        except ValidationError as exc:
            log.warning(
                "the event list refused orderField=%s (HTTP %s); reading every page unordered",
                UPDATED_AT,
                exc.status,
            )
            self.newest_first = {}
            pages = self.api.event_pages(self.page_size, order={}, sequential=True)
            first = next(pages, None)
        try:
            if first is not None:
                yield first
            yield from pages
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    def _cover_tie(self, gap: Gap, start: dt.datetime | None) -> Generator[Rows, None, bool]:
        """Read one page that holds every row of a tie group that straddled a page boundary.

        Rows with equal `updatedAt` may come in a different order from one request to the next
        (SQL gives no order among ties under LIMIT/OFFSET), so one can slip past the boundary.
        A page size is chosen so that a single page spans the group's offsets with a row on
        either side; that page is one atomic answer. Returns whether it managed.
        """
        assert gap.tie is not None
        first, last = gap.tie
        size = last - first + 1
        for _attempt in range(COVER_ATTEMPTS):
            choice = _page_spanning(max(first - 1, 0), last + 1, size + 2)
            if choice is None:
                # More equal stamps than one page holds (a bulk change in one second): no
                # single answer can show them all. Failing would fail every run while the group
                # stays in the window, so say so and go on.
                log.warning("events: %s; too many to verify in one page", gap.reason)
                return True
            number, on_page = choice
            page = self.api.event_page(number, on_page, order=self.newest_first)
            self.report.reread_pages += 1
            fresh = [row for row in page.items if start is None or _at_or_after(row, start)]
            if fresh:
                yield self._observe(fresh)
            stamps = [_updated(row) for row in page.items]
            if page_problem(page, on_page) or not stamps:
                continue
            stamp = gap.hi
            assert stamp is not None
            above = number == 1 or (stamps[0] is not None and stamps[0] > stamp)
            end = number >= (page.pages_count or number)
            below = end or (stamps[-1] is not None and stamps[-1] < stamp)
            if above and below:
                return True
            # Writes moved the group: find it from where its rows sit in this page.
            offset = (number - 1) * on_page
            higher = sum(1 for t in stamps if t is not None and t > stamp)
            tied = sum(1 for t in stamps if t == stamp)
            if not above and higher == 0 and tied == 0:
                # All of this page is below the group: it sits higher up.
                first, last = max(offset - size, 0), max(offset - 1, 0)
            elif tied == 0:
                # All of this page is above the group: it sits lower down.
                first, last = offset + len(stamps), offset + len(stamps) + size - 1
            elif above:
                # The group starts in this page and runs past its end.
                size = max(size, tied + 1)
                first = offset + higher
                last = first + size - 1
            else:
                # The group ends in this page (or fills it) and began before it.
                size = max(size, tied + 1)
                last = offset + tied - 1 if below else offset + len(stamps) - 1
                first = max(last - size + 1, 0)
        return False

    def _cover(
        self, gap: Gap, start: dt.datetime | None, gaps: list[Gap]
    ) -> Generator[Rows, None, bool]:
        """Re-read pages until one unbroken run of them starts above `gap.hi` and ends below
        `gap.lo`: every row between the two was then in view at once.

        "Unbroken": consecutive pages across which the count did not fall, each agreeing with
        its meta. Other gaps of `gaps` such a run also spans are closed on the way. Returns
        (as the generator's value) whether `gap` was closed within `COVER_ATTEMPTS`.
        """
        first = max(1, gap.page - 1) if gap.hi is not None else 1
        for _attempt in range(COVER_ATTEMPTS):
            previous: Page[Any] | None = None
            top: dt.datetime | None = None  # the unbroken run's first updatedAt (None: above all)
            in_run = False
            number = first
            while number - first < COVER_MAX_PAGES:
                page = self.api.event_page(number, self.page_size, order=self.newest_first)
                self.report.reread_pages += 1
                fresh = [row for row in page.items if start is None or _at_or_after(row, start)]
                if fresh:
                    yield self._observe(fresh)
                if page_problem(page, self.page_size):
                    break
                if previous is None or _fell(previous, page):
                    # A run starts here, if this page starts above the gap.
                    head = _updated(page.items[0]) if page.items else None
                    in_run = number == 1 or (
                        head is not None and gap.hi is not None and head > gap.hi
                    )
                    top = None if number == 1 else head
                bottom = _last_stamp(page)
                end = not page.items or number >= (page.pages_count or number)
                if in_run:
                    for other in gaps:
                        if not other.closed and _spans(top, bottom, end, other, start):
                            other.closed = True
                    if gap.closed:
                        return True
                elif gap.hi is not None and bottom is not None and bottom <= gap.hi:
                    # Writes pushed the gap above this run's start: begin a page earlier.
                    first = max(1, number - 1)
                    break
                if end:
                    break
                previous = page
                number += 1
        return False

    # --- bookkeeping -------------------------------------------------------------------------

    def _started(self, page: Page[Any]) -> None:
        if page.number == 1 and self.server_start is None:
            self.server_start = self.api.clock.last_on_this_thread()

    def _observe(self, rows: Rows) -> Rows:
        """Track the newest `updatedAt` read, and warn about rows stamped in the future."""
        now = self.api.clock.latest or dt.datetime.now(dt.UTC)
        if isinstance(rows, ArrowRows):
            stamps = rows.updated()
            if stamps is not None:
                self._observe_arrow(rows, stamps, now)
                return rows
        for row in rows:
            stamp = _updated(row)
            if stamp is None:
                continue
            if stamp > now + FUTURE_TOLERANCE:
                self._future(row, stamp, now)
                continue
            if self.newest is None or stamp > self.newest:
                self.newest = stamp
        return rows

    def _observe_arrow(self, rows: ArrowRows, stamps: pa.Array, now: dt.datetime) -> None:
        """`_observe` of a page read into Arrow: rows are looked at only if from the future."""
        values = micros(stamps)
        ahead = pc.fill_null(pc.greater(values, micros_of(now + FUTURE_TOLERANCE)), False)
        if pc.any(ahead).as_py():
            mask = np.asarray(ahead, dtype=bool)
            for row in rows.pick(mask):
                self._future(row, _updated(row) or now, now)
            values = pc.filter(values, pc.invert(ahead))
        top = pc.max(values).as_py()
        newest = EPOCH + dt.timedelta(microseconds=top) if top is not None else None
        if newest is not None and (self.newest is None or newest > self.newest):
            self.newest = newest

    def _future(self, row: dict[str, Any], stamp: dt.datetime, now: dt.datetime) -> None:
        self.report.future_rows += 1
        log.warning(
            "event %s has updatedAt %s, ahead of the server's clock (%s): loaded, but "
            "the cursor will not follow it",
            row.get("id"),
            stamp.isoformat(),
            now.isoformat(),
        )


def _tie_gap(previous: Page[Any], page: Page[Any], stamp: dt.datetime) -> Gap:
    """The gap of a tie group that straddles the boundary between `previous` and `page`."""
    before = sum(1 for _ in _takewhile_stamp(reversed(previous.items), stamp))
    after = sum(1 for _ in _takewhile_stamp(page.items, stamp))
    per_page = (previous.meta.itemsPerPage if previous.meta else None) or len(previous.items)
    boundary = (page.number - 1) * (per_page or 1)
    reason = (
        f"{before + after} events share updatedAt {stamp.isoformat()} across pages "
        f"{previous.number} and {page.number}"
    )
    return Gap(previous.number, stamp, stamp, reason, tie=(boundary - before, boundary + after - 1))


def _takewhile_stamp(rows: Any, stamp: dt.datetime) -> Iterator[dict[str, Any]]:
    for row in rows:
        if _updated(row) != stamp:
            return
        yield row


def _page_spanning(first: int, last: int, at_least: int) -> tuple[int, int] | None:
    """(page, onPage) of one page holding offsets `first`..`last` with the widest margin on
    both sides (writes keep moving rows while the request travels), or None when none can."""
    best: tuple[int, int, int] | None = None
    for on_page in range(max(at_least, last - first + 1), MAX_ON_PAGE + 1):
        index = first // on_page
        if index != last // on_page:
            continue
        margin = min(first - index * on_page, (index + 1) * on_page - 1 - last)
        if index == 0:
            margin = (index + 1) * on_page - 1 - last  # nothing above the first page
        if best is None or margin > best[0]:
            best = (margin, index + 1, on_page)
    return (best[1], best[2]) if best is not None else None


def _spans(
    top: dt.datetime | None,
    bottom: dt.datetime | None,
    end: bool,
    gap: Gap,
    start: dt.datetime | None,
) -> bool:
    """Whether a run of pages from `top` (None: the first page) to `bottom` contains `gap`."""
    if top is not None and (gap.hi is None or top <= gap.hi):
        return False
    if end:
        return True
    lo = gap.lo if gap.lo is not None else start
    return lo is not None and bottom is not None and bottom < lo


def _fell(previous: Page[Any], page: Page[Any]) -> bool:
    """True when the list's count fell between two pages answered one after the other."""
    before, after = items_count(previous), items_count(page)
    return before is not None and after is not None and after < before


def _unread_ids(
    spans: dict[int, tuple[int, int] | None], bad: set[int], page_size: int
) -> list[int]:
    """Ids between consecutive pages, and across pages that broke their meta, never read."""
    numbers = sorted(spans)
    unread: list[int] = []
    previous_max: int | None = None
    for index, number in enumerate(numbers):
        span = spans[number]
        if span is None:
            continue
        low, high = span
        if previous_max is not None and low > previous_max + 1:
            unread.extend(range(previous_max + 1, low))
        if number in bad and index == 0 and low > 1:
            # A short first page: the ids just below its first were not necessarily absent.
            unread.extend(range(max(1, low - page_size), low))
        previous_max = high
    return unread


def _updated(row: dict[str, Any]) -> dt.datetime | None:
    # An unreadable updatedAt is the quarantine's to report, not a reason to stop the scan.
    try:
        return parse_api_datetime(row.get(UPDATED_AT))
    except (ValueError, TypeError, AttributeError):
        return None


def _at_or_after(row: dict[str, Any], start: dt.datetime) -> bool:
    stamp = _updated(row)
    return stamp is None or stamp >= start


def _last_stamp(page: Page[Any] | None) -> dt.datetime | None:
    if page is None:
        return None
    for row in reversed(page.items):
        stamp = _updated(row)
        if stamp is not None:
            return stamp
    return None


def _last_pages_asked(page: Page[Any], concurrency: int) -> bool:
    """Whether every page of the list has been requested once `page` is handed over: a read
    asked now queues right behind the last page, in its wave rather than one after it."""
    total = page.pages_count
    return total is not None and paging.requested_through(page.number, concurrency) >= total


def _id_span(rows: Sequence[dict[str, Any]]) -> tuple[int | None, int | None, bool]:
    """A page's first and last readable id, and whether its ids ascend (never decrease)."""
    if isinstance(rows, ArrowRows):
        ids = rows.ids()
        if not len(ids):
            return None, None, True
        return int(ids[0]), int(ids[-1]), bool((np.diff(ids) >= 0).all())
    found = [i for i in (_int(row.get("id")) for row in rows) if i is not None]
    if not found:
        return None, None, True
    return found[0], found[-1], found == sorted(found)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def fingerprint(row: dict[str, Any]) -> str:
    """A short digest of a row's whole content, to recognise a row already loaded."""
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
