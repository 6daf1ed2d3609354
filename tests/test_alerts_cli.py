"""`simplymeet alerts check` as a scheduler sees it: the table, --json, exit codes, webhook."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from simplymeet.cli.main import cli
from simplymeet.models.sample import SampleWarehouse
from tests.alerts_support import webhook_listener
from tests.synced_template import built_once
from tests.test_models_period_over_period import AS_OF, WEEK_2, bookings

KEY = "sk-CLI-LEAKCHECK-4d1e"
RULE = """
[[alerts]]
name = "no-shows above {threshold}"
metric = "no_show"
above = {threshold}
min_sample_size = 20
"""


def _build_warehouse(folder: Path) -> None:
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1, timezone="UTC", full_name="Ada")
    raw.event_type(10, owner=1, name="Intro")
    bookings(raw, WEEK_2, 40, 12)
    con = duckdb.connect(str(folder / "warehouse.duckdb"))
    raw.build(con)
    con.close()


@pytest.fixture
def warehouse(tmp_path_factory, tmp_path, monkeypatch) -> Path:
    """A built warehouse file: 40 past bookings in the week of 2025-06-09, 12 no-shows (30%).

    A private copy of one built once per test run (`built_once`): the build is most of a
    test's cost. The working directory is `tmp_path`, so no secrets file of the checkout is
    read.
    """
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SIMPLYMEET_ALERTS_WEBHOOK_URL", raising=False)
    template = built_once(tmp_path_factory, "alerts-cli-warehouse", _build_warehouse)
    path = tmp_path / "warehouse.duckdb"
    shutil.copy2(template / "warehouse.duckdb", path)
    return path


def check(warehouse: Path, threshold: float | None, *args: str, **env: str):
    config = warehouse.parent / "config.toml"
    config.write_text(RULE.format(threshold=threshold) if threshold is not None else "")
    return CliRunner().invoke(
        cli,
        ["alerts", "check", "--config", str(config), "--db", str(warehouse), *args],
        env={"SIMPLYMEET_API_KEY": KEY, **env},
    )


def test_a_firing_alert_is_printed_and_exits_7(warehouse):
    done = check(warehouse, 0.2)

    assert done.exit_code == 7, done.output
    assert "no-shows above 0.2" in done.output
    assert "30.0%" in done.output
    assert "12/40" in done.output


def test_a_mart_an_earlier_version_built_exits_2_saying_to_sync(warehouse):
    # Built before [[accounts]]: the mart has no `account` column for the rules to read.
    con = duckdb.connect(str(warehouse))
    con.execute(
        "create or replace table analytics.kpi_period_over_period as "
        "select * exclude (account) from analytics.kpi_period_over_period"
    )
    con.close()

    done = check(warehouse, 0.2)

    assert done.exit_code == 2, done.output
    assert "built by an earlier version" in done.output
    assert "simplymeet sync" in done.output


def test_no_firing_alert_exits_0(warehouse):
    done = check(warehouse, 0.5)

    assert done.exit_code == 0, done.output
    assert "no alert firing (1 rule checked)" in done.output


def test_json_lists_the_firing_alerts(warehouse):
    done = check(warehouse, 0.2, "--json")

    assert done.exit_code == 7
    (alert,) = json.loads(done.stdout)
    assert alert["rule"] == "no-shows above 0.2"
    assert alert["period_start"] == "2025-06-09"
    assert (alert["numerator"], alert["denominator"]) == (12, 40)


def test_json_is_an_empty_list_when_nothing_fires(warehouse):
    done = check(warehouse, 0.5, "--json")

    assert done.exit_code == 0
    assert json.loads(done.stdout) == []


def test_a_missing_warehouse_exits_2(warehouse, tmp_path):
    done = check(tmp_path / "nowhere.duckdb", 0.2)

    assert done.exit_code == 2
    assert "nowhere.duckdb" in done.output


def test_a_warehouse_without_models_exits_2_saying_what_to_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()

    done = check(empty, 0.2)

    assert done.exit_code == 2
    assert "models build" in done.output


def test_a_bad_rule_exits_2(warehouse):
    done = check(warehouse, 7)

    assert done.exit_code == 2
    assert "[[alerts]] #1" in done.output


def test_firing_alerts_are_delivered_to_the_webhook_without_the_key(warehouse):
    with webhook_listener(500) as hook:
        done = check(warehouse, 0.2, SIMPLYMEET_ALERTS_WEBHOOK_URL=hook.url)

    assert done.exit_code == 7, done.output
    assert len(hook.bodies) == 2  # a 500, then delivered
    assert "no-shows above 0.2" in hook.json()["text"] + json.dumps(hook.json()["blocks"])
    assert all(KEY.encode() not in body for body in hook.bodies)


def test_the_webhook_url_is_not_logged_even_verbose(warehouse, caplog):
    caplog.set_level(logging.DEBUG)
    with webhook_listener() as hook:
        config = warehouse.parent / "config.toml"
        config.write_text(RULE.format(threshold=0.2))
        done = CliRunner().invoke(
            cli,
            ["-vv", "alerts", "check", "--config", str(config), "--db", str(warehouse)],
            env={"SIMPLYMEET_API_KEY": KEY, "SIMPLYMEET_ALERTS_WEBHOOK_URL": hook.url},
        )

    assert done.exit_code == 7, done.output
    assert len(hook.bodies) == 1
    logged = [record.getMessage() for record in caplog.records]
    assert not [line for line in logged if "secret-token" in line]


def test_the_webhook_url_can_come_from_the_secrets_file(warehouse):
    with webhook_listener() as hook:
        secrets = warehouse.parent / ".simplymeet" / "secrets.toml"
        secrets.parent.mkdir()
        secrets.write_text(f'alerts_webhook_url = "{hook.url}"\n')
        done = check(warehouse, 0.2)

    assert done.exit_code == 7, done.output
    assert len(hook.bodies) == 1


def test_nothing_is_posted_when_nothing_fires(warehouse):
    with webhook_listener() as hook:
        done = check(warehouse, 0.5, SIMPLYMEET_ALERTS_WEBHOOK_URL=hook.url)

    assert done.exit_code == 0
    assert hook.bodies == []


def test_no_deliver_skips_the_webhook(warehouse):
    with webhook_listener() as hook:
        done = check(warehouse, 0.2, "--no-deliver", SIMPLYMEET_ALERTS_WEBHOOK_URL=hook.url)

    assert done.exit_code == 7
    assert hook.bodies == []


def test_a_webhook_that_keeps_failing_exits_5_after_printing_the_alerts(warehouse):
    with webhook_listener(500, 500, 500, 500, 500) as hook:
        done = check(warehouse, 0.2, SIMPLYMEET_ALERTS_WEBHOOK_URL=hook.url)

    assert done.exit_code == 5
    assert "no-shows above 0.2" in done.output
    assert "kept failing" in done.output
    assert len(hook.bodies) == 4
