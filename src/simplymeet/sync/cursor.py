"""The events cursor: how far the sync has read, kept in dlt's resource state.

dlt commits resource state with the load package that carries the rows, so the cursor never
runs ahead of the data it describes. This class is the only code that knows the state's keys:
the events resource reads and writes it, the runner reads it back for the run's summary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from simplymeet.contract.dates import parse_api_datetime

ORDER_PROOF_HOURS = 24
"""How long a read showing the server honour `orderField=updatedAt` is trusted: a later run
that does not show it again reads on to the list's end once this has passed."""

SOURCE_NAME = "simplymeet"
RESOURCE_NAME = "events"


@dataclass
class EventCursor:
    """The events resource's state between runs."""

    updated_at: dt.datetime | None = None
    """Every event with an older `updatedAt` (less the lag) is in the warehouse as it is now."""
    edge: dict[str, str] = field(default_factory=dict)
    """Fingerprints of the rows at or above `updated_at - lag`, which the next run reads again:
    a row found unchanged there is not loaded twice."""
    held_runs: int = 0
    """Runs in a row that could not prove their scan complete and kept the old cursor."""
    last_scan: dict[str, Any] = field(default_factory=dict)
    """What the last scan did (pages, re-read pages, window), for the run's summary."""
    last_id: int | None = None
    """The highest event id a complete scan has read: each run also reads the events above it
    (`EventScan.created_after`), which a server may serve without `updatedAt`."""
    order_shown_at: dt.datetime | None = None
    """When a newest-first read last showed the server honouring `orderField=updatedAt`
    (`EventScan.order_shown`): for `ORDER_PROOF_HOURS` after it, reads stop at the first
    page below their start (a server may stop honouring it: a deploy)."""

    @classmethod
    def load(cls, state: MutableMapping[str, Any]) -> EventCursor:
        """The cursor stored in a resource state (an empty cursor when there is none)."""
        raw = state.get("cursor")
        return cls(
            updated_at=parse_api_datetime(raw) if raw else None,
            edge=dict(state.get("edge") or {}),
            held_runs=int(state.get("held_runs", state.get("drift_runs", 0)) or 0),
            last_scan=dict(state.get("last_scan") or {}),
            last_id=int(state["last_id"]) if state.get("last_id") is not None else None,
            order_shown_at=parse_api_datetime(state["order_shown_at"])
            if state.get("order_shown_at")
            else None,
        )

    def order_proven(self, now: dt.datetime) -> bool:
        """Whether a read showed the order honoured within `ORDER_PROOF_HOURS` of `now`."""
        shown = self.order_shown_at
        return shown is not None and now - shown < dt.timedelta(hours=ORDER_PROOF_HOURS)

    def save(self, state: MutableMapping[str, Any]) -> None:
        """Write the cursor into a resource state (dlt persists it with the load)."""
        if self.updated_at is None:
            state.pop("cursor", None)
        else:
            state["cursor"] = self.updated_at.isoformat()
        state["edge"] = self.edge
        state["held_runs"] = self.held_runs
        state["last_scan"] = self.last_scan
        state["last_id"] = self.last_id
        if self.order_shown_at is None:
            state.pop("order_shown_at", None)
        else:
            state["order_shown_at"] = self.order_shown_at.isoformat()
        state.pop("drift_runs", None)

    @classmethod
    def from_pipeline_state(cls, pipeline_state: Mapping[str, object]) -> EventCursor:
        """The cursor as a pipeline's whole state holds it (`pipeline.state`)."""
        return cls.load(events_resource_state(pipeline_state))


def events_resource_state(pipeline_state: Mapping[str, object]) -> dict[str, Any]:
    """A copy of the events resource's state in a pipeline's whole state (`pipeline.state`;
    empty before its first sync)."""
    state: Any = pipeline_state
    for key in ("sources", SOURCE_NAME, "resources", RESOURCE_NAME):
        state = state.get(key) if isinstance(state, Mapping) else None
    return dict(state) if isinstance(state, Mapping) else {}
