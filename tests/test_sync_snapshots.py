"""Replaced lists that came back as last loaded are confirmed, not loaded again (snapshots.py).

What the warehouse holds is compared with what the emulator serves (`warehouse_rows` against
`store.list_dtos` through the sync's own tables), never with what the sync read.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from simplymeet.emulator import RunningEmulator
from simplymeet.sync import tables as t
from simplymeet.sync.snapshots import Snapshots
from tests.sync_support import create_poll, query, run_sync
from tests.synced_template import synced_copy

SNAPSHOT_RESOURCES = ("users", "polls", "acl_rules")
"""Three of the replaced lists (their tables loaded on every run before): enough to tell one
that changed from those that did not, at a fraction of a sync of every resource."""


@pytest.fixture
def synced(tmp_path_factory, tmp_path, emulator: RunningEmulator):
    """Settings of a warehouse after one full sync of `emulator` (every resource)."""
    return synced_copy(tmp_path_factory, tmp_path, emulator)


def _loaded(summary) -> dict[str, int]:
    return {row.name: row.loaded for row in summary.tables}


def _unchanged(summary) -> set[str]:
    return {row.name for row in summary.tables if row.unchanged}


def _last_run_started(settings) -> object:
    return query(settings, "select max(started_at) from raw._sync_runs")[0][0]


def _synced_at(settings, table: str) -> set[object]:
    return {row[0] for row in query(settings, f"select distinct _synced_at from raw.{table}")}


def _rows(settings, table: str) -> int:
    return query(settings, f"select count(*) from raw.{table}")[0][0]


def test_a_list_unchanged_upstream_is_not_loaded_again(synced, emulator):
    summary = run_sync(synced, emulator, resources=SNAPSHOT_RESOURCES)

    assert _unchanged(summary) >= {t.USERS.name, t.POLLS.name, t.ACL_RULES.name}
    assert _loaded(summary)[t.USERS.name] == 0
    assert _loaded(summary)[t.POLLS.name] == 0


def test_an_unchanged_list_keeps_every_row_stamped_with_the_run_that_confirmed_it(synced, emulator):
    users_before = _rows(synced, t.USERS.name)

    run_sync(synced, emulator, resources=SNAPSHOT_RESOURCES)

    assert _rows(synced, t.USERS.name) == users_before == len(emulator.store.list_dtos("users"))
    assert _synced_at(synced, t.USERS.name) == {_last_run_started(synced)}


def test_a_list_that_changed_upstream_is_loaded_and_the_others_are_not(synced, emulator):
    create_poll(emulator)

    summary = run_sync(synced, emulator, resources=SNAPSHOT_RESOURCES)

    assert t.POLLS.name not in _unchanged(summary)
    assert _loaded(summary)[t.POLLS.name] == len(emulator.store.list_dtos("polls"))
    assert t.USERS.name in _unchanged(summary)
    names = {row[0] for row in query(synced, "select name from raw.polls")}
    assert "Kick-off" in names


def test_a_list_emptied_in_the_warehouse_by_hand_is_loaded_again(synced, emulator):
    con = duckdb.connect(synced.get("warehouse", "duckdb_path"))
    con.execute(f"delete from raw.{t.USERS.name}")
    con.close()

    summary = run_sync(synced, emulator, resources=SNAPSHOT_RESOURCES)

    assert t.USERS.name not in _unchanged(summary)
    assert _rows(synced, t.USERS.name) == len(emulator.store.list_dtos("users"))


def test_a_full_refresh_loads_every_list_again(synced, emulator):
    summary = run_sync(synced, emulator, resources=SNAPSHOT_RESOURCES, full_refresh=True)

    assert not _unchanged(summary)
    assert _loaded(summary)[t.USERS.name] == len(emulator.store.list_dtos("users"))


def test_a_list_with_a_row_breaking_the_contract_is_quarantined_on_every_run(synced, emulator):
    victim = emulator.store.list_dtos("users")[0]["id"]
    emulator.set_anomalies(f"text_id={victim},endpoints=user_list")

    first = run_sync(synced, emulator, resources=SNAPSHOT_RESOURCES)
    second = run_sync(synced, emulator, resources=SNAPSHOT_RESOURCES)

    assert (first.rejected_rows, second.rejected_rows) == (1, 1)
    assert t.USERS.name not in _unchanged(second)


def test_unknown_fields_of_an_unchanged_list_are_reported_on_every_run(synced, emulator):
    emulator.set_anomalies("extra=loyaltyTier,endpoints=user_list")
    run_sync(synced, emulator, resources=SNAPSHOT_RESOURCES)

    again = run_sync(synced, emulator, resources=SNAPSHOT_RESOURCES)

    assert t.USERS.name in _unchanged(again)
    assert again.unknown_fields == {t.USERS.name: ["loyaltyTier"]}


# --- the rules, on the judge alone (no dlt run: its digests are a plain dict here) ----------


def _cut(rows: list[dict]) -> dict[str, pa.Table]:
    return {"polls": pa.table({"id": [row["id"] for row in rows]})}


LIST = [{"id": 1, "name": "Kick-off"}, {"id": 2, "name": "Retro"}]
CHANGED = [{"id": 1, "name": "Kick-off"}, {"id": 2, "name": "Review"}]


def _judge(rows: int = 2, reload: bool = False) -> Snapshots:
    return Snapshots(before={"polls": rows}, reload=reload)


def test_a_list_never_digested_is_not_unchanged():
    assert not _judge().is_unchanged("polls", LIST, _cut(LIST), {})


def test_the_same_list_with_the_same_rows_in_the_warehouse_is_unchanged():
    digests: dict[str, str] = {}
    _judge().is_unchanged("polls", LIST, _cut(LIST), digests)

    judge = _judge()

    assert judge.is_unchanged("polls", LIST, _cut(LIST), digests)
    assert judge.unchanged == {"polls"}


def test_a_changed_list_of_the_same_length_is_not_unchanged():
    digests: dict[str, str] = {}
    _judge().is_unchanged("polls", LIST, _cut(LIST), digests)

    assert not _judge().is_unchanged("polls", CHANGED, _cut(CHANGED), digests)


def test_the_same_list_with_another_row_count_in_the_warehouse_is_not_unchanged():
    digests: dict[str, str] = {}
    _judge().is_unchanged("polls", LIST, _cut(LIST), digests)

    assert not _judge(rows=1).is_unchanged("polls", LIST, _cut(LIST), digests)


def test_a_reload_is_never_unchanged():
    digests: dict[str, str] = {}
    _judge().is_unchanged("polls", LIST, _cut(LIST), digests)

    assert not _judge(reload=True).is_unchanged("polls", LIST, _cut(LIST), digests)


def test_a_list_back_as_it_was_before_a_run_that_set_a_row_aside_is_not_unchanged():
    # The run with a row set aside loaded another list of the same length (one row aside,
    # one new): the digest of the list before it no longer describes the warehouse.
    digests: dict[str, str] = {}
    _judge().is_unchanged("polls", LIST, _cut(LIST), digests)
    aside = [*CHANGED, {"id": "x3"}]
    assert not _judge().is_unchanged("polls", aside, _cut(CHANGED), digests, rejected=True)

    assert not _judge().is_unchanged("polls", LIST, _cut(LIST), digests)
