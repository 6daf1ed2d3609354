"""`simplymeet demo` keeps to its own DuckDB file; no sync loads into another pipeline's file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from simplymeet.cli.demo_cmd import DEMO_DB, DEMO_PIPELINE
from simplymeet.emulator import start_emulator
from simplymeet.sync.ownership import pipelines_in
from tests.sync_support import settings_for
from tests.test_sync_resilience import cli_env, simplymeet


def _demo(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPLYMEET_")}
    return subprocess.run(
        simplymeet("demo", "--events", "300", *args),
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory) -> Path:
    """A folder where `simplymeet demo` ran once with its defaults."""
    folder = tmp_path_factory.mktemp("demo")
    done = _demo(folder)
    assert done.returncode == 0, done.stderr
    (folder / "stdout.txt").write_text(done.stdout)
    return folder


def test_demo_writes_its_own_file_not_the_sync_default(demo_folder):
    assert (demo_folder / DEMO_DB).exists()
    assert not (demo_folder / "simplymeet.duckdb").exists()
    assert pipelines_in(demo_folder / DEMO_DB) == {DEMO_PIPELINE}


def test_demo_ends_with_commands_that_exist_after_install(demo_folder):
    out = (demo_folder / "stdout.txt").read_text()

    assert f'simplymeet sql --db {DEMO_DB} "select * from analytics.kpi_summary"' in out
    assert f"dlt pipeline --pipelines-dir .simplymeet/demo-pipelines {DEMO_PIPELINE} info" in out
    assert "duckdb " + DEMO_DB not in out


def test_sync_into_the_demo_file_exits_2_naming_both_pipelines(demo_folder, tmp_path):
    demo_db = demo_folder / DEMO_DB
    before = demo_db.read_bytes()
    with start_emulator(seed=2, events=50) as emulator:
        settings = settings_for(tmp_path, emulator)
        env = cli_env(settings, emulator.api_key)
        env["SIMPLYMEET_WAREHOUSE__DUCKDB_PATH"] = str(demo_db)
        done = subprocess.run(
            simplymeet("sync"), env=env, capture_output=True, text=True, timeout=180
        )
        assert emulator.count() == 0

    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert repr(DEMO_PIPELINE) in line
    assert repr("test_sync") in line
    assert demo_db.read_bytes() == before


def test_demo_refuses_a_file_a_real_sync_wrote_and_keeps_it(tmp_path):
    with start_emulator(seed=2, events=50) as emulator:
        settings = settings_for(tmp_path, emulator)
        synced = subprocess.run(
            simplymeet("sync"),
            env=cli_env(settings, emulator.api_key),
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert synced.returncode == 0, synced.stderr
    warehouse = Path(settings.get("warehouse", "duckdb_path"))
    before = warehouse.read_bytes()

    done = _demo(tmp_path, "--db", str(warehouse))

    assert done.returncode == 2
    assert "'test_sync'" in done.stderr
    assert warehouse.read_bytes() == before
