"""The reference path of the landing: every DTO value read and coerced in Python.

`arrow_cut` does the same work in bulk through Arrow's C++ converters and falls back here, value
by value, for whatever a server sends that its shapes refuse (an id as a string, a boolean as
0/1, a `Y-m-d H:i:s` timestamp); the two paths are tested to produce equal tables.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from simplymeet.contract.dates import parse_api_datetime
from simplymeet.landing_schema import (
    BOOL,
    DATE,
    FLOAT,
    ID,
    INT,
    MONEY,
    TEXT,
    TIMESTAMP,
    Child,
    Col,
    Path,
    Table,
)
from simplymeet.sync.unknown_fields import extra_column


def read(row: dict[str, Any], col: Col) -> Any:
    """The raw value of `col` in one DTO: the first of its spellings that is present."""
    for path in col.paths:
        value = getter(path)(row)
        if value is not None:
            return value
    return None


def extract(col: Col, row: dict[str, Any]) -> Any:
    """This column's value in one DTO, coerced to its type."""
    value = read(row, col)
    if value is None:
        return None
    if col.json:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return coerce(value, col.type)


def column_array(col: Col, rows: Sequence[dict[str, Any]]) -> pa.Array:
    """This column over many DTOs as one typed Arrow array.

    Tries Arrow's converters on the raw values first (and Arrow's cast for ISO 8601
    timestamps); any value they refuse sends the whole column through `coerce`.
    """
    if col.json:
        return pa.array([extract(col, row) for row in rows], type=col.type)
    if len(col.paths) == 1:
        get = getter(col.path)
        values = [get(row) for row in rows]
    else:
        values = [read(row, col) for row in rows]
    try:
        if col.type == TIMESTAMP:
            return pa.array(values, type=TEXT).cast(TIMESTAMP)
        if col.type == MONEY:
            return pc.round(pa.array(values, type=FLOAT), 2).cast(MONEY)
        if col.type == BOOL and any(
            isinstance(v, int) and v is not True and v is not False for v in values
        ):
            raise TypeError("integers given for a boolean")
        if col.type == ID and any(isinstance(v, bool) for v in values):
            raise TypeError("a boolean is no id")
        return pa.array(values, type=col.type)
    except (
        pa.ArrowInvalid,
        pa.ArrowTypeError,
        pa.ArrowNotImplementedError,
        TypeError,
        OverflowError,
        ValueError,
    ):
        return pa.array([None if v is None else coerce(v, col.type) for v in values], type=col.type)


@functools.cache
def getter(path: Path) -> Callable[[dict[str, Any]], Any]:
    """A fast reader of `path` in a nested dict: None wherever the path breaks."""
    if len(path) == 1:
        (key,) = path
        return lambda row: row.get(key)
    if len(path) == 2:
        outer, inner = path

        def two(row: dict[str, Any]) -> Any:
            value = row.get(outer)
            return value.get(inner) if isinstance(value, dict) else None

        return two

    def deep(row: dict[str, Any]) -> Any:
        value: Any = row
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return deep


def as_id(value: Any) -> int | None:
    """`value` as an id, or None when it is not an integer in any reading of the reference.

    Integers, integral floats and strings of digits are ids; booleans, fractions, other
    strings and numbers beyond BIGINT are not.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
    else:
        return None
    return number if -(2**63) <= number < 2**63 else None


def coerce(value: Any, type_: pa.DataType) -> Any:
    """One non-null DTO value as `type_`; raises ValueError for an unparseable timestamp."""
    if type_ == TIMESTAMP:
        if isinstance(value, dt.datetime):
            return value
        if not isinstance(value, str):
            raise ValueError(f"expected a timestamp, got {value!r}")
        return parse_api_datetime(value)
    if type_ == MONEY:
        try:
            return Decimal(str(value)).quantize(Decimal("0.01"))
        except InvalidOperation:
            return None
    if type_ == ID:
        return as_id(value)
    if type_ == INT:
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if type_ == FLOAT:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if type_ == BOOL:
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)
    if type_ == TEXT:
        return (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, dict | list)
            else str(value)
        )
    if type_ == DATE:
        return dt.date.fromisoformat(str(value)[:10])
    return value


def child_rows(child: Child, parent: dict[str, Any], parent_id: Any) -> list[dict[str, Any]]:
    """The child's rows for one parent, each with the parent's key and its position attached."""
    value: Any = parent
    for key in child.list_path:
        value = value.get(key) if isinstance(value, dict) else None
    out = []
    for position, item in enumerate(value or []):
        row = dict(item) if isinstance(item, dict) else {child.wrap_scalars or "value": item}
        row["__parent_id"] = parent_id
        row["__position"] = position
        out.append(row)
    return out


def to_arrow(
    table: Table,
    rows: Sequence[dict[str, Any]],
    synced_at: dt.datetime,
    extra: pa.Array | None = None,
) -> pa.Table:
    """Cut `rows` (raw DTO dicts) into an Arrow table with `table`'s exact schema.

    `extra` is the `_extra` column (see `unknown_fields`); all null when not given.
    """
    arrays = [column_array(col, rows) for col in table.columns]
    if table.has_extra:
        arrays.append(extra if extra is not None else pa.nulls(len(rows), TEXT))
    arrays.append(pa.array([synced_at] * len(rows), type=TIMESTAMP))
    return pa.Table.from_arrays(arrays, schema=table.schema)


def flatten_by_value(
    table: Table, parents: Sequence[dict[str, Any]], synced_at: dt.datetime
) -> dict[str, pa.Table]:
    """`table` and its child tables from `parents`, every value read and coerced in Python."""
    out = {table.name: to_arrow(table, parents, synced_at, extra_column(table, parents))}
    key = table.column(table.primary_key[0])
    for child in table.children:
        rows: list[dict[str, Any]] = []
        for parent in parents:
            rows.extend(child_rows(child, parent, read(parent, key)))
        out[child.table.name] = to_arrow(
            child.table, rows, synced_at, extra_column(child.table, rows)
        )
    return out
