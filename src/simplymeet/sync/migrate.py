"""A warehouse written before accounts existed gains its `account` column, in place.

Such a warehouse holds one account's rows with keys that are ids alone. Re-syncing it would
cost a full read of the API (and lose the booking history, which only past syncs saw), so the
first run of a sync that knows accounts adds the column to every table of the dataset that
lacks it and fills it with the primary account's name (`simplymeet.accounts`), in one
transaction: a run killed mid-way leaves the warehouse as it was, and the next one does it.
dlt then finds the column present and merges on (account, id) from that load on.
"""

from __future__ import annotations

from typing import Any

from simplymeet.landing_schema import ACCOUNT


def tables_without_account(client: Any) -> list[str]:
    """Tables of the dataset (dlt's own `_dlt_*` excepted) that have no `account` column."""
    tables = client.execute_sql(
        "select table_name from information_schema.tables "
        "where table_schema = %s and table_type = 'BASE TABLE'",
        client.dataset_name,
    )
    with_column = client.execute_sql(
        "select table_name from information_schema.columns "
        "where table_schema = %s and column_name = %s",
        client.dataset_name,
        ACCOUNT,
    )
    have = {row[0] for row in with_column or []}
    return sorted(
        name for (name,) in tables or [] if not name.startswith("_dlt") and name not in have
    )


def add_account_column(client: Any, account: str) -> list[str]:
    """Give every table lacking it an `account` column holding `account`; return their names.

    `client` is a dlt SQL client of the dataset (DuckDB or PostgreSQL). Idempotent: a
    migrated warehouse (or a new one) has nothing to change and costs two catalog reads.
    """
    missing = tables_without_account(client)
    if not missing:
        return []
    with client.begin_transaction():
        for name in missing:
            table = client.make_qualified_table_name(name)
            client.execute_sql(f"alter table {table} add column {ACCOUNT} varchar")
            client.execute_sql(f"update {table} set {ACCOUNT} = %s", account)
    return missing
