"""When a failed call is sent again, and how long to wait first.

What is retried (attempts = 1 + `max_retries`):

| failure                                           | GET  | PUT, POST, DELETE |
|---------------------------------------------------|------|-------------------|
| connection refused, connect timeout, pool timeout | yes  | yes               |
| 429 Too Many Requests                             | yes  | yes (*)           |
| 500, 502, 503 (with or without Retry-After), 504  | yes  | no                |
| 408, read timeout (stalled server)                | yes  | no                |
| dropped connection, truncated or non-JSON body    | yes  | no                |
| 501, 505, any other 4xx, a JSON body of the wrong shape | no | no            |

(*) unless `resend_writes_on_429` is off: the write-back turns it off, and reads the target
back before it sends the write again (a server may count a quota after the work, or a
gateway's limiter answer on the way back).

Why writes are different: every write of this API has side effects beyond its state. A
cancel, a no-show, a reschedule or an invitation e-mails invitees; a POST creates something
(an event, a poll, a link, a vote) and the API has no idempotency key. Sending a write twice
may e-mail twice or create twice, whatever its verb: PUT and DELETE are idempotent in state,
not in what they cause. So a write is resent here only when the server certainly did not act
on it: the connection was never made (nothing was sent), or it answered 429, a refusal before
processing. A 5xx (a 503 with Retry-After included: a server may apply the write and still
answer 503), a timeout or a connection dropped after the request was written may each hide an
applied write; those raise at once, with `reached_server=True` on a TransportError, so the
caller can read the target's state and send again only if the write did not happen (the
write-back does: `writeback/execute.py`).

Delays: exponential backoff with full jitter (a uniform draw in [0, min(max_delay,
backoff_base * 2**(n-1))]), so concurrent tasks that failed together do not come back together.
A Retry-After (seconds or HTTP-date) on 429/503 is a floor: we never come back sooner. A
Retry-After longer than `max_retry_after` is not waited for; the error is raised with it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import random
from dataclasses import dataclass

from simplymeet.client.errors import (
    ProtocolError,
    RateLimitedError,
    ServerError,
    SimplyMeetError,
    TransportError,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that only read: retried on every transient failure."""

# Not transient: retrying cannot change the answer.
_PERMANENT_5XX = frozenset({501, 505})


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry and how long to wait between attempts.

    >>> RetryPolicy(max_retries=3, backoff_base=0.1, max_delay=2.0)  # doctest: +ELLIPSIS
    RetryPolicy(max_retries=3, backoff_base=0.1, max_delay=2.0, max_retry_after=120.0, ...)
    """

    max_retries: int = 5
    backoff_base: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    resend_writes_on_429: bool = True
    """Whether a write answered 429 is sent again here, as a refusal before processing."""

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.backoff_base < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("delays must be >= 0")

    def next_delay(
        self,
        error: SimplyMeetError,
        method: str,
        attempt: int,
        rng: random.Random | None = None,
    ) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to give up and raise `error`."""
        if attempt > self.max_retries or not is_retriable(error, method):
            return None
        if (
            isinstance(error, RateLimitedError)
            and not self.resend_writes_on_429
            and method.upper() not in SAFE_METHODS
        ):
            return None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None and retry_after > self.max_retry_after:
            return None
        delay = self.backoff(attempt, rng)
        return max(delay, retry_after) if retry_after is not None else delay

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full-jitter exponential backoff after the `attempt`-th failure (1-based)."""
        ceiling = min(self.max_delay, self.backoff_base * 2 ** max(attempt - 1, 0))
        return (rng or random).uniform(0.0, ceiling)


def is_retriable(error: SimplyMeetError, method: str) -> bool:
    """Whether `error` may be retried for `method`, per the table in this module's docstring."""
    safe = method.upper() in SAFE_METHODS
    if isinstance(error, TransportError):
        return safe or not error.reached_server
    if isinstance(error, ProtocolError):
        return safe and error.invalid_json
    if isinstance(error, RateLimitedError):
        return True
    if isinstance(error, ServerError):
        return safe and error.status not in _PERMANENT_5XX
    return error.status == 408 and safe


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date.

    >>> parse_retry_after("2")
    2.0
    >>> now = dt.datetime(2026, 11, 25, 12, 0, 0, tzinfo=dt.UTC)
    >>> parse_retry_after("Wed, 25 Nov 2026 12:00:05 GMT", now)
    5.0
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - (now or dt.datetime.now(dt.UTC))).total_seconds()
    if not math.isfinite(seconds):  # nan, inf: no time to wait for
        return None
    return max(0.0, seconds)
