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
