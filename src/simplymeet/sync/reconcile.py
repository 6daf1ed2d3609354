"""Finding events deleted upstream, and versions the incremental scan missed.

The API has no feed of deletions. Asking for every event the warehouse holds by id costs one
request per 100 events (10,000 requests at 1M events), so the reconciliation first compares
counts: the warehouse's live events per `scheduledAt` range against the server's `itemsCount`
for the same `filter[scheduledAtFrom/To]` (a one-item page). Only ranges whose counts differ
are split, down to a range small enough to list; the listed ids are diffed against the
warehouse and every id that looks gone is confirmed by an id lookup before it is marked
deleted. Requests grow with deletions x log(events), not with events.

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
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Literal, Protocol

from simplymeet.contract.dates import REQUEST_DATE_FORMAT, parse_api_datetime
from simplymeet.sync.api import SyncApi

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


class LiveEvents(Protocol):
    """The warehouse side of the comparison: live (not deleted) events."""

    def day_counts(self) -> dict[dt.date, int]:
        """Live events per UTC day of `scheduled_at` (events without one are left out)."""
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


class ModelBroken(Exception):
    """The server's answers contradict the count model; the full id pass must decide."""


# --- entry point --------------------------------------------------------------------------------


def reconcile_events(api: SyncApi, live: LiveEvents, page_size: int) -> ReconcileResult:
    """Find deleted and changed events: by counts where the server allows, else id by id."""
    try:
        return reconcile_by_counts(api, live, page_size)
    except ModelBroken as broken:
        log.warning("reconcile: count pass abandoned (%s); checking every id", broken)
        result = reconcile(api, live.all_versions(), page_size)
        result.fallback_reason = str(broken)
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
    for rows in api.events_by_ids(ids, page_size):
        for row in rows:
            event_id = _as_int(row.get("id"))
            if event_id is None or event_id not in known:
                continue
            seen.add(event_id)
            if parse_api_datetime(row.get("updatedAt")) != _utc(known[event_id]):
                result.changed_ids.append(event_id)
    result.deleted_ids = [i for i in ids if i not in seen]
    return result


# --- the count pass -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    """Days `start` (inclusive) to `stop` (exclusive), with the server's count for them."""

    start: dt.date
    stop: dt.date
    server: int


class _DayIndex:
    """Warehouse counts of any day span in O(log days), from per-day counts."""

    def __init__(self, counts: Mapping[dt.date, int]) -> None:
        self.days = sorted(counts)
        self._prefix = [0, *accumulate(counts[d] for d in self.days)]

    def count(self, start: dt.date, stop: dt.date) -> int:
        lo, hi = bisect_left(self.days, start), bisect_left(self.days, stop)
        return self._prefix[hi] - self._prefix[lo]

    def split_day(self, start: dt.date, stop: dt.date) -> dt.date:
        """A day strictly inside (start, stop) leaving about half the events on each side."""
        lo, hi = bisect_left(self.days, start), bisect_left(self.days, stop)
        half = (self._prefix[lo] + self._prefix[hi]) / 2
        at = bisect_left(self._prefix, half, lo, hi + 1)
        day = self.days[min(max(at - 1, lo), hi - 1)] if hi > lo else start
        # The right half starts the day after the median day, but never at either end.
        return min(max(day + ONE_DAY, start + ONE_DAY), stop - ONE_DAY)


class _Counter:
    """The server's side: counts and listings of a day span, in the server's convention."""

    def __init__(self, api: SyncApi, page_size: int) -> None:
        self.api = api
        self.page_size = page_size
        self.inclusive_to = True

    def _filter(self, start: dt.date, stop: dt.date) -> dict[str, str]:
        last = stop - ONE_DAY if self.inclusive_to else stop
        return {
            "scheduledAtFrom": start.strftime(REQUEST_DATE_FORMAT),
            "scheduledAtTo": last.strftime(REQUEST_DATE_FORMAT),
        }

    def count(self, start: dt.date, stop: dt.date) -> int:
        page = self.api.event_page(1, 1, filter=self._filter(start, stop))
        return _items_count(page)

    def counts(self, spans: list[tuple[dt.date, dt.date]]) -> list[int]:
        pairs = self.api.map_concurrently(lambda s: self.count(*s), spans)
        return [value for _span, value in pairs]

    def listing(self, start: dt.date, stop: dt.date) -> list[dict[str, Any]]:
        """Every event the server files under these days (a few pages at most)."""
        flt = self._filter(start, stop)
        first = self.api.event_page(1, self.page_size, filter=flt)
        rows = list(first["items"])
        pages = _pages_count(first, self.page_size)
        rest = self.api.map_concurrently(
            lambda p: self.api.event_page(p, self.page_size, filter=flt)["items"],
            range(2, pages + 1),
        )
        for _page, items in rest:
            rows.extend(items)
        return rows


def reconcile_by_counts(api: SyncApi, live: LiveEvents, page_size: int) -> ReconcileResult:
    """The count pass; raises `ModelBroken` when the server's answers do not fit it."""
    index = _DayIndex(live.day_counts())
    undated = live.undated_versions()
    result = ReconcileResult(method="counts")
    result.checked = len(undated) + (index.count(*_whole(index)) if index.days else 0)
    if undated:
        # No date filter can find these; they are few (events always have a start upstream).
        found = reconcile(api, undated, page_size)
        result.deleted_ids.extend(found.deleted_ids)
        result.changed_ids.extend(found.changed_ids)
    if index.days:
        server = _Counter(api, page_size)
        for leaf in _differing_leaves(server, index, page_size):
            _diff_leaf(api, server, live, leaf, page_size, result)
    result.deleted_ids = sorted(set(result.deleted_ids))
    result.changed_ids = sorted(set(result.changed_ids))
    return result


def _whole(index: _DayIndex) -> tuple[dt.date, dt.date]:
    return index.days[0], index.days[-1] + ONE_DAY


def _differing_leaves(server: _Counter, index: _DayIndex, page_size: int) -> list[_Span]:
    """Split the spans whose counts differ, level by level, down to listable spans."""

    def differs(span: _Span) -> bool:
        return span.server != index.count(span.start, span.stop)

    def is_leaf(span: _Span) -> bool:
        small = max(span.server, index.count(span.start, span.stop)) <= page_size
        return small or span.stop - span.start <= ONE_DAY

    start, stop = _whole(index)
    top = _Span(start, stop, server.count(start, stop))
    frontier = [top]
    if differs(top) and not is_leaf(top):
        frontier = _first_split(server, top, index.split_day(start, stop))
    leaves: list[_Span] = []
    while frontier:
        splittable: list[_Span] = []
        for span in filter(differs, frontier):
            (leaves if is_leaf(span) else splittable).append(span)
        mids = [index.split_day(s.start, s.stop) for s in splittable]
        lefts = server.counts([(s.start, m) for s, m in zip(splittable, mids, strict=True)])
        frontier = []
        for span, mid, left in zip(splittable, mids, lefts, strict=True):
            # The right half is the whole minus the left: one request per split, not two.
            right = span.server - left
            if right < 0:
                raise ModelBroken(
                    f"the server counts more events from {span.start} to {mid} "
                    f"than from {span.start} to {span.stop}"
                )
            frontier += [_Span(span.start, mid, left), _Span(mid, span.stop, right)]
    return leaves


def _first_split(server: _Counter, top: _Span, mid: dt.date) -> list[_Span]:
    """Split the whole span asking for both halves, settling the `scheduledAtTo` convention.

    Two halves must add up to the whole. They do not when `scheduledAtTo` is exclusive and we
    sent it as inclusive (the day at the cut is in neither half), or when the server ignores
    the date filter (each half counts everything).
    """
    left, right = server.counts([(top.start, mid), (mid, top.stop)])
    whole = top.server
    if left + right != whole:
        server.inclusive_to = not server.inclusive_to
        whole, left, right = server.counts(
            [(top.start, top.stop), (top.start, mid), (mid, top.stop)]
        )
        if left + right != whole:
            raise ModelBroken(
                "counts of scheduledAt ranges do not add up either way "
                "(the server ignores the date filter, or the data moved while counting)"
            )
    return [_Span(top.start, mid, left), _Span(mid, top.stop, right)]


def _diff_leaf(
    api: SyncApi,
    server: _Counter,
    live: LiveEvents,
    span: _Span,
    page_size: int,
    result: ReconcileResult,
) -> None:
    """List a differing span on both sides; confirm each id that looks gone by id."""
    last = span.stop - ONE_DAY
    ours = live.versions_between(span.start, last)
    listed: dict[int, dict[str, Any]] = {}
    for row in server.listing(span.start, span.stop):
        event_id = _as_int(row.get("id"))
        if event_id is None:
            continue
        scheduled = parse_api_datetime(row.get("scheduledAt"))
        if scheduled is None or not span.start <= scheduled.date() <= last:
            raise ModelBroken(
                f"the server listed event {event_id} (scheduledAt {row.get('scheduledAt')}) "
                f"under {span.start:%F}..{last:%F}"
            )
        listed[event_id] = row
    for event_id, row in listed.items():
        # New upstream since the scan, or a version the scan missed: re-read it.
        if event_id not in ours or parse_api_datetime(row.get("updatedAt")) != _utc(ours[event_id]):
            result.changed_ids.append(event_id)
    missing = {i: ours[i] for i in ours if i not in listed}
    if not missing:
        return
    confirmed = reconcile(api, missing, page_size)
    alive = set(missing) - set(confirmed.deleted_ids)
    unexplained = sorted(alive - set(confirmed.changed_ids))
    if unexplained:
        # Alive, unchanged, on these days, and yet not listed: the filter is not what we think.
        raise ModelBroken(
            f"event {unexplained[0]} exists unchanged but was not listed under "
            f"{span.start:%F}..{last:%F}"
        )
    result.deleted_ids.extend(confirmed.deleted_ids)
    result.changed_ids.extend(confirmed.changed_ids)


# --- the warehouse side -------------------------------------------------------------------------


class WarehouseEvents:
    """`LiveEvents` read from the pipeline's dataset through a dlt SQL client."""

    def __init__(self, client: Any, table: str, scheduled: str, deleted: str) -> None:
        self.client = client
        self.events = client.make_qualified_table_name(table)
        self.scheduled = scheduled
        self.live = f"{deleted} is null"

    def _day(self) -> str:
        # timezone('UTC', timestamptz) means the same in DuckDB and PostgreSQL.
        return f"cast(timezone('UTC', {self.scheduled}) as date)"

    def day_counts(self) -> dict[dt.date, int]:
        rows = self.client.execute_sql(
            f"select {self._day()}, count(*) from {self.events} "
            f"where {self.live} and {self.scheduled} is not null group by 1"
        )
        return {_as_date(day): int(n) for day, n in rows or []}

    def versions_between(self, first: dt.date, last: dt.date) -> dict[int, dt.datetime | None]:
        return self._versions(f"{self._day()} between %s and %s", first, last)

    def undated_versions(self) -> dict[int, dt.datetime | None]:
        return self._versions(f"{self.scheduled} is null")

    def all_versions(self) -> dict[int, dt.datetime | None]:
        return self._versions("true")

    def _versions(self, where: str, *args: Any) -> dict[int, dt.datetime | None]:
        rows = self.client.execute_sql(
            f"select id, updated_at from {self.events} where {self.live} and ({where})", *args
        )
        return {int(row[0]): row[1] for row in rows or []}


# --- small readers ------------------------------------------------------------------------------


def _items_count(page: Mapping[str, Any]) -> int:
    meta = page.get("meta") or {}
    count = meta.get("itemsCount")
    if count is None:
        raise ModelBroken("the server's page has no meta.itemsCount")
    return int(count)


def _pages_count(page: Mapping[str, Any], page_size: int) -> int:
    meta = page.get("meta") or {}
    if meta.get("pagesCount") is not None:
        return max(int(meta["pagesCount"]), 1)
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
