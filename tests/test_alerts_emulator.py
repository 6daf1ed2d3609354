"""Alerts over a real sync of the emulator: push the no-show rate over a threshold via the API.

`simplymeet sync` with `[sync] check_alerts = true` runs in-process (`tests/cli_support.py`:
the same output and exit codes without a process's imports per run); `simplymeet alerts check`
runs as a scheduler runs it, as a process of its own, against the emulator on 127.0.0.1.
"""

from __future__ import annotations

import math
import subprocess

from click.testing import Result

from tests.cli_support import run_cli, sync_env
from tests.sync_support import client_for, query
from tests.synced_template import synced_copy
from tests.test_sync_resilience import cli_env, simplymeet

RULE = """
[sync]
check_alerts = true
build_models = true

[[alerts]]
name = "no-show rate above {threshold}"
metric = "no_show"
period = "all"
above = {threshold}
min_sample_size = 30
"""


def _env(config) -> dict[str, str]:
    return {"SIMPLYMEET_CONFIG": str(config), "SIMPLYMEET_SYNC__BUILD_MODELS": "true"}


def sync(settings, emulator, config) -> Result:
    """`simplymeet sync` in-process, with `config` and the models built."""
    return run_cli("sync", env=sync_env(settings, emulator.api_key, **_env(config)))


def run(settings, emulator, config, *args: str) -> subprocess.CompletedProcess[str]:
    """`simplymeet *args` as a process, as a scheduler runs it."""
    env = cli_env(settings, emulator.api_key)
    env.update(_env(config))
    env.pop("SIMPLYMEET_ALERTS_WEBHOOK_URL", None)
    return subprocess.run(simplymeet(*args), env=env, capture_output=True, text=True, timeout=300)


def test_a_threshold_alert_fires_only_once_the_no_show_rate_is_pushed_over_it(
    tmp_path_factory, tmp_path, emulator
):
    # A warehouse a sync wrote (a copy of the shared synced template, tests/README.md), with
    # its models built.
    settings = synced_copy(tmp_path_factory, tmp_path, emulator)
    built = run_cli("models", "build", "--db", settings.get("warehouse", "duckdb_path"))
    assert built.exit_code == 0, built.output
    config = tmp_path / "config.toml"
    ((no_shows, eligible),) = query(
        settings,
        "select numerator, denominator from analytics.kpi_period_over_period "
        "where period_grain = 'all' and breakdown = 'overall' and metric = 'no_show'",
    )
    assert eligible >= 100
    threshold = round(no_shows / eligible + 0.05, 3)
    config.write_text(RULE.format(threshold=threshold))

    quiet = sync(settings, emulator, config)
    assert quiet.exit_code == 0, quiet.stdout + quiet.stderr
    assert "no alert firing" in quiet.stdout

    push = math.ceil(0.10 * eligible)
    attended = [
        row[0]
        for row in query(
            settings,
            "select event_id from analytics.fct_events "
            f"where is_past and final_state = 'booked' order by event_id limit {push}",
        )
    ]
    with client_for(emulator) as client:
        client.event_no_show_list(attended)

    fired = sync(settings, emulator, config)
    check = run(settings, emulator, config, "alerts", "check", "--json")

    assert fired.exit_code == 7, fired.stdout + fired.stderr
    assert f"no-show rate above {threshold}" in fired.stdout
    assert check.returncode == 7, check.stderr
    assert '"numerator": ' + str(no_shows + push) in check.stdout


def test_alerts_are_checked_after_a_sync_refused_on_one_endpoint_that_built_the_models(
    tmp_path_factory, tmp_path, emulator
):
    # A key without the right to read the ACL: exit 4, everything else loaded and modelled.
    settings = synced_copy(tmp_path_factory, tmp_path, emulator)
    config = tmp_path / "config.toml"
    config.write_text(RULE.format(threshold=0))
    emulator.set_readings("forbidden=acl_list")
    try:
        done = sync(settings, emulator, config)
    finally:
        emulator.set_readings("")

    assert done.exit_code == 4, done.stdout + done.stderr
    assert "no-show rate above 0" in done.stdout
