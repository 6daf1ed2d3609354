"""`simplymeet demo` keeps to its own DuckDB file; no sync loads into another pipeline's file.

The commands run in-process (`tests/cli_support.py`): what they print, write and exit with is
the behaviour, not the process.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import Result

from simplymeet.cli.demo_cmd import DEMO_DB, DEMO_PIPELINE
from simplymeet.emulator import start_emulator
from simplymeet.sync.ownership import pipelines_in
from tests.cli_support import run_cli, sync_env
from tests.sync_support import settings_for
from tests.synced_template import synced_copy


def _demo(folder: Path, *args: str) -> Result:
    """`simplymeet demo *args` run from `folder`, no `SIMPLYMEET_*` set; `--events 300` unless
    `args` give the events."""
    given = any(arg == "--events" or arg.startswith("--events=") for arg in args)
    events = () if given else ("--events", "300")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        return run_cli("demo", *events, *args)


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory) -> Path:
    """A folder where `simplymeet demo` ran once with its defaults."""
    folder = tmp_path_factory.mktemp("demo")
    done = _demo(folder)
    assert done.exit_code == 0, done.stderr
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


def test_a_write_back_on_the_demo_file_refreshes_it_through_the_demo_pipeline(
    demo_folder, tmp_path
):
    # README's closed loop runs write-backs with --db simplymeet-demo.duckdb.
    folder = tmp_path / "demo"
    shutil.copytree(demo_folder, folder)
    with start_emulator(seed=7, events=300) as emulator, pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        done = run_cli(
            "event", "notes", "--ids", "1", "--notes", "call back", "--db", DEMO_DB,
            "--base-url", emulator.base_url, env={"SIMPLYMEET_API_KEY": emulator.api_key},
        )  # fmt: skip

    assert done.exit_code == 0, done.output
    assert "warehouse refreshed" in done.stdout
    assert pipelines_in(folder / DEMO_DB) == {DEMO_PIPELINE}
    with duckdb.connect(str(folder / DEMO_DB), read_only=True) as con:
        assert con.execute("select notes from raw.events where id = 1").fetchall() == [
            ("call back",)
        ]


def test_a_write_back_on_another_pipeline_s_file_exits_2_before_sending(tmp_path_factory, tmp_path):
    with start_emulator(seed=2, events=50) as emulator:
        settings = synced_copy(tmp_path_factory, tmp_path, emulator)
        env = sync_env(settings, emulator.api_key, SIMPLYMEET_WAREHOUSE__PIPELINE_NAME="another")
        done = run_cli("event", "notes", "--ids", "1", "--notes", "never sent", env=env)
        sent = emulator.count("event_notes")

    assert done.exit_code == 2, done.output
    assert "holds data of pipeline 'test_sync'" in done.stderr
    assert sent == 0


def test_a_dry_run_on_another_pipeline_s_file_previews_as_it_would_anywhere(
    tmp_path_factory, tmp_path
):
    # Nothing would load into the file: no refresh to refuse.
    with start_emulator(seed=2, events=50) as emulator:
        settings = synced_copy(tmp_path_factory, tmp_path, emulator)
        env = sync_env(settings, emulator.api_key, SIMPLYMEET_WAREHOUSE__PIPELINE_NAME="another")
        done = run_cli("event", "notes", "--ids", "1", "--notes", "x", "--dry-run", env=env)

    assert done.exit_code == 0, done.output
    assert "dry run: nothing sent" in done.stdout


def test_sync_into_the_demo_file_exits_2_naming_both_pipelines(demo_folder, tmp_path):
    demo_db = demo_folder / DEMO_DB
    before = demo_db.read_bytes()
    with start_emulator(seed=2, events=50) as emulator:
        settings = settings_for(tmp_path, emulator)
        env = sync_env(settings, emulator.api_key)
        env["SIMPLYMEET_WAREHOUSE__DUCKDB_PATH"] = str(demo_db)
        done = run_cli("sync", env=env)
        assert emulator.count() == 0

    assert done.exit_code == 2
    [line] = done.stderr.strip().splitlines()
    assert repr(DEMO_PIPELINE) in line
    assert repr("test_sync") in line
    assert demo_db.read_bytes() == before


def test_demo_refuses_a_file_a_real_sync_wrote_and_keeps_it(tmp_path_factory, tmp_path, emulator):
    # A file a real sync wrote: a copy of the shared synced template (tests/README.md).
    settings = synced_copy(tmp_path_factory, tmp_path, emulator)
    warehouse = Path(settings.get("warehouse", "duckdb_path"))
    before = warehouse.read_bytes()

    done = _demo(tmp_path, "--db", str(warehouse))

    assert done.exit_code == 2
    assert "'test_sync'" in done.stderr
    assert warehouse.read_bytes() == before


@pytest.mark.parametrize("kind", ["text", "duckdb"])
def test_demo_refuses_a_file_that_is_not_a_demo_warehouse_and_keeps_it(tmp_path, kind):
    mine = tmp_path / "mine.db"
    if kind == "text":
        mine.write_text("my notes\n")
    else:
        with duckdb.connect(str(mine)) as con:
            con.execute("create table budget as select 42 as amount")
    before = mine.read_bytes()

    done = _demo(tmp_path, "--db", str(mine))

    assert done.exit_code == 2, done.stdout + done.stderr
    assert "choose another" in done.stderr and "--db" in done.stderr
    assert mine.read_bytes() == before


@pytest.mark.parametrize(
    "option", [("--seed", "-1"), ("--events", "99999999999999")], ids=["seed", "events"]
)
def test_a_demo_option_out_of_range_exits_2_naming_it_and_keeps_the_last_demo(
    demo_folder, tmp_path, option
):
    # Once, the last demo was removed first, then the emulator refused the value (exit 1).
    folder = tmp_path / "demo"
    shutil.copytree(demo_folder, folder)
    before = (folder / DEMO_DB).read_bytes()

    done = _demo(folder, *option)

    assert done.exit_code == 2
    assert f"Invalid value for '{option[0]}'" in done.stderr
    assert (folder / DEMO_DB).read_bytes() == before


def test_a_demo_interrupted_while_it_builds_keeps_the_last_demo_whole(demo_folder, tmp_path):
    folder = tmp_path / "demo"
    shutil.copytree(demo_folder, folder)
    before = (folder / DEMO_DB).read_bytes()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPLYMEET_")}
    demo = subprocess.Popen(
        [str(Path(sys.executable).with_name("simplymeet")), "demo", "--events", "2000"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Interrupted once the new demo's file exists: its sync is loading or its models
        # are building.
        building = folder / f".{Path(DEMO_DB).stem}.building.duckdb"
        deadline = time.monotonic() + 120
        while not building.exists() and demo.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert building.exists(), "the demo never began building its file"
        demo.send_signal(signal.SIGINT)
        _, stderr = demo.communicate(timeout=60)
    finally:
        demo.kill()

    assert demo.returncode == 130, stderr
    assert (folder / DEMO_DB).read_bytes() == before
    assert not building.exists()
    assert pipelines_in(folder / DEMO_DB) == {DEMO_PIPELINE}
