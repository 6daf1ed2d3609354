"""Every write to events, with its side effects. Callers hold `store.lock`.

Rules decided here (docs/emulator.md repeats them):
- a write to an unknown or deleted event is a 404; list writes check every id first and apply
  nothing when one is missing (404) or not eligible (422): they are all-or-nothing;
- canceling a canceled event is a 422 ("already canceled"), as is rescheduling or marking no-show
  a canceled event; marking no-show twice is a no-op;
- every write that changes an event sets its updatedAt from the store clock (strictly later
  than any earlier write); delete does not (the event is gone);
- request datetimes (create scheduledAt, reschedule start/end) are UTC, unless
  `store.request_times` says to read them as wall time in the event type's or the host's
  timezone, as a server may: the reference gives `Y-m-d H:i:s` without a zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from simplymeet.contract import dtos
from simplymeet.contract.dates import parse_request_datetime
from simplymeet.contract.vocab import LOCATION_TYPES, STATE_ACTIVE, STATE_CANCELED, STATE_NO_SHOW
from simplymeet.emulator.api_errors import ApiError, NotFound, Unprocessable
from simplymeet.emulator.entities import EventType, Participant, Rescheduling
from simplymeet.emulator.identifiers import seeded_uuid
from simplymeet.emulator.seed import LOCATION_CODE, PAYMENT_CODE, STATE_CODE
from simplymeet.emulator.store import Store

_CANCELED = STATE_CODE[STATE_CANCELED]
_NO_SHOW = STATE_CODE[STATE_NO_SHOW]
_ACTIVE = STATE_CODE[STATE_ACTIVE]


def require_event(store: Store, event_id: int) -> None:
    """404 unless the event exists and is not deleted (410 for a deleted one under the
    reading `deleted_events=410`)."""
    if not store.has_event(event_id):
        if _was_deleted(store, event_id):
            raise ApiError(410, f"event {event_id} was deleted")
        raise NotFound(f"event {event_id}")


def _require_all(store: Store, ids: Iterable[int]) -> list[int]:
    unique = list(dict.fromkeys(ids))
    missing = [i for i in unique if not store.has_event(i)]
    if missing:
        status = 410 if all(_was_deleted(store, i) for i in missing) else 404
        raise ApiError(status, f"events not found: {', '.join(map(str, missing))}")
    return unique


def _was_deleted(store: Store, event_id: int) -> bool:
    """Whether `event_id` was deleted and the reading says so (410) rather than 404."""
    return store.readings.deleted_events == "410" and deleted_here(store, event_id)


def soft_deletes(store: Store) -> bool:
    """Whether a deleted event is still served, its state "deleted" (a soft delete)."""
    return store.readings.deleted_events in ("soft", "listed")


def deleted_here(store: Store, event_id: int) -> bool:
    """Whether `event_id` is an event of the store that was deleted."""
    return 1 <= event_id <= store.cols.n and bool(store.cols.col("deleted")[event_id - 1])


def _state(store: Store, event_id: int) -> int:
    return store.cols.get("state", event_id)


def _request_instant(store: Store, text: str, event_type: EventType, user_id: int) -> int:
    """Epoch seconds of a request's `Y-m-d H:i:s`, read as `store.request_times` says."""
    at = parse_request_datetime(text)
    zone = None
    if store.request_times == "event_type":
        zone = event_type.timezone
    elif store.request_times == "host":
        host = store.host_by_id(user_id)
        zone = host.timezone if host is not None else None
    if zone:
        at = at.replace(tzinfo=ZoneInfo(zone))
    return int(at.timestamp())


# --- cancel ----------------------------------------------------------------------------------


def cancel_events(store: Store, ids: list[int], reason: str | None, canceler: str = "host") -> None:
    """Cancel events (all or none): state, canceledAt, cancellation, refund, updatedAt."""
    unique = _require_all(store, ids)
    already = {
        f"ids.{k}": [f"event {i} is already canceled"]
        for k, i in enumerate(unique)
        if _state(store, i) == _CANCELED
    }
    if already:
        raise Unprocessable(already, "already canceled")
    for event_id in unique:
        now = store.touch(event_id)
        cols = store.cols
        cols.set("state", event_id, _CANCELED)
        cols.set("canceled", event_id, now // 1_000_000)
        if cols.get("pay_status", event_id) == PAYMENT_CODE["paid"]:
            cols.set("pay_status", event_id, PAYMENT_CODE["refunded"])
        store.overlay(event_id).cancellation = {
            "id": store.next_sub_id(),
            "canceler": canceler,
            "reason": reason,
        }


def cancel_event(store: Store, event_id: int, reason: str | None, canceler: str = "host") -> None:
    """Cancel one event; 422 when it is already canceled."""
    require_event(store, event_id)
    if _state(store, event_id) == _CANCELED:
        raise Unprocessable.one("id", f"event {event_id} is already canceled")
    cancel_events(store, [event_id], reason, canceler)


# --- no-show ---------------------------------------------------------------------------------


def no_show_events(store: Store, ids: list[int]) -> None:
    """Mark events as no-shows (all or none); canceled events are refused."""
    unique = _require_all(store, ids)
    refused = {
        f"ids.{k}": [f"event {i} is canceled"]
        for k, i in enumerate(unique)
        if _state(store, i) == _CANCELED
    }
    if refused:
        raise Unprocessable(refused, "canceled events cannot be marked as no-show")
    for event_id in unique:
        if _state(store, event_id) != _NO_SHOW:
            store.touch(event_id)
            store.cols.set("state", event_id, _NO_SHOW)


def no_show_event(store: Store, event_id: int) -> None:
    """Mark one event as a no-show."""
    require_event(store, event_id)
    if _state(store, event_id) == _CANCELED:
        raise Unprocessable.one("id", f"event {event_id} is canceled")
    no_show_events(store, [event_id])


# --- reschedule ------------------------------------------------------------------------------


def reschedule_event(
    store: Store, event_id: int, request: dtos.RescheduleEventRequestDTO, rescheduler: str = "host"
) -> None:
    """Move an event; the previous time and host are kept in a new ReschedulingDTO."""
    require_event(store, event_id)
    cols = store.cols
    if _state(store, event_id) == _CANCELED:
        raise Unprocessable.one("id", f"event {event_id} is canceled and cannot be rescheduled")
    # start, end and eventTypeId are required by the DTO (the reference lists them).
    et = store.event_type_by_id(request.eventTypeId)
    if et is None:
        raise Unprocessable.one("eventTypeId", f"unknown event type {request.eventTypeId}")
    if et.id in store.deleted_event_types:
        # Deleted since (`Store.delete_event_type`): 404 wherever it is named by id, the
        # event itself still there.
        raise NotFound(f"event type {et.id}")
    if request.userId is not None and store.host_by_id(request.userId) is None:
        raise Unprocessable.one("userId", f"unknown user {request.userId}")
    same_type = et.id == cols.get("event_type_id", event_id)
    user_id = request.userId or (cols.get("user_id", event_id) if same_type else et.owner_id)
    start = _request_instant(store, request.start, et, user_id)
    end = _request_instant(store, request.end, et, user_id)
    if end <= start:
        raise Unprocessable.one("end", "must be after start")
    store.overlay(event_id).reschedulings.append(
        Rescheduling(
            id=store.next_sub_id(),
            rescheduler=rescheduler,
            reason=None,
            previously_scheduled_at=cols.get("scheduled", event_id),
            previous_user_id=cols.get("user_id", event_id),
        )
    )
    store.touch(event_id)
    cols.set("scheduled", event_id, start)
    cols.set("end", event_id, end)
    cols.set("duration", event_id, (end - start) // 60)
    cols.set("event_type_id", event_id, et.id)
    cols.set("user_id", event_id, user_id)
    cols.set("state", event_id, _ACTIVE)  # a moved meeting has not been missed yet


# --- small edits -----------------------------------------------------------------------------


def set_notes(store: Store, event_id: int, notes: str) -> None:
    """Replace an event's notes."""
    require_event(store, event_id)
    overlay = store.overlay(event_id)
    overlay.notes, overlay.notes_set = notes, True
    store.touch(event_id)


def invite_participants(
    store: Store, event_id: int, emails: list[str], message: str | None
) -> None:
    """Add participants (one per e-mail, createdAt = now)."""
    require_event(store, event_id)
    now = store.touch(event_id) // 1_000_000
    overlay = store.overlay(event_id)
    for email in emails:
        overlay.participants.append(Participant(store.next_sub_id(), email, now))
    if message:
        overlay.invite_messages.append(message)


def resend_notification(store: Store, event_id: int) -> None:
    """Send the invitee's notification again: sentEmailReminder + 1."""
    require_event(store, event_id)
    store.touch(event_id)
    store.cols.set("reminders", event_id, store.cols.get("reminders", event_id) + 1)


def edit_event(store: Store, event_id: int, request: dtos.EditEventRequestDTO) -> None:
    """Change the invitee's name/phone and answers (by answer id). On a server that replaces
    (`Store.put_mode`), what the body leaves out becomes null: the invitee's name or phone, and
    the value of every answer it does not list."""
    require_event(store, event_id)
    answers = request.answers or []
    if answers:
        known = {a["id"] for a in _current_answers(store, event_id)}
        unknown = {
            f"answers.{k}.id": [f"event {event_id} has no answer {a.id}"]
            for k, a in enumerate(answers)
            if a.id not in known
        }
        if unknown:
            raise Unprocessable(unknown)
    overlay = store.overlay(event_id)
    replace = store.put_mode == "replace"
    invitee = request.invitee or dtos.EditEventInviteeRequestDTO()
    changes = invitee.model_dump() if replace else invitee.model_dump(exclude_none=True)
    if changes:
        overlay.invitee = {**(overlay.invitee or {}), **changes}
    if replace:
        listed = {a.id for a in answers}
        for current in _current_answers(store, event_id):
            if current["id"] not in listed:
                overlay.answers[current["id"]] = None
    for answer in answers:
        overlay.answers[answer.id] = answer.value or ""
    store.touch(event_id)


def _current_answers(store: Store, event_id: int) -> list[dict[str, Any]]:
    overlay = store.overlays.get(event_id)
    if store.cols.col("created_by_api")[event_id - 1]:
        return list(overlay.created_answers or []) if overlay else []
    return store.render.seeded_answers(event_id)


# --- delete ----------------------------------------------------------------------------------


def delete_events(store: Store, ids: list[int]) -> None:
    """Delete events (all or none); later reads answer 404."""
    for event_id in _require_all(store, ids):
        store.cols.set("deleted", event_id, True)
        if store.readings.deleted_events == "listed":
            store.touch(event_id)  # a soft delete the lists keep: an update of its state
    store.generation += 1


def delete_event(store: Store, event_id: int) -> None:
    """Delete one event."""
    require_event(store, event_id)
    delete_events(store, [event_id])


# --- create ----------------------------------------------------------------------------------


def create_events(store: Store, request: dtos.CreateEventRequestDTO) -> list[int]:
    """Book one event (or one per multipleScheduledAt); returns the new ids."""
    starts = list(request.multipleScheduledAt or [])
    if request.scheduledAt:
        starts.insert(0, request.scheduledAt)
    if store.readings.multiple_starts == "first_only":
        starts = starts[:1]
    if not starts:
        raise Unprocessable.one("scheduledAt", "scheduledAt or multipleScheduledAt is required")
    et = store.event_type_by_id(request.eventType)
    if et is None:
        raise Unprocessable.one("eventType", f"unknown event type {request.eventType}")
    invitee = request.invitee
    missing = {
        f"invitee.{k}": ["is required"] for k in ("fullName", "email") if not getattr(invitee, k)
    }
    if missing:
        raise Unprocessable(missing)
    duration = et.duration
    if request.durationId is not None:
        by_id = dict(et.durations)
        if request.durationId not in by_id:
            raise Unprocessable.one(
                "durationId", f"event type {et.id} has no duration {request.durationId}"
            )
        duration = by_id[request.durationId]
    questions = {q.uuid: q for q in et.questions}
    bad = {
        f"answers.{k}.question": [f"event type {et.id} has no question {a.question!r}"]
        for k, a in enumerate(request.answers or [])
        if a.question not in questions
    }
    if bad:
        raise Unprocessable(bad)
    location_type = request.locationType or et.location_type
    if location_type not in LOCATION_TYPES:
        raise Unprocessable.one("locationType", f"must be one of {', '.join(LOCATION_TYPES)}")
    if location_type == "request":
        location_type = (et.request_location_types or [(0, "custom")])[0][1]

    user_id = store.round_robin_pick(et) if et.kind == "round-robin" else et.owner_id
    policy = store.policy("organization")
    ids: list[int] = []
    for start_text in starts:
        start = _request_instant(store, start_text, et, user_id)
        now_us = store.clock.now_us()
        event_id = store.cols.append(
            {
                "user_id": user_id,
                "event_type_id": et.id,
                "seed_user_id": user_id,
                "seed_event_type_id": et.id,
                "created": now_us // 1_000_000,
                "updated_us": now_us,
                "scheduled": start,
                "end": start + duration * 60,
                "duration": duration,
                "state": _ACTIVE,
                "pay_status": PAYMENT_CODE["pending"] if et.amount is not None else -1,
                "location_type": LOCATION_CODE[location_type],
                "created_by_api": True,
            }
        )
        overlay = store.overlay(event_id)
        overlay.invitee = {
            "id": event_id,
            # A server matching the filter case for case may keep e-mails in lower case.
            "email": (invitee.email or "").lower()
            if store.readings.invitee_filter == "case_sensitive"
            else invitee.email,
            "fullName": invitee.fullName,
            "timezone": invitee.timezone or et.timezone,
            "phoneNumber": invitee.phoneNumber,
            "locale": invitee.locale or "en",
            "cancellationPolicy": invitee.cancellationPolicy
            or f"{policy.label} (v{policy.version})",
            "uuid": _uuid4(store),
        }
        overlay.created_answers = [
            {
                "id": store.next_sub_id(),
                "questionLabel": questions[a.question].label,
                "questionType": questions[a.question].type,
                "value": a.value,
                "plainValue": a.value,
                "questionUuid": a.question,
            }
            for k, a in enumerate(request.answers or [])
            if a.question is not None
        ]
        overlay.participants = [
            Participant(store.next_sub_id(), p.email, now_us // 1_000_000)
            for p in request.participants or []
        ]
        if request.location:
            overlay.location = request.location
        ids.append(event_id)
    for event_id in ids:
        store.overlays[event_id].related_ids = [i for i in ids if i != event_id]
    store.generation += 1
    return ids


def _uuid4(store: Store) -> str:
    return seeded_uuid(store.rng)
