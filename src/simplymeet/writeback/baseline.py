"""What a target was before a write, so that "it did not take effect" is proven, not guessed.

A write that reaches invitees (a booking, a cancel, a no-show, a reschedule) must never go out
twice. When its answer was lost, the server is read back; a record that is not in the state
asked for is no proof the write did not happen: the server may have applied it its own way (a
`Y-m-d H:i:s` start read in another timezone, a no-show state word we do not know). So the
read-back is compared with what the warehouse held when the job was planned:

- an event still exactly as it was (same `updatedAt`, state, times, type, host and notes): the
  write did not happen, it may be sent again;
- a booking request with no booking for that invitee and event type beyond the ones the
  warehouse already had: the POST did not happen, it may be sent again;
- anything else that is not the requested state: nobody can tell; the item is left unknown.

A baseline is JSON (it is journaled with the item's first send, so a later run of the job
compares with the state before that send, not with a warehouse refreshed since).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from simplymeet.contract.dates import parse_api_datetime
from simplymeet.contract.refs import ref_id

EVENT_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("updated_at", "updatedAt", "time"),
    ("state", "state", "text"),
    ("canceled_at", "canceledAt", "time"),
    ("scheduled_at", "scheduledAt", "time"),
    ("end_date", "endDate", "time"),
    ("event_type_id", "eventType.id", "id"),
    ("user_id", "user.id", "id"),
    ("notes", "notes", "text"),
)
"""(warehouse column, EventDTO field, how to compare): what an event write may change."""

BOOKINGS = "event_ids"
"""Key of a booking request's baseline (ids of the invitee's bookings of that event type), and
of what the journal keeps from a booking's answer (the ids it made)."""


POLLS = "poll_ids"
"""Key of a poll creation's baseline: ids of the polls of that name and event type before it."""


def polls_baseline(poll_ids: set[int]) -> dict[str, Any]:
    """A poll creation's baseline: the ids of the polls of its name and event type."""
    return {POLLS: sorted(poll_ids)}


def poll_ids_before(before: Any) -> set[int]:
    """The poll ids a poll creation's baseline holds (none without one)."""
    if not isinstance(before, Mapping) or not isinstance(before.get(POLLS), list):
        return set()
    return {int(i) for i in before[POLLS] if _is_int(i)}


def new_polls(before: Any, polls: Sequence[Any]) -> list[Any]:
    """The polls not in a poll creation's baseline (every poll when it has none): a poll that
    already had the name is no sign of this one."""
    if not isinstance(before, Mapping) or not isinstance(before.get(POLLS), list):
        return list(polls)
    known = {int(i) for i in before[POLLS] if _is_int(i)}
    return [
        poll
        for poll in polls
        if not (isinstance(poll, Mapping) and _is_int(poll.get("id")) and int(poll["id"]) in known)
    ]


def event_baseline(row: Mapping[str, Any]) -> dict[str, Any]:
    """An event's baseline from its warehouse row (`WarehouseView.event_rows`)."""
    out: dict[str, Any] = {}
    for column, wire, _ in EVENT_FIELDS:
        value = row.get(column)
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            value = value.astimezone(dt.UTC).isoformat()
        out[wire] = value
    return out


def bookings_baseline(event_ids: set[int]) -> dict[str, Any]:
    """A booking request's baseline: the ids of the bookings that existed before it."""
    return {BOOKINGS: sorted(event_ids)}


def with_known_bookings(baseline: Any, made: Iterable[int]) -> Any:
    """A creation's baseline (bookings or polls) plus what other items of its job made (their
    answers named them, or a read-back found them for their item): a sibling row's booking
    of the same invitee, or its poll of the same name, is no sign of this one."""
    made = set(made)
    if not made or not isinstance(baseline, Mapping):
        return baseline
    for key in (BOOKINGS, POLLS):
        if isinstance(baseline.get(key), list):
            return {**baseline, key: sorted({*(int(i) for i in baseline[key]), *made})}
    return baseline


def bookings_made(result: Any) -> list[int]:
    """The ids a creation's answer named (bookings, or the created object's own id), from what
    the journal kept of it (else none)."""
    if not isinstance(result, Mapping):
        return []
    ids = result.get(BOOKINGS)
    if isinstance(ids, list):
        return [int(i) for i in ids if _is_int(i)]
    made: Any = result.get("id")
    return [int(made)] if _is_int(made) and not isinstance(made, bool) else []


def _is_int(value: Any) -> bool:
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return True


def same_id(a: Any, b: Any) -> bool:
    """Whether two ids are the same, served as ints or as digit strings (`201` and `"201"`)."""
    if a is None or b is None:
        return a is None and b is None
    try:
        return int(a) == int(b)
    except (TypeError, ValueError):
        return str(a) == str(b)


def event_unchanged(before: Any, event: Any) -> bool:
    """Whether the server's EventDTO is exactly the baseline: proof a write did not happen."""
    if not isinstance(before, Mapping) or not isinstance(event, Mapping):
        return False
    for _, wire, kind in EVENT_FIELDS:
        if wire not in before:
            return False
        if not _same(kind, before[wire], _dig(event, wire)):
            return False
    return True


def new_bookings(before: Any, values: Mapping[str, Any], events: Sequence[Any]) -> list[Any]:
    """The events that may be this booking: of its event type, of its invitee (or naming
    none), and not among the bookings that existed before it (`before`, when known). A
    server that ignored the list's filter served everyone's; a booking the invitee already
    had at the same start is not this one."""
    known: set[int] = set()
    if isinstance(before, Mapping) and isinstance(before.get(BOOKINGS), list):
        known = {int(i) for i in before[BOOKINGS] if _is_int(i)}
    email = str(values.get("invitee_email") or "").casefold()
    out = []
    for event in events:
        if not isinstance(event, Mapping):
            out.append(event)  # unreadable: left to the predicates, which prove nothing by it
            continue
        if not same_id(ref_id(event.get("eventType")), values.get("event_type")):
            continue
        invitee = event.get("invitee")
        served = invitee.get("email") if isinstance(invitee, Mapping) else None
        if served is not None and str(served).casefold() != email:
            continue
        event_id: Any = event.get("id")
        if _is_int(event_id) and int(event_id) in known:
            continue
        out.append(event)
    return out


def no_new_booking(before: Any, values: Mapping[str, Any], events: Any) -> bool:
    """Whether none of the invitee's bookings of the event type is newer than the baseline."""
    if not isinstance(before, Mapping) or not isinstance(before.get(BOOKINGS), list):
        return False
    return not new_bookings(before, values, events or [])


def _dig(record: Mapping[str, Any], dotted: str) -> Any:
    node: Any = record
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _same(kind: str, a: Any, b: Any) -> bool:
    if kind == "id":
        return same_id(a, b)
    if kind == "time":
        try:
            return parse_api_datetime(_text(a)) == parse_api_datetime(_text(b))
        except ValueError:
            return False
    # A missing text and an empty one are the same record.
    return (a or None) == (b or None)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def asked_starts(values: Mapping[str, Any]) -> list[str]:
    """A booking row's starts as given: its `scheduled_at`, then each of its
    `multiple_scheduled_at` (none empty)."""
    starts = [values.get("scheduled_at"), *(values.get("multiple_scheduled_at") or [])]
    return [str(start) for start in starts if start]


def booking_identities(body: Any) -> tuple[str, ...]:
    """A booking's identity per start it asks for: the invitee's e-mail (case-folded), the
    event type and the start. A create re-run with another detail changed (a phone number
    added) is still that booking; () for the body of anything but a booking."""
    if not isinstance(body, dict):
        return ()
    invitee = body.get("invitee")
    email = invitee.get("email") if isinstance(invitee, dict) else None
    event_type = body.get("eventType")
    if not email or event_type is None:
        return ()
    starts = [body.get("scheduledAt"), *(body.get("multipleScheduledAt") or [])]
    who = str(email).strip().casefold()
    return tuple(
        sorted({f"booking of {who}, event type {event_type}, at {s}" for s in starts if s})
    )
