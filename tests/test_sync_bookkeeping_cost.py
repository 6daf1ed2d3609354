"""A sync's bookkeeping statements: each per-table question asked of all tables at once.

An unchanged run of every resource issued 164 statements through dlt's SQL client, most of
them one small count per table (row counts before and after, unknown fields, stale child
rows, rows a replacing run did not write); batched, 55 (~0.03-0.05 CPU-s a run here, and
as many round trips fewer to a remote PostgreSQL). Each test holds one batched question
equal to the per-table reading it replaced, and to one statement (or one per side, for the
stale child rows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb
import pytest

from simplymeet.config import Settings
from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.landing_schema import ALL_TABLES
from simplymeet.sync import cleanup, make_pipeline, unknown_fields
from simplymeet.sync import tables as t
from simplymeet.sync.runner import tracked_tables
from tests.sync_support import query, run_sync, settings_for
from tests.synced_template import synced_copy

ACCOUNT = "default"
PARENTS = [t.EVENTS, t.EVENT_TYPES, t.POLLS]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class _Counting:
    """dlt's SQL client, keeping the text of every statement it runs."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.statements: list[str] = []

    def execute_sql(self, sql: str, *args: Any) -> Any:
        self.statements.append(sql)
        return self._client.execute_sql(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@contextmanager
def _client(settings: Settings) -> Iterator[_Counting]:
    with make_pipeline(settings).sql_client() as client:
        yield _Counting(client)


@pytest.fixture
def synced(tmp_path_factory, tmp_path, emulator: RunningEmulator) -> Settings:
    return synced_copy(tmp_path_factory, tmp_path, emulator)


def test_row_counts_of_every_table_are_the_per_table_counts_in_one_statement(synced):
    names = tracked_tables(("events", "event_types", "polls", "users"))
    schema = synced.get("warehouse", "dataset")
    expected = {
        name: query(synced, f"select count(*) from {schema}.{name} where account = '{ACCOUNT}'")[0][
            0
        ]
        for name in names
    }

    with _client(synced) as client:
        counts = cleanup.row_counts(client, names, ACCOUNT)
        asked = [s for s in client.statements if "count(*)" in s]

    assert len(names) > 10
    assert counts == expected
    assert len(asked) == 1


def test_stale_child_rows_are_counted_in_one_statement_per_side(synced):
    with _client(synced) as client:
        removed = cleanup.prune_stale_children(client, PARENTS, ACCOUNT, written_after=EPOCH)
        counted = [s for s in client.statements if "count(*)" in s]

    assert removed and set(removed.values()) == {0}
    assert len(counted) == 2


def test_a_child_row_stale_on_both_sides_is_removed_and_counted_once(synced):
    schema = synced.get("warehouse", "dataset")
    participant = query(synced, f"select event_id from {schema}.events__participants limit 1")
    event_id = participant[0][0]

    with duckdb.connect(synced.get("warehouse", "duckdb_path")) as con:
        # A child row from an older version of its parent, both written after the mark.
        con.execute(
            f"update {schema}.events__participants set _synced_at = _synced_at - interval 1 hour "
            f"where event_id = {event_id}"
        )
        stale = con.execute(
            f"select count(*) from {schema}.events__participants where event_id = {event_id}"
        ).fetchone()[0]

    with _client(synced) as client:
        removed = cleanup.prune_stale_children(client, PARENTS, ACCOUNT, written_after=EPOCH)

    assert removed["events__participants"] == stale
    left = f"select count(*) from {schema}.events__participants where event_id = {event_id}"
    assert query(synced, left) == [(0,)]


def test_unknown_fields_of_every_table_are_the_per_table_reads_in_one_statement(tmp_path):
    with start_emulator(events=40, seed=4) as emulator:
        emulator.set_anomalies(
            "extra=loyaltyTier|invitee.pronouns,endpoints=event_list|event_get|event_type_list"
        )
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, resources=("events", "event_types", "users"))
    schema = settings.get("warehouse", "dataset")
    synced_at = query(settings, f"select max(_synced_at) from {schema}.events")[0][0]
    tables = [table for table in ALL_TABLES if table.has_extra]

    with _client(settings) as client:
        found = unknown_fields.landed(client, tables, synced_at, ACCOUNT)
        read = [s for s in client.statements if "distinct" in s]

    assert found == {
        "events": ["invitee.pronouns", "loyaltyTier"],
        "event_types": ["loyaltyTier"],
    }
    assert len(read) == 1


def test_rows_a_replacing_run_did_not_write_are_counted_in_one_statement_and_removed(synced):
    schema = synced.get("warehouse", "dataset")
    names = ["users", "acl_rules", "event_types", "polls"]
    with duckdb.connect(synced.get("warehouse", "duckdb_path")) as con:
        run_at = con.execute(f"select max(_synced_at) from {schema}.users").fetchone()[0]
        for name in names[:2]:
            # One row of each left from an earlier run: what a list that lost it would hold.
            con.execute(
                f"update {schema}.{name} set _synced_at = _synced_at - interval 1 hour "
                f"where rowid = (select min(rowid) from {schema}.{name})"
            )

    with _client(synced) as client:
        removed = cleanup.drop_unrefreshed(client, names, ACCOUNT, run_at)
        counted = [s for s in client.statements if "count(*)" in s]

    assert removed == 2
    assert len(counted) == 1
    for name in names[:2]:
        left = f"select count(*) from {schema}.{name} where _synced_at <> '{run_at}'"
        assert query(synced, left) == [(0,)]
