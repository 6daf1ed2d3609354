"""The dataset's tables asked once per phase of a run (`cleanup.tables_held`): within the
block the answer stands until `forget_tables`, outside it every check asks the database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simplymeet.sync import cleanup
from simplymeet.sync.runner import make_pipeline
from tests.sync_support import run_sync, settings_for


@pytest.fixture
def sql(tmp_path, emulator) -> Iterator[object]:
    """A dlt SQL client of a synced warehouse's dataset."""
    settings = settings_for(tmp_path, emulator)
    run_sync(settings, emulator, resources=["users"])
    with make_pipeline(settings).sql_client() as client:
        yield client


def _make_table(client, name: str) -> None:
    client.execute_sql(f"create table {client.make_qualified_table_name(name)} (x int)")


def test_a_table_made_inside_a_held_block_is_seen_once_the_tables_are_forgotten(sql):
    with cleanup.tables_held(sql):
        before = cleanup.existing_tables(sql)
        _make_table(sql, "made_inside")
        unchanged = cleanup.existing_tables(sql)
        cleanup.forget_tables(sql)
        after = cleanup.existing_tables(sql)

    assert "users" in before and "made_inside" not in before
    assert unchanged == before
    assert after == before | {"made_inside"}


def test_outside_a_held_block_every_call_sees_the_tables_as_they_are(sql):
    with cleanup.tables_held(sql):
        cleanup.existing_tables(sql)
    _make_table(sql, "made_after")

    assert "made_after" in cleanup.existing_tables(sql)


def test_a_caller_changing_the_set_it_was_given_changes_nothing_held(sql):
    with cleanup.tables_held(sql):
        cleanup.existing_tables(sql).add("not_a_table")

        assert "not_a_table" not in cleanup.existing_tables(sql)
