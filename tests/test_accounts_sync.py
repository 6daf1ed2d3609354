"""Two accounts (two emulators seeded alike: same ids, different keys) in one warehouse."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simplymeet.emulator import RunningEmulator
from simplymeet.sync import SyncRequest, overall_exit_code, sync_accounts
from simplymeet.sync import tables as t
from tests.accounts_support import EVENTS, accounts_settings, two_emulators
from tests.sync_support import expected_rows, live_event_dtos, query


@pytest.fixture(scope="module")
def emulators() -> Iterator[dict[str, RunningEmulator]]:
    with two_emulators() as emus:
        yield emus


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory, emulators):
    """Settings of a warehouse both accounts have synced once, side by side."""
    settings = accounts_settings(tmp_path_factory.mktemp("accounts"), emulators)
    outcomes = sync_accounts(settings, SyncRequest(build_models=False))
    assert overall_exit_code(outcomes) == 0, outcomes
    return settings


def _events_of(settings, account: str) -> set:
    columns = ", ".join(f'"{c.name}"' for c in t.EVENTS.columns)
    rows = query(settings, f"select {columns} from raw.events where account = '{account}'")
    return set(rows)


def test_each_account_holds_exactly_its_emulators_events(synced, emulators):
    counts = dict(query(synced, "select account, count(*) from raw.events group by account"))
    assert counts == EVENTS
    for name, emu in emulators.items():
        got = {len(row) for row in _events_of(synced, name)}
        assert got == {len(t.EVENTS.columns)}
        expected = expected_rows(t.EVENTS, live_event_dtos(emu))
        assert len(_events_of(synced, name)) == len(expected)


def test_accounts_seeded_alike_share_ids_and_do_not_merge(synced):
    [(shared,)] = query(
        synced,
        "select count(*) from raw.events n join raw.events s using (id) "
        "where n.account = 'north' and s.account = 'south'",
    )
    assert shared == EVENTS["south"]


def test_child_rows_of_each_account_follow_their_own_parent(synced, emulators):
    for name, emu in emulators.items():
        expected = expected_rows(t.EVENTS, live_event_dtos(emu), "events__participants")
        [(count,)] = query(
            synced, f"select count(*) from raw.events__participants where account = '{name}'"
        )
        assert count == len(expected), name


def test_replaced_tables_keep_each_accounts_rows(synced, emulators):
    counts = dict(query(synced, "select account, count(*) from raw.users group by account"))
    for name, emu in emulators.items():
        assert counts[name] == len(emu.store.list_dtos("users")), name


def test_each_account_syncs_with_its_own_pipeline_state(synced):
    rows = query(synced, "select distinct pipeline_name from raw._dlt_pipeline_state")
    assert {name for (name,) in rows} == {"test_sync", "test_sync_south"}


def test_each_run_is_recorded_with_its_account(synced):
    rows = query(synced, "select account, count(*) from raw._sync_runs group by account")
    assert dict(rows) == {"north": 1, "south": 1}


@pytest.fixture(scope="module")
def built(synced):
    """`synced` with the models built over both accounts."""
    from simplymeet.models import build_models

    build_models(synced.get("warehouse", "duckdb_path"), settings=synced)
    return synced


def test_models_pass_every_data_test_with_two_accounts_sharing_ids(built):
    from simplymeet.models import test_models

    assert test_models(built.get("warehouse", "duckdb_path"), settings=built) == []


def test_fct_events_holds_each_accounts_bookings_once(built, emulators):
    for name, emu in emulators.items():
        rows = query(built, f"select event_id from analytics.fct_events where account = '{name}'")
        assert sorted(event_id for (event_id,) in rows) == sorted(emu.store.all_event_ids())


def test_kpis_are_per_account_and_add_up_across_accounts(built):
    bookings = dict(
        query(built, "select account, value from analytics.kpi_summary where metric = 'bookings'")
    )
    assert bookings == EVENTS
    [(total, past, canceled_past)] = query(
        built,
        "select count(*), count(*) filter (where is_past), "
        "count(*) filter (where is_past and is_canceled) from analytics.fct_events",
    )
    assert sum(bookings.values()) == total
    [(past_sum, canceled_sum)] = query(
        built,
        "select sum(past_bookings), sum(canceled_bookings) from analytics.cancellation_rates "
        "where breakdown = 'overall'",
    )
    assert (past_sum, canceled_sum) == (past, canceled_past)


def test_rates_per_host_never_mix_two_accounts_hosts(built):
    # Both emulators have the same user ids: a host's row per account, never one for both.
    rows = query(
        built,
        "select account, host_user_id, past_bookings from analytics.no_show_rates "
        "where breakdown = 'host'",
    )
    per_account = {
        (account, host): n
        for account, host, n in query(
            built,
            "select account, host_user_id, count(*) from analytics.fct_events "
            "where is_past group by 1, 2",
        )
    }
    assert {(account, host): n for account, host, n in rows} == per_account
