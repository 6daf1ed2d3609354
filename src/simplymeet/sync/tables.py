"""DTO dicts to the Arrow tables the sync loads: quarantine, bulk cut, reference cut.

The declarations themselves (columns, keys, DTOs) live in `simplymeet.landing_schema`, shared
with the models runner; they are re-exported here because the sync's modules address the
tables as `tables.EVENTS`, `tables.USERS`…
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from simplymeet.landing_schema import (
    ACCOUNT,
    ACL_RULES,
    ALL_TABLES,
    AVAILABILITY_DAYS,
    AVAILABILITY_SLOTS,
    BOOL,
    CANCELLATION_POLICIES,
    CURRENT_USER,
    DATE,
    DELETED_AT,
    EVENT_TYPE_TAGS,
    EVENT_TYPES,
    EVENTS,
    EXTRA,
    FLOAT,
    ID,
    INT,
    INTEGRATIONS,
    JSON,
    MONEY,
    ORGANIZATIONS,
    POLL_RESULTS,
    POLLS,
    REJECTED_ROWS,
    SYNCED_AT,
    TEXT,
    TIMESTAMP,
    USER_EVENT_TYPE_TAGS,
    USERS,
    Child,
    Col,
    Table,
    c,
    child_tables,
    table_by_name,
)
from simplymeet.sync import arrow_cut, quarantine, values
from simplymeet.sync.values import as_id, flatten_by_value

__all__ = [
    "ACCOUNT",
    "ACL_RULES",
    "ALL_TABLES",
    "AVAILABILITY_DAYS",
    "AVAILABILITY_SLOTS",
    "BOOL",
    "CANCELLATION_POLICIES",
    "CURRENT_USER",
    "DATE",
    "DELETED_AT",
    "EVENTS",
    "EVENT_TYPES",
    "EVENT_TYPE_TAGS",
    "EXTRA",
    "FLOAT",
    "ID",
    "INT",
    "INTEGRATIONS",
    "JSON",
    "MONEY",
    "ORGANIZATIONS",
    "POLLS",
    "POLL_RESULTS",
    "REJECTED_ROWS",
    "SYNCED_AT",
    "TEXT",
    "TIMESTAMP",
    "USERS",
    "USER_EVENT_TYPE_TAGS",
    "Child",
    "Col",
    "Table",
    "as_id",
    "c",
    "child_tables",
    "cut",
    "flatten",
    "flatten_by_value",
    "table_by_name",
]

_CUT_ERRORS = (ValueError, TypeError, OverflowError, pa.ArrowException)


def flatten(
    table: Table, dtos: Iterable[dict[str, Any]], synced_at: dt.datetime
) -> dict[str, pa.Table]:
    """Cut parent DTOs into Arrow tables for `table`, each of its child tables and, when some
    rows break the contract, `_rejected_rows` (see `cut`)."""
    out, rejected = cut(table, dtos, synced_at)
    if rejected:
        out[REJECTED_ROWS.name] = quarantine.to_arrow(table, rejected, synced_at)
    return out


def cut(
    table: Table, dtos: Iterable[dict[str, Any]], synced_at: dt.datetime
) -> tuple[dict[str, pa.Table], list[quarantine.Rejected]]:
    """`table` and its child tables cut from the rows that keep the contract, and the rest.

    The common case costs one bulk cut plus a null count of the keys; only a batch whose cut
    fails or leaves a key null is checked row by row, and only its bad rows are set aside.
    """
    rows = list(dtos)
    try:
        if _plain_keys(table, rows):
            out = _cut(table, rows, synced_at)
            if _keys_complete(out):
                return out, []
    except _CUT_ERRORS:
        pass
    kept, rejected = quarantine.split(table, rows)
    return _cut(table, kept, synced_at), rejected


def _cut(
    table: Table, rows: Sequence[dict[str, Any]], synced_at: dt.datetime
) -> dict[str, pa.Table]:
    fast = arrow_cut.cut(table, rows, synced_at) if rows else None
    return fast if fast is not None else values.flatten_by_value(table, rows, synced_at)


def _plain_keys(table: Table, rows: Sequence[dict[str, Any]]) -> bool:
    """Whether every id key is a JSON integer: Arrow's bulk converter would truncate 7.5 to 7."""
    for name in table.primary_key:
        col = table.column(name)
        if col.type == ID and not col.attached and len(col.paths) == 1:
            get = values.getter(col.path)
            if not all(type(get(row)) is int for row in rows):
                return False
    return True


def _keys_complete(tables: dict[str, pa.Table]) -> bool:
    for name, arrow in tables.items():
        for key in table_by_name(name).primary_key:
            if arrow.column(key).null_count:
                return False
    return True
