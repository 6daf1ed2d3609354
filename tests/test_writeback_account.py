"""Write-back commands for everything but events, end to end: upstream, then the warehouse."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable

import duckdb
import httpx
import pytest

from simplymeet.client import SimplyMeetClient
from simplymeet.writeback import Targets, run_operation
from simplymeet.writeback.operations import operation
from simplymeet.writeback.plan import build_plan
from simplymeet.writeback.targets import Row
from simplymeet.writeback.verify import check_applied
from simplymeet.writeback.warehouse import WarehouseView, read_only
from tests.loopback import behind, served
from tests.sync_support import run_sync, sync_killed_before_loading
from tests.writeback_fixtures import (  # noqa: F401 - fixtures
    SHORT_SETTLE,
    SHORT_TIMEOUT,
    Synced,
    synced_fixture,
    synced_template_fixture,
)


def _linked(s: Synced) -> dict[int, set[int]]:
    return {
        row["eventTypeId"]: {t["id"] for t in row["tags"]}
        for row in s.emulator.store.list_dtos("event_type_tag_links")
    }


def _policy_version(s: Synced, kind: str) -> int:
    return s.emulator.store.policy(kind).version


def test_availability_rule_save_replaces_weekday_rules_of_each_event_type(synced: Synced) -> None:
    rules = [{"type": "weekday", "config": {"weekday": "monday"},
              "hourIntervals": [{"start": "09:00", "end": "10:00"}]}]  # fmt: skip

    result = synced.cli(
        "availability-rule", "save", "--ids", "1,2",
        "--availability-rules", json.dumps(rules), "--availability-type", "weekday",
        "--period-type", "range", "--period-type-config", '{"start": "2026-01-01"}',
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("availability_rule_save") == 1
    served = {
        r["eventTypeId"]: r["rules"] for r in synced.emulator.store.list_dtos("availability_rules")
    }
    for type_id in (1, 2):
        assert [r for r in served[type_id] if r["type"] == "weekday"] == rules
    # Days before today keep what was served on them (a run crossing midnight UTC leaves
    # yesterday as the template's sync read it); from today on, the re-sync read them.
    today = dt.datetime.now(dt.UTC).date()
    weekdays = synced.query(
        "select distinct dayname(date) from raw.event_type_availability_days "
        f"where event_type_id in (1, 2) and available and date >= '{today}'"
    )
    assert {w for (w,) in weekdays} <= {"Monday"}


def test_an_availability_type_other_than_weekday_or_date_is_refused_and_nothing_is_sent(
    synced: Synced,
) -> None:
    # A server may read another word as "not set" and replace both kinds of rules.
    result = synced.cli(
        "availability-rule", "save", "--ids", "1", "--availability-rules", "[]",
        "--availability-type", "month",
        "--period-type", "range", "--period-type-config", '{"start": "2026-01-01"}',
    )  # fmt: skip

    assert result.exit_code == 2, result.output
    assert "availability type 'month' is none of weekday, date" in result.output
    assert synced.emulator.count("availability_rule_save") == 0


def test_organization_cancellation_policy_update_creates_a_new_version(synced: Synced) -> None:
    before = _policy_version(synced, "organization")

    result = synced.cli(
        "organization-cancellation-policy", "update", "--period", "2880", "--label", "48h"
    )

    assert result.exit_code == 0, result.output
    policy = synced.emulator.store.policy("organization")
    assert (policy.version, policy.period, policy.label) == (before + 1, 2880, "48h")
    assert synced.query(
        "select period, label from raw.cancellation_policies "
        f"where type = 'organization' and version = {before + 1}"
    ) == [(2880, "48h")]


def test_a_policy_update_the_warehouse_shows_done_is_sent_when_the_server_holds_other_values(
    synced: Synced,
) -> None:
    synced_period = synced.emulator.store.policy("organization").period
    with synced.client() as client:  # changed upstream since the last sync
        client.call("organization_cancellation_policy_update", body={"period": 240})

    result = synced.cli(
        "organization-cancellation-policy", "update", "--period", str(synced_period)
    )

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("organization_cancellation_policy_update") == 2
    assert synced.emulator.store.policy("organization").period == synced_period


def test_a_tag_removal_the_warehouse_shows_done_is_sent_when_the_server_put_the_tag_on(
    synced: Synced,
) -> None:
    type_id = next(t for t, tags in _linked(synced).items() if 1 not in tags)
    with synced.client() as client:  # put on upstream since the last sync
        client.event_type_tag_add(type_id, 1)

    result = synced.cli("event-type-tag", "remove", "--ids", str(type_id), "--tag-id", "1", "--yes")

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("event_type_tag_remove") == 1
    assert 1 not in _linked(synced)[type_id]


def test_notes_the_warehouse_shows_set_are_sent_when_the_server_holds_others(
    synced: Synced,
) -> None:
    [(event, notes)] = synced.query(
        "select id, notes from events where notes is not null and state = 'active' "
        "and scheduled_at > now() order by id limit 1"
    )
    with synced.client() as client:  # changed upstream since the last sync
        client.event_notes(event, notes="call moved")

    result = synced.cli("event", "notes", "--ids", str(event), "--notes", notes)

    assert result.exit_code == 0, result.output
    assert synced.event(event)["notes"] == notes  # type: ignore[index]


def test_user_cancellation_policy_update_creates_a_new_version(synced: Synced) -> None:
    before = _policy_version(synced, "user")

    result = synced.cli("user-cancellation-policy", "update", "--enabled", "false")

    assert result.exit_code == 0, result.output
    assert synced.emulator.store.policy("user").version == before + 1
    assert synced.query(
        "select enabled from raw.cancellation_policies "
        f"where type = 'user' and version = {before + 1}"
    ) == [(False,)]


def test_event_type_tag_add_puts_the_tag_on_each_selected_event_type(synced: Synced) -> None:
    untagged = [t for t, tags in _linked(synced).items() if 1 not in tags][:3]
    sql = f"select id from event_types where id in ({','.join(map(str, untagged))})"

    result = synced.cli("event-type-tag", "add", "--tag-id", "1", "--sql", sql)

    assert result.exit_code == 0, result.output
    assert all(1 in _linked(synced)[t] for t in untagged)
    landed = synced.query(
        "select event_type_id from raw.event_type_tags where id = 1 "
        f"and event_type_id in ({','.join(map(str, untagged))})"
    )
    assert {r[0] for r in landed} == set(untagged)


def test_event_type_tag_remove_takes_the_tag_off(synced: Synced) -> None:
    type_id, tags = next((t, tags) for t, tags in _linked(synced).items() if tags)
    tag_id = min(tags)

    result = synced.cli(
        "event-type-tag", "remove", "--ids", str(type_id), "--tag-id", str(tag_id), "--yes"
    )

    assert result.exit_code == 0, result.output
    assert tag_id not in _linked(synced)[type_id]
    assert synced.query(
        "select count(*) from raw.event_type_tags "
        f"where event_type_id = {type_id} and id = {tag_id}"
    ) == [(0,)]


def test_user_event_type_tag_create_adds_the_tag(synced: Synced) -> None:
    result = synced.cli(
        "user-event-type-tag", "create", "--name", "Key accounts", "--color", "#123456"
    )

    assert result.exit_code == 0, result.output
    served = [
        t
        for t in synced.emulator.store.list_dtos("user_event_type_tags")
        if t["name"] == "Key accounts"
    ]
    assert len(served) == 1 and served[0]["color"] == "#123456"
    assert synced.query("select id from raw.user_event_type_tags where name = 'Key accounts'") == [
        (served[0]["id"],)
    ]


def test_a_user_tag_created_under_a_name_deleted_upstream_since_the_sync_is_made(
    synced: Synced,
) -> None:
    tag_id, name = synced.query(
        "select min(id), name from raw.user_event_type_tags group by name having count(*) = 1 "
        "order by name limit 1"
    )[0]
    with synced.client() as client:
        client.call("user_event_type_tag_delete", path_params={"id": tag_id})

    result = synced.cli("user-event-type-tag", "create", "--name", name)

    assert result.exit_code == 0, result.output
    served = synced.emulator.store.list_dtos("user_event_type_tags")
    assert [t["name"] for t in served].count(name) == 1


def test_user_event_type_tag_update_renames_the_tag(synced: Synced) -> None:
    result = synced.cli("user-event-type-tag", "update", "--ids", "1", "--name", "Renamed")

    assert result.exit_code == 0, result.output
    served = {t["id"]: t for t in synced.emulator.store.list_dtos("user_event_type_tags")}
    assert served[1]["name"] == "Renamed"
    assert synced.query("select name from raw.user_event_type_tags where id = 1") == [("Renamed",)]


def test_user_event_type_tag_update_of_the_color_alone_keeps_the_name(synced: Synced) -> None:
    name = synced.query("select name from raw.user_event_type_tags where id = 1")[0][0]

    result = synced.cli("user-event-type-tag", "update", "--ids", "1", "--color", "#00ff00")

    assert result.exit_code == 0, result.output
    served = {t["id"]: t for t in synced.emulator.store.list_dtos("user_event_type_tags")}
    assert (served[1]["name"], served[1]["color"]) == (name, "#00ff00")


def test_user_event_type_tag_update_of_nothing_is_refused(synced: Synced) -> None:
    result = synced.cli("user-event-type-tag", "update", "--ids", "1")

    assert result.exit_code == 2
    assert "nothing to change" in result.stderr


def test_user_event_type_tag_delete_removes_the_tag(synced: Synced) -> None:
    result = synced.cli("user-event-type-tag", "delete", "--ids", "2", "--yes")

    assert result.exit_code == 0, result.output
    assert 2 not in {t["id"] for t in synced.emulator.store.list_dtos("user_event_type_tags")}
    assert synced.query("select count(*) from raw.user_event_type_tags where id = 2") == [(0,)]


def test_a_user_tag_delete_applied_after_its_answer_is_found_done_by_a_rerun_after_a_sync(
    synced: Synced,
) -> None:
    # Answered 204, applied a moment later: the read-back shows it not done (failed), and
    # the sync the user then runs takes the tag out of the warehouse.
    synced.emulator.set_faults(
        "unapplied=1,max=1,apply_later=0.5,endpoints=user_event_type_tag_delete"
    )
    args = ("user-event-type-tag", "delete", "--ids", "2", "--yes")
    first = synced.cli(*args)
    synced.until(
        lambda: 2 not in {t["id"] for t in synced.emulator.store.list_dtos("user_event_type_tags")},
        "the late delete",
    )
    run_sync(synced.settings, synced.emulator, resources=["user_event_type_tags"])

    again = synced.cli(*args)

    assert first.exit_code == 6 and "failed 1" in first.output, first.output
    assert again.exit_code == 0, again.output
    assert "not in the warehouse" not in again.output


def _user_tag_on_a_type(synced: Synced) -> tuple[int, int]:
    """A server whose types' tags are the user's tags, user tag 1 on the first event type,
    synced."""
    synced.emulator.set_readings("type_tags=user")
    type_id = synced.emulator.store.ref.event_types[0].id
    synced.emulator.store.ref.event_type_tag_links[type_id] = {1}
    run_sync(synced.settings, synced.emulator, reread_per_event_type=True)
    assert synced.query(f"select id from raw.event_type_tags where event_type_id = {type_id}") == [
        (1,)
    ]
    return type_id, 1


def test_a_user_tag_renamed_is_renamed_on_the_event_types_that_carry_it(synced: Synced) -> None:
    type_id, tag_id = _user_tag_on_a_type(synced)

    result = synced.cli("user-event-type-tag", "update", "--ids", str(tag_id), "--name", "Renamed")

    assert result.exit_code == 0, result.output
    assert synced.query(
        f"select name from raw.event_type_tags where event_type_id = {type_id} and id = {tag_id}"
    ) == [("Renamed",)]


def test_a_user_tag_deleted_leaves_the_event_types_that_carried_it(synced: Synced) -> None:
    type_id, tag_id = _user_tag_on_a_type(synced)

    result = synced.cli("user-event-type-tag", "delete", "--ids", str(tag_id), "--yes")

    assert result.exit_code == 0, result.output
    assert synced.query(f"select id from raw.event_type_tags where event_type_id = {type_id}") == []


def test_poll_create_creates_the_poll_with_its_slots(synced: Synced) -> None:
    result = synced.cli(
        "poll", "create", "--event-type-id", "3", "--name", "Kick-off", "--duration", "45",
        "--availability", "2030-05-01 10:00:00;2030-05-02 10:00:00",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    [poll] = [p for p in synced.emulator.store.list_dtos("polls") if p["name"] == "Kick-off"]
    assert len(poll["availability"]) == 2
    assert synced.query(
        f"select name, duration, event_type_id from raw.polls where id = {poll['id']}"
    ) == [("Kick-off", 45, 3)]


def test_poll_delete_removes_the_poll(synced: Synced) -> None:
    result = synced.cli("poll", "delete", "--ids", "1", "--yes")

    assert result.exit_code == 0, result.output
    assert synced.emulator.store.poll_by_id(1) is None
    assert synced.query("select count(*) from raw.polls where id = 1") == [(0,)]


def test_poll_result_create_records_the_vote_on_each_slot(synced: Synced) -> None:
    poll = synced.emulator.store.list_dtos("polls")[0]
    slots = [s["id"] for s in poll["availability"][:2]]

    result = synced.cli(
        "poll-result", "create", "--uuid", poll["uuid"],
        "--availability", ",".join(map(str, slots)), "--email", "voter@example.com",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    served = {s["id"]: s for s in synced.emulator.store.list_dtos("polls")[0]["availability"]}
    assert all(
        "voter@example.com" in {r["email"] for r in served[slot]["results"]} for slot in slots
    )
    landed = synced.query(
        "select availability_id from polls__availability__results where email = 'voter@example.com'"
    )
    assert {r[0] for r in landed} == set(slots)


def test_a_vote_whose_polls_cannot_be_read_first_is_not_sent_and_the_run_exits_5(
    synced: Synced,
) -> None:
    # Unread, a vote cast since the last sync is no proof against: it would be a second vote.
    poll = synced.emulator.store.list_dtos("polls")[0]
    synced.emulator.set_faults("503=1,retry_after=0,endpoints=poll_list|poll_get")

    result = synced.cli(
        "poll-result", "create", "--uuid", poll["uuid"],
        "--availability", str(poll["availability"][0]["id"]), "--email", "voter@example.com",
    )  # fmt: skip

    assert result.exit_code == 5, result.output
    assert synced.emulator.count("poll_result_create") == 0


def test_a_vote_answered_done_but_not_recorded_is_unknown_and_sent_by_a_rerun_once_settled(
    synced: Synced,
) -> None:
    # Not there when read back: it may be recorded a moment later (a queue), so it is sent
    # again only once settle_seconds have passed, as a cancel is.
    poll = synced.emulator.store.list_dtos("polls")[0]
    slot = poll["availability"][0]["id"]
    synced.emulator.set_faults("unapplied=1,max=1,endpoints=poll_result_create")
    args = (
        "poll-result", "create", "--uuid", poll["uuid"], "--availability", str(slot),
        "--email", "late@example.com", "--no-refresh",
    )  # fmt: skip

    first = synced.cli(*args)
    time.sleep(SHORT_SETTLE + 2.2)  # the period, and the server's whole-second clock
    again = synced.cli(*args)

    assert first.exit_code == 6 and "unknown 1" in first.output, first.output
    assert again.exit_code == 0, again.output
    served = synced.emulator.store.list_dtos("polls")[0]["availability"][0]["results"]
    assert [r["email"] for r in served].count("late@example.com") == 1


def test_two_votes_in_one_poll_read_back_together_are_both_found(synced: Synced) -> None:
    # A resumed run reads its items back together: one poll holding both votes proves both
    # (a poll made is proof for one row only; a poll voted in is not made by the vote).
    spec = operation("poll_result_create")
    poll = synced.emulator.store.list_dtos("polls")[0]
    slot = poll["availability"][0]["id"]
    rows = [
        Row(f"row {n}", {"uuid": poll["uuid"], "availability": str(slot), "email": email})
        for n, email in enumerate(["first@example.com", "second@example.com"], 1)
    ]
    with read_only(synced.db) as con:
        view = WarehouseView(con, synced.settings.get("warehouse", "dataset"))
        items = build_plan(spec, rows, {}, view=view).items
    assert len(items) == 2
    with synced.client() as client:
        for item in items:
            client.call("poll_result_create", body=item.body)
        verdicts = check_applied(spec, client, items)

    assert list(verdicts.values()) == [True, True]


def test_a_vote_on_a_slot_numbered_as_one_the_voter_chose_in_another_poll_is_sent(
    synced: Synced,
) -> None:
    synced.emulator.set_readings("poll_slot_ids=per_poll")  # every poll has a slot 1
    run_sync(synced.settings, synced.emulator, resources=("polls",))
    polls = synced.emulator.store.list_dtos("polls")
    voters = [{vote["email"] for vote in poll["availability"][0]["results"]} for poll in polls]
    voter, other = next(
        (voter, poll)
        for voted in voters
        for voter in sorted(voted)
        for poll, voted_there in zip(polls, voters, strict=True)
        if voter not in voted_there
    )

    result = synced.cli(
        "poll-result", "create", "--uuid", other["uuid"], "--availability", "1",
        "--email", voter,
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    served = synced.emulator.store.poll_by_id(other["id"])
    assert served is not None
    assert voter in {vote.email for vote in served.slots[0].results}


def test_a_link_answered_with_nothing_is_done_as_the_reference_leaves_its_return_unsaid(
    synced: Synced,
) -> None:
    # "Create a single use link … Retour: -": a server may answer 204 and no link.
    def nothing(up: httpx.Client, path: str, pairs, body, headers) -> httpx.Response:
        answer = served(up, path, pairs, body, headers)
        return httpx.Response(204) if path.startswith("/panel/api/single-use-link/") else answer

    with (
        behind(synced.emulator, nothing) as url,
        SimplyMeetClient(url, api_key=synced.emulator.api_key) as client,
    ):
        report = run_operation("single_use_link_create", synced.settings, client, Targets(ids=[4]))

    assert [o.item.target_id for o in report.succeeded] == [4], report.unknown
    assert len(synced.emulator.store.list_dtos("single_use_links")) == 1


def test_single_use_link_create_prints_and_journals_each_link(synced: Synced) -> None:
    result = synced.cli("single-use-link", "create", "--ids", "4,5")

    assert result.exit_code == 0, result.output
    links = synced.emulator.store.list_dtos("single_use_links")
    assert sorted(link["eventTypeId"] for link in links) == [4, 5]
    for link in links:
        assert link["url"] in result.output
    journaled = synced.query("select result from writeback.journal where outcome = 'succeeded'")
    assert {json.loads(r[0])["url"] for r in journaled} == {link["url"] for link in links}


def _polls_named(synced: Synced, name: str) -> int:
    return sum(p["name"] == name for p in synced.emulator.store.list_dtos("polls"))


def test_a_user_tag_only_colleagues_have_a_tag_of_its_name_is_made_for_the_keys_user(
    synced: Synced,
) -> None:
    # A create makes the tag for the API key's user: a colleague's of that name is no skip.
    me = synced.query("select id from raw.current_user")[0][0]
    rows = synced.query(
        "select name from raw.user_event_type_tags group by name "
        f"having count(*) filter (where user_id = {me}) = 0 limit 1"
    )
    [(name,)] = rows
    result = synced.cli("user-event-type-tag", "create", "--name", name, "--no-refresh")

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("user_event_type_tag_create") == 1
    mine = [
        t
        for t in synced.emulator.store.list_dtos("user_event_type_tags")
        if t["name"] == name and t["user"]["id"] == me
    ]
    assert len(mine) == 1


def _tags_named(synced: Synced, name: str) -> int:
    tags = synced.emulator.store.list_dtos("user_event_type_tags")
    return sum(t["name"] == name for t in tags)


def _votes_of(synced: Synced, email: str) -> int:
    slots = synced.emulator.store.list_dtos("polls")[0]["availability"]
    return sum(r["email"] == email for r in slots[0]["results"])


LATE_CREATIONS = pytest.mark.parametrize(
    ("endpoint", "made"),
    [
        pytest.param("poll_create", lambda s: _polls_named(s, "Late poll"), id="poll"),
        pytest.param("user_event_type_tag_create", lambda s: _tags_named(s, "Late"), id="tag"),
        pytest.param("poll_result_create", lambda s: _votes_of(s, "late@example.com"), id="vote"),
    ],
)
"""The creations (POSTs) of the late-recorded tests, with how many of each the server holds."""


def _late_creation(synced: Synced, endpoint: str) -> tuple[str, ...]:
    """The command making one of `LATE_CREATIONS`, without a refresh."""
    poll = synced.emulator.store.list_dtos("polls")[0]
    return {
        "poll_create": (
            "poll", "create", "--event-type-id", "3", "--name", "Late poll",
            "--availability", "2030-05-01 10:00:00",
        ),
        "user_event_type_tag_create": ("user-event-type-tag", "create", "--name", "Late"),
        "poll_result_create": (
            "poll-result", "create", "--uuid", poll["uuid"], "--email", "late@example.com",
            "--availability", str(poll["availability"][0]["id"]),
        ),
    }[endpoint] + ("--no-refresh",)  # fmt: skip


@LATE_CREATIONS
def test_a_creation_recorded_seconds_after_its_answer_is_not_made_again_by_a_rerun(
    synced: Synced, endpoint: str, made: Callable[[Synced], int]
) -> None:
    # Read back at once, it is not there (failed); the re-run must read it back before
    # posting again, or the poll, tag or vote is made twice.
    args = _late_creation(synced, endpoint)
    synced.emulator.set_faults(f"unapplied=1,max=1,apply_later=1,endpoints={endpoint}")

    first = synced.cli(*args)
    synced.until(lambda: made(synced) == 1, f"the late {endpoint}")
    again = synced.cli(*args)

    assert first.exit_code == 6 and "unknown 1" in first.output, first.output
    assert again.exit_code == 0, again.output
    assert made(synced) == 1 and synced.emulator.count(endpoint) == 1


@LATE_CREATIONS
def test_a_creation_answered_as_failed_and_made_later_is_not_posted_by_an_immediate_rerun(
    synced: Synced, endpoint: str, made: Callable[[Synced], int]
) -> None:
    # A front end answers 200 {"success": false} while the backend still makes it: not
    # there when read back, it is unknown for the settle period, not failed (a re-run would
    # post it at once, and the poll, tag or vote would be made twice).
    synced.settle_seconds = 60.0
    args = _late_creation(synced, endpoint)
    synced.emulator.set_faults(f"said_failed=1,max=1,apply_later=6,endpoints={endpoint}")

    first = synced.cli(*args)
    again = synced.cli(*args)
    synced.until(lambda: made(synced) == 1, f"the late {endpoint}")

    assert first.exit_code == 6 and "unknown 1" in first.output, first.output
    assert again.exit_code == 6 and "unknown 1" in again.output, again.output
    assert made(synced) == 1 and synced.emulator.count(endpoint) == 1


@LATE_CREATIONS
def test_a_creation_the_server_makes_after_the_clients_wait_is_not_posted_again_in_the_run(
    synced: Synced, endpoint: str, made: Callable[[Synced], int]
) -> None:
    # The gateway answers 504 at once and the API makes it 6 s later, past the client's wait
    # and the read-back after it: posted again then, the poll, tag or vote is made twice. Not
    # made when read back, it is left unknown for the settle period, as a cancel is.
    synced.api_timeout_seconds = SHORT_TIMEOUT
    synced.settle_seconds = 60.0
    synced.emulator.set_faults(f"504=1,max=1,apply_later=6,endpoints={endpoint}")

    result = synced.cli(*_late_creation(synced, endpoint))
    synced.until(lambda: made(synced) == 1, f"the late {endpoint}")

    assert result.exit_code == 6 and "unknown 1" in result.output, result.output
    assert made(synced) == 1 and synced.emulator.count(endpoint) == 1


def test_a_poll_another_hand_made_since_the_sync_is_no_proof_a_lost_creation_was_made(
    synced: Synced,
) -> None:
    # The same name, event type and slot, made on the server since the last sync: a read
    # back after a lost answer must not take it for the poll this row asked for.
    slot = "2030-05-01 10:00:00"
    with synced.client() as client:
        client.poll_create({"eventTypeId": 3, "name": "Twin", "availability": [{"date": slot}]})
    synced.emulator.set_faults("500=1,max=1,endpoints=poll_create")  # nothing applied
    synced.api_timeout_seconds = SHORT_TIMEOUT  # the read-back waits out the send's timeout

    result = synced.cli(
        "poll", "create", "--event-type-id", "3", "--name", "Twin", "--availability", slot,
        "--no-refresh",
    )  # fmt: skip

    twins = [p for p in synced.emulator.store.list_dtos("polls") if p["name"] == "Twin"]
    assert result.exit_code == 0, result.output
    assert len(twins) == 2


def _poll_with_two_slots(synced: Synced) -> tuple[dict, int, int]:
    """A poll the emulator serves with two slots or more, and its first two slots' ids."""
    poll = next(p for p in synced.emulator.store.list_dtos("polls") if len(p["availability"]) > 1)
    first, second = (slot["id"] for slot in poll["availability"][:2])
    return poll, first, second


def test_a_vote_naming_a_slot_its_voter_voted_for_since_the_last_sync_is_refused(
    synced: Synced,
) -> None:
    poll, first, second = _poll_with_two_slots(synced)
    with synced.client() as client:  # the warehouse has not seen this vote
        client.poll_result_create(poll["uuid"], [first], "early@example.com")
    both = f"{first},{second}"
    args = ("--uuid", poll["uuid"], "--availability", both, "--email", "early@example.com")

    result = synced.cli("poll-result", "create", *args)

    assert result.exit_code == 6, result.output
    assert f"already voted for slot(s) {first}" in result.output
    assert synced.emulator.count("poll_result_create") == 1


def test_a_vote_naming_a_slot_its_voter_voted_for_in_the_warehouse_sends_nothing(
    synced: Synced,
) -> None:
    poll, first, second = _poll_with_two_slots(synced)
    with synced.client() as client:
        client.poll_result_create(poll["uuid"], [first], "known@example.com")
    assert synced.cli("sync", "--no-models").exit_code == 0
    both = f"{first},{second}"
    args = ("--uuid", poll["uuid"], "--availability", both, "--email", "known@example.com")

    result = synced.cli("poll-result", "create", *args)

    assert result.exit_code == 2, result.output
    assert f"already voted for slot(s) {first}" in result.output
    assert synced.emulator.count("poll_result_create") == 1


def test_a_vote_the_voter_cast_since_the_last_sync_is_not_cast_again(synced: Synced) -> None:
    poll = synced.emulator.store.list_dtos("polls")[0]
    slot = poll["availability"][0]["id"]
    with synced.client() as client:  # the warehouse has not seen this vote
        client.poll_result_create(poll["uuid"], [slot], "early@example.com")
    args = ("--uuid", poll["uuid"], "--availability", str(slot), "--email", "early@example.com")

    result = synced.cli("poll-result", "create", *args)

    assert result.exit_code == 0, result.output
    assert "already voted (on the server, since the last sync)" in result.output
    assert synced.emulator.count("poll_result_create") == 1


def test_a_vote_after_a_refresh_killed_mid_load_loads_its_package_before_planning(
    synced: Synced,
) -> None:
    # Killed while dlt loaded the polls: the slots' delete committed, their insert not, and
    # the package left pending. Planned on that warehouse, every slot looked unknown (exit 2).
    poll = synced.emulator.store.list_dtos("polls")[0]
    slot = poll["availability"][0]["id"]
    with SimplyMeetClient(synced.emulator.base_url, api_key=synced.emulator.api_key) as client:
        client.poll_result_create(poll["uuid"], [slot], "early@example.com")  # polls changed
    sync_killed_before_loading(synced.settings, synced.emulator, resources=("polls",))
    synced.emulator.reset_log()
    with duckdb.connect(str(synced.db)) as con:
        con.execute("delete from raw.polls__availability")

    result = synced.cli(
        "poll-result", "create", "--uuid", poll["uuid"],
        "--availability", str(slot), "--email", "voter@example.com",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert synced.emulator.count("poll_result_create") == 1
    served = synced.emulator.store.list_dtos("polls")[0]["availability"]
    landed = synced.query("select count(*) from raw.polls__availability")
    assert landed == [
        (sum(len(p["availability"]) for p in synced.emulator.store.list_dtos("polls")),)
    ]
    assert any(r["email"] == "voter@example.com" for r in served[0]["results"])
