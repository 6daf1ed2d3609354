"""From input rows to a Plan: every row validated, checked against the warehouse, keyed.

Nothing is sent while planning. A plan with invalid rows is refused as a whole (`InvalidRows`
lists each bad row and why), so a typo in row 812 never leaves 811 rows half-applied. Items
already in the target state (an event already canceled, a tag already on the event type) are
skipped and reported, not sent.

Identity, used by the journal to resume (see `journal.py`):
- an item's key is its target plus a hash of its payload: `id=123#5d41402abc`. The same event
  with a different reason or note is a different item; the same write is the same item.
- a job's id is `--job NAME` when given, else a hash of the operation and every valid item's
  key (skipped ones included, since that set depends only on the input). Re-running the same
  command on the same input therefore resumes the same job; on another input it is another
  job, which finds what earlier jobs did to its targets by target (`journal.earlier_jobs_of`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from simplymeet.contract.dates import parse_request_datetime
from simplymeet.contract.endpoints import ENDPOINTS
from simplymeet.sync.values import as_id
from simplymeet.writeback.baseline import (
    booking_identities,
    bookings_baseline,
    event_baseline,
    polls_baseline,
)
from simplymeet.writeback.operations import same_change
from simplymeet.writeback.spec import (
    FieldError,
    OperationSpec,
    build_request,
    is_blank,
    list_body,
    read_value,
)
from simplymeet.writeback.targets import Row
from simplymeet.writeback.warehouse import WarehouseView


@dataclass(frozen=True)
class Item:
    """One write: a target and its payload, validated and ready to be put in a request."""

    key: str
    """Resume key: target identity + payload hash, e.g. `id=123#5d41402abc`."""
    target: str
    """What a person reads: `event 123`, `event type 5, tag 3`, `bookings.csv line 4`."""
    target_id: int | None
    source: str
    values: dict[str, Any]
    """The input values, read as their fields' kinds (what checks and verification use)."""
    path_params: dict[str, int]
    body: dict[str, Any] | None
    """Per-item endpoints: the request body. List endpoints: the part shared with a chunk."""
    baseline: Any = None
    """What the target was before the write (`baseline.py`), for writes that reach invitees:
    the proof, when an answer is lost, that the write did not happen. None: no proof."""
    filled: tuple[str, ...] = ()
    """The values the operation's `fill` took from the warehouse, not from the input: read
    again from the server before sending (`server_current.checked_on_server`)."""


@dataclass(frozen=True)
class Invalid:
    """A row that cannot be sent, and why."""

    source: str
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.source}: {where}{self.message}"


@dataclass(frozen=True)
class Skipped:
    """An item that needs no request, and why (already in the target state)."""

    item: Item
    reason: str
    """Why; a part after `DETAIL` names this item's own evidence, left out where reasons
    are counted."""


DETAIL = " · "


@dataclass(frozen=True)
class Request:
    """One HTTP request a plan sends: endpoint, path and exact JSON body, and its items."""

    endpoint: str
    path_params: dict[str, int]
    body: dict[str, Any] | None
    items: tuple[Item, ...]
    resend: int = 0
    """0 for a first send; n when its items were found not applied after n ambiguous answers."""

    @property
    def method(self) -> str:
        return ENDPOINTS[self.endpoint].method

    @property
    def path(self) -> str:
        return ENDPOINTS[self.endpoint].url_path(**self.path_params)

    def line(self) -> str:
        """`PUT /panel/api/event/cancel-list {"ids":[1,2],"reason":"x"}`: what goes on the wire."""
        text = f"{self.method} {self.path}"
        if self.body is not None:
            text += " " + json.dumps(self.body, separators=(",", ":"), ensure_ascii=False)
        return text


class InvalidRows(ValueError):
    """Some input rows are invalid: nothing was sent. `invalid` lists each one."""

    def __init__(self, plan: Plan) -> None:
        count = len(plan.invalid)
        first = "; ".join(str(i) for i in plan.invalid[:3])
        more = f" (and {count - 3} more)" if count > 3 else ""
        super().__init__(f"{count} invalid row(s), nothing sent: {first}{more}")
        self.plan = plan
        self.invalid = plan.invalid


@dataclass
class Plan:
    """What a job will do: items to send, items skipped, rows refused, and the job's id."""

    spec: OperationSpec
    job_id: str
    items: list[Item]
    skipped: list[Skipped] = field(default_factory=list)
    invalid: list[Invalid] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: int = 0
    duplicates: int = 0
    chunk_size: int = 100
    account: str | None = None
    """With `[[accounts]]`: the account the plan was checked against (its job id ends in
    `@account`); its targets are that account's, not another's with the same ids."""
    option_problem: str | None = None
    """Set when every invalid row is invalid for one reason, an option's value: that problem
    (`--option: message`), to say once."""
    wrong_side_allowed: bool = False
    """Whether `--include-past` (or `--include-future`, for an operation about the past) let
    targets on the wrong side of now through: judged again when sent (`wrong_side_of`)."""
    nothing_selected: str | None = None
    """Why the plan is empty although targets were asked for (a `--sql` query that selected
    no rows): nothing to do, which is no error."""

    @property
    def ok(self) -> bool:
        return not self.invalid

    def requests(self, items: Sequence[Item] | None = None) -> list[Request]:
        """The requests that send `items` (default: all of the plan's), in input order.

        List endpoints: items with the same shared payload go together, `chunk_size` keys per
        request. Every other endpoint: one request per item.
        """
        chosen = list(self.items if items is None else items)
        spec = self.spec
        if not spec.is_list:
            return [Request(spec.endpoint, i.path_params, i.body, (i,)) for i in chosen]
        groups: dict[str, list[Item]] = {}
        for item in chosen:
            groups.setdefault(_canonical(item.body or {}), []).append(item)
        out: list[Request] = []
        size = max(1, self.chunk_size)
        for members in groups.values():
            shared = members[0].body or {}
            for start in range(0, len(members), size):
                chunk = tuple(members[start : start + size])
                keys = [i.target_id for i in chunk]
                body = list_body(spec, shared, keys)  # type: ignore[arg-type]
                out.append(Request(spec.endpoint, {}, body, chunk))
        return out

    def item_requests(self, items: Sequence[Item]) -> list[Request]:
        """Per-item requests for a list operation's items (to isolate a refused chunk)."""
        name = self.spec.item_endpoint
        if name is None:
            raise ValueError(f"{self.spec.endpoint} has no per-item endpoint")
        endpoint = ENDPOINTS[name]
        out = []
        for item in items:
            body = item.body if endpoint.body is not None else None
            out.append(Request(name, {"id": item.target_id}, body, (item,)))  # type: ignore[dict-item]
        return out


MISSPELLED_RATIO = 0.85
"""How alike (difflib's ratio) a column is to a field for the column to be refused as its
misspelling: `reasn` (0.91), `mesage` (0.92), `ends` (0.86) are; `state` against `start`
(0.8) is not."""


def _refuse_misspelled(spec: OperationSpec, rows: Sequence[Row]) -> None:
    """Raise when a column of a file or a query is not a field of `spec` but all but spells
    one: its value would be dropped, and the write sent without it (a cancel without its
    reason). A query's column named like one the warehouse holds (`select *` brings
    `event_type_kind`, near `event_type_id`) is only warned of."""
    names = sorted(spec.field_names())
    named = {c for r in rows for c in r.values if c not in r.held}
    for column in sorted(named - spec.field_names()):
        close = difflib.get_close_matches(column.lower(), names, n=1, cutoff=MISSPELLED_RATIO)
        if close:
            raise ValueError(
                f"column {column!r} is not one {spec.cli_name} reads: did you mean "
                f"{close[0]!r}? Rename it, or remove it"
            )


def build_plan(
    spec: OperationSpec,
    rows: Sequence[Row],
    options: Mapping[str, Any] | None = None,
    *,
    view: WarehouseView | None,
    chunk_size: int = 100,
    job: str | None = None,
    include_past: bool = False,
    include_future: bool = False,
    now: dt.datetime | None = None,
) -> Plan:
    """Validate `rows` (with `options` as defaults for every row) into a Plan.

    `view` is the warehouse to check ids and states against; None skips those checks (for
    library callers without a warehouse; the commands always check). Bookings on the wrong
    side of `now` for the operation (`OperationSpec.when`) are invalid rows unless
    `include_past` / `include_future`; included, they are counted in a warning.
    """
    defaults = {k: v for k, v in (options or {}).items() if not is_blank(v)}
    unknown_defaults = sorted(set(defaults) - spec.field_names())
    if unknown_defaults:
        raise ValueError(f"{spec.cli_name} has no option(s) {', '.join(unknown_defaults)}")
    rows = list(rows)
    if spec.single and rows:
        raise ValueError(f"{spec.cli_name} takes no --ids/--ids-file/--sql: it has one target")
    if not rows:
        if spec.key is not None and spec.key not in defaults:
            raise ValueError(f"{spec.cli_name} needs targets: give --ids, --ids-file or --sql")
        rows = [Row("options", {})]
    folded = sum(row.repeats for row in rows)  # repeated ids an ids file's reading folded
    plan = Plan(spec, job_id="", items=[], rows=len(rows) + folded, chunk_size=chunk_size)
    plan.duplicates = folded
    plan.wrong_side_allowed = include_past if spec.when == "future" else include_future
    ignored = sorted({c for r in rows for c in r.values} - spec.field_names())
    _refuse_misspelled(spec, rows)
    if ignored:
        plan.warnings.append(f"ignored column(s) not used by {spec.cli_name}: {', '.join(ignored)}")

    typed_rows: list[tuple[Row, dict[str, Any]]] = []
    for row in rows:
        merged = {**defaults, **{k: v for k, v in row.values.items() if not is_blank(v)}}
        try:
            typed = {f.name: read_value(f, merged[f.name]) for f in spec.fields if f.name in merged}
        except FieldError as exc:
            plan.invalid.append(Invalid(row.source, exc.message, exc.field))
            continue
        typed_rows.append((row, typed))
    filled: dict[int, tuple[str, ...]] = {}
    if spec.fill is not None and view is not None and typed_rows:
        given = {id(row): typed for row, typed in typed_rows}
        typed_rows = _fill(plan, view, typed_rows)
        for row, typed in typed_rows:
            before = given[id(row)]
            filled[id(row)] = tuple(sorted(k for k, v in typed.items() if before.get(k) != v))
    wholes: list[dict[str, Any] | None] = [None] * len(typed_rows)
    if spec.complete is not None and view is not None and typed_rows:
        typed_rows, wholes = _complete(plan, view, typed_rows)

    candidates: list[Item] = []
    for (row, typed), whole in zip(typed_rows, wholes, strict=True):
        try:
            built = build_request(spec, typed if whole is None else whole, nulls=whole is not None)
            # The key is the body as asked: what the user gave, not what was added to it.
            asked = _asked_body(spec, typed, built.body, whole is not None)
        except FieldError as exc:
            plan.invalid.append(Invalid(row.source, exc.message, exc.field))
            continue
        # The item's key is what the user asked for, not the current values its body was
        # completed with: a sync between a run and its re-run changes those, and a re-run
        # must recognise the items it journaled.
        item = _item(spec, row, typed, built.path_params, built.body, asked)
        candidates.append(replace(item, filled=filled.get(id(row), ())))

    candidates = _dedupe(plan, candidates)
    if view is not None:
        candidates = _check_references(plan, view, candidates)
    states = _states(spec, view, candidates) if view is not None else [None] * len(candidates)
    if view is not None:
        candidates = _with_baselines(spec, view, candidates, states)
    keys: list[str] = []
    included = new_in_the_past = 0
    for item, state in zip(candidates, states, strict=True):
        problem = _problem(spec, item, state)
        if problem is not None:
            plan.invalid.append(Invalid(item.source, problem))
            continue
        keys.append(item.key)
        reason = skip_reason(spec, item, state)
        if reason is not None:
            plan.skipped.append(Skipped(item, reason))
            continue
        at = now or dt.datetime.now(dt.UTC)
        past = _new_time_in_the_past(spec, item.values, at)
        if past is not None:
            if not include_past:
                plan.invalid.append(
                    Invalid(item.source, f"{past}: pass --include-past to {spec.command} it anyway")
                )
                continue
            new_in_the_past += 1
        side = _wrong_side(spec, state, at)
        if side is not None:
            allowed = include_past if spec.when == "future" else include_future
            if not allowed:
                plan.invalid.append(
                    Invalid(
                        item.source,
                        f"{item.target} {side}: pass {spec.time_flag} to "
                        f"{spec.command.removesuffix('-list')} it anyway",
                    )
                )
                continue
            included += 1
        plan.items.append(item)
    if included:
        word = "past" if spec.when == "future" else "future"
        plan.warnings.append(f"{included:,} target(s) in the {word}, included by {spec.time_flag}")
    if new_in_the_past:
        plan.warnings.append(
            f"{new_in_the_past:,} new start(s) in the past, included by --include-past"
        )
    plan.option_problem = _one_option_problem(spec, plan, defaults, rows)
    plan.job_id = job or job_id_for(spec, keys)
    return plan


def _one_option_problem(
    spec: OperationSpec, plan: Plan, defaults: Mapping[str, Any], rows: Sequence[Row]
) -> str | None:
    """The problem when every invalid row is invalid for the same reason, an option no row
    overrides (`--availability-rules` with a typo): `--option: message`, said once rather
    than once per target; else None."""
    problems = {(i.field, i.message) for i in plan.invalid}
    if len(problems) != 1:
        return None
    [(name, message)] = problems
    if name is None or name not in defaults or any(name in r.values for r in rows):
        return None
    return f"{_option(spec, name)}: {message}"


def _option(spec: OperationSpec, name: str) -> str:
    """The option of the field `name` (`--tag-id`), or the name when no field has it."""
    return next((f.option for f in spec.fields if f.name == name), name)


def _new_time_in_the_past(
    spec: OperationSpec, values: Mapping[str, Any], now: dt.datetime
) -> str | None:
    """Which new start of the item (`OperationSpec.new_times`) is before `now`, or None."""
    for name in spec.new_times:
        given = values.get(name)
        for text in given if isinstance(given, list) else [given]:
            try:
                start = parse_request_datetime(text) if isinstance(text, str) else None
            except ValueError:
                continue  # the request's DTO names a start it cannot read
            if start is not None and start < now:
                return f"{name} {text} is in the past"
    return None


def wrong_side_of(plan: Plan, item: Item, state: Any, now: dt.datetime) -> str | None:
    """Why `item` may not be sent, its target (`state`) on the wrong side of `now` for its
    operation, where the plan's options did not allow that; else None."""
    side = _wrong_side(plan.spec, state, now)
    if side is None or plan.wrong_side_allowed:
        return None
    spec = plan.spec
    return (
        f"{item.target} {side}: pass {spec.time_flag} to "
        f"{spec.command.removesuffix('-list')} it anyway"
    )


def _wrong_side(spec: OperationSpec, state: Any, now: dt.datetime) -> str | None:
    """How a booking is on the wrong side of now for the operation (`when`), or None."""
    if spec.when is None or not isinstance(state, Mapping):
        return None
    start = state.get("scheduled_at")
    if not isinstance(start, dt.datetime):
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=dt.UTC)
    when = start.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if spec.when == "future" and start <= now:
        return f"started {when}, in the past"
    if spec.when == "past" and start > now:
        return f"starts {when}, in the future"
    return None


def job_id_for(spec: OperationSpec, item_keys: Sequence[str]) -> str:
    """The default job id: the operation and its sorted item keys, hashed."""
    digest = hashlib.sha256(spec.endpoint.encode())
    for key in sorted(item_keys):
        digest.update(b"\n" + key.encode())
    return f"{spec.endpoint}-{digest.hexdigest()[:12]}"


def _fill(
    plan: Plan, view: WarehouseView, typed_rows: list[tuple[Row, dict[str, Any]]]
) -> list[tuple[Row, dict[str, Any]]]:
    """Rows completed from the warehouse by the operation's `fill`; the others are invalid."""
    filled = plan.spec.fill(  # type: ignore[misc]
        [values for _, values in typed_rows], view
    )
    out: list[tuple[Row, dict[str, Any]]] = []
    for (row, _), values in zip(typed_rows, filled, strict=True):
        if isinstance(values, FieldError):
            plan.invalid.append(Invalid(row.source, values.message, values.field))
        else:
            out.append((row, values))
    return out


def _asked_body(spec: OperationSpec, typed: dict[str, Any], body: Any, completed: bool) -> Any:
    """The body as the user asked it (`typed` alone, validated as the request's DTO). Of a
    body the current values completed, a field its DTO requires may be one the user left
    to them (a tag's name when only its color changes): the fields given are taken from the
    completed body then."""
    try:
        return build_request(spec, typed, whole=False).body
    except FieldError:
        if not completed or not isinstance(body, dict):
            raise
    given = {f.wire for f in spec.fields if f.name in typed and not f.path_param}
    return {wire: value for wire, value in body.items() if wire in given}


def _complete(
    plan: Plan, view: WarehouseView, typed_rows: list[tuple[Row, dict[str, Any]]]
) -> tuple[list[tuple[Row, dict[str, Any]]], list[dict[str, Any] | None]]:
    """Rows whose bodies the operation's `complete` can finish, each with the values its body
    is built from; the others are invalid (a field's current value is unknown)."""
    completed = plan.spec.complete(  # type: ignore[misc]
        [values for _, values in typed_rows], view
    )
    rows: list[tuple[Row, dict[str, Any]]] = []
    wholes: list[dict[str, Any] | None] = []
    for (row, values), whole in zip(typed_rows, completed, strict=True):
        if isinstance(whole, FieldError):
            plan.invalid.append(Invalid(row.source, whole.message, whole.field))
        else:
            rows.append((row, values))
            wholes.append(whole)
    return rows, wholes


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _item(
    spec: OperationSpec,
    row: Row,
    values: dict[str, Any],
    path_params: dict[str, int],
    body: dict[str, Any] | None,
    asked: dict[str, Any] | None,
) -> Item:
    target_id = values.get(spec.key) if spec.key else None
    if spec.is_list:
        identity = f"{spec.list_wire}={target_id}"
    elif path_params:
        identity = ",".join(f"{k}={v}" for k, v in path_params.items())
    elif spec.single:
        identity = spec.endpoint
    else:
        identity = "new"
    digest = hashlib.sha256(_canonical(asked).encode()).hexdigest()[:10]
    return Item(
        key=f"{identity}#{digest}",
        target=_label(spec, values, path_params, row),
        target_id=target_id,
        source=row.source,
        values=values,
        path_params=path_params,
        body=body,
    )


def _label(
    spec: OperationSpec, values: Mapping[str, Any], path_params: Mapping[str, int], row: Row
) -> str:
    if spec.key == "id" and spec.group == "event":
        return f"event {values['id']}"
    if spec.group == "event-type-tag":
        return f"event type {values['event_type_id']}, tag {values['tag_id']}"
    if spec.key is not None:
        noun = spec.group.replace("-", " ") if spec.key == "id" else "event type"
        return f"{noun} {values[spec.key]}"
    if spec.single:
        return spec.group.replace("-", " ")
    return row.source


def _dedupe(plan: Plan, items: list[Item]) -> list[Item]:
    """Drop exact repeats of a write to a target; refuse one target given two different
    payloads, a creation asked twice alike, and two rows that would make one thing twice
    (`_made_twice`)."""
    seen: dict[str, Item] = {}
    by_target: dict[str, Item] = {}
    made: dict[str, Item] = {}
    out: list[Item] = []
    for item in items:
        if item.key in seen:
            if item.key.startswith("new#"):
                # Two rows that book (or vote, or create) alike: a join that fanned out, or a
                # paste done twice. Sent once, the file's other mistake would go unsaid.
                plan.invalid.append(
                    Invalid(
                        item.source,
                        f"repeats {seen[item.key].source}: sent, it would be made twice",
                    )
                )
                continue
            plan.duplicates += 1
            continue
        seen[item.key] = item
        names = _made_twice(plan.spec, item)
        clash = next((name for name in names if name in made), None)
        if clash is not None:
            plan.invalid.append(
                Invalid(
                    item.source,
                    f"{clash} is asked in {made[clash].source} too: sent, it would be made twice",
                )
            )
            continue
        made.update(dict.fromkeys(names, item))
        identity = item.key.split("#", 1)[0]
        if identity not in ("new",) and identity in by_target:
            first = by_target[identity]
            plan.invalid.append(
                Invalid(
                    item.source,
                    f"{item.target} is also in {first.source} with different values",
                )
            )
            continue
        by_target[identity] = item
        out.append(item)
    if plan.duplicates:
        plan.warnings.append(f"{plan.duplicates} duplicate row(s) ignored")
    return out


def _made_twice(spec: OperationSpec, item: Item) -> tuple[str, ...]:
    """What a creation's body makes that another row's must not make again: a booking of one
    invitee (e-mail, case aside), event type and start (`booking_identities`), whatever its
    other details; a voter's vote in a poll; what `spec.made_by` names (a user tag of one
    name, whatever its color). Rows differing in a name or an e-mail's case are still one
    booking, one vote, one e-mail."""
    made = tuple(
        f"a {spec.group.replace('-', ' ')} with {field} {str(value).strip().casefold()!r}"
        for field in spec.made_by
        if (value := item.values.get(field)) is not None and str(value).strip()
    )
    body = item.body
    if not isinstance(body, dict):
        return made
    if "uuid" in body and "email" in body:
        voter = str(body.get("email") or "").strip().casefold()
        return (f"a vote of {voter} in poll {body.get('uuid')}",) if voter else made
    return made + booking_identities(body)


def _check_references(plan: Plan, view: WarehouseView, items: list[Item]) -> list[Item]:
    bad: set[str] = set()
    for ref in plan.spec.references:
        values = {i.values[ref.field] for i in items if i.values.get(ref.field) is not None}
        found: set[Any] = set()
        if "__" not in ref.table:
            view.table(ref.table)  # never synced: say so (a child table is absent when empty)
        for table in (t for t in (ref.table, *ref.also) if t in view.tables):
            found |= set(view.rows_by(table, ref.column, values - found, ()))
        found |= _deleted_by_writeback(plan.spec, view, ref.field, values - found)
        if not ref.required:
            if unknown := sorted(values - found):
                tables = " or ".join(f"{view.dataset}.{t}" for t in (ref.table, *ref.also))
                plan.warnings.append(
                    f"{_option(plan.spec, ref.field)}: {', '.join(map(str, unknown))} not in "
                    f"{tables}: sent as given (no endpoint lists every one)"
                )
            continue
        for item in items:
            value = item.values.get(ref.field)
            if value is not None and value not in found and item.key not in bad:
                bad.add(item.key)
                plan.invalid.append(
                    Invalid(
                        item.source,
                        f"{value} is not in the warehouse ({view.dataset}.{ref.table}."
                        f"{ref.column}); sync first if it is new",
                        ref.field,
                    )
                )
    return [i for i in items if i.key not in bad]


def _deleted_by_writeback(
    spec: OperationSpec, view: WarehouseView, field: str, missing: set[Any]
) -> set[Any]:
    """Of a delete's targets missing from the warehouse, those the journal shows this
    operation sent a delete to: a job's re-run after its refresh or a sync resumes them
    (done, or checked on the server) instead of refusing them as unknown ids."""
    if not missing or spec.key != field or ENDPOINTS[spec.endpoint].method != "DELETE":
        return set()
    return view.journaled_deleted(same_change(spec), missing)


def tags_named(tags: Mapping[int, Mapping[str, Any]], items: Sequence[Item]) -> list[Any]:
    """Per item, the user tag of `tags` (by id) its `name` names, in any letter case."""
    by_name = {str(t["name"]).casefold(): t for t in tags.values()}
    return [by_name.get(str(i.values.get("name", "")).casefold()) for i in items]


def _states(spec: OperationSpec, view: WarehouseView | None, items: list[Item]) -> list[Any]:
    """What the warehouse says about each item's target (see `OperationSpec.state`)."""
    if view is None or spec.state is None:
        return [None] * len(items)
    kind = spec.state
    if kind == "event":
        rows = view.event_rows(i.target_id for i in items)  # type: ignore[misc]
        return [rows.get(i.target_id, {}) for i in items]
    if kind == "event_type":
        choices = view.event_type_choices(i.values.get("event_type") for i in items)
        return [choices.get(as_id(i.values.get("event_type"))) for i in items]
    if kind == "tag_link":
        links = view.tag_links(i.values["event_type_id"] for i in items)
        return [(i.values["event_type_id"], i.values["tag_id"]) in links for i in items]
    if kind == "user_tag":
        tags = view.user_tags()
        return [tags.get(i.values["id"]) for i in items]
    if kind == "user_tag_by_name":
        # A create makes the tag for the key's user: a colleague's of that name is no skip.
        return tags_named(view.user_tags(own=True), items)
    if kind == "poll_vote":
        polls = view.polls_by_uuid()
        return [polls.get(str(i.values.get("uuid"))) for i in items]
    policy = view.latest_policy(kind.removesuffix("_policy"))
    return [policy] * len(items)


def _with_baselines(
    spec: OperationSpec, view: WarehouseView, items: list[Item], states: list[Any]
) -> list[Item]:
    """Items with what their target was before the write, when it reaches invitees, and a
    poll creation's same-named polls (polls may share a name: one of them is no proof)."""
    verify = spec.verify
    if spec.endpoint == "poll_create":
        known = view.poll_ids()

        def named(item: Item) -> set[int]:
            type_id = item.values.get("event_type_id")
            return known.get((str(item.values.get("name")), as_id(type_id)), set())

        return [replace(item, baseline=polls_baseline(named(item))) for item in items]
    if verify is None or not verify.reaches_invitees:
        return items
    if verify.fetch == "event":
        return [
            replace(item, baseline=event_baseline(state))
            if isinstance(state, Mapping) and state
            else item
            for item, state in zip(items, states, strict=True)
        ]
    if verify.fetch == "events_by_invitee":

        def booker(item: Item) -> tuple[str, Any]:
            return str(item.values.get("invitee_email") or ""), item.values.get("event_type")

        found = view.booking_ids(booker(i) for i in items)
        return [
            replace(item, baseline=bookings_baseline(found.get(booker(item), set())))
            for item in items
        ]
    return items


def _problem(spec: OperationSpec, item: Item, state: Any) -> str | None:
    """Why an item cannot be sent given its warehouse state, or None."""
    return spec.check(item.values, state) if spec.check is not None else None


GONE_ALREADY = "already deleted"
GONE_UPSTREAM = "deleted upstream"
"""The skips of an item whose target the warehouse holds deleted: no server can undo them."""


def skip_reason(spec: OperationSpec, item: Item, state: Any) -> str | None:
    """Why an item needs no request (already in the target state, or gone), or None."""
    if spec.state == "event" and isinstance(state, Mapping) and state.get("deleted_at"):
        return GONE_ALREADY if spec.marks_deleted else GONE_UPSTREAM
    if spec.skip is not None and state is not None:
        return spec.skip(item.values, state)
    return None
