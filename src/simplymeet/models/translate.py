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

import json
from collections.abc import Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

SOURCE_DIALECT = "duckdb"
"""The dialect every model and data test is written in."""

LOGICAL_SCHEMAS: tuple[str, ...] = ("raw", "analytics")

TABLES_READ_VERSION = 1
"""Bump when `tables_read` answers differently for the same SQL: processes keep its answers
in a file (`parse_cache`), keyed by this, the SQL and sqlglot's version."""

Columns = Mapping[str, Mapping[str, Mapping[str, str]]]
"""Column types by schema, table and column, as the warehouse reports them."""


_TO_INTERVAL = {
    "to_seconds": "SECOND",
    "to_minutes": "MINUTE",
    "to_hours": "HOUR",
    "to_days": "DAY",
    "to_weeks": "WEEK",
}
"""DuckDB's interval constructors, each a number times a one-unit interval elsewhere."""


class TranslationError(ValueError):
    """sqlglot cannot parse the SQL, or cannot express it in the target dialect."""


def parse(sql: str) -> exp.Expr:
    """The syntax tree of one DuckDB statement; TranslationError if it does not parse."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=SOURCE_DIALECT) if s is not None]
    except SqlglotError as exc:
        raise TranslationError(str(exc).splitlines()[0]) from exc
    if len(statements) != 1:
        raise TranslationError(f"expected one statement, found {len(statements)}")
    return statements[0]


def tables_read(sql: str | exp.Expr) -> dict[str, frozenset[str]]:
    """The tables of each logical schema the SQL reads, lower-cased, by schema."""
    tree = parse(sql) if isinstance(sql, str) else sql
    found: dict[str, set[str]] = {schema: set() for schema in LOGICAL_SCHEMAS}
    for table in tree.find_all(exp.Table):
        schema = table.db.lower()
        if schema in found and not table.catalog:
            found[schema].add(table.name.lower())
    return {schema: frozenset(names) for schema, names in found.items()}


def needs_columns(sql: str | exp.Expr) -> bool:
    """Whether translating to another dialect needs the warehouse's columns (`* exclude`)."""
    tree = parse(sql) if isinstance(sql, str) else sql
    return any(star.args.get("except_") for star in tree.find_all(exp.Star)) or any(
        union.args.get("by_name") for union in tree.find_all(exp.Union)
    )


def translate(
    sql: str | exp.Expr,
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
        # Quoted on PostgreSQL: raw tables like `current_user` are keywords there, and
        # dlt's names are lower case, which is what quoting keeps.
        return tree.sql(
            dialect=dialect, unsupported_level=ErrorLevel.RAISE, identify=dialect == "postgres"
        )
    except SqlglotError as exc:
        raise TranslationError(str(exc).splitlines()[0]) from exc


TRANSLATE_VERSION = 1
"""Bump when `translate` answers differently for the same arguments: its answers for model and
data test texts are kept between processes (`remembered_translation`)."""


def remembered_translation(
    sql: str,
    *,
    dialect: str = SOURCE_DIALECT,
    schemas: Mapping[str, str] | None = None,
    columns: Columns | None = None,
) -> str:
    """`translate` of a text, or what it answered for the same arguments in an earlier process.

    sqlglot's parse and generation of each model cost a build on PostgreSQL ~1.5 CPU-s of its
    ~2; the answer depends only on the arguments, the version above and sqlglot's (kept in the
    models' parse cache, `parse_cache.py`). A text that does not translate is never kept.
    """
    from simplymeet.models import parse_cache

    # Columns in their order (a `* exclude` expands in it); schemas by name.
    ordered = [
        [schema, [[table, list(types.items())] for table, types in tables.items()]]
        for schema, tables in (columns or {}).items()
    ]
    kind = json.dumps(
        ["translate", TRANSLATE_VERSION, dialect, sorted((schemas or {}).items()), ordered]
    )
    return parse_cache.derived_text(
        sql, kind, lambda text: translate(text, dialect=dialect, schemas=schemas, columns=columns)
    )


def _portable(tree: exp.Expr, dialect: str, columns: Columns | None) -> exp.Expr:
    """Rewrite DuckDB-only constructs into ones sqlglot can generate for other dialects."""
    # DuckDB's any_value skips nulls; sqlglot spells that IGNORE NULLS, which PostgreSQL lacks
    # (and PostgreSQL 15 has no any_value). min() also returns some non-null value of the group.
    if dialect == "postgres":
        for ignoring in list(tree.find_all(exp.IgnoreNulls)):
            if isinstance(ignoring.this, exp.AnyValue):
                ignoring.replace(exp.Min(this=ignoring.this.this))
        for any_value in list(tree.find_all(exp.AnyValue)):
            any_value.replace(exp.Min(this=any_value.this))
        for call in list(tree.find_all(exp.Anonymous)):
            unit = _TO_INTERVAL.get(call.name.lower())
            if unit and len(call.expressions) == 1:
                step = exp.Interval(this=exp.Literal.string("1"), unit=exp.var(unit))
                call.replace(
                    exp.paren(exp.Mul(this=exp.paren(call.expressions[0]), expression=step))
                )
        for group in list(tree.find_all(exp.Group)):
            if group.args.get("all"):
                group.replace(_group_by_position(group.parent))
        for explode in list(tree.find_all(exp.Explode)):
            # DuckDB's generate_series makes a list to unnest; PostgreSQL's returns the rows.
            if isinstance(explode.this, exp.GenerateSeries):
                explode.replace(explode.this)
        for iso in list(tree.find_all(exp.DayOfWeekIso)):
            # extract() is numeric on PostgreSQL; DuckDB's isodow is a bigint.
            extracted = exp.Extract(this=exp.var("ISODOW"), expression=iso.this)
            iso.replace(exp.cast(extracted, exp.DataType.Type.BIGINT))
        for day in list(tree.find_all(exp.Dayname)):
            # 'FM' drops to_char's padding: 'Monday', as DuckDB's dayname() says.
            day.replace(
                exp.Anonymous(this="to_char", expressions=[day.this, exp.Literal.string("FMDay")])
            )
        for join in list(tree.find_all(exp.Join)):
            if str(join.args.get("method") or "").upper() == "ASOF":
                _asof_as_lateral(join)
        # PostgreSQL before 16 requires every subquery in FROM to be named.
        for number, subquery in enumerate(tree.find_all(exp.Subquery)):
            if not subquery.alias and isinstance(subquery.parent, exp.From | exp.Join):
                alias = exp.TableAlias(this=exp.to_identifier(f"_subquery_{number}"))
                subquery.set("alias", alias)
        # A CTE named twice is computed once into a temporary result on PostgreSQL, which has
        # no statistics: the planner then guesses join sizes over the models' import CTEs
        # (`days as (select * from analytics.int_utilization_days)`) and, at 100k events, joined
        # a host's every day with its every booking (800 s; the disk filled at 1M). Reading the
        # table itself costs nothing and keeps its statistics.
        for cte in tree.find_all(exp.CTE):
            if _imports_a_table(cte.this):
                cte.set("materialized", False)
        # PostgreSQL has no isnan(); NaN equals itself there, unlike IEEE comparison.
        for is_nan in list(tree.find_all(exp.IsNan)):
            nan = exp.cast(exp.Literal.string("NaN"), exp.DataType.Type.DOUBLE)
            is_nan.replace(exp.EQ(this=is_nan.this, expression=nan))
    if needs_columns(tree):
        if columns is None:
            raise TranslationError(
                f"'* exclude' and 'union by name' need the warehouse's columns "
                f"to be written for {dialect}"
            )
        known = {s: {t: dict(c) for t, c in tables.items() if c} for s, tables in columns.items()}
        schema = MappingSchema({s: t for s, t in known.items() if t}, dialect=SOURCE_DIALECT)
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
        for union in list(tree.find_all(exp.Union)):
            if union.args.get("by_name"):
                _match_by_name(union)
    return tree


def _imports_a_table(select: exp.Expr) -> bool:
    """Whether a CTE body is `select * from <table>` and nothing more."""
    if not isinstance(select, exp.Select):
        return False
    used = {key for key, value in select.args.items() if value}
    source = select.args.get("from_")
    return (
        used == {"expressions", "from_"}
        and len(select.expressions) == 1
        and isinstance(select.expressions[0], exp.Star)
        and source is not None
        and isinstance(source.this, exp.Table)
    )


def _by_name_leaves(node: exp.Expr) -> list[exp.Expr]:
    if isinstance(node, exp.Union) and node.args.get("by_name"):
        return [*_by_name_leaves(node.this), *_by_name_leaves(node.expression)]
    return [node]


def _match_by_name(union: exp.Union) -> None:
    """`a union by name b [union by name c]` as a positional union: every select lists every
    column, in one order (a chain is handled from its outermost union)."""
    if not union.args.get("by_name"):
        return
    leaves = _by_name_leaves(union)
    if not all(isinstance(leaf, exp.Select) for leaf in leaves):
        raise TranslationError("'union by name' of something other than selects")
    sides = []
    for leaf in leaves:
        if any(p.is_star for p in leaf.expressions):
            raise TranslationError("'union by name' over columns the warehouse does not list")
        sides.append({p.alias_or_name: p for p in leaf.expressions})
    names = list(dict.fromkeys(name for side in sides for name in side))
    for leaf, side in zip(leaves, sides, strict=True):
        leaf.set("expressions", [side.get(n) or exp.alias_(exp.Null(), n) for n in names])
    for node in [union, *union.find_all(exp.Union)]:
        node.set("by_name", None)


def _asof_as_lateral(join: exp.Join) -> None:
    """`asof [left] join t as a on ... and x >= a.y` as a lateral join to t's nearest row.

    DuckDB picks, per outer row, the right row with the greatest `a.y` still `<= x`
    (the least one for `<=`): exactly `order by a.y desc limit 1` over the rows matching
    the same condition.
    """
    table = join.this
    condition = join.args.get("on")
    alias = table.alias_or_name
    inequalities = [
        node
        for node in (condition.flatten() if isinstance(condition, exp.And) else [condition])
        if isinstance(node, exp.GTE | exp.GT | exp.LTE | exp.LT)
    ]
    if not isinstance(table, exp.Table) or condition is None or len(inequalities) != 1:
        raise TranslationError("asof join other than to a table on one inequality")
    inequality = inequalities[0]
    right_first = isinstance(inequality.this, exp.Column) and inequality.this.table == alias
    ordered_by = inequality.this if right_first else inequality.expression
    greatest = isinstance(inequality, exp.GTE | exp.GT) != right_first
    nearest = (
        exp.select("*")
        .from_(table.copy())
        .where(condition.copy())
        .order_by(exp.Ordered(this=ordered_by.copy(), desc=greatest))
        .limit(1)
    )
    lateral = exp.Lateral(
        this=nearest.subquery(), alias=exp.TableAlias(this=exp.to_identifier(alias))
    )
    join.set("this", lateral)
    join.set("method", None)
    join.set("on", exp.true())


def _group_by_position(select: exp.Expr | None) -> exp.Group:
    """`group by all` spelled out: the positions of the projections that aggregate nothing."""
    if not isinstance(select, exp.Select):
        raise TranslationError("'group by all' outside a select")
    positions = []
    for number, projection in enumerate(select.expressions, start=1):
        if projection.is_star:
            raise TranslationError("'group by all' over a star")
        if not projection.find(exp.AggFunc, exp.Window):
            positions.append(exp.Literal.number(number))
    return exp.Group(expressions=positions)
