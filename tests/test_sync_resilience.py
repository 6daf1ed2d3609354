"""The sync converges whatever happens around it: writes while paging, kills, overlaps."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote

import pytest

from simplymeet.emulator import event_writes, start_emulator
from simplymeet.sync.lock import pipeline_lock
from tests.sync_support import (
    EVENTS_ONLY,
    REPO,
    assert_events_match,
    live_event_dtos,
    query,
    run_sync,
    settings_for,
)


def cli_env(settings, api_key: str) -> dict[str, str]:
    """Environment for `simplymeet` in a subprocess, pointing at the same warehouse."""
    env = dict(os.environ)
    env.update(
        {
            "SIMPLYMEET_API_KEY": api_key,
            "SIMPLYMEET_API__BASE_URL": settings.get("api", "base_url"),
            "SIMPLYMEET_API__CONCURRENCY": str(settings.get("api", "concurrency")),
            "SIMPLYMEET_WAREHOUSE__DUCKDB_PATH": settings.get("warehouse", "duckdb_path"),
            "SIMPLYMEET_WAREHOUSE__PIPELINES_DIR": settings.get("warehouse", "pipelines_dir"),
            "SIMPLYMEET_WAREHOUSE__PIPELINE_NAME": settings.get("warehouse", "pipeline_name"),
            "SIMPLYMEET_SYNC__BUILD_MODELS": "false",
            "SIMPLYMEET_CONFIG": str(REPO / "config.toml"),
        }
    )
    return env


def simplymeet(*args: str) -> list[str]:
    return [sys.executable, "-m", "simplymeet.cli.main", *args]


def test_sync_after_drift_while_paging_converges_exactly(tmp_path):
    with start_emulator(seed=3, events=3000, latency_ms=40) as emulator:
        settings = settings_for(tmp_path, emulator, reconcile_every_hours=1000.0)
        emulator.start_drift("rate=40,insert=0.3,update=0.5,delete=0.2,seed=5")
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        drift = emulator.stop_drift()
        assert sum(drift.values()) > 0
        # Quiet means no write in the second the count is answered (stamps are whole seconds):
        # a run straight after the last write may see that second still open.
        time.sleep(1.1)
        # Deletes are found by the reconcile pass, not by the scan (the API has no feed of
        # them): a plain run, the server quiet, reconciles as its total count differs.
        summary = run_sync(settings, emulator, resources=EVENTS_ONLY)
        assert summary.reconciled
        assert_events_match(settings, emulator)


def test_drift_while_paging_does_not_hold_the_cursor_back(tmp_path):
    with start_emulator(seed=3, events=2000, latency_ms=40) as emulator:
        settings = settings_for(tmp_path, emulator, lag_seconds=2)
        emulator.start_drift("rate=10,seed=2")
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        emulator.stop_drift()
        writes = sum(emulator.drift_stats.values())
        emulator.reset_log()
        run_sync(settings, emulator, resources=EVENTS_ONLY)
    # The first run proved its scan despite the writes, so the next one reads what changed
    # while it ran (plus the page that reaches past it), not all twenty pages again. (Its
    # reconcile, for the deletes among the writes, asks by date and by id.)
    scanned = emulator.count("event_list", where=lambda r: "filter" not in unquote(r.query))
    assert scanned <= math.ceil(writes / 100) + 3


@pytest.mark.parametrize("kill_after_seconds", [1.5, 4.0])
def test_sync_killed_midway_then_rerun_converges_without_duplicates(tmp_path, kill_after_seconds):
    with start_emulator(seed=4, events=4000, latency_ms=150) as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", concurrency=2)
        # A real process, really killed: no `finally`, no atexit, no dlt cleanup runs.
        proc = subprocess.Popen(
            simplymeet("sync", "--no-models", "--resources", "events"),
            env=cli_env(settings, emulator.api_key),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(kill_after_seconds)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        [(rows, ids)] = query(settings, "select count(*), count(distinct id) from raw.events")
        assert rows == ids == 4000
        assert_events_match(settings, emulator)


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_sync_sent_one_signal_mid_extract_stops_with_128_plus_it_and_a_rerun_lands_all(
    tmp_path, sent
):
    with start_emulator(seed=4, events=800, latency_ms=150) as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", concurrency=2)
        proc = subprocess.Popen(
            simplymeet("sync", "--no-models", "--resources", "events"),
            env=cli_env(settings, emulator.api_key),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while emulator.received("event_list") < 3:
            assert proc.poll() is None, proc.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the sync never got going"
            time.sleep(0.01)
        proc.send_signal(sent)  # once: an orchestrator's stop, or one Ctrl-C
        assert proc.wait(timeout=60) == 128 + sent
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        assert_events_match(settings, emulator)


def test_a_first_sync_while_deletes_shrink_the_list_on_a_server_refusing_pages_past_it(tmp_path):
    # Page 1 counted pages the deletes took away; the server refuses them (422).
    with start_emulator(
        seed=7, events=800, latency_ms=400, readings="past_last_page=422"
    ) as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", concurrency=4)
        emulator.start_drift("rate=350,insert=0,update=0,delete=1,seed=2")
        try:
            run_sync(settings, emulator, resources=EVENTS_ONLY)
        finally:
            emulator.stop_drift()
        live = {dto["id"] for dto in live_event_dtos(emulator) if dto["id"] <= 800}
        landed = {row[0] for row in query(settings, "select id from raw.events")}
        refused = emulator.count("event_list", status=422)

    assert refused and live <= landed


def _when(condition: Callable[[], bool], then: Callable[[], None]) -> threading.Thread:
    """A thread that runs `then` once `condition` holds (checked for at most 20 s)."""

    def wait_then() -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if condition():
                then()
                return
            time.sleep(0.002)

    thread = threading.Thread(target=wait_then)
    thread.start()
    return thread


def test_events_created_while_read_newest_first_with_a_count_alone_push_none_out(tmp_path):
    # A count alone in the meta, every event read newest first (orderField=id refused):
    # bookings made while paging push the oldest onto a page the first count left out.
    with start_emulator(
        seed=4, events=300, latency_ms=300, readings="meta=count_only,order_fields=updatedAt"
    ) as emulator:
        settings = settings_for(tmp_path, emulator)
        before = {dto["id"] for dto in live_event_dtos(emulator)}
        drift = _when(
            lambda: emulator.count("event_list", status=200) >= 1,
            lambda: emulator.start_drift("rate=30,insert=1,update=0,delete=0,seed=3"),
        )
        try:
            run_sync(settings, emulator, resources=EVENTS_ONLY)
        finally:
            drift.join()
            emulator.stop_drift()
        landed = {row[0] for row in query(settings, "select id from raw.events")}

    assert before <= landed


def test_a_page_refused_after_a_delete_while_read_newest_first_loses_no_row(tmp_path):
    # The newest event, already read, is deleted while page 3 is asked for: it no longer
    # exists, the server refuses it (404), and the oldest row moved onto page 2.
    with start_emulator(
        seed=4, events=201, readings="order_fields=updatedAt,past_last_page=404"
    ) as emulator:
        settings = settings_for(tmp_path, emulator)
        emulator.set_faults("latency=400,endpoints=event_list")
        dtos = live_event_dtos(emulator)
        newest = max(dtos, key=lambda dto: (dto["updatedAt"] or "", dto["id"]))["id"]
        before = {dto["id"] for dto in dtos} - {newest}

        def delete_newest() -> None:
            with emulator.store.lock:
                event_writes.delete_event(emulator.store, newest)

        # by id refused (1), newest first pages 1 and 2 answered, page 3 read
        deleter = _when(lambda: emulator.received("event_list") >= 4, delete_newest)
        try:
            run_sync(settings, emulator, resources=EVENTS_ONLY)
        finally:
            deleter.join()
        landed = {row[0] for row in query(settings, "select id from raw.events")}

    assert before <= landed


def test_second_sync_of_the_same_pipeline_exits_with_code_3(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        settings = settings_for(tmp_path, emulator)
        # The installed command's exit code is the behaviour: a process of its own.
        with pipeline_lock(Path(settings.get("warehouse", "pipelines_dir")), "test_sync"):
            done = subprocess.run(
                simplymeet("sync"),
                env=cli_env(settings, emulator.api_key),
                capture_output=True,
                text=True,
                timeout=120,
            )
    assert done.returncode == 3
    assert "another sync" in done.stderr


def test_packages_left_pending_are_loaded_before_the_next_extract(tmp_path):
    import datetime as dt

    from simplymeet.sync import SyncApi, make_pipeline, simplymeet_source
    from tests.sync_support import client_for

    with start_emulator(seed=2, events=500) as emulator:
        settings = settings_for(tmp_path, emulator)
        pipeline = make_pipeline(settings)
        with client_for(emulator) as client:
            # A run that died after normalize: its package never reached the warehouse.
            source = simplymeet_source(SyncApi(client), dt.datetime.now(dt.UTC), ["events"])
            pipeline.extract(source)
            pipeline.normalize()
            event_id = emulator.store.all_event_ids()[0]
            client.event_notes(event_id, notes="written after the dead run")
        summary = run_sync(settings, emulator, resources=["events"])
        assert summary.recovered_pending
        assert_events_match(settings, emulator)
