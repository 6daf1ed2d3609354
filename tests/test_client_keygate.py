"""A refused key costs one request, however many calls are in flight."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from simplymeet.client import AuthError, SimplyMeetClient


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


def test_plain_http_to_another_host_is_refused_by_the_client_itself():
    with pytest.raises(ValueError, match="allow_insecure_http"):
        SimplyMeetClient("http://192.0.2.2:8080", api_key="k")
