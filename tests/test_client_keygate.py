"""A refused key costs one request, however many calls are in flight."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from simplymeet.client import AuthError, RetryPolicy, SimplyMeetClient, TransportError
from simplymeet.client.keygate import UNREACHABLE_FOR, KeyGate, ThreadKeyGate
from simplymeet.emulator import start_emulator
from tests.loopback import QuietHandler, serving


def test_refused_key_stops_every_thread_after_one_request(emulator):
    with SimplyMeetClient(emulator.base_url, api_key="wrong", concurrency=8) as client:
        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(client.current_user_get) for _ in range(8)]
        outcomes = [future.exception() for future in futures]

    assert all(isinstance(error, AuthError) for error in outcomes)
    assert emulator.count() == 1


def test_accepted_key_lets_every_call_through(emulator):
    client = SimplyMeetClient(emulator.base_url, api_key=emulator.api_key, concurrency=8)
    with client, ThreadPoolExecutor(8) as pool:
        users = list(pool.map(lambda _: client.current_user_get(), range(8)))

    assert len({user.id for user in users}) == 1
    assert emulator.count() == 8


def test_a_403_from_one_endpoint_after_the_key_was_accepted_leaves_the_others_open(emulator):
    emulator.set_readings("forbidden=acl_list")
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client:
        client.current_user_get()
        with pytest.raises(AuthError):
            client.acl_list()
        assert client.current_user_get().id is not None


TOGETHER = 4
"""Calls that queue behind the first one, while the key is not known yet."""


@pytest.fixture
def meeting_server() -> Iterator[str]:
    """A loopback server that answers its first request at once and every later one only when
    `TOGETHER` of them are in flight at the same time (503 after 10 s without)."""
    barrier = threading.Barrier(TOGETHER, timeout=10)
    first = threading.Event()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if first.is_set():
                try:
                    barrier.wait()
                except threading.BrokenBarrierError:
                    self.reply(503)
                    return
            first.set()
            self.reply(200, b"{}", "application/json")

    with serving(Handler) as base_url:
        try:
            yield base_url
        finally:
            barrier.abort()


def test_calls_queued_while_the_key_was_unknown_go_out_together_once_it_is_accepted(
    meeting_server,
):
    """They queued one at a time behind the first request; once it is answered, the key is
    known and nothing but the client's concurrency should hold them back."""
    client = SimplyMeetClient(meeting_server, api_key="k", concurrency=8, max_retries=0)
    with client, ThreadPoolExecutor(1 + TOGETHER) as pool:
        answers = list(pool.map(lambda _: client.call("current_user_get"), range(1 + TOGETHER)))

    assert answers == [{}] * (1 + TOGETHER)


def test_plain_http_to_another_host_is_refused_by_the_client_itself():
    with pytest.raises(ValueError, match="allow_insecure_http"):
        SimplyMeetClient("http://192.0.2.2:8080", api_key="k")


def _closed_port() -> str:
    """A loopback URL nothing listens on: every connect is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


FAST = RetryPolicy(max_retries=5, backoff_base=0.01, max_delay=0.05)


def test_a_server_never_reached_fails_every_call_once_one_call_has_given_up():
    client = SimplyMeetClient(_closed_port(), api_key="k", concurrency=8, retry=FAST)
    with client, ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(client.current_user_get) for _ in range(8)]
        outcomes = [future.exception() for future in futures]

    assert all(isinstance(error, TransportError) for error in outcomes)
    assert any(str(error).startswith("the server was never reached (") for error in outcomes)
    assert client.stats.requests < 8 * (1 + FAST.max_retries)


def test_a_server_that_answered_once_is_retried_by_each_call_after_it_goes_away():
    with start_emulator(events=5, seed=2) as emulator:
        client = SimplyMeetClient(emulator.base_url, api_key=emulator.api_key, retry=FAST)
        client.current_user_get()
    with client, ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(client.current_user_get) for _ in range(2)]
        outcomes = [future.exception() for future in futures]

    assert all(isinstance(error, TransportError) for error in outcomes)
    assert [error.attempts for error in outcomes] == [1 + FAST.max_retries] * 2


def test_a_server_found_unreachable_is_tried_again_once_its_time_is_up():
    now = [0.0]
    gate = KeyGate(clock=lambda: now[0])
    refused = TransportError("could not connect", kind="connect", reached_server=False)
    gate.gave_up(refused)
    with pytest.raises(TransportError, match="the server was never reached"):
        gate.check()

    now[0] += UNREACHABLE_FOR

    gate.check()
    assert not gate.closed


def test_retries_wait_in_full_again_once_an_unreachable_servers_time_is_up():
    now = [0.0]
    gate = ThreadKeyGate(clock=lambda: now[0])
    gate.gave_up(TransportError("could not connect", kind="connect", reached_server=False))
    now[0] += UNREACHABLE_FOR

    started = time.monotonic()
    gate.pause(0.2)

    assert time.monotonic() - started >= 0.2
