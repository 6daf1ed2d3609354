"""Fields a server sends that the reference does not know: kept in `_extra`, never dropped.

A row's unknown fields are those absent from its contract DTO (`Table.dto`), at the top level
and inside the nested objects the table flattens into columns (an event's `invitee`, `payment`,
`cancellation`). Nested objects the table only references by id (an event's `user`) land whole
in their own table, which keeps their unknown fields. A field is known in the reference's
spelling and in any other spelling a column reads (`Col.paths`, e.g. `overwritePersonal` beside
the reference's `overwrite_personal`); `scheduled_at` for `scheduledAt` is read by no column,
so it is kept here rather than dropped.

`_extra` holds them as a JSON object shaped like the DTO: `{"loyaltyTier": "gold",
"invitee": {"pronouns": "she"}}`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from simplymeet.contract.dtos import ResponseDTO
from simplymeet.landing_schema import EXTRA, SYNCED_AT, TEXT, Child, Table

_dumps = json.JSONEncoder(separators=(",", ":"), sort_keys=True, default=str).encode


@functools.cache
def wire_order(dto: type[ResponseDTO]) -> tuple[str, ...]:
    """The wire names of `dto`'s fields, as the reference spells and lists them."""
    names: dict[str, None] = {}
    for name, info in dto.model_fields.items():
        names.update((spelling, None) for spelling in (name, info.alias) if spelling)
    return tuple(names)


@functools.cache
def known_fields(dto: type[ResponseDTO]) -> frozenset[str]:
    """The wire names of `dto`'s fields, as the reference spells them."""
    return frozenset(wire_order(dto))


def in_wire_order(names: Iterable[str], dtos: Sequence[type[ResponseDTO]]) -> list[str]:
    """`names` in the order `dtos` list them (the order a server is likely to send them);
    names they do not list after those, sorted."""
    rank: dict[str, int] = {}
    for dto in dtos:
        for name in wire_order(dto):
            rank.setdefault(name, len(rank))
    return sorted(names, key=lambda name: (rank.get(name, len(rank)), name))


def field_dtos(dto: type[ResponseDTO], key: str) -> tuple[type[ResponseDTO], ...]:
    """The DTOs the object field `key` of `dto` may hold (none for any other field)."""
    info = dto.model_fields.get(key)
    return _dtos_in(info.annotation) if info is not None else ()


def _dtos_in(annotation: Any) -> tuple[type[ResponseDTO], ...]:
    """The DTO classes an annotation such as `UserDTO | SimpleUserDTO | None` names."""
    if isinstance(annotation, type) and issubclass(annotation, ResponseDTO):
        return (annotation,)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(dto for arg in typing.get_args(annotation) for dto in _dtos_in(arg))
    return ()


_PLANS: dict[str, tuple[frozenset[str], tuple[tuple[str, frozenset[str]], ...]]] = {}

_REFERENCES = frozenset({"user", "eventType"})
"""Embedded objects another list serves whole (an event's owner, UserDTO; its type,
EventTypeDTO): a field they gain is the user list's or the event type list's to keep, read
there, not the embedding row's, however many of their fields the row lands."""


def _plan(table: Table) -> tuple[frozenset[str], tuple[tuple[str, frozenset[str]], ...]]:
    """What `table.dto` knows at the top level, and the nested objects the table flattens
    into columns with what their DTOs know. An object read only for its `id`, or one another
    list serves whole (`_REFERENCES`: an event's `user`), is left out. Kept per table name:
    hashing a Table costs more than reading a row."""
    plan = _PLANS.get(table.name)
    if plan is None:
        assert table.dto is not None
        top: set[str] = set()
        inner: dict[str, set[str]] = {}
        for col in table.columns:
            if col.attached:
                continue
            for path in col.paths:
                if len(path) == 1:
                    top.add(path[0])
                elif len(path) == 2:
                    inner.setdefault(path[0], set()).add(path[1])
        nested = []
        for key, read in sorted(inner.items()):
            info = table.dto.model_fields.get(key)
            reference = read == {"id"} or key in _REFERENCES
            dtos = _dtos_in(info.annotation) if info is not None and not reference else ()
            if dtos:
                known = frozenset().union(read, *(known_fields(dto) for dto in dtos))
                nested.append((key, known))
        plan = _PLANS[table.name] = (known_fields(table.dto) | top, tuple(nested))
    return plan


def known_plan(table: Table) -> tuple[frozenset[str], tuple[tuple[str, frozenset[str]], ...]]:
    """The field names `table.dto` knows at the top level, and for each nested object the
    table flattens into columns, the names its DTO knows (what decides `_extra`)."""
    return _plan(table)


def unknown(table: Table, row: dict[str, Any]) -> dict[str, Any] | None:
    """The fields of `row` that `table.dto` does not know, shaped like the DTO; None if none."""
    if table.dto is None:
        return None
    return _unknown(row, *_plan(table))


def _unknown(
    row: dict[str, Any],
    known: frozenset[str],
    nested: tuple[tuple[str, frozenset[str]], ...],
) -> dict[str, Any] | None:
    extra: dict[str, Any] | None = None
    if not known.issuperset(row):  # the common case costs one pass over the keys, no set
        for key in row.keys() - known:
            if not key.startswith("__"):
                extra = extra or {}
                extra[key] = row[key]
    for key, inner_known in nested:
        value = row.get(key)
        if isinstance(value, dict) and not inner_known.issuperset(value):
            extra = extra or {}
            extra[key] = {k: v for k, v in value.items() if k not in inner_known}
    return extra


def extra_column(table: Table, rows: Iterable[dict[str, Any]]) -> pa.Array:
    """The `_extra` column for `rows`: JSON text where a row has unknown fields, else null."""
    if table.dto is None:
        return pa.nulls(sum(1 for _ in rows), TEXT)
    known, nested = _plan(table)
    values: list[str | None] = []
    append = values.append
    found_any = False
    for row in rows:
        # The common case, checked inline: only known keys, no flattened object to look into.
        if not nested and type(row) is dict and known.issuperset(row):
            append(None)
            continue
        found = _unknown(row if isinstance(row, dict) else {}, known, nested)
        if found is None:
            append(None)
        else:
            found_any = True
            append(_dumps(found))
    return pa.array(values, type=TEXT) if found_any else pa.nulls(len(values), TEXT)


def child_extra_column(child: Child, parents: Sequence[dict[str, Any]]) -> pa.Array:
    """`_extra` of a child table, in the order its items appear under `parents`."""
    get = _list_getter(child.list_path)
    return extra_column(child.table, [item for parent in parents for item in get(parent) or ()])


def _list_getter(path: tuple[str, ...]) -> Any:
    if len(path) == 1:
        (key,) = path
        return lambda parent: parent.get(key)

    def deep(parent: dict[str, Any]) -> Any:
        value: Any = parent
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return deep


def field_names(table: Table, extras: Iterable[str | None]) -> list[str]:
    """Dotted names of every unknown field in `table`'s `_extra` values (`invitee.pronouns`)."""
    nested = {key for key, _ in _plan(table)[1]} if table.dto is not None else set()
    names: set[str] = set()
    for text in extras:
        if not text:
            continue
        for key, value in json.loads(text).items():
            if key in nested and isinstance(value, dict):
                names.update(f"{key}.{inner}" for inner in value)
            else:
                names.add(key)
    return sorted(names)


def landed(
    client: Any, tables: Iterable[Table], synced_at: dt.datetime, account: str
) -> dict[str, list[str]]:
    """Unknown fields per table among the rows `account`'s run that started at `synced_at`
    loaded (accounts syncing side by side share the tables)."""
    # Tables holding the column: dlt adds it to a table only with a load that writes it (a
    # table of a version before `_extra` that this run left unchanged has none).
    present = {
        row[0]
        for row in client.execute_sql(
            "select table_name from information_schema.columns "
            "where table_schema = %s and column_name = %s",
            client.dataset_name,
            EXTRA,
        )
        or []
    }
    read = [table for table in tables if table.has_extra and table.name in present]
    if not read:
        return {}
    # One statement for every table (see `cleanup.row_counts`).
    parts = [
        f"select distinct {index} as k, {EXTRA} as extra "
        f"from {client.make_qualified_table_name(table.name)} "
        f"where {SYNCED_AT} = %s and account = %s and {EXTRA} is not null"
        for index, table in enumerate(read)
    ]
    params = [value for _ in read for value in (synced_at, account)]
    extras: dict[int, list[str]] = {}
    for index, extra in client.execute_sql(" union all ".join(parts), *params) or []:
        extras.setdefault(int(index), []).append(extra)
    found: dict[str, list[str]] = {}
    for index, table in enumerate(read):
        names = field_names(table, extras.get(index, ()))
        if names:
            found[table.name] = names
    return found
