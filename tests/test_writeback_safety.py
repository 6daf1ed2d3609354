"""Safety before sending: validation, the read-only --sql, dry runs, confirmation."""

from __future__ import annotations

import json

import duckdb
import pytest
from click.testing import CliRunner

from simplymeet.cli.main import cli
from simplymeet.writeback import cli as writeback_cli
from tests.writeback_fixtures import (  # noqa: F401 - fixtures
    Synced,
    synced_fixture,
    synced_template_fixture,
    write_csv,
)


def _ids(ids: list[int]) -> str:
    return ",".join(map(str, ids))


def _journal_exists(s: Synced) -> bool:
    return bool(
        s.scalar("select count(*) from information_schema.schemata where schema_name = 'writeback'")
    )


def test_one_invalid_row_is_one_error_line(synced: Synced) -> None:
    result = synced.cli("event", "cancel", "--ids", "99999999", "--yes")

    assert result.exit_code == 2
    assert synced.emulator.requests == []
    [line] = [text for text in result.output.splitlines() if text.strip()]
    assert line.startswith("error: --ids item 1: id: 99999999 is not in the warehouse")
    assert line.endswith("; nothing was sent")


def test_a_booking_naming_a_duration_no_event_type_has_is_refused_with_nothing_sent(
    synced: Synced,
) -> None:
    result = synced.cli(
        "event", "create", "--event-type", "1", "--scheduled-at", "2031-01-01 10:00:00",
        "--invitee-full-name", "Ada Lovelace", "--invitee-email", "ada@example.com",
        "--duration-id", "999999",
    )  # fmt: skip

    assert result.exit_code == 2
    assert synced.emulator.requests == []
    assert "--duration-id: 999999 is not in the warehouse" in result.output


def _type_choices(s: Synced) -> dict[int, tuple[set[int], set[str]]]:
    durations = s.query("select event_type_id, id from raw.event_types__durations")
    questions = s.query("select event_type_id, uuid from raw.event_types__questions")
    out: dict[int, tuple[set[int], set[str]]] = {}
    for type_id, duration in durations:
        out.setdefault(type_id, (set(), set()))[0].add(duration)
    for type_id, uuid in questions:
        out.setdefault(type_id, (set(), set()))[1].add(uuid)
    return out


def _book(s: Synced, type_id: int, *extra: str):
    return s.cli(
        "event", "create", "--event-type", str(type_id), "--scheduled-at", "2031-01-01 10:00:00",
        "--invitee-full-name", "Ada Lovelace", "--invitee-email", "ada@example.com", *extra,
    )  # fmt: skip


def test_a_booking_naming_another_event_type_s_duration_is_refused_with_nothing_sent(
    synced: Synced,
) -> None:
    choices = _type_choices(synced)
    flexible = sorted(t for t, (durations, _) in choices.items() if durations)
    mine, other = flexible[0], flexible[1]
    foreign = min(choices[other][0] - choices[mine][0])

    result = _book(synced, mine, "--duration-id", str(foreign))

    assert result.exit_code == 2, result.output
    assert synced.emulator.requests == []
    assert f"duration {foreign} is not one of event type {mine}'s" in result.output


def test_a_booking_answering_a_question_its_event_type_lacks_is_refused_with_nothing_sent(
    synced: Synced,
) -> None:
    choices = _type_choices(synced)
    mine = min(t for t, (_, questions) in choices.items() if questions)
    foreign = next(q for t, (_, qs) in choices.items() if t != mine for q in qs - choices[mine][1])
    answers = json.dumps([{"question": foreign, "value": "yes"}])

    result = _book(synced, mine, "--answers", answers)

    assert result.exit_code == 2, result.output
    assert synced.emulator.requests == []
    assert f"question(s) {foreign} are not event type {mine}'s questions" in result.output


def test_a_booking_answering_a_type_whose_questions_never_landed_is_left_to_the_server(
    synced: Synced,
) -> None:
    # A server may serve a type's questions only on its own read (the list's items are
    # unsaid): none landed is no proof the type has none.
    choices = _type_choices(synced)
    mine = min(t for t, (_, questions) in choices.items() if questions)
    question = min(choices[mine][1])
    with duckdb.connect(str(synced.db)) as con:
        con.execute(f"delete from raw.event_types__questions where event_type_id = {mine}")
    answers = json.dumps([{"question": question, "value": "yes"}])

    result = _book(synced, mine, "--answers", answers)

    assert "questions" not in result.output, result.output
    assert synced.emulator.count("event_create") == 1


def test_a_booking_naming_its_event_type_s_own_duration_and_question_is_sent(
    synced: Synced,
) -> None:
    choices = _type_choices(synced)
    mine = next(
        t for t, (durations, questions) in sorted(choices.items()) if durations and questions
    )
    duration, question = min(choices[mine][0]), min(choices[mine][1])
    answers = json.dumps([{"question": question, "value": "yes"}])

    result = _book(synced, mine, "--duration-id", str(duration), "--answers", answers, "--dry-run")

    assert result.exit_code == 0, result.output
    assert "is not one of" not in result.output


def test_an_edit_naming_an_answer_the_event_does_not_have_is_refused_with_nothing_sent(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)

    result = synced.cli("event", "edit", "--ids", str(event_id), "--answers", '[{"id": 99999}]')

    assert result.exit_code == 2
    assert synced.emulator.requests == []
    assert f"answer 99999 is not one of event {event_id}'s answers" in result.output


def test_a_json_file_that_is_not_utf8_is_refused_naming_the_option_and_the_file(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    path = synced.root / "answers.json"
    path.write_bytes('[{"id": 1, "value": "café"}]'.encode("latin-1"))

    result = synced.cli("event", "edit", "--ids", str(event_id), "--answers", f"@{path}")

    assert result.exit_code == 2
    assert f"--answers: cannot read {path}: not UTF-8 text" in result.output
    assert synced.emulator.requests == []


def test_a_move_to_an_event_type_the_warehouse_lacks_is_refused_naming_it(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)

    result = synced.cli(
        "event", "reschedule", "--ids", str(event_id), "--start", "2031-01-01 10:00:00",
        "--event-type-id", "999999",
    )  # fmt: skip

    assert result.exit_code == 2
    assert synced.emulator.requests == []
    assert "--event-type-id: 999999 is not in the warehouse" in result.output


def test_invalid_rows_send_no_request_and_each_is_named(synced: Synced) -> None:
    good, other = synced.upcoming(2)
    rows = [
        (good, "2030-01-01 10:00:00"),
        (other, "2030/01/01 10:00"),
        (99_999_999, "2030-01-02 10:00:00"),
    ]
    csv_path = write_csv(synced.root / "moves.csv", ["id", "start"], rows)

    result = synced.cli("event", "reschedule", "--ids-file", str(csv_path))

    assert result.exit_code == 2
    assert synced.emulator.requests == []
    assert not _journal_exists(synced)
    assert "2 invalid row(s); nothing was sent" in result.output
    assert "moves.csv line 3: start: expected a date and time as Y-m-d H:i:s" in result.output
    assert "moves.csv line 4: id: 99999999 is not in the warehouse" in result.output


def test_emails_are_checked_before_anything_is_sent(synced: Synced) -> None:
    [event_id] = synced.ids("state = 'active'", 1)

    result = synced.cli(
        "event", "invite-participants", "--ids", str(event_id), "--emails", "ok@x.org;not-an-email"
    )

    assert result.exit_code == 2
    assert "not an email address: 'not-an-email'" in result.output
    assert synced.emulator.requests == []


@pytest.mark.parametrize("dry_run", [(), ("--dry-run",)], ids=["run", "dry-run"])
def test_a_poll_slot_date_the_server_cannot_read_is_refused_before_sending(
    synced: Synced, dry_run: tuple[str, ...]
) -> None:
    result = synced.cli(
        "poll", "create", "--event-type-id", "3", "--name", "Kick-off",
        "--availability", "2030-05-01 10:00:00;2030-13-20 10:00:00", *dry_run,
    )  # fmt: skip

    assert result.exit_code == 2
    assert "not a valid date and time: '2030-13-20 10:00:00'; nothing was sent" in result.output
    assert synced.emulator.requests == []


def test_ids_with_an_empty_item_send_nothing_and_name_its_position(synced: Synced) -> None:
    first, second = synced.ids("state = 'active'", 2)

    result = synced.cli("event", "notes", "--ids", f"{first},,{second}", "--notes", "n")

    assert result.exit_code == 2
    assert result.output.startswith("error: --ids item 2 is empty")
    assert len(result.output.splitlines()) == 1
    assert synced.emulator.requests == []


@pytest.mark.parametrize(
    ("option", "values"),
    [("--ids", ("{0}", "{1}")), ("--sql", ("select {0} as id", "select {1} as id"))],
)
def test_a_target_option_given_twice_is_refused_with_nothing_sent(
    synced: Synced, option: str, values: tuple[str, str]
) -> None:
    first, second = synced.upcoming(2)
    given = [value.format(first, second) for value in values]

    result = synced.cli("event", "cancel-list", option, given[0], option, given[1], "--yes")

    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert line.startswith(f"error: {option} given more than once")
    assert synced.emulator.requests == []


def test_a_value_option_given_twice_is_refused_with_nothing_sent(synced: Synced) -> None:
    [event_id] = synced.upcoming(1)

    result = synced.cli(
        "event", "cancel", "--ids", str(event_id), "--reason", "host ill", "--reason", "", "--yes"
    )

    assert result.exit_code == 2
    assert result.output.startswith("error: --reason given more than once")
    assert synced.emulator.requests == []


def test_a_query_naming_a_value_column_all_but_right_is_refused_with_nothing_sent(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)

    result = synced.cli(
        "event", "cancel", "--sql", f"select {event_id} as id, 'host ill' as reasn", "--yes"
    )

    assert result.exit_code == 2
    assert "column 'reasn' is not one event cancel reads: did you mean 'reason'?" in result.output
    assert synced.emulator.requests == []


def test_a_select_star_warns_of_the_warehouse_columns_it_does_not_read(synced: Synced) -> None:
    [event_id] = synced.upcoming(1)
    selection = (
        f"select *, scheduled_at + interval 1 day as start from events where id = {event_id}"
    )

    result = synced.cli("event", "reschedule", "--sql", selection, "--dry-run")

    assert result.exit_code == 0, result.output
    assert "event_type_kind" in result.output
    assert synced.emulator.requests == []


def test_ids_file_dash_reads_the_ids_from_stdin(synced: Synced) -> None:
    first, second = synced.ids("state = 'active'", 2)

    result = synced.cli(
        "event", "notes", "--ids-file", "-", "--notes", "from stdin", "--no-refresh",
        input=f"{first}\n{second}\n{first}\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("event_notes") == 2
    assert "1 duplicate row(s) ignored" in result.output


def test_one_target_given_two_different_values_is_refused(synced: Synced) -> None:
    [event_id] = synced.ids("state = 'active'", 1)
    csv_path = write_csv(synced.root / "n.csv", ["id", "notes"], [(event_id, "a"), (event_id, "b")])

    result = synced.cli("event", "notes", "--ids-file", str(csv_path))

    assert result.exit_code == 2
    assert f"n.csv line 3: event {event_id} is also in n.csv line 2" in result.output
    assert synced.emulator.requests == []


def test_repeated_targets_are_sent_once(synced: Synced) -> None:
    [event_id] = synced.ids("state = 'active'", 1)

    result = synced.cli(
        "event", "no-show", "--ids", f"{event_id},{event_id}", "--yes", "--no-refresh"
    )

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("event_no_show") == 1
    assert "1 duplicate row(s) ignored" in result.output


@pytest.mark.parametrize(
    "sql",
    [
        "delete from events",
        "select 1; select 2",
        "copy (select id from events) to 'out.csv'",
        "attach 'other.duckdb'",
    ],
)
def test_sql_must_be_one_select(synced: Synced, sql: str) -> None:
    result = synced.cli("event", "resend-notification", "--sql", sql)

    assert result.exit_code == 2
    assert "--sql must be" in result.output
    assert synced.emulator.requests == []


def test_dry_run_prints_every_request_exactly_and_sends_nothing(synced: Synced) -> None:
    ids = synced.upcoming(5)

    result = synced.cli(
        "event", "cancel-list", "--ids", _ids(ids), "--reason", "trip", "--chunk-size", "2",
        "--dry-run",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    requests = [line.strip() for line in result.output.splitlines() if line.startswith("  PUT")]
    assert requests == [
        f'PUT /panel/api/event/cancel-list {{"reason":"trip","ids":[{ids[0]},{ids[1]}]}}',
        f'PUT /panel/api/event/cancel-list {{"reason":"trip","ids":[{ids[2]},{ids[3]}]}}',
        f'PUT /panel/api/event/cancel-list {{"reason":"trip","ids":[{ids[4]}]}}',
    ]
    assert "5 row(s) read · 5 to send" in result.output
    assert synced.emulator.requests == []
    assert not _journal_exists(synced)


def test_destructive_command_without_yes_needs_a_terminal(synced: Synced) -> None:
    ids = synced.upcoming(3)

    result = synced.cli("event", "cancel", "--ids", _ids(ids))

    assert result.exit_code == 2
    assert "event cancel: 3 item(s) in 3 request(s)" in result.output
    assert "pass --yes" in result.output
    assert synced.emulator.requests == []


def test_destructive_command_declined_at_the_prompt_sends_nothing(
    synced: Synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writeback_cli, "stdin_is_terminal", lambda: True)
    ids = synced.ids("state = 'active'", 2)
    canceled = synced.ids("state = 'canceled'", 1)

    result = synced.cli("event", "delete-list", "--ids", _ids(ids + canceled), input="n\n")

    assert result.exit_code == 1
    assert "event delete-list: 3 item(s) in 1 request(s). Proceed?" in result.output
    assert synced.emulator.requests == []


def test_ctrl_c_at_the_prompt_stops_the_command_as_ctrl_c_and_sends_nothing(
    synced: Synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not click's "Aborted!" (exit 1): 130, as any Ctrl-C.
    def pressed_ctrl_c(*_args: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(writeback_cli, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr("builtins.input", pressed_ctrl_c)
    ids = synced.upcoming(2)

    result = synced.cli("event", "cancel-list", "--ids", _ids(ids))

    assert result.exit_code == 130, result.output
    assert synced.emulator.requests == []


def test_confirmed_at_the_prompt_the_job_runs(
    synced: Synced, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writeback_cli, "stdin_is_terminal", lambda: True)
    ids = synced.ids("state = 'active'", 2)

    result = synced.cli("event", "no-show-list", "--ids", _ids(ids), "--no-refresh", input="y\n")

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("event_no_show_list") == 1


# --- what a run prints, and the past/future guard -------------------------------------------


def test_a_rerun_with_everything_done_says_so_and_not_dry_run(synced: Synced) -> None:
    ids = synced.upcoming(3)
    args = ("event", "cancel-list", "--ids", _ids(ids), "--yes")
    first = synced.cli(*args)
    assert first.exit_code == 0, first.output
    synced.emulator.reset_log()

    again = synced.cli(*args)

    assert again.exit_code == 0, again.output
    assert "nothing to send: all 3 already done" in again.output
    assert "dry run" not in again.output
    assert synced.emulator.count(method="PUT") == 0


def test_the_skipped_sample_lists_the_skipped_rows(synced: Synced) -> None:
    canceled = synced.ids("state = 'canceled'", 7)

    result = synced.cli("event", "cancel", "--ids", _ids(canceled), "--yes")

    assert result.exit_code == 0, result.output
    assert "skipped sample (5 of 7):" in result.output
    for n, event_id in enumerate(canceled[:5], 1):
        assert f"  event {event_id}: already canceled  [--ids item {n}]" in result.output
    # The skips are read on the server (one page of ids), and nothing is written.
    assert {record.method for record in synced.emulator.requests} == {"GET"}


def test_a_run_where_nothing_succeeded_does_not_refresh_the_warehouse(synced: Synced) -> None:
    # Refused for a reason that says nothing of the booking (a 404 would: it may be gone).
    [event_id] = synced.upcoming(1)
    synced.emulator.set_readings("forbidden=event_resend_notification")
    synced.emulator.reset_log()

    result = synced.cli("event", "resend-notification", "--ids", str(event_id))

    assert result.exit_code == 4, result.output
    assert "warehouse not refreshed: nothing succeeded" in result.output
    assert synced.scalar("select refreshed_at is null from writeback.runs")
    # One write, refused; no sync afterwards (a refresh re-reads the events it touched).
    assert synced.emulator.count("event_resend_notification") == 1
    assert synced.emulator.count("event_list") == 0


@pytest.mark.parametrize(
    "command", ["cancel", "cancel-list", "reschedule", "resend-notification", "invite-participants"]
)
def test_acting_on_a_booking_that_already_started_needs_include_past(
    synced: Synced, command: str
) -> None:
    [past] = synced.ids("state = 'active' and scheduled_at < now()", 1)
    extra = {
        "cancel": ["--yes"],
        "cancel-list": ["--yes"],
        "reschedule": ["--start", "2031-01-01 10:00:00"],
        "invite-participants": ["--emails", "guest@example.com"],
    }.get(command, [])

    result = synced.cli("event", command, "--ids", str(past), *extra)

    assert result.exit_code == 2
    assert f"--ids item 1: event {past} started " in result.output
    assert "in the past: pass --include-past" in result.output
    assert synced.emulator.requests == []


def test_include_past_sends_and_says_how_many_were_in_the_past(synced: Synced) -> None:
    [past] = synced.ids("state = 'active' and scheduled_at < now()", 1)

    result = synced.cli("event", "cancel", "--ids", str(past), "--yes", "--include-past")

    assert result.exit_code == 0, result.output
    assert "warning: 1 target(s) in the past, included by --include-past" in result.output
    assert synced.event(past)["state"] == "canceled"


def test_a_write_back_with_another_destination_and_no_db_is_refused_and_nothing_is_sent(
    synced: Synced,
) -> None:
    # The DuckDB file beside it is not the warehouse the syncs load: its values may be old.
    [upcoming] = synced.upcoming(1)
    env = synced.env() | {"SIMPLYMEET_WAREHOUSE__DESTINATION": "postgres"}

    result = CliRunner().invoke(
        cli, ["event", "notes", "--ids", str(upcoming), "--notes", "x"], env=env
    )

    assert result.exit_code == 2
    assert "[warehouse] destination is postgres: pass --db" in result.output
    assert synced.emulator.requests == []


def test_a_reschedule_that_ends_before_it_starts_is_refused_and_nothing_is_sent(
    synced: Synced,
) -> None:
    [upcoming] = synced.upcoming(1)

    result = synced.cli(
        "event", "reschedule", "--ids", str(upcoming),
        "--start", "2031-01-01 10:00:00", "--end", "2031-01-01 10:00:00",
    )  # fmt: skip

    assert result.exit_code == 2
    assert "end 2031-01-01 10:00:00 is not after start 2031-01-01 10:00:00" in result.output
    assert synced.emulator.requests == []


def _new_start_of(synced: Synced, command: str) -> list[str]:
    """What names the booking a new start is for: an upcoming one to move, or one to make."""
    if command == "reschedule":
        return ["--ids", str(synced.upcoming(1)[0])]
    return [
        "--event-type", str(synced.scalar("select min(id) from raw.event_types")),
        "--invitee-full-name", "Ada", "--invitee-email", "ada@example.com",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("command", "when"),
    [
        ("reschedule", ["--start", "2020-01-01 10:00:00"]),
        ("create", ["--scheduled-at", "2020-01-01 10:00:00"]),
        ("create", ["--multiple-scheduled-at", "2031-01-01 10:00:00;2020-01-01 10:00:00"]),
    ],
    ids=["reschedule", "create", "create-several"],
)
def test_a_new_start_in_the_past_needs_include_past(
    synced: Synced, command: str, when: list[str]
) -> None:
    target = _new_start_of(synced, command)

    result = synced.cli("event", command, *target, *when)

    assert result.exit_code == 2
    assert "2020-01-01 10:00:00 is in the past: pass --include-past" in result.output
    assert synced.emulator.requests == []


@pytest.mark.parametrize(
    ("command", "option"), [("reschedule", "--start"), ("create", "--scheduled-at")]
)
def test_a_start_at_the_calendar_s_edge_is_refused_and_nothing_is_sent(
    synced: Synced, command: str, option: str
) -> None:
    # A year typed wrong the other way: no end or zone offset fits after it.
    target = _new_start_of(synced, command)

    result = synced.cli("event", command, *target, option, "9999-12-31 23:50:00")

    assert result.exit_code == 2, result.output
    assert "calendar's edge" in result.output
    assert synced.emulator.requests == []


@pytest.mark.parametrize("include_past", [False, True])
def test_a_plan_made_without_the_warehouse_takes_include_past_too(
    synced: Synced, include_past: bool
) -> None:
    from simplymeet.writeback import Targets, plan_operation

    plan = plan_operation(
        "event_reschedule",
        synced.settings,
        Targets(
            rows=[
                {
                    "id": 5,
                    "start": "2020-01-01 10:00:00",
                    "end": "2020-01-01 11:00:00",
                    "event_type_id": 1,
                }
            ]
        ),
        check_warehouse=False,
        include_past=include_past,
    )

    assert (len(plan.items), len(plan.invalid)) == ((1, 0) if include_past else (0, 1))


def test_a_reschedule_into_the_past_with_include_past_is_sent(synced: Synced) -> None:
    [upcoming] = synced.upcoming(1)

    result = synced.cli(
        "event", "reschedule", "--ids", str(upcoming), "--start", "2020-01-01 10:00:00",
        "--include-past", "--no-refresh",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "warning: 1 new start(s) in the past, included by --include-past" in result.output
    assert synced.event(upcoming)["scheduledAt"].startswith("2020-01-01")


@pytest.mark.parametrize("command", ["no-show", "no-show-list"])
def test_a_no_show_of_a_booking_that_has_not_started_needs_include_future(
    synced: Synced, command: str
) -> None:
    [upcoming] = synced.upcoming(1)

    refused = synced.cli("event", command, "--ids", str(upcoming), "--yes")
    assert refused.exit_code == 2
    assert "in the future: pass --include-future" in refused.output
    assert synced.emulator.requests == []

    forced = synced.cli("event", command, "--ids", str(upcoming), "--yes", "--include-future")
    assert forced.exit_code == 0, forced.output
    assert synced.event(upcoming)["state"] == "no_show"


# --- which column is the targets --------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "rows"),
    [(["foo", "bar"], [(1, 2), (3, 4)]), (["user_id"], [(7,), (8,)])],
    ids=["two-unnamed-columns", "a-user_id-column"],
)
def test_a_file_without_an_id_column_is_refused_with_no_request(
    synced: Synced, header: list[str], rows: list[tuple[int, ...]]
) -> None:
    path = write_csv(synced.root / "f.csv", header, rows)

    result = synced.cli(
        "event", "no-show-list", "--ids-file", str(path), "--yes", "--include-future"
    )

    assert result.exit_code == 2
    assert "no column named 'id'" in result.output and "--id-column" in result.output
    assert synced.emulator.requests == []


def test_id_column_picks_the_targets_of_a_file(synced: Synced) -> None:
    ids = synced.ids("state = 'active' and scheduled_at < now()", 2)
    path = write_csv(synced.root / "f.csv", ["event_id", "user_id"], [(i, 1) for i in ids])

    result = synced.cli(
        "event", "no-show-list", "--ids-file", str(path), "--id-column", "event_id", "--yes"
    )

    assert result.exit_code == 0, result.output
    assert synced.writes_per_event("event_no_show_list") == {i: 1 for i in ids}


@pytest.mark.parametrize("value", ["1e30", "1.5", "2^70::hugeint"])
def test_a_query_value_that_is_not_an_integer_id_is_refused_naming_the_row(
    synced: Synced, value: str
) -> None:
    result = synced.cli("event", "no-show", "--sql", f"select {value} as id", "--yes")

    assert result.exit_code == 2
    assert "--sql row 1: id: expected an integer" in result.output
    assert synced.emulator.requests == []


def test_sql_reading_a_local_file_is_refused_and_its_content_never_shown(synced: Synced) -> None:
    result = synced.cli(
        "event", "no-show", "--sql", "select * from read_csv('/etc/passwd')", "--yes"
    )

    assert result.exit_code == 2
    assert "disabled by configuration" in result.output
    assert "root:" not in result.output
    assert synced.emulator.requests == []


def _cancel_file_refused(synced: Synced, text: str) -> list[str]:
    """`event cancel --ids-file cancel.csv` holding `text`, refused with exit 2 before any
    request or journal: its output lines."""
    path = synced.root / "cancel.csv"
    path.write_text(text)
    result = synced.cli("event", "cancel", "--ids-file", str(path), "--yes")
    assert result.exit_code == 2
    assert synced.emulator.requests == []
    assert not _journal_exists(synced)
    return result.output.strip().splitlines()


def test_a_csv_with_a_quote_never_closed_is_refused_in_one_line_and_nothing_is_sent(
    synced: Synced,
) -> None:
    ids = synced.upcoming(3)

    lines = _cancel_file_refused(
        synced, f'id,reason\n{ids[0]},"host is ill\n{ids[1]},ill\n{ids[2]},ill\n'
    )

    assert lines == [
        "error: --ids-file cancel.csv line 2: a quoted value opened on this line is never closed"
    ]


def test_a_csv_column_misspelling_a_field_is_refused_in_one_line_and_nothing_is_sent(
    synced: Synced,
) -> None:
    [event] = synced.upcoming(1)

    lines = _cancel_file_refused(synced, f"id,reasn\n{event},host is ill\n")

    assert lines == [
        "error: column 'reasn' is not one event cancel reads: did you mean 'reason'? Rename it,"
        " or remove it"
    ]


def test_a_jsonl_row_giving_the_id_twice_is_refused_and_nothing_is_sent(synced: Synced) -> None:
    first, second = synced.upcoming(2)
    path = synced.root / "rows.jsonl"
    path.write_text(f'{{"id": {first}, "Id": {second}}}\n')

    result = synced.cli("event", "cancel", "--ids-file", str(path), "--yes")

    assert result.exit_code == 2
    assert "rows.jsonl line 1: keys 'id' and 'Id' are the same column (id)" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert synced.emulator.requests == []


@pytest.mark.parametrize(
    "reason", ['{"x": 1}', '["a", "b"]', "true"], ids=["object", "list", "flag"]
)
def test_a_jsonl_text_value_that_is_not_text_is_refused_and_nothing_is_sent(
    synced: Synced, reason: str
) -> None:
    [event_id] = synced.upcoming(1)
    path = synced.root / "rows.jsonl"
    path.write_text(f'{{"id": {event_id}, "reason": {reason}}}\n')

    result = synced.cli("event", "cancel", "--ids-file", str(path), "--yes")

    assert result.exit_code == 2, result.output
    assert "reason: expected text, got" in result.output and reason in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert synced.emulator.requests == []


@pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity"])
def test_a_jsonl_value_json_has_not_is_refused_and_nothing_is_sent(
    synced: Synced, word: str
) -> None:
    # Python's json reads them; they would go out as the notes "nan" or "inf".
    [event_id] = synced.upcoming(1)
    path = synced.root / "rows.jsonl"
    path.write_text(f'{{"id": {event_id}, "notes": {word}}}\n')

    result = synced.cli("event", "notes", "--ids-file", str(path))

    assert result.exit_code == 2, result.output
    assert f"{word} is no JSON value" in result.output
    assert synced.emulator.requests == []


@pytest.mark.parametrize(
    "column", ["'hi'::blob", "interval 1 day", "'nan'::double"], ids=["blob", "interval", "nan"]
)
def test_a_query_column_that_is_no_text_is_refused_for_a_text_field(
    synced: Synced, column: str
) -> None:
    [event_id] = synced.upcoming(1)

    result = synced.cli("event", "notes", "--sql", f"select {event_id} as id, {column} as notes")

    assert result.exit_code == 2, result.output
    assert "notes: expected text, got" in result.output
    assert synced.emulator.requests == []


def test_a_text_option_a_shell_could_not_decode_is_refused_and_nothing_is_journaled(
    synced: Synced,
) -> None:
    [event_id] = synced.upcoming(1)
    latin1 = b"caf\xe9".decode("utf-8", "surrogateescape")  # what Python makes of the argv

    result = synced.cli("event", "notes", "--ids", str(event_id), "--notes", latin1)

    assert result.exit_code == 2, result.output
    assert "not UTF-8 text" in result.output
    assert synced.emulator.requests == []
    assert synced.query(
        "select count(*) from information_schema.tables where table_schema = 'writeback'"
    ) == [(0,)]


BOOKING_HEADER = ["event_type", "scheduled_at", "invitee_full_name", "invitee_email"]


def test_a_rows_file_that_cannot_be_read_is_named_as_the_option_given(synced: Synced) -> None:
    path = synced.root / "bookings.csv"
    path.write_bytes("event_type,invitee_email\n1,zoë@example.com\n".encode("latin-1"))

    result = synced.cli("event", "create", "--rows-file", str(path))

    assert result.exit_code == 2
    assert f"error: --rows-file {path}: not UTF-8 text" in result.output
    assert synced.emulator.requests == []


@pytest.mark.parametrize(
    "second",
    [
        pytest.param((1, "2031-06-05 10:00:00", "Ada L.", "ada@example.com"), id="another-name"),
        pytest.param((1, "2031-06-05 10:00:00", "Ada", "ADA@example.com"), id="e-mail-case"),
        pytest.param((1, "2031-06-05 10:00:00", "Ada", "ada@example.com"), id="identical"),
    ],
)
def test_two_rows_booking_one_invitee_at_one_start_are_refused_and_nothing_is_sent(
    synced: Synced, second: tuple[object, ...]
) -> None:
    first = (1, "2031-06-05 10:00:00", "Ada", "ada@example.com")
    path = write_csv(synced.root / "bookings.csv", BOOKING_HEADER, [first, second])

    result = synced.cli("event", "create", "--rows-file", str(path))

    assert result.exit_code == 2, result.output
    assert "bookings.csv line 2" in result.output
    assert "bookings.csv line 3" in result.output
    assert "sent, it would be made twice" in result.output
    assert synced.emulator.requests == []


def test_a_booking_of_several_starts_sharing_one_with_another_row_is_refused(
    synced: Synced,
) -> None:
    path = synced.root / "bookings.jsonl"
    path.write_text(
        '{"event_type": 1, "scheduled_at": "2031-06-05 10:00:00", "invitee_full_name": "Ada", '
        '"invitee_email": "ada@example.com"}\n'
        '{"event_type": 1, "multiple_scheduled_at": ["2031-06-04 10:00:00", '
        '"2031-06-05 10:00:00"], "invitee_full_name": "Ada", "invitee_email": "ada@example.com"}\n'
    )

    result = synced.cli("event", "create", "--rows-file", str(path))

    assert result.exit_code == 2, result.output
    assert synced.emulator.requests == []


def test_two_votes_of_one_voter_in_one_poll_are_refused_and_nothing_is_sent(
    synced: Synced,
) -> None:
    poll = synced.emulator.store.list_dtos("polls")[0]
    slots = [slot["id"] for slot in poll["availability"][:2]]
    rows = [(poll["uuid"], slots[0], "vo@example.com"), (poll["uuid"], slots[1], "Vo@Example.com")]
    path = write_csv(synced.root / "votes.csv", ["uuid", "availability", "email"], rows)

    result = synced.cli("poll-result", "create", "--rows-file", str(path))

    assert result.exit_code == 2, result.output
    assert "a vote of vo@example.com in poll" in result.output
    assert synced.emulator.requests == []


def test_a_query_selecting_no_targets_is_nothing_to_do_and_exits_0(synced: Synced) -> None:
    # A scheduled job whose query finds nothing today has nothing to do: no error.
    result = synced.cli("event", "cancel", "--sql", "select id from events where false", "--yes")

    assert result.exit_code == 0, result.output
    assert "nothing to do: the --sql query selected no targets" in result.output
    assert "needs targets" not in result.output
    assert synced.emulator.requests == []
    assert not _journal_exists(synced)


def test_a_tag_on_no_event_type_yet_is_put_on_one_with_a_warning_not_refused(
    synced: Synced,
) -> None:
    # No endpoint lists an organization's tags: one on no type is unknown to the warehouse.
    tag = synced.emulator.store.ref.event_type_tags[0].id
    with duckdb.connect(str(synced.db)) as con:
        con.execute("delete from raw.event_type_tags where id = ?", [tag])
        con.execute("delete from raw.user_event_type_tags where id = ?", [tag])
    links = synced.emulator.store.ref.event_type_tag_links
    event_type = next(
        et.id for et in synced.emulator.store.ref.event_types if tag not in links.get(et.id, set())
    )

    result = synced.cli("event-type-tag", "add", "--tag-id", str(tag), "--ids", str(event_type))

    assert result.exit_code == 0, result.output
    assert f"--tag-id: {tag} not in raw.event_type_tags" in result.output
    assert tag in [t["id"] for t in synced.emulator.store.tags_of_event_type(event_type)]
