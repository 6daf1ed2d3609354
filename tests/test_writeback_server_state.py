"""A write that e-mails people is judged on the booking as the server has it when it is sent,
not as the last sync left it in the warehouse."""

from __future__ import annotations

import datetime as dt

import httpx

from simplymeet.client import SimplyMeetClient
from simplymeet.contract.dates import parse_api_datetime
from simplymeet.writeback import Targets, run_operation
from simplymeet.writeback.execute import RunReport
from tests.loopback import behind, served
from tests.writeback_fixtures import (  # noqa: F401 - fixtures
    Synced,
    synced_fixture,
    synced_template_fixture,
)


def _moved_upstream(synced: Synced, event_id: int) -> tuple[int, int, int]:
    """Move the event to another event type and one of its hosts, as an admin would after
    the last sync; returns (type, host, minutes) it has now."""
    event = synced.event(event_id)
    assert event is not None
    type_id, user_id, minutes = synced.query(
        "select t.id, u.user_id, t.duration from raw.event_types t "
        "join raw.event_types__users u on u.event_type_id = t.id "
        f"where t.id <> {event['eventType']['id']} and u.user_id <> {event['user']['id']} "
        "and t.duration > 0 order by t.id, u.user_id limit 1"
    )[0]
    start = parse_api_datetime(event["scheduledAt"])
    with synced.client() as client:
        client.event_reschedule(
            event_id, start, start + dt.timedelta(minutes=minutes), type_id, user_id
        )
    return type_id, user_id, minutes


def _reschedule(synced: Synced, client: SimplyMeetClient, event_id: int) -> RunReport:
    """A start-only reschedule of one booking through `client`, the warehouse left as is."""
    return run_operation(
        "event_reschedule", synced.settings, client, Targets(ids=[event_id]),
        {"start": "2031-05-06 10:00:00"}, refresh=False,
    )  # fmt: skip


def test_a_reschedule_of_the_start_only_keeps_the_type_and_host_the_server_has_now(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    type_id, user_id, minutes = _moved_upstream(synced, event_id)

    with synced.client() as client:
        report = _reschedule(synced, client, event_id)

    event = synced.event(event_id)
    assert event is not None and report.ok
    assert (event["eventType"]["id"], event["user"]["id"]) == (type_id, user_id)
    start, end = parse_api_datetime(event["scheduledAt"]), parse_api_datetime(event["endDate"])
    assert start == dt.datetime(2031, 5, 6, 10, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(minutes=minutes)


def test_a_reschedule_to_the_start_the_warehouse_shows_is_sent_where_the_server_moved_it(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    event = synced.event(event_id)
    assert event is not None
    start = parse_api_datetime(event["scheduledAt"])
    assert start is not None
    end = parse_api_datetime(event["endDate"])
    assert end is not None
    with synced.client() as client:  # moved three days on upstream, after the last sync
        client.event_reschedule(
            event_id, start + dt.timedelta(days=3), end + dt.timedelta(days=3),
            event["eventType"]["id"], event["user"]["id"],
        )  # fmt: skip
        report = run_operation(
            "event_reschedule", synced.settings, client, Targets(ids=[event_id]),
            {"start": start.strftime("%Y-%m-%d %H:%M:%S")}, refresh=False,
        )  # fmt: skip

    moved = synced.event(event_id)
    assert moved is not None and report.ok and len(report.succeeded) == 1
    assert parse_api_datetime(moved["scheduledAt"]) == start


def test_a_booking_canceled_upstream_since_the_sync_is_not_rescheduled(synced: Synced) -> None:
    [event_id] = synced.upcoming(1)
    with synced.client() as client:
        client.event_cancel(event_id, reason="the invitee canceled")
        synced.emulator.reset_log()
        report = _reschedule(synced, client, event_id)

    [skipped] = report.skipped
    assert "canceled" in (skipped.note or "") and "on the server" in (skipped.note or "")
    assert synced.writes_per_event("event_reschedule") == {}
    assert synced.event(event_id)["state"] == "canceled"  # type: ignore[index]


def test_a_booking_canceled_upstream_since_the_sync_is_not_marked_a_no_show(
    synced: Synced,
) -> None:
    [event_id] = synced.ids("state = 'active' and scheduled_at < now()", 1)
    with synced.client() as client:
        client.event_cancel(event_id, reason="the invitee canceled")
        synced.emulator.reset_log()
        report = run_operation(
            "event_no_show_list", synced.settings, client, Targets(ids=[event_id]),
            refresh=False,
        )  # fmt: skip

    assert len(report.skipped) == 1 and report.requests == 0
    assert synced.writes_per_event("event_no_show", "event_no_show_list") == {}
    assert synced.event(event_id)["state"] == "canceled"  # type: ignore[index]


def test_targets_the_server_cannot_be_read_for_are_not_sent_and_a_rerun_sends_them(
    synced: Synced,
) -> None:
    ids = synced.upcoming(2)
    synced.emulator.set_faults("500=1,max=8,endpoints=event_list")  # every retry of the read

    with synced.client() as client:
        first = run_operation("event_cancel_list", synced.settings, client, Targets(ids=ids))
        writes = synced.writes_per_event("event_cancel_list", "event_cancel")
        synced.emulator.set_faults(None)
        again = run_operation("event_cancel_list", synced.settings, client, Targets(ids=ids))

    assert len(first.failed) == 2 and first.requests == 0 and writes == {}
    assert again.ok and len(again.succeeded) == 2
    assert {synced.event(i)["state"] for i in ids} == {"canceled"}  # type: ignore[index]


def test_a_no_show_of_a_booking_moved_into_the_future_since_the_sync_is_not_sent(
    synced: Synced,
) -> None:
    [event_id] = synced.ids("state = 'active' and scheduled_at < now()", 1)
    event = synced.event(event_id)
    assert event is not None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=5)
    with synced.client() as client:  # moved upstream, after the last sync
        client.event_reschedule(
            event_id, later, later + dt.timedelta(minutes=30), event["eventType"]["id"]
        )
        synced.emulator.reset_log()
        report = run_operation(
            "event_no_show_list", synced.settings, client, Targets(ids=[event_id]),
            refresh=False,
        )  # fmt: skip

    [failed] = report.failed
    assert "in the future" in (failed.error or "") and "--include-future" in (failed.error or "")
    assert synced.writes_per_event("event_no_show", "event_no_show_list") == {}


def test_a_booking_a_list_leaves_out_is_read_by_itself_before_it_is_sent(synced: Synced) -> None:
    # Some servers filter canceled bookings out of lists; the booking itself still answers.
    [event_id] = synced.upcoming(1)
    with synced.client() as client:
        client.event_cancel(event_id, reason="the invitee canceled")
        synced.emulator.set_anomalies(f"unlisted={event_id}")
        synced.emulator.reset_log()
        report = _reschedule(synced, client, event_id)

    assert len(report.skipped) == 1 and report.requests == 0
    assert synced.writes_per_event("event_reschedule") == {}


def test_a_rerun_finds_done_a_start_only_reschedule_whose_host_was_taken_from_the_server(
    synced: Synced,
) -> None:
    # The first run's body carried the server's host; its answer was lost and it landed
    # late. Read back against the warehouse's host, it was "not as asked" on every re-run.
    [event_id] = synced.upcoming(1)
    type_id, user_id, _ = _moved_upstream(synced, event_id)
    synced.emulator.set_faults("504=1,max=1,apply_later=6,endpoints=event_reschedule")
    move = {"start": "2031-05-06 10:00:00"}
    moves = len(synced.event(event_id)["rescheduling"])  # type: ignore[index]
    waiting, settled = (
        synced.settings.with_overrides("writeback", settle_seconds=seconds) for seconds in (60, 0)
    )
    with synced.client(timeout=1.0) as client:
        first = run_operation(
            "event_reschedule", waiting, client, Targets(ids=[event_id]), move, refresh=False
        )
        synced.until(
            lambda: len(synced.event(event_id)["rescheduling"]) > moves,  # type: ignore[index]
            "the late reschedule",
        )
        again = run_operation(
            "event_reschedule", settled, client, Targets(ids=[event_id]), move, refresh=False
        )

    event = synced.event(event_id)
    assert event is not None and len(first.unknown) == 1
    assert again.ok and again.requests == 0
    assert (event["eventType"]["id"], event["user"]["id"]) == (type_id, user_id)
    assert synced.emulator.count("event_reschedule") == 2  # the upstream move, and ours


def test_bookings_a_list_answers_404_for_are_read_by_themselves(synced: Synced) -> None:
    # A server may answer a filter that matches nothing 404 (a booking deleted upstream).
    [event_id] = synced.upcoming(1)

    def lists_answer_404(up: httpx.Client, path: str, pairs, body, headers) -> httpx.Response:
        if path.rstrip("/").endswith("/event") and any("ids" in name for name, _ in pairs):
            return httpx.Response(404, json={"message": "no events found"})
        return served(up, path, pairs, body, headers)

    with synced.client() as client:
        client.event_cancel(event_id, reason="the invitee canceled")
    synced.emulator.reset_log()
    with (
        behind(synced.emulator, lists_answer_404) as url,
        SimplyMeetClient(url, api_key=synced.emulator.api_key) as client,
    ):
        report = _reschedule(synced, client, event_id)

    assert len(report.skipped) == 1 and report.requests == 0
    assert synced.writes_per_event("event_reschedule") == {}
