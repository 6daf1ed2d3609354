"""What a sync leaves on disk besides the warehouse: only what recovery needs, no invitee data."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from simplymeet.cli.errors import EXIT_AUTH
from simplymeet.cli.main import cli
from simplymeet.emulator import start_emulator
from simplymeet.sync import make_pipeline, simplymeet_source
from simplymeet.sync.api import SyncApi
from simplymeet.sync.retention import prune_pipeline_storage
from tests.sync_support import EVENTS_ONLY, client_for, live_event_dtos, run_sync, settings_for
from tests.synced_template import synced_copy
from tests.test_sync_resilience import cli_env, simplymeet


def _emails(value: Any) -> Iterator[str]:
    """Every e-mail address in a served DTO (hosts' and invitees')."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "email" and isinstance(item, str) and "@" in item:
                yield item
            else:
                yield from _emails(item)
    elif isinstance(value, list):
        for item in value:
            yield from _emails(item)


def _files_holding(folder: Path, needles: set[str]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(needle.encode() in data for needle in needles):
                found.append(str(path.relative_to(folder)))
    return found


def _packages(settings: Any, *parts: str) -> list[Path]:
    root = Path(
        settings.get("warehouse", "pipelines_dir"), settings.get("warehouse", "pipeline_name")
    )
    folder = root.joinpath(*parts)
    return [p for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []


def test_two_syncs_leave_no_loaded_package_and_no_invitee_data_on_disk(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
):
    with start_emulator(seed=2, events=300) as emulator:
        # The first sync's warehouse and pipelines folder, as that sync left them.
        settings = synced_copy(tmp_path_factory, tmp_path, emulator)
        with client_for(emulator) as client:
            client.event_cancel(1, reason="changed plans")
        run_sync(settings, emulator)
        emails = {email for dto in live_event_dtos(emulator) for email in _emails(dto)}

    assert emails
    assert _packages(settings, "load", "loaded") == []
    assert _files_holding(Path(settings.get("warehouse", "pipelines_dir")), emails) == []


def test_pending_packages_are_kept_for_the_next_run_to_load(tmp_path):
    with start_emulator(seed=2, events=100) as emulator:
        settings = settings_for(tmp_path, emulator)
        pipeline = make_pipeline(settings)
        with client_for(emulator) as client:
            pipeline.extract(simplymeet_source(SyncApi(client), dt.datetime.now(dt.UTC), ["users"]))
        pipeline.normalize()  # a run killed here has a normalized package and no load

        pruned = prune_pipeline_storage(pipeline)

        assert pruned.loaded_packages == 0
        assert pipeline.has_pending_data
        assert run_sync(settings, emulator, resources=["users"]).recovered_pending


def test_extract_left_by_a_failed_run_is_removed_by_the_next(tmp_path):
    with start_emulator(seed=2, events=100) as emulator:
        settings = settings_for(tmp_path, emulator)
        # A refused key fails the run mid-extract, as a kill would. In process: the command's
        # failure is what matters here, not the process boundary (the kill test below has one).
        failed = CliRunner().invoke(cli, ["sync"], env=cli_env(settings, "wrong-key"))
        assert failed.exit_code == EXIT_AUTH, failed.output
        dead = [p for p in _packages(settings, "normalize") if p.name != "extracted"]
        assert dead, "the failed run left no extract folder: this test needs another way to fail"

        run_sync(settings, emulator, resources=EVENTS_ONLY)

    assert [p for p in _packages(settings, "normalize") if p.name != "extracted"] == []


def test_sync_killed_while_extracting_leaves_nothing_behind_after_the_next_run(tmp_path):
    with start_emulator(seed=4, events=3000, latency_ms=100) as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", concurrency=2)
        # A real process, really killed: nothing of its own cleans up after it.
        proc = subprocess.Popen(
            simplymeet("sync", "--no-models", "--resources", "events"),
            env=cli_env(settings, emulator.api_key),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            # Kill it once its extract has started writing (bounded wait, no timing threshold).
            for _ in range(600):
                if [p for p in _packages(settings, "normalize") if p.name != "extracted"]:
                    break
                if proc.poll() is not None:
                    break
                time.sleep(0.05)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
        assert [p for p in _packages(settings, "normalize") if p.name != "extracted"]

        run_sync(settings, emulator, resources=EVENTS_ONLY)
        emails = {email for dto in live_event_dtos(emulator) for email in _emails(dto)}

    assert [p for p in _packages(settings, "normalize") if p.name != "extracted"] == []
    assert _packages(settings, "load", "loaded") == []
    assert _files_holding(Path(settings.get("warehouse", "pipelines_dir")), emails) == []
