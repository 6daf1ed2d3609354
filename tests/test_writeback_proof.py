"""A run proves itself against what the server says: exit 0 only when everything asked was
applied, and a re-run resumes what the journal holds instead of refusing or re-claiming it.

Each test plants a server that answers one way and shows something else: a 2xx whose body is
not what the reference promises, a booking of several starts that made only some, a poll of a
name another row of the job made, a delete answered 5xx by a list that leaves the event out.
"""

from __future__ import annotations

import time

import pytest
from click.testing import Result

from simplymeet.contract.dates import parse_api_datetime
from simplymeet.writeback.operations import operation
from simplymeet.writeback.plan import build_plan
from simplymeet.writeback.targets import Row
from simplymeet.writeback.verify import check_applied
from tests.writeback_fixtures import (  # noqa: F401 - fixtures
    SHORT_SETTLE,
    SHORT_TIMEOUT,
    Synced,
    synced_fixture,
    synced_template_fixture,
    write_csv,
)


def _user_tag_ids(synced: Synced) -> list[int]:
    return sorted(t["id"] for t in synced.emulator.store.list_dtos("user_event_type_tags"))


# --- a delete's re-run after its refresh -------------------------------------------------------


def test_a_finished_tag_delete_run_again_says_all_done(synced: Synced) -> None:
    tag_id = _user_tag_ids(synced)[0]
    first = synced.cli("user-event-type-tag", "delete", "--ids", str(tag_id), "--yes")
    assert first.exit_code == 0, first.output

    again = synced.cli("user-event-type-tag", "delete", "--ids", str(tag_id), "--yes")

    assert again.exit_code == 0, again.output
    assert "all 1 already done" in again.output
    assert synced.emulator.count("user_event_type_tag_delete") == 1


def test_a_finished_poll_delete_run_again_says_all_done(synced: Synced) -> None:
    poll_id = synced.emulator.store.list_dtos("polls")[0]["id"]
    first = synced.cli("poll", "delete", "--ids", str(poll_id), "--yes")
    assert first.exit_code == 0, first.output

    again = synced.cli("poll", "delete", "--ids", str(poll_id), "--yes")

    assert again.exit_code == 0, again.output
    assert "all 1 already done" in again.output
    assert synced.emulator.count("poll_delete") == 1


def test_a_partial_tag_delete_run_again_sends_only_the_tag_left(synced: Synced) -> None:
    first_id, second_id = _user_tag_ids(synced)[:2]
    # The first DELETE is answered 429 until the client gives up: not applied, failed.
    synced.emulator.set_faults("429=1,retry_after=0,max=4,endpoints=user_event_type_tag_delete")
    ids = f"{first_id},{second_id}"
    first = synced.cli("user-event-type-tag", "delete", "--ids", ids, "--yes", "--concurrency", "1")
    assert first.exit_code == 6, first.output

    again = synced.cli("user-event-type-tag", "delete", "--ids", ids, "--yes", "--concurrency", "1")

    assert again.exit_code == 0, again.output
    assert not {first_id, second_id} & set(_user_tag_ids(synced))
    assert synced.emulator.count("user_event_type_tag_delete", status=204) == 2


# --- a delete's read-back ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["delete", "delete-list"])
def test_a_delete_answered_502_is_not_done_because_the_list_leaves_canceled_events_out(
    synced: Synced, command: str
) -> None:
    # The list serves canceled events only when filter[state] asks; the gateway's 502 came
    # before the API deleted anything. Missing from the list, the event is still there.
    [event_id] = synced.ids("state = 'canceled'", 1)
    endpoint = "event_" + command.replace("-", "_")
    synced.emulator.set_readings("canceled_listed=when_asked")
    synced.emulator.set_faults(f"502=1,max=1,endpoints={endpoint}")
    synced.api_timeout_seconds = SHORT_TIMEOUT

    result = synced.cli("event", command, "--ids", str(event_id), "--yes")

    assert result.exit_code == 0, result.output
    assert synced.emulator.count(endpoint) == 2  # checked by a GET, found there, sent again
    assert synced.event(event_id) is None
    assert synced.query(f"select deleted_at is not null from events where id = {event_id}") == [
        (True,)
    ]


@pytest.mark.parametrize("command", ["delete", "delete-list"])
def test_a_delete_a_server_then_serves_as_a_deleted_event_is_done(
    synced: Synced, command: str
) -> None:
    # A soft delete: the list leaves the event out, a GET serves it with its state "deleted".
    [event_id] = synced.ids("state = 'active'", 1)
    synced.emulator.set_readings("deleted_events=soft")

    result = synced.cli("event", command, "--ids", str(event_id), "--yes")

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("event_" + command.replace("-", "_")) == 1
    assert synced.query(f"select deleted_at is not null from events where id = {event_id}") == [
        (True,)
    ]


# --- what a job made is no other row's proof ----------------------------------------------------


def test_a_poll_lost_beside_a_sibling_rows_poll_of_the_same_name_is_made(
    synced: Synced,
) -> None:
    type_id = synced.emulator.store.list_dtos("polls")[0]["eventType"]["id"]
    rows = synced.root / "polls.csv"
    write_csv(
        rows,
        ["event_type_id", "name", "availability"],
        [
            [type_id, "Team sync", "2031-02-01 10:00:00"],
            [type_id, "Team sync", "2031-02-08 10:00:00"],
        ],
    )
    # The second POST is answered 502 by a gateway that never passed it on (seed 10: the
    # first draw passes, the second faults).
    synced.emulator.set_faults("502=0.5,max=1,seed=10,endpoints=poll_create")
    synced.api_timeout_seconds = SHORT_TIMEOUT

    result = synced.cli(
        "poll", "create", "--rows-file", str(rows), "--concurrency", "1", "--no-refresh"
    )

    assert result.exit_code == 0, result.output
    made = [p for p in synced.emulator.store.list_dtos("polls") if p["name"] == "Team sync"]
    assert len(made) == 2
    assert synced.emulator.count("poll_create") == 3


def test_one_poll_found_on_the_server_is_proof_for_one_row_only(synced: Synced) -> None:
    spec = operation("poll_create")
    type_id = synced.emulator.store.list_dtos("polls")[0]["eventType"]["id"]
    rows = [
        Row(f"row {n}", {"event_type_id": type_id, "name": "Solo", "availability": day})
        for n, day in enumerate(["2031-03-01 10:00:00", "2031-03-08 10:00:00"], 1)
    ]
    items = build_plan(spec, rows, {}, view=None).items
    with synced.client() as client:
        client.call("poll_create", body=items[0].body)  # one of the two was made
        verdicts = check_applied(spec, client, items)

    assert sorted(verdicts.values()) == [False, True]


# --- a 2xx is read against what the reference promises ----------------------------------------


def _book(synced: Synced, *starts: str) -> list[str]:
    return [
        "event", "create", "--event-type", "1", "--multiple-scheduled-at", ";".join(starts),
        "--invitee-full-name", "Ada Lovelace", "--invitee-email", "ada@example.com",
        "--no-refresh",
    ]  # fmt: skip


def test_a_booking_of_three_starts_the_server_answered_200_for_one_is_not_done(
    synced: Synced,
) -> None:
    synced.emulator.set_readings("multiple_starts=first_only")
    starts = ("2030-02-04 10:00:00", "2030-02-11 10:00:00", "2030-02-18 10:00:00")

    first = synced.cli(*_book(synced, *starts))
    again = synced.cli(*_book(synced, *starts))

    assert first.exit_code == 6, first.output
    assert again.exit_code == 6, again.output  # unknown: not sent again, not "all done"
    assert len(synced.invitee_events("ada@example.com")) == 1
    assert synced.emulator.count("event_create") == 1


SAID_FAILED = [
    pytest.param(
        "event_create",
        ["event", "create", "--event-type", "1", "--scheduled-at", "2030-03-04 10:00:00",
         "--invitee-full-name", "Ada Lovelace", "--invitee-email", "ada@example.com"],
        id="event-create",
    ),
    pytest.param(
        "user_event_type_tag_create",
        ["user-event-type-tag", "create", "--name", "Key accounts"],
        id="user-tag-create",
    ),
    pytest.param(
        "poll_create",
        ["poll", "create", "--event-type-id", "1", "--name", "Kick-off",
         "--availability", "2030-05-01 10:00:00"],
        id="poll-create",
    ),
    pytest.param("single_use_link_create", ["single-use-link", "create", "--ids", "4"],
                 id="single-use-link"),
]  # fmt: skip


@pytest.mark.parametrize(("endpoint", "args"), SAID_FAILED)
def test_a_create_answered_200_saying_it_failed_is_not_reported_done(
    synced: Synced, endpoint: str, args: list[str]
) -> None:
    synced.emulator.set_faults(f"said_failed=1,max=1,endpoints={endpoint}")

    result = synced.cli(*args, "--no-refresh")

    assert result.exit_code == 6, result.output
    assert synced.emulator.count(endpoint) == 1


def test_a_resent_notification_answered_200_saying_it_failed_is_not_reported_done(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    synced.emulator.set_faults("said_failed=1,max=1,endpoints=event_resend_notification")

    result = synced.cli("event", "resend-notification", "--ids", str(event_id), "--no-refresh")

    assert result.exit_code == 6, result.output


def test_notes_answered_done_but_not_applied_fail_the_run_and_a_rerun_sends_them(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    synced.emulator.set_faults("unapplied=1,max=1,endpoints=event_notes")
    args = ("event", "notes", "--ids", str(event_id), "--notes", "checked", "--no-refresh")

    first, again = synced.cli(*args), synced.cli(*args)

    assert first.exit_code == 6 and "failed 1" in first.output, first.output
    assert again.exit_code == 0, again.output
    assert synced.emulator.count("event_notes") == 2
    assert synced.event(event_id)["notes"] == "checked"  # type: ignore[index]


@pytest.mark.parametrize(
    ("endpoint", "args"),
    [
        ("event_resend_notification", ["event", "resend-notification"]),
        ("event_invite_participants", ["event", "invite-participants", "--emails", "g@x.org"]),
    ],
)
def test_an_e_mail_the_server_sent_while_answering_it_failed_is_not_sent_by_a_rerun(
    synced: Synced, endpoint: str, args: list[str]
) -> None:
    # Applied, then answered 200 `{"success": false}`: a body that cannot be read back is no
    # proof that nothing went out, so a re-run leaves it to `--retry-unknown`.
    [event_id] = synced.upcoming(1)
    synced.emulator.set_faults(f"said_failed=1,after_apply=1,max=1,endpoints={endpoint}")
    command = (*args, "--ids", str(event_id), "--no-refresh")

    first, again = synced.cli(*command), synced.cli(*command)

    assert (first.exit_code, again.exit_code) == (6, 6), again.output
    assert synced.emulator.count(endpoint) == 1


@pytest.mark.parametrize(
    ("command", "endpoint", "state"),
    [
        ("cancel", "event_cancel", "canceled"),
        ("no-show", "event_no_show", "no_show"),
        ("cancel-list", "event_cancel_list", "canceled"),
        ("no-show-list", "event_no_show_list", "no_show"),
    ],
)
def test_a_booking_change_answered_done_but_not_applied_is_sent_again_only_once_settled(
    synced: Synced, command: str, endpoint: str, state: str
) -> None:
    cancel = command.startswith("cancel")
    [event_id] = synced.upcoming(1) if cancel else synced.ids("state = 'active'", 1)
    synced.emulator.set_faults(f"unapplied=1,max=1,endpoints={endpoint}")
    args = ("event", command, "--ids", str(event_id), "--yes", "--no-refresh")

    first = synced.cli(*args)
    at_once = synced.cli(*args)
    # A send is stamped with the server's second rounded up, and "now" is the server's
    # whole-second Date (up to a second behind): the period ends up to two seconds late.
    time.sleep(SHORT_SETTLE + 2.2)
    settled = synced.cli(*args)

    assert (first.exit_code, at_once.exit_code, settled.exit_code) == (6, 6, 0), settled.output
    assert synced.emulator.count(endpoint) == 2
    assert synced.event(event_id)["state"] == state


# --- a write the server applied at another instant ---------------------------------------------

JUNE = "2031-06-05 10:00:00"
"""A start no host's zone reads as UTC (London is an hour ahead in June)."""


def _reschedule_the_server_moves(synced: Synced) -> tuple[int, Result]:
    """An upcoming booking rescheduled to JUNE on a server reading the `Y-m-d H:i:s` start as
    the event type's wall time (answered 204, moved to another instant); its id and the
    command's result."""
    [event_id] = synced.upcoming(1)
    synced.emulator.set_request_times("event_type")
    return event_id, synced.cli("event", "reschedule", "--ids", str(event_id), "--start", JUNE)


def test_a_reschedule_the_server_moved_to_another_instant_is_unknown_naming_its_start(
    synced: Synced,
) -> None:
    event_id, result = _reschedule_the_server_moves(synced)

    assert result.exit_code == 6, result.output
    assert "unknown 1" in result.output
    held = synced.event(event_id)["scheduledAt"]  # type: ignore[index]
    assert f"it starts at {held}, not at {JUNE} UTC as asked" in result.output


def test_a_reschedule_left_unknown_refreshes_the_warehouse_with_the_start_the_server_holds(
    synced: Synced,
) -> None:
    # Nothing succeeded, but the server moved the booking: the warehouse must not keep the
    # start the reschedule replaced.
    event_id, result = _reschedule_the_server_moves(synced)

    assert result.exit_code == 6, result.output
    held = parse_api_datetime(synced.event(event_id)["scheduledAt"])  # type: ignore[index]
    assert synced.scalar(f"select scheduled_at from raw.events where id = {event_id}") == held


def test_a_booking_the_server_made_at_another_instant_is_unknown_naming_its_start(
    synced: Synced,
) -> None:
    synced.emulator.set_request_times("event_type")
    args = ["--event-type", "1", "--scheduled-at", JUNE, "--invitee-full-name", "Tz Check"]

    result = synced.cli("event", "create", *args, "--invitee-email", "tz@example.org")

    assert result.exit_code == 6, result.output
    assert "unknown 1" in result.output
    assert f"not at {JUNE} UTC as asked" in result.output
