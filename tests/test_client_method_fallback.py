"""The cancel the reference shows two ways: `put` in its method table, POST in its example.

A server written from either reading answers the other method 405 (or 404, where its router
matches method and path together); the client sends the cancel once more with the other
method (nothing was applied: the router refused it), and the emulator plays each reading
(`readings=cancel_method=put|post`, both by default; `wrong_method=404`).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simplymeet.client import NotFoundError, SimplyMeetClient
from simplymeet.contract import ENDPOINTS
from simplymeet.contract.endpoints import API_PREFIX
from simplymeet.emulator import RunningEmulator, start_emulator


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with start_emulator(events=30, seed=5) as running:
        yield running


def _active(emulator: RunningEmulator) -> int:
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client:
        return client.event_list(on_page=10, filter={"state": "active"}).items[0].id  # type: ignore[return-value]


def _cancels(emulator: RunningEmulator) -> list[tuple[str, int]]:
    return [(r.method, r.status) for r in emulator.requests if "/event/cancel/" in r.path]


def _cancel_one_under(emulator: RunningEmulator, readings: str) -> int:
    """Cancel an active event through a client, the emulator answering under `readings`."""
    event_id = _active(emulator)
    emulator.set_readings(readings)
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client:
        client.event_cancel(event_id, reason="double booked")
    return event_id


@pytest.mark.parametrize("served", ["put", "post"])
def test_a_cancel_reaches_a_server_that_serves_it_on_either_method(
    emulator: RunningEmulator, served: str
) -> None:
    event_id = _cancel_one_under(emulator, f"cancel_method={served}")

    assert emulator.store.event_dto(event_id)["state"] == "canceled"
    assert [m for m, status in _cancels(emulator) if status < 300] == [served.upper()]


@pytest.mark.parametrize("refusal", [405, 404], ids=["405", "404-router-of-method-and-path"])
def test_a_cancel_the_router_refuses_is_sent_once_with_the_other_method(
    emulator: RunningEmulator, refusal: int
) -> None:
    event_id = _cancel_one_under(emulator, f"cancel_method=post,wrong_method={refusal}")

    assert _cancels(emulator) == [("PUT", refusal), ("POST", 204)]
    assert emulator.store.event_dto(event_id)["state"] == "canceled"


def test_a_cancel_of_an_event_not_there_is_refused_404_on_both_methods(
    emulator: RunningEmulator,
) -> None:
    with (
        SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client,
        pytest.raises(NotFoundError),
    ):
        client.event_cancel(999_999, reason="double booked")

    assert _cancels(emulator) == [("PUT", 404), ("POST", 404)]


def test_cancels_after_one_the_router_refused_go_out_with_the_method_it_took(
    emulator: RunningEmulator,
) -> None:
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client:
        ids = [e.id for e in client.event_list(on_page=3, filter={"state": "active"}).items]
        emulator.set_readings("cancel_method=post,wrong_method=404")
        for event_id in ids:
            client.event_cancel(event_id, reason="double booked")  # type: ignore[arg-type]

    assert _cancels(emulator) == [("PUT", 404), ("POST", 204), ("POST", 204), ("POST", 204)]


def test_a_404_on_the_method_the_server_took_before_is_not_sent_with_the_other(
    emulator: RunningEmulator,
) -> None:
    event_id = _active(emulator)

    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client:
        client.event_cancel(event_id, reason="double booked")
        with pytest.raises(NotFoundError):
            client.event_cancel(999_999, reason="double booked")

    assert _cancels(emulator) == [("PUT", 204), ("PUT", 404)]


def test_a_server_reading_put_answers_a_posted_cancel_405_allowing_put(
    emulator: RunningEmulator,
) -> None:
    emulator.set_readings("cancel_method=put")
    url = f"{emulator.base_url}{API_PREFIX}/event/cancel/{_active(emulator)}"

    answer = httpx.post(url, json={"reason": ""}, headers={"X-API-KEY": emulator.api_key})

    assert answer.status_code == 405
    assert answer.headers["Allow"] == "PUT"


def test_a_method_a_known_path_does_not_serve_answers_405_naming_those_it_does(
    emulator: RunningEmulator,
) -> None:
    url = f"{emulator.base_url}{API_PREFIX}/event/cancel-list"

    answer = httpx.post(url, json={"ids": [1]}, headers={"X-API-KEY": emulator.api_key})

    assert answer.status_code == 405
    assert answer.headers["Allow"] == ENDPOINTS["event_cancel_list"].method


def test_the_cancel_command_names_both_methods_it_may_send() -> None:
    from tests.cli_support import run_cli

    done = run_cli("event", "cancel", "--help")

    assert "Sends PUT (or POST after a 405 or 404) /panel/api/event/cancel/{id}." in done.output
