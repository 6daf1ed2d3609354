"""Reading bodies in every shape the reference allows, and errors in every shape we accept."""

from __future__ import annotations

import pytest

from simplymeet.client.decode import (
    CallInfo,
    error_for_status,
    read_success,
    to_models,
    to_result,
)
from simplymeet.client.errors import (
    AuthError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from simplymeet.client.pages import Page
from simplymeet.contract import ENDPOINTS
from simplymeet.contract.dtos import EventDTO, PollDTO

INFO = CallInfo("event_list", "GET", "http://127.0.0.1/panel/api/event/")


@pytest.mark.parametrize("content", [b"", b"  \n", b"null"])
def test_empty_success_bodies_read_as_none(content):
    assert read_success(INFO, 200, content) is None


def test_204_reads_as_none_whatever_follows():
    assert read_success(INFO, 204, b"garbage") is None


def test_non_json_success_body_is_a_retriable_protocol_error():
    with pytest.raises(ProtocolError) as info:
        read_success(INFO, 200, b'{"items": [{"id": 1}, {"id"')
    assert info.value.invalid_json


def test_a_lone_half_of_a_surrogate_pair_reads_as_the_replacement_character():
    body = b'{"items": [{"id": 1, "notes": "ok \\ud83d", "b": "\\ud83d\\ude00"}]}'

    [row] = read_success(INFO, 200, body)["items"]

    assert (row["notes"], row["b"]) == ("ok \ufffd", "\U0001f600")


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_a_body_with_a_number_json_does_not_have_is_still_not_json(constant):
    with pytest.raises(ProtocolError) as info:
        read_success(
            INFO, 200, b'{"items": [{"id": 1, "notes": "\\ud83d", "x": ' + constant + b"}]}"
        )
    assert info.value.invalid_json


@pytest.mark.parametrize(
    "body",
    [
        {"meta": {"pagesCount": 1}, "items": [{"id": 1, "state": "active"}]},
        [{"id": 1, "state": "active"}],
    ],
    ids=["meta-items", "plain-array"],
)
def test_page_endpoints_accept_both_list_shapes(body):
    page = to_result(ENDPOINTS["event_list"], body, INFO)
    assert isinstance(page, Page)
    assert [e.id for e in page.items] == [1]
    assert isinstance(page.items[0], EventDTO)


@pytest.mark.parametrize(
    "body", [[{"id": 3}], {"meta": {"pagesCount": 1}, "items": [{"id": 3}]}], ids=str
)
def test_list_endpoints_accept_both_list_shapes(body):
    polls = to_result(ENDPOINTS["poll_list"], body, INFO)
    assert [type(p) for p in polls] == [PollDTO] and polls[0].id == 3


def test_an_empty_array_reads_as_an_empty_list():
    assert to_result(ENDPOINTS["poll_list"], [], INFO) == []
    assert to_result(ENDPOINTS["event_list"], [], INFO).items == []


@pytest.mark.parametrize("body", [None, {}], ids=str)
def test_a_list_answered_with_nothing_is_a_protocol_error_not_an_empty_list(body):
    # No body, a 204, null or {}: read as no rows, it would replace the rows kept.
    with pytest.raises(ProtocolError, match="answered nothing"):
        to_result(ENDPOINTS["poll_list"], body, INFO)


@pytest.mark.parametrize("body", [None, {}, [], {"anything": 1}], ids=str)
def test_empty_endpoints_ignore_the_body(body):
    assert to_result(ENDPOINTS["event_cancel"], body, INFO) is None


def test_object_get_with_an_empty_body_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="EventDTO"):
        to_result(ENDPOINTS["event_get"], None, INFO)


def test_object_update_with_an_empty_body_reads_as_none():
    endpoint = ENDPOINTS["user_cancellation_policy_update"]
    assert to_result(endpoint, None, INFO) is None
    assert to_result(endpoint, {}, INFO) is None


def test_list_body_of_the_wrong_shape_names_what_arrived():
    with pytest.raises(ProtocolError, match="got an object with data"):
        to_result(ENDPOINTS["event_list"], {"data": []}, INFO)


def test_object_of_the_wrong_types_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="does not match EventDTO"):
        to_result(ENDPOINTS["event_get"], {"id": "not-a-number"}, INFO)


def test_created_events_read_as_a_list_from_one_object_or_many():
    endpoint = ENDPOINTS["event_create"]
    assert [e.id for e in to_models(endpoint, {"id": 5}, INFO)] == [5]
    assert [e.id for e in to_models(endpoint, [{"id": 5}, {"id": 6}], INFO)] == [5, 6]


def test_401_says_the_key_is_wrong_or_missing():
    error = error_for_status(INFO, 401, {}, '{"code":401,"message":"Invalid API key"}')
    assert isinstance(error, AuthError) and error.reason == "invalid_key"
    assert "wrong or missing" in str(error) and "Invalid API key" in str(error)


def test_403_says_the_plan_lacks_api_access():
    error = error_for_status(INFO, 403, {}, '{"error":"Upgrade required"}')
    assert isinstance(error, AuthError) and error.reason == "no_paid_plan"
    assert "paid subscription" in str(error) and "Upgrade required" in str(error)


def test_404_is_not_found():
    assert isinstance(error_for_status(INFO, 404, {}, ""), NotFoundError)


def test_422_carries_field_errors_from_an_errors_map():
    text = '{"code":422,"message":"Validation failed","errors":{"ids":["must not be empty"]}}'
    error = error_for_status(INFO, 422, {}, text)
    assert isinstance(error, ValidationError)
    assert error.field_errors == {"ids": ["must not be empty"]}
    assert "ids: must not be empty" in str(error)


def test_422_carries_field_errors_from_symfony_violations():
    text = '{"title":"Invalid","violations":[{"propertyPath":"invitee.email","title":"bad"}]}'
    error = error_for_status(INFO, 422, {}, text)
    assert isinstance(error, ValidationError)
    assert error.field_errors == {"invitee.email": ["bad"]}


def test_429_keeps_retry_after():
    error = error_for_status(INFO, 429, {"retry-after": "7"}, "")
    assert isinstance(error, RateLimitedError) and error.retry_after == 7.0


def test_5xx_with_an_html_body_is_a_server_error_with_its_text():
    error = error_for_status(INFO, 502, {}, "<html>Bad gateway</html>")
    assert isinstance(error, ServerError)
    assert error.status == 502 and "Bad gateway" in str(error)


def test_errors_keep_method_url_status_and_endpoint():
    error = error_for_status(INFO, 404, {}, "")
    assert (error.method, error.url, error.status, error.endpoint) == (
        "GET",
        INFO.url,
        404,
        "event_list",
    )
