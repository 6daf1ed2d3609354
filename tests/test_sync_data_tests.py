"""After building the models, a sync runs their data tests and says when one fails (exit 10)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from simplymeet.cli.main import cli
from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.models.project import SQL_DIR_ENV, default_sql_dir
from simplymeet.sync import AccountOutcome, SyncSummary, overall_exit_code
from tests.sync_support import EVENTS_ONLY, run_sync
from tests.synced_template import synced_copy
from tests.test_sync_resilience import cli_env

PLANTED = "planted_no_event_passes"
# The syncs here start from a copy of a full sync and load the events only: the models are
# built and tested on the whole warehouse whatever a run loaded, and the data tests are the
# subject, not the other resources' reads.


@pytest.fixture(scope="module")
def emulator() -> RunningEmulator:
    with start_emulator(seed=1, events=120) as running:
        yield running


@pytest.fixture
def synced(tmp_path_factory, tmp_path, emulator):
    """A private copy of one full sync of `emulator` (models not built yet)."""
    return synced_copy(tmp_path_factory, tmp_path, emulator)


@pytest.fixture
def planted_sql_dir(tmp_path, monkeypatch) -> Path:
    """The shipped models, with one extra data test on fct_events that every row fails."""
    folder = tmp_path / "sql"
    shutil.copytree(default_sql_dir(), folder)
    with (folder / "marts" / "fct_events.toml").open("a", encoding="utf-8") as declared:
        declared.write(f'\n[[tests]]\nname = "{PLANTED}"\nexpression = "event_id < 0"\n')
    monkeypatch.setenv(SQL_DIR_ENV, str(folder))
    return folder


def _events(emulator: RunningEmulator) -> int:
    return len(emulator.store.all_event_ids())


def test_a_sync_that_builds_the_models_runs_every_data_test_and_finds_none_failing(
    synced, emulator
):
    summary = run_sync(synced, emulator, resources=EVENTS_ONLY, build_models=True)

    assert summary.models_built
    assert summary.model_test_failures == []


def test_a_resource_refused_still_builds_the_models_on_everything_else_loaded(synced, emulator):
    # A 403 on the ACL (a permission the key lacks): exit 4, "everything else was loaded",
    # and the marts show it, not the last good run's figures.
    from simplymeet.client import AuthError
    from tests.sync_support import client_for, query

    [event_id] = query(synced, "select id from raw.events where state = 'active' limit 1")[0]
    with client_for(emulator) as client:
        client.event_cancel(event_id, reason="seen by the marts")
    emulator.set_readings("forbidden=acl_list")
    try:
        with pytest.raises(AuthError, match="acl"):
            run_sync(synced, emulator, build_models=True)
    finally:
        emulator.set_readings("")

    assert query(
        synced, f"select final_state from analytics.fct_events where event_id = {event_id}"
    ) == [("canceled",)]


def test_a_list_that_never_adds_up_still_builds_the_models_on_everything_else_loaded(
    synced, emulator
):
    # The event type list counts a type it never lists: exit 8 for that list, and the marts
    # show the events loaded beside it, not the last good run's figures.
    from simplymeet.sync.checks import IncompleteScanError
    from tests.sync_support import client_for, live_event_dtos, query

    # The module's emulator is shared: a booking no other test of it has canceled.
    active = {e["id"] for e in live_event_dtos(emulator) if e["state"] == "active"}
    event_id = max(i for (i,) in query(synced, "select id from raw.events") if i in active)
    with client_for(emulator) as client:
        client.event_cancel(event_id, reason="seen by the marts")
    type_id = emulator.store.ref.event_types[0].id
    emulator.set_anomalies(f"unlisted={type_id},endpoints=event_type_list")
    try:
        with pytest.raises(IncompleteScanError):
            run_sync(synced, emulator, build_models=True)
    finally:
        emulator.set_anomalies(None)

    assert query(
        synced, f"select final_state from analytics.fct_events where event_id = {event_id}"
    ) == [("canceled",)]


def test_a_data_test_failing_after_the_build_is_in_the_summary(synced, emulator, planted_sql_dir):
    summary = run_sync(synced, emulator, resources=EVENTS_ONLY, build_models=True)

    assert summary.model_test_failures == [
        f"fct_events: {PLANTED} failed on {_events(emulator)} row(s)"
    ]


def test_with_test_models_off_the_data_tests_do_not_run(synced, emulator, planted_sql_dir):
    settings = synced.with_overrides("sync", test_models=False)

    summary = run_sync(settings, emulator, resources=EVENTS_ONLY, build_models=True)

    assert summary.models_built
    assert summary.model_test_failures is None


def test_the_sync_command_exits_10_naming_the_failed_data_test(synced, emulator, planted_sql_dir):
    env = cli_env(synced, emulator.api_key) | {"SIMPLYMEET_SYNC__BUILD_MODELS": "true"}

    result = CliRunner().invoke(cli, ["sync", "--resources", "events"], env=env)

    assert result.exit_code == 10, result.output
    assert f"data test failed: fct_events: {PLANTED}" in result.output
    assert "simplymeet models test" in result.output
    assert "models built and tested (1 data test(s) failed)" in result.output


def _outcome(account: str, code: int, failures: list[str] | None) -> AccountOutcome:
    summary = SyncSummary(models_built=True, model_test_failures=failures)
    return AccountOutcome(account, code, "", summary)


def test_several_accounts_exit_10_when_the_models_they_share_fail_a_data_test():
    outcomes = [_outcome("a", 0, ["fct_events: x failed on 1 row(s)"]), _outcome("b", 9, None)]

    assert overall_exit_code(outcomes) == 10


def test_an_incomplete_account_still_outranks_a_failed_data_test():
    outcomes = [_outcome("a", 8, ["fct_events: x failed on 1 row(s)"]), _outcome("b", 0, None)]

    assert overall_exit_code(outcomes) == 8
