"""Turning store state into the contract's DTOs: dicts for reference data, JSON text for events.

Events are rendered straight to JSON: the scalar part of an event is one small dict dumped once,
and the big nested parts that many events share (the host's UserDTO, the EventTypeDTO) are
serialized once per store generation and spliced in as text. Per-event details of seeded events
(invitee, answers, participants, reschedulings…) are derived here from (seed, id), each from its
own salted RNG so that one field never shifts another.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

import orjson

from simplymeet.contract.vocab import EVENT_STATES, LOCATION_TYPES, PAYMENT_STATUSES
from simplymeet.emulator import pools
from simplymeet.emulator.entities import (
    CancellationPolicy,
    EventOverlay,
    EventType,
    Host,
    Poll,
)
from simplymeet.emulator.identifiers import detail_rng, event_uuid, seeded_uuid

if TYPE_CHECKING:
    from simplymeet.emulator.store import Store

T = TypeVar("T")

SALT_INVITEE, SALT_ANSWERS, SALT_PARTICIPANTS, SALT_RESCHEDULE = 1, 2, 3, 4
SALT_CANCEL, SALT_PAYMENT, SALT_NOTES, SALT_LOCATION = 5, 6, 7, 8
"""Each detail of a seeded event has its own RNG stream (`detail_rng(seed, id, salt)`)."""

SUB_IDS_PER_EVENT = 16
"""Seeded answers, participants and reschedulings of event e get ids e*16 + k, with k in
disjoint ranges per kind (below); things added through the API take `Store.next_sub_id()`."""
ANSWER_SLOT, PARTICIPANT_SLOT, RESCHEDULE_SLOT = 0, 8, 12

REMINDER_MINUTES = 1440
"""lastSentInviteeEmailReminder: the offset (minutes before start) of the last reminder sent."""
FOLLOW_UP_MINUTES = 60
"""lastSentInviteeEmailFollowUp: the offset (minutes after end) of the follow-up e-mail."""


def dumps(value: Any) -> str:
    """Compact JSON, UTF-8 kept as is: the only serializer the emulator uses.

    orjson writes the same text as `json` with `ensure_ascii=False` and compact separators
    (tests/test_emulator_render_json.py; only a float in exponent form is spelled shorter,
    1e-7 for 1e-07, the same number) and took a quarter off the CPU of rendering an event
    (bench/README.md, B11); `json` stays for what orjson refuses (an int beyond 64 bits).
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return _json_dumps(value)


_json_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def loads(text: str | bytes) -> Any:
    """JSON text back into values, exactly: orjson (the tests read every event of an emulator
    through this, ~5x faster than `json`), `json` where orjson would not be exact or refuses.

    orjson reads an integer beyond 64 bits as a float, silently; such a number has 20 digits
    or more, so a text with a run of 20 digits anywhere is read by `json`.
    """
    if _has_long_number(text if isinstance(text, bytes) else text.encode()):
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 20


def _has_long_number(text: bytes) -> bool:
    """Whether `text` holds a run of 20 ASCII digits (JSON numbers have no other digits).

    A translate and a substring search: `\\d{20}` took 0.26 s over the 16 MB of 2,000 events
    (tried at every digit of every timestamp), this 0.015 s."""
    return _LONG_RUN in text.translate(_DIGITS_AS_ZERO)


_EPOCH_DAY = dt.date(1970, 1, 1)


def iso(epoch: int | None) -> str | None:
    """An epoch second as the API's response timestamp (ISO 8601, UTC offset), None for 0/None.

    The text `format_response_datetime` writes, spelled by hand: a page renders several per
    event, and the datetime round trip cost 7x more (the day's text is cached).
    """
    if not epoch:
        return None
    days, seconds = divmod(math.floor(epoch), 86_400)
    hours, seconds = divmod(seconds, 3_600)
    minutes, seconds = divmod(seconds, 60)
    return f"{_day_text(days)}T{hours:02d}:{minutes:02d}:{seconds:02d}+00:00"


@functools.lru_cache(maxsize=8_192)
def _day_text(days_since_epoch: int) -> str:
    return (_EPOCH_DAY + dt.timedelta(days=days_since_epoch)).isoformat()


def policy_at(history: list[CancellationPolicy], epoch: int) -> CancellationPolicy:
    """The version of a policy in force at a moment (the first one before any history)."""
    starts = [p.valid_from for p in history]
    return history[max(bisect.bisect_right(starts, epoch) - 1, 0)]


class Renderer:
    """Renders DTOs from one store; caches the shared nested fragments per generation."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._fragments_generation = -1
        self._user_json: dict[int, str] = {}
        self._user_dict: dict[int, dict[str, Any]] = {}
        self._event_type_json: dict[int, str] = {}
        self._users_json: dict[tuple[int, ...], str] = {}
        self._offsets: dict[str, str] = {}
        self._derived: dict[str, Any] = {}

    # --- reference data ----------------------------------------------------------------------

    def organization(self) -> dict[str, Any]:
        org = self.store.ref.organization
        return {
            "id": org.id,
            "uuid": org.uuid,
            "slug": org.slug,
            "name": org.name,
            "createdAt": iso(org.created_at),
            "locale": org.locale,
            "rtl": False,
            "calendarLayout": "week",
            "hideUnavailableDates": False,
            "sundayIsFirstDay": False,
            "email": org.email,
            "intro": org.intro,
            "domain": org.domain,
            "socialLink": {
                "id": 1,
                "facebookUrl": None,
                "twitterUrl": f"https://twitter.com/{org.slug}",
                "instagramUrl": None,
                "linkedinUrl": f"https://www.linkedin.com/company/{org.slug}",
                "whatsappUrl": None,
            },
        }

    def _utc_offset(self, zone: str) -> str:
        if zone not in self._offsets:
            anchor = dt.datetime.fromtimestamp(self.store.anchor_s, tz=ZoneInfo(zone))
            self._offsets[zone] = anchor.strftime("%z")[:3] + ":" + anchor.strftime("%z")[3:]
        return self._offsets[zone]

    def user(self, host: Host) -> dict[str, Any]:
        """A UserDTO."""
        return {
            "id": host.id,
            "uuid": host.uuid,
            "email": host.email,
            "fullName": host.full_name,
            "slug": host.slug,
            "subscriptionUsersLimit": 25,
            "isSecondFactorConfigured": host.id % 3 == 1,
            "isEnabled": host.is_enabled,
            "dateFormat": host.date_format,
            "address": None,
            "state": None,
            "city": host.city,
            "zip": None,
            "countryId": host.country_id,
            "lat": round(host.lat, 5),
            "lng": round(host.lng, 5),
            "domain": None,
            "phone": host.phone,
            "companyLogoName": None,
            "avatarName": f"{host.slug}.png" if host.id % 2 else None,
            "organization": self.organization(),
            "createdAt": iso(host.created_at),
            "lastLogin": iso(host.last_login),
            "connections": ["google"] if host.id % 2 else [],
            "hasPaidSubscription": self.store.paid,
            "timezone": host.timezone,
            "timeFormat": host.time_format,
            "timezoneOffset": self._utc_offset(host.timezone),
        }

    def event_type(self, et: EventType) -> dict[str, Any]:
        """An EventTypeDTO."""
        hosts = self.store.ref.hosts
        return {
            "id": et.id,
            "name": et.name,
            "color": et.color,
            "user": self.user(hosts[et.owner_id - 1]),
            "type": et.kind,
            "duration": (
                None
                if et.durations and self.store.readings.flexible_duration == "null"
                else et.duration
            ),
            "slug": et.slug,
            "amount": et.amount,
            "currency": et.currency,
            "locationType": et.location_type,
            "location": et.location,
            "isEnabled": et.is_enabled,
            "isSecret": et.is_secret,
            "users": [self.user(hosts[uid - 1]) for uid in et.user_ids],
            "timezone": et.timezone,
            "isLocalized": et.is_localized,
            "durationType": et.duration_type,
            "eventTypeDurations": [{"id": i, "duration": m} for i, m in et.durations],
            "position": et.position,
            "eventTypeRequestLocationTypes": [
                {"id": i, "locationType": lt} for i, lt in et.request_location_types
            ],
            "uuid": et.uuid,
            "isAllowCancel": et.is_allow_cancel,
            "isAllowReschedule": et.is_allow_reschedule,
            "isShowPhone": et.is_show_phone,
            "isPhoneFieldRequired": et.is_phone_required,
            "questions": [
                {
                    "label": q.label,
                    "type": q.type,
                    "required": q.required,
                    "config": [{"label": option} for option in q.options],
                    "uuid": q.uuid,
                    "position": q.position,
                }
                for q in et.questions
            ],
            "isMultipleMeeting": et.is_multiple_meeting,
            "locationLabel": et.location_label,
            "groupMeetingLimit": et.group_meeting_limit,
            "showGroupMeetingRest": et.show_group_meeting_rest,
        }

    def simple_user(self, host: Host) -> dict[str, Any]:
        return {"id": host.id, "email": host.email, "fullName": host.full_name}

    def poll(self, poll: Poll) -> dict[str, Any]:
        """A PollDTO (user and event type in full)."""
        ref = self.store.ref
        et = self.store.event_type_by_id(poll.event_type_id)
        return {
            "id": poll.id,
            "uuid": poll.uuid,
            "user": self.user(ref.hosts[poll.user_id - 1]),
            "eventType": self.event_type(et) if et else None,
            "voteVisibility": poll.vote_visibility,
            "commentVisibility": poll.comment_visibility,
            "emailNotification": poll.email_notification,
            "duration": poll.duration,
            "name": poll.name,
            "createdAt": iso(poll.created_at),
            "availability": [
                {
                    "id": slot.id,
                    "date": iso(slot.date),
                    "results": [{"email": r.email, "comment": r.comment} for r in slot.results],
                }
                for slot in poll.slots
            ],
        }

    def policy(self, policy: CancellationPolicy) -> dict[str, Any]:
        """A CancellationPolicyDTO (the reference spells overwrite_personal in snake case)."""
        return {
            "enabled": policy.enabled,
            "period": policy.period,
            "label": policy.label,
            "text": policy.text,
            "version": policy.version,
            "type": policy.type,
            "overwrite_personal": policy.overwrite_personal,
        }

    # --- shared fragments --------------------------------------------------------------------

    def _fresh_fragments(self) -> None:
        if self._fragments_generation != self.store.ref_generation:
            self._user_json.clear()
            self._user_dict.clear()
            self._event_type_json.clear()
            self._users_json.clear()
            self._derived.clear()
            self._fragments_generation = self.store.ref_generation

    def cached(self, key: str, build: Callable[[], T]) -> T:
        """A value derived from the reference data (users, event types), built once per
        generation of it."""
        self._fresh_fragments()
        if key not in self._derived:
            self._derived[key] = build()
        return self._derived[key]

    def user_dict(self, user_id: int) -> dict[str, Any]:
        """The UserDTO of a host, cached (callers must not mutate it)."""
        self._fresh_fragments()
        found = self._user_dict.get(user_id)
        if found is None:
            found = self._user_dict[user_id] = self.user(self.store.ref.hosts[user_id - 1])
        return found

    def user_json(self, user_id: int) -> str:
        self._fresh_fragments()
        text = self._user_json.get(user_id)
        if text is None:
            text = self._user_json[user_id] = dumps(self.user(self.store.ref.hosts[user_id - 1]))
        return text

    def event_type_json(self, event_type_id: int) -> str:
        self._fresh_fragments()
        text = self._event_type_json.get(event_type_id)
        if text is None:
            et = self.store.event_type_by_id(event_type_id)
            text = self._event_type_json[event_type_id] = dumps(self.event_type(et) if et else None)
        return text

    def event_users(self, event_type_id: int, user_id: int) -> tuple[int, ...]:
        """The `users` of an event: every host of a collective event type, else its own host."""
        et = self.store.event_type_by_id(event_type_id)
        return tuple(et.user_ids) if et is not None and et.kind == "collective" else (user_id,)

    def users_array_json(self, user_ids: tuple[int, ...]) -> str:
        """The JSON array of these hosts' UserDTOs, cached."""
        self._fresh_fragments()
        text = self._users_json.get(user_ids)
        if text is None:
            text = "[" + ",".join(self.user_json(uid) for uid in user_ids) + "]"
            self._users_json[user_ids] = text
        return text

    # --- events ------------------------------------------------------------------------------

    def event_json(self, event_id: int) -> str:
        """The EventDTO of one event as JSON text (a deleted one only under a soft-delete
        reading: its state "deleted")."""
        store = self.store
        cols = store.cols
        row = event_id - 1
        overlay = store.overlays.get(event_id) or NO_OVERLAY
        from_api = bool(cols.raw("created_by_api")[row])
        user_id = int(cols.raw("user_id")[row])
        et_id = int(cols.raw("event_type_id")[row])
        state: str = EVENT_STATES[int(cols.raw("state")[row])]
        if cols.raw("deleted")[row]:
            state = "deleted"  # served only under a soft-delete reading
        created = int(cols.raw("created")[row])
        scheduled = int(cols.raw("scheduled")[row])
        end = int(cols.raw("end")[row])
        canceled = int(cols.raw("canceled")[row])
        reminders = int(cols.raw("reminders")[row])
        location_type = LOCATION_TYPES[int(cols.raw("location_type")[row])]
        location, online_id = self._location(event_id, location_type, et_id, overlay)
        follow_up = FOLLOW_UP_MINUTES if state == "active" and end < store.anchor_s else None

        users = self.event_users(et_id, user_id)
        body = {
            "invitee": self._invitee(event_id, created, user_id, overlay, from_api),
            "cancellation": self._cancellation(event_id, overlay) if state == "canceled" else None,
            "participants": self._participants(event_id, created, overlay, from_api),
            "answers": self._answers(event_id, overlay, from_api),
            "rescheduling": self.reschedulings(event_id, created, overlay, from_api),
            "payment": self._payment(event_id),
            "createdAt": iso(created),
            "updatedAt": iso(int(cols.raw("updated_us")[row]) // 1_000_000),
            "scheduledAt": iso(scheduled),
            "endDate": iso(end),
            "canceledAt": iso(canceled),
            "state": state,
            "notes": self.notes(event_id, overlay, from_api),
            "details": None,
            "location": location,
            "locationType": location_type,
            "onlineEventId": online_id,
            "sentEmailReminder": reminders,
            "lastSentInviteeEmailReminder": REMINDER_MINUTES if reminders else None,
            "lastSentInviteeEmailFollowUp": follow_up,
            "duration": int(cols.raw("duration")[row]),
        }
        return (
            f'{{"id":{event_id},"uuid":"{event_uuid(store.seed, event_id)}",'
            f'"user":{self.user_json(user_id)},"eventType":{self.event_type_json(et_id)},'
            f"{dumps(body)[1:-1]},"
            f'"users":{self.users_array_json(users)},'
            f'"relatedEventIds":{dumps(overlay.related_ids)}}}'
        )

    def invitee_name_email(self, event_id: int) -> tuple[str, str]:
        """Seeded invitee full name and e-mail, from the name columns."""
        cols = self.store.cols
        row = event_id - 1
        first = pools.FIRST_NAMES[int(cols.raw("first_name")[row])]
        last = pools.LAST_NAMES[int(cols.raw("last_name")[row])]
        number = int(cols.raw("email_number")[row])
        domain = pools.EMAIL_DOMAINS[int(cols.raw("email_domain")[row])]
        email = f"{first[1]}.{last[1]}{number or ''}@{domain}"
        return f"{first[0]} {last[0]}", email

    def _invitee(
        self, event_id: int, created: int, user_id: int, overlay: EventOverlay, from_api: bool
    ) -> dict[str, Any]:
        if from_api:
            return dict(overlay.invitee or {})
        rng = detail_rng(self.store.seed, event_id, SALT_INVITEE)
        name, email = self.invitee_name_email(event_id)
        host_tz = self.store.ref.hosts[user_id - 1].timezone
        policy = policy_at(self.store.ref.policies["organization"], created)
        invitee = {
            "id": event_id,
            "email": email,
            "fullName": name,
            "timezone": host_tz if rng.random() < 0.6 else rng.choice(pools.PLACES)[0],
            "phoneNumber": f"+{rng.randint(1, 99)} {rng.randint(10**8, 10**9 - 1)}"
            if rng.random() < 0.5
            else None,
            "locale": rng.choice(pools.INVITEE_LOCALES),
            "cancellationPolicy": f"{policy.label} (v{policy.version})",
            "uuid": seeded_uuid(rng),
        }
        if overlay.invitee:
            invitee.update(overlay.invitee)
        return invitee

    def _cancellation(self, event_id: int, overlay: EventOverlay) -> dict[str, Any]:
        if overlay.cancellation is not None:
            return dict(overlay.cancellation)
        rng = detail_rng(self.store.seed, event_id, SALT_CANCEL)
        return {
            "id": event_id,
            "canceler": "invitee" if rng.random() < 0.7 else "host",
            "reason": rng.choice(pools.CANCEL_REASONS) if rng.random() < 0.8 else None,
        }

    def _participants(
        self, event_id: int, created: int, overlay: EventOverlay, from_api: bool
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if not from_api:
            count = int(self.store.cols.raw("n_participants")[event_id - 1])
            rng = detail_rng(self.store.seed, event_id, SALT_PARTICIPANTS)
            latest = max(min(created + 3 * 86_400, self.store.anchor_s), created)
            for k in range(count):
                first = rng.choice(pools.FIRST_NAMES)[1]
                last = rng.choice(pools.LAST_NAMES)[1]
                out.append(
                    {
                        "id": event_id * SUB_IDS_PER_EVENT + PARTICIPANT_SLOT + k,
                        "email": f"{first}.{last}@{rng.choice(pools.EMAIL_DOMAINS)}",
                        "createdAt": iso(rng.randint(created, latest)),
                    }
                )
        out.extend(
            {"id": p.id, "email": p.email, "createdAt": iso(p.created_at)}
            for p in overlay.participants
        )
        return out

    def _answers(
        self, event_id: int, overlay: EventOverlay, from_api: bool
    ) -> list[dict[str, Any]]:
        if from_api:
            answers = [dict(a) for a in overlay.created_answers or []]
        else:
            answers = self.seeded_answers(event_id)
        for answer in answers:
            if answer["id"] in overlay.answers:
                answer["value"] = answer["plainValue"] = overlay.answers[answer["id"]]
        return answers

    def seeded_answers(self, event_id: int) -> list[dict[str, Any]]:
        """Answers of a seeded event to its booking-time event type's questions."""
        et = self.store.event_type_by_id(
            int(self.store.cols.raw("seed_event_type_id")[event_id - 1])
        )
        if et is None:
            return []
        rng = detail_rng(self.store.seed, event_id, SALT_ANSWERS)
        answers = []
        for q in et.questions:
            if not q.required and rng.random() >= 0.7:
                continue
            answers.append(
                {
                    "id": event_id * SUB_IDS_PER_EVENT + ANSWER_SLOT + q.position,
                    "questionLabel": q.label,
                    "questionType": q.type,
                    "value": (value := answer_value(rng, q.type, q.options)),
                    "plainValue": value,
                    "questionUuid": q.uuid,
                }
            )
        return answers

    def reschedulings(
        self, event_id: int, created: int, overlay: EventOverlay, from_api: bool
    ) -> list[dict[str, Any]]:
        """The event's RescheduleDTOs: the seeded ones, then those written through the API."""
        out: list[dict[str, Any]] = []
        if not from_api:
            cols = self.store.cols
            count = int(cols.raw("n_reschedules")[event_id - 1])
            seed_user = int(cols.raw("seed_user_id")[event_id - 1])
            rng = detail_rng(self.store.seed, event_id, SALT_RESCHEDULE)
            previous = created
            for k in range(count):
                previous += rng.randint(2, 14 * 48) * 1800
                previous -= previous % 1800
                out.append(
                    {
                        "id": event_id * SUB_IDS_PER_EVENT + RESCHEDULE_SLOT + k,
                        "rescheduler": "invitee" if rng.random() < 0.75 else "host",
                        "reason": rng.choice(pools.RESCHEDULE_REASONS)
                        if rng.random() < 0.7
                        else None,
                        "previouslyScheduledAt": iso(previous),
                        "previousUser": self.user_dict(seed_user),
                    }
                )
        out.extend(
            {
                "id": r.id,
                "rescheduler": r.rescheduler,
                "reason": r.reason,
                "previouslyScheduledAt": iso(r.previously_scheduled_at),
                "previousUser": self.user_dict(r.previous_user_id),
            }
            for r in overlay.reschedulings
        )
        return out

    def _payment(self, event_id: int) -> dict[str, Any] | None:
        cols = self.store.cols
        status = int(cols.raw("pay_status")[event_id - 1])
        if status < 0:
            return None
        et = self.store.event_type_by_id(int(cols.raw("seed_event_type_id")[event_id - 1]))
        rng = detail_rng(self.store.seed, event_id, SALT_PAYMENT)
        provider = "stripe" if rng.random() < 0.8 else "paypal"
        return {
            "provider": provider,
            "amount": et.amount if et else None,
            "currency": et.currency if et else None,
            "status": PAYMENT_STATUSES[status],
            "system": provider,
            "referenceId": 100_000 + event_id,
            "overwritePersonal": False,
        }

    def notes(
        self, event_id: int, overlay: EventOverlay | None = None, from_api: bool | None = None
    ) -> str | None:
        """The event's notes: the last API write, else the seeded note (~15 % have one)."""
        overlay = overlay or self.store.overlays.get(event_id) or NO_OVERLAY
        if from_api is None:
            from_api = bool(self.store.cols.raw("created_by_api")[event_id - 1])
        if overlay.notes_set or from_api:
            return overlay.notes
        rng = detail_rng(self.store.seed, event_id, SALT_NOTES)
        return rng.choice(pools.NOTES) if rng.random() < 0.15 else None

    def location_of(self, event_id: int) -> tuple[str | None, str | None]:
        """(location, onlineEventId) of an event as served."""
        cols = self.store.cols
        row = event_id - 1
        overlay = self.store.overlays.get(event_id) or NO_OVERLAY
        location_type = LOCATION_TYPES[int(cols.raw("location_type")[row])]
        return self._location(event_id, location_type, int(cols.raw("event_type_id")[row]), overlay)

    def _location(
        self, event_id: int, location_type: str, et_id: int, overlay: EventOverlay
    ) -> tuple[str | None, str | None]:
        if overlay.location is not None:
            return overlay.location, None
        rng = detail_rng(self.store.seed, event_id, SALT_LOCATION)
        if location_type == "zoom":
            meeting = str(rng.randint(10**9, 10**10 - 1))
            return f"https://zoom.us/j/{meeting}", meeting
        if location_type == "google_meet":
            code = "-".join(
                "".join(rng.choice("abcdefghijkmnopqrstuvwxyz") for _ in range(n))
                for n in (3, 4, 3)
            )
            return f"https://meet.google.com/{code}", code
        if location_type == "microsoft_teams":
            meeting = seeded_uuid(rng)
            return f"https://teams.microsoft.com/l/meetup-join/{meeting}", meeting
        if location_type == "whereby":
            return (
                f"https://whereby.com/{self.store.ref.organization.slug}-{rng.randint(1, 99)}",
                None,
            )
        if location_type == "kopano_meet":
            return f"https://meet.kopano.io/r/{rng.getrandbits(40):010x}", None
        et = self.store.event_type_by_id(et_id)
        return (et.location if et and et.location else "Phone call"), None


def answer_value(rng: Any, qtype: str, options: list[str]) -> str:
    """A plausible answer to a question of a given type."""
    if qtype == "text":
        return rng.choice(pools.COMPANIES)
    if qtype == "textarea":
        return rng.choice(pools.DISCUSSION_TOPICS)
    if qtype in ("select", "radio") and options:
        return rng.choice(options)
    if qtype == "checkbox" and options:
        return ", ".join(sorted(rng.sample(options, rng.randint(1, len(options)))))
    if qtype == "phone":
        return f"+{rng.randint(1, 99)} {rng.randint(10**8, 10**9 - 1)}"
    return "yes"


NO_OVERLAY = EventOverlay()
"""The overlay of an event nothing was written to (read only)."""
