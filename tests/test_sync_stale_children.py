"""Child rows not written with their parent's current version are pruned, by a comparison
that reads only what changed since the last recorded run, and every row when it reconciles."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from simplymeet.emulator import RunningEmulator
from tests.sync_support import EVENTS_ONLY, query, run_sync
from tests.synced_template import synced_copy

PLANTED = 999_999_977


@pytest.fixture
def synced(tmp_path_factory, tmp_path, emulator: RunningEmulator):
    """Settings of a warehouse that has had one full sync of `emulator`."""
    return synced_copy(tmp_path_factory, tmp_path, emulator)


def _execute(settings, sql: str) -> None:
    con = duckdb.connect(settings.get("warehouse", "duckdb_path"))
    try:
        con.execute(sql)
    finally:
        con.close()


def _plant_participant(settings, stamp: str) -> None:
    """A participant of a booking no sync touches next, stamped `stamp` (SQL)."""
    _execute(
        settings,
        "insert into raw.events__participants (account, event_id, id, email, created_at, "
        f"_synced_at) select 'default', min(id), {PLANTED}, 'planted@example.com', now(), "
        f"{stamp} from raw.events where deleted_at is null",
    )


def _planted(settings) -> int:
    sql = f"select count(*) from raw.events__participants where id = {PLANTED}"
    return query(settings, sql)[0][0]


def test_a_child_written_after_the_last_run_under_an_unchanged_parent_is_pruned(synced, emulator):
    # As a run killed between loading the children and loading their parent leaves it.
    _plant_participant(synced, "now()")

    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)

    assert _planted(synced) == 0


def test_a_mismatch_older_than_the_last_run_waits_for_the_reconciling_run(synced, emulator):
    # No run writes one (each prunes what it wrote): only a hand in the warehouse does.
    _plant_participant(synced, "timestamptz '2020-01-01'")

    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    left_by_an_ordinary_run = _planted(synced)
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=True)

    assert left_by_an_ordinary_run == 1
    assert _planted(synced) == 0


def test_a_last_run_stamped_after_now_makes_the_comparison_whole(synced, emulator):
    # The clock went back since that run: stamps no longer tell what is newer.
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    _execute(
        synced,
        f"insert into raw._sync_runs (started_at, account) values ('{ahead.isoformat()}', "
        "'default')",
    )
    _plant_participant(synced, "timestamptz '2020-01-01'")

    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)

    assert _planted(synced) == 0
