"""A write-back over two accounts sends each target to its own account, never the other's.

The two emulators are seeded alike: every id of south is also an id of north, so a target
sent to the wrong account would land on a different booking there.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from simplymeet.cli.main import cli
from simplymeet.contract.endpoints import match_route
from simplymeet.emulator import RunningEmulator
from simplymeet.sync import SyncRequest, overall_exit_code, sync_accounts
from tests.accounts_support import KEY_ENVS, accounts_settings, two_emulators
from tests.sync_support import EVENTS_ONLY, query


@pytest.fixture
def emulators() -> Iterator[dict[str, RunningEmulator]]:
    with two_emulators() as emus:
        yield emus


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A warehouse (and its pipelines folder) of both accounts synced once for the module.

    Each test copies it beside fresh emulators seeded alike (same seed, size and day): what
    they serve is what the copy holds, and no test sees another's writes.
    """
    root = tmp_path_factory.mktemp("accounts-template")
    with two_emulators() as emus:
        settings = accounts_settings(root, emus)
        # The event tables alone: every test selects and refreshes events.
        request = SyncRequest(build_models=False, resources=list(EVENTS_ONLY))
        outcomes = sync_accounts(settings, request)
    assert overall_exit_code(outcomes) == 0, outcomes
    return root


@pytest.fixture
def synced(tmp_path, template, emulators):
    """Both accounts synced into one warehouse; the config file the commands read."""
    shutil.copy(template / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    shutil.copytree(template / "pipelines", tmp_path / "pipelines")
    return accounts_settings(tmp_path, emulators)


def _cli(synced, *args: str) -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPLYMEET_")}
    wh = synced.warehouse
    env["SIMPLYMEET_CONFIG"] = str(synced.source)
    env["SIMPLYMEET_WAREHOUSE__DUCKDB_PATH"] = wh.duckdb_path
    env["SIMPLYMEET_WAREHOUSE__PIPELINES_DIR"] = wh.pipelines_dir
    env["SIMPLYMEET_WAREHOUSE__PIPELINE_NAME"] = wh.pipeline_name
    env["SIMPLYMEET_SYNC__BUILD_MODELS"] = "false"
    for name in KEY_ENVS.values():
        env[name] = os.environ[name]
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _canceled_ids(emulator: RunningEmulator) -> Counter[int]:
    """Event ids named by the cancel-list requests this emulator received."""
    counts: Counter[int] = Counter()
    for record in emulator.requests:
        found = match_route(record.method, record.path)
        if found is not None and found[0].name == "event_cancel_list":
            counts.update(json.loads(record.body)["ids"])
    return counts


def _upcoming(synced, account: str, limit: int) -> list[int]:
    rows = query(
        synced,
        f"select id from raw.events where account = '{account}' and state = 'active' "
        f"and scheduled_at > now() order by id desc limit {limit}",
    )
    return [int(row[0]) for row in rows]


def test_bulk_cancel_across_accounts_sends_each_id_to_its_own_account(synced, emulators):
    # Ids active in both accounts (two different bookings each): a mix-up would cancel the
    # wrong one. Seeded alike, no id is upcoming in both, so past ones are included.
    shared = [
        int(row[0])
        for row in query(
            synced,
            "select id from raw.events where state = 'active' "
            "group by id having count(distinct account) = 2 order by id limit 2",
        )
    ]
    assert len(shared) == 2, "the seeds were meant to give both accounts active ids in common"
    north = shared + [i for i in _upcoming(synced, "north", 5) if i not in shared][:1]
    south = shared + [i for i in _upcoming(synced, "south", 5) if i not in shared][:1]
    pairs = [("north", i) for i in north] + [("south", i) for i in south]
    selection = " union all ".join(f"select '{a}' as account, {i} as id" for a, i in pairs)
    done = _cli(
        synced,
        "event",
        "cancel-list",
        "--sql",
        selection,
        "--reason",
        "split",
        "--include-past",
        "--yes",
    )
    assert done.exit_code == 0, done.output
    assert _canceled_ids(emulators["north"]) == Counter(north)
    assert _canceled_ids(emulators["south"]) == Counter(south)


def test_cancel_refreshes_each_accounts_rows_only(synced, emulators):
    [south] = _upcoming(synced, "south", 1)
    done = _cli(synced, "event", "cancel-list", "--ids", str(south), "--account", "south", "--yes")
    assert done.exit_code == 0, done.output
    rows = dict(query(synced, f"select account, state from raw.events where id = {south}"))
    assert rows["south"] == emulators["south"].store.event_dto(south)["state"]
    assert rows.get("north") in (None, emulators["north"].store.event_dto(south)["state"])
    assert _canceled_ids(emulators["north"]) == Counter()


def test_bare_id_held_by_two_accounts_needs_the_account_option(synced, emulators):
    [shared] = query(
        synced,
        "select n.id from raw.events n join raw.events s using (id) "
        "where n.account = 'north' and s.account = 'south' limit 1",
    )
    done = _cli(synced, "event", "cancel-list", "--ids", str(shared[0]), "--yes")
    assert done.exit_code == 2
    assert "is in accounts north, south" in done.output
    assert "--account" in done.output
    assert _canceled_ids(emulators["north"]) == _canceled_ids(emulators["south"]) == Counter()


def test_bare_id_held_by_one_account_goes_to_that_account(synced, emulators):
    only_north = query(
        synced,
        "select id from raw.events where account = 'north' and state = 'active' "
        "and scheduled_at > now() and id not in "
        "(select id from raw.events where account = 'south') order by id limit 1",
    )
    if not only_north:
        pytest.skip("every upcoming north booking shares its id with south")
    [(target,)] = only_north
    done = _cli(synced, "event", "cancel-list", "--ids", str(target), "--yes")
    assert done.exit_code == 0, done.output
    assert _canceled_ids(emulators["north"]) == Counter([target])
    assert _canceled_ids(emulators["south"]) == Counter()


def test_invalid_rows_of_one_account_stop_every_account_before_sending(synced, emulators):
    [north] = _upcoming(synced, "north", 1)
    [(south_past,)] = query(
        synced,
        "select id from raw.events where account = 'south' and state = 'active' "
        "and scheduled_at < now() order by id limit 1",
    )
    selection = f"select 'north' as account, {north} as id union all select 'south', {south_past}"
    done = _cli(synced, "event", "cancel-list", "--sql", selection, "--yes")
    assert done.exit_code == 2, done.output
    assert "account south:" in done.output
    assert _canceled_ids(emulators["north"]) == _canceled_ids(emulators["south"]) == Counter()


def test_a_query_column_the_warehouse_holds_is_only_warned_of_over_accounts(synced, emulators):
    # A column all but spelling `reason` that a table of the warehouse holds (as `select *`
    # brings columns nobody named): a warning, as with one account, not a misspelling.
    [north] = _upcoming(synced, "north", 1)
    with duckdb.connect(synced.warehouse.duckdb_path) as con:
        con.execute("create table raw.kept_notes as select id, 'x' as reasn from raw.events")
    selection = (
        "select e.account, e.id, k.reasn from events e join kept_notes k using (id) "
        f"where e.account = 'north' and e.id = {north}"
    )

    done = _cli(synced, "event", "cancel-list", "--sql", selection, "--dry-run")

    assert done.exit_code == 0, done.output
    assert "ignored column(s) not used by event cancel-list: reasn" in done.output
    assert emulators["north"].requests == emulators["south"].requests == []


@pytest.mark.parametrize(("codes", "code"), [([3, 9], 3), ([9, 8], 8), ([9, 0], 9), ([6, 3], 6)])
def test_a_write_back_over_accounts_exits_with_the_most_telling_code(codes, code):
    from simplymeet.cli.errors import most_telling

    assert most_telling(codes) == code
