"""Planning without a server: rows validated by the contract's DTOs into exact requests."""

from __future__ import annotations

import datetime as dt
import inspect

import click
import pytest

from simplymeet import writeback
from simplymeet.contract.endpoints import ENDPOINTS
from simplymeet.writeback.cli import writeback_commands
from simplymeet.writeback.operations import OPERATIONS, operation
from simplymeet.writeback.plan import build_plan
from simplymeet.writeback.targets import Row


def _plan(name: str, rows: list[dict], options: dict | None = None, chunk: int = 100):
    spec = operation(name)
    if spec.single:  # one target: the values come from options only
        return build_plan(spec, [], {**(options or {}), **rows[0]}, view=None)
    rows_ = [Row(f"row {n}", values) for n, values in enumerate(rows, 1)]
    return build_plan(spec, rows_, options, view=None, chunk_size=chunk)


def test_every_mutating_endpoint_has_an_operation() -> None:
    assert set(OPERATIONS) == {name for name, e in ENDPOINTS.items() if e.mutating}


def test_list_requests_carry_a_chunk_of_ids_each_grouped_by_shared_values() -> None:
    rows = [{"id": i, "reason": "a" if i < 6 else "b"} for i in range(1, 9)]

    plan = _plan("event_cancel_list", rows, chunk=3)

    assert [r.body for r in plan.requests()] == [
        {"reason": "a", "ids": [1, 2, 3]},
        {"reason": "a", "ids": [4, 5]},
        {"reason": "b", "ids": [6, 7, 8]},
    ]


def test_the_request_line_is_the_method_path_and_exact_body() -> None:
    row = {"id": 7, "start": "2030-01-01 10:00:00", "end": "2030-01-01 10:30:00"}
    plan = _plan("event_reschedule", [{**row, "event_type_id": "2", "user_id": "3"}])

    [request] = plan.requests()

    assert request.line() == (
        'PUT /panel/api/event/reschedule/7 {"start":"2030-01-01 10:00:00",'
        '"end":"2030-01-01 10:30:00","eventTypeId":2,"userId":3}'
    )


def test_nested_fields_build_the_body_the_dto_expects() -> None:
    plan = _plan(
        "event_create",
        [{"event_type": "4", "scheduled_at": "2030-01-01 10:00:00"}],
        {
            "invitee_full_name": "Ada",
            "invitee_email": "ada@example.com",
            "participants": "a@x.io;b@y.io",
        },
    )

    # What was not given goes as null (a list as []): a POST body carries every field its
    # DTO lists.
    assert plan.items[0].body == {
        "scheduledAt": "2030-01-01 10:00:00",
        "multipleScheduledAt": None,
        "eventType": 4,
        "invitee": {
            "fullName": "Ada",
            "email": "ada@example.com",
            "timezone": None,
            "locale": None,
            "phoneNumber": None,
            "cancellationPolicy": None,
        },
        "durationId": None,
        "answers": [],
        "participants": [{"email": "a@x.io"}, {"email": "b@y.io"}],
        "locationType": None,
        "location": None,
    }


def test_a_datetime_from_a_query_is_sent_in_the_request_format_in_utc() -> None:
    start = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))

    end = start + dt.timedelta(minutes=30)

    plan = _plan("event_reschedule", [{"id": 7, "start": start, "end": end, "event_type_id": 2}])

    assert plan.items[0].body == {
        "start": "2030-01-01 10:00:00",
        "end": "2030-01-01 10:30:00",
        "eventTypeId": 2,
    }


@pytest.mark.parametrize(
    ("name", "row", "field", "message"),
    [
        ("event_reschedule", {"id": 1, "start": "2030-01-01T10:00"}, "start", "Y-m-d H:i:s"),
        ("event_reschedule", {"id": 1}, "start", "required"),
        ("event_reschedule", {"id": 1, "start": "2030-01-01 10:00:00"}, "end", "required"),
        ("event_notes", {"id": "x", "notes": "n"}, "id", "expected an integer"),
        ("event_notes", {"id": "\uff11", "notes": "n"}, "id", "expected an integer"),
        ("event_notes", {"id": 0, "notes": "n"}, "id", "positive id"),
        ("poll_result_create", {"uuid": "u", "availability": "1", "email": "x"}, "email", "email"),
        (
            "poll_create",
            {"event_type_id": 1, "name": "p", "availability": "x"},
            "availability",
            "Y-m-d H:i:s",
        ),
        ("organization_cancellation_policy_update", {"period": "-5"}, "period", "greater than"),
        ("event_type_tag_add", {"event_type_id": 1, "tag_id": "yes"}, "tag_id", "integer"),
    ],
)
def test_a_bad_value_is_reported_with_its_row_and_field(
    name: str, row: dict, field: str, message: str
) -> None:
    plan = _plan(name, [row])

    [invalid] = plan.invalid
    assert (invalid.source, invalid.field) == (
        "options" if operation(name).single else "row 1",
        field,
    )
    assert message in invalid.message
    assert plan.items == []


def test_create_without_a_start_is_invalid() -> None:
    plan = _plan(
        "event_create", [{"event_type": 1, "invitee_full_name": "A", "invitee_email": "a@b.co"}]
    )

    assert [p.message for p in plan.invalid] == [
        "scheduled_at or multiple_scheduled_at is required"
    ]


def test_create_naming_its_start_in_both_start_fields_is_invalid() -> None:
    row = {
        "event_type": 1,
        "invitee_full_name": "A",
        "invitee_email": "a@b.co",
        "scheduled_at": "2031-06-05 10:00:00",
        "multiple_scheduled_at": "2031-06-05 10:00:00;2031-06-12 10:00:00",
    }
    plan = _plan("event_create", [row])

    assert [p.message for p in plan.invalid] == [
        "scheduled_at 2031-06-05 10:00:00 is also in multiple_scheduled_at: give each start once"
    ]


def test_an_unknown_option_is_refused() -> None:
    with pytest.raises(ValueError, match="has no option"):
        _plan("event_notes", [{"id": 1}], {"note": "typo"})


def test_columns_the_operation_does_not_use_are_reported() -> None:
    plan = _plan("event_no_show", [{"id": 1, "invitee_email": "a@b.co"}])

    assert plan.warnings == ["ignored column(s) not used by event no-show: invitee_email"]


def test_a_column_that_is_not_a_field_s_misspelling_is_only_warned_of() -> None:
    plan = _plan("event_reschedule", [{"id": 1, "start": "2031-01-02 10:00", "state": "x"}])

    assert plan.warnings == ["ignored column(s) not used by event reschedule: state"]


def test_a_query_column_the_warehouse_holds_all_but_spelling_a_field_is_only_warned_of() -> None:
    spec = operation("event_reschedule")
    rows = [
        Row(
            "--sql row 1",
            {"id": 1, "start": "2031-01-02 10:00", "event_type_kind": "x"},
            held=frozenset({"id", "event_type_kind"}),
        )
    ]

    plan = build_plan(spec, rows, view=None)

    assert plan.warnings == ["ignored column(s) not used by event reschedule: event_type_kind"]


def test_a_query_column_named_by_the_query_all_but_spelling_a_field_is_refused() -> None:
    spec = operation("event_cancel")
    rows = [Row("--sql row 1", {"id": 1, "reasn": "ill"}, held=frozenset({"id"}))]

    with pytest.raises(ValueError, match="column 'reasn' is not one event cancel reads: did you"):
        build_plan(spec, rows, view=None)


def test_every_command_has_help_with_an_example() -> None:
    commands = [
        (group.name, command)
        for group in writeback_commands
        for command in group.commands.values()  # type: ignore[attr-defined]
    ]
    assert len([c for g, c in commands if g != "writeback"]) == len(OPERATIONS)
    for group_name, command in commands:
        assert command.help and "Example: simplymeet " in command.help, (group_name, command.name)
        with click.Context(command) as ctx:
            assert group_name == "writeback" or "--dry-run" in command.get_help(ctx)


def test_every_operation_has_a_library_function_taking_its_fields() -> None:
    for spec in OPERATIONS.values():
        function = getattr(writeback, spec.endpoint)
        params = set(inspect.signature(function).parameters)
        assert spec.field_names() - {spec.key} <= params, spec.endpoint
        assert function.__doc__


@pytest.mark.parametrize(
    ("served", "verdict"),
    [
        ({"scheduledAt": "2030-01-01T09:00:00+00:00"}, False),
        ({"eventType": {"id": 3}}, False),
        ({}, True),
        ({"endDate": "2030-01-01T10:45:00+00:00"}, None),
        ({"user": {"id": 9}}, None),
    ],
    ids=["start-not-moved", "other-type", "all-as-sent", "server-chose-end", "server-chose-host"],
)
def test_a_reschedule_read_back_is_applied_unapplied_or_undecided(served, verdict) -> None:
    values = {
        "start": "2030-01-01 10:00:00",
        "end": "2030-01-01 10:30:00",
        "event_type_id": 2,
        "user_id": 4,
    }
    event = {
        "scheduledAt": "2030-01-01T10:00:00+00:00",
        "endDate": "2030-01-01T10:30:00+00:00",
        "eventType": {"id": 2},
        "user": {"id": 4},
        **served,
    }

    assert operation("event_reschedule").verify.applied(values, event) is verdict


def test_a_reschedule_read_back_with_type_and_host_served_as_bare_ids_is_applied() -> None:
    values = {"start": "2030-01-01 10:00:00", "event_type_id": 2, "user_id": 4}
    event = {"scheduledAt": "2030-01-01T10:00:00+00:00", "eventType": 2, "user": "4"}

    assert operation("event_reschedule").verify.applied(values, event) is True


def test_a_booking_read_back_with_its_type_served_as_a_bare_id_is_applied() -> None:
    values = {"event_type": 2, "scheduled_at": "2030-01-01 10:00:00"}
    events = [{"id": 9, "scheduledAt": "2030-01-01T10:00:00+00:00", "eventType": 2}]

    assert operation("event_create").verify.applied(values, events) is True


@pytest.mark.parametrize("slot_id", [7, "7"], ids=["int", "digits"])
def test_a_vote_read_back_on_slots_served_with_ids_as_digits_is_found_applied(slot_id) -> None:
    values = {"uuid": "u-1", "email": "zoe@example.com", "availability": [7]}
    polls = [
        {
            "uuid": "u-1",
            "availability": [{"id": slot_id, "results": [{"email": "Zoe@example.com"}]}],
        }
    ]

    assert operation("poll_result_create").verify.applied(values, polls) is True


def test_a_bookings_job_and_key_name_what_was_asked_not_the_nulls_its_body_carries() -> None:
    # A job journaled before POST bodies carried every listed field must be recognised when
    # run again: its ids were derived from the body as asked.
    plan = _plan(
        "event_create",
        [{"event_type": "4", "scheduled_at": "2030-01-01 10:00:00"}],
        {"invitee_full_name": "Ada", "invitee_email": "ada@example.com"},
    )

    assert "location" in plan.items[0].body
    assert (plan.job_id, plan.items[0].key) == ("event_create-1b023ee642a7", "new#ad8ad08785")


def test_two_rows_creating_user_tags_of_one_name_are_refused_as_made_twice() -> None:
    plan = _plan(
        "user_event_type_tag_create",
        [{"name": "VIP", "color": "#ff0000"}, {"name": " vip ", "color": "#00ff00"}],
    )

    assert [(i.source, i.message) for i in plan.invalid] == [
        (
            "row 2",
            "a user event type tag with name 'vip' is asked in row 1 too: sent, it would be "
            "made twice",
        )
    ]


def test_user_tags_of_different_names_are_each_sent() -> None:
    plan = _plan("user_event_type_tag_create", [{"name": "VIP"}, {"name": "VIP2"}])

    assert plan.invalid == []
    assert len(plan.items) == 2


def test_ids_folded_while_reading_count_as_rows_read_and_duplicates_ignored() -> None:
    spec = operation("event_notes")
    rows = [Row("ids.txt line 1", {"id": "5"}, repeats=2), Row("ids.txt line 2", {"id": "6"})]

    plan = build_plan(spec, rows, {"notes": "n"}, view=None)

    assert plan.rows == 4
    assert "2 duplicate row(s) ignored" in plan.warnings
    assert [item.target for item in plan.items] == ["event 5", "event 6"]
