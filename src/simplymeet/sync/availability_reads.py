"""The availability read of an event type: what its query asks for, how long its slots last.
Importable without pyarrow: a first sync sends these reads ahead as soon as the event type
list's first page is in (`first_reads`), while the main thread still imports dlt."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from simplymeet.contract.arrays import as_list
from simplymeet.contract.refs import ref_id
from simplymeet.sync.ids import as_id


def availability_query(
    snapshot_date: dt.date, horizon_days: int, event_type: Mapping[str, Any]
) -> dict[str, str]:
    """The query of a snapshot's availability read of the EventTypeDTO `event_type`:
    `horizon_days` days from its date, in UTC.

    GetEventTypeAvailabilityRequestDTO also lists `durationId` and `userId` and does not call
    them optional: a server may refuse a flexible type's read without the duration. The
    type's own duration is asked for (the one its `duration` names: the slots it offers by
    default), and the host of a type with one host; a type with several hosts is asked as a
    whole, since one host's `userId` would narrow it to that host's slots. A host or a
    duration served as its bare id counts as one served as an object (`users: [7]`).

    The DTO's `id` (the event type's, the path's) is not here: the client sends it with every
    availability request (`path_echo`, `client.http.prepare`).
    """
    end_date = snapshot_date + dt.timedelta(days=max(horizon_days - 1, 0))
    query = {
        "startDate": snapshot_date.isoformat(),
        "endDate": end_date.isoformat(),
        "timezone": "UTC",
    }
    asked = _asked_duration(event_type)
    duration_id = as_id(ref_id(asked)) if asked is not None else None
    if duration_id is not None:
        query["durationId"] = str(duration_id)
    hosts = {as_id(ref_id(u)) for u in as_list(event_type.get("users")) or []}
    if len(hosts) == 1 and None not in hosts:
        query["userId"] = str(hosts.pop())
    return query


def slot_minutes(event_type: Mapping[str, Any]) -> Any:
    """How long each slot of the availability read of `event_type` lasts: the duration asked
    for (`availability_query`'s `durationId`), else the type's own `duration`.

    A flexible type may be served with `duration: null`; its read asks for its first
    duration, and the slots answered last that long, not nothing.
    """
    asked = _asked_duration(event_type)
    if isinstance(asked, Mapping) and asked.get("duration") is not None:
        return asked.get("duration")
    return event_type.get("duration")


def _asked_duration(event_type: Mapping[str, Any]) -> Any:
    """The entry of `eventTypeDurations` an availability read asks for: the one the type's
    `duration` names, else its first; None when it lists none."""
    # Served as no list (the type is set aside by the quarantine): asked for as a whole.
    choices = as_list(event_type.get("eventTypeDurations")) or []
    # Compared as integers: a server may spell one `30` and the other `"30.00"`.
    minutes = as_id(event_type.get("duration"))
    own = [
        d
        for d in choices
        if isinstance(d, Mapping) and minutes is not None and as_id(d.get("duration")) == minutes
    ] or choices
    return own[0] if own else None
