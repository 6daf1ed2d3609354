"""Incremental models: recompute only the rows whose inputs changed since the last build.

A model opts in with an `[incremental]` table in its `.toml` (beside its data tests):

    [incremental]
    key = ["event_id"]          # the unit recomputed; default: the model's `key` (its grain)
    changed = "select id as event_id from raw.events where _synced_at > $since"
    watermark = "select max(_synced_at) from raw.events"   # stored as $since for next time
    narrow = { stg_events = ["event_id"] }     # inputs read only for the changed keys
    rebuild_when_changed = ["stg_users"]       # small inputs: any change rebuilds the model
    accounted_for = ["int_as_of"]              # inputs whose effect `changed` already selects
    run_wide_columns = { as_of = "select as_of from analytics.int_as_of" }

A model whose changes are not a matter of stamps (a host's day, made of bookings that move
between days and of the day's availability) names its changed keys by digest instead:

    [incremental]
    key = ["account", "host_user_id", "date_local"]
    inputs_digest = "select account, host_user_id, date_local, sum(hash(...)) as digest ..."

one row per key with a digest of everything the key's rows are computed from. The digests
are kept beside the model (`_incremental_digests_<model>`), and the changed keys are those
whose digest differs from the one their rows were built from, including keys that appeared
or went away; `changed` and `watermark` are then optional (a `changed` query adds its keys).

Every relation the model reads must be named in `narrow`, `rebuild_when_changed` or
`accounted_for`, so a join added later cannot be silently left out of the increment. The
build deletes the changed keys' rows and inserts them again from the model's own SQL, its
`narrow` inputs filtered to those keys (sqlglot rewrites the table references), then sets the
run-wide columns. It falls back to a full rebuild when there is no state for the model, when
its SQL or declaration changed, when a `rebuild_when_changed` input's content changed, or when
the changed keys number more than a fifth of the rows a rebuild would read (the model's own
or its largest `narrow` input's). On other warehouses than DuckDB the model is rebuilt in
full (correct, not incremental), and so is every incremental model that reads an incremental
model rebuilt in full in the same build.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from simplymeet.models import parse_cache
from simplymeet.models.errors import ModelProjectError
from simplymeet.models.seeds import MODELS_SCHEMA
from simplymeet.models.translate import SOURCE_DIALECT, parse
from simplymeet.models.watermarks import STATE_TABLE

CHANGED_TABLE = "_incremental_changed_keys"
DIGESTS_NOW = "_incremental_digests_now"
DIGESTS_PREFIX = "_incremental_digests_"
"""Followed by the model's name: per key, the digest of the inputs its rows were built from."""
NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
"""`$since` after a build that found no rows to take a watermark from: everything is new."""
FULL_REBUILD_FRACTION = 0.2
"""Past this share of changed rows, deleting and inserting costs more than a rebuild."""

_ALLOWED = {
    "key",
    "changed",
    "watermark",
    "narrow",
    "rebuild_when_changed",
    "accounted_for",
    "run_wide_columns",
    "inputs_digest",
}


@dataclass(frozen=True)
class Incremental:
    """An `[incremental]` declaration, checked against the relations the model reads."""

    key: tuple[str, ...]
    changed: str
    watermark: str
    narrow: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rebuild_when_changed: tuple[str, ...] = ()
    accounted_for: tuple[str, ...] = ()
    run_wide_columns: dict[str, str] = field(default_factory=dict)
    digest: str = ""
    """A digest of the declaration, so changing it rebuilds the model."""
    inputs_digest: str = ""
    """A select of the key columns and `digest`: keys whose digest changed are changed keys."""


def parse_incremental(
    spec: dict[str, Any], grain: list[str] | None, reads: frozenset[str], path: Path
) -> Incremental:
    """The `[incremental]` table of `path`, validated; ModelProjectError says what is wrong."""
    unknown = sorted(set(spec) - _ALLOWED)
    if unknown:
        raise ModelProjectError(f"{path}: unknown [incremental] setting(s) {unknown}")
    key = spec.get("key", grain)
    if not key or not all(isinstance(k, str) for k in key):
        raise ModelProjectError(f"{path}: [incremental] needs a key (a list of column names)")
    inputs_digest = spec.get("inputs_digest", "")
    if not isinstance(inputs_digest, str):
        raise ModelProjectError(f"{path}: [incremental] inputs_digest must be a select statement")
    # With a digest of the inputs, `changed` is optional; a `changed` needs its watermark.
    required = ("changed", "watermark") if not inputs_digest.strip() or "changed" in spec else ()
    for name in required:
        if not isinstance(spec.get(name), str) or not spec[name].strip():
            raise ModelProjectError(f"{path}: [incremental] needs {name} (a select statement)")
    narrow = {str(k): tuple(v) for k, v in dict(spec.get("narrow", {})).items()}
    for relation, columns in narrow.items():
        if len(columns) != len(key):
            raise ModelProjectError(
                f"{path}: [incremental] narrow.{relation} names {len(columns)} column(s) "
                f"for a key of {len(key)}"
            )
    rebuild = tuple(spec.get("rebuild_when_changed", ()))
    accounted = tuple(spec.get("accounted_for", ()))
    declared = set(narrow) | set(rebuild) | set(accounted)
    missing = sorted(reads - declared)
    if missing:
        raise ModelProjectError(
            f"{path}: [incremental] does not say how a change in {missing} reaches the model "
            "(name each in narrow, rebuild_when_changed or accounted_for)"
        )
    extra = sorted(declared - reads)
    if extra:
        raise ModelProjectError(
            f"{path}: [incremental] names {extra}, which the model does not read"
        )
    run_wide = {str(k): str(v) for k, v in dict(spec.get("run_wide_columns", {})).items()}
    digest = hashlib.blake2b(repr(sorted(spec.items())).encode(), digest_size=8).hexdigest()
    return Incremental(
        key=tuple(key),
        changed=spec.get("changed", ""),
        watermark=spec.get("watermark", ""),
        narrow=narrow,
        rebuild_when_changed=rebuild,
        accounted_for=accounted,
        run_wide_columns=run_wide,
        digest=digest,
        inputs_digest=inputs_digest,
    )


LITERAL_KEYS_MAX = 50_000
"""Up to this many changed keys are written into the SQL as a list: DuckDB pushes a constant
list through views, unions and windows down to the scans, where a join on the keys table
reads the whole input (1.5 s instead of 0.02 s for 100 keys of 1M in `stg_event_versions`).
The list is `= any([…])`, not `in (…)`: DuckDB 1.4 turns an `in` list into a join that the
scan feeds every row, where `any` filters in the scan (100 keys of 1M through `stg_events`:
132 → 52 ms; 50,000 keys: 502 → 240 ms)."""


def narrowed_sql(
    sql: str, incremental: Incremental, keys: dict[str, list[Any]] | None = None
) -> str:
    """The model's select with each `narrow` input read only for the changed keys.

    `keys` holds, per key column, the values the changed keys take, written as literal lists
    (each column on its own: a superset of the changed keys, which the insert then filters
    exactly); without them the inputs are joined with the changed-keys table.
    """
    if keys is None:
        return _narrowed(sql, incremental.narrow, incremental.key, None)
    return narrowed_reads(
        sql, incremental.narrow, incremental.key, keys, f"narrowed/{incremental.digest}"
    )


def narrowed_reads(
    sql: str,
    narrow: Mapping[str, Sequence[str]],
    key: Sequence[str],
    keys: Mapping[str, Sequence[Any]],
    cache_tag: str,
) -> str:
    """`sql` with each `analytics.<relation>` of `narrow` read only where its columns (named
    in `narrow`, in the order of `key`) take the values `keys` lists for each key column.

    `cache_tag` names `narrow` and `key` in the parse cache: same tag, same rewrite.
    """
    # The rewrite is sqlglot's (~45 ms a model); only the key lists change between builds, so
    # it is done once per text, with a placeholder where each list goes.
    template = parse_cache.derived_text(
        sql,
        f"{cache_tag}/{_TEMPLATE_FORMAT}",
        lambda text: _narrowed(text, narrow, key, {k: [_placeholder(k)] for k in key}),
    )
    for column in key:
        listed = ", ".join(_literal(v) for v in keys[column]) or "NULL"
        template = template.replace(_placeholder(column), listed)
    return template


_TEMPLATE_FORMAT = 2
"""Bumped when what `_narrowed` writes changes, so older templates in the cache miss."""


class _Placeholder(str):
    """A key list's place in a narrowed template: written as a bare identifier."""


def _placeholder(column: str) -> _Placeholder:
    return _Placeholder(f"__simplymeet_keys_of_{column}__")


def _narrowed(
    sql: str,
    narrow: Mapping[str, Sequence[str]],
    key: Sequence[str],
    keys: Mapping[str, Sequence[Any]] | None,
) -> str:
    def narrowed_read(name: str) -> exp.Expr:
        pairs = list(zip(key, narrow[name], strict=True))
        if keys is not None:
            condition = " and ".join(
                f"narrowed.{c} = any([{', '.join(_literal(v) for v in keys[k]) or 'null'}])"
                for k, c in pairs
            )
        else:
            match = " and ".join(f"changed.{k} = narrowed.{c}" for k, c in pairs)
            condition = f"exists (select 1 from {CHANGED_TABLE} as changed where {match})"
        subquery = parse(f"select * from {MODELS_SCHEMA}.{name} as narrowed where {condition}")
        return exp.Subquery(this=subquery)

    return replace_model_reads(sql, set(narrow), narrowed_read)


def replace_model_reads(
    sql: str, models: Collection[str], replacement: Callable[[str], exp.Expr]
) -> str:
    """`sql` with each `analytics.<model>` of `models` replaced by `replacement(model)` (a
    subquery or another table), under the alias the read had (the model's name if none)."""
    tree = parse(sql)
    for table in list(tree.find_all(exp.Table)):
        name = table.name.lower()
        if table.db.lower() != MODELS_SCHEMA or name not in models:
            continue
        replaced = replacement(name)
        replaced.set("alias", exp.TableAlias(this=exp.to_identifier(table.alias or name)))
        table.replace(replaced)
    return tree.sql(dialect=SOURCE_DIALECT)


@dataclass(frozen=True)
class Outcome:
    """How an incremental model was built this time."""

    incremental: bool
    changed_keys: int | None
    reason: str
    changes_known: bool
    """The changed keys were known (a rebuild chosen for cost still only changed those), so
    models reading this one may still be built incrementally."""
    keys: dict[str, list[Any]] | None = None
    """Per key column, the values the changed keys take (a superset of the changed keys),
    when the rows were changed in place and the keys were few enough to list."""
    rows: int | None = None
    """The model's rows when it was rebuilt whole (`create table … as` says); else None."""


class BuildSession:
    """What the incremental models of one build share, so each asks the catalogue once.

    Per model the build used to create the state table if missing, read the model's state
    row, ask whether the model and its digests exist, hash each `rebuild_when_changed` input
    and write its state row: ~10 small statements a model, at 200 bookings ~1-4 ms each,
    mostly DuckDB planning them. A session reads the state table and the catalogue's base
    tables once and writes every state row in one statement (`flush`).

    Valid for one build in one transaction: each model asks only about its own relations
    (the model and its digests table), which nothing else in a build creates or drops, and
    what `build` creates is added to what the session knows.
    """

    def __init__(self) -> None:
        self.fingerprints: dict[str, str] = {}
        """`content_fingerprint`'s `known`: a relation is complete before a model reads it."""
        self._states: dict[str, tuple[Any, ...]] | None = None
        self._tables: set[str] | None = None
        self._pending: dict[str, tuple[Any, ...]] = {}

    def state(self, con: Any, name: str) -> tuple[Any, ...] | None:
        """The model's (sql_digest, watermark, inputs) from the state table, or None."""
        if self._states is None:
            con.execute(_CREATE_STATE)
            self._states = {
                row[0]: tuple(row[1:])
                for row in con.execute(
                    f"select model, sql_digest, watermark, inputs "
                    f"from {MODELS_SCHEMA}.{STATE_TABLE}"
                ).fetchall()
            }
        return self._states.get(name)

    def table_exists(self, con: Any, name: str) -> bool:
        """Whether `analytics.<name>` is a base table of the warehouse (`_TABLE_EXISTS`)."""
        if self._tables is None:
            self._tables = {
                row[0]
                for row in con.execute(
                    "select table_name from duckdb_tables() "
                    "where database_name = current_database() and schema_name = ?",
                    [MODELS_SCHEMA],
                ).fetchall()
            }
        return name in self._tables

    def created(self, name: str) -> None:
        """`build` made the base table `analytics.<name>`."""
        if self._tables is not None:
            self._tables.add(name)

    def record(self, name: str, sql_digest: str, watermark: Any, inputs: str) -> None:
        """The model's new state row, written by `flush`."""
        if self._states is not None:
            self._states[name] = (sql_digest, watermark, inputs)
        self._pending[name] = (name, sql_digest, watermark, inputs)

    def flush(self, con: Any) -> None:
        """Write the state rows recorded since the last flush, in the build's transaction."""
        if not self._pending:
            return
        rows = list(self._pending.values())
        con.execute(
            f"insert or replace into {MODELS_SCHEMA}.{STATE_TABLE} values "
            + ", ".join("(?, ?, ?, ?)" for _ in rows),
            [value for row in rows for value in row],
        )
        self._pending.clear()


_CREATE_STATE = (
    f"create table if not exists {MODELS_SCHEMA}.{STATE_TABLE} (model varchar primary key, "
    "sql_digest varchar, watermark timestamp with time zone, inputs varchar)"
)


def build(
    con: Any,
    name: str,
    sql: str,
    incremental: Incremental,
    *,
    force_full: str | None = None,
    fingerprints: dict[str, str] | None = None,
    session: BuildSession | None = None,
) -> Outcome:
    """Bring `analytics.<name>` up to date on DuckDB, incrementally when it can.

    `force_full` is a reason to rebuild it whole (e.g. a model it reads was rebuilt whole: the
    changed-keys query cannot see what that changed). `fingerprints` is shared by the models
    of one build (`content_fingerprint`'s `known`). `session` is shared by the models of one
    build too; its caller then writes their state with `session.flush` before committing.
    Without one, this model's state is written before returning.
    """
    own_session = session is None
    if session is None:
        session = BuildSession()
    if fingerprints is not None:
        session.fingerprints = fingerprints
    relation = f"{MODELS_SCHEMA}.{name}"
    sql_digest = hashlib.blake2b((sql + incremental.digest).encode(), digest_size=8).hexdigest()
    state = session.state(con, name)
    inputs = content_fingerprint(con, incremental.rebuild_when_changed, session.fingerprints)
    new_watermark = None
    if incremental.watermark:
        watermark = con.execute(incremental.watermark).fetchone()
        new_watermark = watermark[0] if watermark else None
    digests = _Digests(con, name, incremental, session) if incremental.inputs_digest else None
    reason = force_full or _why_full(session.table_exists(con, name), state, sql_digest, inputs)
    if reason is None and _watermark_ahead(state, new_watermark):
        reason = "its inputs' newest stamp is older than at its last build (stamps brought back)"
    if reason is None and digests is not None and not digests.kept():
        reason = "no digests of its inputs"
    changed = None
    keys: dict[str, list[Any]] | None = None
    cheaper: str | None = None
    rows: int | None = None
    if reason is None:
        assert state is not None
        changed = _changed_keys(con, incremental, state[1], digests)
        whole = digests.keys() if digests is not None else _rebuild_rows(con, name, incremental)
        if changed > FULL_REBUILD_FRACTION * max(whole, 1):
            cheaper = f"{changed} keys changed: a rebuild is cheaper"
    if reason is not None or cheaper is not None:
        # `create table … as` answers with the rows it wrote: no count afterwards.
        created = con.execute(f"create or replace table {relation} as\n{sql}").fetchone()
        rows = int(created[0]) if created else None
        session.created(name)
        if digests is not None:
            digests.keep_all()
    elif changed:
        match = " and ".join(f"changed.{k} = target.{k}" for k in incremental.key)
        con.execute(
            f"delete from {relation} as target where exists "
            f"(select 1 from {CHANGED_TABLE} as changed where {match})"
        )
        keys = _literal_keys(con, incremental, changed)
        narrowed = narrowed_sql(sql, incremental, keys)
        con.execute(
            f"insert into {relation} by name select target.* from ({narrowed}) as target "
            f"where exists (select 1 from {CHANGED_TABLE} as changed where {match})"
        )
        if digests is not None:
            digests.keep_changed()
    else:
        # Nothing to delete or insert. The narrowed query would still be planned and, with no
        # key to filter on, DuckDB computes its inputs whole (event_history: 0.9 s at 1M).
        keys = {column: [] for column in incremental.key}
    if reason is None and cheaper is None:
        for column, value_sql in incremental.run_wide_columns.items():
            con.execute(
                f"update {relation} set {column} = ({value_sql}) "
                f"where {column} is distinct from ({value_sql})"
            )
    session.record(name, sql_digest, new_watermark, inputs)
    if own_session:
        session.flush(con)
    # Only what this model made: a `drop … if exists` of nothing still costs a statement.
    if changed is not None:
        con.execute(f"drop table if exists {CHANGED_TABLE}")
    if digests is not None:
        con.execute(f"drop table if exists {DIGESTS_NOW}")
    if reason is not None:
        return Outcome(False, None, reason, changes_known=False, rows=rows)
    return Outcome(
        cheaper is None, changed, cheaper or "incremental", changes_known=True, keys=keys, rows=rows
    )


def _watermark_ahead(state: tuple[Any, ...] | None, now: Any) -> bool:
    """Whether the watermark of the last build is later than the newest stamp now: rows were
    stamped back since (a sync bringing back stamps a clock ahead wrote), so `changed` would
    see nothing until the data caught up with it."""
    return state is not None and state[1] is not None and now is not None and state[1] > now


def _changed_keys(con: Any, incremental: Incremental, since: Any, digests: _Digests | None) -> int:
    """Fill the changed-keys table from `changed` and the digests; how many keys changed."""
    columns = ", ".join(incremental.key)
    parts: list[str] = []
    if incremental.changed:
        parts.append(f"select {columns} from ({incremental.changed}) as c")
    if digests is not None:
        parts.append(digests.changed())
    con.execute(
        f"create or replace temp table {CHANGED_TABLE} as "
        f"select distinct {columns} from ({' union all '.join(parts)}) as c",
        {"since": since or NEVER} if "$since" in incremental.changed else None,
    )
    counted = con.execute(f"select count(*) from {CHANGED_TABLE}").fetchone()
    return int(counted[0]) if counted else 0


class _Digests:
    """The digests of a model's inputs per key: as they are now, and as its rows were built."""

    def __init__(
        self, con: Any, name: str, incremental: Incremental, session: BuildSession
    ) -> None:
        self._con = con
        self._key = incremental.key
        self._session = session
        self._name = f"{DIGESTS_PREFIX}{name}"
        self.table = f"{MODELS_SCHEMA}.{self._name}"
        con.execute(
            f"create or replace temp table {DIGESTS_NOW} as "
            f"select {', '.join(self._key)}, digest from ({incremental.inputs_digest}) as d"
        )

    def kept(self) -> bool:
        """Whether the digests the model's rows were built from are in the warehouse."""
        return self._session.table_exists(self._con, self._name)

    def keys(self) -> int:
        """How many keys have inputs now."""
        counted = self._con.execute(f"select count(*) from {DIGESTS_NOW}").fetchone()
        return int(counted[0]) if counted else 0

    def changed(self) -> str:
        """A select of the keys whose digest is new, changed or gone."""
        on = " and ".join(f"now.{k} is not distinct from built.{k}" for k in self._key)
        columns = ", ".join(f"coalesce(now.{k}, built.{k}) as {k}" for k in self._key)
        return (
            f"select {columns} from {DIGESTS_NOW} as now "
            f"full outer join {self.table} as built on {on} "
            "where now.digest is distinct from built.digest"
        )

    def keep_all(self) -> None:
        """The model was built whole: every key's rows are from the digests now."""
        self._con.execute(f"create or replace table {self.table} as select * from {DIGESTS_NOW}")
        self._session.created(self._name)

    def keep_changed(self) -> None:
        """The changed keys were built again: their digests are the ones now."""
        match = " and ".join(f"changed.{k} is not distinct from d.{k}" for k in self._key)
        changed = f"exists (select 1 from {CHANGED_TABLE} as changed where {match})"
        self._con.execute(f"delete from {self.table} as d where {changed}")
        self._con.execute(
            f"insert into {self.table} select * from {DIGESTS_NOW} as d where {changed}"
        )


def _rebuild_rows(con: Any, name: str, incremental: Incremental) -> int:
    """What a rebuild would read, in rows: the model's own or its largest narrowed input's.

    A model can be far smaller than what it is computed from (`event_state_transitions`
    holds a row only where a booking's history changed, out of every version of every
    booking): measured by its own rows, 100 changed bookings of a million looked like most of
    it, and it was rebuilt whole from the million (163 ms of a 1M refresh's 3 s).
    """
    counted = con.execute(f"select count(*) from {MODELS_SCHEMA}.{name}").fetchone()
    rows = int(counted[0]) if counted else 0
    if incremental.narrow:
        listed = ", ".join("?" for _ in incremental.narrow)
        # Tables only (a view's size is a query); the catalogue's estimate is enough here.
        largest = con.execute(
            "select max(estimated_size) from duckdb_tables() "
            f"where schema_name = ? and table_name in ({listed})",
            [MODELS_SCHEMA, *incremental.narrow],
        ).fetchone()
        rows = max(rows, int(largest[0]) if largest and largest[0] is not None else 0)
    return rows


def _literal(value: Any) -> str:
    if isinstance(value, _Placeholder):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if type(value) is dt.date:
        return f"date '{value.isoformat()}'"
    return str(int(value))


def _listable(value: Any) -> bool:
    """Whether `_literal` writes `value` exactly (a datetime's time zone it would not)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, str | int) or type(value) is dt.date


def _literal_keys(
    con: Any, incremental: Incremental, changed: int | None
) -> dict[str, list[Any]] | None:
    """Per key column, the values of the changed keys, when they can be written as literals."""
    if changed is None or changed > LITERAL_KEYS_MAX:
        return None
    found: dict[str, list[Any]] = {}
    for column in incremental.key:
        values = [
            row[0]
            for row in con.execute(f"select distinct {column} from {CHANGED_TABLE}").fetchall()
        ]
        if not all(_listable(v) for v in values):
            return None
        found[column] = values
    return found


def _why_full(
    exists: bool, state: tuple[Any, ...] | None, sql_digest: str, inputs: str
) -> str | None:
    # `exists`: a base table of the warehouse (not a view, not a temp table), from DuckDB's
    # own catalogue (`BuildSession.table_exists`), which answers in half the time
    # `information_schema` takes.
    if not exists:
        return "not built yet"
    if state is None:
        return "no incremental state"
    if state[0] != sql_digest:
        return "its SQL or declaration changed"
    if state[2] != inputs:
        return "an input named in rebuild_when_changed changed"
    return None


def content_fingerprint(
    con: Any, relations: tuple[str, ...], known: dict[str, str] | None = None
) -> str:
    """A digest of the content of `relations`, leaving out when the rows were synced.

    `known` keeps each relation's part for the next call: within one build a relation is
    complete before the first model reading it is built, and several models read the same
    small inputs (users and event types: 5 ms a hash of the view, four models).
    """
    found = dict(known) if known is not None else {}
    missing = list(dict.fromkeys(r for r in relations if r not in found))
    if missing:
        found.update(_content_parts(con, missing))
        if known is not None:
            known.update((relation, found[relation]) for relation in missing)
    return hashlib.blake2b(
        "|".join(found[relation] for relation in relations).encode(), digest_size=8
    ).hexdigest()


def _content_parts(con: Any, relations: list[str]) -> dict[str, str]:
    """Each relation's part of `content_fingerprint`: `<relation>:(rows, hash of rows)`.

    Two statements for any number of relations, not two each: the seeds alone were ten
    statements of ~1 ms a build (mostly DuckDB planning them), and again in the data tests.
    """
    listed = ", ".join("?" for _ in relations)
    columns: dict[str, list[str]] = {relation: [] for relation in relations}
    for table, column in con.execute(
        "select table_name, column_name from duckdb_columns() where database_name = "
        f"current_database() and schema_name = ? and table_name in ({listed}) "
        "order by table_name, column_index",
        [MODELS_SCHEMA, *relations],
    ).fetchall():
        if column not in ("synced_at", "_synced_at"):
            columns[table].append(column)
    hashes = [", ".join(f'"{c}"' for c in columns[r]) for r in relations]
    rows = one_row_each(
        con, MODELS_SCHEMA, relations, [["count(*)", f"bit_xor(hash({h}))"] for h in hashes]
    )
    return {r: f"{r}:{row}" for r, row in zip(relations, rows, strict=True)}


def one_row_each(
    con: Any, schema: str, tables: list[str], selects: list[list[str]]
) -> list[tuple[Any, ...]]:
    """Per table, the row `select <its expressions> from "<schema>"."<table>"` answers, all in
    one query. The expressions are aggregates (one row each) of integer types: each row is
    a list of HUGEINT in a union, and Python reads the same ints either way."""
    if not tables:
        return []
    # A union, not a cross join of the one-row selects: 21 relations in a join cost DuckDB's
    # join ordering more than the statements saved.
    branches = [
        f"select {i} as i, [{', '.join(f'({e})::hugeint' for e in expressions)}] as v "
        f'from "{schema}"."{table}"'
        for i, (table, expressions) in enumerate(zip(tables, selects, strict=True))
    ]
    rows = dict(con.execute(" union all ".join(branches)).fetchall())
    return [tuple(rows[i]) for i in range(len(tables))]
