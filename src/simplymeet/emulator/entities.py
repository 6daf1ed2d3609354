"""The emulator's reference data (everything but events), as plain mutable dataclasses.

Events are columnar (`columns.py`); the rest is small enough to keep as objects. Field names
are snake_case here and become the contract's wire names in `render.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Organization:
    id: int
    uuid: str
    slug: str
    name: str
    created_at: int
    locale: str
    email: str
    domain: str | None
    intro: str


@dataclass
class Host:
    """A user of the organization who hosts meetings, with weekly working hours."""

    id: int
    uuid: str
    email: str
    full_name: str
    slug: str
    timezone: str
    work_days: tuple[int, ...]  # 0 = Monday
    work_start_min: int  # minutes after local midnight
    work_end_min: int
    created_at: int
    last_login: int
    is_enabled: bool
    city: str
    country_id: str
    phone: str
    lat: float
    lng: float
    locale: str
    time_format: str
    date_format: str


@dataclass
class Question:
    uuid: str
    label: str
    type: str
    required: bool
    options: list[str]
    position: int


@dataclass
class EventType:
    id: int
    uuid: str
    name: str
    slug: str
    color: str
    owner_id: int
    kind: str  # vocab.EVENT_TYPE_KINDS
    duration: int
    duration_type: str  # fixed | flexible
    durations: list[tuple[int, int]]  # (duration id, minutes)
    amount: float | None
    currency: str | None
    location_type: str
    location: str | None
    is_enabled: bool
    is_secret: bool
    user_ids: list[int]
    timezone: str
    is_localized: bool
    position: int
    request_location_types: list[tuple[int, str]]
    is_allow_cancel: bool
    is_allow_reschedule: bool
    is_show_phone: bool
    is_phone_required: bool
    questions: list[Question]
    is_multiple_meeting: bool
    location_label: str | None
    group_meeting_limit: int | None
    show_group_meeting_rest: bool


@dataclass
class AvailabilityRule:
    """A weekday rule ({'weekday': 'monday'}) or a date rule ({'date': '2023-11-16'})."""

    type: str  # weekday | date
    intervals: list[tuple[str, str]]  # ('09:00', '17:00'), local to the event type
    config: dict[str, str]


@dataclass
class EventTypeTag:
    id: int
    name: str
    color: str
    position: int
    enabled: bool


@dataclass
class UserEventTypeTag:
    id: int
    name: str
    color: str | None  # None: nulled by a PUT on a server that replaces (`Store.put_mode`)
    position: int | None
    user_id: int


@dataclass
class CancellationPolicy:
    """One version of a cancellation policy; the store keeps every version."""

    type: str  # organization | user
    version: int
    # None: nulled by a PUT on a server that replaces (`Store.put_mode`)
    enabled: bool | None
    period: int | None  # minutes
    label: str | None
    text: str | None
    overwrite_personal: bool | None
    valid_from: int  # epoch seconds this version came into force


@dataclass
class PollResult:
    email: str
    comment: str | None


@dataclass
class PollSlot:
    id: int
    date: int  # epoch seconds
    results: list[PollResult] = field(default_factory=list)


@dataclass
class Poll:
    id: int
    uuid: str
    user_id: int
    event_type_id: int
    vote_visibility: bool
    comment_visibility: bool
    email_notification: bool
    duration: int
    name: str
    created_at: int
    slots: list[PollSlot]


@dataclass
class SingleUseLink:
    code: str
    url: str
    event_type_id: int
    created_at: int


@dataclass
class Participant:
    id: int
    email: str
    created_at: int


@dataclass
class Rescheduling:
    id: int
    rescheduler: str
    reason: str | None
    previously_scheduled_at: int
    previous_user_id: int


@dataclass
class EventOverlay:
    """What API writes changed on one event; rendered over the details derived from the seed.

    For events created through the API every detail lives here (nothing is derived).
    """

    invitee: dict[str, Any] | None = None  # full invitee of created events, or edits
    answers: dict[int, str | None] = field(default_factory=dict)  # answer id -> new value
    created_answers: list[dict[str, Any]] | None = None
    participants: list[Participant] = field(default_factory=list)
    reschedulings: list[Rescheduling] = field(default_factory=list)
    cancellation: dict[str, Any] | None = None
    notes: str | None = None
    notes_set: bool = False
    last_reminder: int | None = None
    location: str | None = None
    related_ids: list[int] = field(default_factory=list)
    invite_messages: list[str] = field(default_factory=list)
