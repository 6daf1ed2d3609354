"""Rows that break the contract are set aside, not blocking; unknown fields are kept.

Issue 10, seen items 4 (one event with `"id": null` blocked every sync with exit 2) and 5 (a
field the server adds was dropped silently). The emulator serves the broken rows
(`emulator/anomalies.py`); the sync runs over real HTTP into a real DuckDB file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from simplymeet.client import SimplyMeetClient
from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.sync import SyncRequest, sync
from tests.loopback import behind, served
from tests.sync_support import (
    EVENTS_ONLY,
    assert_events_match,
    client_for,
    live_event_dtos,
    query,
    run_sync,
    settings_for,
)
from tests.synced_template import built_once, copy_template
from tests.test_sync_cli import _run

# The tests about a broken event sync the event tables only (`EVENTS_ONLY`); the tests about
# what a whole run reports (unknown fields, a clean run) sync everything.
EVENTS_ONLY_OPTION = ("--resources", ",".join(EVENTS_ONLY))


@pytest.fixture
def small_emulator():
    with start_emulator(seed=3, events=300) as emu:
        yield emu


def _null_id_runs(factory: pytest.TempPathFactory, emulator: RunningEmulator) -> Path:
    """Two syncs of a twin of `emulator` (untouched) serving its oldest event with a null id:
    the warehouse and pipelines folder after each run (`run-1/`, `run-2/`) and each run's
    `rejected_rows` (`rejected.json`). Built once per test run and shared by the tests that
    start from it (`built_once`); copy a run's folder before writing to it."""
    store = emulator.store

    def build(root: Path) -> None:
        with start_emulator(
            seed=store.seed, events=store.event_count, anchor=store.anchor, api_key=emulator.api_key
        ) as twin:
            twin.set_anomalies(f"null_id={_oldest_event(twin)}")
            settings = settings_for(root / "live", twin)
            rejected = []
            for run in ("run-1", "run-2"):
                rejected.append(run_sync(settings, twin, resources=EVENTS_ONLY).rejected_rows)
                shutil.copytree(root / "live", root / run)
            shutil.rmtree(root / "live")
        (root / "rejected.json").write_text(json.dumps(rejected))

    name = f"quarantine-null-id-{store.seed}-{store.event_count}-{store.anchor.isoformat()}"
    return built_once(factory, name, build)


def _copy_of(run: Path, tmp_path: Path, emulator: RunningEmulator) -> Any:
    """Settings of `tmp_path` holding a copy of the warehouse of `run`, syncing `emulator`."""
    copy_template(run, tmp_path)
    return settings_for(tmp_path, emulator)


def _oldest_event(emulator: RunningEmulator) -> int:
    """The event updated longest ago: far below any incremental cursor."""
    return min(live_event_dtos(emulator), key=lambda dto: dto["updatedAt"])["id"]


def _rejected(settings: Any) -> list[tuple[str, str, str | None, dict[str, Any]]]:
    rows = query(settings, "select table_name, reason, row_id, raw from raw._rejected_rows")
    return [(table, reason, row_id, json.loads(raw)) for table, reason, row_id, raw in rows]


def test_an_event_with_a_null_id_is_set_aside_and_every_other_event_loads(
    tmp_path_factory, tmp_path, small_emulator
):
    runs = _null_id_runs(tmp_path_factory, small_emulator)  # the first sync, run by a twin
    victim = _oldest_event(small_emulator)
    settings = _copy_of(runs / "run-1", tmp_path, small_emulator)
    assert json.loads((runs / "rejected.json").read_text())[0] == 1
    [(table, reason, row_id, raw)] = _rejected(settings)
    assert (table, reason, row_id) == ("events", "id is null", None)
    assert raw["uuid"] == small_emulator.store.event_dto(victim)["uuid"]
    loaded = {row[0] for row in query(settings, "select id from raw.events")}
    assert loaded == set(small_emulator.store.all_event_ids()) - {victim}


def test_a_null_id_makes_the_cli_exit_9_naming_the_count_and_the_table(tmp_path, small_emulator):
    small_emulator.set_anomalies(f"null_id={_oldest_event(small_emulator)}")
    settings = settings_for(tmp_path, small_emulator)
    done = _run(settings, small_emulator.api_key, "--no-models", *EVENTS_ONLY_OPTION)
    assert done.exit_code == 9, done.stderr
    assert "1 row(s)" in done.stderr
    assert "raw._rejected_rows" in done.stderr


def test_an_event_served_as_null_is_set_aside_and_every_other_event_loads(tmp_path, small_emulator):
    served_null = _oldest_event(small_emulator)
    small_emulator.set_anomalies(f"null_row={served_null}")
    settings = settings_for(tmp_path, small_emulator)

    summary = run_sync(settings, small_emulator, resources=EVENTS_ONLY)

    assert summary.rejected_rows == 1
    [(raw,)] = query(settings, "select raw from raw._rejected_rows")
    assert raw == "null"
    [(landed,)] = query(settings, f"select count(*) from raw.events where id <> {served_null}")
    assert landed == len(live_event_dtos(small_emulator)) - 1


def test_an_event_served_as_null_makes_the_cli_exit_9(tmp_path, small_emulator):
    small_emulator.set_anomalies(f"null_row={_oldest_event(small_emulator)}")

    settings = settings_for(tmp_path, small_emulator)

    done = _run(settings, small_emulator.api_key, "--no-models", *EVENTS_ONLY_OPTION)

    assert done.exit_code == 9, done.stderr


@pytest.mark.parametrize(
    ("anomaly", "reason"),
    [
        ("text_id={id}", 'id "x{id}" is not an integer'),
        ("bad_timestamp={id}", 'updatedAt "not-a-timestamp" is not a timestamp'),
        ("bad_timestamp={id},timestamp_field=scheduledAt", "scheduledAt"),
    ],
    ids=["non-integer id", "unparseable updatedAt", "unparseable scheduledAt"],
)
def test_a_row_that_breaks_the_contract_is_set_aside_with_its_reason(
    tmp_path, small_emulator, anomaly, reason
):
    victim = _oldest_event(small_emulator)
    small_emulator.set_anomalies(anomaly.format(id=victim))
    settings = settings_for(tmp_path, small_emulator)
    summary = run_sync(settings, small_emulator, resources=EVENTS_ONLY)
    assert summary.rejected_rows == 1
    [(table, got, _row_id, _raw)] = _rejected(settings)
    assert table == "events"
    assert reason.format(id=victim) in got
    assert query(settings, "select count(*) from raw.events")[0][0] == 299


def test_a_set_aside_event_lands_once_fixed_upstream_even_if_its_updated_at_did_not_move(
    tmp_path_factory, tmp_path, small_emulator
):
    # Two syncs while it was broken (set aside both times, cursor held), run by a twin of
    # `small_emulator`; `small_emulator` serves it fixed upstream, with the same updatedAt.
    runs = _null_id_runs(tmp_path_factory, small_emulator)
    settings = _copy_of(runs / "run-2", tmp_path, small_emulator)
    summary = run_sync(settings, small_emulator, resources=EVENTS_ONLY)
    assert summary.rejected_rows == 0
    assert_events_match(settings, small_emulator)


def test_an_event_a_first_sync_set_aside_lands_once_fixed_upstream(tmp_path, small_emulator):
    # A first sync reads by id, not by stamp: no row read after the broken one bounds the
    # cursor below it. Fixed upstream without its updatedAt moving, it lands all the same.
    broken = _oldest_event(small_emulator)
    small_emulator.set_anomalies(f"bad_timestamp={broken}")
    settings = settings_for(tmp_path, small_emulator)
    assert run_sync(settings, small_emulator, resources=EVENTS_ONLY).rejected_rows == 1
    small_emulator.set_anomalies(None)
    # A booking deleted meanwhile: the served count equals the live rows held again, so the
    # count alone no longer shows the one missing.
    gone = max(dto["id"] for dto in live_event_dtos(small_emulator))
    with client_for(small_emulator) as client:
        client.event_delete(gone)

    summary = run_sync(settings, small_emulator, resources=EVENTS_ONLY)

    assert summary.rejected_rows == 0
    assert query(settings, f"select count(*) from raw.events where id = {broken}") == [(1,)]


def test_every_run_reports_a_row_that_is_still_broken(tmp_path_factory, small_emulator):
    runs = _null_id_runs(tmp_path_factory, small_emulator)  # two syncs, run by a twin
    first, second = json.loads((runs / "rejected.json").read_text())
    assert (first, second) == (1, 1)


def test_a_user_with_a_null_id_is_set_aside_and_the_other_users_load(tmp_path, small_emulator):
    users = small_emulator.store.list_dtos("users")
    small_emulator.set_anomalies(f"null_id={users[0]['id']},endpoints=user_list")
    settings = settings_for(tmp_path, small_emulator)
    summary = run_sync(settings, small_emulator, resources=["users"])
    assert summary.rejected_rows == 1
    assert [row[:2] for row in _rejected(settings)] == [("users", "id is null")]
    loaded = {row[0] for row in query(settings, "select id from raw.users")}
    assert loaded == {user["id"] for user in users[1:]}


def _votes(settings: Any) -> set[tuple[int, int, str]]:
    rows = query(
        settings, "select poll_id, availability_id, email from raw.polls__availability__results"
    )
    return set(rows)


def _served_votes(polls: list[dict[str, Any]]) -> set[tuple[int, int, str]]:
    return {
        (poll["id"], slot["id"], vote["email"])
        for poll in polls
        for slot in poll["availability"]
        for vote in slot.get("results") or []
    }


@pytest.mark.parametrize(
    ("anomaly", "reason"),
    [("null_id={id}", "id is null"), ("null_slot_id={id}", "availability[0].id is null")],
    ids=["poll without id", "slot without id"],
)
def test_a_poll_without_a_key_is_set_aside_with_its_votes_and_the_other_polls_load(
    tmp_path, small_emulator, anomaly, reason
):
    polls = small_emulator.store.list_dtos("polls")
    victim = polls[0]  # its first slot has votes: they name the slot by its id
    assert victim["availability"][0]["results"]
    small_emulator.set_anomalies(f"{anomaly.format(id=victim['id'])},endpoints=poll_list")
    settings = settings_for(tmp_path, small_emulator)
    summary = run_sync(settings, small_emulator, resources=["polls", "users"])
    assert summary.rejected_rows == 1
    assert [row[:2] for row in _rejected(settings)] == [("polls", reason)]
    assert {row[0] for row in query(settings, "select id from raw.polls")} == {
        poll["id"] for poll in polls[1:]
    }
    assert _votes(settings) == _served_votes(polls[1:])
    assert query(settings, "select count(*) from raw.users")[0][0] > 0


def _with_a_null_first_in(list_field: str, path_part: str):
    """A proxy answer serving `null` first in the `list_field` of the first object of each
    answer whose path holds `path_part` (a vote, an availability hour the server could not
    render), every other answer as the emulator gave it."""

    def answer(up, path, pairs, body, headers):
        given = served(up, path, pairs, body, headers)
        if path_part not in path or given.status_code != 200:
            return given
        data = given.json()
        rows = data["items"] if isinstance(data, dict) and "items" in data else data
        for row in rows:
            for holder in row.get("availability") or [row]:
                if isinstance(holder.get(list_field), list) and holder[list_field]:
                    holder[list_field].insert(0, None)
                    return httpx.Response(200, json=data)
        return httpx.Response(200, json=data)

    return answer


@pytest.mark.parametrize(
    ("list_field", "path_part", "resource", "table"),
    [
        ("results", "/poll", "polls", "polls__availability__results"),
        ("hours", "/event-type/availability/", "availability", "event_type_availability_slots"),
    ],
    ids=["a vote", "an availability hour"],
)
def test_an_item_served_as_null_in_a_nested_list_is_set_aside_and_the_rest_loads(
    tmp_path, small_emulator, list_field, path_part, resource, table
):
    with behind(small_emulator, _with_a_null_first_in(list_field, path_part)) as base_url:
        settings = settings_for(tmp_path, small_emulator).with_overrides("api", base_url=base_url)
        with SimplyMeetClient(base_url, api_key=small_emulator.api_key) as client:
            summary = sync(
                settings, client, SyncRequest(resources=[resource, "events"], build_models=False)
            )

    assert summary.rejected_rows >= 1
    assert {(row[0], row[1]) for row in _rejected(settings)} == {
        (table, "the row is not an object")
    }
    assert query(settings, f"select count(*) from raw.{table}")[0][0] > 0
    assert_events_match(settings, small_emulator)


def test_an_event_serving_its_lists_as_objects_keyed_by_position_lands_them_as_lists(
    tmp_path, small_emulator
):
    # PHP's json_encode of an array whose first index was removed: {"1": {...}, "2": ...}.
    both = [dto for dto in live_event_dtos(small_emulator) if dto["participants"] and dto["users"]]
    small_emulator.set_anomalies(f"list_as_object={both[0]['id']}")
    settings = settings_for(tmp_path, small_emulator)

    summary = run_sync(settings, small_emulator, resources=EVENTS_ONLY)

    assert summary.rejected_rows == 0
    assert_events_match(settings, small_emulator)


def test_an_event_serving_its_hosts_as_text_is_set_aside_not_landed_character_by_character(
    tmp_path, small_emulator
):
    victim = next(dto for dto in live_event_dtos(small_emulator) if dto["users"])["id"]
    small_emulator.set_anomalies(f"list_as_scalar={victim},scalar_text=1")
    settings = settings_for(tmp_path, small_emulator)

    summary = run_sync(settings, small_emulator, resources=EVENTS_ONLY)

    assert summary.rejected_rows == 1
    assert [row[:3] for row in _rejected(settings)] == [
        ("events", "users is not a list", str(victim))
    ]
    assert query(settings, f"select count(*) from raw.events__users where event_id = {victim}") == [
        (0,)
    ]


def test_an_event_type_serving_its_durations_as_a_number_is_set_aside_and_the_rest_loads(
    tmp_path, small_emulator
):
    types = small_emulator.store.list_dtos("event_types")
    victim = next(et for et in types if et["eventTypeDurations"])["id"]
    small_emulator.set_anomalies(
        f"list_as_scalar={victim},list_field=eventTypeDurations,endpoints=event_type_list"
    )
    settings = settings_for(tmp_path, small_emulator)

    summary = run_sync(settings, small_emulator)

    assert summary.rejected_rows == 1
    assert [row[:2] for row in _rejected(settings)] == [
        ("event_types", "eventTypeDurations is not a list")
    ]
    loaded = {row[0] for row in query(settings, "select id from raw.event_types")}
    assert loaded == {et["id"] for et in types} - {victim}
    assert_events_match(settings, small_emulator)


def test_an_event_whose_notes_end_in_half_an_emoji_lands_with_the_replacement_character(
    tmp_path, small_emulator
):
    victim = _oldest_event(small_emulator)
    small_emulator.set_anomalies(f"lone_surrogate={victim}")
    settings = settings_for(tmp_path, small_emulator)

    summary = run_sync(settings, small_emulator, resources=EVENTS_ONLY)

    assert summary.rejected_rows == 0
    [(notes,)] = query(settings, f"select notes from raw.events where id = {victim}")
    assert notes.endswith(" \ufffd")
    [(landed,)] = query(settings, "select count(*) from raw.events")
    assert landed == len(live_event_dtos(small_emulator))


def _sync_behind(tmp_path, emulator: RunningEmulator, answer, resources: list[str]):
    """A sync of `resources` through a proxy answering as `answer` says: its settings and
    summary."""
    with behind(emulator, answer) as base_url:
        settings = settings_for(tmp_path, emulator).with_overrides("api", base_url=base_url)
        with SimplyMeetClient(base_url, api_key=emulator.api_key) as client:
            request = SyncRequest(resources=resources, build_models=False)
            return settings, sync(settings, client, request)


def _first_day_without_its_date(up, path, pairs, body, headers):
    """The emulator's answers, but the first day of an availability answer served with
    `"date": null`."""
    given = served(up, path, pairs, body, headers)
    if "/event-type/availability/" not in path or given.status_code != 200:
        return given
    data = given.json()
    days = data["items"] if isinstance(data, dict) and "items" in data else data
    if days and days[0].get("hours"):
        days[0]["date"] = None
    return httpx.Response(200, json=data)


def test_an_availability_day_served_without_its_date_is_set_aside_with_its_hours(
    tmp_path, small_emulator
):
    settings, summary = _sync_behind(
        tmp_path, small_emulator, _first_day_without_its_date, ["availability"]
    )

    reasons = {(row[0], row[1]) for row in _rejected(settings)}
    assert reasons == {
        ("event_type_availability_days", "date is null"),
        ("event_type_availability_slots", "date is null"),
    }
    assert summary.rejected_rows >= 2


def test_an_event_serving_its_payment_as_text_is_set_aside_not_landed_as_no_payment(
    tmp_path, small_emulator
):
    victim = _oldest_event(small_emulator)
    small_emulator.set_anomalies(f"garbled={victim}")
    settings = settings_for(tmp_path, small_emulator)

    summary = run_sync(settings, small_emulator, resources=EVENTS_ONLY)

    assert summary.rejected_rows == 1
    assert [row[:3] for row in _rejected(settings)] == [
        ("events", "payment is not an object", str(victim))
    ]


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("lat", 'lat "garbled" is not a number'),
        ("isEnabled", 'isEnabled "garbled" is not a boolean'),
    ],
    ids=["a number", "a boolean"],
)
def test_a_user_serving_a_value_no_reading_takes_is_set_aside_not_landed_as_a_guess(
    tmp_path, small_emulator, field, reason
):
    users = small_emulator.store.list_dtos("users")
    victim = users[1]["id"]
    small_emulator.set_anomalies(f"garbled={victim},garbled_fields={field},endpoints=user_list")
    settings = settings_for(tmp_path, small_emulator)

    summary = run_sync(settings, small_emulator, resources=["users"])

    assert summary.rejected_rows == 1
    assert [row[:3] for row in _rejected(settings)] == [("users", reason, str(victim))]
    loaded = {row[0] for row in query(settings, "select id from raw.users")}
    assert loaded == {user["id"] for user in users} - {victim}


def _first_acl_rule_twice(up, path, pairs, body, headers):
    """The emulator's answers, but the ACL list holding its first rule's resource twice, the
    second time with other attributes."""
    given = served(up, path, pairs, body, headers)
    if not path.rstrip("/").endswith("/acl") or given.status_code != 200:
        return given
    data = given.json()
    rules = data["items"] if isinstance(data, dict) and "items" in data else data
    if isinstance(rules, list) and rules:
        rules.append({**rules[0], "attributes": ["read", "write", "delete"]})
    return httpx.Response(200, json=data)


def test_an_acl_rule_listed_twice_with_two_contents_is_set_aside_both_times(
    tmp_path, small_emulator
):
    settings, summary = _sync_behind(tmp_path, small_emulator, _first_acl_rule_twice, ["acl_rules"])

    assert summary.rejected_rows == 2
    assert {row[0] for row in _rejected(settings)} == {"acl_rules"}


def _payments_served_as_empty_array_and_text(victims: tuple[int, int]):
    """The emulator's answers, but in event lists the first victim's payment served as `[]`
    (PHP's empty array for an empty object) and the second's as text."""
    empty, garbled = victims

    def answer(up, path, pairs, body, headers):
        given = served(up, path, pairs, body, headers)
        if not path.rstrip("/").endswith("/event") or given.status_code != 200:
            return given
        data = given.json()
        for row in data.get("items") or []:
            if row.get("id") == empty:
                row["payment"] = []
            elif row.get("id") == garbled:
                row["payment"] = "garbled"
        return httpx.Response(200, json=data)

    return answer


def test_a_payment_served_as_an_empty_array_is_no_payment_beside_a_row_set_aside(
    tmp_path, small_emulator
):
    # The row beside it sends the batch row by row: both paths read `[]` as no payment.
    empty, garbled = (dto["id"] for dto in live_event_dtos(small_emulator)[:2])
    answer = _payments_served_as_empty_array_and_text((empty, garbled))
    settings, summary = _sync_behind(tmp_path, small_emulator, answer, list(EVENTS_ONLY))

    assert summary.rejected_rows == 1
    assert [row[2] for row in _rejected(settings)] == [str(garbled)]
    assert query(settings, f"select payment_amount from raw.events where id = {empty}") == [(None,)]


def test_the_tags_of_an_event_type_set_aside_are_not_landed_without_it(tmp_path, small_emulator):
    # Landed, they would belong to no event type: a data test of the models would fail.
    types = small_emulator.store.list_dtos("event_types")
    every = "|".join(str(et["id"]) for et in types)
    small_emulator.set_anomalies(
        f"garbled={every},garbled_fields=isSecret,endpoints=event_type_list"
    )
    settings = settings_for(tmp_path, small_emulator)

    summary = run_sync(settings, small_emulator, resources=["event_types", "event_type_tags"])

    assert summary.rejected_rows == len(types)
    assert query(settings, "select count(*) from raw.event_type_tags") == [(0,)]


def test_a_user_listed_twice_with_two_contents_is_set_aside_both_times(tmp_path, small_emulator):
    users = small_emulator.store.list_dtos("users")
    twice = users[1]["id"]
    small_emulator.set_anomalies(f"repeat={twice},endpoints=user_list")
    settings = settings_for(tmp_path, small_emulator)
    summary = run_sync(settings, small_emulator, resources=["users"])
    assert summary.rejected_rows == 2
    reason = f"id={twice} is served with other contents too"
    assert [row[:3] for row in _rejected(settings)] == [("users", reason, str(twice))] * 2
    loaded = {row[0] for row in query(settings, "select id from raw.users")}
    assert loaded == {user["id"] for user in users} - {twice}


@pytest.mark.parametrize("child", ["participants", "answers", "rescheduling"])
def test_an_event_listing_one_child_id_with_two_contents_is_set_aside(
    tmp_path, small_emulator, child
):
    served = [dto for dto in live_event_dtos(small_emulator) if dto.get(child)]
    victim = served[0]["id"]
    small_emulator.set_anomalies(f"repeat_child={victim},child_field={child}")
    settings = settings_for(tmp_path, small_emulator)

    summary = run_sync(settings, small_emulator, resources=EVENTS_ONLY)

    assert summary.rejected_rows == 1
    [(table, reason, row_id, _)] = _rejected(settings)
    assert (table, row_id) == ("events", str(victim))
    assert reason.startswith(f"{child}[") and reason.endswith("is served with other contents too")
    assert query(settings, f"select count(*) from raw.events where id = {victim}") == [(0,)]


def test_an_event_type_tag_listed_twice_with_two_contents_is_set_aside(tmp_path, small_emulator):
    linked = next(
        link for link in small_emulator.store.list_dtos("event_type_tag_links") if link["tags"]
    )
    type_id, twice = linked["eventTypeId"], linked["tags"][0]["id"]
    small_emulator.set_anomalies(f"repeat={twice},endpoints=event_type_tag_list")
    settings = settings_for(tmp_path, small_emulator)

    summary = run_sync(settings, small_emulator, resources=["event_types", "event_type_tags"])

    assert summary.rejected_rows >= 2
    reasons = {row[1] for row in _rejected(settings) if row[0] == "event_type_tags"}
    assert reasons == {f"id={twice} is served with other contents too"}
    assert twice not in {
        row[0]
        for row in query(
            settings, f"select id from raw.event_type_tags where event_type_id = {type_id}"
        )
    }


def test_the_current_user_served_as_an_array_of_one_lands_as_that_user(tmp_path, small_emulator):
    [user] = small_emulator.store.list_dtos("current_user")
    small_emulator.set_anomalies("object_as_array=true,endpoints=current_user_get")
    settings = settings_for(tmp_path, small_emulator)
    summary = run_sync(settings, small_emulator, resources=["current_user"])
    assert summary.rejected_rows == 0
    assert query(settings, "select id, email from raw.current_user") == [
        (user["id"], user["email"])
    ]


def test_fields_the_reference_does_not_know_land_in_extra(tmp_path, small_emulator):
    small_emulator.set_anomalies("extra=loyaltyTier|invitee.pronouns")
    settings = settings_for(tmp_path, small_emulator)
    summary = run_sync(settings, small_emulator)
    assert summary.unknown_fields == {"events": ["invitee.pronouns", "loyaltyTier"]}
    [(event_id, extra)] = query(settings, "select id, _extra from raw.events order by id limit 1")
    assert json.loads(extra) == {
        "loyaltyTier": f"loyaltyTier-{event_id}",
        "invitee": {"pronouns": f"invitee.pronouns-{event_id}"},
    }
    assert summary.rejected_rows == 0


def test_a_known_field_leaves_extra_null(tmp_path, small_emulator):
    settings = settings_for(tmp_path, small_emulator)
    summary = run_sync(settings, small_emulator)
    assert summary.unknown_fields == {}
    assert query(settings, "select count(*) from raw.events where _extra is not null") == [(0,)]


def test_the_cli_names_unknown_fields_once_and_exits_0(tmp_path, small_emulator):
    small_emulator.set_anomalies("extra=loyaltyTier")
    done = _run(settings_for(tmp_path, small_emulator), small_emulator.api_key, "--no-models")
    assert done.exit_code == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "loyaltyTier" in line]
    assert len(warnings) == 1
    assert "events" in warnings[0]


def test_the_pipeline_script_exits_9_too(tmp_path, small_emulator):
    import subprocess
    import sys

    from tests.sync_support import REPO
    from tests.test_sync_resilience import cli_env

    small_emulator.set_anomalies(f"null_id={_oldest_event(small_emulator)}")
    env = cli_env(settings_for(tmp_path, small_emulator), small_emulator.api_key)
    done = subprocess.run(
        [sys.executable, str(REPO / "pipelines" / "simplymeet_pipeline.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 9, done.stderr
    assert "_rejected_rows" in done.stderr
