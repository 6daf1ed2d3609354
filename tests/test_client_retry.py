"""The retry policy: what is retried for which method, and how long it waits."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from simplymeet.client.errors import (
    AuthError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    SimplyMeetError,
    TransportError,
    ValidationError,
)
from simplymeet.client.retry import RetryPolicy, is_retriable, parse_retry_after


def server(status: int, retry_after: float | None = None) -> ServerError:
    return ServerError("boom", status=status, retry_after=retry_after)


def transport(kind: str, reached: bool) -> TransportError:
    return TransportError("net", kind=kind, reached_server=reached)  # type: ignore[arg-type]


_TRANSIENT = [
    server(500),
    server(502),
    server(503),
    server(503, retry_after=2),
    server(504),
    RateLimitedError("slow down", status=429),
    transport("timeout", True),
    transport("dropped", True),
    transport("truncated", True),
    transport("connect", False),
    ProtocolError("cut", invalid_json=True),
    SimplyMeetError("request timeout", status=408),
]


@pytest.mark.parametrize("error", _TRANSIENT, ids=repr)
def test_get_retries_every_transient_failure(error):
    assert is_retriable(error, "GET")


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
@pytest.mark.parametrize(
    "error",
    [
        server(500),
        server(502),
        server(503),
        server(503, retry_after=2),  # a server may apply a write and still answer 503
        server(504),
        transport("timeout", True),
        transport("dropped", True),
        transport("truncated", True),
        ProtocolError("cut", invalid_json=True),
        SimplyMeetError("request timeout", status=408),
    ],
    ids=repr,
)
def test_a_write_is_not_retried_when_the_server_may_have_applied_it(method, error):
    assert not is_retriable(error, method)


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
@pytest.mark.parametrize(
    "error",
    [transport("connect", False), RateLimitedError("slow down", status=429)],
    ids=repr,
)
def test_a_write_is_retried_when_the_server_certainly_did_not_act(method, error):
    assert is_retriable(error, method)


@pytest.mark.parametrize(
    "error",
    [
        AuthError("no", reason="invalid_key", status=401),
        AuthError("no", reason="no_paid_plan", status=403),
        NotFoundError("gone", status=404),
        ValidationError("bad", status=422),
        ProtocolError("wrong shape"),
        server(501),
        server(505),
    ],
    ids=repr,
)
def test_permanent_failures_are_never_retried(error):
    assert not is_retriable(error, "GET")


def test_policy_gives_up_after_max_retries():
    policy = RetryPolicy(max_retries=2, backoff_base=0.01)
    error = server(500)
    assert policy.next_delay(error, "GET", 1) is not None
    assert policy.next_delay(error, "GET", 2) is not None
    assert policy.next_delay(error, "GET", 3) is None


def test_backoff_is_full_jitter_under_an_exponential_ceiling():
    policy = RetryPolicy(backoff_base=0.5, max_delay=4.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        delays = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.8  # spread over the range, not a fixed step
        assert min(delays) < ceiling * 0.2


def test_retry_after_is_a_floor_on_the_delay():
    policy = RetryPolicy(backoff_base=0.01, max_delay=0.05)
    error = RateLimitedError("slow", status=429, retry_after=1.5)
    delays = [policy.next_delay(error, "GET", 1, random.Random(i)) for i in range(50)]
    assert all(d is not None and d >= 1.5 for d in delays)


def test_retry_after_beyond_the_limit_is_not_waited_for():
    policy = RetryPolicy(max_retry_after=10)
    assert policy.next_delay(RateLimitedError("slow", retry_after=600), "GET", 1) is None


def test_parse_retry_after_reads_seconds():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-4") == 0.0


def test_parse_retry_after_reads_an_http_date():
    now = dt.datetime(2026, 11, 25, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("Wed, 25 Nov 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 25 Nov 2026 11:00:00 GMT", now) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "nan", "inf"])
def test_parse_retry_after_ignores_what_it_cannot_read(value):
    assert parse_retry_after(value) is None


def test_policy_rejects_negative_settings():
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
