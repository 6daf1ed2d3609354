"""`simplymeet sync` as an operator or a scheduler sees it: exit codes, one-line errors, no key."""

from __future__ import annotations

import subprocess
from pathlib import Path

from simplymeet.emulator import start_emulator
from tests.sync_support import settings_for
from tests.test_sync_resilience import cli_env, simplymeet

SECRET = "sk-LEAKCHECK-7f3a9c2e5d"


def _run(settings, key: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = cli_env(settings, key)
    environment.update(env)
    return subprocess.run(
        simplymeet("sync", *args),
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_sync_prints_a_summary_and_exits_0(tmp_path):
    with start_emulator(seed=1, events=300) as emulator:
        done = _run(settings_for(tmp_path, emulator), emulator.api_key, "--no-models")
    assert done.returncode == 0, done.stderr
    assert "events" in done.stdout
    assert "requests" in done.stdout


def test_wrong_key_exits_4_with_one_line_saying_so(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        done = _run(settings_for(tmp_path, emulator), "not-the-key")
    assert done.returncode == 4
    [line] = done.stderr.strip().splitlines()
    assert "key" in line.lower()


def test_key_without_paid_plan_exits_4_naming_the_plan(tmp_path):
    with start_emulator(seed=1, events=10, paid=False) as emulator:
        done = _run(settings_for(tmp_path, emulator), emulator.api_key)
    assert done.returncode == 4
    assert "plan" in done.stderr.lower()


def test_unknown_resource_exits_2_and_sends_nothing(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        done = _run(settings_for(tmp_path, emulator), emulator.api_key, "--resources", "eventz")
        assert emulator.count() == 0
    assert done.returncode == 2
    assert "eventz" in done.stderr


def test_missing_key_exits_2(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        done = _run(settings_for(tmp_path, emulator), "", HOME=str(tmp_path))
    assert done.returncode == 2
    assert "SIMPLYMEET_API_KEY" in done.stderr


def test_unreachable_api_exits_5(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        settings = settings_for(tmp_path, emulator)
    # The emulator is stopped: its port now refuses connections.
    done = _run(settings, "k", SIMPLYMEET_API__MAX_RETRIES="1")
    assert done.returncode == 5
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "could not connect" in errors[0]


def test_api_key_never_reaches_warehouse_pipeline_folder_or_logs(tmp_path):
    with start_emulator(seed=1, events=300, api_key=SECRET) as emulator:
        settings = settings_for(tmp_path, emulator)
        done = _run(settings, SECRET, RUNTIME__LOG_LEVEL="DEBUG")
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    for path in Path(tmp_path).rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
