"""The Dagster route (issue 12): the definitions load, and materializing every asset in-process
syncs the emulator over loopback, builds the models and passes every data test; a failing sync
fails the run with the meaning of the CLI's exit code. Skipped without `.[dagster]`."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from simplymeet.cli.errors import EXIT_AUTH, EXIT_INCOMPLETE
from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.models import load_data_tests, load_project
from simplymeet.sync import RESOURCE_NAMES
from tests.accounts_support import EVENTS as ACCOUNT_EVENTS
from tests.accounts_support import accounts_settings, two_emulators
from tests.sync_support import live_event_dtos, query, settings_for

pytestmark = pytest.mark.skipif(
    not all(importlib.util.find_spec(name) for name in ("dagster", "dagster_dlt")),
    reason="needs the .[dagster] extra",
)

# Bound by `_dagster` when this module's first test runs: every xdist worker collects this
# module, one runs it, and importing dagster costs ~1.5 CPU-s.
dg: Any = None
dagster_defs: Any = None
build_definitions: Any = None
JOB = SCHEDULE = ""


@pytest.fixture(scope="module", autouse=True)
def _dagster() -> ModuleType:
    """dagster and the definitions module, imported for this module's tests."""
    global dg, dagster_defs, build_definitions, JOB, SCHEDULE
    dg = importlib.import_module("dagster")
    dagster_defs = importlib.import_module("simplymeet.orchestration.dagster_defs")
    build_definitions = dagster_defs.build_definitions
    JOB, SCHEDULE = dagster_defs.JOB, dagster_defs.SCHEDULE
    return dg


EVENTS = 150


def _key(*path: str):
    return dg.AssetKey(list(path))


def _everything(defs):
    """Every asset and asset check of `defs`, as `materialize` takes them."""
    return [*defs.assets, *defs.asset_checks]


def _failure_of(result) -> tuple[str, dict]:
    """The description and metadata of the one step that failed in `result`."""
    [event] = [e for e in result.all_events if e.is_step_failure]
    failed = event.step_failure_data.user_failure_data
    metadata = {name: value.value for name, value in failed.metadata.items()}
    return failed.description, metadata


@pytest.fixture(scope="module")
def small_emulator():
    """An emulator with a few bookings, enough for every model to have rows."""
    with start_emulator(seed=7, events=EVENTS) as emu:
        yield emu


@pytest.fixture(scope="module")
def materialized(tmp_path_factory, small_emulator: RunningEmulator):
    """The settings and the result of one in-process materialization of every asset."""
    settings = settings_for(tmp_path_factory.mktemp("dagster"), small_emulator)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SIMPLYMEET_API_KEY", small_emulator.api_key)
        defs = build_definitions(settings)
        result = dg.materialize(_everything(defs), raise_on_error=False)
    return settings, defs, result


@pytest.fixture(scope="module")
def definitions(tmp_path_factory, small_emulator: RunningEmulator):
    """The definitions for one account's settings, shared by the tests that only read them."""
    return build_definitions(settings_for(tmp_path_factory.mktemp("defs"), small_emulator))


@pytest.fixture
def sync_only(tmp_path, monkeypatch, small_emulator: RunningEmulator):
    """Materialize just the sync assets of a fresh warehouse with a given API key."""

    def run(api_key: str, **options):
        monkeypatch.setenv("SIMPLYMEET_API_KEY", api_key)
        defs = build_definitions(run.settings)
        sync_assets = next(a for a in defs.assets if a.node_def.name == "default_sync")
        return dg.materialize([sync_assets], instance=run.instance, raise_on_error=False, **options)

    run.instance = dg.DagsterInstance.ephemeral()
    run.settings = settings_for(tmp_path, small_emulator)
    return run


# --- loading --------------------------------------------------------------------------------


def test_definitions_hold_an_asset_per_resource_and_model_and_a_check_per_data_test(
    definitions,
):
    graph = definitions.resolve_asset_graph()
    project = load_project()
    expected = {_key("default", "raw", name) for name in RESOURCE_NAMES}
    expected |= {_key("analytics", name) for name in project.names}
    assert set(graph.get_all_asset_keys()) == expected
    assert len(graph.asset_check_keys) == len(load_data_tests(project))


def test_model_assets_depend_on_the_models_and_raw_tables_they_read(definitions):
    graph = definitions.resolve_asset_graph()
    parents = graph.get(_key("analytics", "stg_event_participants")).parent_keys
    assert parents == {_key("default", "raw", "events")}
    parents = graph.get(_key("analytics", "fct_events")).parent_keys
    assert _key("analytics", "stg_events") in parents
    assert _key("analytics", "int_as_of") in parents


def test_an_hourly_schedule_runs_the_accounts_sync_models_and_checks(definitions):
    defs = definitions
    schedule = defs.resolve_schedule_def(SCHEDULE)
    assert schedule.cron_schedule == "0 * * * *"
    assert schedule.job_name == JOB
    job = defs.resolve_job_def(schedule.job_name)
    assert len(job.asset_layer.asset_graph.get_all_asset_keys()) == len(
        defs.resolve_asset_graph().get_all_asset_keys()
    )
    assert len(job.asset_layer.asset_graph.asset_check_keys) == len(load_data_tests())


def test_module_definitions_load_lazily_from_the_config(tmp_path, monkeypatch, small_emulator):
    settings = settings_for(tmp_path, small_emulator)
    config = tmp_path / "config.toml"
    config.write_text(
        "[warehouse]\n"
        f"duckdb_path = '{settings.get('warehouse', 'duckdb_path')}'\n"
        f"pipelines_dir = '{settings.get('warehouse', 'pipelines_dir')}'\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SIMPLYMEET_CONFIG", str(config))
    loaded = dagster_defs.defs()
    assert _key("default", "raw", "events") in loaded.resolve_asset_graph().get_all_asset_keys()


# --- several accounts ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_accounts(tmp_path_factory):
    """Settings naming two accounts (north, south: two emulators seeded alike, two keys)."""
    with two_emulators() as emulators:
        yield accounts_settings(tmp_path_factory.mktemp("dagster-accounts"), emulators)


@pytest.fixture(scope="module")
def accounts_definitions(two_accounts):
    """The definitions for `two_accounts`, shared by its tests."""
    return build_definitions(two_accounts)


def test_each_configured_account_gets_its_own_sync_assets(accounts_definitions):
    keys = accounts_definitions.resolve_asset_graph().get_all_asset_keys()
    for account in ("north", "south"):
        assert {_key(account, "raw", name) for name in RESOURCE_NAMES} <= set(keys)


def test_models_depend_on_every_accounts_raw_tables(accounts_definitions):
    graph = accounts_definitions.resolve_asset_graph()
    parents = graph.get(_key("analytics", "stg_event_participants")).parent_keys
    assert parents == {_key("north", "raw", "events"), _key("south", "raw", "events")}


def test_each_accounts_sync_asset_lands_its_own_events(two_accounts, accounts_definitions):
    assets = accounts_definitions.assets
    syncs = [a for a in assets if a.node_def.name in {"north_sync", "south_sync"}]
    events = [_key("north", "raw", "events"), _key("south", "raw", "events")]
    assert dg.materialize(syncs, selection=events).success
    counts = dict(query(two_accounts, "select account, count(*) from raw.events group by 1"))
    assert counts == ACCOUNT_EVENTS


# --- materializing everything ---------------------------------------------------------------


def test_materializing_every_asset_succeeds(materialized):
    _settings, defs, result = materialized
    assert result.success
    done = {event.asset_key for event in result.get_asset_materialization_events()}
    assert done == set(defs.resolve_asset_graph().get_all_asset_keys())


def test_materialized_sync_lands_every_event_the_emulator_serves(materialized, small_emulator):
    settings, _defs, result = materialized
    served = {dto["id"] for dto in live_event_dtos(small_emulator)}
    assert {row[0] for row in query(settings, "select id from raw.events")} == served
    events = result.asset_materializations_for_node("default_sync")
    [metadata] = [m.metadata for m in events if m.asset_key == _key("default", "raw", "events")]
    assert metadata["dagster/row_count"].value == len(served)


def test_materialized_models_hold_one_fct_events_row_per_booking(materialized, small_emulator):
    settings, _defs, result = materialized
    [(rows,)] = query(settings, "select count(*) from analytics.fct_events")
    assert rows == len(live_event_dtos(small_emulator))
    built = result.asset_materializations_for_node("models")
    [metadata] = [m.metadata for m in built if m.asset_key.path[-1] == "fct_events"]
    assert metadata["dagster/row_count"].value == rows


def test_every_data_test_runs_as_a_passing_asset_check(materialized):
    _settings, _defs, result = materialized
    evaluations = result.get_asset_check_evaluations()
    assert len(evaluations) == len(load_data_tests())
    failed = [f"{e.asset_key.path[-1]}:{e.check_name}" for e in evaluations if not e.passed]
    assert failed == []


def test_materializing_one_resource_syncs_only_its_tables(sync_only, small_emulator):
    result = sync_only(small_emulator.api_key, selection=[_key("default", "raw", "users")])
    assert result.success
    done = {event.asset_key for event in result.get_asset_materialization_events()}
    assert done == {_key("default", "raw", "users")}
    tables = {
        name
        for (name,) in query(
            sync_only.settings,
            "select table_name from information_schema.tables where table_schema = 'raw'",
        )
        if not name.startswith("_")
    }
    assert tables == {"users", "organizations"}


def test_full_refresh_from_run_config_reaches_the_runner(sync_only, small_emulator):
    config = {"ops": {"default_sync": {"config": {"full_refresh": True}}}}
    # One small resource is enough: the runner records the mode whatever it syncs.
    users = [_key("default", "raw", "users")]
    assert sync_only(small_emulator.api_key, run_config=config, selection=users).success
    modes = query(sync_only.settings, "select mode from raw._sync_runs")
    assert modes == [("full",)]


# --- failures carry the exit code's meaning -------------------------------------------------


def test_a_refused_api_key_fails_the_sync_as_auth_exit_4(sync_only):
    result = sync_only("not-the-key")
    assert not result.success
    description, metadata = _failure_of(result)
    assert description.startswith("auth: the API key was refused (exit 4): ")
    assert metadata["exit_code"] == EXIT_AUTH
    assert "not-the-key" not in description
    assert result.get_asset_materialization_events() == []


def test_counts_that_do_not_add_up_fail_the_sync_as_incomplete_exit_8(sync_only, small_emulator):
    small_emulator.set_faults("missing=1,endpoints=event_type_list")
    try:
        result = sync_only(small_emulator.api_key)
    finally:
        small_emulator.set_faults(None)
    assert not result.success
    description, metadata = _failure_of(result)
    assert description.startswith("sync incomplete (exit 8): ")
    assert metadata["exit_code"] == EXIT_INCOMPLETE


def test_quarantined_rows_materialize_with_a_count_and_a_warning(sync_only, small_emulator):
    oldest = min(live_event_dtos(small_emulator), key=lambda dto: dto["updatedAt"])["id"]
    small_emulator.set_anomalies(f"null_id={oldest}")
    try:
        # The events alone: the other resources are not what this is about (half the CPU).
        result = sync_only(small_emulator.api_key, selection=[_key("default", "raw", "events")])
    finally:
        small_emulator.set_anomalies(None)
    assert result.success
    events = result.asset_materializations_for_node("default_sync")
    assert {m.metadata["rows_quarantined"].value for m in events} == {1}
    warnings = [
        entry.user_message
        for entry in sync_only.instance.all_logs(result.run_id)
        if entry.level == logging.WARNING
    ]
    assert any("raw._rejected_rows" in line for line in warnings), warnings


def test_readme_dagster_dev_command_names_a_module_holding_the_definitions():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    [module] = re.findall(r"dagster dev -m ([\w.]+)", readme)
    assert importlib.import_module(module).defs is dagster_defs.defs
