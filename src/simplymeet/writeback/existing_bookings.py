"""The bookings an invitee already has on the server, read before a booking is made.

A booking e-mails its invitee, and a second one of the same event type at the same start is
a second e-mail and a double-booked slot. A job's own history and its unsettled earlier jobs
say which rows were sent before (`journal.earlier_jobs_of`), but not a row another finished
job booked (the same file run again with a column added is another job) or one booked
outside this tool. So the rows about to be sent are matched against the server's bookings of
their event types around their starts: same invitee e-mail (case-folded), same event type,
same instant, not canceled or deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simplymeet.contract.dates import parse_api_datetime
from simplymeet.contract.refs import ref_id
from simplymeet.contract.vocab import MAX_ON_PAGE, served_live
from simplymeet.sync.api import SyncApi
from simplymeet.writeback.baseline import asked_starts
from simplymeet.writeback.plan import Item

if TYPE_CHECKING:
    from simplymeet.client import ApiClient


@dataclass(frozen=True)
class Booked:
    """What the server holds of one booking row's starts: the events booked at them (start
    as asked -> event id) and the starts with none."""

    found: dict[str, int]
    missing: list[str]


def bookings_held(client: ApiClient, items: Sequence[Item]) -> dict[str, Booked]:
    """Item key -> what the server holds of its starts, for booking rows (`event_create`).

    One list per event type and stretch of days (each start with a day either side: a server
    may read the `Y-m-d H:i:s` start in another zone), every page checked against its count
    (`SyncApi.list_all`); not one read per invitee: a bulk booking of a thousand people
    would be a thousand reads. Raises what the reads raise."""
    wanted: dict[str, list[dt.date]] = {}
    for item in items:
        for start in _starts(item.values):
            day = start.date()
            days = wanted.setdefault(str(item.values.get("event_type")), [])
            days.extend(day + dt.timedelta(days=shift) for shift in (-1, 0, 1))
    held: dict[tuple[str, str, dt.datetime], list[int]] = {}
    for event_type, days in wanted.items():
        for first, last in _stretches(sorted(set(days))):
            query = {
                "filter": {
                    "eventTypeList": [event_type],
                    "scheduledAtFrom": first.isoformat(),
                    "scheduledAtTo": last.isoformat(),
                }
            }
            for row in SyncApi(client).list_all("event_list", MAX_ON_PAGE, query=query):
                key = _booking_key(row)
                if key is not None:
                    held.setdefault(key, []).append(int(row["id"]))
    taken: set[int] = set()
    out: dict[str, Booked] = {}
    for item in items:
        found: dict[str, int] = {}
        missing: list[str] = []
        email, event_type = _email(item.values), _type_key(item.values.get("event_type"))
        for asked, start in zip(asked_starts(item.values), _starts(item.values), strict=True):
            ids = held.get((email, event_type, start), [])
            match = next((i for i in ids if i not in taken), None)
            if match is None:
                missing.append(asked)
            else:
                taken.add(match)
                found[asked] = match
        out[item.key] = Booked(found, missing)
    return out


def _starts(values: Mapping[str, Any]) -> list[dt.datetime]:
    out = []
    for asked in asked_starts(values):
        start = parse_api_datetime(asked)
        if start is None:  # the plan checked each start: none is unreadable here
            raise ValueError(f"unreadable start {asked!r}")
        out.append(start)
    return out


def _stretches(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Sorted days as runs of consecutive days (first, last): one read each."""
    out: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if out and (day - out[-1][1]).days <= 1:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def _booking_key(event: Any) -> tuple[str, str, dt.datetime] | None:
    """(invitee e-mail case-folded, event type, start) of a live booking as served, or None
    for one canceled, deleted, or without an id, an e-mail or a readable start."""
    if not served_live(event):
        return None
    try:
        int(event.get("id"))
        start = parse_api_datetime(str(event.get("scheduledAt")))
    except (TypeError, ValueError):
        return None
    invitee = event.get("invitee")
    email = invitee.get("email") if isinstance(invitee, Mapping) else None
    if email is None or start is None:
        return None
    return str(email).strip().casefold(), _type_key(ref_id(event.get("eventType"))), start


def _type_key(value: Any) -> str:
    """An event type id as one text whether served or given as 7 or "7"."""
    try:
        return str(int(value))
    except (TypeError, ValueError):
        return str(value)


def _email(values: Mapping[str, Any]) -> str:
    return str(values.get("invitee_email") or "").strip().casefold()
