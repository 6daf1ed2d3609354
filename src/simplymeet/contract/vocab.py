"""Vocabularies of the API: event states, event type kinds, location types, cancelers.

The reference names `state` on events but not its values. The emulator serves the canonical
values below; the sync and the models normalize whatever a server sends through
`normalize_event_state`, so a server that spells them differently still lands correctly.
"""

from __future__ import annotations

from typing import Literal

EventState = Literal["active", "canceled", "no_show"]
STATE_ACTIVE: EventState = "active"
STATE_CANCELED: EventState = "canceled"
STATE_NO_SHOW: EventState = "no_show"
EVENT_STATES: tuple[EventState, ...] = (STATE_ACTIVE, STATE_CANCELED, STATE_NO_SHOW)

NormalizedState = Literal["booked", "canceled", "no_show", "unknown"]
NORMALIZED_STATES: tuple[NormalizedState, ...] = ("booked", "canceled", "no_show", "unknown")

STATE_SYNONYMS: dict[str, NormalizedState] = {
    "active": "booked",
    "accepted": "booked",
    "approved": "booked",
    "booked": "booked",
    "confirmed": "booked",
    "scheduled": "booked",
    "upcoming": "booked",
    "past": "booked",
    "completed": "booked",
    "finished": "booked",
    "rescheduled": "booked",
    "new": "booked",
    "canceled": "canceled",
    "cancelled": "canceled",
    "cancel": "canceled",
    "declined": "canceled",
    "rejected": "canceled",
    "no_show": "no_show",
    "no-show": "no_show",
    "noshow": "no_show",
    "no show": "no_show",
}
"""Every spelling of a state we have seen or can expect, mapped to the normalized vocabulary."""

DELETED_STATES: frozenset[str] = frozenset({"deleted", "removed", "trashed"})
"""States a server may serve by id for an event it deleted and its lists leave out (a soft
delete: the reference says nothing of what a GET of a deleted event answers)."""


def served_as_deleted(dto: object) -> bool:
    """Whether an event as served (a dict) says it is deleted (`DELETED_STATES`)."""
    state = dto.get("state") if isinstance(dto, dict) else None
    return isinstance(state, str) and state.strip().lower() in DELETED_STATES


def served_live(dto: object) -> bool:
    """Whether an event as served is neither deleted (`served_as_deleted`) nor canceled
    (its state, or a cancellation timestamp: `normalize_event_state`)."""
    if not isinstance(dto, dict) or served_as_deleted(dto):
        return False
    state = dto.get("state")
    canceled_at = dto.get("canceledAt")
    return (
        normalize_event_state(state if isinstance(state, str) else None, canceled_at=canceled_at)
        != "canceled"
    )


def normalize_event_state(state: str | None, *, canceled_at: object = None) -> NormalizedState:
    """Map a server's event state onto booked / canceled / no_show / unknown.

    A cancellation timestamp wins over the state text: a server that keeps `state` as e.g.
    "past" on a canceled event still lands it as canceled.
    """
    if canceled_at not in (None, ""):
        return "canceled"
    if state is None:
        return "unknown"
    return STATE_SYNONYMS.get(state.strip().lower(), "unknown")


EventTypeKind = Literal["regular", "round-robin", "collective"]
EVENT_TYPE_KINDS: tuple[EventTypeKind, ...] = ("regular", "round-robin", "collective")

LOCATION_TYPES: tuple[str, ...] = (
    "custom",
    "zoom",
    "request",
    "whereby",
    "google_meet",
    "kopano_meet",
    "microsoft_teams",
)

Canceler = Literal["invitee", "host"]
CANCELERS: tuple[Canceler, ...] = ("invitee", "host")

PaymentStatus = Literal["paid", "pending", "refunded", "failed"]
PAYMENT_STATUSES: tuple[PaymentStatus, ...] = ("paid", "pending", "refunded", "failed")

ORDER_DIRECTIONS: tuple[str, ...] = ("asc", "desc")

CANCELLATION_POLICY_TYPES: tuple[str, ...] = ("user", "organization")

MAX_ON_PAGE = 100
"""Largest onPage a list endpoint accepts (GetEventListRequestDTO)."""
