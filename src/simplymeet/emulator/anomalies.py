"""Rows that break the contract, served on demand: what a buggy or newer server sends.

An `AnomalySpec` is built in Python or parsed from a string such as

    null_id=17|18,text_id=19,bad_timestamp=20,timestamp_field=scheduledAt,
    extra=loyaltyTier|invitee.pronouns,endpoints=event_list|event_get

- `null_id`: rows with these ids are served with `"id": null`;
- `text_id`: … with a non-integer id (`"id": "x19"`);
- `bad_timestamp`: … with `timestamp_field` (default `updatedAt`) set to an unparseable text;
- `extra`: every row served gets these fields the reference does not know (a dotted name
  goes inside that nested object), each valued `"<name>-<row id>"`;
- `omit`: every row served leaves out these fields (a dotted name: inside that nested
  object), as a server that sends only what is set (`omit=color|position,endpoints=
  user_event_type_tag_list`);
- `state_words`: `state` values served as another word, e.g. `no_show:absent|canceled:
  canceled_by_host` (a server whose vocabulary is not ours);
- `string_ids`: every row's `id`, `eventType.id` and `user.id` served as digit strings
  (`"201"`), which the reference types as int;
- `null_updated`: rows with these ids are served with `"updatedAt": null` (never updated, on
  a server that leaves the stamp empty until then), and the event list ordered by `updatedAt`
  sorts them as SQLite and MySQL sort NULL: after every stamp when descending;
  `nulls_first=1` sorts them as PostgreSQL does by default: before every stamp when
  descending, so the newest-first list opens with them;
- `canceler_as_email`: every cancellation's `canceler` served as the canceling person's
  e-mail (the invitee's for `invitee`, the event owner's for `host`): CancellationDTO's
  "canceler string The user of the cancellation." read as the user, not the side;
- `amount_decimals`: every amount (an event's `payment.amount`, an event type's `amount`)
  served with that many decimals, as a price in a currency with that minor unit (3: KWD),
  by adding 5 in the last of them (`25` -> `25.005`: a tie, which rounding to fewer decimals
  treats worst);
- `amount_text`: every amount served as a string, `point` (`"25.005"`) or with a decimal
  `comma` (`"25,005"`, `"25,5"`), as a server that formats numbers for display;
- `bad_amount`: rows with these ids are served with an amount that no reading takes
  exactly (`"12,345"`: twelve thousand or twelve?); an event without a payment gets one
  holding only that amount;
- `integer_spelling`: the integer fields named in `integer_fields` (default `duration`,
  `period`, `subscriptionUsersLimit`, `groupMeetingLimit`) served as `text` with decimals
  (`"30.00"`) or as a JSON `float` (`30.0`), as a server whose columns are DECIMAL, or that
  formats numbers for display;
- `fractional`: rows with these ids are served with a `duration` that is no whole number of
  minutes (`30` -> `30.7`);
- `null_slot_id`: polls with these ids are served with their first availability slot's `id`
  null (a slot's key, which its votes name);
- `object_as_array`: an answer of one object (`current-user`, a policy) served as an array
  holding it, a reading the reference leaves open (it does not say the answer's shape);
- `refs_as_ids`: these embedded objects (`user`, `eventType`, `organization`) and lists of
  objects (`users`) served as their ids (`"user": 5`, `"users": [5, 6]`), as the reference's
  PollDTO types `user` by name only;
- `repeat`: rows with these ids are listed twice, the second time with its `fullName` (or
  `name`) changed: an answer that holds one id with two contents (a join that fans out);
- `empty_as_object`: every empty array a row holds (its participants, answers, related
  ids...) served as `{}`, as PHP's `json_encode` serves an empty array that is not a list;
- `nulled`: rows with these ids are served with the fields named in `nulled_fields` (default
  `invitee`, `eventType`, `scheduledAt`; `invitee.email` names a field of an object) null,
  as a server whose join or cache misses once;
- `repeat_child`: rows with these ids list the first item of their `child_field` (default
  `participants`; `answers`, `rescheduling`...) twice, the second time with its first text
  field changed: one child id with two contents (a join that fans out inside a row);
- `unlisted`: rows with these ids are left out of every list answer (`filter[ids]` pages
  too) while its `meta` still counts them, and a single get serves them: a list query that
  counts rows before a join drops them.
- `null_row`: rows with these ids are served as `null` in every list answer (a serializer
  that emits null for a row it could not render), while a single get serves them.
- `garbled`: rows with these ids serve the fields named in `garbled_fields` (default
  `payment`; `lat`, `isEnabled`...) as the text `"garbled"`: an object, a number or a
  boolean no reading takes, as a server that renders a template value in its place;
- `lone_surrogate`: rows with these ids end their `notes` with half an emoji, the escape
  `\\ud83d` alone (a server that cut the text in UTF-16): JSON's grammar allows it, a strict
  parser refuses it, UTF-8 cannot hold it;
- `list_as_object`: rows with these ids serve every array they hold that is not empty as an
  object keyed by position from 1 (`"users": {"1": {...}}`), as PHP's `json_encode` serves
  an array whose first index was removed;
- `list_as_scalar`: rows with these ids serve their `list_field` (default `users`) as the
  first item's id (`"users": 13`; `"eventTypeDurations": 30`), as a server that collapses a
  list of one into its id; `scalar_text=1` serves it as text (`"users": "13"`).

Rows are chosen by their real id, so the same row is broken in every response that carries it
(list pages, `filter[ids]` pages, single gets). Scope: `endpoints` (contract endpoint names,
default `event_list|event_get`); answers outside it, errors and streamed answers are left alone.
Like faults, a spec can be swapped at any time (`RunningEmulator.set_anomalies`); None serves
every row as the store has it, which is how a test plays "fixed upstream".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from simplymeet.emulator import spec_text
from simplymeet.emulator.render import dumps, loads

DEFAULT_ENDPOINTS = frozenset({"event_list", "event_get"})
UNPARSEABLE = "not-a-timestamp"
"""The value `bad_timestamp` serves: no reading of the reference parses it."""
UNREADABLE_AMOUNT = "12,345"
"""The value `bad_amount` serves: a comma before three digits groups thousands as often as it
marks decimals, so no reading takes it exactly."""
AMOUNT_TEXTS = ("point", "comma")
INTEGER_SPELLINGS = ("text", "float")
INTEGER_FIELDS = ("duration", "period", "subscriptionUsersLimit", "groupMeetingLimit")
NULLED_FIELDS = ("invitee", "eventType", "scheduledAt")
GARBLED = "garbled"
"""What `garbled` serves in place of a field."""
HALF_EMOJI_MARK = "<half-emoji>"
"""Where `lone_surrogate` puts the escape `\\ud83d` in a row's notes."""
_HALF_MARK = HALF_EMOJI_MARK.encode()
FRACTION = 0.7
"""What `fractional` adds to a row's `duration`."""


@dataclass(frozen=True)
class AnomalySpec:
    """Which rows to break and how. See the module docstring for the syntax."""

    null_id: frozenset[int] = frozenset()
    text_id: frozenset[int] = frozenset()
    bad_timestamp: frozenset[int] = frozenset()
    timestamp_field: str = "updatedAt"
    extra: tuple[str, ...] = ()
    omit: tuple[str, ...] = ()
    state_words: tuple[tuple[str, str], ...] = ()
    string_ids: bool = False
    null_updated: frozenset[int] = frozenset()
    nulls_first: bool = False
    canceler_as_email: bool = False
    amount_decimals: int = 0
    amount_text: str = ""
    bad_amount: frozenset[int] = frozenset()
    integer_spelling: str = ""
    integer_fields: tuple[str, ...] = INTEGER_FIELDS
    fractional: frozenset[int] = frozenset()
    null_slot_id: frozenset[int] = frozenset()
    object_as_array: bool = False
    refs_as_ids: tuple[str, ...] = ()
    repeat: frozenset[int] = frozenset()
    repeat_child: frozenset[int] = frozenset()
    child_field: str = "participants"
    unlisted: frozenset[int] = frozenset()
    null_row: frozenset[int] = frozenset()
    empty_as_object: bool = False
    nulled: frozenset[int] = frozenset()
    nulled_fields: tuple[str, ...] = NULLED_FIELDS
    lone_surrogate: frozenset[int] = frozenset()
    garbled: frozenset[int] = frozenset()
    garbled_fields: tuple[str, ...] = ("payment",)
    list_as_object: frozenset[int] = frozenset()
    list_as_scalar: frozenset[int] = frozenset()
    list_field: str = "users"
    scalar_text: bool = False
    endpoints: frozenset[str] = DEFAULT_ENDPOINTS

    def __post_init__(self) -> None:
        from simplymeet.contract.endpoints import ENDPOINTS

        if self.amount_text not in ("", *AMOUNT_TEXTS):
            raise ValueError(f"amount_text takes {' or '.join(AMOUNT_TEXTS)}")
        if self.integer_spelling not in ("", *INTEGER_SPELLINGS):
            raise ValueError(f"integer_spelling takes {' or '.join(INTEGER_SPELLINGS)}")
        if not 0 <= self.amount_decimals <= 12:
            raise ValueError("amount_decimals takes 0 to 12")

        unknown = sorted(set(self.endpoints) - set(ENDPOINTS))
        if unknown:
            raise ValueError(f"unknown endpoint name(s) in anomaly scope: {', '.join(unknown)}")

    @classmethod
    def parse(cls, text: str) -> AnomalySpec:
        """Build a spec from `key=value,…` (lists `|`-separated)."""
        values: dict[str, Any] = {}
        for key, raw in spec_text.pairs(text, "anomaly"):
            items = spec_text.items(raw)
            if key in (
                "null_id",
                "text_id",
                "bad_timestamp",
                "null_updated",
                "bad_amount",
                "fractional",
                "null_slot_id",
                "repeat",
                "repeat_child",
                "unlisted",
                "null_row",
                "nulled",
                "list_as_object",
                "list_as_scalar",
                "lone_surrogate",
                "garbled",
            ):
                try:
                    values[key] = frozenset(int(x) for x in items)
                except ValueError:
                    raise ValueError(f"{key} takes row ids, got {raw!r}") from None
            elif key in (
                "timestamp_field",
                "amount_text",
                "integer_spelling",
                "child_field",
                "list_field",
            ):
                values[key] = raw.strip()
            elif key == "amount_decimals":
                try:
                    values[key] = int(raw)
                except ValueError:
                    raise ValueError(f"{key} takes a number of decimals, got {raw!r}") from None
            elif key in (
                "extra",
                "omit",
                "integer_fields",
                "refs_as_ids",
                "nulled_fields",
                "garbled_fields",
            ):
                values[key] = tuple(items)
            elif key == "state_words":
                pairs = [tuple(x.split(":", 1)) for x in items]
                if any(len(p) != 2 for p in pairs):
                    raise ValueError(f"state_words takes ours:theirs pairs, got {raw!r}")
                values[key] = tuple(pairs)
            elif key in (
                "string_ids",
                "object_as_array",
                "empty_as_object",
                "canceler_as_email",
                "nulls_first",
                "scalar_text",
            ):
                values[key] = raw.strip().lower() in ("1", "true", "yes")
            elif key == "endpoints":
                values[key] = frozenset(items)
            else:
                known = (
                    "null_id, text_id, bad_timestamp, timestamp_field, extra, omit, "
                    "state_words, string_ids, null_updated, nulls_first, canceler_as_email, "
                    "amount_decimals, "
                    "amount_text, "
                    "bad_amount, integer_spelling, integer_fields, fractional, null_slot_id, "
                    "object_as_array, refs_as_ids, repeat, repeat_child, child_field, unlisted, "
                    "null_row, nulled, "
                    "nulled_fields, list_as_object, list_as_scalar, list_field, scalar_text, "
                    "lone_surrogate, garbled, garbled_fields, "
                    "empty_as_object, "
                    "endpoints"
                )
                raise ValueError(f"unknown anomaly setting {key!r}; known: {known}")
        return cls(**values)

    @classmethod
    def coerce(cls, value: AnomalySpec | str | None) -> AnomalySpec | None:
        """Accept a spec, its string form, or None (no anomalies)."""
        if value is None or isinstance(value, AnomalySpec):
            return value
        return cls.parse(value) if value.strip() else None

    def applies_to(self, endpoint: str | None) -> bool:
        return endpoint in self.endpoints

    def apply(self, body: bytes) -> bytes:
        """The JSON body with its rows broken as specified (either list shape, or one object)."""
        data = loads(body)
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            rows = data["items"] = self._listed(data["items"])
        elif isinstance(data, list):
            rows = data = self._listed(data)
        else:
            rows = [data]
        for row in rows:
            if isinstance(row, dict):
                self._break(row)
        if self.object_as_array and isinstance(data, dict) and data is rows[0]:
            data = [data]
        # No serializer writes a lone surrogate: a marker is written, then swapped for it.
        return dumps(data).encode("utf-8").replace(_HALF_MARK, b"\\ud83d")

    def _listed(self, rows: list[Any]) -> list[Any]:
        listed: list[Any] = []
        for row in rows:
            real = row.get("id") if isinstance(row, dict) else None
            if real in self.unlisted:
                continue
            if real in self.null_row:
                listed.append(None)  # a row the server's serializer could not render
                continue
            listed.append(row)
            if real in self.repeat:
                again = dict(row)
                name = "fullName" if "fullName" in row else "name"
                again[name] = f"{row.get(name)} (again)"
                listed.append(again)
        return listed

    def _break(self, row: dict[str, Any]) -> None:
        real = row.get("id")
        for name in self.extra:
            target, _, leaf = name.rpartition(".")
            holder = row.get(target) if target else row
            if isinstance(holder, dict):
                holder[leaf] = f"{name}-{real}"
        for name in self.omit:
            target, _, leaf = name.rpartition(".")
            holder = row.get(target) if target else row
            if isinstance(holder, dict):
                holder.pop(leaf, None)
        words = dict(self.state_words)
        if row.get("state") in words:
            row["state"] = words[row["state"]]
        if self.string_ids:
            for holder in (row, row.get("eventType"), row.get("user")):
                if isinstance(holder, dict) and isinstance(holder.get("id"), int):
                    holder["id"] = str(holder["id"])
        for name in self.refs_as_ids:
            ref = row.get(name)
            if isinstance(ref, dict):
                row[name] = ref.get("id")
            elif isinstance(ref, list):
                row[name] = [r.get("id") if isinstance(r, dict) else r for r in ref]
        self._break_amount(row, real)
        self._spell_integers(row, real)
        slots = row.get("availability")
        if real in self.null_slot_id and isinstance(slots, list) and slots:
            slots[0]["id"] = None
        if real in self.null_updated:
            row["updatedAt"] = None
        if real in self.repeat_child:
            _repeat_first(row.get(self.child_field))
        if self.canceler_as_email:
            self._canceler_as_email(row)
        if self.empty_as_object:
            for name, value in list(row.items()):
                if value == []:
                    row[name] = {}
        if real in self.nulled:
            for name in self.nulled_fields:
                outer, _, inner = name.partition(".")
                if inner and isinstance(row.get(outer), dict) and inner in row[outer]:
                    row[outer] = {**row[outer], inner: None}
                elif name in row:
                    row[name] = None
        if real in self.garbled:
            for name in self.garbled_fields:
                row[name] = GARBLED
        if real in self.lone_surrogate:
            row["notes"] = f"{row.get('notes') or ''} {HALF_EMOJI_MARK}"
        if real in self.list_as_object:
            for name, value in list(row.items()):
                if isinstance(value, list) and value:
                    row[name] = {str(at): item for at, item in enumerate(value, start=1)}
        if real in self.list_as_scalar and isinstance(row.get(self.list_field), list):
            first = next(iter(row[self.list_field]), None)
            scalar = first.get("id") if isinstance(first, dict) else first
            row[self.list_field] = str(scalar) if self.scalar_text else scalar
        if real in self.bad_timestamp:
            row[self.timestamp_field] = UNPARSEABLE
        if real in self.null_id:
            row["id"] = None
        elif real in self.text_id:
            row["id"] = f"x{real}"

    @staticmethod
    def _canceler_as_email(row: dict[str, Any]) -> None:
        cancellation, invitee, owner = (row.get(k) for k in ("cancellation", "invitee", "user"))
        if not isinstance(cancellation, dict):
            return
        person = {"invitee": invitee, "host": owner}.get(str(cancellation.get("canceler")))
        if isinstance(person, dict) and person.get("email"):
            cancellation["canceler"] = person["email"]

    def _spell_integers(self, row: dict[str, Any], real: Any) -> None:
        if real in self.fractional and _whole(row.get("duration")):
            row["duration"] += FRACTION
        if not self.integer_spelling:
            return
        for name in self.integer_fields:
            value = row.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                row[name] = f"{value}.00" if self.integer_spelling == "text" else float(value)

    def _break_amount(self, row: dict[str, Any], real: Any) -> None:
        payment = row.get("payment")
        holder = payment if isinstance(payment, dict) else row if "amount" in row else None
        if real in self.bad_amount:
            if holder is None:
                holder = row["payment"] = {}
            holder["amount"] = UNREADABLE_AMOUNT
            return
        amount = holder.get("amount") if holder is not None else None
        if holder is None or not isinstance(amount, int | float) or isinstance(amount, bool):
            return
        served = Decimal(repr(amount))
        if self.amount_decimals:
            served += Decimal(5).scaleb(-self.amount_decimals)
        if self.amount_text:
            text = format(served, "f")
            holder["amount"] = text.replace(".", ",") if self.amount_text == "comma" else text
        elif self.amount_decimals:
            holder["amount"] = float(served)

    def __str__(self) -> str:
        return spec_text.render(self, "none")


def _whole(value: Any) -> bool:
    """Whether `value` is a JSON integer (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _repeat_first(items: Any) -> None:
    """Append to `items` its first object again, its first text field changed."""
    if not isinstance(items, list) or not items or not isinstance(items[0], dict):
        return
    again = dict(items[0])
    for name, value in again.items():
        if name != "id" and isinstance(value, str):
            again[name] = f"{value} (again)"
            break
    items.append(again)
