"""Model SQL through sqlglot: the tables it reads, its logical schemas mapped, its dialect changed.

Models are written once in DuckDB's dialect against two logical schemas: `raw` (what the sync
loads) and `analytics` (what the runner builds). Here the SQL's syntax tree, not its text,
names the tables a model reads and is rewritten for the warehouse it is built on.

>>> tables_read("select * from raw.events join analytics.stg_users using (id)")
{'raw': frozenset({'events'}), 'analytics': frozenset({'stg_users'})}
>>> translate("select * from raw.events", schemas={"raw": "sm_raw"})
'SELECT * FROM sm_raw.events'
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

SOURCE_DIALECT = "duckdb"
"""The dialect every model and data test is written in."""

LOGICAL_SCHEMAS: tuple[str, ...] = ("raw", "analytics")

Columns = Mapping[str, Mapping[str, Mapping[str, str]]]
"""Column types by schema, table and column, as the warehouse reports them."""


class TranslationError(ValueError):
    """sqlglot cannot parse the SQL, or cannot express it in the target dialect."""


def parse(sql: str) -> exp.Expression:
    """The syntax tree of one DuckDB statement; TranslationError if it does not parse."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=SOURCE_DIALECT) if s is not None]
    except SqlglotError as exc:
        raise TranslationError(str(exc).splitlines()[0]) from exc
    if len(statements) != 1:
        raise TranslationError(f"expected one statement, found {len(statements)}")
    return statements[0]


def tables_read(sql: str | exp.Expression) -> dict[str, frozenset[str]]:
    """The tables of each logical schema the SQL reads, lower-cased, by schema."""
    tree = parse(sql) if isinstance(sql, str) else sql
    found: dict[str, set[str]] = {schema: set() for schema in LOGICAL_SCHEMAS}
    for table in tree.find_all(exp.Table):
        schema = table.db.lower()
        if schema in found and not table.catalog:
            found[schema].add(table.name.lower())
    return {schema: frozenset(names) for schema, names in found.items()}


def translate(
    sql: str | exp.Expression,
    *,
    dialect: str = SOURCE_DIALECT,
    schemas: Mapping[str, str] | None = None,
    columns: Columns | None = None,
) -> str:
    """The SQL with logical schemas renamed per `schemas`, generated for `dialect`.

    `columns` (the warehouse's tables, in logical schema names) lets a `* exclude (...)`
    be expanded for dialects without it. Raises TranslationError when sqlglot reports the
    dialect cannot express part of the statement, rather than emitting SQL that means
    something else.
    """
    tree = (parse(sql) if isinstance(sql, str) else sql).copy()
    if dialect != SOURCE_DIALECT:
        tree = _portable(tree, dialect, columns)
    if schemas:
        rename = {logical.lower(): physical for logical, physical in schemas.items()}
        for table in tree.find_all(exp.Table):
            physical = rename.get(table.db.lower())
            if physical is not None and not table.catalog:
                table.set("db", exp.to_identifier(physical))
    try:
        return tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise TranslationError(str(exc).splitlines()[0]) from exc


def _portable(tree: exp.Expression, dialect: str, columns: Columns | None) -> exp.Expression:
    """Rewrite DuckDB-only constructs into ones sqlglot can generate for other dialects."""
    # DuckDB's any_value skips nulls; sqlglot spells that IGNORE NULLS, which PostgreSQL lacks
    # (and PostgreSQL 15 has no any_value). min() also returns some non-null value of the group.
    if dialect == "postgres":
        for node in list(tree.find_all(exp.IgnoreNulls)):
            if isinstance(node.this, exp.AnyValue):
                node.replace(exp.Min(this=node.this.this))
        for node in list(tree.find_all(exp.AnyValue)):
            node.replace(exp.Min(this=node.this))
        # PostgreSQL has no isnan(); NaN equals itself there, unlike IEEE comparison.
        for node in list(tree.find_all(exp.IsNan)):
            nan = exp.cast(exp.Literal.string("NaN"), exp.DataType.Type.DOUBLE)
            node.replace(exp.EQ(this=node.this, expression=nan))
    if any(star.args.get("except_") for star in tree.find_all(exp.Star)):
        if columns is None:
            raise TranslationError(
                f"'* exclude' needs the warehouse's columns to be written for {dialect}"
            )
        schema = MappingSchema(
            {s: {t: dict(c) for t, c in tables.items()} for s, tables in columns.items()},
            dialect=SOURCE_DIALECT,
        )
        try:
            tree = qualify(
                tree,
                schema=schema,
                dialect=SOURCE_DIALECT,
                expand_stars=True,
                validate_qualify_columns=False,
                quote_identifiers=False,
                identify=False,
            )
        except SqlglotError as exc:
            raise TranslationError(str(exc).splitlines()[0]) from exc
    return tree
