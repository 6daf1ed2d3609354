"""Rows that break the contract: set aside in `raw._rejected_rows`, so the rest still loads.

A row breaks the contract when it cannot be keyed (a null or non-integer id, a child item
without one), or carries a timestamp no reading of the reference parses, an integer that is
not a whole number (`30.7`, `"abc"`) or an amount that cannot be read exactly as a number
(`"12,345"`, `"abc"`, more decimals than `MONEY` holds): landed truncated, rounded or null it
would change what the server said without a word. Loading it would either
fail the whole run or land a row that cannot be merged; dropping it would lose what the server
said. So it goes, as served, to the rejected-rows table with the reason, and the run says how
many (exit code 9). A parent with a bad child item is rejected whole: loading it without that
item would silently remove the child row the warehouse already has.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from simplymeet.contract.dates import parse_api_datetime
from simplymeet.landing_schema import (
    BOOL,
    DATE,
    FLOAT,
    ID,
    INT,
    MONEY,
    REJECTED_ROWS,
    TIMESTAMP,
    Table,
)
from simplymeet.sync import values


class RowsSetAside(Exception):
    """Everything else loaded, but rows that break the contract were set aside (exit code 9):
    raised where a caller takes a sync's outcome for its own (a write-back's refresh)."""


_dumps = json.JSONEncoder(separators=(",", ":"), sort_keys=True, default=str).encode


@dataclass(frozen=True)
class Rejected:
    """One row set aside, as served, and why."""

    row: dict[str, Any]
    reason: str


class NotAnObject(dict[str, Any]):
    """An item of an event page served as something else than an object (`null`, a
    number): read as an object without fields by every step before the quarantine (an id
    it has not, no `updatedAt`), which sets it aside, showing what was `served`."""

    def __init__(self, served: Any) -> None:
        super().__init__()
        self.served = served


def objects_or_marked(items: list[Any]) -> list[Any]:
    """`items` with each one that is not an object replaced by its `NotAnObject`."""
    if all(isinstance(item, dict) for item in items):
        return items
    return [item if isinstance(item, dict) else NotAnObject(item) for item in items]


def problem(table: Table, row: Any, prefix: str = "") -> str | None:
    """Why `row` cannot land in `table`, or None when it can."""
    if not isinstance(row, dict) or isinstance(row, NotAnObject):
        return f"{prefix.rstrip('.') or 'the row'} is not an object"
    if (inner := values.object_problem(table, row, prefix)) is not None:
        return inner
    for col in table.columns:
        if col.json or (col.attached and col.path[0] not in row):
            continue  # an attached value not attached yet (a child's parent key) is not judged
        value = values.read(row, col)
        # A value the sync attached (a slot's poll, an event type's duration) is named as it
        # lands; a served one by its path in the DTO.
        name = prefix + (col.name if col.attached else ".".join(col.path))
        if col.name in table.primary_key and value is None:
            return f"{name} is null"
        if value is not None and col.type in (ID, INT) and values.as_id(value) is None:
            return f"{name} {_show(value)} is not an integer"
        if col.attached:
            continue
        if value is not None and col.type in (TIMESTAMP, DATE) and not _parses(value, col.type):
            return f"{name} {_show(value)} is not a {'date' if col.type == DATE else 'timestamp'}"
        if value is not None and col.type == MONEY and values.as_amount(value) is None:
            return f"{name} {_show(value)} is not an amount read exactly"
        if value is not None and col.type in (FLOAT, BOOL) and not col.json:
            try:
                values.coerce(value, col.type)
            except ValueError:
                kind = "number" if col.type == FLOAT else "boolean"
                return f"{name} {_show(value)} is not a {kind}"
    for child in table.children:
        served = values.getter(child.list_path)(row)
        where = prefix + ".".join(child.list_path)
        if served is None:
            continue
        items = values.as_list(served)
        if items is None:
            return f"{where} is not a list"
        for index, item in enumerate(items):
            if child.wrap_scalars and not isinstance(item, dict):
                item = {child.wrap_scalars: item}  # as `values.child_rows` lands it
            found = problem(child.table, item, f"{where}[{index}].")
            if found:
                return found
    return None


def split_repeats(
    table: Table, rows: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[Rejected]]:
    """`rows` without those whose key the answer holds with other contents, and those set aside.

    A load merges rows on their key: of one id served twice with two contents (a user listed
    twice, a poll's slots sharing an id), it would keep either without a word, and which one
    is current is not the sync's to guess. So every such row is set aside; a row served twice
    alike lands once. Within a parent, child items sharing a key with other contents set the
    parent aside (see the module docstring).
    """
    firsts: dict[tuple[Any, ...], dict[str, Any]] = {}
    clashing: set[tuple[Any, ...]] = set()
    keyed: list[tuple[tuple[Any, ...] | None, dict[str, Any]]] = []
    for row in rows:
        key = _key(table, row)
        keyed.append((key, row))
        if key is None:
            continue  # no key to share: `problem` judges the row
        first = firsts.setdefault(key, row)
        if first is not row and first != row:
            clashing.add(key)
    kept: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    landed: set[tuple[Any, ...]] = set()
    for key, row in keyed:
        if key is not None and key in clashing:
            rejected.append(
                Rejected(row, f"{_key_text(table, key)} is served with other contents too")
            )
        elif key is None or key not in landed:
            reason = _repeated_child(table, row)
            if reason:
                rejected.append(Rejected(row, reason))
            else:
                kept.append(row)
            if key is not None:
                landed.add(key)
    return kept, rejected


def landing(table: Table, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of `rows` that land in `table`: not set aside (`split_repeats`, `problem`)."""
    kept, _ = split_repeats(table, rows)
    return [row for row in kept if problem(table, row) is None]


def split_repeated_children(
    table: Table, rows: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[Rejected]]:
    """`rows` without those holding two child items of one key with other contents, and those
    set aside: a load merging the child table on its key would keep either item without a
    word (`split_repeats` does this, and more, for a list of parents)."""
    kept: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    for row in rows:
        reason = _repeated_child(table, row)
        if reason:
            rejected.append(Rejected(row, reason))
        else:
            kept.append(row)
    return kept, rejected


def _key(table: Table, row: Any) -> tuple[Any, ...] | None:
    """`row`'s key in `table` as it lands, as (column, value) pairs (ids read as integers), or
    None when it has none."""
    if not isinstance(row, dict) or not table.primary_key:
        return None
    key = []
    for name in table.primary_key:
        col = table.column(name)
        if col.attached and col.path[0] not in row:
            continue  # a child item's parent key: attached when cut, one parent here
        value = values.read(row, col)
        if col.type in (ID, INT):
            value = values.as_id(value)
        if value is None:
            return None
        key.append((name, value))
    # Keyed by position alone (an event type's questions), items share no key.
    return tuple(key) or None


def _key_text(table: Table, key: tuple[Any, ...], prefix: str = "") -> str:
    """The served part of a `_key`, as `id=5` (`availability[1].id=5` with a `prefix`)."""
    return " ".join(
        f"{prefix}{'.'.join(table.column(name).path)}={value}"
        for name, value in key
        if not table.column(name).attached
    )


def _repeated_child(table: Table, row: Any) -> str | None:
    """Why `row` holds two child items of one key with other contents, or None."""
    if not isinstance(row, dict):
        return None
    for child in table.children:
        items = values.as_list(values.getter(child.list_path)(row))
        if items is None:
            continue
        firsts: dict[tuple[Any, ...], Any] = {}
        for index, item in enumerate(items):
            if child.wrap_scalars and not isinstance(item, dict):
                item = {child.wrap_scalars: item}
            key = _key(child.table, item)
            if key is None:
                continue
            first = firsts.setdefault(key, item)
            if first is not item and first != item:
                where = f"{'.'.join(child.list_path)}[{index}]."
                return f"{_key_text(child.table, key, where)} is served with other contents too"
    return None


def _parses(value: Any, type_: pa.DataType) -> bool:
    if not isinstance(value, str):
        return False
    try:
        if type_ == DATE:
            dt.date.fromisoformat(value[:10])
        else:
            parse_api_datetime(value)
    except ValueError:
        return False
    return True


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def split(
    table: Table, rows: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[Rejected]]:
    """`rows` that can land in `table`, and the rejected ones with their reasons."""
    kept: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    for row in rows:
        reason = problem(table, row)
        if reason is None:
            kept.append(row)
        else:
            rejected.append(Rejected(row, reason))
    return kept, rejected


def to_arrow(table: Table, rejected: Sequence[Rejected], synced_at: dt.datetime) -> pa.Table:
    """The rejected rows of `table` as rows of `raw._rejected_rows`."""
    rows = []
    for item in rejected:
        served = (
            item.row.served
            if isinstance(item.row, NotAnObject)
            else {k: v for k, v in item.row.items() if not k.startswith("__")}
            if isinstance(item.row, dict)
            else item.row
        )
        row_id = served.get("id") if isinstance(served, dict) else None
        rows.append(
            {
                "__table": table.name,
                "__reason": item.reason,
                "__row_id": None if row_id is None else str(row_id),
                "__raw": _dumps(served),
            }
        )
    return values.to_arrow(REJECTED_ROWS, rows, synced_at)


class CursorHold:
    """The newest events cursor that still re-reads every rejected event of a scan.

    A rejected event must be read again once fixed upstream, even if the fix does not touch
    its `updatedAt`; so an incremental cursor may not pass it. Fed the scan's rows in the
    order read (`updatedAt` descending): a rejected row with a readable `updatedAt` bounds the
    cursor at that time; one without bounds it at the next readable row after it, which the
    server ordered at or below it. `cap` applies the bound; a rejected row with nothing
    readable after it keeps the previous cursor.
    """

    def __init__(self) -> None:
        self.ceiling: dt.datetime | None = None
        self._waiting = False
        self.keys: set[str] = set()
        """`str(id)` of every rejected row, as the scan's de-duplication keys them."""

    @property
    def waiting(self) -> bool:
        """Whether the last rejected row had no readable `updatedAt`: the next rows read
        decide the bound, so they must be shown to `scan`."""
        return self._waiting

    def scan(self, rows: Sequence[dict[str, Any]], rejected: Sequence[Rejected]) -> None:
        """Account for one page (or batch) of the scan, in the order read."""
        if not rejected and not self._waiting:
            return
        marked = {id(item.row) for item in rejected}
        self.keys.update(str(item.row.get("id")) for item in rejected if isinstance(item.row, dict))
        for row in rows:
            stamp = updated_at(row)
            if id(row) in marked or self._waiting:
                if stamp is None:
                    self._waiting = True
                    continue
                self.ceiling = stamp if self.ceiling is None else min(self.ceiling, stamp)
                self._waiting = False

    def cap(self, proposed: dt.datetime, previous: dt.datetime | None) -> dt.datetime | None:
        """The cursor to store instead of `proposed` (None: store nothing new)."""
        if self._waiting:
            return previous
        if self.ceiling is not None and self.ceiling < proposed:
            return self.ceiling
        return proposed


def updated_at(row: Any) -> dt.datetime | None:
    """A row's `updatedAt`, or None when it has none a reading of the reference parses."""
    if not isinstance(row, dict):
        return None
    try:
        return parse_api_datetime(row.get("updatedAt"))
    except (ValueError, TypeError, AttributeError):
        return None


def rejected_count(client: Any, synced_at: dt.datetime, account: str) -> int:
    """Rows `account`'s run that started at `synced_at` set aside (a dlt sql client of the
    dataset). Accounts syncing side by side share the table and may start in one instant."""
    from simplymeet.sync.cleanup import existing_tables  # cleanup imports this (sync.tables)

    if REJECTED_ROWS.name not in existing_tables(client):
        return 0
    table = client.make_qualified_table_name(REJECTED_ROWS.name)
    # Distinct: reconcile may re-read (and set aside again) an event the scan already did.
    rows = client.execute_sql(
        f"select count(*) from (select distinct table_name, raw from {table} "
        "where _synced_at = %s and account = %s) as rejected",
        synced_at,
        account,
    )
    return int(rows[0][0]) if rows else 0
