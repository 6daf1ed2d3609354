"""The token bucket, on a fake clock (exact) and on the real one (a bounded lower limit)."""

from __future__ import annotations

import threading
import time

import pytest

from simplymeet.client.ratelimit import TokenBucket


class FakeClock:
    """A clock that only moves when something sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bucket_spaces_requests_at_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=20, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        bucket.acquire()
    assert clock.now - 100.0 == pytest.approx(9 / 20)


def test_bucket_allows_a_burst_then_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=5, clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(7)]
    assert waits[:5] == [0.0] * 5
    assert waits[5:] == pytest.approx([0.1, 0.1])


def test_bucket_refills_while_idle_but_not_beyond_burst():
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=2, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.acquire()
    clock.now += 60  # a long pause earns at most `burst` tokens
    assert [bucket.acquire() for _ in range(3)] == pytest.approx([0.0, 0.0, 0.1])


def test_bucket_queues_concurrent_callers_in_turn():
    clock = FakeClock()
    bucket = TokenBucket(rate=4, clock=clock, sleep=lambda s: None)
    # Without sleeping, every caller still gets a later slot than the one before.
    assert [bucket.acquire() for _ in range(4)] == pytest.approx([0.0, 0.25, 0.5, 0.75])


def test_bucket_rejects_nonpositive_rate():
    with pytest.raises(ValueError):
        TokenBucket(rate=0)


def test_bucket_holds_the_rate_across_threads():
    bucket = TokenBucket(rate=50)
    start = time.monotonic()
    threads = [
        threading.Thread(target=lambda: [bucket.acquire() for _ in range(3)]) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    # 12 tokens at 50/s with burst 1: at least 11 intervals of 20 ms.
    assert time.monotonic() - start >= 11 / 50 - 0.01
