"""Data tests declared beside the models, and running them against the warehouse.

A model `sql/marts/fct_events.sql` declares its tests in `sql/marts/fct_events.toml`:

    key = ["event_id"]                      # columns shown with offending rows
    booking = ["account", "event_id"]       # rows change only with their booking (test_scope)

    [columns]
    event_id = ["unique", "not_null"]
    final_state = [{ accepted_values = { from = "simplymeet.contract.vocab:NORMALIZED_STATES" } }]
    no_show_rate = ["rate"]                 # within [0, 1]; nulls pass
    host_user_id = [{ relationships = { to = "stg_users.user_id" } }]   # in the same account

    [[tests]]
    unique = ["breakdown", "host_user_id"]  # unique combination

    [[tests]]
    name = "booked_within_offered"
    expression = "booked_minutes <= offered_minutes"    # must hold on every row

    [[tests]]
    name = "totals_add_up"
    sql = "select ... returning offending rows ..."
    per_booking = false                     # true: its offending rows are each booking's own

Every test compiles to a select that returns the offending rows: none means it passed.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from simplymeet.config import Settings
from simplymeet.interruptions import signal_inside
from simplymeet.landing_schema import ACCOUNT
from simplymeet.models import parse_cache, test_scope
from simplymeet.models.connection import Warehouse, connect, dialect_of
from simplymeet.models.errors import ModelProjectError
from simplymeet.models.parallel_reads import read_workers, run_spread
from simplymeet.models.project import Model, Project, load_project, model_spec
from simplymeet.models.seeds import MODELS_SCHEMA
from simplymeet.models.sources import SOURCE_SCHEMA
from simplymeet.models.test_scope import BuildChanges, Scope
from simplymeet.models.translate import TranslationError, remembered_translation
from simplymeet.models.view_tests import shared_counts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataTest:
    """One data test: the model it checks, a name, and SQL returning offending rows."""

    model: str
    name: str
    sql: str
    description: str = ""
    per_booking: bool = False
    """Its offending rows are the union of each booking's, found from that booking's rows
    alone (a row test, a uniqueness within bookings, a parent of the same booking, or a
    `[[tests]]` entry saying `per_booking = true`): it may read only the changed bookings."""


@dataclass
class TestFailure:
    """A data test that found offending rows (the first `limit` of them are kept)."""

    __test__ = False  # not a pytest test class

    model: str
    test: str
    description: str
    sql: str
    failing_rows: int
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.model}: {self.test} failed on {self.failing_rows} row(s)"


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _import_values(reference: str) -> list[Any]:
    module_name, _, attribute = reference.partition(":")
    if not attribute:
        raise ModelProjectError(f"accepted_values from {reference!r}: expected 'module:NAME'")
    try:
        value = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ModelProjectError(f"accepted_values from {reference!r}: {exc}") from exc
    return list(value)


class _Compiler:
    """Turns one model's declarations into DataTests."""

    def __init__(self, model: Model, spec: dict[str, Any], path: Path, project: Project) -> None:
        self.model = model
        self.project = project
        self.row_local = model.booking is not None
        self.path = path
        self.relation = f"{MODELS_SCHEMA}.{model.name}"
        key = spec.get("key", [])
        self.key = [key] if isinstance(key, str) else list(key)

    def _row_columns(self, *columns: str) -> str:
        wanted = [*self.key, *(c for c in columns if c not in self.key)]
        return ", ".join(_q(c) for c in wanted) if wanted else "*"

    def column_test(self, column: str, test: str | dict[str, Any]) -> DataTest:
        options: dict[str, Any]
        if isinstance(test, str):
            kind, options = test, {}
        elif isinstance(test, dict) and len(test) == 1:
            kind, options = next(iter(test.items()))
            options = options if isinstance(options, dict) else {"values": options}
        else:
            raise ModelProjectError(f"{self.path}: bad test for column {column}: {test!r}")
        col = _q(column)
        if kind == "unique":
            return self.unique([column])
        if kind == "not_null":
            sql = f"select {self._row_columns(column)} from {self.relation} where {col} is null"
            return DataTest(
                self.model.name,
                f"{column}.not_null",
                sql,
                f"{column} is never null",
                self.row_local,
            )
        if kind == "accepted_values":
            values = list(options.get("values", []))
            if "from" in options:
                values += _import_values(options["from"])
            if not values:
                raise ModelProjectError(f"{self.path}: accepted_values for {column} lists none")
            listed = ", ".join(_literal(v) for v in values)
            sql = (
                f"select {col}, count(*) as rows from {self.relation} "
                f"where {col} is not null and {col} not in ({listed}) group by {col}"
            )
            return DataTest(
                self.model.name,
                f"{column}.accepted_values",
                sql,
                f"{column} is one of {values}",
                self.row_local,
            )
        if kind in ("rate", "between"):
            low = options.get("min", 0 if kind == "rate" else None)
            high = options.get("max", 1 if kind == "rate" else None)
            conditions = []
            if low is not None:
                conditions.append(f"{col} < {_literal(low)}")
            if high is not None:
                conditions.append(f"{col} > {_literal(high)}")
            if not conditions:
                raise ModelProjectError(f"{self.path}: between for {column} needs min or max")
            sql = (
                f"select {self._row_columns(column)} from {self.relation} "
                f"where {' or '.join(conditions)} or isnan({col}::double)"
            )
            return DataTest(
                self.model.name,
                f"{column}.{kind}",
                sql,
                f"{column} within [{low}, {high}] (nulls pass)",
                self.row_local,
            )
        if kind == "relationships":
            target = options.get("to", "")
            target_model, _, target_column = target.rpartition(".")
            if not target_model or not target_column:
                raise ModelProjectError(
                    f"{self.path}: relationships for {column} needs to = 'model.column'"
                )
            # Ids are unique within an account only: the parent is looked up in the child's
            # account, unless the target holds no accounts (`any_account = true`: a table
            # built from configuration, like the lead-time buckets).
            same_account = (
                ""
                if options.get("any_account", False)
                else f"parent.{_q(ACCOUNT)} = child.{_q(ACCOUNT)} and "
            )
            # A left join, not `not exists`: DuckDB ran the correlated form 4x slower.
            wanted = [*self.key, *([] if column in self.key else [column])]
            sql = (
                f"select {', '.join(f'child.{_q(c)}' for c in wanted)} "
                f"from {self.relation} as child "
                f"left join {MODELS_SCHEMA}.{target_model} as parent "
                f"on {same_account}parent.{_q(target_column)} = child.{col} "
                f"where child.{col} is not null and parent.{_q(target_column)} is null"
            )
            where = "" if same_account == "" else " of the same account"
            return DataTest(
                self.model.name,
                f"{column}.relationships",
                sql,
                f"every {column} is in {target_model}.{target_column}{where}",
                bool(same_account)
                and self._booking_column(self.model.name) == column
                and self._booking_column(target_model) == target_column,
            )
        raise ModelProjectError(f"{self.path}: unknown test {kind!r} for column {column}")

    def unique(self, columns: list[str]) -> DataTest:
        cols = ", ".join(_q(c) for c in columns)
        sql = (
            f"select {cols}, count(*) as rows from {self.relation} "
            f"group by {cols} having count(*) > 1"
        )
        booking = self.model.booking
        return DataTest(
            self.model.name,
            f"unique({', '.join(columns)})",
            sql,
            f"no two rows share ({', '.join(columns)})",
            booking is not None and set(booking) <= set(columns),
        )

    def _booking_column(self, model: str) -> str | None:
        """The column naming the booking in `model`, if it declares one."""
        try:
            booking = self.project[model].booking
        except KeyError:
            return None
        return booking[1] if booking else None

    def model_test(self, test: dict[str, Any]) -> DataTest:
        name = test.get("name")
        description = str(test.get("description", ""))
        if "unique" in test:
            columns = test["unique"]
            declared = self.unique([columns] if isinstance(columns, str) else list(columns))
            return dataclasses.replace(
                declared,
                name=name or declared.name,
                description=description or declared.description,
            )
        if not name:
            raise ModelProjectError(f"{self.path}: a [[tests]] entry needs a name")
        if "expression" in test:
            expression = test["expression"]
            sql = (
                f"select {self._row_columns()} from {self.relation} "
                f"where not coalesce(({expression}), false)"
            )
            return DataTest(self.model.name, name, sql, description or expression, self.row_local)
        if "sql" in test:
            per_booking = test.get("per_booking", False)
            if not isinstance(per_booking, bool):
                raise ModelProjectError(f"{self.path}: test {name}: per_booking is true or false")
            sql = str(test["sql"]).strip()
            return DataTest(self.model.name, name, sql, description, per_booking)
        raise ModelProjectError(f"{self.path}: test {name} needs unique, expression or sql")


def tests_path(model: Model) -> Path:
    """Where a model's test declarations live: the `.toml` beside its `.sql`."""
    return model.path.with_suffix(".toml")


def load_data_tests(project: Project | None = None) -> list[DataTest]:
    """Every data test declared beside the models of `project` (default: the `sql/` folder)."""
    project = project if project is not None else load_project()
    tests: list[DataTest] = []
    for model in project.models:
        spec = model_spec(model.path)
        if not spec:
            continue
        compiler = _Compiler(model, spec, tests_path(model), project)
        for column, declared in spec.get("columns", {}).items():
            for test in declared if isinstance(declared, list) else [declared]:
                tests.append(compiler.column_test(column, test))
        for test in spec.get("tests", []):
            tests.append(compiler.model_test(test))
    names = [(t.model, t.name) for t in tests]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ModelProjectError(f"data tests declared twice: {duplicates}")
    return tests


def run_data_test(con: Any, test: DataTest, *, limit: int = 20) -> TestFailure | None:
    """Run one test; None when it finds no offending row."""
    counted = con.execute(f"select count(*) from ({test.sql}) as offending").fetchone()
    failing = int(counted[0]) if counted else 0
    return _failure(con, test, failing, limit) if failing else None


def run_data_tests(
    con: Any,
    tests: list[DataTest],
    *,
    limit: int = 20,
    view_columns: Mapping[str, Sequence[str]] | None = None,
    workers: int = 1,
    pinned_models: Collection[str] = (),
) -> list[TestFailure]:
    """Run `tests` (already in `con`'s dialect); the failures, in the order of `tests`.

    The offending rows of each model's tests are counted in one query (a union of counts), so
    a model costs one round trip and one plan instead of one per test (2.3x less CPU for the
    273 tests on DuckDB); only a test that fails is read again for its rows. `view_columns`
    (DuckDB only) names the models that are views, with their columns: the union of such a
    model's tests evaluates the view once (`view_tests`). With `workers` > 1 (DuckDB only)
    the models' counts run over that many connections at once (`parallel_reads`), except
    those of `pinned_models`, whose tests read `con`'s temporary tables.
    """
    by_model: dict[str, list[int]] = {}
    for index, test in enumerate(tests):
        by_model.setdefault(test.model, []).append(index)
    jobs = []
    for model, indexes in by_model.items():
        counts = " union all ".join(
            f"select {i} as test, count(*) as failing from ({tests[i].sql}) as offending_{i}"
            for i in indexes
        )
        columns = (view_columns or {}).get(model)
        shared = shared_counts(model, counts, columns) if columns and len(indexes) > 1 else None
        jobs.append(functools.partial(_counted, shared=shared, counts=counts))
    pinned = {n for n, model in enumerate(by_model) if model in pinned_models}
    failing: dict[int, int] = {}
    for rows in run_spread(con, jobs, pinned=pinned, workers=workers):
        for index, count in rows:
            if count:
                failing[int(index)] = int(count)
    return [_failure(con, tests[i], failing[i], limit) for i in sorted(failing)]


def _counted(con: Any, *, shared: str | None, counts: str) -> list[tuple[Any, ...]]:
    """The union's rows, from its one-evaluation form when there is one."""
    if shared is not None:
        try:
            return list(con.execute(shared).fetchall())
        except duckdb.Error as exc:
            if (stop := signal_inside(exc)) is not None:
                raise stop from exc  # a stop that ended the query, not a form refused
            # Only a speed-up: a form DuckDB refuses is counted as written instead.
            log.debug("counting a view's tests as written: %s", str(exc).splitlines()[0])
    return list(con.execute(counts).fetchall())


def _failure(con: Any, test: DataTest, failing: int, limit: int) -> TestFailure:
    cursor = con.execute(f"select * from ({test.sql}) as offending limit {int(limit)}")
    columns = [d[0] for d in cursor.description or []]
    return TestFailure(
        test.model, test.name, test.description, test.sql, failing, columns, cursor.fetchall()
    )


def test_models(
    con_or_path: Warehouse,
    *,
    sql_dir: str | Path | None = None,
    select: list[str] | None = None,
    limit: int = 20,
    dataset: str | None = None,
    settings: Settings | None = None,
    changes: BuildChanges | None = None,
    full_reason: str | None = None,
) -> list[TestFailure]:
    """Run the data tests of the built models; return the failures with offending rows.

    `select` narrows the run to some models by name. An empty list means every test passed.
    The tests are DuckDB SQL; on another warehouse sqlglot translates them, and `raw` means
    `dataset` (default: settings `[warehouse] dataset`) as in the build.

    `changes` (`BuildResult.changes` of the build just made) lets the tests of `booking`
    models read only the bookings changed since the tests last passed, and records the pass
    for the next run (see `test_scope`); `full_reason` says why they must read every row
    this time (e.g. a run that reconciled).
    """
    return run_model_tests(
        con_or_path,
        sql_dir=sql_dir,
        select=select,
        limit=limit,
        dataset=dataset,
        settings=settings,
        changes=changes,
        full_reason=full_reason,
    ).failures


@dataclass
class TestRun:
    """What `run_model_tests` did."""

    __test__ = False  # not a pytest test class

    failures: list[TestFailure]
    tests: int
    scoped: list[tuple[str, str]] = field(default_factory=list)
    """(model, test) of each test that read only the changed bookings."""
    bookings: int | None = None
    """How many bookings changed, when some tests read only those."""
    full_reason: str | None = None
    """Why every test read every row, when `changes` was given and they did."""
    unchanged: bool = False
    """No test ran: they passed on these same models and rows (`BuildResult.unchanged`)."""


def run_model_tests(
    con_or_path: Warehouse,
    *,
    sql_dir: str | Path | None = None,
    select: list[str] | None = None,
    limit: int = 20,
    dataset: str | None = None,
    settings: Settings | None = None,
    changes: BuildChanges | None = None,
    full_reason: str | None = None,
) -> TestRun:
    """`test_models`, saying how many tests read only the changed bookings."""
    project = load_project(sql_dir)
    declared = load_data_tests(project)
    tests = [t for t in declared if not select or t.model in select]
    with connect(con_or_path, read_only=False) as con:
        schemas = {
            SOURCE_SCHEMA: dataset or _settings_dataset(settings),
            MODELS_SCHEMA: MODELS_SCHEMA,
        }
        dialect = dialect_of(con)
        if dialect != "duckdb":
            tests = [_translated(test, dialect, schemas) for test in tests]
            return TestRun(run_data_tests(con, tests, limit=limit), len(tests))
        scope = None
        if changes is not None and not select:
            scope = test_scope.plan(
                con,
                project,
                tests,
                changes,
                raw_schema=schemas[SOURCE_SCHEMA],
                full_reason=full_reason,
            )
        if schemas[SOURCE_SCHEMA] != SOURCE_SCHEMA:
            # Planned on the logical names (`raw` is what tells a raw read apart), run on these.
            tests = [_translated(test, dialect, schemas) for test in tests]
            if scope is not None:
                scope.tests = [_translated(test, dialect, schemas) for test in scope.tests]
        if scope is not None:
            scope.create_narrowed(con)
        try:
            run = _run_scoped(con, project, tests, scope, limit)
        finally:
            if scope is not None:
                scope.drop_narrowed(con)
        if scope is not None and not run.failures:
            assert changes is not None
            test_scope.save_state(con, scope.digest, changes.through)
    parse_cache.save()  # the view tests' shared forms and the scoped tests, when new
    return run


def _run_scoped(
    con: Any, project: Project, tests: list[DataTest], scope: Scope | None, limit: int
) -> TestRun:
    """Run `tests`, the scoped ones narrowed; a narrowed test that fails is run again whole."""
    to_run = scope.tests if scope is not None else tests
    scoped = scope.scoped if scope is not None else set()
    # A view whose tests read only some bookings is cheap to read per test: no shared form.
    narrowed_models = {to_run[i].model for i in scoped}
    views = {
        name: columns
        for name, columns in view_columns(con, project).items()
        if name not in narrowed_models
    }
    found = run_data_tests(
        con,
        to_run,
        limit=limit,
        view_columns=views,
        workers=read_workers(),
        pinned_models=narrowed_models,
    )
    failures: list[TestFailure] = []
    for failure in found:
        index = next(
            i for i, t in enumerate(to_run) if (t.model, t.name) == (failure.model, failure.test)
        )
        if index not in scoped:
            failures.append(failure)
        elif (whole := run_data_test(con, tests[index], limit=limit)) is not None:
            failures.append(whole)
    return TestRun(
        failures,
        len(tests),
        scoped=[(to_run[i].model, to_run[i].name) for i in sorted(scoped)],
        bookings=scope.bookings if scope is not None else None,
        full_reason=scope.full_reason if scope is not None else None,
        unchanged=scope is not None and scope.unchanged,
    )


def view_columns(con: Any, project: Project) -> dict[str, list[str]]:
    """The columns of each model of `project` built as a view in `con`, in their order."""
    views = {m.name for m in project.models if m.materialization == "view"}
    rows = con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? "
        "order by table_name, ordinal_position",
        [MODELS_SCHEMA],
    ).fetchall()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        if table in views:
            found.setdefault(table, []).append(column)
    return found


def _translated(test: DataTest, dialect: str, schemas: dict[str, str]) -> DataTest:
    try:
        sql = remembered_translation(test.sql, dialect=dialect, schemas=schemas)
    except TranslationError as exc:
        raise ModelProjectError(
            f"data test {test.model}: {test.name} cannot be run on {dialect}: {exc}"
        ) from exc
    return dataclasses.replace(test, sql=sql)


def _settings_dataset(settings: Settings | None) -> str:
    if settings is None:
        return SOURCE_SCHEMA
    return str(settings.get("warehouse", "dataset"))


test_models.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
