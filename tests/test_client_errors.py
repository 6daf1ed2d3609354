"""What a caller sees when a call fails, and that the key never shows in any of it."""

from __future__ import annotations

import logging
import pickle
import traceback
from collections.abc import Iterator

import pytest

from simplymeet.client import (
    AuthError,
    NotFoundError,
    RetryPolicy,
    SimplyMeetClient,
    SimplyMeetError,
    ValidationError,
)
from simplymeet.emulator import RunningEmulator, start_emulator

SECRET = "sk-emulator-7f3c9a1e5b"
FAST = RetryPolicy(max_retries=3, backoff_base=0.001, max_delay=0.01)


@pytest.fixture
def secret_emulator() -> Iterator[RunningEmulator]:
    """An emulator whose key is a recognisable secret, with a few events."""
    with start_emulator(events=50, api_key=SECRET) as emu:
        yield emu


@pytest.fixture
def client(secret_emulator: RunningEmulator) -> Iterator[SimplyMeetClient]:
    with SimplyMeetClient(secret_emulator.base_url, api_key=SECRET, retry=FAST) as client:
        yield client


def test_wrong_key_raises_auth_error_saying_the_key_is_wrong(secret_emulator: RunningEmulator):
    client = SimplyMeetClient(secret_emulator.base_url, api_key="not-the-key")
    with client, pytest.raises(AuthError) as info:
        client.current_user_get()
    assert info.value.reason == "invalid_key" and info.value.status == 401
    assert "wrong or missing" in str(info.value)
    assert "not-the-key" not in str(info.value)


def test_account_without_paid_plan_raises_auth_error_saying_so():
    with start_emulator(events=5, paid=False) as emu:
        client = SimplyMeetClient(emu.base_url, api_key=emu.api_key)
        with client, pytest.raises(AuthError) as info:
            client.event_list()
    assert info.value.reason == "no_paid_plan" and info.value.status == 403
    assert "paid subscription" in str(info.value)


def test_a_403_from_one_endpoint_after_the_key_was_accepted_names_that_endpoint(
    secret_emulator: RunningEmulator, client: SimplyMeetClient
):
    secret_emulator.set_readings("forbidden=acl_list")
    client.current_user_get()
    with pytest.raises(AuthError) as info:
        client.acl_list()
    assert info.value.reason == "endpoint_refused" and info.value.status == 403
    assert "may not read this one (acl_list)" in str(info.value)
    assert "plan" not in str(info.value)


def test_auth_errors_are_not_retried(secret_emulator: RunningEmulator):
    with SimplyMeetClient(secret_emulator.base_url, api_key="nope", retry=FAST) as client:
        with pytest.raises(AuthError):
            client.current_user_get()
        assert client.stats.requests == 1 and client.stats.retries == 0


def test_missing_key_is_refused_before_any_request(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SIMPLYMEET_API_KEY", raising=False)
    with pytest.raises(AuthError, match="SIMPLYMEET_API_KEY") as info:
        SimplyMeetClient("http://127.0.0.1:9")
    assert info.value.reason == "invalid_key"


def test_key_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, secret_emulator: RunningEmulator
):
    monkeypatch.setenv("SIMPLYMEET_API_KEY", SECRET)
    with SimplyMeetClient(secret_emulator.base_url) as client:
        assert client.current_user_get().id is not None


def test_unknown_event_raises_not_found(client: SimplyMeetClient):
    with pytest.raises(NotFoundError) as info:
        client.event_get(999_999)
    error = info.value
    assert (error.status, error.method, error.endpoint) == (404, "GET", "event_get")
    assert error.url is not None and error.url.endswith("/panel/api/event/999999")


def test_validation_error_carries_the_servers_field_errors(client: SimplyMeetClient):
    active = client.event_list(on_page=1, filter={"state": "active"}).items[0].id
    client.event_cancel(active)
    with pytest.raises(ValidationError) as info:
        client.event_cancel_list([active])
    assert info.value.status == 422
    assert info.value.field_errors == {"ids.0": [f"event {active} is already canceled"]}
    assert "ids.0" in str(info.value)


def test_invalid_query_value_is_a_validation_error(client: SimplyMeetClient):
    with pytest.raises(ValidationError) as info:
        client.event_list(filter={"state": "no-such-state"})
    assert info.value.field_errors


def test_key_never_appears_in_logs_errors_or_reprs(
    secret_emulator: RunningEmulator, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)  # every logger, httpx and urllib3 included
    seen: list[str] = []
    errors: list[SimplyMeetError] = []
    with SimplyMeetClient(secret_emulator.base_url, api_key=SECRET, retry=FAST) as client:
        seen += [repr(client), str(client), repr(client.__dict__), repr(client._http.auth)]
        secret_emulator.set_faults("500=1,max=2")  # retries get logged
        client.event_list(on_page=5)
        secret_emulator.set_faults(None)
        for call in (lambda: client.event_get(999_999), lambda: client.event_cancel_list([999])):
            try:
                call()
            except SimplyMeetError as exc:
                errors.append(exc)
    with SimplyMeetClient(secret_emulator.base_url, api_key=SECRET + "x") as wrong:
        try:
            wrong.current_user_get()
        except SimplyMeetError as exc:
            errors.append(exc)
    assert len(errors) == 3
    for exc in errors:
        seen += [str(exc), repr(exc), repr(vars(exc)), "".join(traceback.format_exception(exc))]
        seen.append(repr(pickle.loads(pickle.dumps(exc)).__dict__))
    seen.append(caplog.text)
    assert "retry" in caplog.text  # the logs did record the retries
    assert not [text for text in seen if SECRET in text]


def test_errors_survive_pickling_with_their_details(client: SimplyMeetClient):
    with pytest.raises(NotFoundError) as info:
        client.event_get(999_999)
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is NotFoundError
    assert (copy.status, copy.url, str(copy)) == (404, info.value.url, str(info.value))
