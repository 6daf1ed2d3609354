"""The SQL models in `sql/`: discovery, headers, references and build order.

A model is one `.sql` file holding a single select statement; its name is the file stem, its
materialization is declared in a leading comment (`-- materialized: table` or `view`), and its
dependencies are the `analytics.<name>` tables it reads, found by parsing the SQL with sqlglot.
A file `<model>.<dialect>.sql` beside it (e.g. `fct_events.postgres.sql`) replaces the
translated SQL on that dialect, for what translation cannot express.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import graphlib
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from simplymeet.landing_schema import ACCOUNT, EVENT_VERSIONS, EVENTS
from simplymeet.models import parse_cache
from simplymeet.models.errors import MissingModelError, ModelCycleError, ModelProjectError
from simplymeet.models.incremental import Incremental, parse_incremental
from simplymeet.models.seeds import MODELS_SCHEMA, SEEDS
from simplymeet.models.sources import SOURCE_SCHEMA
from simplymeet.models.translate import (
    LOGICAL_SCHEMAS,
    SOURCE_DIALECT,
    TABLES_READ_VERSION,
    TranslationError,
    parse,
    tables_read,
)

Materialization = Literal["table", "view"]
MATERIALIZATIONS: tuple[Materialization, ...] = ("table", "view")

SQL_DIR_ENV = "SIMPLYMEET_SQL_DIR"

_DIALECTS = frozenset({"postgres", "bigquery", "snowflake", "duckdb"})

_HEADER = re.compile(r"^--\s*(?P<key>[a-z_]+)\s*:\s*(?P<value>.*?)\s*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DIALECT_FILE = re.compile(r"^(?P<model>[a-z][a-z0-9_]*)\.(?P<dialect>[a-z]+)$")


@dataclass(frozen=True)
class Model:
    """One SQL model file."""

    name: str
    path: Path
    sql: str
    materialization: Materialization
    grain: str | None
    refs: frozenset[str]
    sources: frozenset[str]
    dialect_sql: Mapping[str, str] = field(default_factory=dict)
    """SQL written for one dialect (`<model>.<dialect>.sql`), used there instead of translating."""
    incremental: Incremental | None = None
    """The `[incremental]` table of the model's `.toml`: a table refreshed for what changed."""
    booking: tuple[str, ...] | None = None
    """`booking = ["account", "event_id"]` in the model's `.toml`: the columns naming the
    booking each row belongs to, whose rows change only when that booking's raw rows do (or
    an incremental build says so). Its data tests may then read only the changed bookings
    (`test_scope`)."""

    @property
    def relation(self) -> str:
        """The fully qualified name the model is built as, e.g. `analytics.fct_events`."""
        return f"{MODELS_SCHEMA}.{self.name}"

    def create_statement(self) -> str:
        """The DDL the runner executes for this model."""
        return f"create or replace {self.materialization} {self.relation} as\n{self.sql}"


@dataclass(frozen=True)
class Project:
    """Every model under a `sql/` folder, in an order where each follows its dependencies."""

    sql_dir: Path
    models: tuple[Model, ...]
    external: frozenset[str] = field(default_factory=frozenset)

    def __getitem__(self, name: str) -> Model:
        for model in self.models:
            if model.name == name:
                return model
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [model.name for model in self.models]


def default_sql_dir() -> Path:
    """$SIMPLYMEET_SQL_DIR, else `sql/` shipped in the package, else the repository's `sql/`."""
    if os.environ.get(SQL_DIR_ENV):
        return Path(os.environ[SQL_DIR_ENV])
    packaged = Path(__file__).resolve().parents[1] / "sql"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "sql"


_LEXEMES = re.compile(r"--[^\n]*|/\*(?:.*?\*/|.*\Z)|'(?:''|[^'])*(?:'|\Z)", re.DOTALL)
"""A line comment, a block comment and a string literal, each to its end or the text's."""


def strip_comments_and_strings(sql: str) -> str:
    """SQL with comments removed and string literals blanked (for parsing references)."""
    # One regular expression, not a loop over characters: every sync loads the project
    # twice (the build, then its data tests), and the loop was 40 ms of each load.
    return _LEXEMES.sub(_blank, sql)


def _blank(match: re.Match[str]) -> str:
    text = match.group()
    if text.startswith("--"):
        return ""
    return " " if text.startswith("/*") else "''"


def parse_model(path: Path) -> Model:
    """Read one model file: its header comments, body and the tables it references."""
    text = path.read_text(encoding="utf-8")
    name = path.stem
    if not _NAME.match(name):
        raise ModelProjectError(f"{path}: model names are snake_case, got {name!r}")
    headers: dict[str, str] = {}
    grain: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        match = _HEADER.match(stripped)
        if match:
            headers.setdefault(match["key"], match["value"])
            if match["key"] == "grain" and grain is None:
                grain = match["value"]
    materialization = headers.get("materialized", "view").lower()
    if materialization not in MATERIALIZATIONS:
        raise ModelProjectError(
            f"{path}: '-- materialized: {materialization}' is not one of {MATERIALIZATIONS}"
        )
    body = strip_comments_and_strings(text).strip()
    if body.endswith(";"):
        body = body[:-1].rstrip()
    if ";" in body:
        raise ModelProjectError(f"{path}: a model holds a single select statement (found ';')")
    first_word = body.split(None, 1)[0].lower() if body else ""
    if first_word not in {"with", "select", "from", "("}:
        raise ModelProjectError(
            f"{path}: a model is a select statement; it starts with {first_word!r}"
        )
    sql = text.strip()
    if sql.endswith(";"):
        sql = sql[:-1].rstrip()
    try:
        read = tables_read_of(sql)
    except TranslationError as exc:
        raise ModelProjectError(f"{path}: sqlglot cannot parse the model: {exc}") from exc
    spec = model_spec(path)
    return Model(
        name=name,
        path=path,
        sql=sql,
        materialization=materialization,
        grain=grain,
        refs=read[MODELS_SCHEMA],
        sources=read[SOURCE_SCHEMA],
        incremental=_incremental_of(
            spec, path, materialization, read[MODELS_SCHEMA] | read[SOURCE_SCHEMA]
        ),
        booking=_booking_of(spec, path),
    )


@functools.lru_cache(maxsize=1024)
def tables_read_of(sql: str) -> dict[str, frozenset[str]]:
    """The tables `sql` reads, by logical schema (`raw`, `analytics`)."""
    # A build and the data tests after it load the project again, and a long-lived process
    # (tests, an orchestrator) builds many times: sqlglot's parse is most of a load's CPU.
    # Keyed by the text, so an edited model is parsed anew; a new process finds the answer
    # in `parse_cache`'s file.
    return parse_cache.tables_read(sql, _TABLES_READ_KIND, lambda text: tables_read(parse(text)))


_TABLES_READ_KIND = f"{SOURCE_DIALECT}/{TABLES_READ_VERSION}/{','.join(LOGICAL_SCHEMAS)}"
"""What the cached answers depend on besides the SQL and sqlglot's version."""


def model_spec(path: Path) -> dict[str, Any]:
    """The `.toml` beside the model file `path` (its tests and declarations), empty when it
    has none; ModelProjectError when it is not valid TOML."""
    spec_path = path.with_suffix(".toml")
    if not spec_path.exists():
        return {}
    try:
        # A copy: the caller may change what it is given, the cached tree stays as parsed.
        return copy.deepcopy(_parsed_toml(spec_path.read_text(encoding="utf-8")))
    except tomllib.TOMLDecodeError as exc:
        raise ModelProjectError(f"{spec_path}: not valid TOML ({exc})") from exc


@functools.lru_cache(maxsize=1024)
def _parsed_toml(text: str) -> dict[str, Any]:
    """`tomllib.loads(text)`, remembered by the text: a build and its data tests each read
    every model's `.toml`, a long-lived process builds many times, and parsing them was about
    two thirds of a project load's CPU (~20 ms a build and its tests). An edited file is a new
    text, parsed anew."""
    return tomllib.loads(text)


def _incremental_of(
    spec: dict[str, Any], path: Path, materialization: str, reads: frozenset[str]
) -> Incremental | None:
    """The `[incremental]` declaration in the model's `.toml`, if it has one."""
    spec_path = path.with_suffix(".toml")
    if "incremental" not in spec:
        return None
    if materialization != "table":
        raise ModelProjectError(f"{spec_path}: [incremental] needs '-- materialized: table'")
    grain = spec.get("key")
    return parse_incremental(
        dict(spec["incremental"]), list(grain) if grain else None, reads, spec_path
    )


def _booking_of(spec: dict[str, Any], path: Path) -> tuple[str, ...] | None:
    booking = spec.get("booking")
    if booking is None:
        return None
    if (
        not isinstance(booking, list)
        or len(booking) != 2
        or booking[0] != ACCOUNT
        or not isinstance(booking[1], str)
    ):
        raise ModelProjectError(
            f"{path.with_suffix('.toml')}: booking names the account and booking columns, "
            f'e.g. booking = ["{ACCOUNT}", "event_id"]'
        )
    return (booking[0], booking[1])


BOOKING_SOURCES = frozenset(
    {EVENTS.name, EVENT_VERSIONS.name, *(child.table.name for child in EVENTS.children)}
)
"""Raw tables whose rows belong to one booking and are stamped when the sync writes it."""


def _check_bookings(models: Mapping[str, Model]) -> None:
    """A `booking` model's rows must follow only its bookings' changes: a view reads only
    the raw booking tables, seeds and other booking models; a table is incremental by booking."""
    for model in models.values():
        if model.booking is None:
            continue
        where = model.path.with_suffix(".toml")
        if model.materialization == "table":
            if model.incremental is None or model.incremental.key != model.booking:
                raise ModelProjectError(
                    f"{where}: a booking table must be [incremental] with key = booking"
                )
            continue
        others = sorted(
            {f"raw.{name}" for name in model.sources - BOOKING_SOURCES}
            | {
                f"{MODELS_SCHEMA}.{name}"
                for name in model.refs
                if name not in SEEDS and (name not in models or models[name].booking is None)
            }
        )
        if others:
            raise ModelProjectError(
                f"{where}: booking is declared, but the view reads {others}, "
                "whose changes are not a booking's"
            )


def _read_statement(path: Path) -> str:
    sql = path.read_text(encoding="utf-8").strip()
    return sql[:-1].rstrip() if sql.endswith(";") else sql


def load_project(sql_dir: str | Path | None = None, external: Iterable[str] = ()) -> Project:
    """Discover the models under `sql_dir` and order them by their references.

    `external` names tables in `analytics` the runner makes itself (seeds and config), which
    models may reference without a file. Raises MissingModelError for a reference to nothing,
    ModelCycleError for a cycle, ModelProjectError for duplicate names or bad headers.
    """
    root = Path(sql_dir) if sql_dir else default_sql_dir()
    if not root.is_dir():
        raise ModelProjectError(f"SQL folder not found: {root}")
    external_names = frozenset(external) | frozenset(SEEDS)
    models: dict[str, Model] = {}
    variants: dict[str, dict[str, Path]] = {}
    for path in sorted(root.rglob("*.sql")):
        variant = _DIALECT_FILE.match(path.stem)
        if variant:
            variants.setdefault(variant["model"], {})[variant["dialect"]] = path
            continue
        model = parse_model(path)
        if model.name in models:
            raise ModelProjectError(
                f"two models named {model.name}: {models[model.name].path} and {path}"
            )
        if model.name in external_names:
            raise ModelProjectError(f"{path}: {model.name} is a table the runner writes itself")
        models[model.name] = model
    for name, paths in variants.items():
        if name not in models:
            raise ModelProjectError(
                f"{next(iter(paths.values()))}: a dialect file for {name}, which is no model"
            )
        if paths.keys() - _DIALECTS:
            raise ModelProjectError(
                f"{models[name].path}: unknown dialect(s) {sorted(paths.keys() - _DIALECTS)}"
            )
        models[name] = dataclasses.replace(
            models[name], dialect_sql={d: _read_statement(p) for d, p in paths.items()}
        )
    for model in models.values():
        missing = sorted(model.refs - set(models) - external_names)
        if missing:
            raise MissingModelError(
                f"{model.path}: references "
                + ", ".join(f"{MODELS_SCHEMA}.{name}" for name in missing)
                + f", which is no model in {root} and no table the runner writes"
            )
    _check_bookings(models)
    parse_cache.save()
    order = build_order({name: model.refs & set(models) for name, model in models.items()})
    return Project(root, tuple(models[name] for name in order), external_names)


def build_order(dependencies: Mapping[str, Iterable[str]]) -> list[str]:
    """Names ordered so each comes after everything it depends on (ties alphabetical).

    >>> build_order({"b": ["a"], "a": [], "c": ["b", "a"]})
    ['a', 'b', 'c']
    """
    deps = {name: set(requires) for name, requires in dependencies.items()}
    unknown = {dep for requires in deps.values() for dep in requires} - set(deps)
    if unknown:
        raise MissingModelError(f"unknown dependencies: {sorted(unknown)}")
    sorter = graphlib.TopologicalSorter(deps)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        # graphlib lists the cycle backwards with its first node repeated; start it at the
        # smallest name so the message is the same whichever node graphlib met first.
        cycle = list(reversed(exc.args[1]))[:-1]
        start = cycle.index(min(cycle))
        cycle = [*cycle[start:], *cycle[:start], min(cycle)]
        raise ModelCycleError(
            "models reference each other in a cycle: " + " -> ".join(cycle)
        ) from exc
    order: list[str] = []
    # Each batch sorted keeps the order stable from run to run (and the logs comparable).
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order
