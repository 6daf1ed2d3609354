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
Two counts can still prove such a read. The read of everything is complete when the distinct
ids it read of the events created before its first page number that page's `itemsCount`. An
incremental scan past a page that breaks its meta on every read reads everything instead.

Rows with equal `updatedAt` may come in any order from one request to the next, so one can
slip across a page boundary; the pages that hold the group prove it read when they show as
many distinct rows as the offsets it spans (`TieRun`), else one page spanning the group is
read again: also where the count fell at that boundary, since re-reading the pages around it
shows another order of the group each time. Page sizes and offsets are those the server
serves (`meta.itemsPerPage`), which may be fewer than asked.

The cursor a complete scan leaves is the newest `updatedAt` it read, or the server's clock when
the scan began (the `Date` of its first page) if that is earlier: every row older than that was
read in its current version, and every later change has a later `updatedAt`. Not the `Date`
alone: the clock that stamps rows may run behind it by more than the lag (the cost: rows
sharing the newest stamp are read again by each run until a newer one comes). Rows stamped
ahead of the server's clock are loaded and reported, and never move the cursor.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
import logging
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simplymeet.client import pages as paging
from simplymeet.client.errors import NotFoundError, SimplyMeetError, ValidationError
from simplymeet.client.pages import Page, counted_page
from simplymeet.contract.dates import parse_api_datetime
from simplymeet.contract.vocab import MAX_ON_PAGE, STATE_CANCELED
from simplymeet.landing_schema import EVENTS
from simplymeet.sync.api import CANCELED_ONLY, SyncApi
from simplymeet.sync.arrow_pages import CREATED_AT, ArrowRows, Updated, micros, micros_of
from simplymeet.sync.arrow_pages import stamps as arrow_stamps
from simplymeet.sync.checks import ScanReport, items_count, page_problem, repeated_id
from simplymeet.sync.values import as_id

log = logging.getLogger("simplymeet.sync")

UPDATED_AT = "updatedAt"
NEWEST_FIRST = {"orderField": UPDATED_AT, "orderDirection": "desc"}
BY_ID = {"orderField": "id", "orderDirection": "asc"}
BY_ID_DESC = {"orderField": "id", "orderDirection": "desc"}
CANCELED_MAX_PAGES = 10_000
"""Bound of one read of the canceled events."""
CANCELED_ATTEMPTS = 3
"""Reads of the canceled events that may have lost a row between pages (a count fell, the
page size changed, a page broke its meta, a tie across a boundary could not be shown in
one page) before the run is incomplete."""

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FUTURE_TOLERANCE = dt.timedelta(seconds=60)
"""How far past the server's clock an `updatedAt` may be before it counts as from the future
(the Date header has whole seconds; a backend node's clock may be slightly ahead)."""
FUTURE_NAMED = 5
"""Rows stamped in the future named one warning each per run; the rest are counted in one line
(a database clock minutes ahead of the web servers' puts every recent change there)."""
COVER_ATTEMPTS = 8
"""Re-reads of one gap before it is reported as not closed. An attempt fails when another
delete lands between two of its pages; at 4 deletes/s and a slow page that is one attempt in
three, so 4 attempts still left about one run in a hundred incomplete under steady writes."""
COVER_MAX_PAGES = 20
"""Pages one cover may span before it gives up (a gap is a page boundary or one page wide)."""
CENSUS_MARGIN = dt.timedelta(seconds=2)
"""How much older than the first page's `Date` an event's `createdAt` must be for the count on
that page to include it for sure (the Date has whole seconds; the database stamping `createdAt`
may run on another clock). Events created in the margin only make the count harder to meet."""
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
    short: bool = False
    """The gap is a page that broke its meta (short, missing), not a delete between pages."""
    tie: tuple[int, int] | None = None
    """For rows with equal `updatedAt` across a page boundary: their offsets (first, last)."""
    run: TieRun | None = None
    """For such rows: what the scan's own pages saw of them (`TieRun.proven`)."""
    beyond_a_page: bool = False
    """Such rows are more than one page holds: no single answer can show them all."""


@dataclass
class TieRun:
    """The rows of one `updatedAt` as pages fetched one after another showed them.

    A run's rows sit at consecutive offsets. While the count does not fall between its pages,
    writes only push rows to later offsets (an update or a create lands in front), so the
    offsets from its first row (as the first of its pages showed it) to its last (as the last
    one did) are at least as many as the rows it had when its first page was answered. When
    the distinct ids read with that stamp are exactly as many, every one of them was read,
    whatever order the server gave rows with equal stamps in.
    """

    stamp: dt.datetime
    per_page: int
    first: int | None
    """Offset of the run's first row; None when its page did not show what precedes it."""
    last: int | None = None
    """Offset of its last row, once a lower row followed it on its page or the list ended."""
    ids: set[Any] = field(default_factory=set)
    broken: bool = False
    """A page of it broke its meta, the count fell, or the page size changed: no proof."""

    def proven(self) -> bool:
        """Whether the distinct rows read fill the run's offsets, from its start to its end."""
        if self.broken or self.first is None or self.last is None:
            return False
        return len(self.ids) == self.last - self.first + 1


class EventScan:
    """One run's read of the events; rows come out of `everything()` or `since()`.

    After the generator is exhausted, `complete` says whether the scan proved itself,
    `server_start` is the server's clock when it began, and `newest` the newest `updatedAt`
    read that is not from the future.
    """

    def __init__(self, api: SyncApi, page_size: int, report: ScanReport) -> None:
        self.api = api
        self.page_size = page_size
        self.served = page_size
        """Rows per page the server serves: `page_size` unless a page's meta says fewer (the
        reference bounds `onPage` by 100; a server may cap it lower)."""
        self._uncounted_first = 0
        """The length of the last page 1 read without a count (no meta, or one that counts
        nothing): the server's page size if a page 2 follows it."""
        self._size_probed = False
        """Whether this run asked the plain list's pages 1 and 2 for the page size."""
        self.report = report
        self._counted: list[np.ndarray | tuple[pa.Array, pa.Array]] | None = None
        """While reading everything: the ids read of rows created before `_census`, or a
        page's ids and `createdAt` as read, to be told only if the count is ever needed."""
        self._census: dt.datetime | None = None
        """The server's clock when the read of everything got its first page."""
        self.complete = True
        self.server_start: dt.datetime | None = None
        self.local_start = dt.datetime.now(dt.UTC)
        self.newest: dt.datetime | None = None
        self.unproven_below: dt.datetime | None = None
        """For an incomplete incremental scan: every row above this `updatedAt` was proven
        read; only the gaps below it (and above the window's start) remain uncertain."""
        self.newest_first: dict[str, str] = NEWEST_FIRST
        """The order `since` asks for; none once the server refused it (`_newest_first`)."""
        self.highest_id: int | None = None
        """The highest event id read."""
        self._follow_ups: bool | None = None
        """Whether the reads that follow the scan are to be sent as its first page is in,
        and the newest ids among them (`read_ahead_what_follows`); None once sent."""
        self._canceled_ahead: dict[str, str] | None = None
        """The order the canceled events' first page was asked for ahead in, if it was."""
        self._tail_ahead = False
        """Whether the newest ids' first page was asked for ahead."""
        self.tail_top: int | None = None
        """The highest id the read above the last id read showed (its first page's): every
        id up to it was read. One read later, above it (a booking made and canceled since,
        read with the canceled ones), proves nothing of the ids between."""
        self.order_proven = False
        """Whether the server was seen to honour `orderField=updatedAt` lately (set by the
        caller from the runs before; `since` sets it from what it reads): only then does the
        newest-first read stop at the first page reaching below its start."""
        self.order_shown: bool | None = None
        """What this scan's newest-first read showed of the order: honoured (True), not
        (False: stamps out of order), or nothing either way (None)."""
        self._read: list[tuple[np.ndarray, np.ndarray]] = []
        """The ids and `updatedAt` (µs, -1 when none) of every row read, to find an event
        served twice with one stamp (`served_twice`)."""
        self._twice: set[int] = set()
        """Events served twice within a read already ended (`_new_phase`)."""
        self._earlier: list[tuple[np.ndarray, np.ndarray]] = []
        """The ids and stamps of the reads already ended, as `_read` keeps them."""
        self._by_id: list[tuple[np.ndarray, np.ndarray]] = []
        """The parts of `_read` and `_earlier` read by id, not from a list's pages."""
        self._canceled_listed = False
        """A list page of the count's read held a canceled event: the server lists them."""

    # --- the cursor this scan allows ---------------------------------------------------------

    def safe_cursor(self) -> dt.datetime | None:
        """The cursor a complete scan may leave: never past what the server can have committed,
        nor past the newest row read (None when it read no row).

        The `Date` header is the web server's clock; `updatedAt` is stamped by another (the
        database's), which may run minutes behind. Only the newest stamp read proves where
        the stamping clock had got to: every later write is stamped later than it.
        """
        if self.newest is None:
            return None
        return min(self.newest, self.server_start or self.local_start)

    def edge_from(self, lag: dt.timedelta) -> dt.datetime:
        """Rows at or above this `updatedAt` may be read again by the next run.

        Never above the final cursor less `lag` while the scan goes on (the newest row read
        only rises); `safe_cursor() - lag` once it is done.
        """
        start = self.server_start or self.local_start
        return (start if self.newest is None else min(self.newest, start)) - lag

    # --- reading everything ------------------------------------------------------------------

    def served_twice(self) -> list[int]:
        """The events this scan read more than once with the same `updatedAt`.

        A page holding a row of the next one (a cache, a join) serves one version of an event
        twice, possibly with two contents, of which a load keeps either: the runner reads
        them again by id once the run's read is loaded. (A row a write pushed onto a later
        page comes with a newer stamp, which the load keeps.)"""
        self._new_phase()
        return sorted(self._twice)

    def _new_phase(self) -> None:
        """Keep the repeats read so far and start a read that may repeat them on purpose: the
        events created since the last run (read by id after the changes), a page read again
        to close a gap, every event read to prove none is missing."""
        if self._read:
            ids = np.concatenate([part[0] for part in self._read])
            stamps = np.concatenate([part[1] for part in self._read])
            order = np.lexsort((stamps, ids))
            ids, stamps = ids[order], stamps[order]
            same = (ids[1:] == ids[:-1]) & (stamps[1:] == stamps[:-1])
            self._twice.update(int(i) for i in np.unique(ids[1:][same]))
        self._earlier.extend(self._read)
        self._read.clear()

    def read_in_versions(self) -> list[int]:
        """The events this scan read with more than one `updatedAt`, in any of its reads:
        changed while the run read them (`ScanReport.read_in_versions`)."""
        parts = [*self._earlier, *self._read]
        if not parts:
            return []
        ids = np.concatenate([p[0] for p in parts])
        stamps = np.concatenate([p[1] for p in parts])
        order = np.lexsort((stamps, ids))
        ids, stamps = ids[order], stamps[order]
        other = (ids[1:] == ids[:-1]) & (stamps[1:] != stamps[:-1])
        return sorted(int(i) for i in np.unique(ids[1:][other]))

    def _read_again_whole(self) -> None:
        """A fallback that reads every event again: what was read so far is not a repeat."""
        self._earlier.extend(self._read)
        self._read.clear()
        self._twice.clear()

    def _read_before(self, listed: bool = False) -> ReadBefore:
        """A test of rows: which of them this scan read before, in the same version (id and
        `updatedAt`), in any of its reads so far (with `listed`, in its list pages only: not
        asked for by id)."""
        parts = [*self._earlier, *self._read]
        if listed:
            by_id = {id(part) for part in self._by_id}
            parts = [part for part in parts if id(part) not in by_id]
        ids = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int64)
        stamps = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.int64)
        order = np.lexsort((stamps, ids))
        ids, stamps = ids[order], stamps[order]

        def read(rows: Rows, unnamed: bool = False) -> np.ndarray:
            asked, at = _ids_and_stamps(rows)
            lo = np.searchsorted(ids, asked, side="left")
            hi = np.searchsorted(ids, asked, side="right")
            found = np.array(
                [bool((stamps[a:b] == m).any()) for a, b, m in zip(lo, hi, at, strict=True)],
                dtype=bool,
            )
            if len(found) == len(rows):
                return found
            # A row without a readable id cannot be told from another: `unnamed` for it.
            readable = np.array([as_id(row.get("id")) is not None for row in rows], dtype=bool)
            every = np.full(len(rows), unnamed, dtype=bool)
            every[readable] = found
            return every

        return read

    def everything(self) -> Iterator[Rows]:
        """Every event: by id, pages concurrently, then the unread ids between pages by id."""
        spans: dict[int, tuple[int, int] | None] = {}
        bad: dict[int, list[int]] = {}
        """Pages that broke their meta, each with the ids it held: a row missing from the
        middle of one leaves a hole between two ids it did hold."""
        ascending = True
        pages_count = 0
        try:
            first = self.api.event_page(1, self.page_size, order=BY_ID, arrow=True)
        except ValidationError:
            # A server that refuses to order by id (400/422): newest-first, page by page.
            log.info("the event list cannot be ordered by id here; reading it newest-first")
            yield from self.since(None)
            return
        self._counted, self._census = [], self.api.clock.last_on_this_thread()
        _warn_if_pages_undercounted(first)
        pages = self.api.event_pages(self.page_size, order=BY_ID, first=first, arrow=True)
        overlapped: dict[int, list[int]] = {}
        """Pages whose id span reaches into the next page's: a row served in place of another
        (or one a delete pulled onto the page) may have hidden a row inside either."""
        previous: tuple[Page[Any], int] | None = None
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
                self._learn(page)
                self.report.event_pages += 1
                pages_count = max(pages_count, page.pages_count or 0)
                if page_problem(page, self.served):
                    bad[page.number] = _ids_of(page.items)
                first_id, last_id, in_order, repeats = _id_span(page.items)
                if repeats:
                    # A row served twice on one page may stand in for one it hid.
                    overlapped[page.number] = _ids_of(page.items)
                if first_id is not None and last_id is not None:
                    # Only a page's own order tells: pages answered seconds apart under many
                    # deletes may overlap by more than a page.
                    if not in_order:
                        ascending = False
                    spans[page.number] = (first_id, last_id)
                    if (
                        previous is not None
                        and first_id <= previous[1]
                        and items_count(previous[0]) == items_count(page)
                    ):
                        # Where the count moved between the two, writes explain the overlap
                        # (a delete pulls rows left) and the gaps between pages are read.
                        overlapped[previous[0].number] = _ids_of(previous[0].items)
                        overlapped[page.number] = _ids_of(page.items)
                    previous = (page, last_id)
                else:
                    spans[page.number] = None
                if page.items:
                    yield self._observe(page.items)
            if items_count(first) is None:
                # A plain array states no count: there is nothing to check the read against.
                return
            if not ascending:
                # The server ignored the id order: nothing to check by id. Read newest-first,
                # one page at a time, with the count checks.
                log.info("the event list is not ordered by id here; reading it newest-first")
                self._counted = None
                self._read_again_whole()
                yield from self.since(None)
                return
            last_read = max((span[1] for span in spans.values() if span is not None), default=0)
            tail_read = yield from self._tail(last_read, tail_first)
        finally:
            ahead.shutdown(wait=False, cancel_futures=True)
        tail_gap = (
            f"events: the ids after {last_read} could not be read without a gap "
            f"({COVER_ATTEMPTS} attempts)"
        )
        unread, unread_count = _unread_ids(spans, {**overlapped, **bad}, self.served)
        if unread_count > ID_CHECK_CAP:
            counted = self._counted_at_start()
            if tail_read and counted is not None and counted == items_count(first):
                # Ids far apart (a sequence shared with other records, or many deletes):
                # too many to ask for, but every event the server counted when the scan
                # began was read, and every id after the last page's too.
                log.info(
                    "events: %s ids between pages were never served; the %s events read "
                    "are all the server counted when the scan began",
                    f"{unread_count:,}",
                    f"{counted:,}",
                )
                return
            if not tail_read:
                self.report.problem(tail_gap)
            self.report.problem(
                f"events: {unread_count:,} ids between pages were not read; too many to ask by id"
            )
            self.complete = False
            return
        for start in range(0, len(unread), self.served):
            self.report.reread_pages += 1
            chunk = unread[start : start + self.served]
            for rows in self.api.events_by_ids(chunk, self.served):
                if rows:
                    yield self._observe(rows, by_id=True)
        short = sorted(number for number, held in bad.items() if held)
        if tail_read and not short:
            # A page refused or answered empty (deletes shrank the list under the read) hid
            # rows only between the pages around it, all asked for by id.
            return
        counted = self._counted_at_start()
        if tail_read:
            # Every id a page short of its meta may have hidden was asked for by id; a server
            # that leaves a row out of those answers too (a list query whose join drops it,
            # after counting it) is found only by the count.
            if counted is not None and counted == items_count(first):
                return
            broke = ", ".join(str(number) for number in short)
            self.report.problem(
                f"events: page(s) {broke} held fewer events than their meta promises, and "
                f"the {counted if counted is not None else 'unknown number of'} events read "
                f"that existed when the scan began are not the {items_count(first):,} the "
                "server counted then, even with every id they could have hidden asked by id"
            )
            self.complete = False
            return
        if counted is not None and counted == items_count(first):
            # Every event the server counted when the scan began was read: whatever the
            # pages that broke their meta hid, it was read elsewhere.
            log.warning(
                "%s; but the %s events read that existed when the scan began are all the "
                "server counted then: nothing is missing",
                tail_gap,
                f"{counted:,}",
            )
            return
        self.report.problem(tail_gap)
        self.complete = False

    def _counted_at_start(self) -> int | None:
        """Distinct ids read of the events created before the read's first page was answered.

        The first page's `itemsCount` is the number of events that existed then; events
        created later are not counted. So when the two are equal, every event that existed
        when the scan began was read, however many were deleted or created during it (a
        created one cannot stand in for a missed one). None when it cannot be told (no
        server clock). Where no list page held a canceled event, those the reads by id found
        only when they asked for canceled ones (`SyncApi.listed_apart`) are not counted: a
        list that leaves them out of its items leaves them out of its count.
        """
        if self._counted is None or self._census is None:
            return None
        census = self._census - CENSUS_MARGIN
        ids = [
            part if isinstance(part, np.ndarray) else _ids_created_before(*part, census)
            for part in self._counted
        ]
        if not ids:
            return 0
        read = np.unique(np.concatenate(ids))
        apart = self.api.listed_apart
        if apart and not self._canceled_listed:
            read = read[~np.isin(read, np.fromiter(apart, dtype=np.int64, count=len(apart)))]
        return len(read)

    def _tail(
        self,
        last_read: int,
        first: Future[Page[Any]] | None = None,
        max_pages: int | None = COVER_MAX_PAGES,
    ) -> Generator[Rows, None, bool]:
        """Every event with an id above `last_read`, read newest id first, without a gap.

        Deletes while the pages were fetched in parallel can pull the last rows onto a page
        already answered (the page after it then comes back empty): they are above the last
        id read. `first` is the read's first page when it was asked for beside the last
        pages. Returns (as the generator's value) whether an unbroken read reached it.
        """
        for attempt in range(COVER_ATTEMPTS):
            if attempt:
                # The rows read again on purpose are no server repeat.
                self._new_phase()
            previous: Page[Any] | None = None
            number, broken = 1, False
            while max_pages is None or number <= max_pages:
                if number == 1 and first is not None:
                    page, first = first.result(), None
                else:
                    page = self._tail_page(number)
                self._learn(page)
                if attempt:
                    # The first read above the last id is part of every scan, not a re-read.
                    self.report.reread_pages += 1
                ids = [as_id(row.get("id")) for row in page.items]
                if number == 1:
                    self.tail_top = max((i for i in ids if i is not None), default=last_read)
                # A row without a readable id is observed too: the quarantine sets it aside
                # and says so, where left out here it would be dropped without a word.
                fresh = [
                    row
                    for row, i in zip(page.items, ids, strict=True)
                    if i is None or i > last_read
                ]
                if fresh:
                    yield self._observe(fresh)
                known = [i for i in ids if i is not None]
                if known != sorted(known, reverse=True):
                    # Not newest id first: the server ignores the order asked, and a page of
                    # low ids says nothing of the ones above the last read.
                    if number == 1 and known == sorted(known):
                        return (yield from self._tail_from_the_end(last_read, page))
                    log.warning("events: the event list ignores orderField=id here")
                    return False
                if (
                    page_problem(page, self.served)
                    or (previous is not None and _fell(previous, page))
                    or (previous is not None and _served_again(previous, known))
                ):
                    broken = True
                    break
                end = _is_last(page, self.served)
                if end or len(fresh) < len(page.items):
                    return True
                previous, number = page, number + 1
            if not broken:
                return False
        return False

    def _settles_tail(self, page: Page[Any], last_read: int) -> bool:
        """Whether the newest ids' first page, asked once the scan's first page was in, reads
        every id above `last_read` by itself: newest id first, intact, reaching `last_read`
        or the list's end, and no id read since above its own."""
        known = [i for i in (as_id(row.get("id")) for row in page.items) if i is not None]
        if known != sorted(known, reverse=True) or page_problem(page, self.served):
            return False
        if self.highest_id is not None and (not known or self.highest_id > known[0]):
            return False
        return _is_last(page, self.served) or any(i <= last_read for i in known)

    def _tail_from_the_end(self, last_read: int, first: Page[Any]) -> Generator[Rows, None, bool]:
        """`_tail` on a server that answers oldest id first whatever is asked: the ids above
        `last_read` are on the last pages, read from the last one back. Returns whether
        every page down to one that reaches `last_read` was read in that order."""
        total = first.pages_count
        if total is None:
            return False
        for number in range(total, 0, -1):
            page = first if number == 1 else self._tail_page(number)
            ids = [i for i in (as_id(row.get("id")) for row in page.items) if i is not None]
            if number == total:
                self.tail_top = max(ids, default=last_read)
            if ids != sorted(ids) or page_problem(page, self.served):
                return False
            fresh = [
                row for row in page.items if (i := as_id(row.get("id"))) is None or i > last_read
            ]
            if fresh:
                yield self._observe(fresh)
            if ids and ids[0] <= last_read:
                return True
        return True

    def created_after(self, last_id: int) -> Iterator[Rows]:
        """Every event with an id above `last_id`, however it is stamped, newest id first:
        as many pages as the server counts (however many were created since), usually one.

        A server may serve a never-updated event's `updatedAt` as null and sort it as its
        database sorts NULL: after every stamp, where `since` stops reading. Such an event
        is new since the run that read up to `last_id`, so it is read by id instead.
        """
        # The changes just read include the events created since: read again here on purpose.
        self._new_phase()
        try:
            first: Future[Page[Any]] | None = None
            if self._tail_ahead:
                self._tail_ahead = False
                early = self._tail_page(1)
                if self._settles_tail(early, last_id):
                    first = Future()
                    first.set_result(early)
            if (yield from self._tail(last_id, first, max_pages=None)):
                return
        except ValidationError:
            # A server that refuses to order by id (400/422). Where it refused `updatedAt`
            # too, `since` read every page, unordered: nothing was left below where it stops.
            if not self.newest_first:
                return
            log.warning(
                "events: the event list cannot be ordered by id here; reading every event "
                "for those created since the last run"
            )
            self._read_again_whole()
            yield from self.everything()
            return
        # A page that breaks its meta on every read hides rows no re-read of it shows: read
        # every event instead, which proves itself by id or by what the server counted.
        log.warning(
            "events: the ids after %s could not be read without a gap; reading every event "
            "to prove none is missing",
            last_id,
        )
        self._read_again_whole()
        yield from self.everything()

    def read_ahead_what_follows(self, *, created_after: bool) -> None:
        """Send the first request of each read that follows the scan as soon as the scan's
        first page is in, not after its last: the canceled events (`canceled_since`) and,
        with `created_after`, the newest ids (`created_after`).

        Each waited for the whole scan, a round trip apiece on every run. Their answers are
        judged when their turn comes, against every row read by then, and taken only where
        they settle their read alone: such a page shows the server as it was after the
        scan's first `Date`, which the cursor never passes, so what changes later is the
        next run's. Otherwise their first page is asked again in its turn: a second page
        asked a whole scan after the first can miss a row a delete shifted between them, and
        an id read above the newest ids' page may belong to an event created after it.
        """
        self._follow_ups = created_after

    def _send_follow_ups(self) -> None:
        if self._follow_ups is None:
            return
        created_after, self._follow_ups = self._follow_ups, None
        # The order as the scan's first page left it: none where the server refused it.
        order = dict(self.newest_first)
        if self.api.event_page_ahead(1, self.page_size, order=order, filter=CANCELED_ONLY):
            self._canceled_ahead = order
        if created_after:
            self._tail_ahead = self.api.event_page_ahead(1, self.page_size, order=BY_ID_DESC)

    def canceled_since(self, start: dt.datetime | None) -> Iterator[Rows]:
        """Canceled events stamped at or after `start` (every one for None), asked for by
        their state, newest first where the server takes the order.

        A server may leave canceled events out of its list (and of its count, so no check
        of the list shows them) unless a state is asked for: a booking canceled since the
        last run would stay booked in the warehouse. Rows this scan read already, in the same
        version, are not read again, and a page of nothing but such rows ends the read: the
        list holds them (one request a run). On a server seen honouring the order
        (`order_proven`), it ends too at the first page reaching below `start`; elsewhere (the
        order refused, ignored, or not shown yet), at the list's end. A server refusing
        the state filter (400/422 without an order too) is taken to list them, and a 404 to
        hold none.

        A delete between two of its pages shifts a row across their boundary, read by
        neither, and on a server listing canceled events only when asked no other read
        finds it; so does a page size the server changed between them. Where a page states a
        count below the page before it (a cancel and a delete between two earlier pages
        cancel out in page 1's) or another page size, breaks its own meta, or is refused
        past the list's end, the pages are read again, `CANCELED_ATTEMPTS` times; then the
        run is incomplete (exit 8). So are they where a read to the list's end showed fewer
        events, over all its attempts, than its first page counted: a row slipped past a
        boundary unseen (rows of one `updatedAt` a server orders anew on each request, on a
        first sync as on any read the order was not yet proven for). Rows of one stamp across
        a boundary are read again in one page spanning them; where none can (more than a page
        holds), the canceled events are read again by id, newest first, to the list's end."""
        self._new_phase()
        read_any, read_listed = self._read_before(), self._read_before(listed=True)

        def scanned(rows: Rows, unnamed: bool = False) -> np.ndarray:
            # A page of rows read before says the list holds them only where the list's own
            # pages served one of them: rows asked for by id alone (the ids between a first
            # sync's pages, canceled ones too, on a server listing them apart) say nothing.
            if not read_listed(rows).any():
                return np.zeros(len(rows), dtype=bool)
            return read_any(rows, unnamed)

        order = self.newest_first
        seen = _Seen()
        why: str | None = None
        for attempt in range(CANCELED_ATTEMPTS):
            if attempt:
                log.info("events: %s; read again", why)
                self._new_phase()  # what is read again on purpose is no server repeat
                seen.next_attempt()
            why, order = yield from self._canceled_pages(start, order, scanned, seen)
            if why is None:
                return
        self.report.problem(
            f"events: {why}, {CANCELED_ATTEMPTS} times: a canceled event may be unread"
        )
        self.complete = False

    def _canceled_pages(
        self,
        start: dt.datetime | None,
        order: dict[str, str],
        scanned: ReadBefore,
        seen: _Seen,
    ) -> Generator[Rows, None, tuple[str | None, dict[str, str]]]:
        """One read of `canceled_since`; returns why it may have lost a row between pages (a
        count fell, the page size changed, a page broke its meta, fewer rows than counted),
        or None, and the order it asked in. `scanned` tells the rows read before the canceled
        ones were asked for: a page of nothing else ends the read (a read again after a count
        fell has read page 1 itself). `seen` holds every id the canceled pages showed, over
        the attempts of this run."""
        read_before = self._read_before()
        previous: Page[Any] | None = None
        """The page before: a delete since, or a page size changed since, leaves rows between
        the two pages on neither (`_broke_between`)."""
        counted: int | None = None
        """What the first page of this read counted: a read to the end shows as many."""
        newest: int | None = None
        """The newest `updatedAt` (µs) that first page held."""
        falling: int | None = _NEWEST
        """The last `updatedAt` (µs) of the pages read, while each has fallen from the one
        before (None once one did not): ties at a boundary are then a gap to cover."""
        for number in range(1, CANCELED_MAX_PAGES + 1):
            try:
                page = self.api.event_page(
                    number, self.page_size, order=order, filter=CANCELED_ONLY
                )
            except NotFoundError:
                # A list answering "none" with a 404, as some servers answer an empty list.
                return None, order
            except ValidationError:
                if number == 1 and order:
                    order = {}  # the order refused, as `since` found on other servers
                    try:
                        page = self.api.event_page(1, self.page_size, filter=CANCELED_ONLY)
                    except (NotFoundError, ValidationError):
                        log.info("events: the event list refused filter[state]; not asked")
                        return None, order
                else:
                    log.info("events: the event list refused filter[state]; not asked")
                    return None, order
            if number == 1 and self._canceled_ahead == order:
                self._canceled_ahead = None
                if not self._ends_canceled_read(page, start, order, scanned):
                    # Asked as the scan began: a page 2 asked only now could miss a row a
                    # delete in between shifted across. Page 1 again, beside it in time.
                    try:
                        page = self.api.event_page(
                            1, self.page_size, order=order, filter=CANCELED_ONLY
                        )
                    except NotFoundError:
                        return None, order
                    except ValidationError:
                        log.info("events: the event list refused filter[state]; not asked")
                        return None, order
            problem = page_problem(page, self.served)
            if problem:
                return f"a page of the canceled events broke its meta ({problem})", order
            if previous is not None and _broke_between(previous, page):
                return "the canceled events' count fell while they were read", order
            if number == 1:
                counted = items_count(page)
                newest = _newest_stamp(page.items)
            seen.add(page.items, number)
            falling = _still_falling(page.items, falling)
            by_stamp = order.get("orderField") == UPDATED_AT
            if previous is not None and by_stamp and (self.order_proven or falling is not None):
                tie = _straddling_tie(previous, page, start)
                # A server may order rows of one stamp anew on each request (a bulk cancel
                # stamps them alike): one can slip past the boundary, read by neither page.
                # Where its order was not proven, these pages falling shows it here.
                if tie is not None and not (
                    yield from self._cover_tie(
                        tie,
                        start,
                        order=order,
                        filter=CANCELED_ONLY,
                        # Not a booking canceled since the first page counted them (it
                        # sits above where that page began): it stands in for none.
                        saw=functools.partial(seen.add, newest=newest),
                    )
                ):
                    # No page showed them all (more than a page holds, or the server serves
                    # fewer than asked): read again by id, newest first, to the list's end,
                    # where no two rows tie and the pages prove themselves by its count.
                    return f"{tie.reason}, and no one page showed them", BY_ID_DESC
                if tie is not None:
                    # What the spanning page read is not read again from this page.
                    read_before = self._read_before()
            previous = page
            if page.items and scanned(page.items, unnamed=True).all():
                return None, order  # the list holds its canceled events: read with it
            if number == 1:
                self.report.canceled_counted = counted
                ids = _ids_of(page.items)
                self.report.canceled_sample = ids[0] if ids else None
            fresh = [row for row in page.items if start is None or _at_or_after(row, start)]
            known = read_before(fresh) if fresh else np.empty(0, dtype=bool)
            new = [row for row, was in zip(fresh, known, strict=True) if not was]
            if new:
                yield self._observe(new)
            if not page.items or _is_last(page, self.served):
                # Rows a write moved past a boundary show as a count the pages fall short of;
                # one written since the first page only raises what later pages count.
                return seen.short_of(counted, self._canceled_still_there), order
            # Only a server seen honouring the order (`since`) lists newest first: one that
            # ignores it serves its own order (oldest id first), and the page reaching below
            # `start` says nothing of the next; nor does a page in the order of ids.
            if by_stamp and self.order_proven and len(fresh) < len(page.items):
                return None, order
        self.report.problem(
            f"events: the canceled events still held more pages after {CANCELED_MAX_PAGES}"
        )
        self.complete = False
        return None, order

    def _canceled_still_there(self, ids: list[int]) -> set[int]:
        """Of `ids`, the events a read by id finds now (none where that read fails)."""
        found: set[int] = set()
        try:
            for rows in self.api.events_by_ids(ids, MAX_ON_PAGE):
                found.update(i for i in (as_id(row.get("id")) for row in rows) if i is not None)
        except SimplyMeetError:
            return set()
        return found

    def _ends_canceled_read(
        self,
        page: Page[Any],
        start: dt.datetime | None,
        order: dict[str, str],
        read_before: ReadBefore,
    ) -> bool:
        """Whether `canceled_since` stops after this page, as its loop decides."""
        if (
            not page.items
            or read_before(page.items, unnamed=True).all()
            or _is_last(page, self.served)
        ):
            return True
        return bool(
            order.get("orderField") == UPDATED_AT
            and self.order_proven
            and start is not None
            and not all(_at_or_after(row, start) for row in page.items)
        )

    def _tail_page(self, number: int) -> Page[Any]:
        return self.api.event_page(number, self.page_size, order=BY_ID_DESC)

    # --- reading what changed ----------------------------------------------------------------

    def since(
        self, start: dt.datetime | None, below_cursor: dt.timedelta | None = None
    ) -> Iterator[Rows]:
        """Events with `updatedAt >= start` (every event for None), newest first, verified.

        Pages are requested one at a time and reading stops at the first page that reaches
        below `start`, so the cost follows what changed. A server that turns out not to honour
        the order is read to the end instead. Gaps found on the way are covered at the end.

        `below_cursor`, for a window that starts that far below a cursor: where the first
        page's `Date` is earlier than that cursor (the server's clock was set back after a
        run left the cursor on its time), the window starts as far below the `Date` instead:
        every change stamped since the clock went back is older than the cursor.
        """
        self.report.window_from = start.isoformat() if start is not None else None
        gaps: list[Gap] = []
        open_gap: Gap | None = None
        previous: Page[Any] | None = None
        ordered = True
        last_stamp: dt.datetime | None = None
        seen: set[Any] = set()
        run: TieRun | None = None
        # A server that ignores orderField=updatedAt may sort by its own field (id,
        # createdAt, scheduledAt) in the direction asked; while the stamps fall, that looks
        # the same. A key that rose between two rows read one after the other rules it out.
        order_shown = _OrderShown()
        first_count: int | None = None
        pages = self._newest_first()
        try:
            for page in pages:
                self._started(page)
                self._learn(page)
                self.report.event_pages += 1
                if previous is None:
                    first_count = items_count(page)
                    start = self._below_the_servers_clock(start, below_cursor)
                problem = _since_problem(page, self.served, seen)
                if problem:
                    again = self._counted_page(page.number, self.newest_first)
                    self.report.reread_pages += 1
                    if _since_problem(again, self.served, seen) is None:
                        page, problem = again, None
                stamps = [_updated(row) for row in page.items]
                if not order_shown.done:
                    for row in page.items:
                        order_shown.add(row)
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
                    open_gap = Gap(page.number, before, None, problem, short=True)
                    gaps.append(open_gap)
                elif previous is not None and _fell(previous, page):
                    lost = (items_count(previous) or 0) - (items_count(page) or 0)
                    reason = (
                        f"{lost} event(s) deleted between pages {previous.number} and {page.number}"
                    )
                    lo = stamps[0] if stamps else None
                    gaps.append(Gap(previous.number, before, lo, reason))
                elif previous is not None and (sizes := _resized(previous, page)):
                    reason = (
                        f"the server's page size went from {sizes[0]} to {sizes[1]} between "
                        f"pages {previous.number} and {page.number}"
                    )
                    lo = stamps[0] if stamps else None
                    gaps.append(Gap(previous.number, before, lo, reason))
                if (
                    previous is not None
                    and self.newest_first
                    and stamps
                    and before is not None
                    and stamps[0] == before
                    and (start is None or before >= start)
                ):
                    # Also where the count fell: re-reading the pages around the boundary
                    # (`_cover`) shows a new order of the tied rows each time, so only one
                    # page spanning them shows them all.
                    gap = _tie_gap(previous, page, before)
                    gap.run = run if run is not None and run.stamp == before else None
                    gaps.append(gap)
                fell = previous is not None and _broke_between(previous, page)
                run = _follow_run(run, page, stamps, broken=bool(problem) or fell)
                fresh = [
                    row
                    for row, stamp in zip(page.items, stamps, strict=True)
                    if start is None or stamp is None or stamp >= start
                ]
                if fresh:
                    yield self._observe(fresh)
                previous = page
                if ordered and self.newest_first and len(fresh) < len(page.items):
                    if order_shown.done:
                        self.order_proven = self.order_shown = True
                    if self.order_proven:
                        break
                    # Not shown yet to honour orderField=updatedAt: a server sorting by its
                    # own field in the direction asked looks the same while every id falls
                    # with the stamps, and an old event changed since sits where its id puts
                    # it, past this page. Read on until the order shows or the list ends.
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()
        if not ordered:
            self.order_proven = self.order_shown = False
        if not ordered and self.newest_first:
            log.warning("the event list is not ordered by updatedAt; the scan read every page")
            # Rows sharing an `updatedAt` across a page boundary are a gap only in that order;
            # in the server's own, every page was read, and what it counts must all be here.
            gaps = [gap for gap in gaps if gap.tie is None]
            counted = items_count(previous) if previous is not None else None
            read = len({key for key in seen if key is not None})
            if counted is not None and counted == first_count and read < counted:
                self.report.problem(
                    f"events: the event list is not ordered by updatedAt, and its pages held "
                    f"{read:,} distinct events of the {counted:,} it counts"
                )
                self.complete = False
        self.report.gaps_found += len(gaps)
        unclosed: list[Gap] = []
        for gap in gaps:
            if gap.closed:
                self.report.gaps_closed += 1
                continue
            if gap.tie is not None:
                if ordered and gap.run is not None and gap.run.proven():
                    # The pages already read hold every row of the group: nothing to re-read.
                    closed = True
                else:
                    closed = yield from self._cover_tie(gap, start)
            else:
                closed = yield from self._cover(gap, start, gaps)
            if closed:
                self.report.gaps_closed += 1
            else:
                unclosed.append(gap)
        if (
            unclosed
            and start is not None
            and all(gap.short or gap.beyond_a_page for gap in unclosed)
        ):
            # A page that breaks its meta on every read hides rows no re-read of it shows, and
            # would fail every run; rows that tie beyond a page may each time sit where no
            # page shows them. Read every event instead: by id, it proves itself by the ids
            # between pages, or by what the server counted when it began.
            why = "too many to show in one page" if unclosed[0].beyond_a_page else "on every read"
            log.warning(
                "events: %s, %s; reading every event to prove none is missing",
                unclosed[0].reason,
                why,
            )
            problems = len(self.report.problems)
            # What this read of everything reads again on purpose is not served twice.
            self._new_phase()
            yield from self.everything()
            if self.complete and len(self.report.problems) == problems:
                self.report.gaps_closed += len(unclosed)
                return
        for gap in unclosed:
            self.complete = False
            floor = gap.lo if gap.lo is not None else start
            if floor is not None and (self.unproven_below is None or floor < self.unproven_below):
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

    def _cover_tie(
        self,
        gap: Gap,
        start: dt.datetime | None,
        *,
        order: dict[str, str] | None = None,
        filter: dict[str, Any] | None = None,
        saw: Callable[[Rows], None] | None = None,
    ) -> Generator[Rows, None, bool]:
        """Read one page that holds every row of a tie group that straddled a page boundary.

        Rows with equal `updatedAt` may come in a different order from one request to the next
        (SQL gives no order among ties under LIMIT/OFFSET), so one can slip past the boundary.
        A page size is chosen so that a single page spans the group's offsets with a row on
        either side; that page is one atomic answer. Returns whether it managed. `order` and
        `filter` are the read's whose pages it was (default: the scan's, newest first);
        `saw` is handed each page it reads.
        """
        assert gap.tie is not None
        first, last = gap.tie
        size = last - first + 1
        for _attempt in range(COVER_ATTEMPTS):
            # The rows this page reads again on purpose are no server repeat.
            self._new_phase()
            # Up to the reference's bound unless the server was seen to serve fewer than
            # asked: a page size chosen lower in the settings need not bound this one page.
            most = MAX_ON_PAGE if self.served >= self.page_size else self.served
            choice = _page_spanning(max(first - 1, 0), last + 1, size + 2, most)
            if choice is None:
                # More equal stamps than one page holds (a bulk change in one second): no
                # single answer can show them all, and a server may order them anew on every
                # request. Left to the read of every event by id (`since`).
                gap.beyond_a_page = True
                return False
            number, on_page = choice
            page = self.api.event_page(
                number,
                on_page,
                order=self.newest_first if order is None else order,
                filter=filter,
            )
            self.report.reread_pages += 1
            if saw is not None:
                saw(page.items)
            fresh = [row for row in page.items if start is None or _at_or_after(row, start)]
            if fresh:
                yield self._observe(fresh)
            served = page.meta.itemsPerPage if page.meta is not None else None
            if served is not None and 0 < served < on_page:
                # The server serves fewer rows than this page asked: its offsets are not the
                # ones chosen. Choose again within what it serves.
                self.served = min(self.served, served)
                continue
            stamps = [_updated(row) for row in page.items]
            if page_problem(page, on_page) or not stamps:
                continue
            stamp = gap.hi
            assert stamp is not None
            above = number == 1 or (stamps[0] is not None and stamps[0] > stamp)
            end = _is_last(page, on_page)
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
            # The rows these pages read again on purpose are no server repeat; one page
            # showing a row of the next within the attempt still is.
            self._new_phase()
            previous: Page[Any] | None = None
            top: dt.datetime | None = None  # the unbroken run's first updatedAt (None: above all)
            in_run = False
            number = first
            read: set[Any] = set()
            tied: TieRun | None = None  # the rows of one stamp these pages are in (`TieRun`)
            runs: list[TieRun] = []
            while number - first < COVER_MAX_PAGES:
                page = self._counted_page(number, self.newest_first)
                self.report.reread_pages += 1
                fresh = [row for row in page.items if start is None or _at_or_after(row, start)]
                if fresh:
                    yield self._observe(fresh)
                if (
                    page_problem(page, self.served)
                    or _twice_on_page(page)
                    or (number > first and _repeated(page, read))
                ):
                    # A page the scan could not take as served cannot close its gap either.
                    break
                read.update(row.get("id") for row in page.items)
                broke = previous is not None and _broke_between(previous, page)
                stamps = [_updated(row) for row in page.items]
                tied = _follow_run(tied, page, stamps, broken=broke)
                if tied is not None and (not runs or runs[-1] is not tied):
                    runs.append(tied)
                for other in gaps:
                    # Rows of one stamp these pages proved read whole, as `since` proves them.
                    if (
                        not other.closed
                        and other.tie is not None
                        and any(r.stamp == other.hi and r.proven() for r in runs)
                    ):
                        other.closed = True
                if previous is None or broke:
                    # A run starts here, if this page starts above the gap.
                    head = _updated(page.items[0]) if page.items else None
                    in_run = number == 1 or (
                        head is not None and gap.hi is not None and head > gap.hi
                    )
                    top = None if number == 1 else head
                bottom = _last_stamp(page)
                end = _is_last(page, self.served)
                if in_run:
                    for other in gaps:
                        # Not a tie: pages re-read one after another may each show a
                        # different part of rows sharing a stamp across their boundary.
                        if (
                            not other.closed
                            and other.tie is None
                            and _spans(top, bottom, end, other, start)
                        ):
                            other.closed = True
                    if gap.closed and not _open_tie(tied, gaps):
                        return True
                elif gap.hi is not None and bottom is not None and bottom <= gap.hi:
                    # Writes pushed the gap above this run's start: begin a page earlier.
                    first = max(1, number - 1)
                    break
                if end:
                    break
                previous = page
                number += 1
            if gap.closed:
                return True
        return False

    def _counted_page(self, number: int, order: dict[str, str]) -> Page[Any]:
        """Page `number` read again, in a scan whose first page counted the list: one
        answered with nothing is a page lost, as the pager has it (`pages.counted_page`)."""
        page = self.api.event_page(number, self.page_size, order=order)
        return page if self.report.scan_counted is None else counted_page(page)

    # --- bookkeeping -------------------------------------------------------------------------

    def _below_the_servers_clock(
        self, start: dt.datetime | None, below_cursor: dt.timedelta | None
    ) -> dt.datetime | None:
        """`start`, or the first page's `Date` less `below_cursor` where that is earlier."""
        clock = self.server_start
        if start is None or below_cursor is None or clock is None or clock - below_cursor >= start:
            return start
        log.warning(
            "events: the server's clock (%s) is behind the cursor (%s), set back since the "
            "last run: reading the changes from its time less the lag",
            clock.isoformat(),
            (start + below_cursor).isoformat(),
        )
        start = clock - below_cursor
        self.report.window_from = start.isoformat()
        return start

    def _started(self, page: Page[Any]) -> None:
        if page.number == 1 and self.server_start is None:
            self.server_start = self.api.clock.last_on_this_thread()
            self.report.scan_started = self.server_start
            self.report.scan_counted = items_count(page)
            self._send_follow_ups()

    def _learn(self, page: Page[Any]) -> None:
        """Take the page size the server serves from a page asked for at `page_size`.

        Only a page before the last tells: a server may state a last page's own length. A
        page 1 without a count, shorter than asked, tells once a page 2 holds rows after it
        (the pager asks for one: `paged_by_server`).
        """
        if page.pages_count is None and items_count(page) is None:
            if page.number == 1:
                self._uncounted_first = len(page.items)
                if not self._size_probed and 0 < len(page.items) < self.served:
                    self._probe_page_size()
            elif page.number == 2 and page.items and 0 < self._uncounted_first < self.served:
                self.served = self._uncounted_first
            return
        meta = page.meta
        per = meta.itemsPerPage if meta is not None else None
        if page.number >= (page.pages_count or page.number):
            return
        if per is None and meta is not None and page.number == 1:
            # A meta without itemsPerPage: a first page that is not the last holds a page
            # (docs/api-notes.md).
            per = len(page.items)
        if per is not None and 0 < per < self.served:
            self.served = per

    def _probe_page_size(self) -> None:
        """Ask the plain list's first two pages once a run, where a page 1 without a count
        came back shorter than asked: a read that ends on its first page (a few changes, the
        canceled bookings) cannot tell the server's page size from the list's end."""
        self._size_probed = True
        try:
            second = self.api.event_page(2, self.page_size)
            if not second.items:
                return
            first = self.api.event_page(1, self.page_size)
        except (NotFoundError, ValidationError):
            return  # a page past the last refused: the list fits one page
        ids = {as_id(row.get("id")) for row in first.items}
        if any(as_id(row.get("id")) not in ids for row in second.items):
            self.served = min(self.served, len(first.items) or self.served)

    def _observe(self, rows: Rows, by_id: bool = False) -> Rows:
        """Track the newest `updatedAt` read, and warn about rows stamped in the future;
        `by_id`: rows asked for by id, not served on a list's page."""
        if self._counted is not None and self._census is not None:
            if isinstance(rows, ArrowRows):
                # Two columns kept, not the page; told apart only if the count is needed.
                self._counted.append((rows.struct.field("id"), rows.struct.field(CREATED_AT)))
            else:
                self._counted.append(_created_before(rows, self._census - CENSUS_MARGIN))
            if not by_id and not self._canceled_listed:
                self._canceled_listed = _holds_canceled(rows)
        now = self.api.clock.latest or dt.datetime.now(dt.UTC)
        self.report.lists_null(_null_lists(rows))
        part = _ids_and_stamps(rows)
        self._read.append(part)
        if by_id:
            self._by_id.append(part)
        if isinstance(rows, ArrowRows):
            ids = rows.ids()
            if len(ids):
                self._saw_id(int(ids.max()))
            updated = rows.updated()
            if updated is not None:
                self._observe_arrow(rows, updated, now)
                return rows
        else:
            read = [i for i in (as_id(row.get("id")) for row in rows) if i is not None]
            if read:
                self._saw_id(max(read))
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

    def _saw_id(self, event_id: int) -> None:
        if self.highest_id is None or event_id > self.highest_id:
            self.highest_id = event_id

    def _observe_arrow(self, rows: ArrowRows, updated: Updated, now: dt.datetime) -> None:
        """`_observe` of a page read into Arrow: rows are looked at only if from the future."""
        ahead = updated.present & (updated.micros > micros_of(now + FUTURE_TOLERANCE))
        if ahead.any():
            for row in rows.pick(ahead):
                self._future(row, _updated(row) or now, now)
        kept = updated.present & ~ahead
        if kept.any():
            newest = EPOCH + dt.timedelta(microseconds=int(updated.micros[kept].max()))
            if self.newest is None or newest > self.newest:
                self.newest = newest

    def _future(self, row: dict[str, Any], stamp: dt.datetime, now: dt.datetime) -> None:
        self.report.future_rows += 1
        if self.report.future_rows > FUTURE_NAMED:
            if self.report.future_rows == FUTURE_NAMED + 1:
                log.warning(
                    "more events are stamped ahead of the server's clock (%s): loaded, not "
                    "named; the run's summary counts them all",
                    now.isoformat(),
                )
            return
        log.warning(
            "event %s has updatedAt %s, ahead of the server's clock (%s): loaded, but "
            "the cursor will not follow it",
            row.get("id"),
            stamp.isoformat(),
            now.isoformat(),
        )


def _warn_if_pages_undercounted(first: Page[Any]) -> None:
    """Say so when `first`'s meta counts fewer pages than its own item count needs at its
    page size: every page they need is asked for all the same (`Page.pages_count`; past the
    server's last page, an empty answer or a refusal is read as one)."""
    meta, needed = first.meta, first.pages_count
    if meta is not None and meta.pagesCount is not None and (needed or 0) > meta.pagesCount:
        log.warning(
            "events: the list's meta counts %s pages for %s events of %s a page; reading %s",
            meta.pagesCount,
            f"{meta.itemsCount:,}",
            meta.itemsPerPage,
            needed,
        )


_NEWEST = np.iinfo(np.int64).max
"""Above every `updatedAt` in µs: what a first page falls from."""


class ReadBefore(Protocol):
    """`EventScan._read_before`'s test: which of `rows` were read before (`unnamed` for a
    row without a readable id)."""

    def __call__(self, rows: Rows, unnamed: bool = False) -> np.ndarray: ...


class _Seen:
    """The distinct ids a read's pages showed, in its latest attempt and in those before it,
    and its rows without one."""

    def __init__(self) -> None:
        self._ids: set[int] = set()
        self._earlier: set[int] = set()
        self._unnamed: dict[int, int] = {}

    def next_attempt(self) -> None:
        """Start another read of the pages: what was shown so far is the earlier attempts'."""
        self._earlier |= self._ids
        self._ids = set()
        self._unnamed = {}

    def add(self, rows: Rows, page: int | None = None, newest: int | None = None) -> None:
        """Count the rows of one answer, page `page` of the read (None: another size); with
        `newest` (µs), only those stamped at or before it (or not stamped)."""
        if newest is not None:
            stamps = [_updated(row) for row in rows]
            rows = [
                r for r, at in zip(rows, stamps, strict=True) if not at or micros_of(at) <= newest
            ]
        ids = _ids_of(rows)
        self._ids.update(ids)
        if page is not None:
            # A row without a readable id cannot be told from another: each page's, as
            # its latest answer held them (the quarantine sets them aside).
            self._unnamed[page] = len(rows) - len(ids)

    def short_of(
        self, counted: int | None, still_there: Callable[[list[int]], set[int]]
    ) -> str | None:
        """Why the rows shown fall short of `counted` (a list's count), or None. Rows only
        earlier attempts showed count where `still_there` finds them now: one deleted since
        would stand in for one no page showed."""
        shown = len(self._ids) + sum(self._unnamed.values())
        if counted is None or shown >= counted:
            return None
        earlier = sorted(self._earlier - self._ids)
        if earlier:
            shown += len(still_there(earlier) & set(earlier))
            if shown >= counted:
                return None
        return f"the canceled events' pages showed {shown} of the {counted} their first counted"


def _newest_stamp(rows: Rows) -> int | None:
    """The newest `updatedAt` (µs) among `rows`; None where none is readable."""
    stamps = [micros_of(at) for at in (_updated(row) for row in rows) if at is not None]
    return max(stamps) if stamps else None


def _still_falling(rows: Rows, above: int | None) -> int | None:
    """The last `updatedAt` (µs) of `rows` where each is at or below the one before it, the
    first at or below `above`; None where one is not, or is unreadable, or `above` is None."""
    if above is None:
        return None
    updated = rows.updated() if isinstance(rows, ArrowRows) else None
    if updated is not None:
        if not updated.present.all():
            return None
        stamps = updated.micros.astype(np.int64)
    else:
        read = [_updated(row) for row in rows]
        if any(stamp is None for stamp in read):
            return None
        stamps = np.asarray([micros_of(stamp) for stamp in read if stamp], dtype=np.int64)
    if not len(stamps):
        return above
    if stamps[0] > above or (np.diff(stamps) > 0).any():
        return None
    return int(stamps[-1])


def _straddling_tie(previous: Page[Any], page: Page[Any], start: dt.datetime | None) -> Gap | None:
    """The gap of rows sharing one `updatedAt` (at or after `start`) across the boundary
    between two pages read newest first, one after the other; None when none does."""
    if not previous.items or not page.items:
        return None
    stamp = _updated(previous.items[-1])
    if stamp is None or _updated(page.items[0]) != stamp or (start is not None and stamp < start):
        return None
    return _tie_gap(previous, page, stamp)


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


def _ids_created_before(ids: pa.Array, created: pa.Array, before: dt.datetime) -> np.ndarray:
    """Of a page read into Arrow, the ids of the rows created before `before`."""
    stamped = arrow_stamps(created)
    if stamped is None:
        # A createdAt in another form: read those rows as the reference allows.
        pairs = zip(ids.to_pylist(), created.to_pylist(), strict=True)
        rows = [{"id": i, CREATED_AT: c} for i, c in pairs]
        return _created_before(rows, before)
    earlier = pc.fill_null(pc.less(micros(stamped), micros_of(before)), False)
    return np.asarray(pc.drop_null(pc.filter(ids, earlier)), dtype=np.int64)


def _created_before(rows: Rows, before: dt.datetime) -> np.ndarray:
    """The ids of `rows` created before `before`; a row whose `createdAt` or id cannot be read
    is left out (it cannot be shown to have existed then)."""
    found: list[int] = []
    for row in rows:
        event_id = as_id(row.get("id"))
        try:
            stamp = parse_api_datetime(row.get(CREATED_AT))
        except (ValueError, TypeError, AttributeError):
            continue
        if event_id is not None and stamp is not None and stamp < before:
            found.append(event_id)
    return np.asarray(found, dtype=np.int64)


def _follow_run(
    run: TieRun | None, page: Page[Any], stamps: list[dt.datetime | None], *, broken: bool
) -> TieRun | None:
    """The tie run still open after `page`: `run` carried on through the page's first rows,
    or the run of its last rows' stamp (see `TieRun`)."""
    per = (page.meta.itemsPerPage if page.meta else None) or len(page.items) or 1
    base = (page.number - 1) * per
    last_page = _is_last(page, per)
    lead = 0
    if run is not None:
        lead = _equal_run(stamps, run.stamp)
        if broken or lead == 0 or per != run.per_page:
            run.broken = True
            return None
        run.ids.update(row.get("id") for row in page.items[:lead])
        if lead < len(stamps) or last_page:
            run.last = base + lead - 1
        else:
            return run  # the whole page is the run's: it goes on
    if broken or not stamps or stamps[-1] is None or lead == len(stamps):
        return None
    stamp = stamps[-1]
    trail = _equal_run(stamps[::-1], stamp)
    # Where the run begins shows only on a page with a higher row before it (or at offset 0).
    shown = trail < len(stamps) or base == 0
    first = base + len(stamps) - trail if shown else None
    tied = TieRun(stamp, per, first, ids={row.get("id") for row in page.items[-trail:]})
    if last_page:
        tied.last = base + len(stamps) - 1
    return tied


def _holds_canceled(rows: Rows) -> bool:
    """Whether any of `rows` is a canceled event."""
    if isinstance(rows, ArrowRows):
        return bool(pc.any(pc.equal(rows.struct.field("state"), STATE_CANCELED)).as_py())
    return any(row.get("state") == STATE_CANCELED for row in rows)


def _open_tie(tied: TieRun | None, gaps: Sequence[Gap]) -> bool:
    """Whether `tied` goes on past the page read last and holds the rows of a tie gap of
    `gaps` still open: the next page may prove them read."""
    return (
        tied is not None
        and tied.last is None
        and not tied.broken
        and any(gap.tie is not None and not gap.closed and gap.hi == tied.stamp for gap in gaps)
    )


def _equal_run(stamps: Sequence[dt.datetime | None], stamp: dt.datetime) -> int:
    """How many of `stamps`, from the first, equal `stamp`."""
    count = 0
    for value in stamps:
        if value != stamp:
            break
        count += 1
    return count


def _takewhile_stamp(rows: Any, stamp: dt.datetime) -> Iterator[dict[str, Any]]:
    for row in rows:
        if _updated(row) != stamp:
            return
        yield row


def _page_spanning(
    first: int, last: int, at_least: int, most: int = MAX_ON_PAGE
) -> tuple[int, int] | None:
    """(page, onPage) of one page of at most `most` rows holding offsets `first`..`last` with
    the widest margin on both sides (writes keep moving rows while the request travels), or
    None when none can."""
    best: tuple[int, int, int] | None = None
    for on_page in range(max(at_least, last - first + 1), min(most, MAX_ON_PAGE) + 1):
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


def _broke_between(previous: Page[Any], page: Page[Any]) -> bool:
    """Whether rows may have slipped between two pages read one after the other: the count
    fell (a delete), or the page size changed (`_resized`)."""
    return _fell(previous, page) or _resized(previous, page) is not None


def _resized(previous: Page[Any], page: Page[Any]) -> tuple[int, int] | None:
    """The server's page sizes (before, after) when they differ between two pages read one
    after the other: each page's offset follows its own size, so the rows between the two
    offsets are on neither page. None when they agree or a meta does not say (a last page
    may state its own length as the page size: only a larger size tells there)."""
    before = previous.meta.itemsPerPage if previous.meta is not None else None
    after = page.meta.itemsPerPage if page.meta is not None else None
    if not before or not after or before == after:
        return None
    last = page.number >= (page.pages_count or page.number)
    return (before, after) if after > before or not last else None


def _served_again(previous: Page[Any], ids: list[int]) -> bool:
    """Whether a page answered with the ids of the page before it, in the same order: the
    server (or a cache before it) ignored the page asked for. Writes shift a page by a few
    rows, not onto the one before it."""
    return bool(ids) and ids == [as_id(row.get("id")) for row in previous.items]


def _fell(previous: Page[Any], page: Page[Any]) -> bool:
    """True when the list's count fell between two pages answered one after the other."""
    before, after = items_count(previous), items_count(page)
    return before is not None and after is not None and after < before


CHILD_LISTS = tuple(child.list_path[0] for child in EVENTS.children)
"""The lists an event's child tables are cut from (participants, answers, ...)."""


def _null_lists(rows: Rows) -> dict[str, list[int]]:
    """By child list (participants, answers...), the ids of the rows served with it null or
    left out instead of an array.

    The reference types each as an array; landed as none, the event's child rows of that
    list already in the warehouse are removed: the runner reads such an event again by id
    where the warehouse holds such rows of it (a miss, not an empty list)."""
    found: dict[str, list[int]] = {}
    if isinstance(rows, ArrowRows):
        # Read into Arrow, a list left out and a list served null are both null.
        struct = rows.struct
        for name in CHILD_LISTS:
            column = struct.field(name)
            if column.null_count:
                picked = pc.drop_null(pc.filter(struct.field("id"), column.is_null()))
                found[name] = [int(i) for i in picked.to_pylist()]
        return found
    for row in rows:
        for name in CHILD_LISTS:
            if row.get(name) is None and (event_id := as_id(row.get("id"))) is not None:
                found.setdefault(name, []).append(event_id)
    return found


def _ids_and_stamps(rows: Rows) -> tuple[np.ndarray, np.ndarray]:
    """The readable ids of `rows` and their `updatedAt` in µs (-1 where none is readable)."""
    updated = rows.updated() if isinstance(rows, ArrowRows) else None
    if isinstance(rows, ArrowRows) and updated is not None:
        column = rows.struct.field("id")
        valid = np.asarray(column.is_valid(), dtype=bool)
        ids = np.asarray(column.fill_null(0), dtype=np.int64)
        stamps = np.where(updated.present, updated.micros, -1).astype(np.int64)
        return ids[valid], stamps[valid]
    # Stamps Arrow does not read (no offset, `+0000`): row by row, as the reads of the same
    # rows as dicts see them, or each would read as another version of itself there.
    pairs = [(as_id(row.get("id")), _updated(row)) for row in rows]
    kept = [(i, -1 if at is None else micros_of(at)) for i, at in pairs if i is not None]
    return (
        np.asarray([i for i, _ in kept], dtype=np.int64),
        np.asarray([m for _, m in kept], dtype=np.int64),
    )


def _ids_of(rows: Sequence[dict[str, Any]]) -> list[int]:
    """A page's readable ids, ascending."""
    if isinstance(rows, ArrowRows):
        return sorted(rows.ids().tolist())
    return sorted(i for i in (as_id(row.get("id")) for row in rows) if i is not None)


def _unread_ids(
    spans: dict[int, tuple[int, int] | None], bad: dict[int, list[int]], page_size: int
) -> tuple[list[int], int]:
    """Ids between consecutive pages, and within and across pages that broke their meta,
    never read: the first `ID_CHECK_CAP + 1` of them and how many there are. Ids far apart
    (a 64-bit generator's) leave billions between two pages: only the count is kept past the
    cap."""
    unread: list[int] = []
    count = 0

    def add(low: int, high: int) -> None:
        nonlocal count
        if high <= low:
            return
        count += high - low
        room = ID_CHECK_CAP + 1 - len(unread)
        if room > 0:
            unread.extend(range(low, min(high, low + room)))

    previous_max: int | None = None
    for index, number in enumerate(sorted(spans)):
        span = spans[number]
        if span is None:
            continue
        low, high = span
        if previous_max is not None:
            add(previous_max + 1, low)
        if number in bad:
            if index == 0 and low > 1:
                # A short first page: the ids just below its first were not necessarily absent.
                add(max(1, low - page_size), low)
            for before, after in itertools.pairwise(bad[number]):
                add(before + 1, after)
        previous_max = high
    return unread, count


class _OrderShown:
    """Rows read newest first, in order, against the orders a server may fall back to when
    it ignores `orderField=updatedAt` (its own sort field, in the direction asked): `done`
    once each of them is ruled out by a key that rose from one row to the next."""

    KEYS = ("id", CREATED_AT, "scheduledAt")

    def __init__(self) -> None:
        self._last: dict[str, Any] = {}
        self._rose: set[str] = set()

    @property
    def done(self) -> bool:
        return len(self._rose) == len(self.KEYS)

    def add(self, row: dict[str, Any]) -> None:
        for key in self.KEYS:
            value = _order_key(row, key)
            if value is None:
                continue
            last = self._last.get(key)
            if last is not None and value > last:
                self._rose.add(key)
            self._last[key] = value


def _order_key(row: dict[str, Any], key: str) -> Any:
    """`row`'s value of a sort key as it compares (an id as an integer, a time parsed)."""
    if key == "id":
        return as_id(row.get("id"))
    try:
        return parse_api_datetime(row.get(key))
    except (ValueError, TypeError, AttributeError):
        return None


def _updated(row: dict[str, Any]) -> dt.datetime | None:
    # An unreadable updatedAt is the quarantine's to report, not a reason to stop the scan.
    try:
        return parse_api_datetime(row.get(UPDATED_AT))
    except (ValueError, TypeError, AttributeError):
        return None


def _at_or_after(row: dict[str, Any], start: dt.datetime) -> bool:
    stamp = _updated(row)
    return stamp is None or stamp >= start


def _since_problem(page: Page[Any], served: int, seen: set[Any]) -> str | None:
    """Why a page of the newest-first read cannot be taken as served: it contradicts its
    meta, holds only rows read already, or holds one row twice."""
    return page_problem(page, served) or _repeated(page, seen) or _twice_on_page(page)


def _twice_on_page(page: Page[Any]) -> str | None:
    """Why a page holds one event twice (`checks.repeated_id`)."""
    twice = repeated_id(page.items)
    return None if twice is None else f"page {page.number} held event {twice} twice"


def _repeated(page: Page[Any], seen: set[Any]) -> str | None:
    """Why a page past the first shows nothing new: every row on it was read on an earlier
    page. Writes during the scan push rows right, so a page may hold a few rows read
    already; one of nothing else is a page answered twice (a cache or proxy serving page 1
    again) or a shift of a whole page, and either way the rows at its place were not read."""
    if page.number < 2 or not page.items:
        return None
    if any(row.get("id") not in seen for row in page.items):
        return None
    return f"page {page.number} held only events read on earlier pages"


def _last_stamp(page: Page[Any] | None) -> dt.datetime | None:
    if page is None:
        return None
    for row in reversed(page.items):
        stamp = _updated(row)
        if stamp is not None:
            return stamp
    return None


def _is_last(page: Page[Any], per_page: int) -> bool:
    """Whether `page` is its list's last: empty, the last its meta counts, or (a meta without
    a page count: a count alone, or none) holding fewer rows than a page."""
    if not page.items:
        return True
    counted = items_count(page)
    full = len(page.items) >= per_page > 0
    if full and counted is not None and page.number * per_page < counted:
        # A full page at the size the scan learned, with rows counted past it: a count of
        # pages computed from the `onPage` asked calls it last all the same.
        return False
    total = page.pages_count
    if total is not None:
        return page.number >= total
    return len(page.items) < per_page


def _last_pages_asked(page: Page[Any], concurrency: int) -> bool:
    """Whether every page of the list has been requested once `page` is handed over: a read
    asked now queues right behind the last page, in its wave rather than one after it."""
    total = page.pages_count
    return total is not None and paging.requested_through(page.number, concurrency) >= total


def _id_span(rows: Sequence[dict[str, Any]]) -> tuple[int | None, int | None, bool, bool]:
    """A page's first and last readable id, whether its ids ascend (never decrease), and
    whether one repeats."""
    if isinstance(rows, ArrowRows):
        ids = rows.ids()
        if not len(ids):
            return None, None, True, False
        steps = np.diff(ids)
        return int(ids[0]), int(ids[-1]), bool((steps >= 0).all()), bool((steps == 0).any())
    found = [i for i in (as_id(row.get("id")) for row in rows) if i is not None]
    if not found:
        return None, None, True, False
    return found[0], found[-1], found == sorted(found), len(set(found)) < len(found)


def fingerprint(row: dict[str, Any]) -> str:
    """A short digest of a row's whole content, to recognise a row already loaded."""
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
