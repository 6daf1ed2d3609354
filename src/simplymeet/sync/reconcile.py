"""Finding events deleted upstream, and versions the incremental scan missed.

The API has no feed of deletions. Asking for every event the warehouse holds by id costs one
request per 100 events (10,000 requests at 1M events), so the reconciliation first compares
counts: the warehouse's live events per `scheduledAt` range against the server's `itemsCount`
for the same `filter[scheduledAtFrom/To]` (a one-item page, newest `updatedAt` first). Only
ranges whose counts differ are split, down to a range small enough to list; the listed ids
are diffed against the warehouse and every id that looks gone is confirmed by an id lookup
before it is marked deleted. Requests grow with deletions x log(events), not with events.

Two things could make equal counts lie. An event created since the scan adds one where a
deletion took one away: the one-item page shows the range's newest version, and a range whose
newest version is not the warehouse's is split like one whose count differs. And each split
asks for the left half only, taking the right's count as the whole's minus the left's: a
deletion in the left between those two requests would hide one in the right. So when any
count was derived, the whole is counted again at the end, and if it moved, the pass runs
again asking for both halves of every split.

The reference gives the date filters as `YYYY-MM-DD` and says neither whether `scheduledAtTo`
is inclusive nor in which timezone a day is cut. Ranges are kept here as half-open day spans
and the request's `scheduledAtTo` is chosen for the convention the server was found to use
(inclusive first, exclusive if counts do not add up that way). Whatever the server does, a
deletion is only declared after an id lookup that does not return it, and every answer that
contradicts the model (counts of two halves that do not add up to the whole, a listed event
outside its range, an event on the range's days that the listing did not return) abandons
the count pass for the full id pass, which is exact on any server that honours `filter[ids]`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from bisect import bisect_left
from collections.abc import Collection, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Literal, Protocol

from simplymeet.client.errors import ValidationError
from simplymeet.client.pages import Page
from simplymeet.contract.dates import REQUEST_DATE_FORMAT, parse_api_datetime
from simplymeet.contract.vocab import served_as_deleted
from simplymeet.sync.api import SyncApi
from simplymeet.sync.checks import items_count
from simplymeet.sync.cleanup import existing_tables, served_deleted
from simplymeet.sync.events import BY_ID, FUTURE_TOLERANCE, NEWEST_FIRST

log = logging.getLogger(__name__)

Method = Literal["counts", "ids"]
ONE_DAY = dt.timedelta(days=1)


@dataclass
class ReconcileResult:
    """What a reconciliation found: ids gone upstream, ids whose version moved or is missing."""

    checked: int = 0
    deleted_ids: list[int] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)
    method: Method = "ids"
    fallback_reason: str | None = None
    """Why the count pass gave way to the full id pass (None when it did not)."""
    unconfirmed_ids: list[int] = field(default_factory=list)
    """Missing from the list answers, but their own GET failed (not a 404): not marked."""
    unconfirmed_error: str | None = None
    counted: int | None = None
    """The count pass's own reading of how many events the server holds (its first count of
    the whole range, plus the events held without a start); None for the id pass."""


class LiveEvents(Protocol):
    """The warehouse side of the comparison: live (not deleted) events."""

    def days(self) -> dict[dt.date, tuple[int, dt.datetime | None]]:
        """Per UTC day of `scheduled_at`: live events and their newest `updated_at`."""
        ...

    def versions_between(self, first: dt.date, last: dt.date) -> dict[int, dt.datetime | None]:
        """id -> updated_at of live events scheduled on UTC days first..last (inclusive)."""
        ...

    def undated_versions(self) -> dict[int, dt.datetime | None]:
        """id -> updated_at of live events without `scheduled_at`."""
        ...

    def all_versions(self) -> dict[int, dt.datetime | None]:
        """id -> updated_at of every live event (for the full id pass)."""
        ...


class LiveTotal(Protocol):
    """The warehouse's live events in all, and the version it holds of one."""

    def totals(self) -> tuple[int, dt.datetime | None]:
        """How many live events the warehouse holds, and the newest `updated_at` of them."""
        ...

    def version_of(self, event_id: int) -> dt.datetime | None:
        """The `updated_at` the warehouse holds for a live event (None: not held)."""
        ...


class ModelBroken(Exception):
    """The server's answers contradict the count model; the full id pass must decide."""


# --- entry point --------------------------------------------------------------------------------


def reconcile_events(api: SyncApi, live: LiveEvents, page_size: int) -> ReconcileResult:
    """Find deleted and changed events: by counts where the server allows, else id by id.

    An event is found deleted only when a GET of it answers 404: a list that leaves it out
    (a short page, a filter dropping rows) is what sends it to be checked, not the proof.
    """
    try:
        result = reconcile_by_counts(api, live, page_size)
    except ModelBroken as broken:
        log.warning("reconcile: count pass abandoned (%s); checking every id", broken)
        result = reconcile(api, live.all_versions(), page_size)
        result.fallback_reason = str(broken)
    return _confirmed(api, result)


def _confirmed(api: SyncApi, result: ReconcileResult) -> ReconcileResult:
    """`result` with only the deletions a GET of the event confirms (404); the events found
    are re-read, and those whose GET failed are neither (`unconfirmed_ids`: the run fails)."""
    alive, unsure = api.still_there(result.deleted_ids)
    soft = sorted(i for i, dto in alive.items() if served_as_deleted(dto))
    if soft:
        log.info(
            "reconcile: %d event(s) missing from the list answers are served by id as "
            "deleted (e.g. %s): marked deleted",
            len(soft),
            ", ".join(map(str, soft[:5])),
        )
        alive = {i: dto for i, dto in alive.items() if i not in soft}
    if alive:
        log.warning(
            "reconcile: %d event(s) missing from the list answers are still there (e.g. %s); "
            "read again, not marked deleted",
            len(alive),
            ", ".join(map(str, sorted(alive)[:5])),
        )
        result.changed_ids = sorted({*result.changed_ids, *alive})
    if unsure:
        result.unconfirmed_ids = sorted(unsure)
        result.unconfirmed_error = str(next(iter(unsure.values())))
    result.deleted_ids = [i for i in result.deleted_ids if i not in alive and i not in unsure]
    return result


def reconcile(
    api: SyncApi, known: Mapping[int, dt.datetime | None], page_size: int
) -> ReconcileResult:
    """The full id pass: look up every id in `known` (id -> updated_at) with `filter[ids]`.

    Asking by id rather than paging the whole list keeps it exact while the server is being
    written to (offset pages shift under deletes; an id lookup does not).
    """
    result = ReconcileResult(checked=len(known), method="ids")
    ids = sorted(known)
    seen: set[int] = set()
    # An id left out is asked for by a GET of its own before it is taken as deleted.
    for rows in api.events_by_ids(ids, page_size, canceled_asked=False):
        for row in rows:
            event_id = _as_int(row.get("id"))
            if event_id is None or event_id not in known:
                continue
            seen.add(event_id)
            if _stamp(row) != _utc(known[event_id]):
                result.changed_ids.append(event_id)
    result.deleted_ids = [i for i in ids if i not in seen]
    return result


def unheld_ids(api: SyncApi, held: Collection[int], page_size: int) -> list[int]:
    """Ids the event list serves that `held` lacks, from one listing of the whole list.

    The only way to find an event no read of the run could: one created with no `updatedAt`
    (no cursor sees it) and an id below those held (nor does the read above the last id).
    The count pass finds such events in the days it lists; the id pass looks up only ids
    already held, so a reconcile that leaves the server counting more than is held lists.
    """
    found: set[int] = set()
    for page in api.event_pages(page_size, order=BY_ID):
        for row in page.items:
            event_id = _as_int(row.get("id"))
            if event_id is not None and event_id not in held:
                found.add(event_id)
    return sorted(found)


HEAD_ROWS = 10
"""Events the closing check asks for, newest first: past a few stamped ahead of the clock."""


@dataclass(frozen=True)
class ServerHead:
    """The event list's first items, newest `updatedAt` first, and its count: one request."""

    count: int | None
    newest_id: int | None = None
    newest_at: dt.datetime | None = None
    """None also when the list is empty or the stamp is in no form `parse_api_datetime`
    reads (the scan sets such a row aside too)."""
    answered_at: dt.datetime | None = None
    """The server's clock as it answered (its `Date`, whole seconds)."""
    rows: tuple[tuple[int | None, dt.datetime | None], ...] = ()
    """(id, `updatedAt`) of the first `HEAD_ROWS` items, in the order served."""


def server_head(api: SyncApi) -> ServerHead:
    """Ask for the list's count and newest events. Raises `SimplyMeetError` when it cannot."""
    try:
        page = api.event_page(1, HEAD_ROWS, order=NEWEST_FIRST)
    except ValidationError:
        # The reference lists no orderField values; the total alone still tells.
        return ServerHead(items_count(api.event_page(1, 1)))
    answered = api.clock.last_on_this_thread()
    rows = tuple((_as_int(item.get("id")), _stamp(item)) for item in page.items[:HEAD_ROWS])
    if not rows:
        return ServerHead(items_count(page), answered_at=answered)
    return ServerHead(items_count(page), rows[0][0], rows[0][1], answered, rows)


class HeadAhead:
    """`server_head` asked on a thread of its own while the run loads what it read.

    The closing check's request waited for the normalize and the load (B12: its 250 ms
    round trip was the last request of a first sync, after half a second of loading). The
    server it sees is the one the scan ended on, a moment earlier than after the load:
    nothing this process does meanwhile writes to the server, and a run that reads events
    again by id before the check asks anew (`runner`). A daemon thread: a run that fails
    while it is in flight exits without waiting for it.
    """

    def __init__(self, api: SyncApi) -> None:
        self._answer: Future[ServerHead] = Future()
        threading.Thread(
            target=self._ask, args=(api,), name="simplymeet-server-head", daemon=True
        ).start()

    def _ask(self, api: SyncApi) -> None:
        try:
            self._answer.set_result(server_head(api))
        except BaseException as error:  # handed to the caller, as its own call would raise it
            self._answer.set_exception(error)

    def result(self) -> ServerHead:
        """The head, once answered; raises what `server_head` raised."""
        return self._answer.result()


def _stamp(item: Any, field: str = "updatedAt") -> dt.datetime | None:
    """`item`'s `field` as a datetime; None when absent or in no form a reading parses (the
    row is the scan's to set aside, exit 9: a reconcile that raised on it ended the run as
    bad input, exit 2, on every run the server served it)."""
    try:
        return parse_api_datetime(item.get(field) if isinstance(item, dict) else None)
    except ValueError:
        return None


def _reference_row(head: ServerHead, live: LiveTotal) -> tuple[int | None, dt.datetime | None]:
    """The head's newest row for judging the server quiet: past the rows stamped ahead of
    its clock by more than `FUTURE_TOLERANCE` that the warehouse holds in that version (a
    clock-skewed write, read already: until its stamp passes, it would head the list and
    hide every later write's absence)."""
    if head.answered_at is None or not head.rows:
        return head.newest_id, head.newest_at
    ahead = head.answered_at + FUTURE_TOLERANCE
    for event_id, at in head.rows:
        if event_id is None or at is None or at <= ahead or _utc(live.version_of(event_id)) != at:
            return event_id, at
    return None, None


def newest_held_gone(
    api: SyncApi, head: ServerHead, live: WarehouseEvents, scan_started: dt.datetime | None
) -> list[int]:
    """The warehouse's newest live events, held in versions newer than the server's newest,
    that a GET of each finds gone (404/410, or served as deleted): deleted upstream, where
    nothing was written since the scan began.

    A server whose newest event was deleted serves an older one first, and `totals_differ`
    cannot tell that from a list not ordered by `updatedAt` (booked by mistake, then
    removed: the common delete).
    """
    newest = head.newest_at
    if newest is None:
        return []
    if head.answered_at is not None and newest >= head.answered_at:
        return []
    if scan_started is not None and newest >= scan_started:
        return []
    ids = live.newer_than(newest, HEAD_ROWS)
    if not ids:
        return []
    there, unsure = api.still_there(ids)
    return [
        event_id
        for event_id in ids
        if event_id not in unsure and (event_id not in there or served_as_deleted(there[event_id]))
    ]


def missed_newest(
    head: ServerHead, live: LiveTotal, scan_started: dt.datetime | None
) -> int | None:
    """The id of the server's newest event when the scan should have read its version and
    the warehouse does not hold it, else None.

    A scan reads every version stamped before it began; the newest is the first row of the
    list it reads first, which a page served a row late (a shifted first page, its count
    intact) leaves out with nothing to show for it. A version stamped after the second the
    scan began in (the server's `Date`, whole seconds) is the next run's to read; one of that
    second is read again here all the same, whichever it is.
    """
    if head.newest_id is None or head.newest_at is None or scan_started is None:
        return None
    if head.newest_at > scan_started:
        return None
    held = live.version_of(head.newest_id)
    return None if _utc(held) == head.newest_at else head.newest_id


def totals_differ(
    head: ServerHead, live: LiveTotal, scan_started: dt.datetime | None = None
) -> str | None:
    """Why the warehouse cannot be equal to the server now; None when the totals agree, or
    when the server changed since the scan read it, or its head cannot tell.

    The server's `itemsCount` of the whole list against the warehouse's live events: an
    event deleted upstream leaves one more live row here, and no incremental read finds
    it. Counts taken while the server is being written to differ for that reason alone, so
    unless the server is quiet (`quiet_by_stamps`) the difference is left to the next run
    (and the cadence): reconciling then would cost a pass on every run of a busy account.
    """
    held, _newest_held = live.totals()
    if head.count is None or head.count == held:
        return None
    if quiet_by_stamps(head, live, scan_started) is not True:
        return None
    return f"the warehouse holds {held:,} live events where the server counts {head.count:,}"


def quiet_by_stamps(
    head: ServerHead, live: LiveTotal, scan_started: dt.datetime | None = None
) -> bool | None:
    """Whether the head's stamps show nothing written since the scan began: True, False (a
    write since), or None when they cannot tell.

    Quiet is the server's newest event one the warehouse holds in that version, no older
    than any it holds, and stamped before the second the scan began in (`scan_started`,
    the server's `Date` of its first page) when known, or else before the second of the
    answer. The answer's second alone let a busy server, written to every fraction of a
    second, look quiet whenever the head was asked in a second without a write yet. Its
    newest event is read past the ones stamped ahead of its clock that the warehouse holds
    (`_reference_row`): one such row never let the server look quiet. A head that opens
    with no stamp (left null and sorted first, as PostgreSQL sorts NULL) or older than the
    warehouse's newest (an order the server ignores; a newest event deleted) cannot tell.
    """
    _held, newest_held = live.totals()
    newest_id, newest = _reference_row(head, live)
    if newest is None or newest_id is None:
        return None
    # Past rows stamped ahead, the warehouse's newest is one of them.
    skipped_ahead = newest_id != head.newest_id
    if head.answered_at is not None and newest >= head.answered_at:
        return False
    if scan_started is not None and newest >= scan_started:
        return False
    if (ours := _utc(newest_held)) is not None and newest < ours and not skipped_ahead:
        return None
    return _utc(live.version_of(newest_id)) == newest


# --- the count pass -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    """Days `start` (inclusive) to `stop` (exclusive) and what the server said of them.

    `dirty`: the server's newest `updatedAt` in the span is not the warehouse's, so something
    there changed after the scan (a creation can hide a deletion from a count); False when
    inherited from a parent that was clean, since no change newer than the scan exists there.
    """

    start: dt.date
    stop: dt.date
    server: int
    dirty: bool


class _DayIndex:
    """Warehouse counts (and newest versions) of any span of days, from per-day figures."""

    def __init__(self, days: Mapping[dt.date, tuple[int, dt.datetime | None]]) -> None:
        self.days = sorted(days)
        self._prefix = [0, *accumulate(days[d][0] for d in self.days)]
        self._newest = [_utc(days[d][1]) for d in self.days]

    def _slice(self, start: dt.date, stop: dt.date) -> tuple[int, int]:
        return bisect_left(self.days, start), bisect_left(self.days, stop)

    def count(self, start: dt.date, stop: dt.date) -> int:
        lo, hi = self._slice(start, stop)
        return self._prefix[hi] - self._prefix[lo]

    def newest(self, start: dt.date, stop: dt.date) -> dt.datetime | None:
        lo, hi = self._slice(start, stop)
        return max((v for v in self._newest[lo:hi] if v is not None), default=None)

    def split_day(self, start: dt.date, stop: dt.date) -> dt.date:
        """A day strictly inside (start, stop) leaving about half the events on each side."""
        lo, hi = self._slice(start, stop)
        if hi == lo:
            # Nothing of ours in the span (events created upstream since): halve the calendar.
            return start + (stop - start) // 2
        half = (self._prefix[lo] + self._prefix[hi]) / 2
        at = bisect_left(self._prefix, half, lo, hi + 1)
        day = self.days[min(max(at - 1, lo), hi - 1)]
        # The right half starts the day after the median day, but never at either end.
        return min(max(day + ONE_DAY, start + ONE_DAY), stop - ONE_DAY)


class _Server:
    """The server's side: counts and listings of a span of days, in the server's convention."""

    def __init__(self, api: SyncApi, page_size: int, budget: int) -> None:
        self.api = api
        self.page_size = page_size
        self.inclusive_to = True
        self.budget = budget
        self.requests = 0
        self._lock = threading.Lock()
        self.top_head: tuple[int, dt.datetime | None] | None = None
        """The whole range's count and newest version, as last asked in this convention."""

    def _filter(self, start: dt.date, stop: dt.date) -> dict[str, str]:
        last = stop - ONE_DAY if self.inclusive_to else stop
        return {
            "scheduledAtFrom": start.strftime(REQUEST_DATE_FORMAT),
            "scheduledAtTo": last.strftime(REQUEST_DATE_FORMAT),
        }

    def spend(self, requests: int) -> None:
        """Count requests against the budget (from several threads)."""
        with self._lock:
            self.requests += requests
            spent = self.requests
        if spent > self.budget:
            # Past this the id pass is cheaper (e.g. a server that ignores orderField makes
            # every span look changed).
            raise ModelBroken(f"the count pass needed more than {self.budget} requests")

    def head(self, start: dt.date, stop: dt.date) -> tuple[int, dt.datetime | None]:
        """How many events the span holds, and the newest `updatedAt` among them."""
        self.spend(1)
        try:
            page = self.api.event_page(1, 1, order=NEWEST_FIRST, filter=self._filter(start, stop))
        except ValidationError:
            # The reference lists no orderField values: without this order no span's newest
            # version can be asked for.
            raise ModelBroken("the event list refused orderField=updatedAt") from None
        items = page.items
        return _items_count(page), _stamp(items[0]) if items else None

    def heads(self, spans: list[tuple[dt.date, dt.date]]) -> list[tuple[int, dt.datetime | None]]:
        return [value for _span, value in self.api.map_concurrently(lambda s: self.head(*s), spans)]

    def listing(self, start: dt.date, stop: dt.date) -> list[dict[str, Any]]:
        """Every event the server files under these days (a few pages at most)."""
        flt = self._filter(start, stop)
        self.spend(1)
        first = self.api.event_page(1, self.page_size, filter=flt)
        rows = list(first.items)
        pages = _pages_count(first, self.page_size)
        self.spend(pages - 1)
        rest = self.api.map_concurrently(
            lambda p: self.api.event_page(p, self.page_size, filter=flt).items,
            range(2, pages + 1),
        )
        for _page, items in rest:
            rows.extend(items)
        return rows


def reconcile_by_counts(api: SyncApi, live: LiveEvents, page_size: int) -> ReconcileResult:
    """The count pass; raises `ModelBroken` when the server's answers do not fit it."""
    index = _DayIndex(live.days())
    undated = live.undated_versions()
    result = ReconcileResult(method="counts")
    dated = index.count(*_whole(index)) if index.days else 0
    result.checked = len(undated) + dated
    if undated:
        # No date filter can find these; they are few (events always have a start upstream).
        found = reconcile(api, undated, page_size)
        result.deleted_ids.extend(found.deleted_ids)
        result.changed_ids.extend(found.changed_ids)
    if index.days:
        server = _Server(api, page_size, budget=max(-(-dated // page_size), 8))
        leaves, derived = _differing_leaves(server, index, page_size, explicit=False)
        if server.top_head is not None:
            result.counted = server.top_head[0] + len(undated)
        _diff_leaves(api, server, live, leaves, page_size, result)
        if derived and server.head(*_whole(index)) != server.top_head:
            # The data moved during the pass. A deletion in a left half after its whole was
            # counted is charged to the right half, whose count was derived, and can hide a
            # deletion there: count again, asking for both halves of every split.
            leaves, _ = _differing_leaves(server, index, page_size, explicit=True)
            _diff_leaves(api, server, live, leaves, page_size, result)
    result.deleted_ids = sorted(set(result.deleted_ids))
    result.changed_ids = sorted(set(result.changed_ids))
    return result


def _whole(index: _DayIndex) -> tuple[dt.date, dt.date]:
    # A day of margin each side: a server cutting days in another timezone files the first
    # and last events a day off, and an unchanged warehouse should still cost one request.
    return index.days[0] - ONE_DAY, index.days[-1] + 2 * ONE_DAY


def _diff_leaves(
    api: SyncApi,
    server: _Server,
    live: LiveEvents,
    leaves: list[_Span],
    page_size: int,
    result: ReconcileResult,
) -> None:
    # Warehouse reads stay on this thread (one SQL connection); the requests run in parallel.
    ours = [live.versions_between(leaf.start, leaf.stop - ONE_DAY) for leaf in leaves]
    for _leaf, (deleted, changed) in api.map_concurrently(
        lambda pair: _diff_leaf(api, server, pair[0], pair[1], page_size),
        list(zip(leaves, ours, strict=True)),
    ):
        result.deleted_ids.extend(deleted)
        result.changed_ids.extend(changed)


def _differing_leaves(
    server: _Server, index: _DayIndex, page_size: int, *, explicit: bool
) -> tuple[list[_Span], bool]:
    """Split the spans that differ, level by level, down to spans small enough to list.

    Returns the leaves, and whether any count was derived rather than asked (`explicit`
    asks for both halves of every split).
    """

    def span(start: dt.date, stop: dt.date, head: tuple[int, dt.datetime | None]) -> _Span:
        count, newest = head
        return _Span(start, stop, count, newest != index.newest(start, stop))

    def differs(s: _Span) -> bool:
        return s.dirty or s.server != index.count(s.start, s.stop)

    def is_leaf(s: _Span) -> bool:
        small = max(s.server, index.count(s.start, s.stop)) <= page_size
        return small or s.stop - s.start <= ONE_DAY

    start, stop = _whole(index)
    server.top_head = server.head(start, stop)
    top = span(start, stop, server.top_head)
    frontier = [top]
    derived = False
    if differs(top) and not is_leaf(top):
        mid = index.split_day(start, stop)
        heads = _first_split(server, top, mid)
        frontier = [span(start, mid, heads[0]), span(mid, stop, heads[1])]
    leaves: list[_Span] = []
    while frontier:
        splittable: list[_Span] = []
        for s in filter(differs, frontier):
            (leaves if is_leaf(s) else splittable).append(s)
        mids = [index.split_day(s.start, s.stop) for s in splittable]
        # Ask for the left half only; the right's count is the whole's minus the left's, and
        # its newest version is known clean when the whole was. A dirty whole asks for both.
        asks = [(s.start, m) for s, m in zip(splittable, mids, strict=True)]
        asks += [(m, s.stop) for s, m in zip(splittable, mids, strict=True) if s.dirty or explicit]
        answers = dict(zip(asks, server.heads(asks), strict=True))
        frontier = []
        for s, mid in zip(splittable, mids, strict=True):
            left = span(s.start, mid, answers[(s.start, mid)])
            right_count = s.server - left.server
            if right_count < 0 and not explicit:
                raise ModelBroken(
                    f"the server counts more events in {s.start}..{mid} than in the span "
                    f"{s.start}..{s.stop} that holds it"
                )
            if s.dirty or explicit:
                right = span(mid, s.stop, answers[(mid, s.stop)])
            else:
                right = _Span(mid, s.stop, right_count, False)
                derived = True
            frontier += [left, right]
    return leaves, derived


def _first_split(server: _Server, top: _Span, mid: dt.date) -> list[tuple[int, dt.datetime | None]]:
    """Both halves of the whole span, settling the `scheduledAtTo` convention on the way.

    Two halves must add up to the whole. They do not when `scheduledAtTo` is exclusive and we
    sent it as inclusive (the day at the cut is in neither half), or when the server ignores
    the date filter (each half counts everything).
    """
    for _convention in range(2):
        # The whole is asked again with its halves, so that all three are counted together.
        whole, *halves = server.heads([(top.start, top.stop), (top.start, mid), (mid, top.stop)])
        server.top_head = whole
        if halves[0][0] + halves[1][0] == whole[0]:
            return halves
        server.inclusive_to = not server.inclusive_to
    raise ModelBroken(
        "counts of scheduledAt ranges do not add up either way "
        "(the server ignores the date filter, or the data moved while counting)"
    )


def _diff_leaf(
    api: SyncApi,
    server: _Server,
    span: _Span,
    ours: Mapping[int, dt.datetime | None],
    page_size: int,
) -> tuple[list[int], list[int]]:
    """List a differing span and diff it with `ours`; returns (deleted ids, changed ids).

    Each id that looks gone is confirmed by an id lookup before it counts as deleted.
    """
    last = span.stop - ONE_DAY
    listed: dict[int, dict[str, Any]] = {}
    for row in server.listing(span.start, span.stop):
        event_id = _as_int(row.get("id"))
        if event_id is None:
            continue
        scheduled = _stamp(row, "scheduledAt")
        if scheduled is None or not span.start <= scheduled.date() <= last:
            raise ModelBroken(
                f"the server listed event {event_id} (scheduledAt {row.get('scheduledAt')}) "
                f"under {span.start:%F}..{last:%F}"
            )
        listed[event_id] = row
    # New upstream since the scan, or a version the scan missed: re-read it.
    changed = [
        event_id
        for event_id, row in listed.items()
        if event_id not in ours or _stamp(row) != _utc(ours[event_id])
    ]
    missing = {i: ours[i] for i in ours if i not in listed}
    if not missing:
        return [], changed
    server.spend(-(-len(missing) // page_size))
    confirmed = reconcile(api, missing, page_size)
    alive = set(missing) - set(confirmed.deleted_ids)
    unexplained = sorted(alive - set(confirmed.changed_ids))
    if unexplained:
        # Alive, unchanged, on these days, and yet not listed: the filter is not what we think.
        raise ModelBroken(
            f"event {unexplained[0]} exists unchanged but was not listed under "
            f"{span.start:%F}..{last:%F}"
        )
    return confirmed.deleted_ids, changed + confirmed.changed_ids


# --- the warehouse side -------------------------------------------------------------------------


class WarehouseEvents:
    """`LiveEvents` read from the pipeline's dataset through a dlt SQL client."""

    def __init__(
        self, client: Any, table: str, scheduled: str, deleted: str, account: str | None = None
    ) -> None:
        self.client = client
        self.table = table
        self.events = client.make_qualified_table_name(table)
        self.scheduled = scheduled
        self._present = False
        # What the server's lists may serve: events not found deleted, and those served
        # with a deleted state (a server keeping its soft-deleted events listed counts them).
        self.live = f"({deleted} is null or {served_deleted()})"
        if account is not None:
            # Only this account's events: the others' ids answer to another server.
            self.live += f" and account = '{_sql_text(account)}'"

    def present(self) -> bool:
        """Whether the table exists: dlt makes it with the first event it loads, so an
        organization without a booking yet has none (an empty table, to every question)."""
        self._present = self._present or self.table in existing_tables(self.client)
        return self._present

    def _day(self) -> str:
        # timezone('UTC', timestamptz) means the same in DuckDB and PostgreSQL.
        return f"cast(timezone('UTC', {self.scheduled}) as date)"

    def days(self) -> dict[dt.date, tuple[int, dt.datetime | None]]:
        if not self.present():
            return {}
        rows = self.client.execute_sql(
            f"select {self._day()}, count(*), max(updated_at) from {self.events} "
            f"where {self.live} and {self.scheduled} is not null group by 1"
        )
        return {_as_date(day): (int(n), newest) for day, n, newest in rows or []}

    def totals(self) -> tuple[int, dt.datetime | None]:
        if not self.present():
            return 0, None
        rows = self.client.execute_sql(
            f"select count(*), max(updated_at) from {self.events} where {self.live}"
        )
        count, newest = rows[0] if rows else (0, None)
        return int(count or 0), newest

    def version_of(self, event_id: int) -> dt.datetime | None:
        return self._versions("id = %s", event_id).get(event_id)

    def versions_between(self, first: dt.date, last: dt.date) -> dict[int, dt.datetime | None]:
        return self._versions(f"{self._day()} between %s and %s", first, last)

    def undated_versions(self) -> dict[int, dt.datetime | None]:
        return self._versions(f"{self.scheduled} is null")

    def all_versions(self) -> dict[int, dt.datetime | None]:
        return self._versions("true")

    def newer_than(self, stamp: dt.datetime, limit: int) -> list[int]:
        """Ids of the newest live events held in a version after `stamp`, newest first."""
        if not self.present():
            return []
        rows = self.client.execute_sql(
            f"select id from {self.events} where {self.live} and updated_at > %s "
            f"order by updated_at desc limit {int(limit)}",
            stamp,
        )
        return [int(row[0]) for row in rows or []]

    def _versions(self, where: str, *args: Any) -> dict[int, dt.datetime | None]:
        if not self.present():
            return {}
        rows = self.client.execute_sql(
            f"select id, updated_at from {self.events} where {self.live} and ({where})", *args
        )
        return {int(row[0]): row[1] for row in rows or []}


# --- small readers ------------------------------------------------------------------------------


def _sql_text(value: str) -> str:
    """`value` inside single quotes (account names are [a-z0-9_], this is belt and braces)."""
    return value.replace("'", "''")


def _items_count(page: Page[Any]) -> int:
    count = page.meta.itemsCount if page.meta is not None else None
    if count is None:
        raise ModelBroken("the server's page has no meta.itemsCount")
    return int(count)


def _pages_count(page: Page[Any], page_size: int) -> int:
    if page.pages_count is not None:
        return max(page.pages_count, 1)
    return max(-(-_items_count(page) // page_size), 1)


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _utc(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        return parse_api_datetime(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
