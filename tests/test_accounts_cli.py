"""`simplymeet sync` over several accounts: per-account outcomes, exit codes, a kill mid-way.

The command runs in-process (`tests/cli_support.py`), except the run that is killed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from simplymeet.emulator import RunningEmulator
from tests.accounts_support import EVENTS, KEY_ENVS, accounts_config, two_emulators
from tests.cli_support import run_cli
from tests.sync_support import EVENTS_ONLY, query

KILLED = 137
# Where a test is about which accounts ran, not what a whole run loads: the event tables alone.
EVENTS_ONLY_OPTION = ("--resources", ",".join(EVENTS_ONLY))

# Dies inside the second account's load: the first account's rows and state are in the
# warehouse, the second's extract is packaged and never loaded (a kill -9 at that moment).
_KILL_ON_SECOND_LOAD = """
import os, runpy, sys
import dlt

loads = []
original = dlt.Pipeline.load

def load(self, *args, **kwargs):
    loads.append(self.pipeline_name)
    if len(set(loads)) == 2:
        os._exit({killed})
    return original(self, *args, **kwargs)

dlt.Pipeline.load = load
sys.argv = ["simplymeet", "sync", "--no-models"]
runpy.run_module("simplymeet.cli.main", run_name="__main__")
"""


@pytest.fixture
def emulators() -> Iterator[dict[str, RunningEmulator]]:
    with two_emulators() as emus:
        yield emus


class Warehouse:
    """Where the subprocess syncs to, readable with `tests.sync_support.query`."""

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "warehouse.duckdb"
        self.pipelines = tmp_path / "pipelines"

    def get(self, section: str, key: str) -> str:
        assert (section, key) == ("warehouse", "duckdb_path")
        return str(self.path)


def _env(tmp_path: Path, emulators: dict[str, RunningEmulator]) -> dict[str, str]:
    """The variables `simplymeet` reads: config, warehouse and each account's key, no
    `SIMPLYMEET_API_KEY`."""
    config = tmp_path / "config.toml"
    config.write_text(accounts_config(emulators))
    env = {name: os.environ[name] for name in KEY_ENVS.values()}
    env.update(
        {
            "SIMPLYMEET_CONFIG": str(config),
            "SIMPLYMEET_WAREHOUSE__DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
            "SIMPLYMEET_WAREHOUSE__PIPELINES_DIR": str(tmp_path / "pipelines"),
            "SIMPLYMEET_API__CONCURRENCY": "4",
        }
    )
    return env


def _sync(env: dict[str, str], *args: str) -> Result:
    """`simplymeet sync --no-models *args` in-process (`tests/cli_support.py`)."""
    return run_cli("sync", "--no-models", *args, env=env)


def _counts(tmp_path: Path) -> dict[str, int]:
    rows = query(Warehouse(tmp_path), "select account, count(*) from raw.events group by 1")
    return dict(rows)


def test_every_account_syncs_and_each_outcome_is_printed(tmp_path, emulators):
    done = _sync(_env(tmp_path, emulators))
    assert done.exit_code == 0, done.stderr
    assert "account north: ok" in done.stdout
    assert "account south: ok" in done.stdout
    assert _counts(tmp_path) == EVENTS


def test_one_refused_key_does_not_stop_the_other_account_and_exits_4(tmp_path, emulators):
    env = _env(tmp_path, emulators)
    env[KEY_ENVS["south"]] = "not-souths-key"
    done = _sync(env, *EVENTS_ONLY_OPTION)
    assert done.exit_code == 4
    [line] = [line for line in done.stderr.splitlines() if line.startswith("account ")]
    assert line.startswith("account south: exit 4")
    assert "not-souths-key" not in done.stdout + done.stderr
    assert _counts(tmp_path) == {"north": EVENTS["north"]}


def _alerting(tmp_path: Path, emulators) -> dict[str, str]:
    """`_env` with the models built and an alert that fires on any booking checked."""
    env = _env(tmp_path, emulators)
    config = Path(env["SIMPLYMEET_CONFIG"])
    config.write_text(
        config.read_text()
        + '\n[[alerts]]\nname = "any booking made"\nmetric = "created"\nperiod = "all"\n'
        + "above = 0\n"
    )
    env.update(SIMPLYMEET_SYNC__CHECK_ALERTS="true", SIMPLYMEET_SYNC__BUILD_MODELS="true")
    return env


def test_alerts_are_checked_after_a_sync_where_one_account_set_rows_aside(tmp_path, emulators):
    # As for one account: exit 9 says so first, and the alerts are still checked.
    env = _alerting(tmp_path, emulators)
    south = emulators["south"]
    south.set_anomalies(f"null_id={south.store.all_event_ids()[0]}")

    done = run_cli("sync", env=env)

    assert done.exit_code == 9, done.stdout + done.stderr
    assert "any booking made" in done.stdout


def test_alerts_are_checked_after_a_sync_where_one_account_s_key_was_refused(tmp_path, emulators):
    # The other account loaded and the models were built on it: its alerts still matter.
    env = _alerting(tmp_path, emulators)
    env[KEY_ENVS["south"]] = "not-souths-key"

    done = run_cli("sync", env=env)

    assert done.exit_code == 4, done.stdout + done.stderr
    assert "any booking made" in done.stdout


def test_account_option_syncs_only_the_named_account(tmp_path, emulators):
    done = _sync(_env(tmp_path, emulators), "--account", "south", *EVENTS_ONLY_OPTION)
    assert done.exit_code == 0, done.stderr
    assert _counts(tmp_path) == {"south": EVENTS["south"]}
    assert emulators["north"].count() == 0


def test_unknown_account_exits_2_naming_the_configured_ones(tmp_path, emulators):
    done = _sync(_env(tmp_path, emulators), "--account", "east")
    assert done.exit_code == 2
    assert "unknown account 'east' (configured: north, south)" in done.stderr


def test_killed_multi_account_sync_converges_on_rerun(tmp_path, emulators):
    env = _env(tmp_path, emulators)
    # A process of its own: the kill is real (os._exit mid-load), nothing of it unwinds.
    outside = {k: v for k, v in os.environ.items() if not k.startswith("SIMPLYMEET_")}
    killed = subprocess.run(
        [sys.executable, "-c", _KILL_ON_SECOND_LOAD.format(killed=KILLED)],
        env={**outside, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert killed.returncode == KILLED, killed.stderr
    assert len(_counts(tmp_path)) == 1  # one account landed, the other was killed loading
    done = _sync(env)
    assert done.exit_code == 0, done.stderr
    assert _counts(tmp_path) == EVENTS
    [(dupes,)] = query(
        Warehouse(tmp_path),
        "select count(*) from (select account, id from raw.events group by 1, 2 "
        "having count(*) > 1)",
    )
    assert dupes == 0
