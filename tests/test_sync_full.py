"""A first sync lands an exact, typed copy of everything the API serves."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from simplymeet.client import SimplyMeetClient
from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.sync import SyncApi, SyncRequest
from simplymeet.sync import run_sync as run_sync_with_stages
from simplymeet.sync import tables as t
from tests.sync_support import (
    EVENTS_ONLY,
    assert_events_match,
    expected_rows,
    query,
    run_sync,
    warehouse_rows,
)
from tests.synced_template import synced_copy


@pytest.fixture(scope="module")
def served() -> Iterator[RunningEmulator]:
    """An emulator these tests only read from (shared: none of them writes upstream)."""
    with start_emulator(seed=1, events=2000) as emu:
        yield emu


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory, served: RunningEmulator):
    """Settings of a warehouse that has had one full sync of `served`.

    A copy of the shared template: the very sync `settings_for` + `run_sync` would run here
    (`served` is untouched), paid once per test run instead of once in this module too.
    """
    return synced_copy(tmp_path_factory, tmp_path_factory.mktemp("synced"), served)


@pytest.fixture
def emulator(served: RunningEmulator) -> RunningEmulator:
    """The module's shared emulator under the usual name."""
    return served


def test_full_sync_lands_every_event_with_its_fields_and_children(synced, emulator):
    assert_events_match(synced, emulator)


def test_full_sync_event_count_equals_emulator(synced, emulator):
    [(count,)] = query(synced, "select count(*) from raw.events")
    assert count == len(emulator.store.all_event_ids()) == 2000


def test_event_fields_keep_their_served_values(synced, emulator):
    dto = emulator.store.event_dto(emulator.store.all_event_ids()[17])
    [(state, email, scheduled, event_type)] = query(
        synced,
        "select state, invitee_email, strftime(scheduled_at at time zone 'UTC', "
        f"'%Y-%m-%dT%H:%M:%S'), event_type_id from raw.events where id = {dto['id']}",
    )
    assert state == dto["state"]
    assert email == dto["invitee"]["email"]
    assert scheduled == dto["scheduledAt"][:19]
    assert event_type == dto["eventType"]["id"]


@pytest.mark.parametrize(
    ("table", "kind"),
    [
        (t.EVENT_TYPES, "event_types"),
        (t.USERS, "users"),
        (t.USER_EVENT_TYPE_TAGS, "user_event_type_tags"),
        (t.POLLS, "polls"),
        (t.ACL_RULES, "acl"),
    ],
)
def test_full_sync_dimension_table_equals_emulator(synced, emulator, table, kind):
    served = emulator.store.list_dtos(kind)
    assert warehouse_rows(synced, table) == expected_rows(table, served)


@pytest.mark.parametrize("child", [c.table.name for c in t.EVENT_TYPES.children])
def test_full_sync_event_type_children_equal_emulator(synced, emulator, child):
    served = emulator.store.list_dtos("event_types")
    expected = expected_rows(t.EVENT_TYPES, served, child)
    assert warehouse_rows(synced, t.table_by_name(child)) == expected


def test_full_sync_lands_poll_availability_and_results(synced, emulator):
    polls = emulator.store.list_dtos("polls")
    slots = sum(len(p.get("availability") or []) for p in polls)
    results = sum(len(s.get("results") or []) for p in polls for s in p.get("availability") or [])
    assert query(synced, "select count(*) from raw.polls__availability") == [(slots,)]
    assert query(synced, "select count(*) from raw.polls__availability__results") == [(results,)]


def test_full_sync_lands_tags_of_every_event_type(synced, emulator):
    store = emulator.store
    expected = sum(len(store.tags_of_event_type(et["id"])) for et in store.list_dtos("event_types"))
    assert query(synced, "select count(*) from raw.event_type_tags") == [(expected,)]


def test_full_sync_keeps_both_cancellation_policies(synced, emulator):
    rows = query(synced, "select type, version, period from raw.cancellation_policies")
    served = {
        (kind, emulator.store.policy(kind).version, emulator.store.policy(kind).period)
        for kind in ("organization", "user")
    }
    assert set(rows) == served


def test_full_sync_snapshots_availability_for_the_horizon(synced):
    [(days, snapshot_days)] = query(
        synced,
        "select count(distinct date), count(distinct snapshot_date) "
        "from raw.event_type_availability_days",
    )
    assert days == 14
    assert snapshot_days == 1


def test_full_sync_lands_current_user_integrations_and_organization(synced):
    for table in ("current_user", "organizations"):
        assert query(synced, f"select count(*) from raw.{table}") == [(1,)]
    [(integrations,)] = query(synced, "select count(*) from raw.integrations")
    assert integrations > 0


def _column_types(settings, table: str) -> dict[str, str]:
    rows = query(
        settings,
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = 'raw' and table_name = '{table}'",
    )
    return dict(rows)


def test_timestamps_land_as_timestamptz(synced):
    types = _column_types(synced, "events")
    for column in ("created_at", "updated_at", "scheduled_at", "end_date", "canceled_at"):
        assert types[column] == "TIMESTAMP WITH TIME ZONE", column


def test_money_lands_as_decimal_and_ids_as_bigint(synced):
    events, event_types = _column_types(synced, "events"), _column_types(synced, "event_types")
    assert events["payment_amount"].startswith("DECIMAL")
    assert event_types["amount"].startswith("DECIMAL")
    assert events["id"] == events["event_type_id"] == events["user_id"] == "BIGINT"


def test_every_declared_column_exists_even_when_all_null(synced):
    for table in t.ALL_TABLES:
        types = _column_types(synced, table.name)
        missing = [c.name for c in table.columns if c.name not in types]
        assert not missing, f"{table.name} lacks {missing}"
    # deleted_at is null on every row after a first sync, and still typed.
    assert _column_types(synced, "events")["deleted_at"] == "TIMESTAMP WITH TIME ZONE"


def test_a_merging_sync_leaves_no_second_copy_of_its_rows_in_the_staging_dataset(
    tmp_path_factory, tmp_path, emulator
):
    # A first sync appends (sync/first_load.py); a full refresh after it merges every table.
    settings = synced_copy(tmp_path_factory, tmp_path, emulator)
    run_sync(settings, emulator, resources=EVENTS_ONLY, full_refresh=True)
    staged = [
        name
        for (name,) in query(
            settings, "select table_name from duckdb_tables() where schema_name = 'raw_staging'"
        )
        if not name.startswith("_dlt")  # dlt's own bookkeeping: the schema's version
    ]
    assert "events" in staged  # the merge went through it
    counts = {
        name: query(settings, f"select count(*) from raw_staging.{name}")[0][0] for name in staged
    }
    assert set(counts.values()) == {0}, counts


def test_second_sync_without_changes_loads_no_events(tmp_path_factory, tmp_path, emulator):
    settings = synced_copy(tmp_path_factory, tmp_path, emulator)
    summary = run_sync(settings, emulator, resources=EVENTS_ONLY)
    events = {row.name: row for row in summary.tables}["events"]
    assert events.loaded == 0
    assert_events_match(settings, emulator)


def test_the_warehouse_is_free_for_other_processes_while_the_extract_waits_on_the_api(
    tmp_path_factory, tmp_path, served
):
    settings = synced_copy(tmp_path_factory, tmp_path, served)
    path = settings.get("warehouse", "duckdb_path")
    opened: list[int] = []

    def open_from_another_process(stage: str) -> None:
        if stage == "extracting":
            # Another process, as an analyst's notebook is: in this one DuckDB would share
            # the sync's own database and prove nothing.
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import duckdb, sys; duckdb.connect(sys.argv[1]).close()",
                    path,
                ],
                capture_output=True,
                timeout=60,
                check=False,
            )
            opened.append(done.returncode)

    with SimplyMeetClient(served.base_url, api_key=served.api_key, concurrency=4) as client:
        run_sync_with_stages(
            settings,
            SyncApi(client),
            SyncRequest(resources=EVENTS_ONLY, build_models=False),
            on_stage=open_from_another_process,
        )
    assert opened == [0]
