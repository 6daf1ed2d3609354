"""The models runner: build order from the SQL, materializations, rollback, runnable by hand."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from simplymeet.config import Settings
from simplymeet.models import (
    MissingModelError,
    ModelBuildError,
    ModelCycleError,
    ModelProjectError,
    build_models,
    load_project,
)
from simplymeet.models.connection import ROW_GROUP_ROWS, SMALL_JOIN_ROWS
from simplymeet.models.project import strip_comments_and_strings
from simplymeet.models.sources import source_tables


def write(folder: Path, name: str, sql: str, materialized: str = "table") -> None:
    (folder / f"{name}.sql").write_text(
        f"-- grain: test\n-- materialized: {materialized}\n{sql}\n", encoding="utf-8"
    )


def relation_types(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute(
        "select table_name, table_type from information_schema.tables "
        "where table_schema = 'analytics'"
    ).fetchall()
    return dict(rows)


def test_build_order_follows_the_references_in_the_sql(tmp_path):
    write(tmp_path, "c_last", "select * from analytics.b_middle join analytics.a_first using (x)")
    write(tmp_path, "b_middle", "select x from analytics.a_first")
    write(tmp_path, "a_first", "select 1 as x")
    (tmp_path / "nested").mkdir()
    write(tmp_path / "nested", "a_zero", "select x from analytics.c_last")

    project = load_project(tmp_path)

    assert project.names == ["a_first", "b_middle", "c_last", "a_zero"]
    assert project["c_last"].refs == {"a_first", "b_middle"}


def test_references_in_comments_and_strings_are_not_dependencies(tmp_path):
    write(tmp_path, "a", "-- reads analytics.b later\nselect 'analytics.b' as note")
    write(tmp_path, "b", "select * from analytics.a")

    assert load_project(tmp_path).names == ["a", "b"]


def test_a_semicolon_in_a_comment_or_a_string_is_no_second_statement(tmp_path):
    write(tmp_path, "a", "select 'a;b' as x /* one; two */ -- three;\n")

    assert load_project(tmp_path).names == ["a"]


@pytest.mark.parametrize(
    ("sql", "stripped"),
    [
        ("select 1 -- note\nfrom t", "select 1 \nfrom t"),
        ("select /* a\nb */ 1", "select   1"),
        ("select 'it''s; here' as x", "select '' as x"),
        ("select 'unterminated; to the end", "select ''"),
        ("select 1 /* unterminated; to the end", "select 1  "),
        ("select '--not a comment' -- but this is", "select '' "),
    ],
)
def test_comments_are_dropped_and_strings_blanked_for_reading_references(sql, stripped):
    assert strip_comments_and_strings(sql) == stripped


def test_a_cycle_is_an_error_that_names_it(tmp_path):
    write(tmp_path, "a", "select * from analytics.b")
    write(tmp_path, "b", "select * from analytics.c")
    write(tmp_path, "c", "select * from analytics.a")

    with pytest.raises(ModelCycleError, match="a -> b -> c -> a"):
        load_project(tmp_path)


def test_a_reference_to_no_model_is_an_error_naming_file_and_table(tmp_path):
    write(tmp_path, "a", "select * from analytics.nowhere")

    with pytest.raises(MissingModelError, match=r"a\.sql.*analytics\.nowhere"):
        load_project(tmp_path)


def test_a_model_with_two_statements_is_rejected(tmp_path):
    write(tmp_path, "a", "select 1; drop table analytics.b")

    with pytest.raises(ModelProjectError, match="single select"):
        load_project(tmp_path)


def test_an_unknown_materialization_is_rejected(tmp_path):
    write(tmp_path, "a", "select 1", materialized="incremental")

    with pytest.raises(ModelProjectError, match="materialized: incremental"):
        load_project(tmp_path)


def test_materialization_header_decides_table_or_view(tmp_path):
    write(tmp_path, "a_table", "select 1 as x", "table")
    write(tmp_path, "a_view", "select x from analytics.a_table", "view")
    con = duckdb.connect()

    build_models(con, sql_dir=tmp_path, settings=Settings(), create_missing_sources=False)

    types = relation_types(con)
    assert (types["a_table"], types["a_view"]) == ("BASE TABLE", "VIEW")


def test_changing_a_materialization_replaces_the_old_relation(tmp_path):
    write(tmp_path, "a", "select 1 as x", "view")
    con = duckdb.connect()
    build_models(con, sql_dir=tmp_path, settings=Settings(), create_missing_sources=False)
    write(tmp_path, "a", "select 2 as x", "table")

    build_models(con, sql_dir=tmp_path, settings=Settings(), create_missing_sources=False)

    assert relation_types(con)["a"] == "BASE TABLE"
    assert con.execute("select x from analytics.a").fetchall() == [(2,)]


def test_inequality_joins_with_a_small_side_build_as_nested_loops(tmp_path):
    write(tmp_path, "planned", "select current_setting('nested_loop_join_threshold') as rows")
    con = duckdb.connect()

    build_models(con, sql_dir=tmp_path, settings=Settings(), create_missing_sources=False)

    assert con.execute("select rows from analytics.planned").fetchall() == [(SMALL_JOIN_ROWS,)]


@pytest.mark.parametrize(("setting", "value"), [("nested_loop_join_threshold", 3), ("threads", 2)])
def test_a_build_puts_back_the_connection_s_own_setting(tmp_path, setting, value):
    write(tmp_path, "a", "select 1 as x")
    con = duckdb.connect()
    con.execute(f"set {setting} = {value}")

    build_models(con, sql_dir=tmp_path, settings=Settings(), create_missing_sources=False)

    assert con.execute(f"select current_setting('{setting}')").fetchone() == (value,)


@pytest.mark.parametrize(("rows", "threads"), [(ROW_GROUP_ROWS - 1, 1), (ROW_GROUP_ROWS, 2)])
def test_a_build_runs_on_one_thread_only_while_every_table_is_under_a_row_group(
    tmp_path, rows, threads
):
    write(tmp_path, "planned", "select current_setting('threads') as threads")
    con = duckdb.connect()
    con.execute("set threads = 2")
    con.execute(f"create table largest as select range from range({rows})")

    build_models(con, sql_dir=tmp_path, settings=Settings(), create_missing_sources=False)

    assert con.execute("select threads from analytics.planned").fetchall() == [(threads,)]


def test_a_failing_model_rolls_the_whole_build_back_and_is_named(tmp_path):
    write(tmp_path, "a", "select 1 as x")
    con = duckdb.connect()
    build_models(con, sql_dir=tmp_path, settings=Settings(), create_missing_sources=False)
    write(tmp_path, "a", "select 2 as x")
    write(tmp_path, "b", "select no_such_column from analytics.a")

    with pytest.raises(ModelBuildError, match=r"model b \(.*b\.sql\)"):
        build_models(con, sql_dir=tmp_path, settings=Settings(), create_missing_sources=False)

    assert con.execute("select x from analytics.a").fetchall() == [(1,)]


def test_build_creates_raw_tables_not_synced_yet_with_the_sync_schemas():
    con = duckdb.connect()

    result = build_models(con, settings=Settings())

    assert sorted(result.created_sources) == sorted(t.name for t in source_tables())
    columns = [r[0] for r in con.execute("describe raw.cancellation_policies").fetchall()]
    assert (
        columns
        == source_tables()[
            [t.name for t in source_tables()].index("cancellation_policies")
        ].landed_schema.names
    )


def test_a_raw_table_an_earlier_version_wrote_gains_the_columns_declared_since():
    con = duckdb.connect()
    build_models(con, settings=Settings())
    con.execute("alter table raw.events drop column user_timezone")

    build_models(con, settings=Settings())

    columns = [r[0] for r in con.execute("describe raw.events").fetchall()]
    assert "user_timezone" in columns


def test_every_model_states_its_grain_first_and_its_materialization():
    for model in load_project().models:
        first_line = model.path.read_text().splitlines()[0]
        assert first_line.startswith("-- grain:"), model.path
        assert "-- materialized:" in model.path.read_text(), model.path


def test_every_model_runs_by_hand_once_built():
    # what an analyst does in the duckdb CLI: paste the file's select and run it
    con = duckdb.connect()
    build_models(con, settings=Settings())

    for model in load_project().models:
        con.execute(model.path.read_text()).fetchall()


def test_marts_are_tables_and_staging_models_are_views():
    for model in load_project().models:
        layer = model.path.parent.name
        expected = {"staging": "view", "marts": "table"}.get(layer)
        if expected:
            assert model.materialization == expected, model.name


def test_models_read_raw_from_the_configured_dataset(tmp_path):
    write(tmp_path, "a", "select count(*) as events from raw.events")
    con = duckdb.connect()
    settings = Settings().with_overrides("warehouse", dataset="sm_raw")
    build_models(con, sql_dir=tmp_path, settings=settings)
    con.execute("insert into sm_raw.events (id) values (1), (2)")

    build_models(con, sql_dir=tmp_path, settings=settings)

    assert con.execute("select events from analytics.a").fetchall() == [(2,)]
    assert "raw" not in {
        r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()
    }


def test_a_dialect_file_replaces_the_model_sql_on_its_dialect(tmp_path):
    write(tmp_path, "a", "select 1 as x")
    (tmp_path / "a.duckdb.sql").write_text("select 2 as x\n", encoding="utf-8")
    (tmp_path / "a.postgres.sql").write_text("select 3 as x\n", encoding="utf-8")
    con = duckdb.connect()

    build_models(con, sql_dir=tmp_path, settings=Settings(), create_missing_sources=False)

    assert load_project(tmp_path).names == ["a"]
    assert con.execute("select x from analytics.a").fetchall() == [(2,)]


def test_a_dialect_file_for_no_model_is_an_error(tmp_path):
    (tmp_path / "nothing.postgres.sql").write_text("select 1\n", encoding="utf-8")

    with pytest.raises(ModelProjectError, match=r"nothing.*no model"):
        load_project(tmp_path)


def test_a_reference_inside_a_subquery_is_a_dependency(tmp_path):
    write(tmp_path, "b", "select x from (select * from analytics.a where exists (select 1))")
    write(tmp_path, "a", "select 1 as x")

    assert load_project(tmp_path)["b"].refs == {"a"}
