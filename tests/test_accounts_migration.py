"""A warehouse written before accounts is migrated in place on the first run, never re-synced.

The warehouse is `tests/data/legacy_warehouse`: the raw dataset as the code on main before
`[[accounts]]` wrote it (no `account` column anywhere), from an emulator this file starts
again with the same seed, size and anchor, so nothing upstream has changed since.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from simplymeet.config import ConfigError, load_settings
from simplymeet.emulator import RunningEmulator, start_emulator
from tests.cli_support import run_cli
from tests.sync_support import REPO, query, run_sync

LEGACY = Path(__file__).parent / "data" / "legacy_warehouse"
LEGACY_PENDING = Path(__file__).parent / "data" / "legacy_pending_package"
LEGACY_EVENTS = 40


@pytest.fixture(scope="module")
def served() -> Iterator[RunningEmulator]:
    """The emulator the legacy warehouse was synced from, as it was."""
    with start_emulator(seed=7, events=LEGACY_EVENTS, anchor=dt.date(2026, 11, 1)) as emu:
        yield emu


def _legacy_settings(
    tmp_path: Path, emulator: RunningEmulator, accounts: str = "", *, staged: bool = False
):
    """Settings of a copy of the legacy warehouse; `staged`: with the rows of its last merge
    left in dlt's staging dataset, as that version's merges left them."""
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"import database '{LEGACY}'")
    if staged:
        con.execute("create schema raw_staging")
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'raw' "
            "and table_name not like '_dlt%'"
        ).fetchall():
            con.execute(f'create table raw_staging."{name}" as select * from raw."{name}"')
    con.close()
    config = tmp_path / "config.toml"
    config.write_text((REPO / "config.toml").read_text() + accounts)
    settings = load_settings(config)
    settings = settings.with_overrides(
        "warehouse",
        duckdb_path=str(path),
        pipelines_dir=str(tmp_path / "pipelines"),
        pipeline_name="simplymeet",
    )
    settings = settings.with_overrides("api", base_url=emulator.base_url, concurrency=4)
    return settings.with_overrides("sync", build_models=False, reconcile_every_hours=1000.0)


def _alter_raw_tables(settings, tables_sql: str, alteration: str) -> None:
    """`alter table raw."<name>" <alteration>` of each table `tables_sql` names."""
    con = duckdb.connect(settings.get("warehouse", "duckdb_path"))
    for (name,) in con.execute(tables_sql).fetchall():
        con.execute(f'alter table raw."{name}" {alteration}')
    con.close()


def _tables_without_account(settings) -> list[str]:
    rows = query(
        settings,
        "select table_name from information_schema.tables t where table_schema = 'raw' "
        "and table_name not like '_dlt%' and not exists (select 1 from "
        "information_schema.columns c where c.table_schema = 'raw' "
        "and c.table_name = t.table_name and c.column_name = 'account')",
    )
    return [name for (name,) in rows]


def test_legacy_warehouse_has_no_account_column(tmp_path, served):
    # The premise: without it the tests below prove nothing.
    assert "events" in _tables_without_account(_legacy_settings(tmp_path, served))


def test_first_run_gives_every_table_the_default_account(tmp_path, served):
    settings = _legacy_settings(tmp_path, served)
    summary = run_sync(settings, served)
    assert "events" in summary.migrated_tables
    assert _tables_without_account(settings) == []
    rows = query(settings, "select account, count(*) from raw.events group by 1")
    assert rows == [("default", LEGACY_EVENTS)]
    [(unlabelled,)] = query(
        settings, "select count(*) from raw.event_versions where account is null"
    )
    assert unlabelled == 0


def test_a_legacy_warehouse_holding_its_last_merge_s_staging_rows_is_migrated(tmp_path, served):
    settings = _legacy_settings(tmp_path, served, staged=True)
    run_sync(settings, served)
    rows = query(settings, "select account, count(*) from raw.events group by 1")
    assert rows == [("default", LEGACY_EVENTS)]


def test_a_package_a_version_before_accounts_left_pending_is_read_again_not_loaded(
    tmp_path, served
):
    settings = _legacy_settings(tmp_path, served)
    shutil.unpack_archive(LEGACY_PENDING / "simplymeet.tar.gz", tmp_path / "pipelines")
    run_sync(settings, served)
    rows = query(settings, "select account, count(*) from raw.events group by 1")
    assert rows == [("default", LEGACY_EVENTS)]
    assert query(settings, "select count(*) from raw.users where account is null") == [(0,)]


def test_models_built_before_the_first_sync_refuse_with_exit_2_and_leave_the_tables(
    tmp_path, served
):
    settings = _legacy_settings(tmp_path, served)
    built = run_cli("models", "build", "--db", settings.get("warehouse", "duckdb_path"))
    assert built.exit_code == 2
    assert "before accounts" in built.stderr and "simplymeet sync" in built.stderr
    assert "events" in _tables_without_account(settings)


def test_models_build_after_the_migrating_sync(tmp_path, served):
    settings = _legacy_settings(tmp_path, served)
    run_sync(settings, served)
    built = run_cli("models", "build", "--db", settings.get("warehouse", "duckdb_path"))
    assert built.exit_code == 0, built.stderr
    [(bookings,)] = query(
        settings, "select value from analytics.kpi_summary where metric = 'bookings'"
    )
    assert bookings == LEGACY_EVENTS


def test_a_legacy_warehouse_from_before_unknown_fields_were_kept_syncs(tmp_path, served):
    settings = _legacy_settings(tmp_path, served)
    _alter_raw_tables(
        settings,
        "select table_name from duckdb_columns() where schema_name = 'raw' "
        "and column_name = '_extra'",
        "drop column _extra",
    )
    run_sync(settings, served)
    rows = query(settings, "select account, count(*) from raw.events group by 1")
    assert rows == [("default", LEGACY_EVENTS)]


def test_events_landed_before_a_column_was_declared_are_read_again_to_fill_it(tmp_path, served):
    settings = _legacy_settings(tmp_path, served)
    run_sync(settings, served)
    [(unnamed,)] = query(
        settings,
        "select count(*) from raw.events where user_id is not null and user_full_name is null",
    )
    assert unnamed == 0


def test_a_report_of_models_an_earlier_version_built_says_to_sync(tmp_path, served):
    settings = _legacy_settings(tmp_path, served)
    db = settings.get("warehouse", "duckdb_path")
    run_sync(settings, served)
    assert run_cli("models", "build", "--db", db).exit_code == 0
    con = duckdb.connect(db)
    con.execute(
        "create or replace table analytics.kpi_summary as "
        "select * exclude (account) from analytics.kpi_summary"
    )
    con.close()
    reported = run_cli("report", "--db", db)
    assert reported.exit_code == 2
    assert "built by an earlier version" in reported.stderr
    assert "simplymeet sync" in reported.stderr


def _accounts_era(settings) -> None:
    """The legacy warehouse as a version with accounts but before the events' served names
    left it: every table holds `account`, the events lack `user_full_name` and the rest."""
    _alter_raw_tables(
        settings,
        "select table_name from duckdb_tables() where schema_name = 'raw' "
        "and table_name not like '_dlt%'",
        "add column account varchar default 'default'",
    )


def _unnamed(settings) -> int:
    [(count,)] = query(
        settings,
        "select count(*) from raw.events where user_id is not null and user_full_name is null",
    )
    return count


def test_events_a_models_build_gave_the_new_columns_empty_are_read_again(tmp_path, served):
    settings = _legacy_settings(tmp_path, served)
    _accounts_era(settings)
    assert (
        run_cli("models", "build", "--db", settings.get("warehouse", "duckdb_path")).exit_code == 0
    )
    assert _unnamed(settings) == LEGACY_EVENTS  # the columns are there, empty

    run_sync(settings, served)

    assert _unnamed(settings) == 0


def test_events_a_refresh_by_id_left_with_empty_new_columns_are_read_by_the_next_run(
    tmp_path, served
):
    settings = _legacy_settings(tmp_path, served)
    _accounts_era(settings)
    [first] = query(settings, "select min(id) from raw.events")
    run_sync(settings, served, refresh_ids=[first[0]])  # a write-back's refresh
    assert _unnamed(settings) == LEGACY_EVENTS - 1

    run_sync(settings, served)

    assert _unnamed(settings) == 0


def test_migrated_warehouse_is_read_in_full_once_then_incrementally(tmp_path, served):
    settings = _legacy_settings(tmp_path, served)
    summary = run_sync(settings, served)
    run_sync(settings, served)
    assert summary.state_restored
    modes = query(settings, "select mode from raw._sync_runs order by started_at")
    assert modes[-2:] == [("full",), ("incremental",)]  # after the legacy version's own
    [(dupes,)] = query(
        settings,
        "select count(*) from (select account, id from raw.events group by 1, 2 "
        "having count(*) > 1)",
    )
    assert dupes == 0


def test_legacy_rows_go_to_the_first_configured_account(tmp_path, served, monkeypatch):
    monkeypatch.setenv("SM_TEST_KEY_MAIN", served.api_key)
    accounts = '\n[[accounts]]\nname = "main"\napi_key_env = "SM_TEST_KEY_MAIN"\n'
    settings = _legacy_settings(tmp_path, served, accounts)
    run_sync(settings, served)
    rows = query(settings, "select account, count(*) from raw.users group by 1")
    assert [account for account, _ in rows] == ["main"]
    [(runs,)] = query(settings, "select count(*) from raw._sync_runs where account = 'main'")
    assert runs == 2  # the legacy run, migrated, and this one


def test_a_warehouse_synced_as_default_is_not_taken_over_by_another_first_account(
    tmp_path, served, monkeypatch
):
    # The first account keeps the pipeline and its cursor: synced as "main", it would read
    # only what changed since "default"'s last run and leave "default"'s rows beside its own.
    run_sync(_legacy_settings(tmp_path, served), served)
    monkeypatch.setenv("SM_TEST_KEY_MAIN", served.api_key)
    accounts = '\n[[accounts]]\nname = "main"\napi_key_env = "SM_TEST_KEY_MAIN"\n'
    config = tmp_path / "config.toml"
    config.write_text((REPO / "config.toml").read_text() + accounts)
    settings = load_settings(config).with_overrides(
        "warehouse",
        duckdb_path=str(tmp_path / "warehouse.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
        pipeline_name="simplymeet",
    )
    settings = settings.with_overrides("api", base_url=served.base_url, concurrency=4)
    settings = settings.with_overrides("sync", build_models=False)

    with pytest.raises(ConfigError, match="synced as account 'default', never as 'main'"):
        run_sync(settings, served)

    rows = query(settings, "select account, count(*) from raw.events group by 1")
    assert rows == [("default", LEGACY_EVENTS)]


def test_a_first_account_whose_run_was_not_recorded_is_not_taken_for_another(
    tmp_path, served, monkeypatch
):
    # Killed after its load, before its run was recorded: its rows are there, and another
    # account's runs are not its pipeline's writers.
    monkeypatch.setenv("SM_TEST_KEY_MAIN", served.api_key)
    accounts = '\n[[accounts]]\nname = "main"\napi_key_env = "SM_TEST_KEY_MAIN"\n'
    settings = _legacy_settings(tmp_path, served, accounts)
    run_sync(settings, served)
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("update raw._sync_runs set account = 'other'")
    con.close()

    run_sync(settings, served)

    rows = query(settings, "select account, count(*) from raw.events group by 1")
    assert rows == [("main", LEGACY_EVENTS)]
