"""A write-back judges each target by its own account's rows, never by the other account's.

The two emulators are seeded alike, so both accounts hold the same event type and tag ids; a
tag linked in one account says nothing about the same ids in the other.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from simplymeet.cli.main import cli
from simplymeet.config import Settings
from simplymeet.contract.endpoints import match_route
from simplymeet.emulator import RunningEmulator
from simplymeet.sync import SyncRequest, overall_exit_code, sync_accounts
from tests.accounts_support import KEY_ENVS, accounts_settings, two_emulators
from tests.sync_support import client_for

RESOURCES = ["event_types", "event_type_tags", "user_event_type_tags"]


def _unlinked_pair(emulator: RunningEmulator) -> tuple[int, int]:
    """An event type and a tag that is linked to another event type, but not to this one."""
    links = emulator.store.ref.event_type_tag_links
    for event_type in emulator.store.ref.event_types:
        for other, tags in links.items():
            free = sorted(tags - links.get(event_type.id, set()))
            if other != event_type.id and free:
                return event_type.id, free[0]
    raise AssertionError("the seed links no tag to any event type")


@pytest.fixture
def linked_in_north_only(tmp_path) -> Iterator[tuple[Settings, dict, int, int]]:
    """Both accounts synced; event type E carries tag T in north only."""
    with two_emulators() as emulators:
        event_type, tag = _unlinked_pair(emulators["south"])
        with client_for(emulators["north"]) as north:
            north.event_type_tag_add(event_type, tag)
        settings = accounts_settings(tmp_path, emulators)
        outcomes = sync_accounts(settings, SyncRequest(resources=RESOURCES))
        assert overall_exit_code(outcomes) == 0, outcomes
        for emulator in emulators.values():
            emulator.reset_log()
        yield settings, emulators, event_type, tag


def _tag_adds(emulator: RunningEmulator) -> list[str]:
    return [
        r.path
        for r in emulator.requests
        if (found := match_route(r.method, r.path)) and found[0].name == "event_type_tag_add"
    ]


def _add(settings: Settings, account: str, event_type: int, tag: int) -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPLYMEET_")}
    wh = settings.warehouse
    env |= {
        "SIMPLYMEET_CONFIG": str(settings.source),
        "SIMPLYMEET_WAREHOUSE__DUCKDB_PATH": wh.duckdb_path,
        "SIMPLYMEET_WAREHOUSE__PIPELINES_DIR": wh.pipelines_dir,
        "SIMPLYMEET_WAREHOUSE__PIPELINE_NAME": wh.pipeline_name,
        "SIMPLYMEET_SYNC__BUILD_MODELS": "false",
    }
    env |= {name: os.environ[name] for name in KEY_ENVS.values()}
    args = ["event-type-tag", "add", "--account", account, "--ids", str(event_type)]
    return CliRunner().invoke(cli, [*args, "--tag-id", str(tag), "--no-refresh"], env=env)


def test_a_tag_linked_in_the_other_account_is_still_added_in_this_one(linked_in_north_only):
    settings, emulators, event_type, tag = linked_in_north_only

    result = _add(settings, "south", event_type, tag)

    assert result.exit_code == 0, result.output
    assert _tag_adds(emulators["south"]) == [f"/panel/api/event-type-tag/{event_type}/{tag}"]
    assert _tag_adds(emulators["north"]) == []


def test_a_tag_already_linked_in_this_account_is_skipped(linked_in_north_only):
    settings, emulators, event_type, tag = linked_in_north_only

    result = _add(settings, "north", event_type, tag)

    assert result.exit_code == 0, result.output
    assert _tag_adds(emulators["north"]) == []
    assert _tag_adds(emulators["south"]) == []
