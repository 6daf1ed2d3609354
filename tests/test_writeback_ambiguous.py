"""Writes whose answer was lost: read back, sent again only when not applied, never twice.

Every write of this API reaches people (a cancel or a reschedule e-mails the invitee), so the
count that matters is write requests per target in the emulator's log: exactly one wherever
the first one was applied, whatever happened to its answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import orjson
import pytest

from simplymeet.client import SimplyMeetClient
from simplymeet.writeback import Targets, run_operation
from simplymeet.writeback.operations import operation
from simplymeet.writeback.plan import build_plan
from simplymeet.writeback.targets import Row
from simplymeet.writeback.verify import check_applied
from tests.loopback import Pairs, behind, served
from tests.sync_support import EVENTS_ONLY, run_sync
from tests.writeback_fixtures import (  # noqa: F401 - fixtures
    SHORT_SETTLE,
    SHORT_TIMEOUT,
    Synced,
    synced_fixture,
    synced_template_fixture,
)

DROPPED_AFTER_APPLY = "drop=0.3,after_apply=1,seed={seed},endpoints={endpoints}"


def _latest_outcomes(synced: Synced, job_id: str) -> dict[int, tuple[str, str | None]]:
    """Each target's latest journal outcome and note in a job."""
    rows = synced.query(
        "select target_id, outcome, error from writeback.journal "
        f"where job_id = '{job_id}' qualify row_number() over "
        "(partition by item_key order by entry_id desc) = 1"
    )
    return {int(t): (o, e) for t, o, e in rows}


def test_soak_bulk_cancel_of_1000_with_30_percent_of_answers_dropped_writes_each_once(
    synced: Synced,
) -> None:
    ids = synced.ids("state = 'active'", 1000)
    faults = DROPPED_AFTER_APPLY.format(seed=3, endpoints="event_cancel_list|event_cancel")
    synced.emulator.set_faults(faults)
    run = {"include_past": True, "refresh": False, "chunk_size": 50}
    with synced.client() as client:
        first = run_operation("event_cancel_list", synced.settings, client, Targets(ids=ids), **run)
        writes_first = synced.writes_per_event("event_cancel_list", "event_cancel")
        synced.emulator.reset_log()
        again = run_operation("event_cancel_list", synced.settings, client, Targets(ids=ids), **run)

    assert synced.emulator.faults_injected["drop"] == 6  # of 20 chunks: the soak dropped 30%
    assert writes_first == {i: 1 for i in ids}
    assert first.ok and len(first.succeeded) == 1000 and first.resent == 0
    assert {synced.event(i)["state"] for i in ids} == {"canceled"}
    outcomes = _latest_outcomes(synced, first.plan.job_id)
    assert {o for o, _ in outcomes.values()} == {"succeeded"} and len(outcomes) == 1000
    checked = [i for i, (_, note) in outcomes.items() if note and "checked on the server" in note]
    assert len(checked) == 50 * 6
    assert again.ok and again.requests == 0
    assert synced.writes_per_event("event_cancel_list", "event_cancel") == {}


def test_soak_bulk_reschedule_of_200_with_30_percent_of_answers_dropped_writes_each_once(
    synced: Synced,
) -> None:
    ids = synced.ids("state = 'active'", 200)
    rows = [{"id": i, "start": f"2031-0{1 + n % 9}-1{n % 10} 09:00:00"} for n, i in enumerate(ids)]
    synced.emulator.set_faults(DROPPED_AFTER_APPLY.format(seed=12, endpoints="event_reschedule"))
    run = {"include_past": True, "refresh": False}
    with synced.client() as client:
        first = run_operation(
            "event_reschedule", synced.settings, client, Targets(rows=rows), **run
        )
        writes_first = synced.writes_per_event("event_reschedule")
        synced.emulator.reset_log()
        again = run_operation(
            "event_reschedule", synced.settings, client, Targets(rows=rows), **run
        )

    dropped = synced.emulator.faults_injected.get("drop", 0)
    assert 30 <= dropped <= 90
    assert writes_first == {i: 1 for i in ids}
    assert first.ok and len(first.succeeded) == 200 and first.resent == 0
    for row in rows:
        assert synced.event(row["id"])["scheduledAt"].startswith(row["start"].replace(" ", "T"))
    outcomes = _latest_outcomes(synced, first.plan.job_id)
    checked = [i for i, (_, note) in outcomes.items() if note and "checked on the server" in note]
    assert {o for o, _ in outcomes.values()} == {"succeeded"} and len(checked) == dropped
    assert again.ok and again.requests == 0
    assert synced.writes_per_event("event_reschedule") == {}


def test_server_errors_and_cut_answers_after_the_write_never_send_a_cancel_twice(
    synced: Synced,
) -> None:
    ids = synced.ids("state = 'active'", 100)
    synced.emulator.set_faults(
        "500=0.1,502=0.05,503=0.05,truncate=0.1,after_apply=1,retry_after=0,seed=5,"
        "endpoints=event_cancel"
    )
    with synced.client() as client:
        report = run_operation(
            "event_cancel", synced.settings, client, Targets(ids=ids),
            include_past=True, refresh=False,
        )  # fmt: skip

    assert sum(synced.emulator.faults_injected.values()) >= 15
    assert synced.writes_per_event("event_cancel") == {i: 1 for i in ids}
    assert report.ok and len(report.succeeded) == 100
    assert {synced.event(i)["state"] for i in ids} == {"canceled"}


def test_a_chunk_whose_answer_was_lost_is_sent_again_with_only_the_ids_not_yet_applied(
    synced: Synced,
) -> None:
    ids = synced.ids("state = 'active'", 5)
    cut: list[bytes] = []

    def applies_two_then_fails(up: httpx.Client, path: str, pairs, body, headers):
        # The first chunk: the server cancels its first two ids, then answers 500.
        if path.endswith("/event/cancel-list") and body and not cut:
            cut.append(body)
            first_two = orjson.dumps({**orjson.loads(body), "ids": ids[:2]})
            sized = {k: v for k, v in headers.items() if k.lower() != "content-length"}
            served(up, path, pairs, first_two, sized)
            return httpx.Response(500, json={"message": "internal error"})
        return served(up, path, pairs, body, headers)

    with (
        behind(synced.emulator, applies_two_then_fails) as url,
        SimplyMeetClient(url, api_key=synced.emulator.api_key, timeout=SHORT_TIMEOUT) as client,
    ):
        report = run_operation(
            "event_cancel_list", synced.settings, client, Targets(ids=ids),
            include_past=True, refresh=False,
        )  # fmt: skip

    assert [body["ids"] for _, body in synced.writes("event_cancel_list")] == [ids[:2], ids[2:]]
    assert orjson.loads(cut[0])["ids"] == ids
    assert report.ok and len(report.succeeded) == 5
    assert {synced.event(i)["state"] for i in ids} == {"canceled"}


def test_a_put_refused_before_it_was_applied_is_checked_then_sent_again(synced: Synced) -> None:
    [event_id] = synced.ids("state = 'active'", 1)
    synced.emulator.set_faults("502=1,max=1,endpoints=event_reschedule")
    with synced.client(timeout=SHORT_TIMEOUT) as client:
        report = run_operation(
            "event_reschedule", synced.settings, client,
            Targets(rows=[{"id": event_id, "start": "2031-05-05 10:00:00"}]),
            include_past=True, refresh=False,
        )  # fmt: skip

    assert report.ok and report.resent == 1
    assert synced.emulator.count("event_reschedule") == 2
    assert synced.event(event_id)["scheduledAt"].startswith("2031-05-05T10:00:00")


def test_a_put_that_cannot_be_read_back_is_unknown_and_sent_again_only_when_asked(
    synced: Synced,
) -> None:
    [event_id] = synced.ids("scheduled_at > now() and state = 'active'", 1)
    synced.emulator.set_faults("drop=1,after_apply=1,max=1,endpoints=event_resend_notification")
    reminders = synced.event(event_id)["sentEmailReminder"]
    target = Targets(ids=[event_id])
    with synced.client() as client:
        first = run_operation("event_resend_notification", synced.settings, client, target)
        again = run_operation("event_resend_notification", synced.settings, client, target)
        sent_before_forcing = synced.emulator.count("event_resend_notification")
        forced = run_operation(
            "event_resend_notification", synced.settings, client, target, retry_unknown=True
        )

    assert [o.outcome for o in first.outcomes] == ["unknown"] and not first.ok
    assert "cannot be asked" in synced.scalar(
        "select error from writeback.journal where outcome = 'unknown' order by entry_id limit 1"
    )
    assert len(again.unknown) == 1 and again.requests == 0
    assert sent_before_forcing == 1
    assert forced.ok and forced.requests == 1
    assert synced.event(event_id)["sentEmailReminder"] == reminders + 2


# --- a read-back that is neither what was asked nor what was there: unknown, never re-sent ----

LOST_AFTER_APPLY = "drop=1,after_apply=1,endpoints={endpoints}"
"""Every answer of these endpoints is lost after the write was made."""
SUMMER = "2031-06-05 10:00:00"
"""A start no host's or event type's timezone reads as UTC (London keeps summer time)."""


def _bookings(synced: Synced, email: str) -> int:
    """How many events the emulator holds for this invitee."""
    return len(synced.invitee_events(email))


def _bookings_of(*emails: str) -> Targets:
    return Targets(
        rows=[
            {
                "event_type": 1,  # Europe/Paris
                "scheduled_at": SUMMER,
                "invitee_full_name": email,
                "invitee_email": email,
            }
            for email in emails
        ]
    )


def test_a_booking_whose_answer_was_lost_by_a_server_reading_local_time_is_made_once_and_unknown(
    synced: Synced,
) -> None:
    synced.emulator.set_request_times("event_type")
    synced.emulator.set_faults(LOST_AFTER_APPLY.format(endpoints="event_create"))
    emails = ("zed@example.com", "zedb@example.com")
    with synced.client() as client:
        report = run_operation(
            "event_create", synced.settings, client, _bookings_of(*emails), refresh=False
        )

    assert synced.emulator.count("event_create") == 2
    assert [_bookings(synced, e) for e in emails] == [1, 1]
    assert len(report.unknown) == 2 and not report.ok
    assert all("a new booking of this invitee" in (o.note or "") for o in report.unknown)


def test_a_booking_whose_lost_answer_was_found_on_the_server_reaches_the_warehouse(
    synced: Synced,
) -> None:
    synced.emulator.set_faults(LOST_AFTER_APPLY.format(endpoints="event_create"))
    with synced.client() as client:
        report = run_operation(
            "event_create", synced.settings, client, _bookings_of("found@example.com")
        )

    assert report.ok and report.refreshed
    assert synced.emulator.count("event_create") == 1
    [(landed,)] = synced.query(
        "select count(*) from events where invitee_email = 'found@example.com'"
    )
    assert landed == 1


def test_a_lost_booking_is_found_on_a_server_matching_the_invitee_filter_case_for_case(
    synced: Synced,
) -> None:
    # It keeps e-mails in lower case: a filter on the e-mail as typed finds nothing.
    synced.emulator.set_readings("invitee_filter=case_sensitive")
    synced.emulator.set_faults(LOST_AFTER_APPLY.format(endpoints="event_create"))
    booking = {**_bookings_of("Ana.Test@Example.com").rows[0], "invitee_full_name": "Ana Test"}
    with synced.client() as client:
        report = run_operation("event_create", synced.settings, client, Targets(rows=[booking]))

    assert synced.emulator.count("event_create") == 1
    assert report.ok, [(o.outcome, o.error, o.note) for o in report.outcomes]


def test_a_lost_booking_of_an_invitee_with_more_bookings_than_a_page_holds_is_found_not_resent(
    synced: Synced,
) -> None:
    # 100 bookings of this invitee and type, synced, so the new one is on the filtered
    # list's second page (ids ascending): a check of the first page alone finds no new
    # booking and would book it again.
    email = "regular@example.com"
    earlier = [
        {**row, "scheduled_at": f"2031-07-{1 + day:02} {hour:02}:00:00"}
        for day in range(25)
        for hour in (9, 11, 13, 15)
        for row in _bookings_of(email).rows
    ]
    with synced.client() as client:
        made = run_operation("event_create", synced.settings, client, Targets(rows=earlier))
        assert made.ok and len(made.succeeded) == 100
        synced.emulator.set_faults(LOST_AFTER_APPLY.format(endpoints="event_create"))
        report = run_operation(
            "event_create", synced.settings, client, _bookings_of(email), refresh=False
        )

    assert synced.emulator.count("event_create") == 101
    assert _bookings(synced, email) == 101
    assert report.ok and report.resent == 0 and len(report.succeeded) == 1


def test_a_booking_whose_connection_dropped_before_it_was_made_is_sent_again(
    synced: Synced,
) -> None:
    synced.emulator.set_faults("drop=1,max=1,endpoints=event_create")
    with synced.client(timeout=SHORT_TIMEOUT) as client:
        report = run_operation(
            "event_create", synced.settings, client, _bookings_of("late@example.com"),
            refresh=False,
        )  # fmt: skip

    assert report.ok and report.resent == 1
    assert synced.emulator.count("event_create") == 2
    assert _bookings(synced, "late@example.com") == 1


def test_a_canceled_booking_of_the_invitee_at_the_start_is_no_proof_a_lost_booking_was_made(
    synced: Synced,
) -> None:
    # Booked and canceled since the last sync (the warehouse's baseline knows nothing of it):
    # read back after a 502 that applied nothing, it was taken for this row's booking.
    with synced.client(timeout=SHORT_TIMEOUT) as client:
        [earlier] = client.event_create(
            {
                "eventType": 1,
                "scheduledAt": SUMMER,
                "invitee": {"fullName": "Ada", "email": "ada@example.com"},
            }
        )
        client.event_cancel(earlier.id, reason="the invitee asked")
        synced.emulator.set_faults("502=1,max=1,endpoints=event_create")
        report = run_operation(
            "event_create", synced.settings, client, _bookings_of("ada@example.com"),
            refresh=False,
        )  # fmt: skip

    [unknown] = report.unknown
    assert not report.succeeded and "a new booking of this invitee" in (unknown.note or "")


def test_a_colleagues_poll_of_the_same_name_on_other_days_is_no_proof_a_lost_poll_was_made(
    synced: Synced,
) -> None:
    poll = {"event_type_id": 3, "name": "Kick-off", "duration": 45}
    with synced.client(timeout=SHORT_TIMEOUT) as client:
        client.poll_create(
            {
                "eventTypeId": 3,
                "name": "Kick-off",
                "duration": 45,
                "availability": [{"date": "2031-07-01 10:00:00"}],
            }
        )
        synced.emulator.set_faults("500=1,max=1,endpoints=poll_create")
        report = run_operation(
            "poll_create", synced.settings, client,
            Targets(rows=[{**poll, "availability": "2031-06-01 10:00:00"}]), refresh=False,
        )  # fmt: skip

    dates = [
        slot["date"][:10]
        for served in synced.emulator.store.list_dtos("polls")
        if served["name"] == "Kick-off"
        for slot in served["availability"]
    ]
    assert sorted(dates) == ["2031-06-01", "2031-07-01"]
    assert report.ok and report.resent == 1


def test_a_booking_found_missing_beside_a_sibling_rows_booking_of_the_same_invitee_is_sent_again(
    synced: Synced,
) -> None:
    rows = _bookings_of("twice@example.com", "twice@example.com").rows
    rows[1] = {**rows[1], "scheduled_at": "2031-06-06 10:00:00"}
    # Seed 10: the first booking is answered, the second's connection drops before it is made.
    synced.emulator.set_faults("drop=0.5,max=1,seed=10,endpoints=event_create")
    with synced.client(timeout=SHORT_TIMEOUT) as client:
        report = run_operation(
            "event_create", synced.settings, client, Targets(rows=rows),
            concurrency=1, refresh=False,
        )  # fmt: skip

    assert synced.emulator.faults_injected == {"drop": 1}
    assert report.ok and report.resent == 1
    assert synced.emulator.count("event_create") == 3
    assert _bookings(synced, "twice@example.com") == 2


def test_a_booking_refused_beside_sibling_bookings_answered_empty_is_made_by_a_rerun(
    synced: Synced,
) -> None:
    # The reference gives a booking no answer body: a server may say 204 and name nothing.
    # The siblings' bookings, found by their read-backs, are theirs, not this row's.
    rows = _bookings_of(*["series@example.com"] * 3).rows
    rows = [{**row, "scheduled_at": f"2031-06-0{n + 5} 10:00:00"} for n, row in enumerate(rows)]
    refused: list[bytes] = []

    def first_refused_others_empty(up: httpx.Client, path: str, pairs, body, headers):
        if headers.get(":method") == "POST" and path.rstrip("/").endswith("/event"):
            if not refused:
                refused.append(body)
                return httpx.Response(500, json={"message": "internal error"})
            served(up, path, pairs, body, headers)
            return httpx.Response(204)
        return served(up, path, pairs, body, headers)

    with (
        behind(synced.emulator, first_refused_others_empty) as url,
        SimplyMeetClient(url, api_key=synced.emulator.api_key, timeout=SHORT_TIMEOUT) as client,
    ):
        run = {"concurrency": 1, "refresh": False}
        waiting, settled = (
            synced.settings.with_overrides("writeback", settle_seconds=seconds)
            for seconds in (60.0, 0.0)
        )
        first = run_operation("event_create", waiting, client, Targets(rows=rows), **run)
        again = run_operation("event_create", settled, client, Targets(rows=rows), **run)

    starts = sorted(
        synced.event(i)["scheduledAt"][:10] for i in synced.invitee_events("series@example.com")
    )  # type: ignore[index]
    assert not first.ok and again.ok
    assert starts == ["2031-06-05", "2031-06-06", "2031-06-07"]


def test_a_reschedule_whose_answer_was_lost_by_a_server_reading_host_time_is_sent_once(
    synced: Synced,
) -> None:
    ids = synced.upcoming(2)
    synced.emulator.set_request_times("host")
    synced.emulator.set_faults(LOST_AFTER_APPLY.format(endpoints="event_reschedule"))
    rows = [{"id": i, "start": SUMMER} for i in ids]
    with synced.client() as client:
        report = run_operation(
            "event_reschedule", synced.settings, client, Targets(rows=rows), refresh=False
        )

    assert synced.writes_per_event("event_reschedule") == {i: 1 for i in ids}
    assert sorted(o.item.target_id for o in report.unknown) == sorted(ids)
    assert all("the event changed, but not as asked" in (o.note or "") for o in report.unknown)


def test_a_reschedule_whose_resend_answer_was_lost_is_not_sent_a_third_time(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    synced.emulator.set_request_times("host")
    # Seed 1 draws a 502 before the first send is applied, then cuts the answer of the
    # re-send after it was applied.
    synced.emulator.set_faults("502=0.5,truncate=0.5,max=2,seed=1,endpoints=event_reschedule")
    with synced.client(timeout=SHORT_TIMEOUT) as client:
        report = run_operation(
            "event_reschedule", synced.settings, client,
            Targets(rows=[{"id": event_id, "start": SUMMER}]), refresh=False,
        )  # fmt: skip

    assert synced.emulator.faults_injected == {"502": 1, "truncate": 1}
    assert report.resent == 1 and synced.emulator.count("event_reschedule") == 2
    assert [o.item.target_id for o in report.unknown] == [event_id]


@pytest.mark.parametrize("name", ["event_no_show", "event_no_show_list"])
def test_a_no_show_whose_answer_was_lost_is_sent_once_when_the_state_word_is_unknown(
    synced: Synced, name: str
) -> None:
    ids = synced.ids("state = 'active' and scheduled_at < now()", 2)
    synced.emulator.set_anomalies("state_words=no_show:absent")
    synced.emulator.set_faults(LOST_AFTER_APPLY.format(endpoints=name))
    with synced.client() as client:
        report = run_operation(name, synced.settings, client, Targets(ids=ids), refresh=False)

    assert synced.writes_per_event(name) == {i: 1 for i in ids}
    assert sorted(o.item.target_id for o in report.unknown) == ids
    assert {synced.event(i)["state"] for i in ids} == {"no_show"}


def test_a_no_show_the_server_shows_unchanged_is_sent_again_whatever_its_state_words(
    synced: Synced,
) -> None:
    [event_id] = synced.ids("state = 'active' and scheduled_at < now()", 1)
    synced.emulator.set_anomalies("state_words=no_show:absent")
    synced.emulator.set_faults("502=1,max=1,endpoints=event_no_show")
    with synced.client(timeout=SHORT_TIMEOUT) as client:
        report = run_operation(
            "event_no_show", synced.settings, client, Targets(ids=[event_id]), refresh=False
        )

    assert report.ok and report.resent == 1
    assert synced.emulator.count("event_no_show") == 2


def test_a_reschedule_read_back_with_ids_served_as_strings_is_found_applied(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    synced.emulator.set_anomalies("string_ids=1")
    synced.emulator.set_faults(LOST_AFTER_APPLY.format(endpoints="event_reschedule"))
    with synced.client() as client:
        report = run_operation(
            "event_reschedule", synced.settings, client,
            Targets(rows=[{"id": event_id, "start": SUMMER}]), refresh=False,
        )  # fmt: skip

    [done] = report.succeeded
    assert "checked on the server" in (done.note or "")
    assert synced.emulator.count("event_reschedule") == 1


def test_a_rerun_compares_with_the_event_before_the_first_send_not_with_a_warehouse_synced_since(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    synced.emulator.set_request_times("host")
    synced.emulator.set_faults(LOST_AFTER_APPLY.format(endpoints="event_reschedule"))
    target = Targets(rows=[{"id": event_id, "start": SUMMER}])
    run = {"refresh": False}
    with synced.client() as client:
        first = run_operation("event_reschedule", synced.settings, client, target, **run)
        synced.emulator.set_faults(None)
        # The warehouse now holds the moved event: as a baseline it would look untouched.
        run_sync(synced.settings, synced.emulator, resources=EVENTS_ONLY)
        again = run_operation("event_reschedule", synced.settings, client, target, **run)
        sent_before_forcing = synced.emulator.count("event_reschedule")
        forced = run_operation(
            "event_reschedule", synced.settings, client, target, retry_unknown=True, **run
        )

    assert len(first.unknown) == 1
    assert len(again.unknown) == 1 and again.requests == 0
    assert sent_before_forcing == 1
    assert forced.requests == 1


def test_a_poll_lost_before_it_was_made_is_made_though_another_poll_has_its_name(
    synced: Synced,
) -> None:
    existing = synced.emulator.store.list_dtos("polls")[0]
    name, type_id = existing["name"], existing["eventType"]["id"]
    polls_before = len(synced.emulator.store.list_dtos("polls"))
    synced.emulator.set_faults("drop=1,max=1,endpoints=poll_create")
    synced.api_timeout_seconds = SHORT_TIMEOUT

    result = synced.cli(
        "poll", "create", "--event-type-id", str(type_id), "--name", name,
        "--availability", "2031-05-01 10:00:00", "--no-refresh",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("poll_create") == 2
    assert len(synced.emulator.store.list_dtos("polls")) == polls_before + 1


def test_a_poll_refused_with_a_5xx_is_made_though_a_colleague_made_one_of_its_name_since(
    synced: Synced,
) -> None:
    type_id = synced.scalar("select id from event_types order by id limit 1")
    with synced.client() as client:  # since the last sync: another duration, two slots
        client.poll_create(
            {
                "eventTypeId": type_id,
                "name": "Kick-off",
                "duration": 60,
                "availability": [{"date": "2031-05-02 10:00:00"}, {"date": "2031-05-03 10:00:00"}],
            }
        )
    polls_before = len(synced.emulator.store.list_dtos("polls"))
    synced.emulator.set_faults("500=1,max=1,endpoints=poll_create")
    synced.api_timeout_seconds = SHORT_TIMEOUT

    result = synced.cli(
        "poll", "create", "--event-type-id", str(type_id), "--name", "Kick-off",
        "--duration", "30", "--availability", "2031-05-01 10:00:00", "--no-refresh",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("poll_create") == 3  # the colleague's, ours refused, ours
    assert len(synced.emulator.store.list_dtos("polls")) == polls_before + 1


def test_a_user_tag_refused_with_a_5xx_is_made_though_one_of_its_name_has_another_color(
    synced: Synced,
) -> None:
    with synced.client() as client:  # since the last sync
        client.user_event_type_tag_create("VIP", color="#0000ff")
    synced.emulator.set_faults("500=1,max=1,endpoints=user_event_type_tag_create")
    synced.api_timeout_seconds = SHORT_TIMEOUT

    result = synced.cli(
        "user-event-type-tag", "create", "--name", "vip", "--color", "#ff0000", "--no-refresh"
    )

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("user_event_type_tag_create") == 3


def test_a_booking_check_whose_list_never_adds_up_leaves_the_booking_unknown(
    synced: Synced,
) -> None:
    spec = operation("event_create")
    booked = synced.event(synced.upcoming(1)[0])  # an invitee with a booking of that type
    assert booked is not None
    values = {
        **_bookings_of(booked["invitee"]["email"]).rows[0],
        "event_type": booked["eventType"]["id"],
    }
    row = Row("row 1", values)
    [item] = build_plan(spec, [row], {}, view=None).items
    synced.emulator.set_faults("short=1,endpoints=event_list")  # every page short of its meta

    with synced.client() as client:
        verdicts = check_applied(spec, client, [item])

    assert verdicts == {item.key: None}


def test_a_tag_removal_whose_answer_was_lost_is_found_done_when_the_empty_tag_list_answers_404(
    synced: Synced,
) -> None:
    links: dict[int, set[int]] = {}
    for type_id, tag_id in synced.query("select event_type_id, id from raw.event_type_tags"):
        links.setdefault(int(type_id), set()).add(int(tag_id))
    type_id, [tag_id] = next((t, sorted(tags)) for t, tags in links.items() if len(tags) == 1)
    synced.emulator.set_readings("empty_tags=404")  # a type left without tags answers 404
    synced.emulator.set_faults("500=1,after_apply=1,max=1,endpoints=event_type_tag_remove")

    result = synced.cli(
        "event-type-tag", "remove", "--ids", str(type_id), "--tag-id", str(tag_id),
        "--yes", "--no-refresh",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("event_type_tag_remove") == 1


def test_a_write_the_server_works_on_past_the_clients_timeout_is_found_done_not_sent_again(
    synced: Synced,
) -> None:
    # The server applies the reschedule 2.5 s after it reads it; the client waits 1 s.
    [event_id] = synced.upcoming(1)
    before = len(synced.event(event_id)["rescheduling"])  # type: ignore[index]
    synced.emulator.set_faults(
        "stall=1,stall_s=2.5,stall_then=respond,max=1,endpoints=event_reschedule"
    )
    values = {"start": "2031-03-03 10:00:00"}
    with synced.client(timeout=1.0) as client:
        report = run_operation(
            "event_reschedule", synced.settings, client, Targets(ids=[event_id]), values
        )

    assert synced.emulator.received("event_reschedule") == 1
    assert len(synced.event(event_id)["rescheduling"]) == before + 1  # type: ignore[index]
    assert report.ok


@pytest.mark.parametrize("fault", ["504", "500", "drop"])
def test_a_reschedule_a_gateway_answered_while_the_api_still_applied_it_is_sent_once(
    synced: Synced, fault: str
) -> None:
    # The gateway answers (or drops the connection) at once; the API moves the event 1.5 s
    # later. Read back at once, the event is as before: sent again, it would move twice.
    [event_id] = synced.upcoming(1)
    before = len(synced.event(event_id)["rescheduling"])  # type: ignore[index]
    synced.emulator.set_faults(f"{fault}=1,apply_later=1.5,max=1,endpoints=event_reschedule")
    values = {"start": "2031-03-04 10:00:00"}
    with synced.client(timeout=1.0) as client:
        report = run_operation(
            "event_reschedule", synced.settings, client, Targets(ids=[event_id]), values,
            refresh=False,
        )  # fmt: skip

    assert synced.emulator.count("event_reschedule") == 1
    assert len(synced.event(event_id)["rescheduling"]) == before + 1  # type: ignore[index]
    assert report.ok and report.resent == 0
    assert [o.read_back for o in report.succeeded] == [True]


def test_a_list_write_answered_done_for_ids_the_server_left_undone_sends_them_once_settled(
    synced: Synced,
) -> None:
    # The server may still be working through the list: the ids it shows undone are unknown,
    # and sent by a re-run once settle_seconds have passed.
    ids = synced.upcoming(4)
    synced.emulator.set_readings("list_writes=partial")  # acts on the first half, answers 204
    with synced.client() as client:
        first = run_operation("event_cancel_list", synced.settings, client, Targets(ids=ids))
        synced.emulator.set_readings(None)
        time.sleep(SHORT_SETTLE + 2.2)  # the period, and the server's whole-second clock
        again = run_operation("event_cancel_list", synced.settings, client, Targets(ids=ids))

    assert first.counts()["unknown"] == 2 and not first.ok
    assert again.ok
    assert all(synced.event(i)["state"] == "canceled" for i in ids)  # type: ignore[index]


def test_a_list_write_of_one_id_answered_done_but_left_undone_is_sent_once_settled(
    synced: Synced,
) -> None:
    ids = synced.upcoming(3)
    synced.emulator.set_readings("list_writes=partial")  # of one id, acts on none
    with synced.client() as client:
        first = run_operation(
            "event_cancel_list", synced.settings, client, Targets(ids=ids), chunk_size=2
        )
        synced.emulator.set_readings(None)
        time.sleep(SHORT_SETTLE + 2.2)  # the period, and the server's whole-second clock
        again = run_operation(
            "event_cancel_list", synced.settings, client, Targets(ids=ids), chunk_size=2
        )

    assert first.counts()["unknown"] == 2 and not first.ok
    assert again.ok
    assert all(synced.event(i)["state"] == "canceled" for i in ids)  # type: ignore[index]


def test_a_write_answered_200_with_a_body_saying_it_failed_is_not_reported_done(
    synced: Synced,
) -> None:
    # "Returns empty response when the operation is successful": this answer is not empty.
    [event_id] = synced.ids("state = 'active'", 1)
    synced.emulator.set_faults("said_failed=1,max=1,endpoints=event_notes")  # not applied
    with synced.client() as client:
        report = run_operation(
            "event_notes", synced.settings, client, Targets(ids=[event_id]), {"notes": "x"}
        )

    assert report.counts()["failed"] == 1 and not report.ok


def _reads_failing_after_the_write(
    on_write: Callable[[httpx.Client, str, Pairs, bytes, dict[str, str]], httpx.Response],
) -> Callable[..., httpx.Response]:
    """A proxy's answer: the cancel-list write answered by `on_write`, and every read of the
    events after it by a 500 (a replica down: nothing the write did can be read back)."""
    written: list[bytes] = []

    def answer(up: httpx.Client, path: str, pairs: Pairs, body, headers) -> httpx.Response:
        if path.endswith("/event/cancel-list") and body:
            written.append(body)
            return on_write(up, path, pairs, body, headers)
        if written and headers.get(":method") == "GET" and "/event" in path:
            return httpx.Response(500, json={"message": "internal error"})
        return served(up, path, pairs, body, headers)

    return answer


def _applying_the_first(count: int, then: httpx.Response) -> Callable[..., httpx.Response]:
    """A list write applied to its first `count` ids only, then answered `then`."""

    def on_write(up: httpx.Client, path: str, pairs: Pairs, body: bytes, headers):
        part = orjson.dumps({**orjson.loads(body), "ids": orjson.loads(body)["ids"][:count]})
        sized = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        served(up, path, pairs, part, sized)
        return then

    return on_write


def test_a_list_write_answered_done_whose_read_back_fails_is_unknown_not_done(
    synced: Synced,
) -> None:
    # "A server may apply some ids and answer for all": unread, nothing proves the rest done.
    ids = synced.upcoming(3)
    answer = _reads_failing_after_the_write(_applying_the_first(2, httpx.Response(204)))
    with (
        behind(synced.emulator, answer) as url,
        SimplyMeetClient(url, api_key=synced.emulator.api_key, timeout=SHORT_TIMEOUT) as client,
    ):
        report = run_operation(
            "event_cancel_list", synced.settings, client, Targets(ids=ids), refresh=False
        )

    assert report.counts()["unknown"] == 3 and not report.ok
    assert synced.event(ids[2])["state"] == "active"  # type: ignore[index]


def test_a_refused_list_whose_read_back_fails_sends_none_of_its_cancels_again(
    synced: Synced,
) -> None:
    # A server working through the list applies two ids, then refuses it at a bad one; the
    # two cannot be told from the one it did not reach.
    ids = synced.upcoming(3)
    refused = httpx.Response(422, json={"message": "invalid id"})
    answer = _reads_failing_after_the_write(_applying_the_first(2, refused))
    with (
        behind(synced.emulator, answer) as url,
        SimplyMeetClient(url, api_key=synced.emulator.api_key, timeout=SHORT_TIMEOUT) as client,
    ):
        report = run_operation(
            "event_cancel_list", synced.settings, client, Targets(ids=ids), refresh=False
        )

    assert synced.writes_per_event("event_cancel_list", "event_cancel") == {ids[0]: 1, ids[1]: 1}
    assert report.counts()["unknown"] == 3 and not report.ok
