"""Finding events deleted upstream, and versions the incremental scan missed.

The API has no feed of deletions, so the reconciliation asks for every event the warehouse
holds, by id (`filter[ids]`, a page of ids at a time): ids the server no longer returns are
deleted; rows whose `updatedAt` differs from the warehouse are re-synced. Asking by id rather
than paging the whole list keeps it exact while the server is being written to (offset pages
shift under deletes; an id lookup does not).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from simplymeet.contract.dates import parse_api_datetime
from simplymeet.sync.api import SyncApi


@dataclass
class ReconcileResult:
    """What a reconciliation found: ids gone upstream, ids whose version moved."""

    checked: int = 0
    deleted_ids: list[int] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)


def reconcile(
    api: SyncApi, known: Mapping[int, dt.datetime | None], page_size: int
) -> ReconcileResult:
    """Compare the warehouse's live events (`known`: id -> updated_at) with the server."""
    result = ReconcileResult(checked=len(known))
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
