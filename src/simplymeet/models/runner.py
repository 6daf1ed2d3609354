"""Build the SQL models into schema `analytics`, in the order their references dictate."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from simplymeet.config import Settings, load_settings
from simplymeet.models import build_inputs, parse_cache
from simplymeet.models.connection import (
    Warehouse,
    connect,
    dialect_of,
    is_postgres_error,
    nested_loops_for_small_joins,
    one_thread_for_small_tables,
)
from simplymeet.models.errors import ModelBuildError, ModelsNotBuiltError
from simplymeet.models.incremental import BuildSession
from simplymeet.models.incremental import build as build_incremental
from simplymeet.models.project import Model, Project, load_project
from simplymeet.models.seeds import MODELS_SCHEMA, write_seeds
from simplymeet.models.sources import SOURCE_SCHEMA, ensure_source_tables
from simplymeet.models.test_scope import BuildChanges, newest_stamp, read_state, take_state
from simplymeet.models.translate import TranslationError, needs_columns, remembered_translation


@dataclass(frozen=True)
class BuiltModel:
    """One model as built: where it came from, how, how many rows, how long it took."""

    name: str
    materialization: str
    path: Path
    rows: int | None
    seconds: float
    incremental: bool = False
    """Only the rows whose inputs changed were recomputed (see `incremental.py`)."""
    changed_keys: dict[str, list[Any]] | None = None
    """When incremental: per key column, the values its changed keys took (when listed)."""


@dataclass
class BuildResult:
    """What `build_models` did, in build order."""

    models: list[BuiltModel] = field(default_factory=list)
    seeds: list[str] = field(default_factory=list)
    created_sources: list[str] = field(default_factory=list)
    seconds: float = 0.0
    changes: BuildChanges | None = None
    """On DuckDB: what changed, for the data tests that follow (`test_scope`)."""
    unchanged: bool = False
    """Nothing the models are made of changed since the last build: every model was kept
    as built (`keep_unchanged`), and `models` is empty."""

    def __getitem__(self, name: str) -> BuiltModel:
        for model in self.models:
            if model.name == name:
                return model
        raise KeyError(name)


def build_models(
    con_or_path: Warehouse,
    *,
    sql_dir: str | Path | None = None,
    settings: Settings | None = None,
    create_missing_sources: bool = True,
    dataset: str | None = None,
    keep_unchanged: bool = False,
    dataset_must_exist: bool = False,
) -> BuildResult:
    """Create or replace every model of `sql_dir` in `analytics`, dependencies first.

    The seed tables (state vocabulary, cancelers, working hours from `settings`) are written
    first; raw tables the sync has not written yet are created empty so the models still
    build. Everything happens in one transaction: a model that fails rolls the whole build
    back and raises ModelBuildError naming it.

    The models read the raw tables from `dataset` (default: settings `[warehouse] dataset`).
    On PostgreSQL each model's DuckDB SQL is translated by sqlglot, or taken from its
    `<model>.postgres.sql` file when there is one.

    `dataset_must_exist`: a `dataset` holding no table is refused (ModelsNotBuiltError)
    rather than read as empty: a name typed wrong would rebuild every model empty.

    `keep_unchanged` (DuckDB): when the SQL, the seeds and the raw tables the models read are
    what the last committed build was made from (`build_inputs`), keep every model as it is
    (`BuildResult.unchanged`); what a scheduled sync that loaded nothing asks for.

    >>> build_models("simplymeet.duckdb").models[-1].name  # doctest: +SKIP
    'utilization_host_weekday'
    """
    started = time.perf_counter()
    settings = settings if settings is not None else load_settings()
    project = load_project(sql_dir)
    schemas = logical_schemas(settings, dataset)
    result = BuildResult()
    with (
        connect(con_or_path) as con,
        nested_loops_for_small_joins(con),
        one_thread_for_small_tables(con),
    ):
        if (
            dataset_must_exist
            and not con.execute(
                "select count(*) from information_schema.tables where table_schema = ?",
                [schemas[SOURCE_SCHEMA]],
            ).fetchone()[0]
        ):
            raise ModelsNotBuiltError(
                f"dataset {schemas[SOURCE_SCHEMA]!r} holds no tables: nothing was synced into "
                "it (check --dataset, or [warehouse] dataset)"
            )
        con.execute("begin transaction")
        try:
            result.created_sources = (
                ensure_source_tables(con, schemas[SOURCE_SCHEMA]) if create_missing_sources else []
            )
            result.seeds = write_seeds(con, settings, MODELS_SCHEMA)
            kinds = dict(
                con.execute(
                    "select table_name, table_type from information_schema.tables "
                    "where table_schema = ?",
                    [MODELS_SCHEMA],
                ).fetchall()
            )
            inputs = None
            if dialect_of(con) == "duckdb":
                inputs = build_inputs.fingerprint(con, project, schemas[SOURCE_SCHEMA])
                through = newest_stamp(con, schemas[SOURCE_SCHEMA])
                if (
                    keep_unchanged
                    and inputs is not None
                    and inputs == build_inputs.last_fingerprint(con, project)
                ):
                    # The tests' state stays: they passed (if they did) on these same rows.
                    result.changes = BuildChanges(
                        tested=read_state(con), through=through, unchanged=True
                    )
                    result.unchanged = True
                    con.execute("commit")
                    result.seconds = time.perf_counter() - started
                    return result
                # Taken in this transaction: a build that commits leaves no state behind, so
                # the data tests read every row until they pass on what it built.
                result.changes = BuildChanges(tested=take_state(con), through=through)
            rebuilt_whole: set[str] = set()
            session = BuildSession()
            for model in project.models:
                if dialect_of(con) == "duckdb":
                    upstream = sorted(model.refs & rebuilt_whole)
                    built, changes_known = _build_one(
                        con, model, kinds.get(model.name), schemas, upstream, session
                    )
                    if not changes_known:
                        rebuilt_whole.add(model.name)
                    result.models.append(built)
                    if model.booking is not None and model.materialization == "table":
                        _note_changes(result, built)
                else:
                    result.models.append(_build_portable(con, model, schemas))
            if dialect_of(con) == "duckdb":
                session.flush(con)
                build_inputs.record(con, project, inputs)
            con.execute("commit")
        except BaseException:
            # A fatal error (a full disk) invalidates the database, which then refuses the
            # rollback too ("database has been invalidated"): the error that broke it is the
            # one to report, and closing the connection discards the transaction anyway.
            with contextlib.suppress(Exception):
                con.execute("rollback")
            raise
    parse_cache.save()  # the incremental models' narrowed SQL, when it was new
    result.seconds = time.perf_counter() - started
    return result


def _note_changes(result: BuildResult, built: BuiltModel) -> None:
    """Which rows of a `booking` table this build changed, for the data tests after it."""
    assert result.changes is not None
    if built.incremental and built.changed_keys is not None:
        result.changes.keys[built.name] = built.changed_keys
    else:
        result.changes.rebuilt.add(built.name)


def logical_schemas(settings: Settings, dataset: str | None = None) -> dict[str, str]:
    """Where the models' logical schemas live: `raw` is the sync's dataset."""
    return {
        SOURCE_SCHEMA: dataset or str(settings.get("warehouse", "dataset")),
        MODELS_SCHEMA: MODELS_SCHEMA,
    }


def model_sql(model: Model, dialect: str, schemas: dict[str, str], con: Any = None) -> str:
    """The select a model is built from on `dialect`, its schemas mapped to `schemas`."""
    if dialect in model.dialect_sql:
        source = model.dialect_sql[dialect]
        # A dialect file is already in its dialect: only the schema names change.
        return source if _identity(schemas) else remembered_translation(source, schemas=schemas)
    if dialect == "duckdb" and _identity(schemas):
        return model.sql
    columns = _columns(con, schemas) if con is not None and needs_columns(model.sql) else None
    return remembered_translation(model.sql, dialect=dialect, schemas=schemas, columns=columns)


def _identity(schemas: dict[str, str]) -> bool:
    return all(logical == physical for logical, physical in schemas.items())


def _columns(con: Any, schemas: dict[str, str]) -> dict[str, dict[str, dict[str, str]]]:
    """The warehouse's columns by logical schema, for expanding `* exclude`."""
    logical = {physical: name for name, physical in schemas.items()}
    rows = con.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        f"where table_schema in ({', '.join('?' for _ in logical)}) "
        "order by table_schema, table_name, ordinal_position",
        list(logical),
    ).fetchall()
    found: dict[str, dict[str, dict[str, str]]] = {}
    for schema, table, column, _type in rows:
        # The type is not needed to expand a star; a neutral one avoids mapping each dialect's.
        found.setdefault(logical[schema], {}).setdefault(table, {})[column] = "text"
    return found


def _build_portable(con: Any, model: Model, schemas: dict[str, str]) -> BuiltModel:
    """Build one model on a server: drop what is there (dependent views follow), create."""
    started = time.perf_counter()
    dialect = dialect_of(con)
    relation = f'"{schemas[MODELS_SCHEMA]}"."{model.name}"'
    try:
        sql = model_sql(model, dialect, schemas, con)
        existing = con.execute(
            "select table_type from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [schemas[MODELS_SCHEMA], model.name],
        ).fetchone()
        if existing:
            # Views built on this model are dropped with it and rebuilt later in this build.
            kind = "view" if existing[0] == "VIEW" else "table"
            con.execute(f"drop {kind} {relation} cascade")
        con.execute(f"create {model.materialization} {relation} as\n{sql}")
        rows = None
        if model.materialization == "table":
            counted = con.execute(f"select count(*) from {relation}").fetchone()
            rows = int(counted[0]) if counted else 0
    except TranslationError as exc:
        raise ModelBuildError(model.name, str(model.path), exc) from exc
    except Exception as exc:
        if is_postgres_error(exc):
            raise ModelBuildError(model.name, str(model.path), exc) from exc
        raise
    return BuiltModel(
        model.name, model.materialization, model.path, rows, time.perf_counter() - started
    )


def _build_one(
    con: duckdb.DuckDBPyConnection,
    model: Model,
    existing_kind: str | None,
    schemas: dict[str, str],
    rebuilt_upstream: list[str] | None = None,
    session: BuildSession | None = None,
) -> tuple[BuiltModel, bool]:
    """Build one model; also whether its changes are known to its incremental dependents.

    `session` is the build's (`incremental.BuildSession`): its caller flushes it.
    """
    started = time.perf_counter()
    other_kind = "view" if model.materialization == "table" else "table"
    incremental = False
    changes_known = model.incremental is None
    changed_keys = None
    created = None
    try:
        if existing_kind and (existing_kind == "VIEW") == (other_kind == "view"):
            con.execute(f"drop {other_kind} {model.relation}")
        if model.incremental is not None:
            declared = model.incremental
            if not _identity(schemas):

                def mapped(sql: str) -> str:
                    return remembered_translation(sql, schemas=schemas)

                declared = dataclasses.replace(
                    declared,
                    changed=declared.changed and mapped(declared.changed),
                    watermark=declared.watermark and mapped(declared.watermark),
                    inputs_digest=declared.inputs_digest and mapped(declared.inputs_digest),
                    run_wide_columns={k: mapped(v) for k, v in declared.run_wide_columns.items()},
                )
            sql = model_sql(model, "duckdb", schemas)
            force = None
            # A `changed` query cannot see what a model rebuilt whole changed; digests can.
            if rebuilt_upstream and declared.changed:
                force = f"{', '.join(rebuilt_upstream)} rebuilt in full"
            outcome = build_incremental(
                con, model.name, sql, declared, force_full=force, session=session
            )
            incremental, changes_known = outcome.incremental, outcome.changes_known
            changed_keys = outcome.keys
            created = None if outcome.rows is None else (outcome.rows,)
        elif _identity(schemas) and "duckdb" not in model.dialect_sql:
            created = con.execute(model.create_statement()).fetchone()
        else:
            created = con.execute(
                f"create or replace {model.materialization} {model.relation} as\n"
                + model_sql(model, "duckdb", schemas)
            ).fetchone()
        rows = None
        if model.materialization == "table":
            # `create table … as` answers with the rows it wrote; an increment does not.
            if created is not None:
                rows = int(created[0])
            else:
                counted = con.execute(f"select count(*) from {model.relation}").fetchone()
                rows = int(counted[0]) if counted else 0
    except (duckdb.Error, TranslationError) as exc:
        raise ModelBuildError(model.name, str(model.path), exc) from exc
    built = BuiltModel(
        model.name,
        model.materialization,
        model.path,
        rows,
        time.perf_counter() - started,
        incremental,
        changed_keys,
    )
    return built, changes_known


def describe_project(sql_dir: str | Path | None = None) -> Project:
    """The models of `sql_dir` in build order (no database needed)."""
    return load_project(sql_dir)
