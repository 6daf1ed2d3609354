"""Drift: a background writer changes data while a client pages."""

from __future__ import annotations

import time

from simplymeet.emulator import DriftSpec, Store, start_emulator
from simplymeet.emulator.drift import DriftWriter
from tests.emulator_support import api_http


def test_drift_changes_data_while_paging():
    with start_emulator(events=400, drift="rate=200,seed=2") as emu:
        client = api_http(emu)
        first = client.get(
            "/event/", params={"onPage": 100, "orderField": "updatedAt", "orderDirection": "desc"}
        ).json()
        deadline = time.monotonic() + 5
        while sum(emu.drift_stats.values()) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
        second = client.get(
            "/event/", params={"onPage": 100, "orderField": "updatedAt", "orderDirection": "desc"}
        ).json()
        stats = emu.stop_drift()
        client.close()
    assert sum(stats.values()) >= 40
    assert {"insert", "delete"} <= set(stats)
    assert first["items"][0]["id"] != second["items"][0]["id"] or first["meta"] != second["meta"]
    assert (
        first["meta"]["itemsCount"] != second["meta"]["itemsCount"]
        or stats["insert"] == stats["delete"]
    )


def test_stopping_drift_stops_writes():
    with start_emulator(events=100, drift="rate=100") as emu:
        time.sleep(0.2)
        emu.stop_drift()
        generation = emu.store.generation
        time.sleep(0.2)
        assert emu.store.generation == generation


def test_drift_can_start_on_a_running_emulator(emulator):
    emulator.start_drift("rate=100,insert=1,update=0,delete=0")
    deadline = time.monotonic() + 5
    while emulator.store.event_count == 2000 and time.monotonic() < deadline:
        time.sleep(0.05)
    emulator.stop_drift()
    assert emulator.store.event_count > 2000


def test_drift_is_seeded():
    def run() -> list[str]:
        writer = DriftWriter(Store(seed=1, events=200), DriftSpec(seed=9))
        return [writer.step() for _ in range(50)]

    first = run()
    assert first == run()
    assert {"insert", "delete", "notes"} <= set(first)


def test_drift_spec_parses():
    assert DriftSpec.parse("rate=50,insert=0.5,update=0.5,delete=0") == DriftSpec(50, 0.5, 0.5, 0)


def test_future_stamped_event_sorts_first_and_later_writes_sort_below_it(emulator, emulator_http):
    from simplymeet.emulator.drift import stamp_future

    stamp = stamp_future(emulator.store, 7, ahead_seconds=86_400)
    emulator_http.put("/event/notes/8", json={"notes": "written after the future stamp"})
    params = {"onPage": 2, "orderField": "updatedAt", "orderDirection": "desc"}
    first, second = emulator_http.get("/event/", params=params).json()["items"]
    assert (first["id"], second["id"]) == (7, 8)
    assert first["updatedAt"] > second["updatedAt"]
    assert stamp > time.time() + 86_000


def test_continuous_drift_includes_deletes_and_keeps_going(emulator):
    emulator.start_drift("rate=200,seed=4")
    deadline = time.monotonic() + 10
    while emulator.drift_stats.get("delete", 0) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stats = emulator.stop_drift()
    assert stats.get("delete", 0) >= 3
    assert stats.get("insert", 0) > 0
