"""The emulator serves rows that break the contract on demand (`emulator/anomalies.py`)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from simplymeet.emulator import start_emulator
from simplymeet.emulator.anomalies import UNPARSEABLE, UNREADABLE_AMOUNT, AnomalySpec
from tests.emulator_support import api_http


@pytest.fixture
def tiny_emulator():
    with start_emulator(seed=1, events=30) as emu:
        yield emu


def _events(http, **params) -> list[dict]:
    return http.get("/event/", params={"onPage": 100, **params}).json()["items"]


def _event_client(emu):
    return api_http(emu)


def test_a_null_id_is_served_for_the_chosen_event_only(tiny_emulator):
    tiny_emulator.set_anomalies("null_id=5")
    with _event_client(tiny_emulator) as http:
        items = _events(http)
    ids = [row["id"] for row in items]
    assert ids.count(None) == 1
    assert 5 not in ids
    assert len(items) == 30


def test_a_non_integer_id_is_served(tiny_emulator):
    tiny_emulator.set_anomalies("text_id=5")
    with _event_client(tiny_emulator) as http:
        assert "x5" in [row["id"] for row in _events(http)]


@pytest.mark.parametrize("field", ["updatedAt", "scheduledAt"])
def test_an_unparseable_timestamp_is_served_in_the_chosen_field(tiny_emulator, field):
    tiny_emulator.set_anomalies(f"bad_timestamp=5,timestamp_field={field}")
    with _event_client(tiny_emulator) as http:
        [row] = [row for row in _events(http) if row["id"] == 5]
        single = http.get("/event/5").json()
    assert row[field] == single[field] == UNPARSEABLE


def test_unknown_fields_are_added_to_every_row_and_inside_nested_objects(tiny_emulator):
    tiny_emulator.set_anomalies("extra=loyaltyTier|invitee.pronouns")
    with _event_client(tiny_emulator) as http:
        items = _events(http)
    assert all(row["loyaltyTier"] == f"loyaltyTier-{row['id']}" for row in items)
    assert all(row["invitee"]["pronouns"] == f"invitee.pronouns-{row['id']}" for row in items)


def _both_ways_by_updated_at(emulator, anomalies: str) -> tuple[list[dict], list[dict]]:
    """The event list under `anomalies`, ordered by `updatedAt` newest first, then oldest."""
    emulator.set_anomalies(anomalies)
    with _event_client(emulator) as http:
        newest_first = _events(http, orderField="updatedAt", orderDirection="desc")
        oldest_first = _events(http, orderField="updatedAt", orderDirection="asc")
    return newest_first, oldest_first


def test_events_served_without_updated_at_are_listed_after_every_stamp_newest_first(
    tiny_emulator,
):
    newest_first, oldest_first = _both_ways_by_updated_at(tiny_emulator, "null_updated=3|9")
    assert [row["updatedAt"] for row in newest_first[-2:]] == [None, None]
    assert {row["id"] for row in newest_first[-2:]} == {3, 9}
    assert all(row["updatedAt"] is not None for row in newest_first[:-2])
    assert {row["id"] for row in oldest_first[:2]} == {3, 9}


def test_events_served_without_updated_at_open_the_newest_first_list_with_nulls_first(
    tiny_emulator,
):
    spec = "null_updated=3|9,nulls_first=1"
    newest_first, oldest_first = _both_ways_by_updated_at(tiny_emulator, spec)
    assert {row["id"] for row in newest_first[:2]} == {3, 9}
    assert all(row["updatedAt"] is not None for row in newest_first[2:])
    assert {row["id"] for row in oldest_first[-2:]} == {3, 9}


def test_clearing_null_stamps_lists_the_events_by_their_stamps_again(tiny_emulator):
    with _event_client(tiny_emulator) as http:
        before = [row["id"] for row in _events(http, orderField="updatedAt")]
        tiny_emulator.set_anomalies("null_updated=3|9")
        _events(http, orderField="updatedAt")
        tiny_emulator.set_anomalies(None)
        after = [row["id"] for row in _events(http, orderField="updatedAt")]
    assert after == before


def test_the_same_event_is_broken_in_filtered_pages_too(tiny_emulator):
    tiny_emulator.set_anomalies("null_id=5")
    with _event_client(tiny_emulator) as http:
        items = http.get("/event/", params={"filter[ids][]": [5, 6]}).json()["items"]
    assert sorted(str(row["id"]) for row in items) == ["6", "None"]


def test_clearing_the_anomalies_serves_the_rows_as_stored(tiny_emulator):
    tiny_emulator.set_anomalies("null_id=5,extra=loyaltyTier")
    tiny_emulator.set_anomalies(None)
    with _event_client(tiny_emulator) as http:
        items = _events(http)
    assert 5 in [row["id"] for row in items]
    assert all("loyaltyTier" not in row for row in items)
    assert tiny_emulator.anomalies is None


def test_endpoints_outside_the_scope_are_left_alone(tiny_emulator):
    tiny_emulator.set_anomalies("extra=loyaltyTier,endpoints=user_list")
    with _event_client(tiny_emulator) as http:
        assert all("loyaltyTier" not in row for row in _events(http))
        users = http.get("/user").json()
    rows = users["items"] if isinstance(users, dict) else users
    assert rows and all("loyaltyTier" in row for row in rows)


@pytest.mark.parametrize(
    "text",
    ["null_id=abc", "colour=red", "endpoints=nope", "null_id"],
    ids=["non-integer ids", "unknown setting", "unknown endpoint", "no value"],
)
def test_a_bad_spec_is_refused_with_a_message(text):
    with pytest.raises(ValueError):
        AnomalySpec.parse(text)


def test_a_spec_reads_back_as_it_was_written():
    spec = AnomalySpec.parse("null_id=3|1,extra=a|b.c")
    assert AnomalySpec.parse(str(spec)) == spec


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "simplymeet.cli.main", "emulator", "serve", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_serve_offers_an_anomalies_option():
    done = _serve("--help")
    assert "--anomalies" in done.stdout, done.stderr


def test_serve_refuses_a_bad_anomaly_spec_before_listening():
    done = _serve("--api-key", "k", "--events", "0", "--anomalies", "null_id=abc")
    assert done.returncode == 2
    assert "null_id" in done.stderr


def test_a_state_is_served_as_another_servers_word(tiny_emulator):
    with _event_client(tiny_emulator) as http:
        canceled = {row["id"] for row in _events(http) if row["state"] == "canceled"}
        tiny_emulator.set_anomalies("state_words=canceled:canceled_by_host")
        served = {row["id"]: row["state"] for row in _events(http)}
    assert canceled and {served[i] for i in canceled} == {"canceled_by_host"}
    assert "canceled" not in served.values()


def test_ids_are_served_as_digit_strings(tiny_emulator):
    tiny_emulator.set_anomalies("string_ids=1")
    with _event_client(tiny_emulator) as http:
        row = http.get("/event/5").json()
    assert (row["id"], row["eventType"]["id"].isdigit(), row["user"]["id"].isdigit()) == (
        "5",
        True,
        True,
    )


def _served_amounts(http) -> list:
    return [row["payment"]["amount"] for row in _events(http) if row.get("payment")]


def test_amounts_are_served_with_the_decimals_asked(tiny_emulator):
    tiny_emulator.set_anomalies("amount_decimals=3")
    with _event_client(tiny_emulator) as http:
        amounts = _served_amounts(http)
    assert amounts and all(round(amount % 1, 6) == 0.005 for amount in amounts)


@pytest.mark.parametrize(("form", "mark"), [("point", "."), ("comma", ",")])
def test_amounts_are_served_as_text(tiny_emulator, form, mark):
    tiny_emulator.set_anomalies(f"amount_decimals=3,amount_text={form}")
    with _event_client(tiny_emulator) as http:
        amounts = _served_amounts(http)
    assert amounts and all(isinstance(a, str) and a.endswith(f"{mark}005") for a in amounts)


def test_an_unreadable_amount_is_served_for_the_chosen_event_only(tiny_emulator):
    tiny_emulator.set_anomalies("bad_amount=5")
    with _event_client(tiny_emulator) as http:
        rows = {row["id"]: row for row in _events(http)}
    assert rows[5]["payment"]["amount"] == UNREADABLE_AMOUNT
    assert all(
        (row.get("payment") or {}).get("amount") != UNREADABLE_AMOUNT
        for key, row in rows.items()
        if key != 5
    )


def test_an_event_types_amount_is_served_broken_when_in_scope(tiny_emulator):
    tiny_emulator.set_anomalies("amount_text=point,endpoints=event_type_list")
    with _event_client(tiny_emulator) as http:
        body = http.get("/event-type", params={"onPage": 100}).json()
    rows = body["items"] if isinstance(body, dict) else body
    amounts = [row["amount"] for row in rows if row.get("amount") is not None]
    assert amounts and all(isinstance(amount, str) for amount in amounts)


def test_nulled_events_are_served_with_their_invitee_type_and_date_null(tiny_emulator):
    tiny_emulator.set_anomalies("nulled=5")
    with _event_client(tiny_emulator) as http:
        listed = {row["id"]: row for row in _events(http)}
        got = http.get("/event/5").json()
    for row in (listed[5], got):
        assert (row["invitee"], row["eventType"], row["scheduledAt"]) == (None, None, None)
    assert listed[6]["invitee"] is not None


def test_nulled_fields_names_which_fields_are_served_null(tiny_emulator):
    tiny_emulator.set_anomalies("nulled=5,nulled_fields=state")
    with _event_client(tiny_emulator) as http:
        [row] = [row for row in _events(http) if row["id"] == 5]
    assert row["state"] is None
    assert row["invitee"] is not None
