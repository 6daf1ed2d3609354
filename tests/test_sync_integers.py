"""Integers land as the whole number they state, in any numeric spelling, or are set aside.

The reference types durations, periods and limits `int`; a server whose columns are DECIMAL,
or that formats numbers for display, serves `"30.00"` or `30.0`. Each once landed NULL without
a word (a slot's `duration_minutes` too), and `30.7` was truncated to 30 or landed NULL. The
emulator serves each (`emulator/anomalies.py`: `integer_spelling`, `fractional`); the sync runs
over real HTTP into a real DuckDB file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.emulator.anomalies import FRACTION
from simplymeet.sync.api import SyncApi
from simplymeet.sync.values import as_id
from tests.sync_support import (
    EVENTS_ONLY,
    live_event_dtos,
    query,
    read_only,
    run_sync,
    settings_for,
)

REFERENCE_ENDPOINTS = (
    "endpoints=event_type_list|poll_list|user_list|organization_cancellation_policy_get|"
    "user_cancellation_policy_get"
)
REFERENCE_RESOURCES = ["event_types", "polls", "users", "cancellation_policies", "availability"]


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with start_emulator(seed=5, events=60) as emu:
        yield emu


@pytest.fixture
def spelled(emulator: RunningEmulator, request: pytest.FixtureRequest) -> Iterator[RunningEmulator]:
    """`emulator` serving its integer fields in the spelling the test is parametrized with."""
    emulator.set_anomalies(f"integer_spelling={request.param},{REFERENCE_ENDPOINTS}")
    try:
        yield emulator
    finally:
        emulator.set_anomalies(None)


# --- the value read ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["30.00", 30.0, "30", " 30 ", "3e1", "+30", "30."])
def test_a_whole_number_in_any_spelling_is_read_as_its_integer(value):
    assert as_id(value) == 30


@pytest.mark.parametrize("value", [30.7, "30.5", "thirty", "", True, "1e999999999", "--30"])
def test_a_fraction_or_a_text_that_is_no_number_is_no_integer(value):
    assert as_id(value) is None


# --- landed ------------------------------------------------------------------------------


@pytest.mark.parametrize("spelled", ["text", "float"], indirect=True)
def test_integers_served_as_decimals_land_as_their_integers(tmp_path, spelled):
    store = spelled.store
    settings = settings_for(tmp_path, spelled)
    summary = run_sync(settings, spelled, resources=REFERENCE_RESOURCES)
    assert summary.rejected_rows == 0
    with read_only(settings) as con:
        durations = dict(con.execute("select id, duration from raw.event_types").fetchall())
        polls = dict(con.execute("select id, duration from raw.polls").fetchall())
        limits = dict(con.execute("select id, subscription_users_limit from raw.users").fetchall())
        periods = dict(con.execute("select type, period from raw.cancellation_policies").fetchall())
        slots = con.execute(
            "select s.duration_minutes, t.duration from raw.event_type_availability_slots s "
            "join raw.event_types t on t.id = s.event_type_id"
        ).fetchall()
    assert durations == {et["id"]: et["duration"] for et in store.list_dtos("event_types")}
    assert polls == {poll["id"]: poll["duration"] for poll in store.list_dtos("polls")}
    users = store.list_dtos("users")
    assert limits == {user["id"]: user["subscriptionUsersLimit"] for user in users}
    assert periods == {kind: store.policy(kind).period for kind in ("organization", "user")}
    assert slots and all(minutes == duration is not None for minutes, duration in slots)


@pytest.mark.parametrize("arrow_pages", [True, False], ids=["pages in arrow", "value by value"])
def test_event_durations_served_as_floats_land_as_their_integers(
    tmp_path, emulator, monkeypatch, arrow_pages
):
    monkeypatch.setattr(SyncApi, "arrow_pages", arrow_pages)
    emulator.set_anomalies("integer_spelling=float,integer_fields=duration")
    try:
        settings = settings_for(tmp_path, emulator)
        summary = run_sync(settings, emulator, resources=EVENTS_ONLY)
        served = {dto["id"]: dto["duration"] for dto in live_event_dtos(emulator)}
    finally:
        emulator.set_anomalies(None)
    assert summary.rejected_rows == 0
    assert dict(query(settings, "select id, duration from raw.events")) == served


def test_a_fractional_duration_sets_its_event_type_aside_and_the_run_says_so(tmp_path, emulator):
    types = emulator.store.list_dtos("event_types")
    victim = types[0]
    emulator.set_anomalies(f"fractional={victim['id']},endpoints=event_type_list")
    try:
        settings = settings_for(tmp_path, emulator)
        summary = run_sync(settings, emulator, resources=["event_types"])
    finally:
        emulator.set_anomalies(None)
    assert summary.rejected_rows == 1
    [(reason, raw)] = query(settings, "select reason, raw from raw._rejected_rows")
    assert reason == f"duration {victim['duration'] + FRACTION} is not an integer"
    assert json.loads(raw)["id"] == victim["id"]
    landed: list[tuple[Any, ...]] = query(settings, "select id from raw.event_types")
    assert {row[0] for row in landed} == {et["id"] for et in types[1:]}
