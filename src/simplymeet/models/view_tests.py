"""A view model's data tests counted over one evaluation of the view, on DuckDB.

A view is computed anew wherever a query names it, and DuckDB does that for each branch of
the union that counts a model's offending rows. `stg_event_versions` (a view that dedups a
million versions and normalizes their states) has six tests: at 1M events they cost 3.4 s,
0.5 s each, though one evaluation costs 0.6 s. Here the union reads the view once, as a
materialized CTE of the columns its tests name, and each test reads that CTE instead.

Only the counting changes: a test that fails is read again, as written, for its rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from simplymeet.models import parse_cache
from simplymeet.models.seeds import MODELS_SCHEMA
from simplymeet.models.translate import SOURCE_DIALECT, parse

_FORMAT = 2
"""Bumped when what `_rewritten` or `_names` writes changes, so older cache entries miss."""

ALL_COLUMNS = "*"


def shared_counts(model: str, union: str, view_columns: Sequence[str]) -> str | None:
    """`union` (DuckDB SQL counting each test's offending rows) reading `analytics.<model>`
    once; None when its tests name none of the view's columns."""
    named = names_mentioned(union, f"view-test-columns/{model}")
    if named is None:
        wanted = list(view_columns)
    else:
        wanted = [c for c in view_columns if c.lower() in named]
    if not wanted:
        return None
    body = parse_cache.derived_text(
        union, f"view-test-union/{model}/{_FORMAT}", lambda text: _rewritten(text, model)
    )
    columns = ", ".join(_quoted(c) for c in wanted)
    return (
        f"with {_quoted(model)} as materialized "
        f"(select {columns} from {MODELS_SCHEMA}.{_quoted(model)})\n{body}"
    )


def names_mentioned(sql: str, cache_tag: str) -> frozenset[str] | None:
    """Every name `sql` mentions (columns, `using` lists, aliases), lower-cased: a superset of
    the columns it reads; None when it selects `*`. `cache_tag` names it in the parse cache."""
    names = parse_cache.derived_text(sql, f"{cache_tag}/{_FORMAT}", _names)
    return None if names == ALL_COLUMNS else frozenset(names.split(","))


def _names(sql: str) -> str:
    """Every name the SQL mentions (columns, `using` lists, aliases), lower-cased and
    comma-joined; `*` if it selects `*`. A superset of the view's columns it reads."""
    tree = parse(sql)
    if any(not isinstance(star.parent, exp.Count) for star in tree.find_all(exp.Star)):
        return ALL_COLUMNS
    return ",".join(sorted({name.name.lower() for name in tree.find_all(exp.Identifier)}))


def _rewritten(sql: str, model: str) -> str:
    """The SQL with each `analytics.<model>` read as the CTE `<model>` (aliases kept)."""
    tree = parse(sql)
    for table in list(tree.find_all(exp.Table)):
        if table.db.lower() == MODELS_SCHEMA and table.name.lower() == model.lower():
            alias = table.args.get("alias")
            table.replace(exp.Table(this=exp.to_identifier(model), alias=alias))
    return tree.sql(dialect=SOURCE_DIALECT)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
