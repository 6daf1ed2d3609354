"""The same models on PostgreSQL: translated by sqlglot, built and tested on a live server,
equal to DuckDB's built from the same sync; other dialects checked by sqlglot alone."""

from __future__ import annotations

import functools
import math
import time
from decimal import Decimal
from typing import Any

import duckdb
import pytest
from sqlglot.errors import ErrorLevel
from sqlglot.expressions import Expression

from simplymeet.emulator import start_emulator
from simplymeet.models import build_models, load_project, test_models
from simplymeet.models.connection import PostgresWarehouse
from simplymeet.models.datatests import load_data_tests
from simplymeet.models.translate import TranslationError, parse, translate
from tests.postgres_server import postgres_url
from tests.sync_support import run_sync, settings_for

needs_postgres = pytest.mark.usefixtures("postgres_available")

UNTESTED_DIALECTS = ("bigquery", "snowflake", "duckdb")
"""MotherDuck speaks DuckDB's dialect; BigQuery and Snowflake cannot be reached from here."""

KNOWN_UNTRANSLATABLE = {
    "bigquery": {
        "fct_events",
        "int_utilization_minutes",
        "kpi_period_over_period",
        "stg_event_versions",
        "stg_events",
        "time_to_cancel",
    },
}
"""Models sqlglot reports it cannot write for a dialect (sql/README.md says why)."""


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """One emulator synced into a DuckDB file and a PostgreSQL database, models built on both."""
    tmp_path = tmp_path_factory.mktemp("pg-models")
    with postgres_url() as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("DESTINATION__POSTGRES__CREDENTIALS", url)
        with start_emulator(seed=11, events=300) as emulator:
            # Both syncs read availability for the same instant: a slot that began between
            # them would be offered to one warehouse and not the other (today's offered
            # minutes in `utilization_daily` differed once).
            frozen = time.time()
            emulator.store.availability_clock = lambda: frozen
            settings = settings_for(tmp_path, emulator)
            run_sync(settings, emulator)
            # Its own pipeline: the DuckDB sync's incremental state must not skip rows here.
            pg_settings = settings.with_overrides("warehouse", pipeline_name="models_pg")
            run_sync(pg_settings, emulator, destination="postgres", dataset="sm_raw")
        duck_path = settings.get("warehouse", "duckdb_path")
        build_models(duck_path, settings=settings)
        pg = PostgresWarehouse(url)
        pg_build = build_models(pg, settings=settings, dataset="sm_raw")
        yield settings, duck_path, pg, pg_build


def _pg_rows(url: str, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    import psycopg2

    with psycopg2.connect(url) as con, con.cursor() as cur:
        cur.execute(sql)
        return [d[0] for d in cur.description], cur.fetchall()


def _comparable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


def _sync_clock(column: str) -> bool:
    # `known_from` is when a sync first saw a booking version: the sync's clock too.
    return column in ("as_of", "known_from") or column.endswith("synced_at")


def _sort_key(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((value is None, str(value)) for value in row)


def _assert_rows_equal(model: str, duck: list[tuple], pg: list[tuple]) -> None:
    assert len(duck) == len(pg), f"{model}: {len(duck)} rows in DuckDB, {len(pg)} in PostgreSQL"
    duck = sorted(([_comparable(v) for v in row] for row in duck), key=_sort_key)
    pg = sorted(([_comparable(v) for v in row] for row in pg), key=_sort_key)
    for left, right in zip(duck, pg, strict=True):
        for a, b in zip(left, right, strict=True):
            if isinstance(a, float) and isinstance(b, int | float):
                assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), f"{model}: {left} != {right}"
            else:
                assert a == b, f"{model}: {left} != {right}"


@needs_postgres
def test_every_model_builds_on_postgres_from_a_synced_dataset(synced):
    _, _, _, pg_build = synced

    assert [m.name for m in pg_build.models] == load_project().names


@needs_postgres
def test_every_data_test_passes_on_postgres(synced):
    settings, _, pg, _ = synced

    failures = test_models(pg, settings=settings, dataset="sm_raw")

    assert [str(f) for f in failures] == []


@needs_postgres
def test_every_mart_equals_duckdb_built_from_the_same_sync(synced):
    _, duck_path, pg, _ = synced
    marts = [m for m in load_project().models if m.path.parent.name == "marts"]
    assert marts
    con = duckdb.connect(duck_path, read_only=True)
    try:
        for mart in marts:
            described = con.execute(f"select * from analytics.{mart.name} limit 0").description
            # When each sync ran (and `as_of`, its latest) is all the two may disagree on.
            duck_columns = [d[0] for d in described or [] if not _sync_clock(d[0])]
            columns = ", ".join(f'"{c}"' for c in duck_columns)
            duck_rows = con.execute(f"select {columns} from analytics.{mart.name}").fetchall()
            pg_columns, pg_rows = _pg_rows(pg.url, f"select {columns} from analytics.{mart.name}")
            assert pg_columns == duck_columns
            _assert_rows_equal(mart.name, duck_rows, pg_rows)
    finally:
        con.close()


@needs_postgres
def test_a_data_test_finds_a_planted_defect_on_postgres(synced):
    import psycopg2

    settings, _, pg, _ = synced
    with psycopg2.connect(pg.url) as con, con.cursor() as cur:
        cur.execute(
            "create table cancellation_rates_before as select * from analytics.cancellation_rates"
        )
        cur.execute("update analytics.cancellation_rates set cancellation_rate = 1.5")
    try:
        failures = test_models(
            pg, settings=settings, dataset="sm_raw", select=["cancellation_rates"]
        )
    finally:
        # The other tests read the built models: put the rows back as they were.
        with psycopg2.connect(pg.url) as con, con.cursor() as cur:
            cur.execute("delete from analytics.cancellation_rates")
            cur.execute(
                "insert into analytics.cancellation_rates select * from cancellation_rates_before"
            )
            cur.execute("drop table cancellation_rates_before")

    assert any(f.test == "cancellation_rate.rate" for f in failures)


@functools.cache
def _parsed_models() -> tuple[tuple[str, Expression], ...]:
    """Every model's syntax tree, parsed once for the dialects below (generating SQL from a
    tree does not change it)."""
    return tuple((model.name, parse(model.sql)) for model in load_project().models)


@pytest.mark.parametrize("dialect", UNTESTED_DIALECTS)
def test_every_model_translates_for_the_warehouses_not_reachable_here(dialect):
    failed = set()
    for name, tree in _parsed_models():
        try:
            tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)
        except Exception:
            failed.add(name)

    assert failed == KNOWN_UNTRANSLATABLE.get(dialect, set())


@pytest.mark.parametrize("dialect", ["postgres", *UNTESTED_DIALECTS])
def test_every_data_test_translates_for_each_dialect(dialect):
    for test in load_data_tests():
        translate(test.sql, dialect=dialect)


def test_a_construct_the_dialect_lacks_is_an_error_not_a_different_query():
    with pytest.raises(TranslationError, match="exclude"):
        translate("select t.* exclude (a) from raw.t", dialect="postgres")


def test_logical_schemas_are_renamed_in_the_syntax_tree_not_the_text():
    sql = "select 'raw.events' as note, raw_events.id from raw.events as raw_events"

    assert translate(sql, schemas={"raw": "sm"}) == (
        "SELECT 'raw.events' AS note, raw_events.id FROM sm.events AS raw_events"
    )


REWRITES = {
    "asof_join_takes_the_latest_version_in_force": """
        with events as (select * from (values (1, 5), (2, 15), (3, 25), (4, 0)) as e(id, ts)),
        versions as (select * from (values (1, 'a'), (10, 'b'), (20, 'c')) as v(since, name))
        select events.id, in_force.name from events
        asof left join versions as in_force on events.ts >= in_force.since
    """,
    "union_by_name_matches_columns_by_name": """
        with a as (select 1 as x, 'p' as y), b as (select 'q' as y, 2 as x)
        select * from a union all by name select * from b
    """,
    "group_by_all_groups_by_what_does_not_aggregate": """
        with t as (select * from (values (1, 'a', 2), (1, 'a', 3), (2, 'b', 4)) as t(k, n, v))
        select k, n, sum(v) as total, count(*) as rows from t group by all
    """,
    "date_parts_match_duckdb": """
        select dayname(date '2025-06-16') as name, isodow(date '2025-06-22') as iso,
            date '2025-06-16' + to_minutes(90) as later
    """,
    "regexp_trim_strips_tabs_and_line_breaks_as_the_staging_reasons_do": r"""
        select nullif(regexp_replace(regexp_replace(r, '^\s+', ''), '\s+$', ''), '') as reason
        from (
            select chr(9) || 'Travel' || chr(10) || ' ' as r, 1 as k
            union all select ' ' || chr(13) || chr(10), 2
            union all select 'Travel' || chr(10) || 'again' || chr(13) || chr(10), 3
        ) as reasons order by k
    """,
    "generate_series_rows_and_unnamed_subquery": """
        select count(*) as days from (
            select cast(unnest(generate_series(date '2025-06-01', date '2025-06-10',
                interval 1 day)) as date) as d
        )
    """,
}


@needs_postgres
@pytest.mark.parametrize("name", sorted(REWRITES))
def test_a_duckdb_construct_means_the_same_on_postgres(synced, name):
    sql = REWRITES[name]
    expected = duckdb.connect().execute(sql).fetchall()
    columns = {"raw": {}, "analytics": {}}

    _, rows = _pg_rows(synced[2].url, translate(sql, dialect="postgres", columns=columns))

    _assert_rows_equal(name, expected, rows)


@needs_postgres
def test_models_build_and_test_commands_take_the_destination(synced, tmp_path):
    from click.testing import CliRunner

    from simplymeet.models.cli import models_group

    runner = CliRunner()
    built = runner.invoke(
        models_group, ["build", "--destination", "postgres", "--dataset", "sm_raw"]
    )
    tested = runner.invoke(
        models_group, ["test", "--destination", "postgres", "--dataset", "sm_raw"]
    )

    assert built.exit_code == 0, built.output
    assert f"built {len(load_project().models)} models" in built.output
    assert tested.exit_code == 0, tested.output
    assert " 0 failed" in tested.output


@needs_postgres
def test_a_sync_to_postgres_builds_and_tests_the_models_on_the_server(synced, tmp_path):
    with start_emulator(seed=12, events=40) as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides(
            "warehouse", pipeline_name="models_pg_sync"
        )
        summary = run_sync(
            settings, emulator, destination="postgres", dataset="sm_synced", build_models=True
        )

    _, rows = _pg_rows(synced[2].url, "select count(*) from analytics.fct_events")
    assert summary.models_built
    assert rows == [(40,)]
    # ... and ran every data test there, none failing ([sync] test_models).
    assert summary.model_test_failures == []


def _report_rows(frame: Any) -> list[tuple]:
    """A report frame's rows, nulls as None, without the sync-clock columns."""
    kept = frame[[c for c in frame.columns if not _sync_clock(c)]]
    return [tuple(row) for row in kept.astype(object).where(kept.notna(), None).itertuples(False)]


@needs_postgres
def test_the_report_reads_the_same_figures_from_postgres_as_from_duckdb(synced):
    from simplymeet.config import AlertRule
    from simplymeet.models.connection import connect
    from simplymeet.report.data import load_report

    settings, duck_path, pg, _ = synced
    # Another test's sync may have rebuilt the server's models from its own dataset.
    build_models(pg, settings=settings, dataset="sm_raw")
    rules = [AlertRule(name="any booking", metric="created", period="all", above=0)]
    with connect(duck_path, read_only=True) as duck, connect(pg) as server:
        expected, got = load_report(duck, rules), load_report(server, rules)

    assert got.alerts and got.alerts == expected.alerts
    for name, value in vars(expected).items():
        if hasattr(value, "columns"):
            assert list(getattr(got, name).columns) == list(value.columns), name
            _assert_rows_equal(name, _report_rows(value), _report_rows(getattr(got, name)))


@needs_postgres
def test_the_report_command_takes_the_destination_as_models_report_too(synced):
    from click.testing import CliRunner

    from simplymeet.cli.main import cli

    for command in (["report"], ["models", "report"]):
        result = CliRunner().invoke(cli, [*command, "--destination", "postgres"])

        assert result.exit_code == 0, result.output
        assert "No-show rate" in result.output


@needs_postgres
def test_alerts_read_the_postgresql_warehouse_not_a_duckdb_file_beside_it(
    synced, tmp_path, monkeypatch
):
    from click.testing import CliRunner

    from simplymeet.cli.main import cli

    settings, _, pg, _ = synced
    build_models(pg, settings=settings, dataset="sm_raw")
    # A DuckDB file left from before, without the models: read, the check would exit 2.
    stale = tmp_path / "stale.duckdb"
    duckdb.connect(str(stale)).close()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[warehouse]\ndestination = "postgres"\nduckdb_path = "{stale}"\n\n'
        '[[alerts]]\nname = "any booking"\nmetric = "created"\nperiod = "all"\nabove = 0\n'
    )
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(cli, ["alerts", "check", "--config", str(config), "--no-deliver"])

    assert result.exit_code == 7, result.output
    assert "any booking" in result.output
