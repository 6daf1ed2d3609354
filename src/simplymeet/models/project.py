"""The SQL models in `sql/`: discovery, headers, references and build order.

A model is one `.sql` file holding a single select statement; its name is the file stem, its
materialization is declared in a leading comment (`-- materialized: table` or `view`), and its
dependencies are the `analytics.<name>` tables it reads, found by parsing the SQL itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from simplymeet.models.errors import MissingModelError, ModelCycleError, ModelProjectError
from simplymeet.models.seeds import MODELS_SCHEMA, SEEDS
from simplymeet.models.sources import SOURCE_SCHEMA

Materialization = Literal["table", "view"]
MATERIALIZATIONS: tuple[Materialization, ...] = ("table", "view")

SQL_DIR_ENV = "SIMPLYMEET_SQL_DIR"

_HEADER = re.compile(r"^--\s*(?P<key>[a-z_]+)\s*:\s*(?P<value>.*?)\s*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _reference_pattern(schema: str) -> re.Pattern[str]:
    return re.compile(
        rf'(?<![\w."])"?{schema}"?\s*\.\s*"?(?P<name>[A-Za-z_][A-Za-z0-9_]*)"?',
        re.IGNORECASE,
    )


_MODEL_REF = _reference_pattern(MODELS_SCHEMA)
_SOURCE_REF = _reference_pattern(SOURCE_SCHEMA)


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


def strip_comments_and_strings(sql: str) -> str:
    """SQL with comments removed and string literals blanked (for parsing references)."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end == -1 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end == -1 else end + 2
            out.append(" ")
        elif ch == "'":
            j = i + 1
            while j < n:
                if sql[j] == "'" and sql.startswith("''", j):
                    j += 2
                elif sql[j] == "'":
                    break
                else:
                    j += 1
            out.append("''")
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


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
    return Model(
        name=name,
        path=path,
        sql=sql,
        materialization=materialization,
        grain=grain,
        refs=frozenset(m["name"].lower() for m in _MODEL_REF.finditer(body)),
        sources=frozenset(m["name"].lower() for m in _SOURCE_REF.finditer(body)),
    )


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
    for path in sorted(root.rglob("*.sql")):
        model = parse_model(path)
        if model.name in models:
            raise ModelProjectError(
                f"two models named {model.name}: {models[model.name].path} and {path}"
            )
        if model.name in external_names:
            raise ModelProjectError(f"{path}: {model.name} is a table the runner writes itself")
        models[model.name] = model
    for model in models.values():
        missing = sorted(model.refs - set(models) - external_names)
        if missing:
            raise MissingModelError(
                f"{model.path}: references "
                + ", ".join(f"{MODELS_SCHEMA}.{name}" for name in missing)
                + f", which is no model in {root} and no table the runner writes"
            )
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
    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(deps):
        ready = sorted(name for name in deps if name not in done and deps[name] <= done)
        if not ready:
            raise ModelCycleError("models reference each other in a cycle: " + _find_cycle(deps))
        order.extend(ready)
        done.update(ready)
    return order


def _find_cycle(deps: Mapping[str, set[str]]) -> str:
    visiting: list[str] = []
    visited: set[str] = set()

    def visit(name: str) -> list[str] | None:
        if name in visiting:
            return [*visiting[visiting.index(name) :], name]
        if name in visited:
            return None
        visiting.append(name)
        for dep in sorted(deps[name]):
            found = visit(dep)
            if found:
                return found
        visiting.pop()
        visited.add(name)
        return None

    for name in sorted(deps):
        cycle = visit(name)
        if cycle:
            return " -> ".join(cycle)
    return "(not found)"
