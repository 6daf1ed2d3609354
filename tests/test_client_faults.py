"""Faults between client and server: recovered from when safe, reported clearly when not.

The emulator injects each fault kind (`FaultSpec`); `max=N` makes the first N requests in scope
fail, so every test here is deterministic.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import pytest

from simplymeet.client import (
    RateLimitedError,
    RetryPolicy,
    ServerError,
    SimplyMeetClient,
    TransportError,
)
from simplymeet.emulator import RunningEmulator, start_emulator
from tests.loopback import QuietHandler, behind, served, serving

EVENTS = 600


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A seeded emulator with EVENTS events, enough for many pages, started per test."""
    with start_emulator(seed=1, events=EVENTS) as emu:
        yield emu


FAST = RetryPolicy(max_retries=3, backoff_base=0.001, max_delay=0.01)
TIMEOUT = 0.3
"""Client timeout: short, so a stalled server (stall_s=5) becomes a timeout quickly."""

POLL = {"eventTypeId": 1, "name": "Planning", "availability": [{"date": "2030-01-07 10:00:00"}]}


def pause_asked(handler: QuietHandler, status: int, seconds: str) -> None:
    """Answer `status` (429, or 503) with `Retry-After: seconds` and no body."""
    handler.send_response(status)
    handler.send_header("Retry-After", seconds)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def logged(emulator: RunningEmulator, endpoint: str, expect: int, **match: Any) -> int:
    """Requests logged for `endpoint`, waiting briefly: the log lags the response a little."""
    deadline = time.monotonic() + 2.0
    while (count := emulator.count(endpoint, **match)) < expect and time.monotonic() < deadline:
        time.sleep(0.005)
    return count


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[SimplyMeetClient]:
    with SimplyMeetClient(
        emulator.base_url, api_key=emulator.api_key, retry=FAST, timeout=TIMEOUT
    ) as client:
        yield client


def polls_named(client: SimplyMeetClient, name: str) -> int:
    return sum(1 for poll in client.poll_list() if poll.name == name)


# --- GET: every fault kind is recovered from --------------------------------------------------

FAULTS = ["429", "500", "502", "503", "stall", "drop", "truncate"]


@pytest.mark.parametrize("kind", FAULTS)
def test_get_recovers_from_each_fault_kind(
    kind: str, emulator: RunningEmulator, client: SimplyMeetClient
):
    emulator.set_faults(f"{kind}=1,max=2,retry_after=0,stall_s=5,endpoints=event_list")
    page = client.event_list(on_page=50)
    assert len(page.items) == 50
    assert client.stats.retries == 2
    assert client.stats.by_endpoint["event_list"].requests == 3


def test_a_response_hook_sees_each_attempt_s_status_until_removed(
    emulator: RunningEmulator, client: SimplyMeetClient
):
    emulator.set_faults("503=1,max=1,retry_after=0,endpoints=current_user_get")
    statuses: list[int] = []
    remove = client.on_response(lambda response: statuses.append(response.status_code))
    client.current_user_get()
    remove()
    client.current_user_get()
    assert statuses == [503, 200]


def test_page_iteration_recovers_from_mixed_faults(emulator: RunningEmulator):
    emulator.set_faults("429=0.1,500=0.1,drop=0.05,truncate=0.05,retry_after=0,seed=3")
    query = {"orderField": "id", "orderDirection": "asc"}
    # No stall among these faults: the short TIMEOUT would only turn a loaded machine's slow
    # answer into one more fault (seen in a full suite: four in a row on one page).
    with SimplyMeetClient(
        emulator.base_url, api_key=emulator.api_key, retry=FAST, timeout=10
    ) as client:
        ids = [item["id"] for item in client.iter_items("event_list", query, on_page=50)]
        assert ids == list(range(1, EVENTS + 1))
        assert client.stats.retries > 0


@pytest.mark.parametrize(
    ("kind", "error", "detail"),
    [
        ("500", ServerError, "HTTP 500"),
        ("429", RateLimitedError, "rate limited"),
        ("stall", TransportError, "timed out"),
        ("drop", TransportError, "connection was dropped"),
        ("truncate", TransportError, "cut short"),
    ],
)
def test_a_fault_that_persists_is_reported_after_the_retries(
    kind: str, error: type, detail: str, emulator: RunningEmulator, client: SimplyMeetClient
):
    emulator.set_faults(f"{kind}=1,retry_after=0,stall_s=5,endpoints=event_get")
    with pytest.raises(error) as info:
        client.event_get(1)
    assert info.value.attempts == FAST.max_retries + 1
    assert detail in str(info.value) and "after 4 attempts" in str(info.value)
    assert info.value.method == "GET" and info.value.url.endswith("/panel/api/event/1")


def test_retry_after_is_waited_for(emulator: RunningEmulator, client: SimplyMeetClient):
    emulator.set_faults("429=1,max=1,retry_after=1,endpoints=current_user_get")
    started = time.monotonic()
    client.current_user_get()
    assert time.monotonic() - started >= 1.0


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_is_retried_then_reported():
    client = SimplyMeetClient(f"http://127.0.0.1:{closed_port()}", api_key="k", retry=FAST)
    with client, pytest.raises(TransportError) as info:
        client.event_create({"eventType": 1, "invitee": {"email": "a@example.com"}})
    assert info.value.kind == "connect" and info.value.reached_server is False
    assert client.stats.requests == FAST.max_retries + 1  # even a POST: nothing was sent


# --- POST: never sent twice when it may have been applied --------------------------------------


def test_a_post_answered_after_an_interim_answer_is_sent_once_and_its_answer_read(
    emulator: RunningEmulator,
):
    hints = b"HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n"
    with (
        behind(emulator, served, interim=hints) as url,
        SimplyMeetClient(url, api_key=emulator.api_key, retry=FAST, timeout=5) as client,
    ):
        created = client.poll_create(POLL)
        assert created is not None and created.name == "Planning"
        assert client.stats.by_endpoint["poll_create"].requests == 1
        assert polls_named(client, "Planning") == 1


@pytest.mark.parametrize("kind", ["500", "502", "stall", "drop", "truncate"])
def test_post_is_not_retried_once_the_server_may_have_applied_it(
    kind: str, emulator: RunningEmulator, client: SimplyMeetClient
):
    emulator.set_faults(f"{kind}=1,max=1,after_apply=1,stall_s=5,endpoints=poll_create")
    with pytest.raises((ServerError, TransportError)) as info:
        client.poll_create(POLL)
    assert "Not retried" in str(info.value)
    assert client.stats.by_endpoint["poll_create"].requests == 1
    if kind != "stall":  # a stalled request is logged only when the stall ends
        assert logged(emulator, "poll_create", 1) == 1
    assert polls_named(client, "Planning") == 1  # the server did create it, exactly once


def test_post_is_retried_after_a_429(emulator: RunningEmulator, client: SimplyMeetClient):
    emulator.set_faults("429=1,max=2,retry_after=0,endpoints=poll_create")
    assert client.poll_create(POLL) is not None
    assert logged(emulator, "poll_create", 3) == 3
    assert polls_named(client, "Planning") == 1


@pytest.mark.parametrize("endpoint", ["poll_create", "event_cancel"])
def test_a_write_is_not_retried_after_a_503_even_with_retry_after(
    endpoint: str, emulator: RunningEmulator, client: SimplyMeetClient
):
    active = client.event_list(on_page=1, filter={"state": "active"}).items[0].id
    emulator.set_faults(f"503=1,max=1,after_apply=1,retry_after=0,endpoints={endpoint}")
    with pytest.raises(ServerError) as info:
        if endpoint == "poll_create":
            client.poll_create(POLL)
        else:
            client.event_cancel(active)
    assert info.value.attempts == 1 and "Not retried" in str(info.value)
    assert logged(emulator, endpoint, 1) == 1


def test_post_still_rate_limited_after_the_retries_is_reported(
    emulator: RunningEmulator, client: SimplyMeetClient
):
    emulator.set_faults("429=1,retry_after=0,endpoints=poll_create")
    with pytest.raises(RateLimitedError):
        client.poll_create(POLL)
    assert logged(emulator, "poll_create", 4, status=429) == 4
    assert polls_named(client, "Planning") == 0


@pytest.mark.parametrize("kind", ["500", "502", "stall", "drop", "truncate"])
def test_put_is_not_retried_once_the_server_may_have_applied_it(
    kind: str, emulator: RunningEmulator, client: SimplyMeetClient
):
    active = client.event_list(on_page=1, filter={"state": "active"}).items[0].id
    assert active is not None
    emulator.set_faults(f"{kind}=1,max=1,after_apply=1,stall_s=5,endpoints=event_cancel")
    with pytest.raises((ServerError, TransportError)) as info:
        client.event_cancel(active)
    # The first attempt canceled it (and e-mailed the invitee): no second cancel goes out.
    assert "Not retried" in str(info.value) and info.value.attempts == 1
    assert client.stats.by_endpoint["event_cancel"].requests == 1
    assert client.event_get(active).state == "canceled"


def test_put_is_retried_after_a_429(emulator: RunningEmulator, client: SimplyMeetClient):
    active = client.event_list(on_page=1, filter={"state": "active"}).items[0].id
    assert active is not None
    emulator.set_faults("429=1,max=2,retry_after=0,endpoints=event_cancel")
    client.event_cancel(active)
    assert logged(emulator, "event_cancel", 3) == 3
    assert client.event_get(active).state == "canceled"


# --- client-side rate limit -------------------------------------------------------------------


def test_rate_limit_spaces_requests(emulator: RunningEmulator):
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key, rate_limit=20) as client:
        started = time.monotonic()
        for _ in range(10):
            client.current_user_get()
        assert time.monotonic() - started >= 9 / 20 - 0.02


def test_rate_limit_is_shared_by_concurrent_pages(emulator: RunningEmulator):
    with SimplyMeetClient(
        emulator.base_url, api_key=emulator.api_key, rate_limit=20, concurrency=4
    ) as client:
        started = time.monotonic()
        pages = list(client.iter_pages("event_list", on_page=30))  # 600 events: 20 pages
        assert len(pages) == 20
        assert time.monotonic() - started >= 19 / 20 - 0.02


# --- stats ------------------------------------------------------------------------------------


def test_stats_count_requests_retries_and_bytes_by_endpoint(
    emulator: RunningEmulator, client: SimplyMeetClient
):
    emulator.set_faults("500=1,max=1,endpoints=event_get")
    client.event_get(1)
    client.current_user_get()
    stats = client.stats.as_dict()
    assert (stats["requests"], stats["retries"], stats["errors"]) == (3, 1, 0)
    assert stats["by_endpoint"]["event_get"]["requests"] == 2
    assert stats["by_endpoint"]["event_get"]["retries"] == 1
    assert stats["by_endpoint"]["current_user_get"]["bytes_received"] > 100
    assert "3 requests (1 retries" in client.stats.summary()


@pytest.mark.parametrize("status", [429, 503])
def test_a_retry_after_holds_back_the_write_another_thread_sends_during_it(status: int):
    # Thread A's write is answered 429 (or 503, overloaded) with Retry-After: 3. Thread B,
    # between two writes when it came, sends its next one a second later: it must go out
    # after the pause, or the writes never pause. (A's 503 write is not sent again: it may
    # have been applied.)
    answered = threading.Event()
    arrived: dict[str, float] = {}

    class Limited(QuietHandler):
        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if not arrived:
                arrived["pause"] = time.monotonic()
                pause_asked(self, status, "3")
                answered.set()
                return
            arrived.setdefault(self.path.rsplit("/", 1)[-1], time.monotonic())
            self.reply(200, b"{}", "application/json")

    with serving(Limited) as base_url:
        client = SimplyMeetClient(base_url, api_key="k", concurrency=2, retry=FAST)
        with client, ThreadPoolExecutor(2) as pool:
            pool.submit(client.event_notes, 1, notes="a")
            assert answered.wait(10)
            time.sleep(1.0)
            pool.submit(client.event_notes, 2, notes="b").result(timeout=30)

    assert arrived["2"] - arrived["pause"] >= 2.5


def test_a_write_waiting_for_its_turn_under_a_rate_limit_waits_out_a_retry_after_given_meanwhile():
    # With `rate_limit = 1`, write 2 waits for its token while write 1 is answered 429 with
    # Retry-After: 3. It checked for a pause before it waited: it must look again before it
    # goes out, or it is sent in the very pause the server asked for.
    answered = threading.Event()
    arrived: dict[str, float] = {}

    class Limited(QuietHandler):
        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.endswith("/1") and "pause" not in arrived:
                time.sleep(0.3)  # write 2 is waiting for its token by now
                arrived["pause"] = time.monotonic()
                pause_asked(self, 429, "3")
                answered.set()
                return
            arrived.setdefault(self.path.rsplit("/", 1)[-1], time.monotonic())
            self.reply(200, b"{}", "application/json")

    with serving(Limited) as base_url:
        client = SimplyMeetClient(base_url, api_key="k", concurrency=2, rate_limit=1, retry=FAST)
        with client, ThreadPoolExecutor(2) as pool:
            client.event_notes(3, notes="the key is accepted: writes go out side by side")
            first = pool.submit(client.event_notes, 1, notes="a")
            time.sleep(0.1)
            pool.submit(client.event_notes, 2, notes="b").result(timeout=30)
            first.result(timeout=30)

    assert answered.is_set()
    assert arrived["2"] - arrived["pause"] >= 2.5


def test_writes_waiting_under_a_rate_limit_wait_out_every_pause_given_meanwhile():
    # One token a second, three writes, none sent again after a 429. The first is answered
    # 429 (Retry-After: 2) and so is the next one sent: a write that waited out the first
    # pause and then its token must look again before it goes out, as a second pause began
    # while it waited.
    pauses: list[tuple[float, float]] = []
    arrived: list[float] = []
    lock = threading.Lock()

    class Limited(QuietHandler):
        def do_PUT(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            now = time.monotonic()
            with lock:
                limited = not self.path.endswith("/9") and len(pauses) < 2
                (pauses.append((now, now + 2)) if limited else arrived.append(now))
            if limited:
                pause_asked(self, 429, "2")
                return
            self.reply(200, b"{}", "application/json")

    once = RetryPolicy(max_retries=0, backoff_base=0.001, max_delay=0.01)
    with serving(Limited) as base_url:
        client = SimplyMeetClient(base_url, api_key="k", concurrency=3, rate_limit=1, retry=once)
        with client, ThreadPoolExecutor(3) as pool:
            client.event_notes(9, notes="the key is accepted: writes go out side by side")
            arrived.clear()
            writes = [pool.submit(client.event_notes, n, notes="x") for n in (1, 2, 3)]
            wait(writes, timeout=60)

    assert len(pauses) == 2 and len(arrived) == 1
    assert [t for t in arrived for start, end in pauses if start < t < end - 0.1] == []


def test_a_retry_after_past_the_limit_holds_back_no_other_request():
    # Retry-After: 86400 is not waited for: the request gives up at once, and a pause that
    # buys nothing must not hold the client's other requests either.
    limited = threading.Event()

    class Closed(QuietHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/panel/api/event/"):
                limited.set()  # before the answer: the client may check it the moment it has it
                pause_asked(self, 429, "86400")
                return
            self.reply(200, b'{"id": 1}', "application/json")

    retry = RetryPolicy(max_retries=2, backoff_base=0.001, max_delay=0.01, max_retry_after=20)
    with (
        serving(Closed) as base_url,
        SimplyMeetClient(base_url, api_key="k", concurrency=2, retry=retry) as client,
    ):
        with pytest.raises(RateLimitedError, match="Retry-After 86400"):
            client.call("event_get", path_params={"id": 1})
        assert limited.is_set()
        started = time.monotonic()
        client.call("current_user_get")
        held = time.monotonic() - started

    assert held < retry.max_retry_after / 2
