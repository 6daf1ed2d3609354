"""Staging models: one per source table, states normalized from the contract vocabulary."""

from __future__ import annotations

import datetime as dt
import re

import duckdb

from simplymeet.contract.vocab import STATE_SYNONYMS, normalize_event_state
from simplymeet.models import load_project
from simplymeet.models.sample import SampleWarehouse
from simplymeet.models.sources import SOURCE_SCHEMA, source_tables

AS_OF = "2025-06-30T18:00:00Z"


def _primary_source(sql: str) -> str:
    # the table a staging model's `source` CTE selects from: its first raw reference
    match = re.search(rf"\bfrom\s+{SOURCE_SCHEMA}\.(\w+)", sql)
    assert match, f"a staging model selects from a {SOURCE_SCHEMA}.* table"
    return match.group(1)


def test_every_source_table_has_exactly_one_staging_model():
    project = load_project()
    staging = [m for m in project.models if m.name.startswith("stg_")]
    staged_from = [_primary_source(m.sql) for m in staging]

    # raw.current_user is one row of raw.users' shape: stg_users flags it (is_api_key_owner)
    merged = {"users": {"current_user"}}
    staged_from += [table for model in merged.values() for table in model]

    assert sorted(staged_from) == sorted(table.name for table in source_tables())
    assert all(
        m.sources <= {_primary_source(m.sql), "events", *merged.get(_primary_source(m.sql), ())}
        for m in staging
    )


def test_the_api_key_owner_is_one_flagged_row_of_stg_users():
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1, full_name="Ada", current=True)
    raw.user(2, full_name="Grace")
    con = raw.build(duckdb.connect())

    rows = con.execute(
        "select user_id, is_api_key_owner from analytics.stg_users order by user_id"
    ).fetchall()

    assert rows == [(1, True), (2, False)]


def test_the_api_key_owner_has_a_row_before_the_users_are_synced():
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1, full_name="Ada", current=True)
    con = raw.build(duckdb.connect())
    con.execute("delete from raw.users")

    rows = con.execute("select user_id, full_name, is_api_key_owner from analytics.stg_users")

    assert rows.fetchall() == [(1, "Ada", True)]


def test_event_states_are_normalized_exactly_like_the_contract_vocabulary():
    spellings = [*STATE_SYNONYMS, " Confirmed ", "CANCELLED", "No-Show\t", "pending", "", None]
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1)
    raw.event_type(10, owner=1)
    expected = {}
    for number, state in enumerate(spellings):
        for canceled in (False, True):
            event_id = 1000 + 2 * number + canceled
            canceled_at = "2025-06-01T09:00:00Z" if canceled else None
            raw.event(
                event_id,
                host=1,
                event_type=10,
                scheduled_at="2025-06-02T09:00:00Z",
                state=state,
                canceled_at=canceled_at,
            )
            expected[event_id] = normalize_event_state(state, canceled_at=canceled_at)
    con = raw.build()

    got = dict(con.execute("select event_id, state from analytics.stg_events").fetchall())

    assert got == expected


def test_events_deleted_upstream_are_excluded_with_their_child_rows():
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1)
    raw.event_type(10, owner=1)
    raw.event(
        1,
        host=1,
        event_type=10,
        scheduled_at="2025-06-02T09:00:00Z",
        hosts=[1],
        participants=["kept@example.com"],
    )
    raw.event(
        2,
        host=1,
        event_type=10,
        scheduled_at="2025-06-02T10:00:00Z",
        hosts=[1],
        participants=["gone@example.com"],
        reschedules=["2025-06-01T10:00:00Z"],
        deleted_at="2025-06-20T00:00:00Z",
    )
    con = raw.build()

    def ids(model: str) -> list[int]:
        return [r[0] for r in con.execute(f"select event_id from analytics.{model}").fetchall()]

    assert ids("stg_events") == [1]
    assert ids("stg_event_participants") == [1]
    assert ids("stg_event_users") == [1]
    assert ids("stg_event_reschedulings") == []
    assert ids("fct_events") == [1]


def test_unknown_user_timezone_is_null_and_kept_raw():
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1, timezone="Mars/Olympus_Mons")
    raw.user(2, timezone="Europe/Paris")
    con = raw.build()

    rows = con.execute(
        "select user_id, timezone, timezone_raw from analytics.stg_users order by user_id"
    ).fetchall()

    assert rows == [(1, None, "Mars/Olympus_Mons"), (2, "Europe/Paris", "Europe/Paris")]


def test_the_time_zone_seed_lists_every_zone_the_engine_can_convert_to():
    con = SampleWarehouse(synced_at=AS_OF).build()

    seeded = con.execute("select count(*) from analytics.seed_timezone_names").fetchone()
    known = con.execute("select count(*) from pg_timezone_names()").fetchone()

    assert seeded == known and seeded[0] > 400


def test_staging_keeps_timestamps_in_utc():
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.event(1, host=None, event_type=None, scheduled_at="2025-06-02T11:00:00+02:00")
    con = raw.build()

    (scheduled_at,) = con.execute("select scheduled_at from analytics.stg_events").fetchone()

    assert scheduled_at == dt.datetime(2025, 6, 2, 9, tzinfo=dt.UTC)
