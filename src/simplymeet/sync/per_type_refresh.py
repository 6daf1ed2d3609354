"""Which event types' tags and availability a run reads again: a cadence, not every run.

Tags and availability are one request per event type (68 of the 82 requests of an incremental
run in B2). An event type's are read again when it is new, when its row in the event type list
changed (the reference gives event types no `updatedAt`, so the row's fingerprint stands in for
it), when its last read is older than `[sync] per_event_type_refresh_hours`, on a full refresh,
and for availability also when the snapshot date moved on, so every snapshot day holds every
event type. What was read last is remembered in the source's dlt state (dlt wipes a replace
resource's own state before each extract), which is committed with the load package that
carries the rows: a run that dies before its load leaves the plan as it was.

The availability plan is also what replaces a snapshot day whatever the read answered: the
rows a read lands replace its type's rows of that day (the merge), but a read that lands none
(the type answers no days or no hours, is disabled, or is gone) replaces nothing. So the plan
keeps, per type, when it was last read for which snapshot date, and for a type no longer
listed when it was seen gone; after each load the runner deletes the rows of each such
(snapshot date, type) written before then (`snapshot_reads`,
`cleanup.drop_replaced_snapshots`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from simplymeet.sync import events as ev
from simplymeet.sync import tables as t

STATE_KEY = "per_type_refresh"
GONE_KEY = "gone"
"""Beside the availability record: types seen gone from the list, with when and for which
snapshot date; kept for that snapshot day, so a run killed before the runner deleted their
rows is mended by the next run of the day."""


@dataclass(frozen=True)
class Refresh:
    """Why a refresh happens: the cadence, the run's date and whether everything is forced."""

    every_hours: float
    now: dt.datetime
    snapshot_date: dt.date | None = None
    """Set for availability: a type last read for another snapshot date is due."""
    force: bool = False


def event_type_fingerprints(types: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    """Event type id -> fingerprint of its whole listed row (types without a usable id left out)."""
    found: dict[int, str] = {}
    for row in types:
        type_id = t.as_id(row.get("id"))
        if type_id is not None:
            found[type_id] = ev.fingerprint(dict(row))
    return found


@dataclass(frozen=True, order=True)
class SnapshotRead:
    """An event type's availability read (or seen gone) at `read_at` for `snapshot_date`:
    its rows of that snapshot date written before then are replaced."""

    event_type_id: int
    snapshot_date: dt.date
    read_at: dt.datetime


def snapshot_reads(pipeline_state: Mapping[str, Any], source: str) -> list[SnapshotRead]:
    """The availability reads remembered in a pipeline's state (`source`'s plan), for the
    runner to delete what each replaced once the rows of the read are loaded."""
    sources = pipeline_state.get("sources") or {}
    plans = (sources.get(source) or {}).get(STATE_KEY) or {}
    state = plans.get("availability")
    # A copy: the runner reads the plan, never records into it.
    return RefreshPlan(dict(state)).snapshot_reads() if state else []


def _instant(text: str) -> dt.datetime:
    at = dt.datetime.fromisoformat(text)
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


class RefreshPlan:
    """The per-event-type record kept in a resource's state, and what is due this run."""

    @classmethod
    def of(cls, resource: str) -> RefreshPlan:
        """The plan of `resource`, in the state of the source being extracted."""
        import dlt

        plans: dict[str, Any] = dlt.current.source_state().setdefault(STATE_KEY, {})
        return cls(plans.setdefault(resource, {}))

    def __init__(self, state: MutableMapping[str, Any]) -> None:
        self._state = state
        self._record: dict[str, dict[str, Any]] = state.setdefault(STATE_KEY, {})

    def due(self, fingerprints: Mapping[int, str], refresh: Refresh) -> list[int]:
        """The listed event type ids to read again, ascending."""
        return sorted(i for i, fp in fingerprints.items() if self._is_due(i, fp, refresh))

    def _is_due(self, type_id: int, fp: str, refresh: Refresh) -> bool:
        seen = self._record.get(str(type_id))
        if refresh.force or seen is None or seen.get("fp") != fp:
            return True
        if (
            refresh.snapshot_date is not None
            and seen.get("date") != refresh.snapshot_date.isoformat()
        ):
            return True
        at = dt.datetime.fromisoformat(str(seen.get("at")))
        # A read stamped after now was stamped by a clock ahead: its time says nothing.
        return at > refresh.now or refresh.now - at >= dt.timedelta(hours=refresh.every_hours)

    def record(
        self, read: Sequence[int], fingerprints: Mapping[int, str], refresh: Refresh
    ) -> None:
        """Remember the types read this run; forget types no longer listed.

        With a snapshot date (availability), a type no longer listed is remembered as gone on
        that date, until the date moves on or it is listed again."""
        date = refresh.snapshot_date.isoformat() if refresh.snapshot_date else None
        for type_id in read:
            self._record[str(type_id)] = {
                "at": refresh.now.isoformat(),
                "fp": fingerprints[type_id],
                "date": date,
            }
        listed = {str(i) for i in fingerprints}
        for key in [k for k in self._record if k not in listed]:
            del self._record[key]
            if date is not None:
                self._gone[key] = {"at": refresh.now.isoformat(), "date": date}
        for key in [k for k, seen in self._gone.items() if k in listed or seen["date"] != date]:
            del self._gone[key]

    @property
    def _gone(self) -> dict[str, dict[str, Any]]:
        gone: dict[str, dict[str, Any]] = self._state.setdefault(GONE_KEY, {})
        return gone

    def snapshot_reads(self) -> list[SnapshotRead]:
        """Each type's last read for a snapshot date, and each type seen gone on one."""
        reads = [
            SnapshotRead(int(key), dt.date.fromisoformat(seen["date"]), _instant(seen["at"]))
            for records in (self._record, self._gone)
            for key, seen in records.items()
            if seen.get("date")
        ]
        return sorted(reads)

    def kept(self, name: str) -> dict[str, Any]:
        """A per-type store kept beside the record (e.g. the last tags read, by type id)."""
        store: dict[str, Any] = self._state.setdefault(name, {})
        return store
