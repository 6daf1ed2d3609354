"""Cutting a batch of DTO dicts into Arrow tables in one pass of Arrow's C++ converter.

`tables.Table.to_arrow` reads every column of every row with a Python getter; profiled on
20,000 events that is most of the sync's own CPU, and while it holds the GIL the page fetches
stall. Here each batch is handed once to `pa.array(rows, type=<the DTO's shape>)`, which walks
the dicts in C++, and columns and child tables are then sliced out of the resulting struct
array (`struct_field`, `list_flatten`, `list_parent_indices`) without touching Python objects.

The shape is derived from the landing schema, so it names only the fields we land. When
a server sends a value the shape does not admit (an id as a string, a boolean as 0/1, a
timestamp without offset), the batch falls back to the value-by-value reference path, which
accepts every reading of the reference: the two paths are tested to produce equal tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simplymeet import landing_schema as t
from simplymeet.sync import values
from simplymeet.sync.unknown_fields import child_extra_column, extra_column

_SOURCE_TYPES: dict[pa.DataType, pa.DataType] = {
    t.TIMESTAMP: pa.string(),
    # `pyarrow.json` reads a number (or a numeric string) into a decimal from its text,
    # exactly, and refuses one with more decimals than the scale: no double in between.
    t.MONEY: t.MONEY,
    t.ID: pa.int64(),
    t.TEXT: pa.string(),
    t.BOOL: pa.bool_(),
    t.FLOAT: pa.float64(),
    t.DATE: pa.string(),
}

_ARROW_ERRORS = (
    pa.ArrowInvalid,
    pa.ArrowTypeError,
    pa.ArrowNotImplementedError,
    TypeError,
    ValueError,
    OverflowError,
)


def _is_sourced(col: t.Col) -> bool:
    """Whether the column is read from the DTO itself (not JSON, not a value we attach)."""
    return not col.json and not col.attached


def _insert(tree: dict[str, Any], path: tuple[str, ...], leaf: pa.DataType) -> None:
    node = tree
    for key in path[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ValueError(f"path {path} crosses a leaf")
        node = child
    node.setdefault(path[-1], leaf)


def _to_struct(tree: dict[str, Any]) -> pa.StructType:
    fields = []
    for key, value in tree.items():
        fields.append(pa.field(key, _to_struct(value) if isinstance(value, dict) else value))
    return pa.struct(fields)


def source_type(table: t.Table, *, amounts: bool = True) -> pa.StructType:
    """The Arrow type of the DTO fields `table` (and its children) read.

    Without `amounts`, the shape leaves out the MONEY fields: cut from dicts, an amount is
    a Python float, which Arrow converts to a decimal only by rounding it to the scale, so
    `cut` reads amounts from the dicts themselves (`values.as_amount`).
    """
    tree: dict[str, Any] = {}
    for col in table.columns:
        if _is_sourced(col) and (amounts or col.type != t.MONEY):
            for path in col.paths:
                _insert(tree, path, _SOURCE_TYPES[col.type])
    for child in table.children:
        child_tree: dict[str, Any] = {}
        for col in child.table.columns:
            if _is_sourced(col) and (amounts or col.type != t.MONEY):
                for path in col.paths:
                    _insert(child_tree, path, _SOURCE_TYPES[col.type])
        _insert(tree, child.list_path, pa.list_(_to_struct(child_tree)))
    return _to_struct(tree)


def _field(array: pa.Array, path: tuple[str, ...]) -> pa.Array:
    for key in path:
        array = pc.struct_field(array, key)
    return array


def _source(col: t.Col, struct: pa.Array) -> pa.Array:
    """The column's raw values: its first spelling that is present, row by row."""
    arrays = [_field(struct, path) for path in col.paths]
    return arrays[0] if len(arrays) == 1 else pc.coalesce(*arrays)


def _typed(col: t.Col, raw: pa.Array) -> pa.Array:
    """Convert a source column to the warehouse type; raises when Arrow cannot."""
    if col.type == t.TIMESTAMP:
        return raw.cast(t.TIMESTAMP)
    if col.type == t.MONEY:
        return _amounts(raw)
    if col.type == t.DATE:
        return pc.utf8_slice_codeunits(raw, 0, 10).cast(t.DATE)
    return raw.cast(col.type)


def _amounts(raw: pa.Array) -> pa.Array:
    """Amounts `pyarrow.json` read exactly; raises for one the value-by-value path, which reads
    a served number through a double, would not read the same (it sets the row aside), and
    for one past the precision, which Arrow's JSON reader does not check."""
    for amount in pc.drop_null(raw).to_pylist():
        if not (values.amount_fits(amount) and values.double_exact(amount)):
            raise ValueError(f"amount {amount} is not read alike value by value")
    return raw.cast(t.MONEY)


def _column(
    col: t.Col,
    struct: pa.Array,
    rows: Sequence[dict[str, Any]] | None,
    json_columns: Mapping[str, pa.Array] | None = None,
) -> pa.Array:
    if not _is_sourced(col) or (col.type == t.MONEY and rows is not None):
        if rows is not None:
            return values.column_array(col, rows)
        if col.json and json_columns and col.name in json_columns:
            return json_columns[col.name]
        if col.attached and not col.json:
            return pa.nulls(len(struct), col.type)  # attached after the cut (e.g. deleted_at)
        raise ValueError(f"{col.name} needs the served rows")
    raw = _source(col, struct)
    try:
        return _typed(col, raw)
    except _ARROW_ERRORS:
        # e.g. a `Y-m-d H:i:s` timestamp: parse this one column value by value.
        return pa.array(
            [None if v is None else values.coerce(v, col.type) for v in raw.to_pylist()],
            type=col.type,
        )


def source_column(col: t.Col, struct: pa.Array) -> pa.Array:
    """The raw values of a column read from the DTO, as served (before any conversion)."""
    return _source(col, struct)


def cut(
    table: t.Table, rows: Sequence[dict[str, Any]], synced_at: dt.datetime
) -> dict[str, pa.Table] | None:
    """`table` and its children from `rows`, or None when the rows do not fit the shape."""
    if _float_integers(table, rows):
        return None
    try:
        struct = pa.array(rows, type=source_type(table, amounts=False))
    except _ARROW_ERRORS:
        return None
    return cut_struct(table, struct, synced_at, rows)


def _float_integers(table: t.Table, rows: Sequence[dict[str, Any]]) -> bool:
    """Whether a row serves an integer field as a float (`30.0`, `30.7`): Arrow's converter
    truncates a fraction without a word, so such rows are read value by value, where a whole
    float lands as its integer and a fraction sets the row aside (`values.coerce`)."""
    parent, children = _integer_getters(table)
    for row in rows:
        for get in parent:
            if type(get(row)) is float:
                return True
        for get_items, item_getters in children:
            items = get_items(row)
            if not isinstance(items, list):
                continue
            for item in items:
                if isinstance(item, dict) and any(type(g(item)) is float for g in item_getters):
                    return True
    return False


_Getter = Callable[[dict[str, Any]], Any]
_INTEGER_GETTERS: dict[str, tuple[list[_Getter], list[tuple[_Getter, list[_Getter]]]]] = {}


def _integer_getters(
    table: t.Table,
) -> tuple[list[_Getter], list[tuple[_Getter, list[_Getter]]]]:
    """Readers of every integer field `table` reads from the DTO, and of its children's."""
    known = _INTEGER_GETTERS.get(table.name)
    if known is None:

        def readers(of: t.Table) -> list[_Getter]:
            return [
                values.getter(path)
                for col in of.columns
                if _is_sourced(col) and col.type == t.INT
                for path in col.paths
            ]

        children = [(values.getter(c.list_path), readers(c.table)) for c in table.children]
        known = _INTEGER_GETTERS[table.name] = (
            readers(table),
            [(get, item) for get, item in children if item],
        )
    return known


def cut_struct(
    table: t.Table,
    struct: pa.Array,
    synced_at: dt.datetime,
    rows: Sequence[dict[str, Any]] | None = None,
    json_columns: Mapping[str, pa.Array] | None = None,
) -> dict[str, pa.Table]:
    """`table` and its children from DTOs already in Arrow (`source_type(table)`).

    With `rows` (the same DTOs as dicts), JSON columns and `_extra` are read from them. Without
    (pages parsed straight into Arrow, see `arrow_pages`), JSON columns come from
    `json_columns`, and `_extra` is null: the caller has checked that no row has a field the
    reference does not know.
    """
    count = len(struct)
    stamp = pa.array(np.full(count, _micros(synced_at), dtype="int64")).cast(t.TIMESTAMP)
    arrays = [_column(col, struct, rows, json_columns) for col in table.columns]
    if table.has_extra:
        arrays.append(extra_column(table, rows) if rows is not None else pa.nulls(count, t.TEXT))
    out = {table.name: pa.Table.from_arrays([*arrays, stamp], schema=table.schema)}
    if not table.children:
        return out
    key_col = table.column(table.primary_key[0])
    key = _source(key_col, struct)
    for child in table.children:
        if all(
            (_is_sourced(col) and (col.type != t.MONEY or rows is None)) or col.path in _ATTACHED
            for col in child.table.columns
        ):
            out[child.table.name] = _cut_child(child, struct, key, rows, synced_at)
        elif rows is None:
            raise ValueError(f"{child.table.name} needs the served rows")
        else:
            # A JSON column (e.g. a question's config) has no Arrow shape: cut it in Python.
            child_rows = [
                r
                for parent in rows
                for r in values.child_rows(child, parent, values.read(parent, key_col))
            ]
            out[child.table.name] = values.to_arrow(
                child.table, child_rows, synced_at, extra_column(child.table, child_rows)
            )
    return out


_ATTACHED = {("__parent_id",), ("__position",)}


def _cut_child(
    child: t.Child,
    struct: pa.Array,
    parent_ids: pa.Array,
    rows: Sequence[dict[str, Any]] | None,
    synced_at: dt.datetime,
) -> pa.Table:
    lists = _field(struct, child.list_path)
    items = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists)
    offsets = np.asarray(lists.offsets)
    index = np.asarray(parents)
    position = pa.array(np.arange(len(items), dtype="int64") - offsets[index] + offsets[0])
    columns = []
    for col in child.table.columns:
        if col.path == ("__parent_id",):
            columns.append(pc.take(parent_ids, parents).cast(col.type))
        elif col.path == ("__position",):
            columns.append(position.cast(col.type))
        else:
            columns.append(_column(col, items, None))
    if child.table.has_extra:
        columns.append(
            child_extra_column(child, rows) if rows is not None else pa.nulls(len(items), t.TEXT)
        )
    stamp = pa.array(np.full(len(items), _micros(synced_at), dtype="int64")).cast(t.TIMESTAMP)
    return pa.Table.from_arrays([*columns, stamp], schema=child.table.schema)


def _micros(value: dt.datetime) -> int:
    return int(value.timestamp() * 1_000_000)
