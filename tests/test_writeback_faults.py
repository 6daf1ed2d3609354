"""Failures mid-batch: refused chunks, server errors, POSTs whose outcome is unknown, auth."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from simplymeet.cli.main import cli
from simplymeet.client import SimplyMeetClient
from simplymeet.contract.endpoints import API_PREFIX
from simplymeet.writeback import Targets, run_operation
from tests.loopback import behind, served
from tests.sync_support import run_sync
from tests.writeback_fixtures import (  # noqa: F401 - fixtures
    SHORT_TIMEOUT,
    Synced,
    synced_fixture,
    synced_template_fixture,
)


def _ids(ids: list[int]) -> str:
    return ",".join(map(str, ids))


def test_refused_list_chunk_is_settled_item_by_item(synced: Synced) -> None:
    ids = synced.upcoming(6)
    with synced.client() as client:
        # The warehouse still sees these as active: one canceled and one deleted upstream.
        client.event_cancel(ids[1], reason="upstream")
        client.event_delete(ids[2])
        synced.emulator.reset_log()

        report = run_operation(
            "event_cancel_list", synced.settings, client, Targets(ids=ids), {"reason": "r"},
            chunk_size=10, refresh=False,
        )  # fmt: skip

    assert [o.item.target_id for o in report.failed] == [ids[2]]
    assert report.failed[0].status == 404
    assert [o.item.target_id for o in report.skipped] == [ids[1]]
    assert sorted(o.item.target_id for o in report.succeeded) == sorted(
        [ids[0], ids[3], ids[4], ids[5]]
    )
    assert synced.emulator.count("event_cancel_list") == 1
    # Each once a method: the deleted one's 404 may be asked again with POST (a router of
    # method and path), unless a PUT was taken before it.
    sent = Counter(
        (r.path, r.method) for r in synced.emulator.requests if "/event/cancel/" in r.path
    )
    assert set(sent.values()) == {1}
    assert {path for path, _ in sent} == {
        f"{API_PREFIX}/event/cancel/{ids[i]}" for i in (0, 2, 3, 4, 5)
    }
    assert all(synced.event(i)["cancellation"]["reason"] == "r" for i in (ids[0], ids[3]))


def test_a_write_the_server_refuses_as_already_done_brings_the_warehouse_up_to_date(
    synced: Synced,
) -> None:
    [event] = synced.upcoming(1)

    def refused_as_canceled(up: httpx.Client, path: str, pairs, body, headers):
        # Canceled upstream between the read before the send and the send.
        if path.endswith(f"/event/cancel/{event}"):
            served(up, path, pairs, body, headers)
            return httpx.Response(422, json={"message": "the event is already canceled"})
        return served(up, path, pairs, body, headers)

    with behind(synced.emulator, refused_as_canceled) as url:
        result = synced.cli("event", "cancel", "--ids", str(event), "--yes", "--base-url", url)

    assert result.exit_code == 0, result.output
    assert "already so on the server" in result.output
    assert synced.scalar(f"select state from raw.events where id = {event}") == "canceled"


def test_a_booking_canceled_upstream_since_the_sync_is_skipped_without_a_request(
    synced: Synced,
) -> None:
    [event] = synced.upcoming(1)
    with synced.client() as client:  # since the last sync
        client.event_cancel(event, reason="upstream")
    synced.emulator.reset_log()

    result = synced.cli("event", "cancel", "--ids", str(event), "--yes")

    assert result.exit_code == 0, result.output
    assert "already canceled (on the server, since the last sync): 1" in result.output
    assert synced.writes_per_event("event_cancel", "event_cancel_list") == {}


def test_a_one_id_chunk_refused_by_a_server_reading_the_body_as_a_bare_array_is_sent_per_item(
    synced: Synced,
) -> None:
    # DeleteEventListRequestDTO is "an array of integers" in its prose and `ids array` in its
    # table: a server of the first reading refuses {"ids": [...]}.
    [event_id] = synced.upcoming(1)

    def bare_array_only(up: httpx.Client, path: str, pairs, body, headers) -> httpx.Response:
        if path.endswith("/event/delete-list") and body and body.lstrip().startswith(b"{"):
            return httpx.Response(422, json={"message": "the body must be an array of ids"})
        return served(up, path, pairs, body, headers)

    with (
        behind(synced.emulator, bare_array_only) as url,
        SimplyMeetClient(url, api_key=synced.emulator.api_key) as client,
    ):
        report = run_operation(
            "event_delete_list", synced.settings, client, Targets(ids=[event_id]), refresh=False
        )

    assert [o.item.target_id for o in report.succeeded] == [event_id]
    assert synced.event(event_id) is None


def test_a_422_in_the_middle_of_a_batch_fails_only_that_item(synced: Synced) -> None:
    ids = synced.upcoming(3)
    rows = [
        {"id": ids[0], "start": "2030-04-01 10:00:00"},
        {"id": ids[1], "start": "2030-04-01 11:00:00"},
        {"id": ids[2], "start": "2030-04-02 10:00:00"},
    ]

    def refuses_the_second(up: httpx.Client, path: str, pairs, body, headers):
        if path.endswith(f"/event/reschedule/{ids[1]}"):
            return httpx.Response(422, json={"message": "this slot is no longer available"})
        return served(up, path, pairs, body, headers)

    with (
        behind(synced.emulator, refuses_the_second) as url,
        SimplyMeetClient(url, api_key=synced.emulator.api_key) as client,
    ):
        report = run_operation(
            "event_reschedule", synced.settings, client, Targets(rows=rows), refresh=False
        )

    [failed] = report.failed
    assert failed.item.target_id == ids[1] and failed.status == 422
    assert "no longer available" in (failed.error or "")
    assert len(report.succeeded) == 2
    assert synced.query(
        f"select outcome, http_status from writeback.journal where target = 'event {ids[1]}'"
    ) == [("failed", 422)]


def test_server_errors_on_a_list_call_are_checked_then_sent_again(synced: Synced) -> None:
    ids = synced.upcoming(5)
    synced.emulator.set_faults("500=1,max=2,endpoints=event_cancel_list")
    with synced.client(timeout=SHORT_TIMEOUT) as client:
        report = run_operation(
            "event_cancel_list", synced.settings, client, Targets(ids=ids), refresh=False
        )

    assert report.ok and len(report.succeeded) == 5
    assert report.retries == 0 and report.resent == 10
    assert synced.emulator.count("event_cancel_list") == 3
    assert all(synced.event(i)["state"] == "canceled" for i in ids)


def test_a_chunk_that_keeps_failing_is_failed_and_a_rerun_sends_only_it(synced: Synced) -> None:
    ids = synced.upcoming(9)
    # Four failures: every attempt of the first chunk (1 + 3 retries), then the server heals.
    synced.emulator.set_faults("500=1,max=4,endpoints=event_cancel_list")
    options = {"chunk_size": 3, "concurrency": 1, "refresh": False}
    with synced.client(timeout=SHORT_TIMEOUT) as client:
        first = run_operation(
            "event_cancel_list", synced.settings, client, Targets(ids=ids), **options
        )
        synced.emulator.reset_log()
        again = run_operation(
            "event_cancel_list", synced.settings, client, Targets(ids=ids), **options
        )

    assert sorted(o.item.target_id for o in first.failed) == ids[:3]
    assert {o.status for o in first.failed} == {500}
    assert len(first.succeeded) == 6
    assert again.ok and again.requests == 1
    assert synced.emulator.count("event_cancel_list") == 1
    assert all(synced.event(i)["state"] == "canceled" for i in ids)
    # Every send of the first run is journaled next to the re-run's: the failing chunk was
    # checked and sent again three times (the client's max_retries), each one a journal row.
    outcomes = synced.query("select run_id, outcome, count(*) from writeback.journal group by all")
    assert sorted((run == first.run_id, o, n) for run, o, n in outcomes) == [
        (False, "succeeded", 3),
        (True, "failed", 12),
        (True, "succeeded", 6),
    ]


def test_a_rerun_counts_what_an_earlier_run_of_its_job_did_as_done_not_found_so(
    synced: Synced,
) -> None:
    ids = synced.upcoming(6)
    # The first chunk fails every attempt; the other is canceled and refreshed into the
    # warehouse, where the re-run's plan finds its bookings canceled: by this very job.
    synced.emulator.set_faults("500=1,max=4,endpoints=event_cancel_list")
    options = {"chunk_size": 3, "concurrency": 1}
    with synced.client(timeout=SHORT_TIMEOUT) as client:
        run_operation("event_cancel_list", synced.settings, client, Targets(ids=ids), **options)
        again = run_operation(
            "event_cancel_list", synced.settings, client, Targets(ids=ids), **options
        )

    assert again.ok and len(again.succeeded) == 6 and not again.skipped
    assert synced.query("select count(*) from writeback.journal where outcome = 'skipped'") == [
        (0,)
    ]


def test_a_rerun_keeps_what_an_earlier_run_found_already_so_as_skipped_not_done(
    synced: Synced,
) -> None:
    ids = synced.upcoming(3)
    refused: list[str] = []

    def answer(up: httpx.Client, path: str, pairs, body, headers):
        if path.endswith(f"/event/cancel/{ids[2]}"):
            # Canceled by another hand between the read before the send and the send.
            served(up, path, pairs, body, headers)
            return httpx.Response(422, json={"message": "the event is already canceled"})
        if path.endswith(f"/event/cancel/{ids[0]}") and not refused:
            refused.append(path)  # refused once, nothing applied: the run exits 6
            return httpx.Response(409, json={"message": "try again later"})
        return served(up, path, pairs, body, headers)

    command = ("event", "cancel", "--ids", ",".join(map(str, ids)), "--yes", "--concurrency", "1")
    with behind(synced.emulator, answer) as url:
        first = synced.cli(*command, "--base-url", url)
        again = synced.cli(*command, "--base-url", url)

    assert (first.exit_code, again.exit_code) == (6, 0), again.output
    # The re-run sent one, found one done by the job's first run, and one found already so.
    assert synced.query(
        "select succeeded, skipped from writeback.runs order by started_at desc limit 1"
    ) == [(2, 1)]


def test_a_rerun_finding_done_what_the_server_refused_the_job_journals_it_skipped(
    synced: Synced,
) -> None:
    ids = synced.upcoming(2)

    def answer(up: httpx.Client, path: str, pairs, body, headers):
        if path.endswith(f"/event/cancel/{ids[0]}"):
            return httpx.Response(409, json={"message": "unavailable"})  # nothing applied
        return served(up, path, pairs, body, headers)

    command = ("event", "cancel", "--ids", ",".join(map(str, ids)), "--yes")
    with behind(synced.emulator, answer) as url:
        first = synced.cli(*command, "--base-url", url)
    with synced.client() as client:
        client.event_cancel(ids[0], reason="by a colleague")  # by hand, after the refusal

    again = synced.cli(*command)

    assert (first.exit_code, again.exit_code) == (6, 0), again.output
    assert synced.query(
        "select outcome from writeback.journal "
        f"where target_id = {ids[0]} order by entry_id desc limit 1"
    ) == [("skipped",)]


@pytest.mark.parametrize(
    ("name", "values", "created"),
    [
        (
            "user_event_type_tag_create",
            {"name": "Once"},
            lambda store: [t["name"] for t in store.list_dtos("user_event_type_tags")].count(
                "Once"
            ),
        ),
        (
            "event_create",
            {
                "event_type": 1,
                "scheduled_at": "2030-06-01 09:00:00",
                "invitee_full_name": "Once",
                "invitee_email": "once@example.com",
            },
            lambda store: sum(
                (store.event_dto(i) or {}).get("invitee", {}).get("email") == "once@example.com"
                for i in store.all_event_ids()
            ),
        ),
    ],
)
def test_a_post_that_failed_after_it_was_applied_is_found_not_resent(
    synced: Synced, name: str, values: dict[str, Any], created: Callable[[Any], int]
) -> None:
    synced.emulator.set_faults(f"500=1,after_apply=1,max=1,endpoints={name}")
    with synced.client() as client:
        report = run_operation(name, synced.settings, client, values=values, refresh=False)

    [done] = report.succeeded
    assert "checked on the server" in (done.note or "")
    assert synced.emulator.count(name) == 1
    assert created(synced.emulator.store) == 1


def test_an_uncheckable_post_is_unknown_and_resent_only_when_asked(synced: Synced) -> None:
    synced.emulator.set_faults("500=1,after_apply=1,max=1,endpoints=single_use_link_create")
    target = Targets(ids=[7])
    with synced.client() as client:
        first = run_operation("single_use_link_create", synced.settings, client, target)
        again = run_operation("single_use_link_create", synced.settings, client, target)
        sent_before_retry = synced.emulator.count("single_use_link_create")
        forced = run_operation(
            "single_use_link_create", synced.settings, client, target, retry_unknown=True
        )

    assert [o.status for o in first.unknown] == [500] and not first.ok
    assert len(again.unknown) == 1 and again.requests == 0
    assert sent_before_retry == 1
    assert forced.ok and forced.requests == 1
    assert len(synced.emulator.store.list_dtos("single_use_links")) == 2


def test_an_auth_error_stops_the_run(synced: Synced) -> None:
    ids = synced.ids("state = 'active'", 6)
    with SimplyMeetClient(synced.emulator.base_url, api_key="wrong-key") as client:
        report = run_operation(
            "event_no_show", synced.settings, client, Targets(ids=ids), concurrency=1,
            refresh=False,
        )  # fmt: skip

    assert report.aborted is not None and "API key" in report.aborted
    # The first request refused stops it: the send, or the read of the server's clock before.
    assert synced.emulator.count("event_no_show") <= 1
    assert len(report.failed) == 6
    assert all(synced.event(i)["state"] == "active" for i in ids)


def test_a_server_failing_every_request_stops_the_run_and_a_rerun_sends_the_rest_once(
    synced: Synced,
) -> None:
    ids = synced.upcoming(12)
    synced.emulator.set_faults("429=1,retry_after=0,endpoints=event_cancel")
    with synced.client() as client:
        first = run_operation(
            "event_cancel", synced.settings, client, Targets(ids=ids), concurrency=1,
            refresh=False,
        )  # fmt: skip
        sent_while_failing = synced.emulator.count("event_cancel")
        synced.emulator.set_faults(None)
        synced.emulator.reset_log()
        again = run_operation(
            "event_cancel", synced.settings, client, Targets(ids=ids), concurrency=1,
            refresh=False,
        )  # fmt: skip

    assert first.aborted is not None and "failed 8 requests in a row" in first.aborted
    # Eight items, each sent and sent again three times, each time read back first.
    assert first.requests == 8 * 4 and len(first.failed) == 12
    assert sent_while_failing == 8 * 4
    assert again.ok and len(again.succeeded) == 12
    assert synced.emulator.count("event_cancel") == 12
    assert all(synced.event(i)["state"] == "canceled" for i in ids)


def test_a_server_failing_every_request_exits_5_naming_it(synced: Synced) -> None:
    ids = synced.upcoming(10)
    synced.emulator.set_faults("429=1,retry_after=0,endpoints=event_cancel")

    result = synced.cli(
        "event", "cancel", "--ids", _ids(ids), "--yes", "--no-refresh", "--concurrency", "1"
    )

    assert result.exit_code == 5
    assert "stopped early: the server failed 8 requests in a row" in result.output


def test_a_server_no_request_reaches_exits_5_and_says_nothing_was_applied(synced: Synced) -> None:
    ids = synced.upcoming(3)
    with socket.socket() as closed:  # a port nothing listens on: every connect is refused
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"

    result = synced.cli(
        "event", "notes", "--ids", _ids(ids), "--notes", "never sent", "--base-url", nowhere,
        "--no-refresh",
    )  # fmt: skip

    assert result.exit_code == 5, result.output
    assert "stopped early: the server could not be reached" in result.output
    assert "may already have applied" not in result.output


@pytest.mark.parametrize(
    "command", [("cancel", "--yes"), ("reschedule", "--start", "2031-03-04 10:00:00")]
)
def test_a_write_to_invitees_whose_bookings_cannot_be_read_first_exits_5(
    synced: Synced, command: tuple[str, ...]
) -> None:
    # Read from the server before a write that e-mails people: unreachable, it is an outage
    # to retry (exit 5), not items the server refused (6).
    ids = synced.upcoming(3)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"

    result = synced.cli(
        "event", command[0], "--ids", _ids(ids), *command[1:], "--base-url", nowhere,
        "--no-refresh",
    )  # fmt: skip

    assert result.exit_code == 5, result.output
    assert "the bookings could not be read" in result.output


def test_a_cancel_whose_bookings_read_stays_rate_limited_exits_5_with_nothing_sent(
    synced: Synced,
) -> None:
    ids = synced.upcoming(2)
    synced.emulator.set_faults("429=1,retry_after=0,endpoints=event_list")

    result = synced.cli("event", "cancel", "--ids", _ids(ids), "--yes", "--no-refresh")

    assert result.exit_code == 5, result.output
    assert synced.emulator.count("event_cancel") == 0


def test_a_refresh_the_server_fails_after_the_writes_exits_5_in_one_line(synced: Synced) -> None:
    ids = synced.upcoming(2)
    synced.emulator.set_faults("500=1,retry_after=0,endpoints=event_list|event_get")

    result = synced.cli("event", "notes", "--ids", _ids(ids), "--notes", "kept")

    [line] = [line for line in result.output.splitlines() if "NOT refreshed" in line]
    assert result.exit_code == 5, result.output
    assert "HTTP 500" in line and "Traceback" not in result.output
    assert {synced.event(i)["notes"] for i in ids} == {"kept"}  # type: ignore[index]


def test_failures_give_exit_code_6_and_are_listed(synced: Synced) -> None:
    [event_id] = synced.ids("state = 'active'", 1)
    with synced.client() as client:
        client.event_delete(event_id)

    result = synced.cli("event", "no-show", "--ids", str(event_id), "--yes", "--no-refresh")

    assert result.exit_code == 6
    assert f"event {event_id}: HTTP 404" in result.output
    assert "failed 1" in result.output


def test_a_run_with_failures_says_so_on_stderr_in_one_line(synced: Synced) -> None:
    [event_id] = synced.ids("state = 'active'", 1)
    with synced.client() as client:
        client.event_delete(event_id)

    result = synced.cli("event", "no-show", "--ids", str(event_id), "--yes", "--no-refresh")

    assert result.exit_code == 6
    assert result.stderr.splitlines() == [
        "error: event no-show: failed 1 (the summary on stdout names them)"
    ]


def test_a_run_stopped_early_says_why_on_stderr_in_one_line(synced: Synced) -> None:
    ids = synced.upcoming(3)
    with socket.socket() as closed:  # a port nothing listens on: every connect is refused
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"

    result = synced.cli(
        "event", "notes", "--ids", _ids(ids), "--notes", "n", "--base-url", nowhere, "--no-refresh"
    )

    assert result.exit_code == 5
    [line] = result.stderr.splitlines()
    assert line.startswith("error: event notes: stopped early: the server could not be reached")


def test_a_write_answered_404_for_what_it_names_leaves_its_live_event_unmarked(
    synced: Synced,
) -> None:
    # The reschedule names the event's own type, deleted upstream since the sync: 404 "event
    # type not found" while the event is still there. A second move succeeds, so the run
    # refreshes the warehouse.
    type_of = {i: synced.event(i)["eventType"]["id"] for i in synced.upcoming(40)}  # type: ignore[index]
    moved = next(iter(type_of))
    refused = next(i for i, t in type_of.items() if t != type_of[moved])
    synced.emulator.store.delete_event_type(type_of[refused])

    result = synced.cli(
        "event", "reschedule", "--ids", f"{moved},{refused}", "--start", "2031-03-04 10:00:00"
    )

    assert result.exit_code == 6, result.output
    assert f"event {refused}: HTTP 404" in result.output
    assert synced.event(refused) is not None
    assert not synced.scalar(f"select deleted_at is not null from raw.events where id = {refused}")


def test_an_event_found_deleted_upstream_is_marked_and_skipped_next_time(synced: Synced) -> None:
    [gone, kept] = synced.ids("state = 'active'", 2)
    with synced.client() as client:
        client.event_delete(gone)
    args = ("event", "notes", "--ids", f"{gone},{kept}", "--notes", "n")

    first = synced.cli(*args)
    again = synced.cli(*args)

    assert first.exit_code == 6
    assert synced.scalar(f"select deleted_at is not null from events where id = {gone}")
    assert again.exit_code == 0, again.output
    assert "deleted upstream: 1" in again.output
    assert synced.emulator.count("event_notes") == 2


def test_a_lone_write_answered_404_for_an_event_deleted_upstream_marks_it_deleted(
    synced: Synced,
) -> None:
    # Nothing in the run succeeds, so no other item's refresh would carry the mark.
    [gone] = synced.ids("state = 'active'", 1)
    with synced.client() as client:
        client.event_delete(gone)
    args = ("event", "notes", "--ids", str(gone), "--notes", "n")

    first = synced.cli(*args)
    again = synced.cli(*args)

    assert first.exit_code == 6, first.output
    assert synced.scalar(f"select deleted_at is not null from events where id = {gone}")
    assert again.exit_code == 0, again.output
    assert "deleted upstream: 1" in again.output


def test_a_re_run_with_nothing_to_send_rebuilds_the_models_an_earlier_run_left_behind(
    synced: Synced,
) -> None:
    # As a run killed after its refresh re-read the events and before it rebuilt the models:
    # the raw tables show the cancels, the marts do not, and every target reads done.
    from click.testing import CliRunner

    from simplymeet.cli.main import cli
    from simplymeet.models import build_models

    ids = ",".join(map(str, synced.upcoming(3)))
    args = ["event", "cancel", "--ids", ids, "--reason", "away", "--yes"]
    assert synced.cli(*args, "--no-refresh").exit_code == 0
    build_models(synced.db, settings=synced.settings)
    run_sync(synced.settings, synced.emulator)
    marts = f"select count(*) from analytics.fct_events where event_id in ({ids}) and is_canceled"
    assert synced.scalar(marts) == 0
    building = {**synced.env(), "SIMPLYMEET_SYNC__BUILD_MODELS": "true"}

    again = CliRunner().invoke(cli, args, env=building, catch_exceptions=False)

    assert again.exit_code == 0, again.output
    assert "nothing to send" in again.output
    assert "warehouse refreshed" in again.output
    assert synced.scalar(marts) == 3
    assert synced.emulator.count("event_cancel") == 3


def test_a_cancel_re_run_on_a_booking_deleted_upstream_skips_it_and_marks_it_deleted(
    synced: Synced,
) -> None:
    # The first run's 404 was never refreshed (--no-refresh, or a kill in the refresh): the
    # re-run reads the booking gone.
    [gone] = synced.upcoming(1)
    with synced.client() as client:
        client.event_delete(gone)
    args = ("event", "cancel", "--ids", str(gone), "--reason", "away", "--yes")
    assert synced.cli(*args, "--no-refresh").exit_code == 6

    again = synced.cli(*args)

    assert again.exit_code == 0, again.output
    assert "deleted upstream" in again.output
    assert synced.scalar(f"select deleted_at is not null from events where id = {gone}")


def test_a_cancel_list_naming_a_booking_deleted_upstream_skips_it_and_marks_it_deleted(
    synced: Synced,
) -> None:
    # The server acts on the ids it has and answers 204 for the list; the read-back of the
    # deleted one answers 404.
    ids = synced.upcoming(3)
    gone = ids[1]
    with synced.client() as client:
        client.event_delete(gone)
    synced.emulator.set_readings("list_writes=existing")

    result = synced.cli("event", "cancel-list", "--ids", _ids(ids), "--reason", "away", "--yes")

    assert result.exit_code == 0, result.output
    assert "deleted upstream" in result.output
    assert synced.query(f"select outcome from writeback.journal where target_id = {gone}") == [
        ("skipped",)
    ]
    assert synced.scalar(f"select deleted_at is not null from events where id = {gone}")


def test_a_cancel_answered_404_by_its_own_method_and_405_by_the_other_is_marked_deleted(
    synced: Synced,
) -> None:
    # The POST the client tries after a PUT's 404 is not routed: the 404 was the booking's.
    [gone] = synced.upcoming(1)
    with synced.client() as client:
        client.event_delete(gone)
    synced.emulator.set_readings("cancel_method=put")

    result = synced.cli("event", "cancel", "--ids", str(gone), "--reason", "away", "--yes")

    assert result.exit_code == 6, result.output
    assert "HTTP 404" in result.output and "HTTP 405" not in result.output
    assert synced.scalar(f"select deleted_at is not null from events where id = {gone}")


def test_a_write_back_whose_refresh_sets_its_booking_aside_exits_9_saying_so(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    synced.emulator.set_anomalies(f"bad_timestamp={event_id},endpoints=event_list|event_get")

    result = synced.cli("event", "cancel", "--ids", str(event_id), "--reason", "away", "--yes")

    assert result.exit_code == 9, result.output
    assert "set aside in raw._rejected_rows" in result.output
    assert "queries now see these changes" not in result.output
    assert synced.emulator.count("event_cancel") == 1


def test_a_write_back_whose_refresh_lacks_the_destination_s_credentials_sends_nothing(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    env = {
        **synced.env(),
        "SIMPLYMEET_WAREHOUSE__DESTINATION": "postgres",
        "DESTINATION__POSTGRES__CREDENTIALS": None,
    }
    args = ["event", "cancel", "--ids", str(event_id), "--yes", "--db", str(synced.db)]

    result = CliRunner().invoke(cli, args, env=env)

    assert result.exit_code == 2, result.output
    assert "credentials" in result.output
    assert synced.emulator.count("event_cancel") == 0


def test_a_damaged_pipeline_folder_does_not_stop_a_write_back_to_another_destination(
    synced: Synced,
) -> None:
    # The refresh's own sync moves a damaged folder aside: no reason to send nothing.
    [event_id] = synced.upcoming(1)
    wh = synced.settings.section("warehouse")
    (Path(wh["pipelines_dir"]) / wh["pipeline_name"] / "state.json").write_text("")
    env = {
        **synced.env(),
        "SIMPLYMEET_WAREHOUSE__DESTINATION": "postgres",
        "DESTINATION__POSTGRES__CREDENTIALS": "postgresql://u:p@127.0.0.1:9/nowhere",
    }
    args = ["event", "cancel", "--ids", str(event_id), "--yes", "--db", str(synced.db)]

    result = CliRunner().invoke(cli, args, env=env)

    assert "could not load into the warehouse" not in result.output, result.output
    assert synced.emulator.count("event_cancel") == 1


def test_a_write_back_whose_refresh_finds_a_sync_running_exits_3(synced: Synced) -> None:
    from simplymeet.sync.lock import pipeline_lock

    [event_id] = synced.upcoming(1)
    wh = synced.settings.section("warehouse")

    with pipeline_lock(wh["pipelines_dir"], wh["pipeline_name"]):
        result = synced.cli("event", "notes", "--ids", str(event_id), "--notes", "kept")

    assert "NOT refreshed" in result.output
    assert result.exit_code == 3, result.output


def _sigint_ignored() -> None:
    # As a shell starts a background job (`cmd &` in a CI step or a cron script).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_write_back_started_in_the_background_and_sent_a_signal_mid_request_exits_128_plus_it(
    synced: Synced, sent: int
) -> None:
    [event] = synced.upcoming(1)
    synced.emulator.set_faults("stall=1,stall_s=4,endpoints=event_cancel")
    command = [sys.executable, "-m", "simplymeet.cli.main", "event", "cancel"]
    proc = subprocess.Popen(
        [*command, "--ids", str(event), "--yes", "--no-refresh"],
        env=synced.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_sigint_ignored,
    )
    deadline = time.monotonic() + 60
    while synced.emulator.received("event_cancel") < 1:
        assert proc.poll() is None, proc.stderr.read()  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the write-back never sent its request"
        time.sleep(0.01)
    proc.send_signal(sent)  # once: an orchestrator's stop, or one Ctrl-C

    assert proc.wait(timeout=60) == 128 + sent
    assert "interrupted" in proc.stderr.read()  # type: ignore[union-attr]
