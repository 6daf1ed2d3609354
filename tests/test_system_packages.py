"""The tests needing Debian's packages wait for `.ci/run`'s install of them, and only those."""

from __future__ import annotations

import threading
import time

from tests.system_packages import READY_ENV, wait_for_system_packages


def test_without_an_install_running_nothing_waits(monkeypatch):
    monkeypatch.delenv(READY_ENV, raising=False)
    started = time.monotonic()
    wait_for_system_packages(wait_s=30)
    assert time.monotonic() - started < 1


def test_a_test_needing_the_packages_waits_until_the_install_has_ended(monkeypatch, tmp_path):
    ready = tmp_path / "ready"
    monkeypatch.setenv(READY_ENV, str(ready))
    timer = threading.Timer(0.5, ready.touch)
    timer.start()
    try:
        wait_for_system_packages(wait_s=30)
        assert ready.exists()
    finally:
        timer.cancel()


def test_an_install_that_never_ends_is_waited_for_only_as_long_as_the_bound(monkeypatch, tmp_path):
    monkeypatch.setenv(READY_ENV, str(tmp_path / "never"))
    started = time.monotonic()
    wait_for_system_packages(wait_s=0.3)
    assert 0.3 <= time.monotonic() - started < 5
