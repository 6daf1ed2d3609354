"""Reading events off the API: the full backfill, the descending incremental scan, the drift probe.

The reference has no `updatedAt` filter, only ordering, so an incremental run asks for events
ordered by `updatedAt` descending and stops requesting pages once a page reaches below the
stored cursor (minus a lag for late commits). Offset pagination is only exact while nothing
writes: a delete moves every later row up one place, so a row can slip between two pages.
`Probe` catches that: it records the newest row and the count before and after the scan; if
either moved, something wrote during the scan and the caller keeps the old cursor, so the
next run scans the same window again instead of silently skipping a row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from simplymeet.contract.dates import parse_api_datetime
from simplymeet.sync.api import SyncApi

UPDATED_AT = "updatedAt"


@dataclass(frozen=True)
class Probe:
    """The newest `updatedAt` and the event count, as the server reports them at one moment.

    Only deletes shift offset pages so that a row slips between two of them, and a delete
    changes the count; every other write moves the newest `updatedAt`. The newest row's id is
    deliberately not compared: a server may order rows with equal timestamps differently from
    one request to the next, and that is no write.
    """

    items_count: int | None
    top_updated_at: dt.datetime | None

    @classmethod
    def from_page(cls, page: dict[str, Any]) -> Probe:
        items = page.get("items") or []
        top = items[0] if items else {}
        return cls(
            items_count=(page.get("meta") or {}).get("itemsCount"),
            top_updated_at=_updated(top),
        )


def probe(api: SyncApi) -> Probe:
    """One-row request for the newest event and the total count."""
    page = api.event_page(1, 1, order_field=UPDATED_AT, order_direction="desc")
    return Probe.from_page(page)


def first_page(api: SyncApi, page_size: int) -> dict[str, Any]:
    """Page 1 of the events, newest first: every scan's first page, and its probe."""
    return api.event_page(1, page_size, order_field=UPDATED_AT, order_direction="desc")


def backfill_pages(
    api: SyncApi, first: dict[str, Any], page_size: int
) -> Iterator[list[dict[str, Any]]]:
    """Every event, newest first: `first`, then pages 2..N fetched concurrently, in order.

    A server that answers with a plain array (no page count) is paged one page at a time.
    """
    pages_count = (first.get("meta") or {}).get("pagesCount")
    if pages_count is None:
        yield from api.event_pages(page_size, order_field=UPDATED_AT, order_direction="desc")
        return
    if first.get("items"):
        yield first["items"]
    fetch = lambda number: api.event_page(  # noqa: E731 - a one-line closure reads best here
        number, page_size, order_field=UPDATED_AT, order_direction="desc"
    )["items"]
    for _number, items in api.map_concurrently(fetch, range(2, int(pages_count) + 1)):
        if items:
            yield items


def scan_since(
    api: SyncApi, start: dt.datetime, page_size: int, first: dict[str, Any] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Events with updatedAt >= start, newest first; stops paging once past `start`.

    Pages are requested one at a time so no page beyond the first one below the cursor is
    ever requested: the cost of a run is proportional to what changed. If the server turns
    out not to honour the order (a row newer than the one before it), stopping early would
    lose rows, so the scan reads every page instead and keeps the recent rows. `first` is
    page 1 when the caller already has it.
    """
    page_number = 1
    ordered = True
    previous: dt.datetime | None = None
    while True:
        if page_number == 1 and first is not None:
            page = first
        else:
            page = api.event_page(
                page_number, page_size, order_field=UPDATED_AT, order_direction="desc"
            )
        items = page.get("items") or []
        stamps = [_updated(row) for row in items]
        for stamp in stamps:
            if stamp is not None:
                if previous is not None and stamp > previous:
                    ordered = False
                previous = stamp
        fresh = [
            row for row, stamp in zip(items, stamps, strict=True) if stamp is None or stamp >= start
        ]
        if fresh:
            yield fresh
        if len(items) < page_size or (ordered and len(fresh) < len(items)):
            return
        pages_count = (page.get("meta") or {}).get("pagesCount")
        if pages_count is not None and page_number >= pages_count:
            return
        page_number += 1


def _updated(row: dict[str, Any]) -> dt.datetime | None:
    # An unreadable updatedAt is the quarantine's to report, not a reason to stop the scan.
    try:
        return parse_api_datetime(row.get(UPDATED_AT))
    except (ValueError, TypeError, AttributeError):
        return None


def max_updated(rows: list[dict[str, Any]]) -> dt.datetime | None:
    """The newest updatedAt among `rows`."""
    values = [v for v in (_updated(r) for r in rows) if v is not None]
    return max(values) if values else None


def fingerprint(row: dict[str, Any]) -> str:
    """A short digest of a row's whole content, to recognise a row already loaded."""
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
