"""Build the SQL models into schema `analytics`, in the order their references dictate."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from simplymeet.config import Settings, load_settings
from simplymeet.models.connection import Warehouse, connect
from simplymeet.models.errors import ModelBuildError
from simplymeet.models.project import Model, Project, load_project
from simplymeet.models.seeds import MODELS_SCHEMA, write_seeds
from simplymeet.models.sources import SOURCE_SCHEMA, ensure_source_tables


@dataclass(frozen=True)
class BuiltModel:
    """One model as built: where it came from, how, how many rows, how long it took."""

    name: str
    materialization: str
    path: Path
    rows: int | None
    seconds: float


@dataclass
class BuildResult:
    """What `build_models` did, in build order."""

    models: list[BuiltModel] = field(default_factory=list)
    seeds: list[str] = field(default_factory=list)
    created_sources: list[str] = field(default_factory=list)
    seconds: float = 0.0

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
) -> BuildResult:
    """Create or replace every model of `sql_dir` in `analytics`, dependencies first.

    The seed tables (state vocabulary, cancelers, working hours from `settings`) are written
    first; raw tables the sync has not written yet are created empty so the models still
    build. Everything happens in one transaction: a model that fails rolls the whole build
    back and raises ModelBuildError naming it.

    >>> build_models("simplymeet.duckdb").models[-1].name  # doctest: +SKIP
    'utilization_host_weekday'
    """
    started = time.perf_counter()
    settings = settings if settings is not None else load_settings()
    project = load_project(sql_dir)
    result = BuildResult()
    with connect(con_or_path) as con:
        con.execute("begin transaction")
        try:
            result.created_sources = (
                ensure_source_tables(con, SOURCE_SCHEMA) if create_missing_sources else []
            )
            result.seeds = write_seeds(con, settings, MODELS_SCHEMA)
            kinds = dict(
                con.execute(
                    "select table_name, table_type from information_schema.tables "
                    "where table_schema = ?",
                    [MODELS_SCHEMA],
                ).fetchall()
            )
            for model in project.models:
                result.models.append(_build_one(con, model, kinds.get(model.name)))
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    result.seconds = time.perf_counter() - started
    return result


def _build_one(
    con: duckdb.DuckDBPyConnection, model: Model, existing_kind: str | None
) -> BuiltModel:
    started = time.perf_counter()
    other_kind = "view" if model.materialization == "table" else "table"
    try:
        if existing_kind and (existing_kind == "VIEW") == (other_kind == "view"):
            con.execute(f"drop {other_kind} {model.relation}")
        con.execute(model.create_statement())
        rows = None
        if model.materialization == "table":
            counted = con.execute(f"select count(*) from {model.relation}").fetchone()
            rows = int(counted[0]) if counted else 0
    except duckdb.Error as exc:
        raise ModelBuildError(model.name, str(model.path), exc) from exc
    return BuiltModel(
        model.name, model.materialization, model.path, rows, time.perf_counter() - started
    )


def describe_project(sql_dir: str | Path | None = None) -> Project:
    """The models of `sql_dir` in build order (no database needed)."""
    return load_project(sql_dir)
