"""Keeping child tables exact after a merge, and marking events deleted upstream.

Each child row carries the `_synced_at` of the run that wrote it, and so does its parent. When
a parent is re-synced, the rows of its children that did not come with it are stale (removed
upstream). Deleting every child row whose `_synced_at` differs from its parent's is idempotent,
so it is safe to run after every load, including the recovery of a run that was killed.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from simplymeet.contract.vocab import DELETED_STATES
from simplymeet.sync import tables as t

if TYPE_CHECKING:
    from dlt.destinations.sql_client import SqlClientBase

    from simplymeet.sync.per_type_refresh import SnapshotRead


def _qualified(client: SqlClientBase[Any], name: str) -> str:
    return client.make_qualified_table_name(name)


def _counts(client: SqlClientBase[Any], sources: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
    """`count(*)` of each `(from … where …, its parameters)`, in one statement.

    A round trip through dlt's SQL client costs more than the count of a small table, and a
    run asks one per table several times over (an unchanged run of every resource: 164
    statements, 55 with the counts asked together)."""
    if not sources:
        return []
    rows = client.execute_sql(
        " union all ".join(
            f"select {index} as k, count(*) as n from {source}"
            for index, (source, _) in enumerate(sources)
        ),
        *[value for _, params in sources for value in params],
    )
    found = {int(index): int(count) for index, count in rows or []}
    return [found.get(index, 0) for index in range(len(sources))]


_held_lock = threading.Lock()
_held: dict[int, tuple[SqlClientBase[Any], frozenset[str] | None]] = {}
"""Per client inside `tables_held`: the client (so its id is not reused meanwhile) and the
tables found, once asked."""


def existing_tables(client: SqlClientBase[Any]) -> set[str]:
    """Names of the tables present in the pipeline's dataset (asked once per `tables_held`
    block of `client`)."""
    with _held_lock:
        held = _held.get(id(client))
    if held is not None and held[1] is not None:
        return set(held[1])
    rows = client.execute_sql(
        "select table_name from information_schema.tables where table_schema = %s",
        client.dataset_name,
    )
    found = {row[0] for row in rows or []}
    if held is not None:
        with _held_lock:
            if id(client) in _held:
                _held[id(client)] = (client, frozenset(found))
    return found


@contextmanager
def tables_held(client: SqlClientBase[Any]) -> Iterator[None]:
    """Within the block, `existing_tables(client)` asks the database once, until
    `forget_tables(client)`: the run's checks asked it ~19 times (`information_schema.tables`,
    ~1.2 ms each in DuckDB: 6% of a quiet sync). Only for a block in which nothing makes or
    drops a table but what calls `forget_tables` after it (a dlt load, the runs table)."""
    with _held_lock:
        _held[id(client)] = (client, None)
    try:
        yield
    finally:
        with _held_lock:
            _held.pop(id(client), None)


def forget_tables(client: SqlClientBase[Any]) -> None:
    """Ask the database again at the next `existing_tables(client)`: a table was made or
    dropped (a load, a `create table`)."""
    with _held_lock:
        if id(client) in _held:
            _held[id(client)] = (client, None)


def with_children(
    client: SqlClientBase[Any], lists: Mapping[str, Iterable[int]], account: str
) -> set[int]:
    """Of the events named per child list (`participants`: ids...), those of `account` that
    have rows in that list's child table."""
    present = existing_tables(client)
    found: set[int] = set()
    for child in t.EVENTS.children:
        ids = sorted(lists.get(child.list_path[0]) or ())
        if not ids or child.table.name not in present:
            continue
        for start in range(0, len(ids), 1000):
            listed = ", ".join(str(int(i)) for i in ids[start : start + 1000])
            rows = client.execute_sql(
                f"select distinct {child.parent_key} from "
                f"{_qualified(client, child.table.name)} "
                f"where {t.ACCOUNT} = %s and {child.parent_key} in ({listed})",
                account,
            )
            found.update(int(row[0]) for row in rows or ())
    return found


def drop_children(
    client: SqlClientBase[Any], parent: t.Table, ids: Sequence[int], account: str
) -> int:
    """Delete `account`'s child rows of these parents in every child table; how many."""
    if not ids:
        return 0
    present = existing_tables(client)
    dropped = 0
    for child in parent.children:
        if child.table.name not in present:
            continue
        table = _qualified(client, child.table.name)
        for start in range(0, len(ids), 1000):
            listed = ", ".join(str(int(i)) for i in ids[start : start + 1000])
            where = f"{t.ACCOUNT} = %s and {child.parent_key} in ({listed})"
            count = client.execute_sql(f"select count(*) from {table} where {where}", account)
            dropped += int(count[0][0]) if count else 0
            client.execute_sql(f"delete from {table} where {where}", account)
    return dropped


def prune_stale_children(
    client: SqlClientBase[Any],
    parents: Iterable[t.Table],
    account: str,
    *,
    written_after: dt.datetime | None = None,
) -> dict[str, int]:
    """Delete `account`'s child rows not written with their parent's current version; count
    per table. Parent and child match on (account, key): another account's ids are others'.

    With `written_after`, only pairs where the parent or the child was written after it are
    compared: the caller vouches that every pair older than that was compared already (a run
    recorded then pruned them all). A run writes every row it loads with its own stamp, so a
    pair that went stale since holds a newer row on one side or the other. The whole
    comparison joins every child table with its parent (~0.3 s a run at a million events).
    """
    present = existing_tables(client)
    pairs: list[tuple[str, str, str]] = []  # (child, its parent, the join's condition)
    for parent in parents:
        if parent.name not in present:
            continue
        key = parent.primary_key[0]
        for child in parent.children:
            if child.table.name in present:
                stale = (
                    f"p.{t.ACCOUNT} = %s and c.{t.ACCOUNT} = p.{t.ACCOUNT} "
                    f"and p.{key} = c.{child.parent_key} and p.{t.SYNCED_AT} <> c.{t.SYNCED_AT}"
                )
                pairs.append((child.table.name, parent.name, stale))
    # One side at a time: each filter then narrows its own scan (an `or` would not). Every
    # pair's count of one side goes in one statement; the deletes follow where it found rows,
    # before the other side is counted (a pair stale on both sides is removed, and counted,
    # once).
    sides: list[tuple[str, tuple[Any, ...]]] = (
        [("", ())]
        if written_after is None
        else [(f" and p.{t.SYNCED_AT} > %s", (written_after,)),
              (f" and c.{t.SYNCED_AT} > %s", (written_after,))]
    )  # fmt: skip
    removed = dict.fromkeys((name for name, _, _ in pairs), 0)
    for side, extra in sides:
        # A join (DELETE … USING), not a correlated EXISTS: PostgreSQL has no index on
        # these keys unless asked, and a correlated subquery there is quadratic.
        counts = _counts(
            client,
            [
                (
                    f"{_qualified(client, name)} c join {_qualified(client, of)} p "
                    f"on {stale}{side}",
                    (account, *extra),
                )
                for name, of, stale in pairs
            ],
        )
        for (name, of, stale), found in zip(pairs, counts, strict=True):
            if not found:
                continue
            client.execute_sql(
                f"delete from {_qualified(client, name)} as c "
                f"using {_qualified(client, of)} as p where {stale}{side}",
                account,
                *extra,
            )
            removed[name] += found
    return removed


def mark_deleted(
    client: SqlClientBase[Any], ids: Sequence[int], found_at: dt.datetime, account: str
) -> int:
    """Set `deleted_at` on the given events of `account` (those not already marked); return
    how many."""
    if not ids:
        return 0
    events_q = _qualified(client, t.EVENTS.name)
    marked = 0
    for start in range(0, len(ids), 1000):
        chunk = [int(i) for i in ids[start : start + 1000]]
        id_list = ", ".join(str(i) for i in chunk)
        where = f"{t.ACCOUNT} = %s and id in ({id_list}) and {t.DELETED_AT} is null"
        count = client.execute_sql(f"select count(*) from {events_q} where {where}", account)
        marked += int(count[0][0]) if count else 0
        client.execute_sql(
            f"update {events_q} set {t.DELETED_AT} = %s where {where}", found_at, account
        )
    return marked


def served_deleted() -> str:
    """SQL that holds for an event served with a deleted state (`vocab.DELETED_STATES`)."""
    states = ", ".join(f"'{state}'" for state in sorted(DELETED_STATES))
    return f"lower(trim(state)) in ({states})"


def mark_served_deleted(client: SqlClientBase[Any], found_at: dt.datetime, account: str) -> int:
    """Set `deleted_at` on the events of `account` served with a deleted state and not yet
    marked (a server that keeps its soft-deleted events in its lists, state "deleted");
    return how many."""
    events_q = _qualified(client, t.EVENTS.name)
    where = f"{t.ACCOUNT} = %s and {t.DELETED_AT} is null and {served_deleted()}"
    count = client.execute_sql(f"select count(*) from {events_q} where {where}", account)
    marked = int(count[0][0]) if count else 0
    if marked:
        client.execute_sql(
            f"update {events_q} set {t.DELETED_AT} = %s where {where}", found_at, account
        )
    return marked


def row_counts(client: SqlClientBase[Any], names: Iterable[str], account: str) -> dict[str, int]:
    """Row count of `account` in each named table that exists."""
    present = existing_tables(client)
    counted = [name for name in names if name in present]
    where = f"where {t.ACCOUNT} = %s"
    counts = _counts(
        client, [(f"{_qualified(client, name)} {where}", (account,)) for name in counted]
    )
    return dict(zip(counted, counts, strict=True))


def confirm_unchanged(
    client: SqlClientBase[Any], names: Iterable[str], account: str, synced_at: dt.datetime
) -> None:
    """Stamp `account`'s rows of tables the run found unchanged (`snapshots.py`) with the
    run's `synced_at`, as a reload would have: `drop_unrefreshed` and the unknown-field report
    go by it, and an analyst reads it as "last confirmed by the API"."""
    for name in names:
        client.execute_sql(
            f"update {_qualified(client, name)} set {t.SYNCED_AT} = %s where {t.ACCOUNT} = %s",
            synced_at,
            account,
        )


SNAPSHOT_TABLES = (t.AVAILABILITY_DAYS, t.AVAILABILITY_SLOTS)


def drop_replaced_snapshots(
    client: SqlClientBase[Any], reads: Sequence[SnapshotRead], account: str
) -> dict[str, int]:
    """Delete `account`'s availability rows that a later read of their type and snapshot date
    replaced; count them per table.

    The merge on (snapshot_date, event_type_id) deletes only the keys a load has rows for: a
    read that found nothing (fully booked, disabled, gone) would leave the day's earlier rows.
    Idempotent (a read's own rows carry its `_synced_at`), so a run killed between its load and
    this delete is mended by the next one.
    """
    present = existing_tables(client)
    tables = [table.name for table in SNAPSHOT_TABLES if table.name in present]
    if not reads or not tables:
        return {}
    marks = ", ".join("(%s, %s, %s)" for _ in reads)
    values = [v for read in reads for v in (read.event_type_id, read.snapshot_date, read.read_at)]

    # `d`: a column named as the table's alias, which DuckDB and PostgreSQL read alike.
    where = (
        f"where d.{t.ACCOUNT} = %s and exists (select 1 from (values {marks}) "
        "as r(event_type_id, snapshot_date, read_at) "
        "where d.event_type_id = r.event_type_id and d.snapshot_date = r.snapshot_date "
        f"and d.{t.SYNCED_AT} < r.read_at)"
    )
    qualified = [f"{_qualified(client, name)} as d" for name in tables]
    counts = _counts(client, [(f"{table} {where}", (account, *values)) for table in qualified])
    for table, count in zip(qualified, counts, strict=True):
        if count:
            client.execute_sql(f"delete from {table} {where}", account, *values)
    return dict(zip(tables, counts, strict=True))


def drop_unrefreshed(
    client: SqlClientBase[Any], names: Iterable[str], account: str, synced_at: dt.datetime
) -> int:
    """Delete `account`'s rows the run at `synced_at` did not write, in tables it replaces.

    A replaced table merges on `account` (source.REPLACE), which deletes the account's old
    rows only when the new read has some: a list that became empty upstream is emptied here.
    """
    present = existing_tables(client)
    tables = [_qualified(client, name) for name in names if name in present]
    where = f"where {t.ACCOUNT} = %s and {t.SYNCED_AT} <> %s"
    counts = _counts(client, [(f"{table} {where}", (account, synced_at)) for table in tables])
    for table, count in zip(tables, counts, strict=True):
        if count:
            client.execute_sql(f"delete from {table} {where}", account, synced_at)
    return sum(counts)
