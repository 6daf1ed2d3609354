"""How one write-back operation is described: its input fields and how a row becomes a request.

A `Field` is one input (a CLI option, a CSV or query column) with a kind that says how to read
it, and where it goes: a path parameter (`path:id`) or a dotted place in the JSON body
(`invitee.email`). An `OperationSpec` ties fields to a contract endpoint; the request body is
then validated by that endpoint's request DTO, so what the dry-run prints is exactly what the
client will send.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pydantic

from simplymeet.contract.dates import format_request_datetime
from simplymeet.contract.dtos import RequestDTO, missing_fields, with_every_field
from simplymeet.contract.endpoints import ENDPOINTS, Endpoint

FieldKind = Literal[
    "str", "int", "bool", "datetime", "json", "int_list", "str_list", "datetime_list"
]

PATH = "path:"
"""Prefix of a field's `wire` when it fills a path parameter, e.g. `path:id`."""

Fetch = Literal[
    "event",
    "events_by_invitee",
    "event_type_tags",
    "user_tags",
    "own_user_tags",
    "poll",
    "polls",
    "poll_votes",
    "organization_policy",
    "user_policy",
]
"""What `verify.py` reads from the server to tell whether a write took effect."""

State = Literal[
    "event",
    "event_type",
    "tag_link",
    "user_tag",
    "user_tag_by_name",
    "poll_vote",
    "organization_policy",
    "user_policy",
]
"""What the plan reads from the warehouse per item, for checks and skips (`plan.py`)."""


class FieldError(ValueError):
    """One input value that cannot be read as its field's kind."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Field:
    """One input of an operation: a CLI option and a CSV/query column of the same name."""

    name: str
    """snake_case; the option is `--name-with-dashes`, the column `name_with_dashes`."""
    wire: str
    """`path:<param>` or a dotted path in the request body (`invitee.email`)."""
    kind: FieldKind = "str"
    help: str = ""
    required: bool = False
    wrap: str | None = None
    """For lists of objects: each value becomes `{wrap: value}` (participants' emails)."""
    blank: str | None = None
    """Sent when no value is given, for a field the request DTO lists without calling it
    optional: a server that requires it gets a value, one that does not ignores it."""
    filled: bool = False
    """Not an input (no option, no column): `OperationSpec.complete` fills it with the
    target's current value, for a server that reads the body another way."""

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def path_param(self) -> str | None:
        return self.wire[len(PATH) :] if self.wire.startswith(PATH) else None


@dataclass(frozen=True)
class Reference:
    """A field whose value must be an id present in a warehouse table (or in one of `also`)."""

    field: str
    table: str
    column: str = "id"
    also: tuple[str, ...] = ()
    """More tables (same column) the id may be found in."""
    required: bool = True
    """False where no endpoint lists every valid id: an id found nowhere is sent with a
    warning, and the server says whether it exists."""


@dataclass(frozen=True)
class Verification:
    """How to tell from the server whether an item's write took effect.

    `applied(values, fetched)` gets the item's input values and what `fetch` read for it (an
    EventDTO dict or None when the event is gone, a list of tags, a policy...), and says True
    (took effect), False (did not: safe to send again) or None (cannot tell).
    """

    fetch: Fetch
    applied: Callable[[Mapping[str, Any], Any], bool | None]
    reaches_invitees: bool = False
    """The write e-mails people (a booking, a cancel, a no-show, a move): `applied` saying
    False is trusted only when the target is provably as it was before the write (see
    `baseline.py`); otherwise the item is unknown and never sent again blindly."""


@dataclass(frozen=True)
class OperationSpec:
    """A write-back operation: one mutating endpoint, its inputs, checks and follow-ups."""

    endpoint: str
    """The ENDPOINTS key, e.g. `event_cancel_list`."""
    group: str
    """Command group, named after the API path (`event`, `poll`, `event-type-tag`)."""
    command: str
    """Command name inside the group (`cancel-list`)."""
    summary: str
    example: str
    fields: tuple[Field, ...] = ()
    key: str | None = None
    """The field --ids, --ids-file and --sql fill (their `key` column); None: rows carry all."""
    list_wire: str | None = None
    """For list endpoints: the body field that carries the chunk of keys (`ids`)."""
    item_endpoint: str | None = None
    """For list endpoints: the per-item endpoint used to isolate items a chunk was refused for."""
    references: tuple[Reference, ...] = ()
    """Ids checked against the warehouse before anything is sent."""
    state: State | None = None
    """What the warehouse says about each item's target, for `check` and `skip`."""
    check: Callable[[Mapping[str, Any], Any], str | None] | None = None
    """Why an item is invalid given its state (e.g. a poll slot of another poll), or None."""
    skip: Callable[[Mapping[str, Any], Any], str | None] | None = None
    """Why an item needs no request (already in the target state), or None."""
    destructive: bool = False
    """Asks for confirmation unless --yes."""
    single: bool = False
    """Takes no targets: one request from the options (policies)."""
    verify: Verification | None = None
    """How to check on the server whether a write whose answer was lost took effect."""
    refresh: tuple[str, ...] = ()
    """Sync resources to re-read after writing; `events` refreshes just the touched ids."""
    marks_deleted: bool = False
    """Successful items are events that no longer exist: set deleted_at in the warehouse."""
    result: Callable[[Any], dict[str, Any] | None] | None = None
    """What to keep from the server's answer (a created id, a link) in the journal."""
    when: Literal["future", "past"] | None = None
    """When a target booking may be acted on without asking: `future` (a cancel, a reschedule,
    a resent notification of a meeting that already started is surprising: --include-past)
    or `past` (a no-show of a meeting that has not started: --include-future)."""
    new_times: tuple[str, ...] = ()
    """Fields holding a booking's new start (a move, a booking): one in the past is refused
    unless `--include-past`, as a typo in its year would move or book it there, e-mailing
    the invitee."""
    fill: Callable[[list[dict[str, Any]], Any], list[dict[str, Any] | FieldError]] | None = None
    """Completes rows from the warehouse before they are validated (a reschedule's end, event
    type and host): gets the rows' values and a `WarehouseView`, returns each row's completed
    values or the FieldError saying why it cannot be completed."""
    complete: Callable[[list[dict[str, Any]], Any], list[dict[str, Any] | FieldError]] | None = None
    """Completes each row's request body with the current value of every field its request
    DTO lists (not optional) that the row does not give, so a server that reads a PUT as the
    whole resource keeps them: gets the rows' values and a `WarehouseView`, returns per row the
    values the body is built from (the row's, completed; None: known to be empty, sent as
    null), or the FieldError naming a field whose current value is unknown. Unlike `fill`, the
    item's values (checks, skips, verification) stay what the user asked for."""

    notifies: bool = False
    """The write e-mails people and cannot be read back (a resent notification, an
    invitation): a target another job already sent it to is held back unless `--resend`."""
    made_by: tuple[str, ...] = ()
    """Fields whose value, case and surrounding spaces aside, names what a creation makes (a
    user tag's name, which its skip on a re-run goes by): two rows giving one value are
    refused, as sent they would make it twice."""

    @property
    def reaches_invitees(self) -> bool:
        """Whether a write of this operation e-mails people (a booking, a cancel, a no-show, a
        move, a resent notification, an invitation): never sent twice."""
        return self.notifies or (self.verify is not None and self.verify.reaches_invitees)

    @property
    def never_twice(self) -> bool:
        """Whether a write of this operation waits out `settle_seconds` before it is sent
        again while an earlier send may still land: it e-mails people (`reaches_invitees`),
        or creates (a POST: a second poll, tag, vote or booking, which no later write undoes).
        """
        return self.reaches_invitees or self.contract.method == "POST"

    @property
    def contract(self) -> Endpoint:
        return ENDPOINTS[self.endpoint]

    @property
    def is_list(self) -> bool:
        return self.list_wire is not None

    @property
    def time_flag(self) -> str | None:
        """The option that lifts the `when` guard: `--include-past` or `--include-future`."""
        if self.when is None:
            return "--include-past" if self.new_times else None
        return "--include-past" if self.when == "future" else "--include-future"

    @property
    def checkable(self) -> bool:
        """Whether the server can be asked if a write took effect (see `verify`)."""
        return self.verify is not None

    @property
    def cli_name(self) -> str:
        return f"{self.group} {self.command}"

    def field_names(self) -> set[str]:
        """The inputs: every field but those `complete` fills."""
        return {f.name for f in self.fields if not f.filled}


# --- reading values -----------------------------------------------------------------------------

_INT = re.compile(r"^[+-]?\d+$", re.ASCII)  # int() would read a full-width "１" as 1
_LIST_SPLIT = re.compile(r"[,;\s]+")
_DATETIME_LIST_SPLIT = re.compile(r"\s*[,;]\s*")
_TRUE = {"1", "true", "yes", "y", "on", "t"}
_FALSE = {"0", "false", "no", "n", "off", "f"}


def is_blank(value: Any) -> bool:
    """True for values that mean "not given": None, '' and whitespace."""
    return value is None or (isinstance(value, str) and not value.strip())


_INT64 = 2**63 - 1
_EXACT_FLOAT = 2**53
"""Beyond this a float no longer holds every integer: `1e30` is not anybody's id."""


def read_int(name: str, value: Any) -> int:
    """An integer from a CLI string, a CSV cell or a query value (64-bit, as the API's)."""
    out = _as_int(value)
    if out is None or not -_INT64 <= out <= _INT64:
        raise FieldError(name, f"expected an integer, got {value!r}")
    return out


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        # A DOUBLE column holding 5.0 is 5; 1e30 or 1.5 is no integer we could send.
        return int(value) if value.is_integer() and abs(value) <= _EXACT_FLOAT else None
    if isinstance(value, str):
        return int(value.strip()) if _INT.match(value.strip()) else None
    try:  # numpy / Decimal integers from a query
        as_int = int(value)
    except (TypeError, ValueError, ArithmeticError):
        return None
    return as_int if as_int == value else None


def read_value(f: Field, value: Any) -> Any:
    """`value` read as field `f`'s kind; raises FieldError with what was expected."""
    kind = f.kind
    if kind == "int":
        return read_int(f.name, value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise FieldError(f.name, f"expected true or false, got {value!r}")
    if kind == "datetime":
        return _datetime(f.name, value)
    if kind == "json":
        return _json(f.name, value)
    if kind in ("int_list", "str_list", "datetime_list"):
        items = _list(kind, value)
        if kind == "int_list":
            return [read_int(f.name, item) for item in items]
        if kind == "datetime_list":
            return _once_each([_datetime(f.name, item) for item in items])
        return _once_each([_text(f.name, item).strip() for item in items])
    return _text(f.name, value)


def _text(name: str, value: Any) -> str:
    """`value` as a text field's value: a string, or a number, date or UUID a typed source
    (a JSONL number, a query's column) gave; an object, a list or a flag (a JSONL row's
    `{"x": 1}`, `["a"]`, `true`) is refused, not sent as Python's rendering of it."""
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                # A byte the shell's encoding could not read (`$'caf\xe9'`), or half an
                # emoji (`\ud83d`): no request body, nor the journal, can carry it.
                raise FieldError(name, f"not UTF-8 text (character {exc.start + 1})") from None
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping | list | tuple | set | bool):
        kind = "an object" if isinstance(value, Mapping) else "a list"
        kind = "true or false" if isinstance(value, bool) else kind
        raise FieldError(name, f"expected text, got {kind}: {json.dumps(value, default=str)}")
    if isinstance(value, bytes | bytearray | memoryview | dt.timedelta | dt.time):
        # A query's BLOB, INTERVAL or TIME column: its Python rendering is no text anyone wrote.
        raise FieldError(name, f"expected text, got {type(value).__name__}: cast it to text")
    if isinstance(value, float | Decimal) and not math.isfinite(value):
        raise FieldError(name, f"expected text, got the number {value}")
    return str(value)


def _once_each(texts: list[str]) -> list[str]:
    """`texts` without repeats, ignoring case, in their first order: the lists are e-mails
    and booking starts, and one given twice in a request is invited, or booked, and e-mailed
    twice."""
    seen: set[str] = set()
    kept = []
    for text in texts:
        if text.casefold() not in seen:
            seen.add(text.casefold())
            kept.append(text)
    return kept


def _datetime(name: str, value: Any) -> str:
    # Query columns arrive as datetimes: send them as the request format, in UTC (naive
    # values are taken as UTC, as the warehouse stores them). Strings are checked by the DTO.
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return format_request_datetime(value)
    if isinstance(value, str):
        return value.strip()
    raise FieldError(name, f"expected a date and time as Y-m-d H:i:s, got {value!r}")


MAX_JSON_FILE = 16 << 20
"""The largest `@file` a JSON option reads: answers and rules are kilobytes; `@/dev/zero`
would fill the memory."""


def _json(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            with path.open("rb") as handle:
                raw = handle.read(MAX_JSON_FILE + 1)
            if len(raw) > MAX_JSON_FILE:
                raise FieldError(name, f"cannot read {path}: larger than {MAX_JSON_FILE >> 20} MiB")
            text = raw.decode("utf-8")
        except OSError as exc:
            raise FieldError(name, f"cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise FieldError(
                name, f"cannot read {path}: not UTF-8 text (byte {exc.start + 1})"
            ) from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise FieldError(name, f"not valid JSON ({exc.msg}); pass JSON or @file.json") from None
    except ValueError as exc:
        raise FieldError(name, f"not valid JSON ({exc}); pass JSON or @file.json") from None


def _no_constant(word: str) -> Any:
    """Python's json reads `NaN`, `Infinity` and `-Infinity`, which JSON has not (and a
    request body then carries as null)."""
    raise ValueError(f"{word} is no JSON value")


def _list(kind: str, value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, list):
                return parsed
        splitter = _DATETIME_LIST_SPLIT if kind == "datetime_list" else _LIST_SPLIT
        return [part for part in splitter.split(text) if part]
    return [value]


# --- building the request -----------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltRequest:
    """One item's share of a request: path parameters and its validated body fields."""

    path_params: dict[str, int]
    body: dict[str, Any] | None


def build_request(
    spec: OperationSpec, values: Mapping[str, Any], *, nulls: bool = False, whole: bool = True
) -> BuiltRequest:
    """Path parameters and DTO-validated body for one item; raises FieldError on bad input.

    For list endpoints the body is the item's part only (without the list of ids): items whose
    parts are equal share a list request. With `nulls` (a body `OperationSpec.complete`
    finished), a field `values` holds as None is known to be empty and is sent as null. A
    POST body carries every field its DTO lists unless `whole` is False (the body as asked,
    which names the item in the journal: the same as before POST bodies were filled).
    """
    path_params: dict[str, int] = {}
    body: dict[str, Any] = {}
    for f in spec.fields:
        raw = values.get(f.name)
        if raw is None and nulls and f.name in values and not f.path_param:
            _put(body, f.wire, None)
            continue
        if is_blank(raw):
            if f.required:
                raise FieldError(f.name, f"required (option {f.option} or column {f.name})")
            if f.blank is not None and not f.path_param:
                _put(body, f.wire, f.blank)
            continue
        value = read_value(f, raw)
        if f.path_param:
            if value < 1:
                raise FieldError(f.name, f"must be a positive id, got {value}")
            path_params[f.path_param] = value
        elif not (spec.is_list and f.name == spec.key):
            if f.wrap:
                value = [{f.wrap: item} for item in value]
            _put(body, f.wire, value)
    dto = spec.contract.body
    if dto is None:
        return BuiltRequest(path_params, None)
    if whole:
        for name in dto.path_echo:
            if name in path_params:
                body.setdefault(name, path_params[name])
    check = dict(body)
    if spec.is_list and spec.key is not None:
        key = read_int(spec.key, values.get(spec.key))
        if key < 1:
            raise FieldError(spec.key, f"must be a positive id, got {key}")
        check[spec.list_wire] = [key]  # type: ignore[index]
    try:
        model = dto.model_validate(check)
    except pydantic.ValidationError as exc:
        raise _field_error(spec, exc) from None
    if whole and spec.contract.method == "POST":
        # A new record has no current values to complete the body with: what the user left
        # out goes as null, so a server that refuses a body missing a listed field accepts it.
        model, nulls = with_every_field(model), True
    elif whole:
        _refuse_partial_objects(spec, model)
    # A field known to be empty is sent as null, not left out (nested ones too, such as an
    # answer's value): a server that refuses a body missing it accepts it, and one that
    # replaces keeps it empty.
    payload = model.payload(nulls=nulls)
    if spec.is_list:
        payload.pop(spec.list_wire, None)  # type: ignore[arg-type]
    return BuiltRequest(path_params, payload)


def list_body(spec: OperationSpec, shared: Mapping[str, Any], keys: Sequence[int]) -> dict:
    """The body of one list request: the items' shared part plus the chunk of keys."""
    return {**shared, spec.list_wire: list(keys)}  # type: ignore[dict-item]


def _put(body: dict[str, Any], wire: str, value: Any) -> None:
    parts = wire.split(".")
    node = body
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _refuse_partial_objects(spec: OperationSpec, model: pydantic.BaseModel) -> None:
    """Refuse an object given as JSON (an availability rule, an edited answer) that leaves out
    a field its request DTO lists and does not call optional.

    A PUT body's own fields are completed from the current values (`OperationSpec.complete`),
    but an object the user wrote has none to complete it with, and a server that reads it
    whole would read the missing field as empty: a rule without `hourIntervals` wipes the
    event type's hours."""
    given_as_json = {f.wire.split(".")[0]: f for f in spec.fields if f.kind == "json"}
    if not isinstance(model, RequestDTO):
        return
    for name in missing_fields(model):
        top, _, inner = name.partition(".")
        if inner and top in given_as_json:
            raise FieldError(given_as_json[top].name, f"{name}: required (null for none)")


def _field_error(spec: OperationSpec, exc: pydantic.ValidationError) -> FieldError:
    """The first DTO error, named after the field a user typed rather than the wire path
    (and, inside an object given as JSON, where in it: `availabilityRules.0.hourIntervalz`)."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if not isinstance(p, int))
    name = loc or "body"
    wire = loc
    for f in spec.fields:
        if f.wire == loc or loc.startswith(f.wire + "."):
            name, wire = f.name, f.wire
            break
    message = str(err.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    if err.get("type") == "missing":
        message = "required"
    elif err.get("type") == "extra_forbidden":
        message = "not a field of this request"
    if loc != wire:
        message = f"{'.'.join(str(p) for p in err['loc'])}: {message}"
    return FieldError(name, message)
