"""Each event write-back command, end to end: the change upstream, then in the warehouse."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from simplymeet.contract.dates import parse_api_datetime
from tests.writeback_fixtures import (  # noqa: F401 - fixtures
    Synced,
    synced_fixture,
    synced_template_fixture,
    write_csv,
)


def _state(s: Synced, event_id: int) -> str:
    return s.scalar(f"select state from raw.events where id = {event_id}")


def test_event_create_books_the_event_and_lands_it_in_the_warehouse(synced: Synced) -> None:
    result = synced.cli(
        "event",
        "create",
        "--event-type", "1",
        "--scheduled-at", "2030-01-15 10:00:00",
        "--invitee-full-name", "Ada Lovelace",
        "--invitee-email", "ada@example.com",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    created = synced.invitee_events("ada@example.com")
    assert len(created) == 1
    event = synced.event(created[0])
    assert parse_api_datetime(event["scheduledAt"]).isoformat() == "2030-01-15T10:00:00+00:00"
    assert synced.query(
        f"select invitee_full_name, event_type_id from raw.events where id = {created[0]}"
    ) == [("Ada Lovelace", 1)]
    assert f'"event_ids": [{created[0]}]' in result.output


def test_event_edit_renames_the_invitee_upstream_and_in_the_warehouse(synced: Synced) -> None:
    [event_id] = synced.ids("state = 'active'", 1)

    result = synced.cli("event", "edit", "--ids", str(event_id), "--invitee-full-name", "Grace H")

    assert result.exit_code == 0, result.output
    assert synced.event(event_id)["invitee"]["fullName"] == "Grace H"
    assert (
        synced.scalar(f"select invitee_full_name from raw.events where id = {event_id}")
        == "Grace H"
    )


def test_event_cancel_sends_each_row_its_own_reason(synced: Synced) -> None:
    ids = synced.upcoming(3)
    rows = [(i, f"reason {i}") for i in ids]
    csv_path = write_csv(synced.root / "cancel.csv", ["id", "reason"], rows)

    result = synced.cli("event", "cancel", "--ids-file", str(csv_path), "--yes")

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("event_cancel") == 3
    for event_id, reason in rows:
        assert synced.event(event_id)["cancellation"]["reason"] == reason
        assert synced.query(
            f"select state, cancellation_reason from raw.events where id = {event_id}"
        ) == [("canceled", reason)]


def test_event_cancel_without_a_reason_still_sends_the_reason_its_dto_lists(
    synced: Synced,
) -> None:
    # CancelEventRequestDTO lists `reason` without calling it optional (the list endpoint's
    # is): a server that requires it must not refuse a cancel given no reason.
    [event_id] = synced.upcoming(1)

    result = synced.cli("event", "cancel", "--ids", str(event_id), "--yes")

    assert result.exit_code == 0, result.output
    [sent] = [r for r in synced.emulator.requests if "/event/cancel/" in r.path]
    assert json.loads(sent.body) == {"reason": ""}
    assert synced.event(event_id)["state"] == "canceled"


def test_event_cancel_list_cancels_in_chunks(synced: Synced) -> None:
    ids = synced.upcoming(5)

    result = synced.cli(
        "event", "cancel-list", "--ids", ",".join(map(str, ids)), "--chunk-size", "2",
        "--reason", "host away", "--yes",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("event_cancel_list") == 3
    assert all(synced.event(i)["state"] == "canceled" for i in ids)
    assert {_state(synced, i) for i in ids} == {"canceled"}


def test_event_delete_removes_the_event_and_marks_it_deleted(synced: Synced) -> None:
    [event_id] = synced.ids("true", 1)

    result = synced.cli("event", "delete", "--ids", str(event_id), "--yes")

    assert result.exit_code == 0, result.output
    assert synced.event(event_id) is None
    assert synced.scalar(f"select deleted_at is not null from raw.events where id = {event_id}")


def test_event_delete_list_deletes_every_listed_event(synced: Synced) -> None:
    ids = synced.ids("true", 4)

    result = synced.cli("event", "delete-list", "--ids", ",".join(map(str, ids)), "--yes")

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("event_delete_list") == 1
    assert all(synced.event(i) is None for i in ids)
    assert (
        synced.scalar(
            "select count(*) from raw.events where deleted_at is not null "
            f"and id in ({','.join(map(str, ids))})"
        )
        == 4
    )


def test_event_notes_takes_each_rows_text_from_the_query(synced: Synced) -> None:
    ids = synced.ids("state = 'active'", 2)
    sql = (
        "select id, 'follow up with ' || invitee_full_name as notes from events "
        f"where id in ({','.join(map(str, ids))})"
    )

    result = synced.cli("event", "notes", "--sql", sql)

    assert result.exit_code == 0, result.output
    for event_id in ids:
        expected = "follow up with " + synced.event(event_id)["invitee"]["fullName"]
        assert synced.event(event_id)["notes"] == expected
        assert synced.scalar(f"select notes from raw.events where id = {event_id}") == (expected)


def test_event_invite_participants_adds_them_to_the_event(synced: Synced) -> None:
    [event_id] = synced.upcoming(1)

    result = synced.cli(
        "event", "invite-participants", "--ids", str(event_id),
        "--emails", "a@example.com;b@example.com", "--message", "join us",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    emails = {p["email"] for p in synced.event(event_id)["participants"]}
    assert {"a@example.com", "b@example.com"} <= emails
    landed = synced.query(f"select email from events__participants where event_id = {event_id}")
    assert {"a@example.com", "b@example.com"} <= {r[0] for r in landed}


def test_an_email_given_twice_is_invited_once(synced: Synced) -> None:
    [event_id] = synced.upcoming(1)

    result = synced.cli(
        "event", "invite-participants", "--ids", str(event_id),
        "--emails", "twice@example.com;Twice@Example.com",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    [sent] = [r for r in synced.emulator.requests if "/invite-participants/" in r.path]
    assert json.loads(sent.body)["emails"] == ["twice@example.com"]


def test_event_no_show_marks_each_event(synced: Synced) -> None:
    ids = synced.ids("state = 'active'", 2)

    result = synced.cli("event", "no-show", "--ids", ",".join(map(str, ids)), "--yes")

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("event_no_show") == 2
    assert all(synced.event(i)["state"] == "no_show" for i in ids)
    assert {_state(synced, i) for i in ids} == {"no_show"}


def test_event_no_show_list_marks_every_listed_event(synced: Synced) -> None:
    ids = synced.ids("state = 'active'", 3)

    result = synced.cli("event", "no-show-list", "--ids", ",".join(map(str, ids)), "--yes")

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("event_no_show_list") == 1
    assert {_state(synced, i) for i in ids} == {"no_show"}


def test_event_reschedule_moves_each_event_to_its_csv_start(synced: Synced) -> None:
    ids = synced.upcoming(2)
    rows = [(ids[0], "2030-02-01 09:00:00"), (ids[1], "2030-02-02 14:30:00")]
    csv_path = write_csv(synced.root / "moves.csv", ["id", "start"], rows)

    result = synced.cli("event", "reschedule", "--ids-file", str(csv_path))

    assert result.exit_code == 0, result.output
    for event_id, start in rows:
        served = parse_api_datetime(synced.event(event_id)["scheduledAt"])
        assert served.strftime("%Y-%m-%d %H:%M:%S") == start
        landed = synced.scalar(
            f"select strftime(scheduled_at at time zone 'UTC', '%Y-%m-%d %H:%M:%S') "
            f"from raw.events where id = {event_id}"
        )
        assert landed == start


def test_event_reschedule_given_only_the_start_sends_end_type_and_host_from_the_warehouse(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    before = synced.event(event_id)
    length = parse_api_datetime(before["endDate"]) - parse_api_datetime(before["scheduledAt"])
    end = (dt.datetime(2030, 2, 1, 9, tzinfo=dt.UTC) + length).strftime("%Y-%m-%d %H:%M:%S")

    result = synced.cli(
        "event", "reschedule", "--ids", str(event_id), "--start", "2030-02-01 09:00:00"
    )

    assert result.exit_code == 0, result.output
    assert synced.writes("event_reschedule") == [
        (
            "event_reschedule",
            {
                "start": "2030-02-01 09:00:00",
                "end": end,
                "eventTypeId": before["eventType"]["id"],
                "userId": before["user"]["id"],
            },
        )
    ]
    after = synced.event(event_id)
    assert after["eventType"] == before["eventType"] and after["user"] == before["user"]
    assert after["duration"] == before["duration"]


def test_event_resend_notification_sends_one_more_reminder(synced: Synced) -> None:
    [event_id] = synced.upcoming(1)
    before = synced.event(event_id)["sentEmailReminder"]

    result = synced.cli("event", "resend-notification", "--ids", str(event_id))

    assert result.exit_code == 0, result.output
    assert synced.event(event_id)["sentEmailReminder"] == before + 1
    assert (
        synced.scalar(f"select sent_email_reminder from raw.events where id = {event_id}")
        == before + 1
    )


def test_event_create_records_the_new_id_in_the_journal(synced: Synced) -> None:
    result = synced.cli(
        "event", "create", "--event-type", "2", "--scheduled-at", "2030-03-01 08:00:00",
        "--invitee-full-name", "Lin", "--invitee-email", "lin@example.com",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    [(payload, outcome, status, stored)] = synced.query(
        "select payload, outcome, http_status, result from writeback.journal"
    )
    assert outcome == "succeeded" and status == 200
    assert json.loads(payload)["invitee"]["email"] == "lin@example.com"
    [new_id] = json.loads(stored)["event_ids"]
    assert synced.event(new_id)["invitee"]["email"] == "lin@example.com"


def test_the_library_function_of_an_operation_sends_its_fields(synced: Synced) -> None:
    from simplymeet import writeback

    ids = synced.upcoming(2)
    with synced.client() as client:
        report = writeback.event_notes(
            synced.settings, client, ids=ids, notes="from a notebook", refresh=False
        )
        with pytest.raises(TypeError, match="nots"):
            writeback.event_notes(synced.settings, client, ids=ids, nots="typo")

    assert report.ok and len(report.succeeded) == 2
    assert {synced.event(i)["notes"] for i in ids} == {"from a notebook"}
    assert synced.emulator.count("event_notes") == 2


def test_a_row_naming_an_account_not_configured_is_refused_before_anything_is_sent(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    csv_path = write_csv(synced.root / "other.csv", ["account", "id"], [("globex", event_id)])

    result = synced.cli("event", "cancel", "--ids-file", str(csv_path), "--yes")

    assert result.exit_code == 2, result.output
    assert "account 'globex' is not the configured account 'default'" in result.output
    assert synced.emulator.count("event_cancel") == 0


def test_a_row_naming_the_configured_account_is_sent(synced: Synced) -> None:
    [event_id] = synced.upcoming(1)
    csv_path = write_csv(synced.root / "own.csv", ["account", "id"], [("default", event_id)])

    result = synced.cli("event", "cancel", "--ids-file", str(csv_path), "--yes")

    assert result.exit_code == 0, result.output
    assert synced.event(event_id)["state"] == "canceled"


def test_a_booking_row_naming_an_account_not_configured_books_nothing(synced: Synced) -> None:
    rows = [("globex", 1, "2030-01-15 10:00:00", "Ada Lovelace", "ada@globex.example")]
    header = ["account", "event_type", "scheduled_at", "invitee_full_name", "invitee_email"]
    csv_path = write_csv(synced.root / "bookings.csv", header, rows)

    result = synced.cli("event", "create", "--rows-file", str(csv_path))

    assert result.exit_code == 2, result.output
    assert synced.emulator.count("event_create") == 0


def test_a_start_given_twice_in_one_booking_is_booked_once(synced: Synced) -> None:
    result = synced.cli(
        "event", "create", "--event-type", "1",
        "--multiple-scheduled-at", "2030-03-04 10:00:00;2030-03-04 10:00:00;2030-03-11 10:00:00",
        "--invitee-full-name", "Ada Lovelace", "--invitee-email", "once@example.com",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert len(synced.invitee_events("once@example.com")) == 2
