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
            top_updated_at=parse_api_datetime(top.get(UPDATED_AT)),
        )


def probe(api: SyncApi) -> Probe:
    """One-row request for the newest event and the total count."""
    page = api.event_page(1, 1, order_field=UPDATED_AT, order_direction="desc")
    return Probe.from_page(page)


def backfill_pages(api: SyncApi, page_size: int) -> Iterator[list[dict[str, Any]]]:
    """Every event, pages fetched concurrently in id order (stable under updates)."""
    yield from api.event_pages(page_size, order_field="id", order_direction="asc")


def scan_since(api: SyncApi, start: dt.datetime, page_size: int) -> Iterator[list[dict[str, Any]]]:
    """Events with updatedAt >= start, newest first; stops paging once past `start`.

    Pages are requested one at a time so no page beyond the first one below the cursor is
    ever requested: the cost of a run is proportional to what changed.
    """
    page_number = 1
    while True:
        page = api.event_page(
            page_number, page_size, order_field=UPDATED_AT, order_direction="desc"
        )
        items = page.get("items") or []
        fresh = [row for row in items if _updated(row) is None or _updated(row) >= start]
        if fresh:
            yield fresh
        if len(fresh) < len(items) or len(items) < page_size:
            return
        pages_count = (page.get("meta") or {}).get("pagesCount")
        if pages_count is not None and page_number >= pages_count:
            return
        page_number += 1


def _updated(row: dict[str, Any]) -> dt.datetime | None:
    return parse_api_datetime(row.get(UPDATED_AT))


def max_updated(rows: list[dict[str, Any]]) -> dt.datetime | None:
    """The newest updatedAt among `rows`."""
    values = [v for v in (_updated(r) for r in rows) if v is not None]
    return max(values) if values else None


def fingerprint(row: dict[str, Any]) -> str:
    """A short digest of a row's whole content, to recognise a row already loaded."""
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
