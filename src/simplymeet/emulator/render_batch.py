"""Pages of events rendered a batch at a time: the text `Renderer.event_json` gives each event,
for a fraction of the CPU.

A seeded event's details come from SplitMix64 streams, one per detail (`detail_rng`), and each
draw of a stream is a pure function of its start state; so the draws of a whole page are a few
numpy operations (`detail_draws`), columns are read once per page, timestamps and UUIDs are
spelled by numpy, and the page is one orjson call with the shared host and event type JSON
spliced in as fragments. What stays per event is choosing among the draws and building its
dicts; details that few events have (reschedulings, a location) reuse the renderer's own code
with the draws made ahead (`PredrawnRng`), and a checkbox answer's shuffle, a third of events',
is spelled out on the page's draws (`_checked_options`). Events created or changed through the API
carry an overlay and are rendered by `event_json` itself.
tests/test_emulator_render_batch.py holds every page equal to `event_json`'s text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from simplymeet.contract.vocab import EVENT_STATES, LOCATION_TYPES, PAYMENT_STATUSES
from simplymeet.emulator import pools
from simplymeet.emulator.identifiers import (
    PredrawnRng,
    detail_draws,
    detail_states,
    event_uuid_texts,
    seeded_uuid_texts,
    unit_floats,
)
from simplymeet.emulator.render import (
    ANSWER_SLOT,
    FOLLOW_UP_MINUTES,
    NO_OVERLAY,
    PARTICIPANT_SLOT,
    REMINDER_MINUTES,
    SALT_ANSWERS,
    SALT_CANCEL,
    SALT_INVITEE,
    SALT_LOCATION,
    SALT_NOTES,
    SALT_PARTICIPANTS,
    SALT_PAYMENT,
    SUB_IDS_PER_EVENT,
    answer_value,
    dumps,
    loads,
)

if TYPE_CHECKING:
    from simplymeet.emulator.entities import EventType
    from simplymeet.emulator.render import Renderer

_ACTIVE = EVENT_STATES.index("active")
_CANCELED = EVENT_STATES.index("canceled")
_PICK_ONE, _CHECKBOX, _PHONE, _TEXT, _TEXTAREA, _YES, _NONE = range(7)
"""How `answer_value` answers a question, as a code per question (_NONE: no question)."""
_VALUE_DRAWS = np.array([1, 1, 2, 1, 1, 0, 0])
"""Draws `answer_value` takes for each code; a checkbox takes one more per option checked."""
_MEET_LETTERS = np.frombuffer(b"abcdefghijkmnopqrstuvwxyz", dtype="S1")


def page_json(
    render: Renderer, meta: dict[str, Any] | None, ids: Sequence[int] | np.ndarray
) -> bytes:
    """A list page as served, UTF-8: `{"meta": meta, "items": [...]}` (`{"items": [...]}`
    for no meta) with every event as `render.event_json` writes it."""
    try:
        return orjson.dumps(page_body(meta, _items(render, ids)))
    except TypeError:
        # An integer beyond 64 bits (an event type's amount set through the API): `dumps`
        # writes it with `json`.
        items = ",".join(render.event_json(int(event_id)) for event_id in ids)
        return f"{page_head(meta)}{items}]}}".encode()


def page_body(meta: dict[str, Any] | None, items: list[Any]) -> dict[str, Any]:
    """A `{meta, items}` page, or `{items}` alone for a page served without a meta."""
    return {"items": items} if meta is None else {"meta": meta, "items": items}


def page_head(meta: dict[str, Any] | None) -> str:
    """A page's JSON text up to its first item (`page_body`'s, written by hand)."""
    return '{"items":[' if meta is None else f'{{"meta":{dumps(meta)},"items":['


def items_json(render: Renderer, ids: Sequence[int] | np.ndarray) -> bytes:
    """Events as JSON items, UTF-8: `",".join(render.event_json(i) for i in ids)`, encoded."""
    try:
        return orjson.dumps(_items(render, ids))[1:-1]
    except TypeError:
        return ",".join(render.event_json(int(event_id)) for event_id in ids).encode()


def items_values(render: Renderer, ids: Sequence[int] | np.ndarray) -> list[Any]:
    """Events as `loads` reads `items_json`'s text (a JSON array of them), without writing
    and reading that text: a host's or an event type's DTO, which every event of theirs
    embeds, is read once and shared by those events (treat them as read-only).

    What the tests take for what the list serves, after most syncs of the suite: 2,000
    events are 16 MB of text, and reading it back cost 130-240 ms.
    """
    parsed: dict[str, Any] = {}

    def value(text: str) -> Any:
        if text not in parsed:
            parsed[text] = loads(text)
        return parsed[text]

    return _items(render, ids, embed=value)


def _items(
    render: Renderer,
    ids: Sequence[int] | np.ndarray,
    embed: Callable[[str], Any] = orjson.Fragment,
) -> list[Any]:
    """Each event as a dict, or as its `event_json` text when written through the API;
    JSON texts go in as `embed` makes them (orjson fragments to splice into the page)."""
    store = render.store
    ids = np.asarray(ids, dtype=np.int64)
    if not len(ids):
        return []
    # A deleted event is listed only under `deleted_events=listed`, rendered as a GET serves it.
    own = store.cols.raw("created_by_api")[ids - 1] | store.cols.raw("deleted")[ids - 1]
    if store.overlays:
        written = np.fromiter((i in store.overlays for i in ids.tolist()), bool, len(ids))
        own = own | written
    seeded = iter(_seeded_events(render, ids[~own], embed))
    return [
        embed(render.event_json(event_id)) if is_own else next(seeded)
        for event_id, is_own in zip(ids.tolist(), own.tolist(), strict=True)
    ]


def _seeded_events(
    render: Renderer, ids: np.ndarray, embed: Callable[[str], Any]
) -> list[dict[str, Any]]:
    """EventDTOs of seeded events without an overlay, as dicts in `event_json`'s key order."""
    if not len(ids):
        return []
    store = render.store
    seed, cols, rows = store.seed, store.cols, ids - 1
    count = len(ids)
    event_ids = ids.tolist()
    user_ids = cols.raw("user_id")[rows].tolist()
    et_ids = cols.raw("event_type_id")[rows].tolist()
    seed_types = _types_by_id(render, cols.raw("seed_event_type_id")[rows].tolist())
    state_codes = cols.raw("state")[rows]
    created = cols.raw("created")[rows]
    end = cols.raw("end")[rows]
    created_list = created.tolist()
    states = [EVENT_STATES[code] for code in state_codes.tolist()]
    updated = cols.raw("updated_us")[rows] // 1_000_000
    stamps = [created, updated, cols.raw("scheduled")[rows], end, cols.raw("canceled")[rows]]
    texts = _iso_texts(np.concatenate(stamps))  # one call for the page's five stamps
    created_at, updated_at, scheduled_at, end_at, canceled_at = (
        texts[at : at + count] for at in range(0, 5 * count, count)
    )
    follows_up = ((state_codes == _ACTIVE) & (end < store.anchor_s)).tolist()
    reminders = cols.raw("reminders")[rows].tolist()
    location_types = [LOCATION_TYPES[code] for code in cols.raw("location_type")[rows].tolist()]
    durations = cols.raw("duration")[rows].tolist()
    reschedule_counts = cols.raw("n_reschedules")[rows].tolist()

    user_json, event_type_json, users_json = _fragments(render, user_ids, et_ids, embed)
    invitees = _invitees(render, ids, rows, created, user_ids)
    cancellations = _cancellations(seed, ids, state_codes)
    participants = _participants(render, ids, rows, created)
    payments = _payments(render, ids, rows, seed_types)
    notes = _notes(seed, ids)
    uuids = event_uuid_texts(seed, ids)
    answers = _answers(render, ids, seed_types)
    locations = _locations(render, ids, location_types, et_ids)

    events = []
    for i in range(count):
        event_id = event_ids[i]
        location, online_id = locations[i]
        events.append(
            {
                "id": event_id,
                "uuid": uuids[i],
                "user": user_json[i],
                "eventType": event_type_json[i],
                "invitee": invitees[i],
                "cancellation": cancellations[i],
                "participants": participants[i],
                "answers": answers[i],
                "rescheduling": render.reschedulings(event_id, created_list[i], NO_OVERLAY, False)
                if reschedule_counts[i]
                else [],
                "payment": payments[i],
                "createdAt": created_at[i],
                "updatedAt": updated_at[i],
                "scheduledAt": scheduled_at[i],
                "endDate": end_at[i],
                "canceledAt": canceled_at[i],
                "state": states[i],
                "notes": notes[i],
                "details": None,
                "location": location,
                "locationType": location_types[i],
                "onlineEventId": online_id,
                "sentEmailReminder": reminders[i],
                "lastSentInviteeEmailReminder": REMINDER_MINUTES if reminders[i] else None,
                "lastSentInviteeEmailFollowUp": FOLLOW_UP_MINUTES if follows_up[i] else None,
                "duration": durations[i],
                "users": users_json[i],
                "relatedEventIds": [],
            }
        )
    return events


_PageFragments = tuple[list[Any], list[Any], list[Any]]


def _fragments(
    render: Renderer, user_ids: list[int], et_ids: list[int], embed: Callable[[str], Any]
) -> _PageFragments:
    """Per event of a page: its UserDTO, EventTypeDTO and users JSON as `embed` makes them,
    each rendered once per page (a page has few hosts and event types)."""
    users = {u: embed(render.user_json(u)) for u in set(user_ids)}
    types = {e: embed(render.event_type_json(e)) for e in set(et_ids)}
    pairs = list(zip(et_ids, user_ids, strict=True))
    lists = {pair: embed(render.users_array_json(render.event_users(*pair))) for pair in set(pairs)}
    return (
        [users[u] for u in user_ids],
        [types[e] for e in et_ids],
        [lists[pair] for pair in pairs],
    )


def _types_by_id(render: Renderer, et_ids: list[int]) -> list[EventType | None]:
    found = {et_id: render.store.event_type_by_id(et_id) for et_id in set(et_ids)}
    return [found[et_id] for et_id in et_ids]


def _iso_texts(epochs: np.ndarray) -> list[str | None]:
    """`render.iso` of many integer epoch seconds (None for 0)."""
    days, seconds = np.divmod(epochs, 86_400)
    count = len(epochs)
    if count and days.min() >= _FIRST_DAY and days.max() < _FIRST_DAY + len(_day_texts()):
        # Spelled from tables of every day's and every second's text: numpy's own
        # datetime_as_string costs ~190 ns a value, 2.5x this (13% of a page before).
        out = np.empty((count, _ISO_WIDTH), dtype=np.uint8)
        out[:, :10] = _day_texts()[days - _FIRST_DAY].view(np.uint8).reshape(count, 10)
        out[:, 10] = ord("T")
        out[:, 11:19] = _second_texts()[seconds].view(np.uint8).reshape(count, 8)
        out[:, 19:] = np.frombuffer(b"+00:00", dtype=np.uint8)
        text = out.tobytes().decode("ascii")
        texts: list[str | None] = [
            text[at : at + _ISO_WIDTH] for at in range(0, count * _ISO_WIDTH, _ISO_WIDTH)
        ]
    else:
        spelled = np.datetime_as_string(epochs.astype("datetime64[s]"))
        texts = np.char.add(spelled, "+00:00").tolist()
    for index in np.flatnonzero(epochs == 0).tolist():
        texts[index] = None
    return texts


_ISO_WIDTH = len("2026-01-02T03:04:05+00:00")
_FIRST_DAY = -25_567
"""1900-01-01 in days since the epoch: the first day `_day_texts` spells."""


@functools.cache
def _day_texts() -> np.ndarray:
    """ "YYYY-MM-DD" of every day of 1900-2099, by days since `_FIRST_DAY`."""
    # Spelled by arithmetic: `np.datetime_as_string` took ~25 ms, paid by a first page.
    days = np.arange(_FIRST_DAY, _FIRST_DAY + 73_049).astype("datetime64[D]")
    years, months = days.astype("datetime64[Y]"), days.astype("datetime64[M]")
    out = np.empty((len(days), 10), dtype=np.uint8)
    out[:, 0:4] = _digits(years.astype(np.int64) + 1970, 4)
    out[:, 5:7] = _digits((months - years.astype("datetime64[M]")).astype(np.int64) + 1, 2)
    out[:, 8:10] = _digits((days - months.astype("datetime64[D]")).astype(np.int64) + 1, 2)
    out[:, [4, 7]] = ord("-")
    return out.view("S10").ravel()


@functools.cache
def _second_texts() -> np.ndarray:
    """ "HH:MM:SS" of every second of a day."""
    seconds = np.arange(86_400, dtype=np.int64)
    out = np.empty((len(seconds), 8), dtype=np.uint8)
    out[:, 0:2] = _digits(seconds // 3_600, 2)
    out[:, 3:5] = _digits(seconds // 60 % 60, 2)
    out[:, 6:8] = _digits(seconds % 60, 2)
    out[:, [2, 5]] = ord(":")
    return out.view("S8").ravel()


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Decimal digits of non-negative integers as ASCII, zero-padded to `width` columns."""
    out = np.empty((len(values), width), dtype=np.uint8)
    rest = values.copy()
    for column in range(width - 1, -1, -1):
        out[:, column] = rest % 10 + ord("0")
        rest //= 10
    return out


def _invitees(
    render: Renderer, ids: np.ndarray, rows: np.ndarray, created: np.ndarray, user_ids: list[int]
) -> list[dict[str, Any]]:
    """`Renderer._invitee` of seeded events: the same draws, in the same order."""
    store = render.store
    cols = store.cols
    draws = detail_draws(detail_states(store.seed, ids, SALT_INVITEE), 8)
    at = np.arange(len(ids))
    away = unit_floats(draws[:, 0]) >= 0.6
    elsewhere = away.tolist()
    places = (draws[:, 1] % len(pools.PLACES)).tolist()
    position = 1 + away
    has_phone = unit_floats(draws[at, position]) < 0.5
    country = (draws[at, position + 1] % 99 + 1).tolist()
    number = (draws[at, position + 2] % (10**9 - 10**8) + 10**8).tolist()
    position = position + np.where(has_phone, 3, 1)
    locales = (draws[at, position] % len(pools.INVITEE_LOCALES)).tolist()
    uuids = seeded_uuid_texts(draws[at, position + 1], draws[at, position + 2])
    history = store.ref.policies["organization"]
    in_force = np.searchsorted([p.valid_from for p in history], created, side="right") - 1
    policy_texts = [f"{p.label} (v{p.version})" for p in history]
    policies = np.maximum(in_force, 0).tolist()
    first = cols.raw("first_name")[rows].tolist()
    last = cols.raw("last_name")[rows].tolist()
    numbers = cols.raw("email_number")[rows].tolist()
    domains = cols.raw("email_domain")[rows].tolist()
    hosts = store.ref.hosts
    invitees = []
    for i, phone in enumerate(has_phone.tolist()):
        first_name = pools.FIRST_NAMES[first[i]]
        last_name = pools.LAST_NAMES[last[i]]
        invitees.append(
            {
                "id": int(ids[i]),
                "email": f"{first_name[1]}.{last_name[1]}{numbers[i] or ''}"
                f"@{pools.EMAIL_DOMAINS[domains[i]]}",
                "fullName": f"{first_name[0]} {last_name[0]}",
                "timezone": pools.PLACES[places[i]][0]
                if elsewhere[i]
                else hosts[user_ids[i] - 1].timezone,
                "phoneNumber": f"+{country[i]} {number[i]}" if phone else None,
                "locale": pools.INVITEE_LOCALES[locales[i]],
                "cancellationPolicy": policy_texts[policies[i]],
                "uuid": uuids[i],
            }
        )
    return invitees


def _cancellations(seed: int, ids: np.ndarray, state_codes: np.ndarray) -> list[Any]:
    """`Renderer._cancellation` of seeded events (None unless canceled)."""
    draws = detail_draws(detail_states(seed, ids, SALT_CANCEL), 3)
    by_invitee = (unit_floats(draws[:, 0]) < 0.7).tolist()
    has_reason = (unit_floats(draws[:, 1]) < 0.8).tolist()
    reasons = (draws[:, 2] % len(pools.CANCEL_REASONS)).tolist()
    return [
        {
            "id": event_id,
            "canceler": "invitee" if by_invitee[i] else "host",
            "reason": pools.CANCEL_REASONS[reasons[i]] if has_reason[i] else None,
        }
        if canceled
        else None
        for i, (event_id, canceled) in enumerate(
            zip(ids.tolist(), (state_codes == _CANCELED).tolist(), strict=True)
        )
    ]


def _participants(
    render: Renderer, ids: np.ndarray, rows: np.ndarray, created: np.ndarray
) -> list[list[dict[str, Any]]]:
    """`Renderer._participants` of seeded events: four draws per participant."""
    store = render.store
    counts = store.cols.raw("n_participants")[rows].tolist()
    most = max(counts)
    if not most:
        return [[] for _ in counts]
    draws = detail_draws(detail_states(store.seed, ids, SALT_PARTICIPANTS), 4 * most)
    first = (draws[:, 0::4] % len(pools.FIRST_NAMES)).tolist()
    last = (draws[:, 1::4] % len(pools.LAST_NAMES)).tolist()
    domains = (draws[:, 2::4] % len(pools.EMAIL_DOMAINS)).tolist()
    latest = np.maximum(np.minimum(created + 3 * 86_400, store.anchor_s), created)
    spans = (latest - created + 1).astype(np.uint64)
    joined = created[:, None] + (draws[:, 3::4] % spans[:, None]).astype(np.int64)
    joined_at = _iso_texts(joined.ravel())
    out = []
    for i, (event_id, how_many) in enumerate(zip(ids.tolist(), counts, strict=True)):
        out.append(
            [
                {
                    "id": event_id * SUB_IDS_PER_EVENT + PARTICIPANT_SLOT + k,
                    "email": f"{pools.FIRST_NAMES[first[i][k]][1]}."
                    f"{pools.LAST_NAMES[last[i][k]][1]}@{pools.EMAIL_DOMAINS[domains[i][k]]}",
                    "createdAt": joined_at[i * most + k],
                }
                for k in range(how_many)
            ]
        )
    return out


def _payments(
    render: Renderer, ids: np.ndarray, rows: np.ndarray, seed_types: list[EventType | None]
) -> list[dict[str, Any] | None]:
    """`Renderer._payment` of seeded events (None without a payment)."""
    statuses = render.store.cols.raw("pay_status")[rows].tolist()
    draws = detail_draws(detail_states(render.store.seed, ids, SALT_PAYMENT), 1)
    stripe = (unit_floats(draws[:, 0]) < 0.8).tolist()
    out: list[dict[str, Any] | None] = []
    for i, event_id in enumerate(ids.tolist()):
        if statuses[i] < 0:
            out.append(None)
            continue
        et = seed_types[i]
        provider = "stripe" if stripe[i] else "paypal"
        out.append(
            {
                "provider": provider,
                "amount": et.amount if et else None,
                "currency": et.currency if et else None,
                "status": PAYMENT_STATUSES[statuses[i]],
                "system": provider,
                "referenceId": 100_000 + event_id,
                "overwritePersonal": False,
            }
        )
    return out


def _notes(seed: int, ids: np.ndarray) -> list[str | None]:
    """`Renderer.notes` of seeded events nothing was written to."""
    draws = detail_draws(detail_states(seed, ids, SALT_NOTES), 2)
    has_note = (unit_floats(draws[:, 0]) < 0.15).tolist()
    chosen = (draws[:, 1] % len(pools.NOTES)).tolist()
    return [pools.NOTES[c] if has else None for has, c in zip(has_note, chosen, strict=True)]


def _locations(
    render: Renderer, ids: np.ndarray, location_types: list[str], et_ids: list[int]
) -> list[tuple[str | None, str | None]]:
    """`Renderer._location` of seeded events nothing was written to: (location, online id)."""
    store = render.store
    draws = detail_draws(detail_states(store.seed, ids, SALT_LOCATION), 10)
    zoom = (draws[:, 0] % (10**10 - 10**9) + 10**9).tolist()
    meet = _MEET_LETTERS[draws % len(_MEET_LETTERS)].view("S10").ravel().tolist()
    teams = seeded_uuid_texts(draws[:, 0], draws[:, 1])
    whereby = (draws[:, 0] % 99 + 1).tolist()
    kopano = (draws[:, 0] >> np.uint64(24)).tolist()
    slug = store.ref.organization.slug
    out: list[tuple[str | None, str | None]] = []
    for i, kind in enumerate(location_types):
        if kind == "zoom":
            out.append((f"https://zoom.us/j/{zoom[i]}", str(zoom[i])))
        elif kind == "google_meet":
            letters = meet[i].decode()
            code = f"{letters[:3]}-{letters[3:7]}-{letters[7:]}"
            out.append((f"https://meet.google.com/{code}", code))
        elif kind == "microsoft_teams":
            out.append((f"https://teams.microsoft.com/l/meetup-join/{teams[i]}", teams[i]))
        elif kind == "whereby":
            out.append((f"https://whereby.com/{slug}-{whereby[i]}", None))
        elif kind == "kopano_meet":
            out.append((f"https://meet.kopano.io/r/{kopano[i]:010x}", None))
        else:
            et = store.event_type_by_id(et_ids[i])
            out.append(((et.location if et and et.location else "Phone call"), None))
    return out


def _answers(
    render: Renderer, ids: np.ndarray, seed_types: list[EventType | None]
) -> list[list[dict[str, Any]]]:
    """`Renderer.seeded_answers` of seeded events, question by question over the whole page."""
    out: list[list[dict[str, Any]]] = [[] for _ in seed_types]
    if all(et is None for et in seed_types):
        return out
    table = render.cached("question table", lambda: _QuestionTable(render.store.ref.event_types))
    slots = np.array([table.no_questions if et is None else table.slot[et.id] for et in seed_types])
    states = detail_states(render.store.seed, ids, SALT_ANSWERS)
    draws = detail_draws(states, table.most_draws + 2)
    rows: list[list[int]] | None = None  # the draws as Python ints, once a checkbox needs them
    at = np.arange(len(ids))
    position = np.zeros(len(ids), dtype=np.intp)
    event_ids = ids.tolist()
    for index in range(table.kind.shape[1]):
        kind = table.kind[slots, index]
        optional = table.optional[slots, index]
        options = table.options[slots, index]
        answered = (kind != _NONE) & ~(optional & (unit_floats(draws[at, position]) >= 0.7))
        position = position + optional
        first = draws[at, position]
        picked = (first % options.astype(np.uint64)).astype(np.intp)
        values = picked.tolist()
        phone_numbers = (draws[at, position + 1] % (10**9 - 10**8) + 10**8).tolist()
        phone_countries = (first % 99 + 1).tolist()
        codes = kind.tolist()
        for i in np.flatnonzero(answered).tolist():
            q = seed_types[i].questions[index]  # type: ignore[union-attr]
            code = codes[i]
            if code == _PICK_ONE:
                answer = q.options[values[i]]
            elif code == _TEXT:
                answer = pools.COMPANIES[values[i]]
            elif code == _TEXTAREA:
                answer = pools.DISCUSSION_TOPICS[values[i]]
            elif code == _PHONE:
                answer = f"+{phone_countries[i]} {phone_numbers[i]}"
            elif code == _CHECKBOX:
                if rows is None:
                    rows = draws.tolist()
                answer = _checked_options(q.options, rows[i], int(position[i]))
                if answer is None:
                    # More draws than were made ahead: the renderer's own code, which goes on
                    # from the state.
                    rng = PredrawnRng(int(states[i]), rows[i], used=int(position[i]))
                    answer = answer_value(rng, q.type, q.options)
            else:
                answer = "yes"
            out[i].append(
                {
                    "id": event_ids[i] * SUB_IDS_PER_EVENT + ANSWER_SLOT + q.position,
                    "questionLabel": q.label,
                    "questionType": q.type,
                    "value": answer,
                    "plainValue": answer,
                    "questionUuid": q.uuid,
                }
            )
        taken = _VALUE_DRAWS[kind] + np.where(kind == _CHECKBOX, picked + 1, 0)
        position = position + np.where(answered, taken, 0)
    return out


def _checked_options(options: list[str], draws: list[int], at: int) -> str | None:
    """`answer_value` of a checkbox question from an event's draws, the first at `at`: how
    many options (`randint`), then `sample`'s shuffle, one draw per option picked. None when
    the draws made ahead run out."""
    count = len(options)
    if at >= len(draws):
        return None
    picked = 1 + draws[at] % count
    if at + picked >= len(draws):
        return None
    pool = list(options)
    for i in range(picked):
        j = i + draws[at + 1 + i] % (count - i)
        pool[i], pool[j] = pool[j], pool[i]
    return ", ".join(sorted(pool[:picked]))


class _QuestionTable:
    """The questions of every event type as (type, position) matrices, plus a last row of no
    questions; `options` is the modulus of the question's value draw."""

    def __init__(self, types: list[EventType]) -> None:
        self.slot = {et.id: row for row, et in enumerate(types)}
        self.no_questions = len(types)
        most = max((len(et.questions) for et in types), default=0)
        shape = (len(types) + 1, max(most, 1))
        self.kind = np.full(shape, _NONE)
        self.optional = np.zeros(shape, dtype=bool)
        self.options = np.ones(shape, dtype=np.int64)
        self.most_draws = 0
        for row, et in enumerate(types):
            draws = 0
            for column, q in enumerate(et.questions):
                kind = self.kind[row, column] = _answer_kind(q.type, q.options)
                self.optional[row, column] = not q.required
                self.options[row, column] = {
                    _TEXT: len(pools.COMPANIES),
                    _TEXTAREA: len(pools.DISCUSSION_TOPICS),
                    _PHONE: 99,
                }.get(kind, max(len(q.options), 1))
                # One draw decides whether an optional question is answered; then its value's.
                draws += 1 + int(_VALUE_DRAWS[kind]) + (len(q.options) if kind == _CHECKBOX else 0)
            self.most_draws = max(self.most_draws, draws)


def _answer_kind(question_type: str, options: list[str]) -> int:
    """Which branch of `answer_value` answers a question."""
    if question_type == "text":
        return _TEXT
    if question_type == "textarea":
        return _TEXTAREA
    if question_type in ("select", "radio") and options:
        return _PICK_ONE
    if question_type == "checkbox" and options:
        return _CHECKBOX
    if question_type == "phone":
        return _PHONE
    return _YES
