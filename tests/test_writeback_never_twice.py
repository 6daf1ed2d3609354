"""A write that e-mails people is never applied twice: not when the server applies it late, not
when the command is run again on a changed input.

Counted as the emulator logs them: write requests per target, and what the server holds.
"""

from __future__ import annotations

import datetime as dt
import socket
import time
from types import SimpleNamespace

import duckdb
import pytest

from simplymeet.client import SimplyMeetClient
from simplymeet.writeback import Targets, execute, journal, run_operation, server_time
from tests.writeback_fixtures import (  # noqa: F401 - fixtures
    Synced,
    synced_fixture,
    synced_template_fixture,
)

LONG_SETTLE = 60.0
"""A `[writeback] settle_seconds` no test waits out: what a deployment's default (900) does."""


def _settling(synced: Synced, seconds: float = LONG_SETTLE) -> object:
    return synced.settings.with_overrides("writeback", settle_seconds=seconds)


# --- late-applied writes ----------------------------------------------------------------------


def test_a_cancel_list_the_server_works_through_past_the_timeout_is_sent_once(
    synced: Synced,
) -> None:
    # The gateway answers 504 at once; the API cancels one id every 0.8 s, the last one
    # past the client's timeout and the wait after it: read back then, the rest looks undone.
    ids = synced.upcoming(6)
    synced.emulator.set_faults(
        "504=1,max=1,apply_later=0.2,apply_each=0.8,endpoints=event_cancel_list"
    )
    with synced.client(timeout=1.0) as client:
        report = run_operation(
            "event_cancel_list", _settling(synced), client, Targets(ids=ids), refresh=False
        )
    time.sleep(1.0)  # anything sent again would have landed by now

    assert synced.writes_per_event("event_cancel_list") == {i: 1 for i in ids}
    assert report.ok and report.resent == 0 and len(report.succeeded) == 6
    assert {synced.event(i)["state"] for i in ids} == {"canceled"}  # type: ignore[index]


def test_a_rerun_after_the_settle_period_holds_what_a_list_write_still_being_applied_left(
    synced: Synced,
) -> None:
    # 204 at once, then one cancel (one e-mail) every 3 s: the settle period (4 s) passes
    # since the send while the server is still at it. A re-run then sees more applied than
    # the last run did, and holds the rest: their settle period starts again.
    ids = synced.upcoming(5)
    synced.emulator.set_faults(
        "unapplied=1,max=1,apply_later=0.2,apply_each=3,endpoints=event_cancel_list"
    )
    settings = _settling(synced, 4.0)
    with synced.client(timeout=0.5) as client:
        sent = time.monotonic()
        run_operation("event_cancel_list", settings, client, Targets(ids=ids), refresh=False)
        time.sleep(max(0.0, sent + 4.5 - time.monotonic()))
        again = run_operation(
            "event_cancel_list", settings, client, Targets(ids=ids), refresh=False
        )
    _until_applied(synced, *ids)

    assert again.requests == 0
    assert synced.writes_per_event("event_cancel_list") == {i: 1 for i in ids}


def _list_targets(synced: Synced, endpoint: str) -> list[int]:
    """Bookings a list write of `endpoint` acts on without --include-past or --include-future."""
    if endpoint == "event_no_show_list":
        return synced.ids("state = 'active' and scheduled_at < now()", 5)
    return synced.upcoming(5)


@pytest.mark.parametrize("endpoint", ["event_no_show_list", "event_cancel_list"])
def test_a_list_write_answered_done_and_applied_seconds_later_is_not_sent_again_by_a_rerun(
    synced: Synced, endpoint: str
) -> None:
    # A queued bulk job: 204 at once, applied seconds later. Read back at once, the
    # bookings look untouched; a re-run after the server applied them must find them done.
    ids = _list_targets(synced, endpoint)
    synced.emulator.set_faults(f"unapplied=1,max=1,apply_later=3,endpoints={endpoint}")
    with synced.client() as client:
        first = run_operation(endpoint, _settling(synced), client, Targets(ids=ids), refresh=False)
        _until_applied(synced, *ids)
        again = run_operation(endpoint, _settling(synced), client, Targets(ids=ids), refresh=False)

    assert synced.writes_per_event(endpoint) == {i: 1 for i in ids}
    assert len(first.unknown) == len(ids) and not first.failed
    assert again.ok and again.requests == 0


def test_a_list_write_answered_failed_that_the_server_applies_after_is_not_sent_again_at_once(
    synced: Synced,
) -> None:
    # A front end answering 200 {"success": false} while the backend still applies the list:
    # read back not done yet, it is unknown, and a re-run straight after sends nothing.
    ids = _list_targets(synced, "event_no_show_list")
    synced.emulator.set_faults("said_failed=1,max=1,apply_later=4,endpoints=event_no_show_list")
    targets = Targets(ids=ids)
    with synced.client() as client:
        first = run_operation("event_no_show_list", synced.settings, client, targets, refresh=False)
        again = run_operation("event_no_show_list", synced.settings, client, targets, refresh=False)
    _until_applied(synced, *ids)  # and nothing sent again lands after it

    assert len(first.unknown) == len(ids)
    assert len(again.unknown) == len(ids) and again.requests == 0
    assert synced.writes_per_event("event_no_show_list") == {i: 1 for i in ids}


def _cancel_applied_late(synced: Synced, seconds: float = 6.0) -> tuple[int, Targets]:
    """A booking whose cancel the gateway answers 504 at once and the API applies `seconds`
    later, past a 1-s client's wait and its read-back 3 s after the send (the seconds between
    are what a loaded machine has to plan and read the next run); its id and the targets
    naming it."""
    [event_id] = synced.upcoming(1)
    synced.emulator.set_faults(f"504=1,max=1,apply_later={seconds},endpoints=event_cancel")
    return event_id, Targets(ids=[event_id])


def _until_applied(synced: Synced, *event_ids: int) -> None:
    """Wait until none of these active bookings is active: the write applied late landed."""
    synced.until(
        lambda: all(synced.event(i)["state"] != "active" for i in event_ids),  # type: ignore[index]
        f"the late write of events {event_ids}",
    )


@pytest.mark.parametrize("endpoint", ["event_cancel", "event_cancel_list"])
def test_a_cancel_answered_with_a_504_cut_short_while_the_api_still_applies_it_is_sent_once(
    synced: Synced, endpoint: str
) -> None:
    # The gateway's 504 is cut short (its status lost with the body); the API applies the
    # cancel 2 s later. Read back at once, the booking looks untouched.
    [event_id] = synced.upcoming(1)
    synced.emulator.set_faults(f"truncate=1,max=1,apply_later=2,endpoints={endpoint}")
    with synced.client(timeout=1.0) as client:
        report = run_operation(
            endpoint, _settling(synced), client, Targets(ids=[event_id]), refresh=False
        )
    _until_applied(synced, event_id)

    assert synced.writes_per_event(endpoint) == {event_id: 1}
    assert report.resent == 0


def _cancel_answered_504(synced: Synced) -> tuple[int, Targets]:
    """A booking whose cancel the gateway answers 504 and the API never applies: the client
    cannot tell it from one still being applied, so a re-run within the settle period must
    hold it whatever the machine's speed; its id and the targets naming it."""
    [event_id] = synced.upcoming(1)
    synced.emulator.set_faults("504=1,max=1,endpoints=event_cancel")
    return event_id, Targets(ids=[event_id])


def test_a_cancel_the_server_applies_after_the_clients_wait_is_not_sent_again_in_the_run(
    synced: Synced,
) -> None:
    event_id, target = _cancel_applied_late(synced)
    with synced.client(timeout=1.0) as client:
        first = run_operation("event_cancel", _settling(synced), client, target, refresh=False)
        again = run_operation("event_cancel", _settling(synced), client, target, refresh=False)
        _until_applied(synced, event_id)
        settled = run_operation(
            "event_cancel", _settling(synced, 0.0), client, target, refresh=False
        )

    assert synced.emulator.count("event_cancel") == 1
    assert synced.event(event_id)["state"] == "canceled"  # type: ignore[index]
    [unknown] = first.unknown
    assert "may still be applying it" in (unknown.note or "") and first.resent == 0
    assert len(again.unknown) == 1 and again.requests == 0
    assert settled.ok and settled.requests == 0


@pytest.mark.parametrize(
    ("endpoint", "values"),
    [
        pytest.param("event_cancel", {"reason": "host away (resent)"}, id="another-reason"),
        pytest.param("event_cancel_list", {"reason": "host away"}, id="through-the-list"),
    ],
)
def test_a_cancel_another_job_sent_is_not_sent_by_a_changed_command_before_it_settles(
    synced: Synced, endpoint: str, values: dict[str, str]
) -> None:
    # Another payload or endpoint hashes to another job; the invitee's e-mail is the same.
    event_id, target = _cancel_answered_504(synced)
    with synced.client(timeout=1.0) as client:
        first = run_operation(
            "event_cancel", _settling(synced), client, target, {"reason": "host away"},
            refresh=False,
        )  # fmt: skip
        other = run_operation(endpoint, _settling(synced), client, target, values, refresh=False)

    assert len(first.unknown) == 1
    assert len(other.failed) == 1 and other.requests == 0  # held: a re-run sends it if needed
    assert "held: the server may still be applying it" in (other.failed[0].note or "")
    assert synced.writes_per_event("event_cancel", "event_cancel_list") == {event_id: 1}


def test_a_held_cancel_run_again_before_the_other_jobs_send_settles_is_held_again(
    synced: Synced,
) -> None:
    # The hold is journaled in the held job: its re-run has written the target since the
    # other job's send, and must still not send while that send may land.
    event_id, target = _cancel_answered_504(synced)
    with synced.client(timeout=1.0) as client:
        run_operation(
            "event_cancel", _settling(synced), client, target, {"reason": "a"}, refresh=False
        )
        held = run_operation(
            "event_cancel", _settling(synced), client, target, {"reason": "b"}, refresh=False
        )
        again = run_operation(
            "event_cancel", _settling(synced), client, target, {"reason": "b"}, refresh=False
        )

    assert len(held.failed) == 1 and len(again.failed) == 1 and again.requests == 0
    assert "held: the server may still be applying it" in (again.failed[0].note or "")
    assert synced.writes_per_event("event_cancel", "event_cancel_list") == {event_id: 1}


def test_a_changed_cancel_after_the_other_jobs_settle_period_is_sent_when_still_not_applied(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    synced.emulator.set_faults("500=1,max=1,endpoints=event_cancel")  # refused, not applied
    target = Targets(ids=[event_id])
    with synced.client(timeout=1.0) as client:
        first = run_operation(
            "event_cancel", _settling(synced), client, target, {"reason": "a"}, refresh=False
        )
        later = run_operation(
            "event_cancel", _settling(synced, 0.0), client, target, {"reason": "b"}
        )

    assert len(first.unknown) == 1
    assert later.ok and later.requests == 1
    assert synced.event(event_id)["state"] == "canceled"  # type: ignore[index]


def test_a_changed_cancel_of_a_booking_another_job_left_open_and_deleted_since_skips_it(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    synced.emulator.set_faults("500=1,max=1,endpoints=event_cancel")  # refused, not applied
    target = Targets(ids=[event_id])
    with synced.client(timeout=1.0) as client:
        first = run_operation(
            "event_cancel", _settling(synced), client, target, {"reason": "a"}, refresh=False
        )
        client.event_delete(event_id)
        later = run_operation("event_cancel", _settling(synced), client, target, {"reason": "b"})

    assert len(first.unknown) == 1
    assert [o.note for o in later.skipped] == ["deleted upstream"] and later.requests == 0
    assert synced.scalar(f"select deleted_at is not null from events where id = {event_id}")


def test_a_reschedule_is_held_while_another_jobs_cancel_of_the_booking_may_still_land(
    synced: Synced,
) -> None:
    event_id, target = _cancel_applied_late(synced)
    move = {"start": "2031-05-06 10:00:00"}
    with synced.client(timeout=1.0) as client:
        cancel = run_operation("event_cancel", _settling(synced), client, target, refresh=False)
        held = run_operation(
            "event_reschedule", _settling(synced), client, target, move, refresh=False
        )
        _until_applied(synced, event_id)
        later = run_operation(
            "event_reschedule", _settling(synced, 0.0), client, target, move, refresh=False
        )

    assert len(cancel.unknown) == 1
    assert len(held.failed) == 1 and held.requests == 0
    assert synced.query(
        f"select outcome from writeback.journal where run_id = '{held.run_id}'"
    ) == [("failed",)]
    assert len(later.skipped) == 1 and later.requests == 0  # canceled, as the server shows
    assert synced.writes_per_event("event_reschedule") == {}
    assert synced.event(event_id)["state"] == "canceled"  # type: ignore[index]


def _clock_shifted(hours: float) -> SimpleNamespace:
    """A stand-in for the `datetime` module whose clock runs `hours` ahead (behind if < 0)."""

    class Shifted(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return dt.datetime.now(tz) + dt.timedelta(hours=hours)

    return SimpleNamespace(datetime=Shifted, timedelta=dt.timedelta, UTC=dt.UTC, date=dt.date)


@pytest.mark.parametrize(
    ("first_hours", "again_hours"),
    [
        pytest.param(0, 2, id="the-rerun-two-hours-ahead"),
        pytest.param(-2, 0, id="the-send-two-hours-behind"),
    ],
)
def test_a_clock_off_by_hours_on_either_run_does_not_end_the_settle_period_early(
    synced: Synced, monkeypatch, first_hours: float, again_hours: float
) -> None:
    event_id, target = _cancel_answered_504(synced)

    def cancel(hours: float):
        with monkeypatch.context() as shifted:  # this machine's clock, off by `hours`
            for module in (execute, server_time, journal):
                shifted.setattr(module, "dt", _clock_shifted(hours))
            return run_operation("event_cancel", _settling(synced), client, target, refresh=False)

    with synced.client(timeout=1.0) as client:
        first, again = cancel(first_hours), cancel(again_hours)

    assert len(first.unknown) == 1 and len(again.unknown) == 1 and again.requests == 0
    assert synced.writes_per_event("event_cancel") == {event_id: 1}


def test_a_cancel_not_applied_within_the_settle_period_is_sent_by_a_rerun_after_it(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    synced.emulator.set_faults("500=1,max=1,endpoints=event_cancel")
    target = Targets(ids=[event_id])
    with synced.client(timeout=1.0) as client:
        first = run_operation("event_cancel", _settling(synced), client, target, refresh=False)
        later = run_operation("event_cancel", _settling(synced, 0.0), client, target)

    assert len(first.unknown) == 1 and first.requests == 1
    assert later.ok and later.requests == 1
    assert synced.emulator.count("event_cancel") == 2
    assert synced.event(event_id)["state"] == "canceled"  # type: ignore[index]


def test_the_cli_leaves_a_late_write_unknown_with_exit_6_naming_when_a_rerun_sends_it(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    synced.emulator.set_faults("500=1,max=1,endpoints=event_cancel")
    synced.api_timeout_seconds, synced.settle_seconds = 1.0, LONG_SETTLE

    result = synced.cli("event", "cancel", "--ids", str(event_id), "--yes", "--no-refresh")

    assert result.exit_code == 6, result.output
    assert "not sent again before" in result.output
    assert synced.emulator.count("event_cancel") == 1


def test_a_rerun_that_cannot_reach_the_server_to_check_what_was_left_open_exits_5(
    synced: Synced,
) -> None:
    # Left unknown by the first run; the re-run's check of it is an outage to retry, not a
    # fate to resolve with --retry-unknown (which would send it blind).
    [event_id] = synced.upcoming(1)
    synced.emulator.set_faults("500=1,max=1,endpoints=event_cancel")
    with synced.client(timeout=1.0) as client:
        first = run_operation(
            "event_cancel", _settling(synced), client, Targets(ids=[event_id]), refresh=False
        )
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}"

    again = synced.cli(
        "event", "cancel", "--ids", str(event_id), "--yes", "--no-refresh", "--base-url", nowhere
    )

    assert len(first.unknown) == 1
    assert again.exit_code == 5, again.output
    assert "--retry-unknown" not in again.output
    assert synced.emulator.count("event_cancel") == 1


# --- a re-run on a changed input --------------------------------------------------------------


def test_a_notification_an_earlier_job_sent_is_held_back_when_the_selection_changes(
    synced: Synced,
) -> None:
    a, b, c = synced.upcoming(3)
    # The first request (a's) is sent, and its answer lost.
    synced.emulator.set_faults("drop=1,after_apply=1,max=1,endpoints=event_resend_notification")
    first = synced.cli(
        "event", "resend-notification", "--ids", f"{a},{b},{c}", "--concurrency", "1",
        "--no-refresh",
    )  # fmt: skip
    rerun = synced.cli("event", "resend-notification", "--ids", f"{a},{b}")

    assert first.exit_code == 6, first.output
    assert rerun.exit_code == 6, rerun.output
    assert "held back (1)" in rerun.output and "--resend" in rerun.output
    assert "unknown 1" in rerun.output
    assert synced.writes_per_event("event_resend_notification") == {a: 1, b: 1, c: 1}


def test_a_notification_held_back_is_sent_again_with_resend(synced: Synced) -> None:
    [a] = synced.upcoming(1)
    first = synced.cli("event", "resend-notification", "--ids", str(a), "--no-refresh")
    other_job = synced.cli("event", "resend-notification", "--ids", str(a), "--job", "again")
    forced = synced.cli(
        "event", "resend-notification", "--ids", str(a), "--job", "forced", "--resend"
    )

    assert first.exit_code == 0 and other_job.exit_code == 6, other_job.output
    assert forced.exit_code == 0, forced.output
    assert synced.emulator.count("event_resend_notification") == 2


def test_a_dry_run_lists_a_notification_another_job_sent_as_held_back_not_as_a_request(
    synced: Synced,
) -> None:
    a, b = synced.upcoming(2)
    first = synced.cli("event", "resend-notification", "--ids", str(a), "--no-refresh")
    dry = synced.cli("event", "resend-notification", "--ids", f"{a},{b}", "--dry-run")
    forced = synced.cli(
        "event", "resend-notification", "--ids", f"{a},{b}", "--dry-run", "--resend"
    )

    assert first.exit_code == 0 and dry.exit_code == 0, dry.output
    assert "1 to send" in dry.output and "1 held back" in dry.output, dry.output
    assert "requests (1)" in dry.output, dry.output
    assert f"resend-notification/{a}\n" not in dry.output, dry.output
    assert "2 to send" in forced.output and "requests (2)" in forced.output, forced.output


def test_an_invitation_whose_answer_was_lost_is_not_sent_again_with_a_message_added(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    synced.emulator.set_faults("drop=1,after_apply=1,max=1,endpoints=event_invite_participants")
    invite = ("event", "invite-participants", "--ids", str(event_id), "--emails", "g@x.org")
    first = synced.cli(*invite)
    rerun = synced.cli(*invite, "--message", "see you there")

    assert first.exit_code == 6 and rerun.exit_code == 6, rerun.output
    assert synced.emulator.count("event_invite_participants") == 1


# --- a booking made by a killed run -----------------------------------------------------------


def test_a_booking_a_killed_run_made_is_not_made_again_by_a_rerun_with_a_detail_changed(
    synced: Synced,
) -> None:
    booking = {
        "event_type": 1,
        "scheduled_at": "2031-06-05 10:00:00",
        "invitee_full_name": "Zed Zero",
        "invitee_email": "zed@example.com",
    }
    with synced.client() as client:
        first = run_operation(
            "event_create", synced.settings, client, Targets(rows=[booking]), refresh=False
        )
    # As a run SIGKILLed once its request was out: the entry pending, begun a while ago.
    con = duckdb.connect(str(synced.db))
    con.execute(
        "update writeback.journal set outcome = 'pending', finished_at = null, "
        "started_at = started_at - interval 10 minute"
    )
    con.close()
    changed = {**booking, "invitee_phone_number": "+33612345678"}
    with synced.client() as client:
        rerun = run_operation("event_create", synced.settings, client, Targets(rows=[changed]))

    assert first.ok and first.plan.job_id != rerun.plan.job_id
    assert synced.emulator.count("event_create") == 1
    assert len(synced.invitee_events("zed@example.com")) == 1
    assert rerun.ok and rerun.requests == 0
    assert "took effect in an earlier run" in (rerun.succeeded[0].note or "")


def _booking(email: str, **more: str) -> dict[str, object]:
    return {
        "event_type": 1,
        "scheduled_at": "2031-06-05 10:00:00",
        "invitee_full_name": "Zed Zero",
        "invitee_email": email,
        **more,
    }


def _book_directly(client: SimplyMeetClient, row: dict[str, object]) -> int:
    """Book `row` through the API, as outside this tool (no job knows it); its event id."""
    [made] = client.event_create(
        {
            "eventType": row["event_type"],
            "scheduledAt": row["scheduled_at"],
            "invitee": {"fullName": "Someone", "email": row["invitee_email"]},
        }
    )
    return made.id


def test_a_booking_another_finished_job_made_is_not_made_again_with_a_detail_changed(
    synced: Synced,
) -> None:
    # The same rows with a column added hash to another job, whose plan knows nothing of the
    # first job's bookings: only the server shows the invitee has it.
    rows = [_booking(f"zed{n}@example.com") for n in range(3)]
    with synced.client() as client:
        first = run_operation("event_create", synced.settings, client, Targets(rows=rows))
        phoned = [{**row, "invitee_phone_number": "+33612345678"} for row in rows]
        again = run_operation("event_create", synced.settings, client, Targets(rows=phoned))

    assert first.ok and first.plan.job_id != again.plan.job_id
    assert again.ok and again.requests == 0 and len(again.skipped) == 3
    assert {o.note for o in again.skipped} == {
        f"already booked (on the server) · event {n}" for n in synced.invitee_events_of(rows)
    }
    assert synced.emulator.count("event_create") == 3


def test_a_booking_the_invitee_has_in_another_case_is_not_made_again(synced: Synced) -> None:
    with synced.client() as client:
        run_operation(
            "event_create", synced.settings, client, Targets(rows=[_booking("ann@example.com")])
        )
        again = run_operation(
            "event_create", synced.settings, client, Targets(rows=[_booking("Ann@Example.com")])
        )

    assert again.ok and again.requests == 0 and len(again.skipped) == 1
    assert synced.emulator.count("event_create") == 1


def test_a_booking_asking_a_start_the_invitee_has_among_others_is_refused_not_sent(
    synced: Synced,
) -> None:
    with synced.client() as client:
        _book_directly(client, _booking("bo@example.com"))
        two = _booking("bo@example.com", multiple_scheduled_at="2031-06-12 10:00:00")
        again = run_operation("event_create", synced.settings, client, Targets(rows=[two]))

    [refused] = again.failed
    assert "already has this booking at 2031-06-05 10:00:00" in (refused.error or "")
    assert again.requests == 0 and synced.emulator.count("event_create") == 1


def test_a_booking_the_invitee_had_and_canceled_is_made(synced: Synced) -> None:
    row = _booking("cy@example.com")
    with synced.client() as client:
        client.event_cancel(_book_directly(client, row), reason="the invitee asked")
        report = run_operation("event_create", synced.settings, client, Targets(rows=[row]))

    assert report.ok and report.requests == 1 and len(report.succeeded) == 1
    assert synced.emulator.count("event_create") == 2


# --- answered 429 -----------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["event_cancel", "event_cancel_list"])
def test_a_cancel_applied_then_answered_429_is_read_back_and_not_sent_again(
    synced: Synced, endpoint: str
) -> None:
    # A quota counted after the work, or a gateway's limiter on the way back: applied.
    ids = synced.upcoming(2)
    synced.emulator.set_faults(f"429=1,max=1,after_apply=429,retry_after=0,endpoints={endpoint}")
    with synced.client() as client:
        report = run_operation(endpoint, _settling(synced), client, Targets(ids=ids), refresh=False)

    assert synced.writes_per_event(endpoint) == {i: 1 for i in ids}
    assert report.ok and report.resent == 0 and len(report.succeeded) == 2


def test_a_cancel_list_answered_429_while_the_api_works_through_it_is_sent_once(
    synced: Synced,
) -> None:
    # A gateway's limiter answers 429 while the API cancels one id every 0.8 s: read back
    # after the Retry-After, part of the list is applied and the rest may be a moment later.
    ids = synced.upcoming(6)
    synced.emulator.set_faults(
        "429=1,max=1,retry_after=1,apply_later=0.2,apply_each=0.8,endpoints=event_cancel_list"
    )
    with synced.client(timeout=1.0) as client:
        report = run_operation(
            "event_cancel_list", _settling(synced), client, Targets(ids=ids), refresh=False
        )
    _until_applied(synced, *ids)  # and nothing sent again lands after it

    assert synced.writes_per_event("event_cancel_list") == {i: 1 for i in ids}
    assert report.resent == 0


def test_a_cancel_refused_with_429_is_sent_again_once_read_back_not_applied(
    synced: Synced,
) -> None:
    [event] = synced.upcoming(1)
    synced.emulator.set_faults("429=1,max=1,retry_after=0,endpoints=event_cancel")
    with synced.client(timeout=1.0) as client:  # read again once it cannot be in flight
        report = run_operation(
            "event_cancel", _settling(synced), client, Targets(ids=[event]), refresh=False
        )

    assert synced.emulator.count("event_cancel") == 2
    assert report.ok and report.resent == 1
    assert synced.event(event)["state"] == "canceled"  # type: ignore[index]


@pytest.mark.parametrize(
    ("endpoint", "values"),
    [
        ("event_reschedule", {"start": "2031-03-05 10:00:00"}),
        ("event_cancel", {"reason": "host away"}),
    ],
    ids=["reschedule", "cancel"],
)
def test_a_write_answered_429_that_the_api_applies_late_is_sent_once(
    synced: Synced, endpoint: str, values: dict[str, str]
) -> None:
    # A limiter answers while the request travels on to the API, applied 2 s later: read
    # back after the Retry-After, the booking is as before, and sent again it moves twice.
    [event] = synced.upcoming(1)
    moves = len(synced.event(event)["rescheduling"])  # type: ignore[index]
    synced.emulator.set_faults(f"429=1,max=1,retry_after=1,apply_later=2,endpoints={endpoint}")
    with synced.client(timeout=1.0) as client:
        report = run_operation(
            endpoint, _settling(synced), client, Targets(ids=[event]), values, refresh=False
        )
    time.sleep(1.0)  # anything sent again would have landed by now

    assert synced.emulator.count(endpoint) == 1
    assert report.ok and report.resent == 0
    if endpoint == "event_reschedule":
        assert len(synced.event(event)["rescheduling"]) == moves + 1  # type: ignore[index]
    else:
        assert synced.event(event)["state"] == "canceled"  # type: ignore[index]


_UNCHECKABLE = pytest.mark.parametrize(
    ("endpoint", "command"),
    [
        ("event_resend_notification", ["event", "resend-notification", "--ids", "{event}"]),
        ("single_use_link_create", ["single-use-link", "create", "--ids", "4"]),
    ],
    ids=["notification", "single-use-link"],
)
"""Writes that e-mail people or create, and that cannot be read back."""


@_UNCHECKABLE
def test_a_write_that_cannot_be_read_back_answered_as_failed_is_left_unknown_not_sent_again(
    synced: Synced, endpoint: str, command: list[str]
) -> None:
    # A front end's 200 {"success": false} while the backend still does it: sent again by a
    # re-run, the link is made twice.
    [event] = synced.upcoming(1)
    synced.emulator.set_faults(f"said_failed=1,max=1,apply_later=0.5,endpoints={endpoint}")
    args = [part.format(event=event) for part in command]
    first = synced.cli(*args, "--no-refresh")
    again = synced.cli(*args, "--no-refresh")

    assert first.exit_code == 6 and "unknown 1" in first.output, first.output
    assert again.exit_code == 6 and "unknown 1" in again.output, again.output
    assert synced.emulator.count(endpoint) == 1


@_UNCHECKABLE
def test_a_write_that_cannot_be_read_back_answered_429_is_left_unknown_not_sent_again(
    synced: Synced, endpoint: str, command: list[str]
) -> None:
    # A 429 after the work was done (an e-mail sent, a link made) would do it twice.
    [event] = synced.upcoming(1)
    synced.emulator.set_faults(f"429=1,max=1,after_apply=429,retry_after=0,endpoints={endpoint}")
    args = [part.format(event=event) for part in command]
    result = synced.cli(*args, "--no-refresh")

    assert result.exit_code == 6, result.output
    assert "unknown 1" in result.output
    assert synced.emulator.count(endpoint) == 1
