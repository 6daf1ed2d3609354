"""Warehouses written by earlier versions, brought to the landing schema in place.

Accounts: a warehouse written before accounts existed gains its `account` column.

Such a warehouse holds one account's rows with keys that are ids alone. Re-syncing it would
cost a full read of the API (and lose the booking history, which only past syncs saw), so the
first run of a sync that knows accounts adds the column to every table of the dataset that
lacks it and fills it with the primary account's name (`simplymeet.accounts`), in one
transaction: a run killed mid-way leaves the warehouse as it was, and the next one does it.
dlt then finds the column present and merges on (account, id) from that load on.

Amounts: a warehouse written when amounts landed as DECIMAL(18, 2) has those columns widened
to `MONEY` (`widen_amounts`) before dlt loads a row into them.

Columns: events landed by a version that landed fewer of their columns are read again, all
of them, so that no row keeps the new columns empty (`columns_added_since`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dlt.common.schema.utils import has_table_seen_data

from simplymeet.config import ConfigError
from simplymeet.landing_schema import (
    ACCOUNT,
    ALL_TABLES,
    MONEY,
    POLL_RESULTS,
    RUNS_TABLE,
    Table,
    written_table_names,
)


def refuse_a_dataset_as_staging(client: Any) -> None:
    """Raise ConfigError (exit 2) when the schema dlt merges the dataset through (its
    staging copy, `<dataset>_staging`) is a dataset of its own, holding a pipeline's state:
    the load empties the staging copy's tables, and a sync into `raw_staging` lost its
    events, users and booking history to the next sync of `raw`, both exit 0. `client` is a
    dlt SQL client of the dataset, which need not exist yet."""
    with client.with_staging_dataset():
        staging = client.dataset_name
        held = client.execute_sql(
            "select count(*) from information_schema.tables "
            "where table_schema = %s and table_name = '_dlt_pipeline_state'",
            staging,
        )
    if held and held[0][0]:
        raise ConfigError(
            f"dataset {staging!r} is a dataset of its own (a pipeline's state is in it), and "
            f"dlt merges dataset {client.dataset_name!r} through a schema of that name: a "
            f"sync of {client.dataset_name!r} would empty its tables; name one of the two "
            "otherwise (--dataset or [warehouse] dataset)"
        )


def refuse_foreign_tables(client: Any, pipeline_names: Iterable[str]) -> None:
    """Raise ConfigError (exit 2) when the dataset holds a table no sync writes and no sync
    of `pipeline_names` (the configured accounts') has written it: it is another
    application's schema (`--dataset crm`, `public`), whose tables the account migration
    would alter and whose tables named like the sync's (`users`) a load would replace, exit
    0. A dataset a sync wrote keeps tables its users added beside (never altered). Views
    are left out: they hold no rows a sync could change."""
    rows = client.execute_sql(
        "select table_name from information_schema.tables "
        "where table_schema = %s and table_type = 'BASE TABLE'",
        client.dataset_name,
    )
    held = {name for (name,) in rows or []}
    foreign = sorted(
        name for name in held if not name.startswith("_dlt") and name not in written_table_names()
    )
    if not foreign or (
        "_dlt_pipeline_state" in held and _state_of_any(client, sorted(pipeline_names))
    ):
        return
    listed = ", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else "")
    raise ConfigError(
        f"dataset {client.dataset_name!r} holds tables a sync never writes ({listed}) and no "
        "sync wrote it: it is another application's, whose tables a sync would alter and, "
        "where named like its own, replace; name a dataset of its own (--dataset or "
        "[warehouse] dataset)"
    )


def _state_of_any(client: Any, pipeline_names: list[str]) -> bool:
    state = client.make_qualified_table_name("_dlt_pipeline_state")
    marks = ", ".join(["%s"] * len(pipeline_names))
    found = client.execute_sql(
        f"select 1 from {state} where pipeline_name in ({marks}) limit 1", *pipeline_names
    )
    return bool(found)


def tables_without_account(client: Any) -> dict[str, list[str]]:
    """Per dataset (the dataset, dlt's staging copy of it), the tables a sync writes there
    that have no `account` column: two catalog reads for both."""
    dataset = client.dataset_name
    with client.with_staging_dataset():
        schemas = (dataset, client.dataset_name)
    tables = client.execute_sql(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in (%s, %s) and table_type = 'BASE TABLE'",
        *schemas,
    )
    with_column = client.execute_sql(
        "select table_schema, table_name from information_schema.columns "
        "where table_schema in (%s, %s) and column_name = %s",
        *schemas,
        ACCOUNT,
    )
    have = {tuple(row) for row in with_column or []}
    missing: dict[str, list[str]] = {}
    for schema, name in tables or []:
        # Tables a user added beside the sync's are theirs: never altered.
        if name in written_table_names() and (schema, name) not in have:
            missing.setdefault(schema, []).append(name)
    return {schema: sorted(names) for schema, names in missing.items()}


def add_account_column(client: Any, account: str) -> list[str]:
    """Give every table lacking it an `account` column holding `account`, in the dataset and
    in dlt's staging dataset; return the names changed in the dataset.

    `client` is a dlt SQL client of the dataset (DuckDB or PostgreSQL). The staging copies
    hold the rows of the last merge: dlt cannot add the key column, NOT NULL, to one that is
    not empty, and failed every load after an upgrade. Idempotent: a migrated warehouse (or
    a new one) has nothing to change and costs two catalog reads.
    """
    missing = tables_without_account(client)
    changed = missing.get(client.dataset_name, [])
    if changed:
        _add_account_column_to(client, account, changed)
    with client.with_staging_dataset():
        if staged := missing.get(client.dataset_name):
            _add_account_column_to(client, account, staged)
    return changed


def _add_account_column_to(client: Any, account: str, names: list[str]) -> None:
    with client.begin_transaction():
        for name in names:
            table = client.make_qualified_table_name(name)
            client.execute_sql(f"alter table {table} add column {ACCOUNT} varchar")
            client.execute_sql(f"update {table} set {ACCOUNT} = %s", account)


def columns_added_since(client: Any, tables: Iterable[Table]) -> list[str]:
    """`table.column` of each column `tables` land that the dataset's copy of the table
    lacks (tables not there yet aside): a version that landed fewer columns wrote it.

    dlt adds such a column with the next load, empty in every row loaded before: an event
    never changed again would keep no host or event type name (`user_full_name`, …) once
    its host or type is gone upstream. The caller reads those rows again."""
    held: dict[str, set[str]] = {}
    for name, column in (
        client.execute_sql(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = %s",
            client.dataset_name,
        )
        or []
    ):
        held.setdefault(name, set()).add(column)
    return [
        f"{table.name}.{field.name}"
        for table in tables
        if table.name in held
        for field in table.landed_schema
        if field.name not in held[table.name]
    ]


def columns_never_loaded(schema: Any, tables: Iterable[Table]) -> list[str]:
    """`table.column` of each column `tables` land that dlt's `schema` of the pipeline has
    never loaded into a table it loaded rows into: the models build gives an older table the
    columns declared since, empty, where `columns_added_since` no longer sees them missing."""
    return [
        f"{table.name}.{field.name}"
        for table in tables
        if (held := schema.tables.get(table.name)) is not None and has_table_seen_data(held)
        for field in table.landed_schema
        if field.name not in held.get("columns", {})
    ]


def refuse_another_accounts_pipeline(client: Any, pipeline_name: str, account: str) -> None:
    """Raise ConfigError (exit 2) when the dataset's state of `pipeline_name` was written
    by syncs of other accounts than `account`, none by `account` itself.

    The first account keeps `[warehouse] pipeline_name`, and with it the events cursor of
    whoever synced it before: an account listed first, or named, after another had
    synced (`default` before any `[[accounts]]`) would start from that cursor and never
    read its own older bookings, and the other's rows would stay beside its own. `client`
    is a dlt SQL client of the dataset; runs recorded before accounts were are the first
    account's (`add_account_column` ran first)."""
    held = {
        name
        for (name,) in client.execute_sql(
            "select table_name from information_schema.tables where table_schema = %s",
            client.dataset_name,
        )
        or []
    }
    if RUNS_TABLE not in held or "_dlt_pipeline_state" not in held:
        return
    state = client.make_qualified_table_name("_dlt_pipeline_state")
    written = client.execute_sql(
        f"select count(*) from {state} where pipeline_name = %s", pipeline_name
    )
    if not written or not written[0][0]:
        return
    runs = client.make_qualified_table_name(RUNS_TABLE)
    accounts = {
        name for (name,) in client.execute_sql(f"select distinct {ACCOUNT} from {runs}") or []
    }
    others = sorted(str(name) for name in accounts if name is not None and name != account)
    if account in accounts or not others or _holds_rows_of(client, held, account):
        return
    named = ", ".join(f"'{name}'" for name in others)
    raise ConfigError(
        f"pipeline {pipeline_name} of this warehouse was synced as account {named}, never as "
        f"'{account}': synced as '{account}' it would start from {named}'s cursor and leave "
        f"those rows beside its own. Name the account that wrote it {named} and list it "
        "first in [[accounts]], or sync this account into another warehouse"
    )


def _holds_rows_of(client: Any, held: set[str], account: str) -> bool:
    """Whether a table every sync loads holds rows of `account`: a run killed after its load
    and before its run was recorded has synced all the same (asked only where no run of it
    is recorded; one row read a table)."""
    for name in ("current_user", "users", "events"):
        if name in held:
            table = client.make_qualified_table_name(name)
            found = client.execute_sql(
                f"select 1 from {table} where {ACCOUNT} = %s limit 1", account
            )
            if found:
                return True
    return False


def narrow_amounts(client: Any) -> list[tuple[str, str]]:
    """(table, column) of every landed amount of the dataset whose DECIMAL is not `MONEY`'s.

    A warehouse written before amounts landed as served holds DECIMAL(18, 2). dlt adds the
    columns a load brings but never alters an existing one: rows loaded into it are cast to
    its type, so 12.345 would land as 12.35 without a word.
    """
    wanted = {
        (table.name, col.name)
        for table in _landed_tables()
        for col in table.columns
        if col.type == MONEY
    }
    rows = client.execute_sql(
        "select table_name, column_name, numeric_precision, numeric_scale "
        "from information_schema.columns where table_schema = %s",
        client.dataset_name,
    )
    return sorted(
        (name, column)
        for name, column, precision, scale in rows or []
        if (name, column) in wanted and (precision, scale) != (MONEY.precision, MONEY.scale)
    )


def widen_amounts(client: Any) -> list[str]:
    """Alter every narrower amount column to `MONEY`'s DECIMAL, in the dataset and in dlt's
    staging dataset (a merge loads through it); return the tables of the dataset changed.

    Widening keeps every value (DECIMAL(18, 2) fits in DECIMAL(38, 9)) and every row; one
    transaction per dataset, so a run killed mid-way leaves it as it was and the next run
    does it. PostgreSQL refuses to alter a column a view reads: the model views that do are
    dropped with it (`cascade`), and the models build after the load creates them again.
    """
    changed = _widen_in(client)
    with client.with_staging_dataset():
        if client.has_dataset():
            _widen_in(client)
    return changed


def _widen_in(client: Any) -> list[str]:
    narrow = narrow_amounts(client)
    if not narrow:
        return []
    sql_type = f"decimal({MONEY.precision}, {MONEY.scale})"
    with client.begin_transaction():
        for name, column in narrow:
            if not _is_duckdb(client):
                for view in _views_reading(client, name, column):
                    client.execute_sql(f"drop view if exists {view} cascade")
            table = client.make_qualified_table_name(name)
            quoted = client.escape_column_name(column)
            client.execute_sql(f"alter table {table} alter column {quoted} type {sql_type}")
    return sorted({name for name, _column in narrow})


def _views_reading(client: Any, table: str, column: str) -> list[str]:
    rows = client.execute_sql(
        "select distinct view_schema, view_name from information_schema.view_column_usage "
        "where table_schema = %s and table_name = %s and column_name = %s",
        client.dataset_name,
        table,
        column,
    )
    return [f'"{schema}"."{view}"' for schema, view in rows or []]


def _is_duckdb(client: Any) -> bool:
    # DuckDB binds a view when it is read, so it lets a column under one change type.
    return str(getattr(client.capabilities, "sqlglot_dialect", "")) == "duckdb"


def _landed_tables() -> list[Table]:
    parents = (*ALL_TABLES, POLL_RESULTS)
    return [*parents, *(child.table for table in parents for child in table.children)]
