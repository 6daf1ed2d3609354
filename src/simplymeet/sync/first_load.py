"""An account's first load appends its rows instead of merging them into empty tables.

dlt's delete-insert copies a load into the staging dataset, deletes the rows of `raw` whose
keys it holds, and inserts the staging rows, deduplicated by key. Into a table with no row of
the account the deletes find nothing, and the copy is a detour: at 20,000 events dlt's load
step took 0.82-1.02 s that way against 0.39-0.47 s appending (bench/README.md, session 17).

What the merge also did, this module does after the load: a key read twice in one run (a
page boundary moved by writes) keeps one row, the newest by the table's `dedup_sort` column
where it has one, as dlt's `row_number() … order by <dedup_sort> desc` keeps.

Only before the account's first recorded run (`runner._pruned_through` is None), and only on
DuckDB. A run killed between its load and the deduplication leaves the account still without
a recorded run, so the next run deduplicates every table of the account before it reads
anything; once a run is recorded, every load merges.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from simplymeet import duckdb_threads
from simplymeet.sync import tables as t
from simplymeet.sync.cleanup import existing_tables

if TYPE_CHECKING:
    from dlt.destinations.sql_client import SqlClientBase
    from duckdb import DuckDBPyConnection


def append_targets(
    names: Iterable[str], held: Mapping[str, int], *, first_of_account: bool
) -> frozenset[str]:
    """The tables this run may append to: those holding no row of the account (`held`: rows
    per existing table), on its first run."""
    if not first_of_account:
        return frozenset()
    return frozenset(name for name in names if not held.get(name, 0))


@contextlib.contextmanager
def one_thread(con: DuckDBPyConnection | None, appending: bool) -> Iterator[None]:
    """DuckDB on one thread for the block when the load appends (`con`: the file held open,
    whose database every connection dlt opens in the block shares); as it was after.

    Appending a first load is inserting parquet into tables under the memory cap, where two
    threads slow each other down: a 1M-event first load took 8.4 s (11.2 CPU-s) on two threads
    and 6.3 s (8.1 CPU-s) on one (bench/README.md, session 25). A merge keeps every thread:
    its joins over a large table are what the threads are for.
    """
    if con is None or not appending:
        yield
        return
    with duckdb_threads.one_thread(con):
        yield


def drop_duplicate_keys(
    client: SqlClientBase[Any],
    tables: Sequence[t.Table],
    account: str,
    dedup_sort: Mapping[str, str],
) -> dict[str, int]:
    """Delete all but one row of each of `account`'s keys read more than once; count per table.

    The row kept is the newest by `dedup_sort[table]` where the table has one, then by
    `_synced_at` (a killed run's pending package loaded beside this run's rows: this run's
    copy); copies of one read are the same row. One query finds which tables hold a
    repeated key; only those are rewritten."""
    if not tables:
        return {}
    present = existing_tables(client)
    checked = [table for table in tables if table.name in present]
    if not checked:
        return {}
    counts = " union all ".join(
        f"select {i} as i, count(*) - count(distinct ({_key(table)})) as extra "
        f"from {client.make_qualified_table_name(table.name)} where {t.ACCOUNT} = %s"
        for i, table in enumerate(checked)
    )
    rows = client.execute_sql(counts, *([account] * len(checked))) or []
    removed: dict[str, int] = {}
    for i, extra in rows:
        if not extra:
            continue
        table = checked[int(i)]
        name = client.make_qualified_table_name(table.name)
        # Of two runs' copies (a killed run's package loaded with this run's), the later
        # run's: the unrefreshed rows' drop and the stale children's prune go by its stamp.
        newest = [f"{dedup_sort[table.name]} desc"] if table.name in dedup_sort else []
        order = "order by " + ", ".join([*newest, f"{t.SYNCED_AT} desc"])
        client.execute_sql(
            f"delete from {name} where rowid in (select rowid from (select rowid, "
            f"row_number() over (partition by {_key(table)} {order}) as n from {name} "
            f"where {t.ACCOUNT} = %s) where n > 1)",
            account,
        )
        removed[table.name] = int(extra)
    return removed


def _key(table: t.Table) -> str:
    return ", ".join(table.landed_key)
