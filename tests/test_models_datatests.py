"""Data tests: they pass on sound data and fail, with the offending rows, on planted defects."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from simplymeet.contract.vocab import NORMALIZED_STATES
from simplymeet.models import ModelProjectError, load_data_tests, load_project, test_models
from simplymeet.models.cli import models_group
from tests.synced_template import demo_copy


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    """The demo organization, raw tables and models, built once for this module."""
    return demo_copy(tmp_path_factory, tmp_path_factory.mktemp("template") / "demo.duckdb")


@pytest.fixture
def demo_file(demo_template, tmp_path) -> Path:
    """A fresh copy of the demo warehouse that a test may damage."""
    return Path(shutil.copy(demo_template, tmp_path / "demo.duckdb"))


@pytest.fixture
def demo(demo_file) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(demo_file))
    yield con
    con.close()


def failed(failures) -> set[tuple[str, str]]:
    return {(f.model, f.test) for f in failures}


def test_every_data_test_passes_on_the_demo_warehouse(demo):
    assert test_models(demo) == []


def test_declared_tests_cover_keys_states_rates_and_final_states():
    names = {(t.model, t.name) for t in load_data_tests()}

    assert ("fct_events", "unique(account, event_id)") in names
    assert ("fct_events", "event_id.not_null") in names
    assert ("fct_events", "final_state.accepted_values") in names
    assert ("no_show_rates", "no_show_rate.rate") in names
    assert ("utilization_daily", "utilization.rate") in names
    assert ("fct_events", "every_booking_in_exactly_one_final_state") in names


def test_accepted_states_are_read_from_the_contract_vocabulary():
    (test,) = [
        t
        for t in load_data_tests()
        if (t.model, t.name) == ("fct_events", "final_state.accepted_values")
    ]

    for state in NORMALIZED_STATES:
        assert f"'{state}'" in test.sql


def test_a_duplicate_event_id_fails_the_unique_test_with_the_offending_row(demo):
    (event_id,) = demo.execute("select min(event_id) from analytics.fct_events").fetchone()
    demo.execute(
        "insert into analytics.fct_events select * from analytics.fct_events where event_id = ?",
        [event_id],
    )

    failures = {(f.model, f.test): f for f in test_models(demo, select=["fct_events"])}

    unique = failures[("fct_events", "unique(account, event_id)")]
    assert unique.failing_rows == 1
    assert unique.rows == [("default", event_id, 2)]
    assert ("fct_events", "every_booking_in_exactly_one_final_state") in failures


def test_a_booking_missing_from_fct_events_fails_the_final_state_test(demo):
    (event_id,) = demo.execute("select max(event_id) from analytics.fct_events").fetchone()
    demo.execute("delete from analytics.fct_events where event_id = ?", [event_id])

    failures = {(f.model, f.test): f for f in test_models(demo, select=["fct_events"])}

    final_state = failures[("fct_events", "every_booking_in_exactly_one_final_state")]
    assert final_state.rows[0][:4] == ("default", event_id, 1, None)


def test_a_rate_above_one_fails_the_rate_test(demo):
    demo.execute("update analytics.no_show_rates set no_show_rate = 1.5 where breakdown = 'host'")

    assert ("no_show_rates", "no_show_rate.rate") in failed(
        test_models(demo, select=["no_show_rates"])
    )


def test_a_headline_rate_that_is_not_its_numerator_over_its_denominator_fails(demo):
    demo.execute("update analytics.kpi_summary set value = value + 0.01 where unit = 'rate'")

    assert ("kpi_summary", "rates_are_their_numerator_over_their_denominator") in failed(
        test_models(demo, select=["kpi_summary"])
    )


def test_a_cancellation_judged_late_against_its_policy_period_fails(demo):
    demo.execute(
        "update analytics.fct_events set is_late_cancellation = not is_late_cancellation "
        "where event_id = (select min(event_id) from analytics.fct_events where is_canceled)"
    )

    assert ("fct_events", "late_cancellations_are_those_inside_the_policy_period") in failed(
        test_models(demo, select=["fct_events"])
    )


def test_a_state_outside_the_vocabulary_fails_accepted_values(demo):
    demo.execute(
        "update analytics.fct_events set final_state = 'attended' "
        "where event_id = (select min(event_id) from analytics.fct_events)"
    )

    failures = {(f.model, f.test): f for f in test_models(demo, select=["fct_events"])}

    assert failures[("fct_events", "final_state.accepted_values")].rows == [("attended", 1)]


def test_an_unknown_test_kind_is_a_project_error(tmp_path):
    (tmp_path / "a.sql").write_text("-- grain: x\n-- materialized: view\nselect 1 as x\n")
    (tmp_path / "a.toml").write_text('[columns]\nx = ["uniqe"]\n')

    with pytest.raises(ModelProjectError, match="unknown test 'uniqe'"):
        load_data_tests(load_project(tmp_path))


def test_models_build_command_lists_the_models_it_built(demo_file):
    result = CliRunner().invoke(models_group, ["build", "--db", str(demo_file)])

    assert result.exit_code == 0, result.output
    assert "fct_events" in result.output
    # counted from sql/, so a new model does not need this test edited
    assert f"built {len(load_project().models)} models" in result.output


def test_models_test_command_passes_on_sound_data(demo_file):
    result = CliRunner().invoke(models_group, ["test", "--db", str(demo_file)])

    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.output


def test_models_test_command_fails_showing_the_offending_rows(demo_file):
    con = duckdb.connect(str(demo_file))
    (event_id,) = con.execute("select min(event_id) from analytics.fct_events").fetchone()
    con.execute(
        "insert into analytics.fct_events select * from analytics.fct_events where event_id = ?",
        [event_id],
    )
    con.close()

    result = CliRunner(env={"COLUMNS": "160"}).invoke(
        models_group, ["test", "--db", str(demo_file)]
    )

    assert result.exit_code == 1
    assert "FAIL fct_events: unique(account, event_id)" in result.output
    assert str(event_id) in result.output
    # unique(account, event_id), every_booking_in_exactly_one_final_state,
    # overall_counts_every_past_booking, every_booking_in_one_cell (int_booking_counts)
    assert re.search(r"\d+ passed, 4 failed", result.output)


def test_models_commands_on_a_missing_file_say_so(tmp_path):
    result = CliRunner().invoke(models_group, ["build", "--db", str(tmp_path / "none.duckdb")])

    assert result.exit_code == 2
    assert "no DuckDB warehouse" in result.output


def test_models_commands_have_a_summary_and_an_example():
    for name, command in models_group.commands.items():
        assert command.help and "Example: simplymeet models" in command.help, name


def test_every_model_declares_the_key_of_its_grain():
    project = load_project()
    declared = load_data_tests(project)

    for model in project.models:
        tests = {t.name for t in declared if t.model == model.name}
        key_tests = {
            name
            for name in tests
            if name.startswith("unique(") or name.endswith(".unique") or name == "exactly_one_row"
        }
        assert key_tests, model.name


def test_a_booking_user_listed_twice_fails_the_grain_key_test(demo):
    demo.execute("insert into raw.events__users select * from raw.events__users limit 1")

    failures = {(f.model, f.test) for f in test_models(demo, select=["stg_event_users"])}

    assert ("stg_event_users", "unique(account, event_id, user_id)") in failures


def test_a_host_row_pointing_at_another_accounts_booking_fails_the_relationships_test(demo):
    # Ids are unique within an account only: the same id in another account is no parent.
    demo.execute(
        "insert into analytics.int_event_hosts "
        "select * replace ('another' as account) from analytics.int_event_hosts limit 1"
    )

    failures = {(f.model, f.test): f for f in test_models(demo, select=["int_event_hosts"])}

    assert failures[("int_event_hosts", "event_id.relationships")].failing_rows == 1


def test_a_relationship_to_a_table_without_accounts_is_looked_up_across_them():
    (test,) = [
        t
        for t in load_data_tests()
        if (t.model, t.name) == ("fct_events", "cancellation_lead_time_bucket.relationships")
    ]

    assert 'parent."account"' not in test.sql
    assert 'parent."lead_time_bucket"' in test.sql
