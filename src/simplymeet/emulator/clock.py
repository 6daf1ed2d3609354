"""The store's clock: wall time that never goes backwards and never repeats."""

from __future__ import annotations

import threading
import time


class StoreClock:
    """Microsecond timestamps for writes, strictly increasing and never before `floor_s`.

    Responses show whole seconds, but the store orders by the microseconds, so two writes in
    the same second still sort in the order they happened, and a write is always later than
    every seeded timestamp even when the machine's clock is behind the anchor.
    """

    def __init__(self, floor_s: int) -> None:
        self._last_us = floor_s * 1_000_000
        self._lock = threading.Lock()

    def now_us(self) -> int:
        """The time of a new write, in microseconds since the epoch."""
        with self._lock:
            now = time.time_ns() // 1000
            if now <= self._last_us:
                now = self._last_us + 1
            self._last_us = now
            return now

    def now_s(self) -> int:
        """The time of a new write, in whole seconds."""
        return self.now_us() // 1_000_000
