"""A client-side rate limit: a token bucket shared by every request of a client, and the
server's own pause (`ServerHold`), which every request of a client honours.

Each request, retries included, takes one token. Tokens refill at `rate` per second up to
`burst`. A caller that finds the bucket empty reserves the next token and sleeps until it is
due, outside any lock, so concurrent callers queue in arrival order without holding each
other up while they wait. `burst=1` (the default) spaces requests evenly: n requests take at
least (n - 1) / rate seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class _Bucket:
    """The arithmetic of the bucket, without clock or sleeping, so it can be tested exactly."""

    def __init__(self, rate: float, burst: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0 requests per second")
        if burst < 1:
            raise ValueError("burst must be >= 1")
        self.rate = float(rate)
        self.burst = float(burst)
        self._tokens = self.burst
        self._updated: float | None = None

    def reserve(self, now: float) -> float:
        """Take a token at time `now`; return how long the caller must wait before using it."""
        if self._updated is not None:
            elapsed = max(0.0, now - self._updated)
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._updated = now
        # Tokens may go negative: that is the queue of callers already promised a later slot.
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class TokenBucket:
    """Thread-safe rate limit for the sync client.

    >>> bucket = TokenBucket(rate=20)
    >>> bucket.acquire()  # returns at once the first time, then spaces calls 50 ms apart
    0.0
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._bucket = _Bucket(rate, burst)
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    @property
    def rate(self) -> float:
        return self._bucket.rate

    def acquire(self) -> float:
        """Wait for a token; return the seconds waited."""
        with self._lock:
            delay = self._bucket.reserve(self._clock())
        if delay > 0:
            self._sleep(delay)
        return delay


class ServerHold:
    """A time before which no request of the client goes out, set by the server's 429 (or
    a 503 with `Retry-After`: overloaded).

    A 429's `Retry-After` is for the client, not only for the request it answered: a bulk
    job's other threads, between two writes when it came, would otherwise send theirs during
    the pause (the emulator's `limit` counts them as `early`).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._until = 0.0
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def hold(self, seconds: float) -> None:
        """Let no request out for `seconds` from now (a later hold already set stands)."""
        with self._lock:
            self._until = max(self._until, self._clock() + seconds)

    def wait(self) -> float:
        """Wait until no hold stands; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                delay = self._until - self._clock()
            if delay <= 0:
                return waited
            self._sleep(delay)
            waited += delay
