"""A PUT or POST body carries every field its request DTO lists, so no reading of it loses data.

The reference does not say what a PUT does with a field its body leaves out: keep it, null it
(the body replaces the resource), or refuse the body. The emulator plays each reading
(`Store.put_mode`); the write-back fills what the user did not give from the warehouse. A POST
makes a new record, with nothing to keep: what the user did not give is sent as null, which a
strict server (one that refuses a body missing a listed field) accepts.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pytest

from simplymeet.writeback import Targets, plan_operation
from simplymeet.writeback.operations import OPERATIONS
from tests.writeback_fixtures import (  # noqa: F401 - fixtures
    Synced,
    synced_fixture,
    synced_template_fixture,
)


def _answered_event(s: Synced) -> int:
    """An active event with answers and an invitee name and phone in the warehouse."""
    return int(
        s.scalar(
            "select e.id from raw.events e where e.state = 'active' "
            "and e.invitee_full_name is not null and e.invitee_phone_number is not null "
            "and exists (select 1 from raw.events__answers a where a.event_id = e.id) "
            "order by e.id limit 1"
        )
    )


@pytest.mark.parametrize("scope", ["organization", "user"])
def test_a_policy_update_of_one_option_keeps_the_other_four_on_a_server_that_replaces(
    synced: Synced, scope: str
) -> None:
    before = synced.emulator.store.policy(scope)
    synced.emulator.store.put_mode = "replace"

    result = synced.cli(f"{scope}-cancellation-policy", "update", "--period", "720")

    assert result.exit_code == 0, result.output
    after = synced.emulator.store.policy(scope)
    assert (after.version, after.period) == (before.version + 1, 720)
    assert (after.enabled, after.label, after.text, after.overwrite_personal) == (
        before.enabled,
        before.label,
        before.text,
        before.overwrite_personal,
    )


def test_an_event_edit_of_the_phone_keeps_the_invitee_name_on_a_server_that_replaces(
    synced: Synced,
) -> None:
    event_id = _answered_event(synced)
    name = synced.event(event_id)["invitee"]["fullName"]
    synced.emulator.store.put_mode = "replace"

    result = synced.cli("event", "edit", "--ids", str(event_id), "--invitee-phone-number", "+331")

    assert result.exit_code == 0, result.output
    invitee = synced.event(event_id)["invitee"]
    assert (invitee["fullName"], invitee["phoneNumber"]) == (name, "+331")


def test_an_event_edit_of_the_name_keeps_the_answers_on_a_server_that_replaces(
    synced: Synced,
) -> None:
    event_id = _answered_event(synced)
    answers = synced.event(event_id)["answers"]
    synced.emulator.store.put_mode = "replace"

    result = synced.cli("event", "edit", "--ids", str(event_id), "--invitee-full-name", "Ada L")

    assert result.exit_code == 0, result.output
    assert synced.event(event_id)["answers"] == answers


def test_a_user_tag_rename_keeps_its_color_and_position_on_a_server_that_replaces(
    synced: Synced,
) -> None:
    before = next(
        t for t in synced.emulator.store.list_dtos("user_event_type_tags") if t["id"] == 1
    )
    synced.emulator.store.put_mode = "replace"

    result = synced.cli("user-event-type-tag", "update", "--ids", "1", "--name", "Renamed")

    assert result.exit_code == 0, result.output
    after = next(t for t in synced.emulator.store.list_dtos("user_event_type_tags") if t["id"] == 1)
    assert (after["name"], after["color"], after["position"]) == (
        "Renamed",
        before["color"],
        before["position"],
    )


# One command per PUT with a body, as a user would type it: the fewest options it takes.
_PUT_COMMANDS: dict[str, Callable[[Synced], list[str]]] = {
    "organization_cancellation_policy_update": lambda s: [
        "organization-cancellation-policy", "update", "--period", "720",
    ],
    "user_cancellation_policy_update": lambda s: [
        "user-cancellation-policy", "update", "--enabled", "false",
    ],
    "event_edit": lambda s: [
        "event", "edit", "--ids", str(_answered_event(s)), "--invitee-phone-number", "+331",
    ],
    "user_event_type_tag_update": lambda s: [
        "user-event-type-tag", "update", "--ids", "1", "--name", "Renamed",
    ],
    "availability_rule_save": lambda s: [
        "availability-rule", "save", "--ids", "1",
        "--availability-rules", '[{"type": "weekday", "config": {"weekday": "monday"}, '
        '"hourIntervals": [{"start": "09:00", "end": "10:00"}]}]',
        "--period-type", "range",
        "--period-type-config", '{"start": "2026-01-01", "end": "2026-12-31"}',
    ],
    "event_cancel": lambda s: ["event", "cancel", "--ids", str(s.upcoming(1)[0]), "--yes"],
    "event_cancel_list": lambda s: [
        "event", "cancel-list", "--ids", str(s.upcoming(1)[0]), "--yes",
    ],
    "event_notes": lambda s: ["event", "notes", "--ids", "3", "--notes", "n"],
    "event_no_show_list": lambda s: [
        "event", "no-show-list", "--yes",
        "--ids", str(s.ids("state = 'active' and scheduled_at < now()", 1)[0]),
    ],
    "event_reschedule": lambda s: [
        "event", "reschedule", "--ids", str(s.upcoming(1)[0]), "--start", "2031-01-06 10:00:00",
    ],
}  # fmt: skip


def _first_poll_vote(s: Synced) -> list[str]:
    poll = s.emulator.store.list_dtos("polls")[0]
    slot = poll["availability"][0]["id"]
    return ["--uuid", poll["uuid"], "--availability", str(slot), "--email", "v@example.com"]


_POST_COMMANDS: dict[str, Callable[[Synced], list[str]]] = {
    "event_create": lambda s: [
        "event", "create", "--event-type", "2", "--scheduled-at", "2031-01-06 10:00:00",
        "--invitee-full-name", "Lin", "--invitee-email", "lin@example.com",
    ],
    "event_invite_participants": lambda s: [
        "event", "invite-participants", "--ids", str(s.upcoming(1)[0]),
        "--emails", "guest@example.com",
    ],
    "poll_create": lambda s: [
        "poll", "create", "--event-type-id", "3", "--name", "Kick-off",
        "--availability", "2031-05-01 10:00:00",
    ],
    "poll_result_create": lambda s: ["poll-result", "create", *_first_poll_vote(s)],
    "user_event_type_tag_create": lambda s: ["user-event-type-tag", "create", "--name", "VIP"],
}  # fmt: skip


_STRICT_COMMANDS = {"PUT": _PUT_COMMANDS, "POST": _POST_COMMANDS}
"""Per method, a command sending each endpoint's body with only the options it requires."""


@pytest.mark.parametrize("method", sorted(_STRICT_COMMANDS))
def test_the_strict_server_table_names_every_write_with_a_body(method: str) -> None:
    bodied = {
        name
        for name, spec in OPERATIONS.items()
        if spec.contract.method == method and spec.contract.body is not None
    }

    assert set(_STRICT_COMMANDS[method]) == bodied


@pytest.mark.parametrize(
    ("method", "endpoint"),
    [
        (method, name)
        for method, table in sorted(_STRICT_COMMANDS.items())
        for name in sorted(table)
    ],
)
def test_a_strict_server_accepts_the_body_we_send(
    synced: Synced, method: str, endpoint: str
) -> None:
    args = _STRICT_COMMANDS[method][endpoint](synced)
    synced.emulator.store.put_mode = "strict"

    # What the server answered is the point, not the warehouse's refresh after it.
    result = synced.cli(*args, "--no-refresh")

    assert result.exit_code == 0, result.output
    sent = [r.status for r in synced.emulator.requests if r.method == method]
    assert sent and all(status < 300 for status in sent), sent


def test_a_booking_given_no_answers_or_participants_sends_each_as_an_empty_list(
    synced: Synced,
) -> None:
    # Present for a server that refuses a body missing a listed field, and typed for one
    # that checks types too: `[]` says "none" to both, where null is no array.
    result = synced.cli(*_POST_COMMANDS["event_create"](synced), "--no-refresh")

    assert result.exit_code == 0, result.output
    [(_, body)] = synced.writes("event_create")
    assert body is not None
    assert (body["answers"], body["participants"]) == ([], [])


def test_a_policy_update_whose_current_policy_is_unknown_is_refused_and_nothing_is_sent(
    synced: Synced,
) -> None:
    con = duckdb.connect(str(synced.db))
    con.execute("delete from raw.cancellation_policies where type = 'organization'")
    con.close()

    result = synced.cli("organization-cancellation-policy", "update", "--period", "720")

    assert result.exit_code != 0
    assert (
        "enabled: its current value is unknown (no organization policy in "
        "raw.cancellation_policies): give --enabled, or sync first" in result.output
    )
    assert synced.emulator.count("organization_cancellation_policy_update") == 0


def test_an_availability_save_without_its_period_is_refused_naming_it_and_nothing_is_sent(
    synced: Synced,
) -> None:
    rules = '[{"type": "weekday", "config": {"weekday": "monday"}}]'

    result = synced.cli("availability-rule", "save", "--ids", "1", "--availability-rules", rules)

    assert result.exit_code != 0
    assert "period_type: required (option --period-type or column period_type)" in result.output
    assert synced.emulator.count("availability_rule_save") == 0


def test_an_edit_sends_a_phone_known_to_be_empty_as_null_which_a_strict_server_accepts(
    synced: Synced,
) -> None:
    [event_id] = synced.ids("state = 'active' and invitee_phone_number is null", 1)
    synced.emulator.store.put_mode = "strict"

    result = synced.cli("event", "edit", "--ids", str(event_id), "--invitee-full-name", "Ada L")

    assert result.exit_code == 0, result.output
    [(_, body)] = synced.writes("event_edit")
    assert (body["invitee"]["fullName"], body["invitee"]["phoneNumber"]) == ("Ada L", None)
    assert synced.event(event_id)["invitee"]["fullName"] == "Ada L"


def test_an_edit_sends_the_invitees_other_fields_as_they_are_for_the_invitee_request_reading(
    synced: Synced,
) -> None:
    # EditEventRequestDTO's `invitee` is typed `InviteeRequestDTO">EditEventInviteeRequestDTO`:
    # a server reading InviteeRequestDTO may replace the invitee with what the body holds.
    event_id = _answered_event(synced)
    invitee = synced.event(event_id)["invitee"]

    result = synced.cli("event", "edit", "--ids", str(event_id), "--invitee-full-name", "Ada L")

    assert result.exit_code == 0, result.output
    [(_, body)] = synced.writes("event_edit")
    kept = ("email", "timezone", "locale", "cancellationPolicy")
    assert {k: body["invitee"][k] for k in kept} == {k: invitee[k] for k in kept}


def test_an_edit_is_the_same_job_whatever_the_current_values_its_body_was_completed_with(
    synced: Synced,
) -> None:
    event_id = _answered_event(synced)
    asked = {"invitee_phone_number": "+331"}
    before = plan_operation("event_edit", synced.settings, Targets(ids=[event_id]), asked)
    con = duckdb.connect(str(synced.db))
    con.execute("update raw.events set invitee_full_name = 'Renamed' where id = ?", [event_id])
    con.close()

    after = plan_operation("event_edit", synced.settings, Targets(ids=[event_id]), asked)

    assert after.items[0].body["invitee"]["fullName"] == "Renamed"
    assert after.job_id == before.job_id


# --- what a body repeats is what the server holds now, not what the last sync saw ---------------


def test_a_policy_update_keeps_a_text_changed_upstream_since_the_last_sync(synced: Synced) -> None:
    with synced.client() as client:
        client.organization_cancellation_policy_update(text="Changed upstream")

    result = synced.cli("organization-cancellation-policy", "update", "--period", "720")

    assert result.exit_code == 0, result.output
    after = synced.emulator.store.policy("organization")
    assert (after.period, after.text) == (720, "Changed upstream")


def test_an_edit_keeps_an_invitee_name_changed_upstream_since_the_last_sync(
    synced: Synced,
) -> None:
    event_id = _answered_event(synced)
    with synced.client() as client:
        client.event_edit(event_id, {"invitee": {"fullName": "Renamed upstream"}})

    result = synced.cli("event", "edit", "--ids", str(event_id), "--invitee-phone-number", "+331")

    assert result.exit_code == 0, result.output
    invitee = synced.event(event_id)["invitee"]
    assert (invitee["fullName"], invitee["phoneNumber"]) == ("Renamed upstream", "+331")


def test_a_user_tag_rename_keeps_a_color_changed_upstream_since_the_last_sync(
    synced: Synced,
) -> None:
    tag = next(t for t in synced.emulator.store.list_dtos("user_event_type_tags") if t["id"] == 1)
    with synced.client() as client:
        client.user_event_type_tag_update(1, name=tag["name"], color="#123456")

    result = synced.cli("user-event-type-tag", "update", "--ids", "1", "--name", "Renamed")

    assert result.exit_code == 0, result.output
    after = next(t for t in synced.emulator.store.list_dtos("user_event_type_tags") if t["id"] == 1)
    assert (after["name"], after["color"]) == ("Renamed", "#123456")


def test_a_user_tag_rename_on_a_server_serving_tags_without_a_color_sends_it_as_null(
    synced: Synced,
) -> None:
    synced.emulator.set_anomalies("omit=color,endpoints=user_event_type_tag_list")

    result = synced.cli(
        "user-event-type-tag", "update", "--ids", "1", "--name", "Renamed", "--no-refresh"
    )

    assert result.exit_code == 0, result.output
    [(_, body)] = synced.writes("user_event_type_tag_update")
    assert body is not None and body["name"] == "Renamed"
    assert "color" in body and body["color"] is None


_PERIOD = ["--period-type", "range", "--period-type-config", '{"start": "2026-01-01"}']


def test_an_availability_rule_with_a_misspelled_field_is_refused_in_one_line_and_not_sent(
    synced: Synced,
) -> None:
    # A lenient rule would go out as typed; the server reads it as a day without hours.
    rules = (
        '[{"type": "weekday", "config": {"weekday": "monday"}, '
        '"hourIntervalz": [{"start": "09:00", "end": "17:00"}]}]'
    )

    result = synced.cli(
        "availability-rule", "save", "--ids", "1,2", "--availability-rules", rules, *_PERIOD
    )

    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: --availability-rules: availabilityRules.0.hourIntervalz: not a field of this "
        "request; nothing was sent"
    ]
    assert synced.emulator.count("availability_rule_save") == 0


@pytest.mark.parametrize(
    ("rule", "missing"),
    [
        (
            '{"type": "weekday", "config": {"weekday": "monday"}}',
            "availabilityRules.0.hourIntervals",
        ),
        (
            '{"type": "weekday", "config": {"weekday": "monday"}, '
            '"hourIntervals": [{"start": "09:00"}]}',
            "availabilityRules.0.hourIntervals.0.end",
        ),
    ],
    ids=["a-rule-without-hours", "an-interval-without-its-end"],
)
def test_an_availability_rule_leaving_out_a_field_its_dto_lists_is_refused_naming_it(
    synced: Synced, rule: str, missing: str
) -> None:
    result = synced.cli(
        "availability-rule", "save", "--ids", "1", "--availability-rules", f"[{rule}]", *_PERIOD
    )

    assert result.exit_code == 2
    assert f"--availability-rules: {missing}: required (null for none)" in result.output
    assert synced.emulator.count("availability_rule_save") == 0


def test_an_availability_rule_config_is_a_free_object(synced: Synced) -> None:
    rules = (
        '[{"type": "date", "config": {"date": "2031-02-03", "note": "closing day"}, '
        '"hourIntervals": []}]'
    )

    result = synced.cli(
        "availability-rule", "save", "--ids", "1", "--availability-rules", rules,
        "--availability-type", "date", "--no-refresh", *_PERIOD,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("availability_rule_save") == 1


def test_an_event_edit_body_carries_the_event_id_its_dto_lists_beside_the_path(
    synced: Synced,
) -> None:
    # EditEventRequestDTO: "id int Event id. Ignore this field."
    event_id = _answered_event(synced)

    result = synced.cli("event", "edit", "--ids", str(event_id), "--invitee-phone-number", "+331")

    assert result.exit_code == 0, result.output
    [(_, body)] = synced.writes("event_edit")
    assert body is not None and body["id"] == event_id
