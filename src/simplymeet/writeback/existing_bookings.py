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
from simplymeet.contract.vocab import MAX_ON_PAGE, normalize_event_state, served_as_deleted
from simplymeet.sync.api import SyncApi
from simplymeet.writeback.baseline import same_id
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
    served: list[Mapping[str, Any]] = []
    for event_type, days in wanted.items():
        for first, last in _stretches(sorted(set(days))):
            query = {
                "filter": {
                    "eventTypeList": [event_type],
                    "scheduledAtFrom": first.isoformat(),
                    "scheduledAtTo": last.isoformat(),
                }
            }
            rows = SyncApi(client).list_all("event_list", MAX_ON_PAGE, query=query)
            served.extend(row for row in rows if isinstance(row, Mapping) and _live(row))
    taken: set[int] = set()
    out: dict[str, Booked] = {}
    for item in items:
        found: dict[str, int] = {}
        missing: list[str] = []
        for asked, start in zip(_asked(item.values), _starts(item.values), strict=True):
            match = next(
                (e for e in served if int(e["id"]) not in taken and _is(e, item.values, start)),
                None,
            )
            if match is None:
                missing.append(asked)
            else:
                taken.add(int(match["id"]))
                found[asked] = int(match["id"])
        out[item.key] = Booked(found, missing)
    return out


def _asked(values: Mapping[str, Any]) -> list[str]:
    starts = [values.get("scheduled_at"), *(values.get("multiple_scheduled_at") or [])]
    return [str(start) for start in starts if start]


def _starts(values: Mapping[str, Any]) -> list[dt.datetime]:
    out = []
    for asked in _asked(values):
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


def _live(event: Mapping[str, Any]) -> bool:
    """Served with an id, and neither deleted nor canceled."""
    try:
        int(event.get("id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    if served_as_deleted(event):
        return False
    state = event.get("state")
    state_text = state if isinstance(state, str) else None
    return normalize_event_state(state_text, canceled_at=event.get("canceledAt")) != "canceled"


def _is(event: Mapping[str, Any], values: Mapping[str, Any], start: dt.datetime) -> bool:
    """Whether `event` is this row's booking at `start`: its event type, its invitee's
    e-mail (case-folded), the same instant."""
    if not same_id(ref_id(event.get("eventType")), values.get("event_type")):
        return False
    invitee = event.get("invitee")
    email = invitee.get("email") if isinstance(invitee, Mapping) else None
    if email is None or str(email).strip().casefold() != _email(values):
        return False
    try:
        served = parse_api_datetime(str(event.get("scheduledAt")))
    except ValueError:
        return False
    return served == start


def _email(values: Mapping[str, Any]) -> str:
    return str(values.get("invitee_email") or "").strip().casefold()
