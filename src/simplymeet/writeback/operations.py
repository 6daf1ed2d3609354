"""Every mutating endpoint of the reference as a write-back operation, in one table.

Commands are named after the API path: `simplymeet <group> <command>` where the group is the
path's resource (`event`, `event-type-tag`, `poll`, ...) and the command its action
(`cancel-list` for `PUT /event/cancel-list`). Each entry says which inputs the endpoint takes,
what must exist in the warehouse, when an item is already done, how to check on the server
whether a write whose answer was lost took effect, and what to refresh afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from simplymeet.contract.dates import (
    format_request_datetime,
    parse_api_datetime,
    parse_request_datetime,
)
from simplymeet.contract.endpoints import ENDPOINTS
from simplymeet.contract.refs import ref_id
from simplymeet.contract.vocab import normalize_event_state, served_live
from simplymeet.writeback.baseline import BOOKINGS, asked_starts, same_id
from simplymeet.writeback.spec import Field, FieldError, OperationSpec, Reference, Verification
from simplymeet.writeback.warehouse import same_instant

V = Mapping[str, Any]

# --- shared fields --------------------------------------------------------------------------

EVENT_ID = Field(
    "id", "path:id", "int", "Event id (--ids, or the `id` column of --ids-file/--sql).", True
)
EVENT_IDS = Field(
    "id", "ids", "int", "Event id (--ids, or the `id` column of --ids-file/--sql).", True
)
EVENT_REF = Reference("id", "events")
REASON = Field(
    "reason",
    "reason",
    help="Reason of the cancellation (sent to the invitee; empty when not given).",
    blank="",
)


def _state(event: Any) -> str | None:
    if not isinstance(event, Mapping):
        return None
    return normalize_event_state(event.get("state"), canceled_at=event.get("canceledAt"))


def _same_time(a: Any, b: Any) -> bool:
    try:
        left, right = parse_api_datetime(a), parse_api_datetime(b)
    except ValueError:
        return False
    return left is not None and left == right


# --- skip rules (warehouse state -> reason the item needs no request) -----------------------


def _skip_canceled(values: V, row: Any) -> str | None:
    return "already canceled" if row.get("normalized_state") == "canceled" else None


def _skip_no_show(values: V, row: Any) -> str | None:
    if row.get("normalized_state") == "no_show":
        return "already a no-show"
    if row.get("normalized_state") == "canceled":
        return "canceled: a canceled event cannot be marked as a no-show"
    return None


def _skip_reschedule(values: V, row: Any) -> str | None:
    if row.get("normalized_state") == "canceled":
        return "canceled: a canceled event cannot be rescheduled"
    same = same_instant(row.get("scheduled_at"), values.get("start")) and same_instant(
        row.get("end_date"), values.get("end")
    )
    for name in ("event_type_id", "user_id"):
        if values.get(name) is not None and row.get(name) != values.get(name):
            same = False
    return "already scheduled at that time" if same else None


def _fill_reschedule(rows: list[dict[str, Any]], view: Any) -> list[dict[str, Any] | FieldError]:
    """Complete a reschedule as the reference asks (start, end, eventTypeId; userId optional).

    A row that gives only the start keeps its event type and host, and its length: `end` is
    the start plus the event's current duration. A row that moves it to another event type
    gets that type's duration, and the host the server picks for it unless `user_id` says.
    """
    events = view.event_rows(r.get("id") for r in rows if isinstance(r.get("id"), int))
    new_types = {r.get("event_type_id") for r in rows} - {None}
    durations = view.rows_by("event_types", "id", new_types, ("duration",))
    out: list[dict[str, Any] | FieldError] = []
    for values in rows:
        event = events.get(values.get("id"))
        if event is None:
            message = (
                f"{values.get('id')} is not in the warehouse ({view.dataset}.events.id); "
                "sync first if it is new"
            )
            out.append(FieldError("id", message))
            continue
        filled = dict(values)
        if filled.get("event_type_id") in (None, event.get("event_type_id")):
            filled["event_type_id"] = event.get("event_type_id")
            if filled.get("user_id") is None and event.get("user_id") is not None:
                filled["user_id"] = int(event["user_id"])
            minutes = _minutes(event)
        elif filled["event_type_id"] not in durations:
            message = (
                f"{filled['event_type_id']} is not in the warehouse ({view.dataset}.event_types"
                ".id); sync first if it is new"
            )
            out.append(FieldError("event_type_id", message))
            continue
        else:
            minutes = durations[filled["event_type_id"]].get("duration")
        if filled.get("end") is None and minutes and isinstance(filled.get("start"), str):
            try:
                start = parse_request_datetime(filled["start"])
            except ValueError:
                pass  # the DTO names the bad start
            else:
                end = start + dt.timedelta(minutes=int(minutes))
                filled["end"] = format_request_datetime(end)
        out.append(filled)
    return out


def _minutes(event: Mapping[str, Any]) -> int | None:
    """An event's length in minutes, from its start and end (else its duration column)."""
    start, end = event.get("scheduled_at"), event.get("end_date")
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime) and end > start:
        return int((end - start).total_seconds() // 60)
    duration = event.get("duration")
    return int(duration) if duration else None


def _skip_notes(values: V, row: Any) -> str | None:
    return "notes already set to this text" if row.get("notes") == values.get("notes") else None


def _skip_linked(values: V, linked: Any) -> str | None:
    return "the tag is already on this event type" if linked else None


def _skip_unlinked(values: V, linked: Any) -> str | None:
    return None if linked else "the tag is not on this event type"


def _skip_same_user_tag(values: V, tag: Any) -> str | None:
    wanted = {k: values.get(k) for k in ("name", "color", "position") if values.get(k) is not None}
    if all(tag.get(k) == v for k, v in wanted.items()):
        return "the tag already has these values"
    return None


def _skip_existing_tag_name(values: V, existing: Any) -> str | None:
    return f"a tag named {values.get('name')!r} exists (id {existing['id']})" if existing else None


def _check_vote(values: V, poll: Any) -> str | None:
    if poll is None:
        return f"no poll with uuid {values.get('uuid')!r} in the warehouse"
    wanted = values.get("availability") or []
    foreign = [i for i in wanted if i not in poll["slots"]]
    if foreign:
        return f"availability id(s) {', '.join(map(str, foreign))} are not slots of this poll"
    voted = _voted_in_warehouse(values, poll)
    if voted and len(set(voted)) < len(set(wanted)):
        return repeated_votes(voted)
    return None


def _voted_in_warehouse(values: V, poll: Any) -> list[Any]:
    """The slots a vote names that its voter voted for, as the warehouse has the poll."""
    email = str(values.get("email") or "").lower()
    return [i for i in values.get("availability") or [] if email in poll["slots"].get(i, set())]


def repeated_votes(slots: Any) -> str:
    """Why a vote naming slots its voter already voted for, among others, is not sent."""
    listed = ", ".join(map(str, sorted(slots)))
    return (
        f"this e-mail already voted for slot(s) {listed}: sent, they would be counted twice; "
        "leave them out"
    )


def _skip_voted(values: V, poll: Any) -> str | None:
    wanted = values.get("availability") or []
    if wanted and len(_voted_in_warehouse(values, poll)) == len(wanted):
        return "this e-mail already voted for these slots"
    return None


_POLICY_FIELDS = ("enabled", "period", "label", "text", "overwrite_personal")
"""Inputs of a policy update; the warehouse's columns have the same names."""


def _check_policy(values: V, current: Any) -> str | None:
    if all(values.get(k) is None for k in _POLICY_FIELDS):
        return "nothing to update: give at least one of --enabled, --period, --label, --text"
    return None


# --- whole bodies (what the user did not give, from the warehouse) -----------------------------
#
# A PUT that leaves out a field its request DTO lists is read two ways: the field keeps its
# value, or it is nulled (the body replaces the resource; a strict server refuses the body).
# Each PUT below therefore carries every listed field, the user's value where given and the
# current one from the warehouse where not; an item whose current value is unknown is refused
# rather than sent partial.


def _unknown(name: str, why: str) -> FieldError:
    option = "--" + name.replace("_", "-")
    return FieldError(name, f"its current value is unknown ({why}): give {option}, or sync first")


def _whole_policy(scope: str) -> Any:
    """A policy update's body: the options given, the policy in force for the others."""

    def complete(rows: list[dict[str, Any]], view: Any) -> list[dict[str, Any] | FieldError]:
        current = view.latest_policy(scope)
        out: list[dict[str, Any] | FieldError] = []
        for values in rows:
            missing = [k for k in _POLICY_FIELDS if values.get(k) is None]
            if len(missing) == len(_POLICY_FIELDS):
                out.append(dict(values))  # nothing asked: `_check_policy` says so
            elif current is None and missing:
                why = f"no {scope} policy in {view.dataset}.cancellation_policies"
                out.append(_unknown(missing[0], why))
            else:
                out.append({**values, **{k: current[k] for k in missing}})
        return out

    return complete


_INVITEE_KEPT = (
    ("invitee_email", "invitee.email"),
    ("invitee_timezone", "invitee.timezone"),
    ("invitee_locale", "invitee.locale"),
    ("invitee_cancellation_policy", "invitee.cancellationPolicy"),
)
"""The invitee's fields an edit does not change, sent as they are: the edit's `invitee` may be
read as InviteeRequestDTO (`contract.dtos.EditEventInviteeRequestDTO`)."""


def _whole_edit(rows: list[dict[str, Any]], view: Any) -> list[dict[str, Any] | FieldError]:
    """An edit's body: the invitee's name and phone and the answers, the user's where given,
    the event's own (from the warehouse) for the rest; the invitee's other fields as they are.

    The answers are an array a server may read as "the event's answers": without the ones the
    user did not change it could drop them. Sending their current values back changes nothing
    on a server that updates answers by id (EditEventAnswerRequestDTO names each by id; ours
    does), and keeps them on one that replaces the list.
    """
    ids = [v["id"] for v in rows if isinstance(v.get("id"), int)]
    unchanged = tuple(name for name, _ in _INVITEE_KEPT)
    events = view.rows_by(
        "events", "id", ids, ("invitee_full_name", "invitee_phone_number", *unchanged)
    )
    answers = view.event_answers(ids)
    out: list[dict[str, Any] | FieldError] = []
    for values in rows:
        event = events.get(values.get("id"))
        if event is None:
            missing = next(
                (k for k in ("invitee_full_name", "invitee_phone_number") if not values.get(k)),
                "answers",
            )
            out.append(
                _unknown(missing, f"event {values.get('id')} is not in {view.dataset}.events")
            )
            continue
        whole = dict(values)
        for name in ("invitee_full_name", "invitee_phone_number"):
            if whole.get(name) is None:
                whole[name] = event[name]
        whole.update({name: event[name] for name in unchanged})
        given = values.get("answers")
        held = {a["id"] for a in answers.get(values["id"], [])}
        unheld = [
            a.get("id")
            for a in (given if isinstance(given, list) else [])
            if isinstance(a, Mapping) and a.get("id") is not None and a.get("id") not in held
        ]
        if unheld:
            why = (
                f"answer {unheld[0]} is not one of event {values['id']}'s answers in "
                f"{view.dataset}.events__answers; sync first if it is new"
            )
            out.append(FieldError("answers", why))
            continue
        if given is None or isinstance(given, list):  # anything else: the DTO refuses it
            listed = {a.get("id") for a in given or [] if isinstance(a, Mapping)}
            kept = [a for a in answers.get(values["id"], []) if a["id"] not in listed]
            whole["answers"] = [*(given or []), *kept]
        out.append(whole)
    return out


_USER_TAG_FIELDS = ("name", "color", "position")
"""UserEventTypeTagRequestDTO's fields, none of them called optional: an update sends each."""

_USER_TAG_REFRESH = ("user_event_type_tags", "event_type_tags")
"""A user tag renamed or deleted: the event types' tags too, since a server may serve the
user's tags as an event type's (only user tags can be made through the API; docs/api-notes.md)."""


def _whole_user_tag(rows: list[dict[str, Any]], view: Any) -> list[dict[str, Any] | FieldError]:
    """A tag update's body: the name, color and position given, or the tag's own.

    A tag served without its color or position (a server that leaves out what is not set)
    has none: null is sent, as for a value known to be empty."""
    tags = view.user_tags()
    out: list[dict[str, Any] | FieldError] = []
    for values in rows:
        given = [k for k in _USER_TAG_FIELDS if values.get(k) is not None]
        if not given:
            out.append(FieldError("name", "nothing to change: give --name, --color or --position"))
            continue
        missing = [k for k in _USER_TAG_FIELDS if values.get(k) is None]
        tag = tags.get(values.get("id"))
        if tag is not None and "name" in missing and not tag.get("name"):
            out.append(_unknown("name", f"tag {values.get('id')} has no name in the warehouse"))
            continue
        if tag is None and missing:
            why = f"tag {values.get('id')} is not in {view.dataset}.user_event_type_tags"
            out.append(_unknown(missing[0], why))
        else:
            out.append({**values, **{k: (tag or {}).get(k) for k in missing}})
    return out


def _skip_same_policy(values: V, current: Any) -> str | None:
    if current is None:
        return None
    for name in _POLICY_FIELDS:
        value = values.get(name)
        if value is not None and current.get(name) != value:
            return None
    return f"the policy in force (version {current.get('version')}) already has these values"


def _check_edit(values: V, row: Any) -> str | None:
    if not any(values.get(k) for k in ("invitee_full_name", "invitee_phone_number", "answers")):
        return "nothing to edit: give invitee_full_name, invitee_phone_number or answers"
    return None


def _check_reschedule(values: V, state: Any) -> str | None:
    try:
        start, end = (parse_request_datetime(values.get(name) or "") for name in ("start", "end"))
    except ValueError:
        return None  # the request's DTO names a value it cannot read
    if end <= start:
        return f"end {values['end']} is not after start {values['start']}"
    return None


def _check_create(values: V, choices: Any) -> str | None:
    if not (values.get("scheduled_at") or values.get("multiple_scheduled_at")):
        return "scheduled_at or multiple_scheduled_at is required"
    start = values.get("scheduled_at")
    if start is not None and start in (values.get("multiple_scheduled_at") or ()):
        # A server reading the two as one list of starts books it twice (the reference
        # leaves open whether multipleScheduledAt holds scheduledAt): two e-mails.
        return f"scheduled_at {start} is also in multiple_scheduled_at: give each start once"
    if not isinstance(choices, Mapping):
        return None  # an event type the warehouse lacks is the reference check's to refuse
    type_id = values.get("event_type")
    duration = values.get("duration_id")
    if duration is not None and duration not in choices["durations"]:
        offered = ", ".join(map(str, sorted(choices["durations"]))) or "none"
        return f"duration {duration} is not one of event type {type_id}'s (offered: {offered})"
    answers = values.get("answers")
    asked = [a.get("question") for a in answers if isinstance(a, Mapping)] if answers else []
    foreign = [str(q) for q in asked if q is not None and str(q) not in choices["questions"]]
    # A type with no question landed may have some all the same: a server may serve them only
    # on the type's own read (the list's items are unsaid), and then the server judges.
    if foreign and choices["questions"]:
        return f"question(s) {', '.join(foreign)} are not event type {type_id}'s questions"
    return None


# --- verification predicates (server state -> did the write take effect) ---------------------


def _canceled(values: V, event: Any) -> bool:
    return _state(event) == "canceled"


def _no_show(values: V, event: Any) -> bool:
    return _state(event) == "no_show"


def _gone(values: V, found: Any) -> bool:
    return found is None


def _notes_set(values: V, event: Any) -> bool:
    return isinstance(event, Mapping) and event.get("notes") == values.get("notes")


def _rescheduled(values: V, event: Any) -> bool | None:
    if not isinstance(event, Mapping):
        return False
    if not _same_time(event.get("scheduledAt"), str(values.get("start"))):
        return False
    wanted_type = values.get("event_type_id")
    if wanted_type is not None and not same_id(ref_id(event.get("eventType")), wanted_type):
        return False
    # At the new start, of the right type, yet another end or host: a server may derive
    # those itself. That is no proof the move did not happen, and sending it again would
    # e-mail the invitee twice: the item is left to a person (unknown).
    if values.get("end") and not _same_time(event.get("endDate"), str(values["end"])):
        return None
    wanted_user = values.get("user_id")
    if wanted_user is not None and not same_id(ref_id(event.get("user")), wanted_user):
        return None
    return True


def _edited(values: V, event: Any) -> bool:
    if not isinstance(event, Mapping):
        return False
    invitee = event.get("invitee") or {}
    for name, wire in (("invitee_full_name", "fullName"), ("invitee_phone_number", "phoneNumber")):
        if values.get(name) not in (None, "") and invitee.get(wire) != values.get(name):
            return False
    answers = {a.get("id"): a.get("value") for a in event.get("answers") or []}
    wanted = values.get("answers")
    if isinstance(wanted, list):
        for answer in wanted:
            if isinstance(answer, Mapping) and answers.get(answer.get("id")) != answer.get("value"):
                return False
    return True


def _tag_linked(values: V, tags: Any) -> bool:
    return any(same_id(t.get("id"), values.get("tag_id")) for t in tags or [])


def _tag_unlinked(values: V, tags: Any) -> bool:
    return not _tag_linked(values, tags)


def _user_tag_updated(values: V, tags: Any) -> bool:
    tag = next((t for t in tags or [] if same_id(t.get("id"), values.get("id"))), None)
    return tag is not None and _skip_same_user_tag(values, tag) is not None


def _user_tag_deleted(values: V, tags: Any) -> bool:
    return not any(same_id(t.get("id"), values.get("id")) for t in tags or [])


def _user_tag_created(values: V, tags: Any) -> bool:
    # Every value asked, not the name alone: a colleague's tag of that name (another color)
    # made since the last sync is no proof of this one.
    def text(value: Any) -> str:
        return str(value or "").casefold()

    return any(
        text(t.get("name")) == text(values.get("name"))
        and (values.get("color") is None or text(t.get("color")) == text(values.get("color")))
        and (values.get("position") is None or same_id(t.get("position"), values.get("position")))
        for t in tags or []
    )


AVAILABILITY_TYPES = ("weekday", "date")
"""AvailabilityRuleRequestDTO `availabilityType`: "Save only for weekday or date availability
type. If not set, it will be saved for both types"."""


def _check_availability_type(values: V, _state: Any) -> str | None:
    # Another word may read as "not set" to a server: both kinds of rules then replaced.
    kind = values.get("availability_type")
    if kind is None or kind in AVAILABILITY_TYPES:
        return None
    return f"availability type {kind!r} is none of {', '.join(AVAILABILITY_TYPES)}"


def _poll_created(values: V, polls: Any) -> bool:
    # The name, type, duration and slots asked: a colleague's poll of that name is no proof
    # of this one. The slots' instants up to one shift of the clock: the server may serve
    # them in another zone than they were asked in (`_same_slots`).
    slots = values.get("availability")
    for poll in polls or []:
        # PollDTO types `eventType` loosely: an object with its id, or the id.
        type_id = ref_id(poll.get("eventType"))
        if (
            poll.get("name") == values.get("name")
            and same_id(type_id, values.get("event_type_id"))
            and (
                values.get("duration") is None or same_id(poll.get("duration"), values["duration"])
            )
            and (not slots or _same_slots(slots, poll.get("availability") or []))
        ):
            return True
    return False


_MAX_ZONE_SHIFT = dt.timedelta(hours=14)
"""The farthest two clocks' zones are apart (UTC-12 to UTC+14 is 26 h; each side of UTC)."""


def _same_slots(asked: Any, served: Any) -> bool:
    """Whether a poll's served slots (PollAvailabilityDTO `date`s) are the starts asked,
    every one moved by the same whole quarter hour of at most `_MAX_ZONE_SHIFT`: a server
    reading the `Y-m-d H:i:s` asked in its own zone serves each of them shifted alike; a
    colleague's poll on other days is not this one. A slot that cannot be read proves nothing
    either way: the count alone decides, as before."""
    if len(served) != len(asked):
        return False
    try:
        asked_at = [parse_api_datetime(str(slot)) for slot in asked]
        served_at = [
            parse_api_datetime(str(slot.get("date") if isinstance(slot, Mapping) else slot))
            for slot in served
        ]
    except (TypeError, ValueError):
        return True
    wanted = sorted(at for at in asked_at if at is not None)
    found = sorted(at for at in served_at if at is not None)
    if len(wanted) != len(asked) or len(found) != len(served):
        return True
    shifts = {b - a for a, b in zip(wanted, found, strict=True)}
    if len(shifts) != 1:
        return False
    [shift] = shifts
    return abs(shift) <= _MAX_ZONE_SHIFT and shift % dt.timedelta(minutes=15) == dt.timedelta(0)


def _voted(values: V, polls: Any) -> bool:
    wanted, voted = voted_slots(values, polls)
    return bool(wanted) and wanted <= voted


def voted_slots(values: V, polls: Any) -> tuple[set[Any], set[Any]]:
    """(the slots a vote names, those of its poll its voter voted for) as the served polls
    have them; nothing voted when its poll is not among them."""
    from simplymeet.sync.values import as_id  # pyarrow: not at `--help`

    # Slot ids as ids: a server may serve them as digit strings.
    wanted = {as_id(slot) for slot in values.get("availability") or []}
    poll = next((p for p in polls or [] if p.get("uuid") == values.get("uuid")), None)
    if poll is None:
        return wanted, set()
    email = str(values.get("email") or "").lower()
    voted = {
        as_id(slot.get("id"))
        for slot in poll.get("availability") or []
        if any(str(r.get("email")).lower() == email for r in slot.get("results") or [])
    }
    return wanted, voted


def _event_created(values: V, events: Any) -> bool:
    """Whether every start asked is booked, each by an event of its own: a booking of three
    starts of which the server made one is not done."""
    # A canceled booking is no proof: another one of the invitee's, canceled since the sync.
    left = [
        event
        for event in events or []
        if same_id(ref_id(event.get("eventType")), values.get("event_type")) and served_live(event)
    ]
    for start in asked_starts(values):
        match = next((e for e in left if _same_time(e.get("scheduledAt"), start)), None)
        if match is None:
            return False
        left.remove(match)
    return True


def _policy_updated(values: V, policy: Any) -> bool:
    if not isinstance(policy, Mapping):
        return False
    wire = {"overwrite_personal": ("overwritePersonal", "overwrite_personal")}
    for name in _POLICY_FIELDS:
        value = values.get(name)
        if value is None:
            continue
        keys = wire.get(name, (name,))
        current = next((policy[k] for k in keys if k in policy), None)
        if current != value:
            return False
    return True


# --- what to keep from an answer ---------------------------------------------------------------


def _created_events(body: Any) -> dict[str, Any] | None:
    items = body if isinstance(body, list) else [body] if isinstance(body, Mapping) else []
    ids = [i.get("id") for i in items if isinstance(i, Mapping) and i.get("id") is not None]
    return {BOOKINGS: ids} if ids else None


def _keep(*names: str) -> Any:
    def pick(body: Any) -> dict[str, Any] | None:
        if not isinstance(body, Mapping):
            return None
        kept = {n: body.get(n) for n in names if body.get(n) is not None}
        return kept or None

    return pick


# --- the table ---------------------------------------------------------------------------------

_SPECS: tuple[OperationSpec, ...] = (
    # events ---------------------------------------------------------------------------------
    OperationSpec(
        "event_create",
        "event",
        "create",
        "Book events, one per row (CSV/JSONL/--sql columns or options).",
        "simplymeet event create --rows-file bookings.csv   "
        "# columns: event_type,scheduled_at,invitee_full_name,invitee_email",
        fields=(
            Field("event_type", "eventType", "int", "Event type id.", True),
            Field("scheduled_at", "scheduledAt", "datetime", "Start, Y-m-d H:i:s (UTC)."),
            Field(
                "multiple_scheduled_at",
                "multipleScheduledAt",
                "datetime_list",
                "Several starts, separated by ';' (books one event each).",
            ),
            Field("invitee_full_name", "invitee.fullName", help="Invitee's name.", required=True),
            Field("invitee_email", "invitee.email", help="Invitee's e-mail.", required=True),
            Field("invitee_timezone", "invitee.timezone", help="Invitee's timezone."),
            Field("invitee_locale", "invitee.locale", help="Invitee's locale."),
            Field("invitee_phone_number", "invitee.phoneNumber", help="Invitee's phone."),
            Field(
                "invitee_cancellation_policy",
                "invitee.cancellationPolicy",
                help="Cancellation policy text shown to the invitee.",
            ),
            Field("duration_id", "durationId", "int", "Duration id of a flexible event type."),
            Field(
                "answers",
                "answers",
                "json",
                'Answers as JSON: [{"question": "<uuid>", "value": "..."}] (or @file).',
            ),
            Field(
                "participants",
                "participants",
                "str_list",
                "Participants' e-mails, separated by ';' or ','.",
                wrap="email",
            ),
            Field("location_type", "locationType", help="Location type (zoom, custom, ...)."),
            Field("location", "location", help="Location text."),
        ),
        references=(
            Reference("event_type", "event_types"),
            # A flexible type's durations come with the event type list: every valid id.
            Reference("duration_id", "event_types__durations"),
        ),
        # A booking names its type's own duration and questions (`_check_create`).
        state="event_type",
        check=_check_create,
        new_times=("scheduled_at", "multiple_scheduled_at"),
        verify=Verification("events_by_invitee", _event_created, reaches_invitees=True),
        refresh=("events",),
        result=_created_events,
    ),
    OperationSpec(
        "event_edit",
        "event",
        "edit",
        "Edit the invitee's name or phone and answers of events.",
        'simplymeet event edit --ids 123 --invitee-full-name "Ada Lovelace"',
        fields=(
            EVENT_ID,
            Field("invitee_full_name", "invitee.fullName", help="New invitee name."),
            Field("invitee_phone_number", "invitee.phoneNumber", help="New invitee phone."),
            Field("answers", "answers", "json", 'Answers as JSON: [{"id": 1, "value": "..."}].'),
            *(Field(name, wire, filled=True) for name, wire in _INVITEE_KEPT),
        ),
        key="id",
        references=(EVENT_REF,),
        state="event",
        check=_check_edit,
        verify=Verification("event", _edited),
        refresh=("events",),
        complete=_whole_edit,
    ),
    OperationSpec(
        "event_cancel",
        "event",
        "cancel",
        "Cancel events one request each (per-row reasons allowed).",
        "simplymeet event cancel --ids-file cancel.csv --yes   # columns: id,reason",
        fields=(EVENT_ID, REASON),
        key="id",
        references=(EVENT_REF,),
        state="event",
        skip=_skip_canceled,
        destructive=True,
        verify=Verification("event", _canceled, reaches_invitees=True),
        refresh=("events",),
        when="future",
    ),
    OperationSpec(
        "event_cancel_list",
        "event",
        "cancel-list",
        "Cancel events in chunks of --chunk-size ids per request.",
        'simplymeet event cancel-list --sql "select id from events where user_id = 7 '
        'and scheduled_at >= \'2026-12-01\'" --reason "host away"',
        fields=(EVENT_IDS, REASON),
        key="id",
        list_wire="ids",
        item_endpoint="event_cancel",
        references=(EVENT_REF,),
        state="event",
        skip=_skip_canceled,
        destructive=True,
        verify=Verification("event", _canceled, reaches_invitees=True),
        refresh=("events",),
        when="future",
    ),
    OperationSpec(
        "event_delete",
        "event",
        "delete",
        "Delete events one request each.",
        "simplymeet event delete --ids 123,124 --yes",
        fields=(EVENT_ID,),
        key="id",
        references=(EVENT_REF,),
        state="event",
        destructive=True,
        verify=Verification("event", _gone),
        refresh=("events",),
        marks_deleted=True,
    ),
    OperationSpec(
        "event_delete_list",
        "event",
        "delete-list",
        "Delete events in chunks of --chunk-size ids per request.",
        "simplymeet event delete-list --ids-file test-bookings.txt --yes",
        fields=(EVENT_IDS,),
        key="id",
        list_wire="ids",
        item_endpoint="event_delete",
        references=(EVENT_REF,),
        state="event",
        destructive=True,
        verify=Verification("event", _gone),
        refresh=("events",),
        marks_deleted=True,
    ),
    OperationSpec(
        "event_notes",
        "event",
        "notes",
        "Replace events' notes (one text for all, or a notes column per row).",
        "simplymeet event notes --ids-file notes.csv   # columns: id,notes",
        fields=(EVENT_ID, Field("notes", "notes", help="The new notes.", required=True)),
        key="id",
        references=(EVENT_REF,),
        state="event",
        skip=_skip_notes,
        verify=Verification("event", _notes_set),
        refresh=("events",),
    ),
    OperationSpec(
        "event_invite_participants",
        "event",
        "invite-participants",
        "Invite participants by e-mail to events (a POST: never sent twice blindly).",
        'simplymeet event invite-participants --ids 123 --emails "a@x.org;b@y.org"',
        fields=(
            EVENT_ID,
            Field("emails", "emails", "str_list", "E-mails, separated by ';' or ','.", True),
            Field("message", "message", help="Message sent with the invitation."),
        ),
        key="id",
        references=(EVENT_REF,),
        state="event",
        # Not checkable: an address already among the participants looks invited whether or
        # not this invitation went out, so a lost answer leaves the item unknown.
        refresh=("events",),
        when="future",
        notifies=True,
    ),
    OperationSpec(
        "event_no_show",
        "event",
        "no-show",
        "Mark events as no-shows, one request each.",
        "simplymeet event no-show --ids 123,124 --yes",
        fields=(EVENT_ID,),
        key="id",
        references=(EVENT_REF,),
        state="event",
        skip=_skip_no_show,
        destructive=True,
        verify=Verification("event", _no_show, reaches_invitees=True),
        refresh=("events",),
        when="past",
    ),
    OperationSpec(
        "event_no_show_list",
        "event",
        "no-show-list",
        "Mark events as no-shows in chunks of --chunk-size ids per request.",
        "simplymeet event no-show-list --ids-file no-shows.txt --yes",
        fields=(EVENT_IDS,),
        key="id",
        list_wire="ids",
        item_endpoint="event_no_show",
        references=(EVENT_REF,),
        state="event",
        skip=_skip_no_show,
        destructive=True,
        verify=Verification("event", _no_show, reaches_invitees=True),
        refresh=("events",),
        when="past",
    ),
    OperationSpec(
        "event_reschedule",
        "event",
        "reschedule",
        "Move events to a new start (one for all, or a start column per row).",
        "simplymeet event reschedule --ids-file moves.csv   # columns: id,start",
        fields=(
            EVENT_ID,
            Field("start", "start", "datetime", "New start, Y-m-d H:i:s (UTC).", True),
            Field(
                "end",
                "end",
                "datetime",
                "New end, Y-m-d H:i:s (UTC); default: the start plus the event's length.",
            ),
            Field(
                "event_type_id",
                "eventTypeId",
                "int",
                "Move to this event type (default: the event's own, from the warehouse).",
            ),
            Field(
                "user_id",
                "userId",
                "int",
                "Move to this host (default: the event's own when its type is kept).",
            ),
        ),
        key="id",
        references=(
            EVENT_REF,
            Reference("event_type_id", "event_types"),
            Reference("user_id", "users"),
        ),
        state="event",
        check=_check_reschedule,
        skip=_skip_reschedule,
        new_times=("start",),
        verify=Verification("event", _rescheduled, reaches_invitees=True),
        refresh=("events",),
        fill=_fill_reschedule,
        when="future",
    ),
    OperationSpec(
        "event_resend_notification",
        "event",
        "resend-notification",
        "Send events' notifications again.",
        "simplymeet event resend-notification --ids 123",
        fields=(EVENT_ID,),
        key="id",
        references=(EVENT_REF,),
        state="event",
        refresh=("events",),
        when="future",
        notifies=True,
    ),
    # availability -------------------------------------------------------------------------------
    OperationSpec(
        "availability_rule_save",
        "availability-rule",
        "save",
        "Save availability rules for event types (--chunk-size event types per request).",
        "simplymeet availability-rule save --ids 5,6 --availability-rules @rules.json "
        "--period-type range --period-type-config @period.json",
        fields=(
            Field("event_type_id", "eventTypeIds", "int", "Event type id.", True),
            Field(
                "availability_rules",
                "availabilityRules",
                "json",
                'Rules as JSON: [{"type": "weekday", "config": {"weekday": "monday"}, '
                '"hourIntervals": [{"start": "09:00", "end": "17:00"}]}] (or @file).',
                True,
            ),
            # Required, unlike in the DTO: the reference lists them in every save without
            # calling them optional (a server that replaces would null the booking period), and
            # no endpoint serves their current values to send back.
            Field(
                "period_type",
                "periodType",
                help="Period type (sent with every save).",
                required=True,
            ),
            Field(
                "period_type_config",
                "periodTypeConfig",
                "json",
                'Period config as JSON, e.g. \'{"start": "2026-01-01", "end": '
                '"2026-12-31"}\' (sent with every save).',
                True,
            ),
            Field("availability_type", "availabilityType", help="weekday or date only."),
        ),
        check=_check_availability_type,
        key="event_type_id",
        list_wire="eventTypeIds",
        references=(Reference("event_type_id", "event_types"),),
        refresh=("availability",),
    ),
    # cancellation policies ----------------------------------------------------------------------
    *(
        OperationSpec(
            f"{scope}_cancellation_policy_update",
            f"{scope}-cancellation-policy",
            "update",
            f"Update the {scope}'s cancellation policy (a new version).",
            f"simplymeet {scope}-cancellation-policy update --enabled true --period 1440",
            fields=(
                Field("enabled", "enabled", "bool", "Whether the policy applies."),
                Field("period", "period", "int", "Minutes before the start a cancel is free."),
                Field("label", "label", help="Policy label."),
                Field("text", "text", help="Policy text."),
                Field(
                    "overwrite_personal",
                    "overwritePersonal",
                    "bool",
                    "Overrides users' personal policies.",
                ),
            ),
            single=True,
            state=f"{scope}_policy",  # type: ignore[arg-type]
            check=_check_policy,
            skip=_skip_same_policy,
            verify=Verification(f"{scope}_policy", _policy_updated),  # type: ignore[arg-type]
            refresh=("cancellation_policies",),
            result=_keep("version"),
            complete=_whole_policy(scope),
        )
        for scope in ("organization", "user")
    ),
    # event type tags ----------------------------------------------------------------------------
    *(
        OperationSpec(
            f"event_type_tag_{action}",
            "event-type-tag",
            action,
            summary,
            example,
            fields=(
                Field("event_type_id", "path:eventTypeId", "int", "Event type id.", True),
                Field("tag_id", "path:tagId", "int", "Event type tag id.", True),
            ),
            key="event_type_id",
            references=(
                Reference("event_type_id", "event_types"),
                # The reference lists a type's tags and a user's tags, never an
                # organization's: a tag on no type yet is known to the server alone.
                Reference(
                    "tag_id", "event_type_tags", also=("user_event_type_tags",), required=False
                ),
            ),
            state="tag_link",
            skip=skip,
            destructive=action == "remove",
            verify=Verification("event_type_tags", applied),
            refresh=("event_type_tags",),
        )
        for action, summary, example, skip, applied in (
            (
                "add",
                "Put a tag on event types.",
                'simplymeet event-type-tag add --tag-id 3 --sql "select id from event_types '
                "where name like 'Demo%'\"",
                _skip_linked,
                _tag_linked,
            ),
            (
                "remove",
                "Take a tag off event types.",
                "simplymeet event-type-tag remove --tag-id 3 --ids 5,6 --yes",
                _skip_unlinked,
                _tag_unlinked,
            ),
        )
    ),
    # user event type tags -----------------------------------------------------------------------
    OperationSpec(
        "user_event_type_tag_create",
        "user-event-type-tag",
        "create",
        "Create user event type tags, one per row (a POST: never sent twice blindly).",
        'simplymeet user-event-type-tag create --name "VIP" --color "#ff0000"',
        fields=(
            Field("name", "name", help="Tag name.", required=True),
            Field("color", "color", help="Tag color, e.g. #ff0000."),
            Field("position", "position", "int", "Position in lists."),
        ),
        state="user_tag_by_name",
        skip=_skip_existing_tag_name,
        made_by=("name",),
        verify=Verification("own_user_tags", _user_tag_created),
        refresh=("user_event_type_tags",),
        result=_keep("id"),
    ),
    OperationSpec(
        "user_event_type_tag_update",
        "user-event-type-tag",
        "update",
        "Rename, recolor or move user event type tags.",
        'simplymeet user-event-type-tag update --ids 4 --name "Key accounts"',
        fields=(
            Field("id", "path:id", "int", "Tag id.", True),
            Field("name", "name", help="Tag name (default: the tag's own)."),
            Field("color", "color", help="Tag color."),
            Field("position", "position", "int", "Position in lists."),
        ),
        key="id",
        references=(Reference("id", "user_event_type_tags"),),
        state="user_tag",
        skip=_skip_same_user_tag,
        verify=Verification("user_tags", _user_tag_updated),
        refresh=_USER_TAG_REFRESH,
        complete=_whole_user_tag,
    ),
    OperationSpec(
        "user_event_type_tag_delete",
        "user-event-type-tag",
        "delete",
        "Delete user event type tags.",
        "simplymeet user-event-type-tag delete --ids 4 --yes",
        fields=(Field("id", "path:id", "int", "Tag id.", True),),
        key="id",
        references=(Reference("id", "user_event_type_tags"),),
        destructive=True,
        verify=Verification("user_tags", _user_tag_deleted),
        refresh=_USER_TAG_REFRESH,
    ),
    # polls ------------------------------------------------------------------------------------
    OperationSpec(
        "poll_create",
        "poll",
        "create",
        "Create polls, one per row (a POST: never sent twice blindly).",
        'simplymeet poll create --event-type-id 5 --name "Kick-off" --duration 30 '
        '--availability "2026-12-01 10:00:00;2026-12-02 10:00:00"',
        fields=(
            Field("event_type_id", "eventTypeId", "int", "Event type id.", True),
            Field("name", "name", help="Poll name.", required=True),
            Field("duration", "duration", "int", "Duration in minutes."),
            Field("vote_visibility", "voteVisibility", "bool", "Votes visible to voters."),
            Field("comment_visibility", "commentVisibility", "bool", "Comments visible."),
            Field("email_notification", "emailNotification", "bool", "E-mail on each vote."),
            Field(
                "availability",
                "availability",
                "datetime_list",
                "Proposed slots, Y-m-d H:i:s separated by ';'.",
                True,
                wrap="date",
            ),
        ),
        references=(Reference("event_type_id", "event_types"),),
        verify=Verification("polls", _poll_created),
        refresh=("polls",),
        result=_keep("id", "uuid"),
    ),
    OperationSpec(
        "poll_delete",
        "poll",
        "delete",
        "Delete polls.",
        "simplymeet poll delete --ids 12 --yes",
        fields=(Field("id", "path:id", "int", "Poll id.", True),),
        key="id",
        references=(Reference("id", "polls"),),
        destructive=True,
        verify=Verification("poll", _gone),
        refresh=("polls",),
    ),
    OperationSpec(
        "poll_result_create",
        "poll-result",
        "create",
        "Vote in polls: slots chosen by an e-mail (a POST: never sent twice blindly).",
        "simplymeet poll-result create --uuid 5f0c… --availability 31,32 --email ada@example.com",
        fields=(
            Field("uuid", "uuid", help="Poll uuid.", required=True),
            Field("availability", "availability", "int_list", "Slot ids, comma-separated.", True),
            Field("email", "email", help="Voter's e-mail.", required=True),
            Field("comment", "comment", help="Comment."),
        ),
        state="poll_vote",
        check=_check_vote,
        skip=_skip_voted,
        verify=Verification("poll_votes", _voted),
        refresh=("polls",),
    ),
    # single-use links -----------------------------------------------------------------------
    OperationSpec(
        "single_use_link_create",
        "single-use-link",
        "create",
        "Create a single-use booking link per event type (a POST: never sent twice blindly).",
        "simplymeet single-use-link create --ids 5",
        fields=(Field("event_type_id", "path:id", "int", "Event type id.", True),),
        key="event_type_id",
        references=(Reference("event_type_id", "event_types"),),
        result=_keep("code", "url"),
    ),
)

OPERATIONS: dict[str, OperationSpec] = {spec.endpoint: spec for spec in _SPECS}
"""Every mutating endpoint of the contract, by ENDPOINTS name."""

_missing = {n for n, e in ENDPOINTS.items() if e.mutating} ^ set(OPERATIONS)
assert not _missing, f"write-back and contract disagree on: {sorted(_missing)}"


def same_change(spec: OperationSpec) -> tuple[str, ...]:
    """The endpoints that make the change `spec` makes to a target: its own, and its list
    endpoint's per-item one or the list endpoint it is the per-item one of (a cancel sent
    by `cancel-list` is the same cancel as one sent by `cancel`)."""
    names = {spec.endpoint}
    if spec.item_endpoint is not None:
        names.add(spec.item_endpoint)
    names.update(s.endpoint for s in OPERATIONS.values() if s.item_endpoint == spec.endpoint)
    return tuple(sorted(names))


def operation(name: str) -> OperationSpec:
    """An operation by endpoint name (`event_cancel_list`) or command (`event cancel-list`)."""
    if name in OPERATIONS:
        return OPERATIONS[name]
    for spec in OPERATIONS.values():
        if spec.cli_name == name:
            return spec
    raise ValueError(f"no write-back operation {name!r}; known: {', '.join(sorted(OPERATIONS))}")
