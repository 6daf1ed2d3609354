"""Bookable slots of an event type: its availability rules minus the hosts' active bookings.

Rules are local to the event type's timezone: weekday rules (`{'weekday': 'monday'}`) give the
usual hours, a date rule (`{'date': '2023-11-16'}`) replaces them on that date (no intervals =
day off). Slots start every `duration` minutes inside each interval and must end inside it. A
slot is available when it starts in the future and its host is free: for a round-robin type any
member (or `userId`) free, for a collective type every member free, otherwise the owner.
Slots are reported by date and HH:MM in the requested timezone (default: the event type's).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from simplymeet.emulator.api_errors import Unprocessable
from simplymeet.emulator.entities import AvailabilityRule, EventType
from simplymeet.emulator.seed import STATE_CODE, WEEKDAYS
from simplymeet.emulator.store import Store

MAX_DAYS = 62
"""Longest range one availability request may cover."""
DEFAULT_DAYS = 7


def _date(field: str, value: str | None, default: dt.date) -> dt.date:
    if value in (None, ""):
        return default
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise Unprocessable.one(field, f"not a valid Y-m-d date: {value!r}") from None


def _zone(value: str | None, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(value or default)
    except (ZoneInfoNotFoundError, ValueError):
        raise Unprocessable.one("timezone", f"unknown timezone {value!r}") from None


def _minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    return int(hours) * 60 + int(minutes)


def _hour_text(store: Store, local: dt.datetime) -> str:
    """A slot's start as served: `HH:MM`, or `H:MM` under `availability_hours=unpadded`
    (PHP's `G:i`; the reference gives the field no format)."""
    if store.readings.availability_hours == "unpadded":
        return f"{local.hour}:{local.minute:02d}"
    return local.strftime("%H:%M")


def rules_for(rules: list[AvailabilityRule], day: dt.date) -> list[tuple[str, str]]:
    """The hour intervals in force on a local date: a date rule wins over weekday rules."""
    iso = day.isoformat()
    dated = [r for r in rules if r.type == "date" and r.config.get("date") == iso]
    if dated:
        return [iv for r in dated for iv in r.intervals]
    weekday = WEEKDAYS[day.weekday()]
    return [
        iv
        for r in rules
        if r.type == "weekday" and r.config.get("weekday") == weekday
        for iv in r.intervals
    ]


def event_type_availability(
    store: Store,
    et: EventType,
    *,
    start_date: str | None,
    end_date: str | None,
    timezone: str | None,
    duration_id: int | None,
    user_id: int | None,
) -> list[dict]:
    """EventTypeAvailabilityDTOs, one per date of the requested range."""
    out_zone = _zone(timezone, et.timezone)
    now = store.availability_clock()
    today = dt.datetime.fromtimestamp(now, out_zone).date()
    first = _date("startDate", start_date, today)
    last = _date("endDate", end_date, first + dt.timedelta(days=DEFAULT_DAYS - 1))
    if last < first:
        raise Unprocessable.one("endDate", "must not be before startDate")
    if (last - first).days >= MAX_DAYS:
        raise Unprocessable.one("endDate", f"a request covers at most {MAX_DAYS} days")
    duration = et.duration
    if duration_id is None and et.durations and store.readings.availability_params == "required":
        raise Unprocessable.one("durationId", f"event type {et.id} has several durations")
    if duration_id is not None:
        by_id = dict(et.durations)
        if duration_id not in by_id:
            raise Unprocessable.one(
                "durationId", f"event type {et.id} has no duration {duration_id}"
            )
        duration = by_id[duration_id]
    if user_id is not None and user_id not in et.user_ids:
        raise Unprocessable.one("userId", f"user {user_id} does not host event type {et.id}")
    members = [user_id] if user_id is not None else list(et.user_ids)

    rule_zone = ZoneInfo(et.timezone)
    rules = store.ref.availability.get(et.id, [])
    step = max(duration, 15)
    slots: list[int] = []
    # One local day either side: a day in the rule zone can spill into the requested dates.
    day = first - dt.timedelta(days=1)
    while day <= last + dt.timedelta(days=1):
        for start_text, end_text in rules_for(rules, day):
            begin, end = _minutes(start_text), _minutes(end_text)
            minute = begin
            while minute + duration <= end:
                local = dt.datetime(
                    day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=rule_zone
                )
                slots.append(int(local.timestamp()))
                minute += step
        day += dt.timedelta(days=1)

    busy = _busy(store, members, min(slots, default=0), max(slots, default=0) + duration * 60)
    by_date: dict[str, list[dict]] = defaultdict(list)
    for start in sorted(set(slots)):
        local = dt.datetime.fromtimestamp(start, tz=out_zone)
        if not first <= local.date() <= last:
            continue
        stop = start + duration * 60
        free = [not any(s < stop and e > start for s, e in busy.get(m, ())) for m in members]
        ok = all(free) if et.kind == "collective" and user_id is None else any(free)
        by_date[local.date().isoformat()].append(
            {"start": _hour_text(store, local), "available": bool(ok and start > now)}
        )
    out = []
    day = first
    while day <= last:
        hours = by_date.get(day.isoformat(), [])
        out.append(
            {
                "date": day.isoformat(),
                "hours": hours,
                "available": any(h["available"] for h in hours),
            }
        )
        day += dt.timedelta(days=1)
    return out


def _busy(store: Store, members: list[int], lo: int, hi: int) -> dict[int, list[tuple[int, int]]]:
    """Active bookings of the members overlapping [lo, hi), by host."""
    cols = store.cols
    if not cols.n or hi <= lo:
        return {}
    scheduled, end = cols.col("scheduled"), cols.col("end")
    mask = (
        ~cols.col("deleted")
        & (cols.col("state") == STATE_CODE["active"])
        & (scheduled < hi)
        & (end > lo)
        & np.isin(cols.col("user_id"), members)
    )
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for row in np.flatnonzero(mask):
        busy[int(cols.col("user_id")[row])].append((int(scheduled[row]), int(end[row])))
    return busy
