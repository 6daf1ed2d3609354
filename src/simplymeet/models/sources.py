"""The raw tables the models read, created with the exact schemas the sync writes.

The sync lands tables in schema `raw` with the Arrow schemas of
`simplymeet.landing_schema`. Here those same declarations create empty tables (so the models
build when a resource was never synced) and load hand-built rows (tests, the demo warehouse).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import duckdb
import pyarrow as pa

from simplymeet.accounts import DEFAULT_ACCOUNT
from simplymeet.landing_schema import (
    ACCOUNT,
    ALL_TABLES,
    EVENT_VERSIONS,
    POLL_RESULTS,
    RUN_COLUMNS,
    RUNS_TABLE,
    Table,
    child_tables,
    table_by_name,
)
from simplymeet.models.connection import dialect_of, ensure_schema
from simplymeet.models.errors import WarehouseBeforeAccountsError
from simplymeet.models.translate import translate

SOURCE_SCHEMA = "raw"
"""Schema (dlt dataset) the sync loads into and the SQL models read from."""


def source_tables() -> list[Table]:
    """Every raw table the sync can write: parents, their child tables and poll results."""
    tables: list[Table] = []
    for table in ALL_TABLES:
        tables.append(table)
        tables.extend(child_tables(table))
    if all(table.name != POLL_RESULTS.name for table in tables):
        tables.append(POLL_RESULTS)
    tables.append(EVENT_VERSIONS)
    return tables


def existing_tables(con: Any, schema: str = SOURCE_SCHEMA) -> set[str]:
    """Names of the tables and views present in `schema`."""
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [schema]
    ).fetchall()
    return {row[0] for row in rows}


def ensure_source_tables(con: Any, schema: str = SOURCE_SCHEMA) -> list[str]:
    """Create every declared raw table missing from `schema`, empty; return the names created.

    An existing table gains, empty, the declared columns it lacks: a warehouse an earlier
    version wrote has no column declared since until dlt loads a row into it. Extra columns
    (dlt's `_dlt_id`) do no harm.
    """
    ensure_schema(con, schema)
    held = _held_columns(con, schema)
    _refuse_before_accounts(held, schema)
    missing = [table for table in source_tables() if table.name not in held]
    dialect = dialect_of(con)
    statements = _added_columns(schema, source_tables(), held, dialect)
    statements += _runs_table(schema, held.get(RUNS_TABLE))
    for table in missing:
        ddl = _create_statement(schema, table)
        if ddl is not None and dialect != "duckdb":
            statements.append(translate(ddl, dialect=dialect))
        elif ddl is None:
            _create_from_arrow(con, schema, table.name, table.landed_schema.empty_table())
        else:
            statements.append(ddl)
    if statements:
        con.execute(";\n".join(statements))
    return [table.name for table in missing]


def _refuse_before_accounts(held: Mapping[str, set[str]], schema: str) -> None:
    """Raise `WarehouseBeforeAccountsError` for raw tables a version before accounts wrote.

    Given an empty `account` column here, they would be taken by the sync for migrated ones
    and never filled: the models would count no booking, and the next sync read every event
    again beside them. The sync's migration fills the column; the models build after it."""
    declared = {table.name for table in source_tables()}
    unmigrated = sorted(
        name for name, columns in held.items() if name in declared and ACCOUNT not in columns
    )
    if unmigrated:
        raise WarehouseBeforeAccountsError(
            f"the tables of {schema!r} were written by a version before accounts (no account "
            f"column in {', '.join(unmigrated[:3])}{', …' if len(unmigrated) > 3 else ''}): "
            "run `simplymeet sync` once, which migrates them in place, then build the models"
        )


def _duckdb_type(type_: pa.DataType) -> str | None:
    if pa.types.is_int64(type_):
        return "BIGINT"
    if pa.types.is_string(type_):
        return "VARCHAR"
    if pa.types.is_boolean(type_):
        return "BOOLEAN"
    if pa.types.is_float64(type_):
        return "DOUBLE"
    if pa.types.is_date32(type_):
        return "DATE"
    if pa.types.is_timestamp(type_) and type_.tz is not None:
        return "TIMESTAMPTZ"
    if pa.types.is_decimal(type_):
        return f"DECIMAL({type_.precision}, {type_.scale})"
    return None


def _held_columns(con: Any, schema: str) -> dict[str, set[str]]:
    """The columns of each table of `schema`, by table name: one catalogue read."""
    rows = con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = ?",
        [schema],
    ).fetchall()
    held: dict[str, set[str]] = {}
    for table_name, column_name in rows:
        held.setdefault(table_name, set()).add(column_name)
    return held


def _added_columns(
    schema: str, tables: Iterable[Table], held: dict[str, set[str]], dialect: str
) -> list[str]:
    """`alter table … add column` of each declared column an existing table lacks."""
    statements = []
    for table in tables:
        columns = held.get(table.name)
        if columns is None:
            continue
        for field in table.landed_schema:
            sql_type = _duckdb_type(field.type)
            if field.name in columns or sql_type is None:
                continue
            ddl = f'alter table "{schema}"."{table.name}" add column "{field.name}" {sql_type}'
            statements.append(ddl if dialect == "duckdb" else translate(ddl, dialect=dialect))
    return statements


def _runs_table(schema: str, held: set[str] | None) -> list[str]:
    """The DDL that makes the runs table the sync writes (`RUN_COLUMNS`) or adds to it the
    columns it lacks (`held`: its columns, None when there is no such table): `int_as_of`
    reads it, in a warehouse no sync has run in too."""
    relation = f'"{schema}"."{RUNS_TABLE}"'
    if held is None:
        columns = ", ".join(f'"{name}" {kind}' for name, kind in RUN_COLUMNS)
        return [f"create table {relation} ({columns})"]
    return [
        f'alter table {relation} add column "{name}" {kind}'
        for name, kind in RUN_COLUMNS
        if name not in held
    ]


def _create_statement(schema: str, table: Table) -> str | None:
    """`create table` DDL for the declared Arrow schema; None if a type has no mapping here."""
    columns = []
    for field in table.landed_schema:
        sql_type = _duckdb_type(field.type)
        if sql_type is None:
            return None
        columns.append(f'"{field.name}" {sql_type}')
    return f'create table "{schema}"."{table.name}" ({", ".join(columns)})'


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    table: str | Table,
    rows: Iterable[Mapping[str, Any]],
    schema: str = SOURCE_SCHEMA,
) -> int:
    """Insert rows given by warehouse column name (missing columns are null); return the count.

    The table is created from its declaration first if it does not exist yet. Rows without
    an `account` belong to the implicit `default` account.
    """
    declared = table if isinstance(table, Table) else table_by_name(table)
    landed = declared.landed_schema
    names = landed.names
    rows = list(rows)
    for row in rows:
        unknown = set(row) - set(names)
        if unknown:
            raise KeyError(f"{declared.name} has no column(s) {sorted(unknown)}")
    defaults = {ACCOUNT: DEFAULT_ACCOUNT}
    data = pa.Table.from_pylist(
        [{name: row.get(name, defaults.get(name)) for name in names} for row in rows],
        schema=landed,
    )
    ensure_schema(con, schema)
    if declared.name not in existing_tables(con, schema):
        _create_from_arrow(con, schema, declared.name, landed.empty_table())
    con.register("__simplymeet_rows", data)
    try:
        con.execute(
            f'insert into "{schema}"."{declared.name}" by name select * from __simplymeet_rows'
        )
    finally:
        con.unregister("__simplymeet_rows")
    return len(rows)


def _create_from_arrow(
    con: duckdb.DuckDBPyConnection, schema: str, name: str, data: pa.Table
) -> None:
    con.register("__simplymeet_empty", data)
    try:
        con.execute(f'create table "{schema}"."{name}" as select * from __simplymeet_empty')
    finally:
        con.unregister("__simplymeet_empty")
