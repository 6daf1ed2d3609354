"""A read sent ahead answers the call that later sends the same request, once, and never
makes a request happen twice."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from simplymeet.client import AuthError, SimplyMeetClient, SimplyMeetError
from simplymeet.client.http import prepare
from simplymeet.client.read_ahead import Read, ReadAhead
from tests.loopback import QuietHandler, serving

# A `{meta, items}` list of one page: one request whoever reads it (a plain array such as the
# users may cost the page after a short one too).
FIRST_PAGE = Read("event_type_list", on_page=100)


def test_a_list_page_read_ahead_answers_the_iteration_without_a_second_request(emulator):
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client:
        client.read_ahead([FIRST_PAGE])
        pages = list(client.iter_pages("event_type_list", on_page=100))
        unused = client.reads_ahead_unused
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as fresh:
        expected = list(fresh.iter_pages("event_type_list", on_page=100))

    assert [page.items for page in pages] == [page.items for page in expected]
    assert emulator.count("event_type_list") == 2  # one per client
    assert unused == 0


def test_a_plain_call_read_ahead_answers_the_call(emulator):
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client:
        client.read_ahead([Read("current_user_get")])
        me = client.call("current_user_get")

    assert me["id"] is not None
    assert emulator.count("current_user_get") == 1


def test_a_read_ahead_is_handed_over_once_then_the_call_goes_out_again(emulator):
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client:
        client.read_ahead([Read("current_user_get")])
        client.call("current_user_get")
        client.call("current_user_get")

    assert emulator.count("current_user_get") == 2


def test_a_call_asking_for_another_page_size_sends_its_own_request(emulator):
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client:
        client.read_ahead([FIRST_PAGE])
        list(client.iter_pages("event_type_list", on_page=50))
        unused = client.reads_ahead_unused

    assert emulator.count("event_type_list") == 2
    assert unused == 1


def test_reading_the_same_request_ahead_twice_sends_it_once(emulator):
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client:
        sent = [client.read_ahead([FIRST_PAGE]), client.read_ahead([FIRST_PAGE])]
        list(client.iter_pages("event_type_list", on_page=100))

    assert sent == [1, 0]
    assert emulator.count("event_type_list") == 1


def test_a_refused_key_read_ahead_raises_to_the_caller_without_a_second_request(emulator):
    with SimplyMeetClient(emulator.base_url, api_key="wrong") as client:
        client.read_ahead([Read("current_user_get"), FIRST_PAGE])
        with pytest.raises(AuthError):
            client.call("current_user_get")
        with pytest.raises(AuthError):
            list(client.iter_pages("event_type_list", on_page=100))

    assert emulator.count() == 1


def test_follow_up_reads_are_held_by_the_time_the_first_answer_is_taken(emulator):
    def then(body):
        return [Read("current_user_get")] if body.get("items") is not None else []

    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client:
        client.read_ahead([Read("event_type_list", on_page=100, then=then)])
        list(client.iter_pages("event_type_list", on_page=100))
        client.call("current_user_get")
        unused = client.reads_ahead_unused

    assert emulator.count("current_user_get") == 1
    assert unused == 0


def test_a_follow_up_that_fails_to_name_reads_leaves_the_first_answer_intact(emulator):
    def then(body):
        raise KeyError("not the shape expected")

    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client:
        client.read_ahead([Read("event_type_list", on_page=100, then=then)])
        pages = list(client.iter_pages("event_type_list", on_page=100))

    assert pages and pages[0].items
    assert emulator.count() == 1


def test_only_gets_are_read_ahead(emulator):
    client = SimplyMeetClient(emulator.base_url, api_key=emulator.api_key)
    with client, pytest.raises(ValueError, match="only GETs"):
        client.read_ahead([Read("event_cancel", path_params={"id": 1})])

    assert emulator.count() == 0


@pytest.fixture
def held_server() -> Iterator[tuple[str, threading.Event, threading.Event, list[str]]]:
    """A loopback server that answers `{}` to each GET only once `release` is set; `arrived`
    is set by the first request, and `paths` lists every request's path."""
    release, arrived = threading.Event(), threading.Event()
    paths: list[str] = []

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            arrived.set()
            release.wait(10)
            self.reply(200, b'{"id": 7}', "application/json")

    with serving(Handler) as base_url:
        try:
            yield base_url, release, arrived, paths
        finally:
            release.set()


def test_a_call_made_while_its_read_is_in_flight_waits_for_that_answer(held_server):
    base_url, release, arrived, paths = held_server
    with SimplyMeetClient(base_url, api_key="k", allow_insecure_http=True) as client:
        client.read_ahead([Read("current_user_get")])
        assert arrived.wait(10)
        threading.Timer(0.2, release.set).start()
        answer = client.call("current_user_get")

    assert answer == {"id": 7}
    assert len(paths) == 1


def test_closing_drops_the_reads_not_yet_sent():
    """On the read-ahead itself: a closed client could not send them anyway, so only the
    queue shows it."""
    entered, release = threading.Event(), threading.Event()
    sent: list[str] = []

    def send(req):
        sent.append(req.info.endpoint)
        entered.set()
        release.wait(10)
        return {}

    ahead = ReadAhead(send, workers=1)
    names = ["current_user_get", "integration_list", "user_cancellation_policy_get"]
    ahead.start([prepare("http://127.0.0.1:9", name) for name in names])
    assert entered.wait(10)
    queued = [ahead.take(prepare("http://127.0.0.1:9", name)) for name in names[1:]]
    ahead.close()
    release.set()

    assert all(future is not None and future.cancelled() for future in queued)
    assert sent == ["current_user_get"]


def test_a_read_cut_by_closing_the_client_is_not_retried(held_server, caplog):
    base_url, release, arrived, _paths = held_server
    client = SimplyMeetClient(base_url, api_key="k", max_retries=5, allow_insecure_http=True)
    client.read_ahead([Read("current_user_get")])
    assert arrived.wait(10)

    with caplog.at_level(logging.INFO, logger="simplymeet.client"):
        client.close()
        release.set()
        with pytest.raises(SimplyMeetError):
            client.call("current_user_get")  # takes the cut read's outcome

    assert not [r for r in caplog.records if "retry" in r.getMessage()]
