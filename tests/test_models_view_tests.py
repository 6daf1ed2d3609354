"""A view model's data tests count their offending rows over one evaluation of the view."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from simplymeet.models import load_data_tests, load_project
from simplymeet.models.datatests import run_data_tests, view_columns
from simplymeet.models.view_tests import shared_counts
from tests.synced_template import demo_copy

UNION = (
    "select 0 as test, count(*) as failing from "
    "(select event_id from analytics.stg_things where state is null) as offending_0 "
    "union all select 1 as test, count(*) as failing from "
    "(select things.event_id from analytics.stg_things as things "
    "left join analytics.stg_other as other on other.event_id = things.event_id "
    "where other.event_id is null) as offending_1"
)
COLUMNS = ["account", "event_id", "state", "notes"]


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    return demo_copy(tmp_path_factory, tmp_path_factory.mktemp("template") / "demo.duckdb")


@pytest.fixture
def demo(demo_template, tmp_path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(shutil.copy(demo_template, tmp_path / "demo.duckdb"))
    yield con
    con.close()


def test_the_union_reads_the_view_once():
    sql = shared_counts("stg_things", UNION, COLUMNS)

    assert sql is not None
    assert sql.count('analytics."stg_things"') == 1
    assert "analytics.stg_things" not in sql
    assert sql.count("analytics.stg_other") == 1


def test_the_view_is_read_for_the_columns_its_tests_name():
    sql = shared_counts("stg_things", UNION, COLUMNS)

    assert sql is not None
    assert 'select "event_id", "state" from analytics."stg_things"' in sql


def test_a_test_selecting_star_reads_every_column():
    union = "select 0 as test, count(*) as failing from (select * from analytics.stg_things) as o"

    sql = shared_counts("stg_things", union, COLUMNS)

    assert sql is not None
    assert '"account", "event_id", "state", "notes"' in sql


def test_tests_naming_no_column_of_the_view_are_left_as_written():
    union = "select 0 as test, count(*) as failing from (select 1 from analytics.stg_things) as o"

    assert shared_counts("stg_things", union, COLUMNS) is None


def test_view_columns_name_only_the_models_built_as_views(demo):
    columns = view_columns(demo, load_project())

    assert columns["stg_events"][:2] == ["account", "event_id"]
    assert "fct_events" not in columns


def test_shared_counting_finds_what_each_test_alone_finds(demo):
    demo.execute("insert into raw.events__users select * from raw.events__users limit 1")
    demo.execute("insert into raw.events__answers select * from raw.events__answers limit 1")
    versions = [row[0] for row in demo.execute("describe raw.event_versions").fetchall()]
    demo.execute(  # a version with no id
        "insert into raw.event_versions by name select "
        + ", ".join("null as id" if c == "id" else c for c in versions)
        + " from raw.events limit 1"
    )
    tests = load_data_tests()

    columns = view_columns(demo, load_project())
    shared = run_data_tests(demo, tests, view_columns=columns)
    alone = run_data_tests(demo, tests)

    found = [(f.model, f.test, f.failing_rows, f.rows) for f in shared]
    assert {"stg_event_users", "stg_event_versions", "stg_events"} <= set(columns)
    assert {f.model for f in shared} >= {"stg_event_users", "stg_event_versions"}
    assert found == [(f.model, f.test, f.failing_rows, f.rows) for f in alone]


def test_a_host_row_of_a_booking_not_in_staging_fails_the_relationships_test(demo):
    demo.execute(
        "insert into analytics.int_event_hosts "
        "select * replace (999999999 as event_id) from analytics.int_event_hosts limit 1"
    )

    failures = {
        (f.model, f.test): f
        for f in run_data_tests(
            demo, [t for t in load_data_tests() if t.model == "int_event_hosts"]
        )
    }

    relationship = failures[("int_event_hosts", "event_id.relationships")]
    assert relationship.failing_rows == 1
    assert relationship.rows[0][1] == 999999999


def test_a_shared_form_duckdb_refuses_is_counted_as_written(demo):
    demo.execute("insert into raw.events__users select * from raw.events__users limit 1")
    tests = [t for t in load_data_tests() if t.model == "stg_event_users"]
    # `rows` is a name the tests use (an alias), not a column of the view: the form fails.
    broken = {"stg_event_users": ["account", "rows"]}

    found = run_data_tests(demo, tests, view_columns=broken)

    assert [(f.test, f.failing_rows) for f in found] == [
        (f.test, f.failing_rows) for f in run_data_tests(demo, tests)
    ]
    assert found
