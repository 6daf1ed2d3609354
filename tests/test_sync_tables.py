"""Cutting served DTOs into typed Arrow columns."""

from __future__ import annotations

import pyarrow as pa
import pytest

from simplymeet.sync import tables as t


def _reference(col: t.Col, rows: list[dict]) -> pa.Array:
    return pa.array([col.extract(row) for row in rows], type=col.type)


@pytest.fixture(scope="module")
def served_events() -> list[dict]:
    from simplymeet.emulator import Store

    store = Store(seed=2, events=300)
    return [store.event_dto(i) for i in store.all_event_ids()]


@pytest.mark.parametrize("col", t.EVENTS.columns, ids=[c.name for c in t.EVENTS.columns])
def test_fast_column_conversion_equals_value_by_value_coercion(col, served_events):
    assert col.to_array(served_events).equals(_reference(col, served_events))


def test_request_format_timestamps_are_read_as_utc():
    col = t.c("updated_at", t.TIMESTAMP)
    got = col.to_array([{"updatedAt": "2024-01-01 10:00:00"}, {"updatedAt": None}])
    assert got.to_pylist()[0].isoformat() == "2024-01-01T10:00:00+00:00"
    assert got.to_pylist()[1] is None


def test_offset_timestamps_are_converted_to_utc():
    col = t.c("updated_at", t.TIMESTAMP)
    [value] = col.to_array([{"updatedAt": "2024-01-01T10:00:00+02:00"}]).to_pylist()
    assert value.isoformat() == "2024-01-01T08:00:00+00:00"


def test_ids_sent_as_strings_still_land_as_bigint():
    col = t.c("id", t.ID)
    assert col.to_array([{"id": "42"}, {"id": 7}]).to_pylist() == [42, 7]


def test_money_is_rounded_to_cents():
    col = t.c("amount", t.MONEY)
    assert [str(v) for v in col.to_array([{"amount": 12.5}, {"amount": "3.333"}]).to_pylist()] == [
        "12.50",
        "3.33",
    ]


def test_booleans_sent_as_integers_land_as_booleans():
    col = t.c("is_enabled", t.BOOL)
    assert col.to_array([{"isEnabled": 1}, {"isEnabled": 0}]).to_pylist() == [True, False]


def test_a_missing_nested_object_gives_nulls():
    col = t.c("invitee_email", t.TEXT, "invitee", "email")
    assert col.to_array([{"invitee": None}, {}]).to_pylist() == [None, None]


@pytest.mark.parametrize("name", [t.EVENTS.name, *(c.table.name for c in t.EVENTS.children)])
def test_bulk_cut_equals_the_value_by_value_reference(name, served_events):
    import datetime as dt

    from simplymeet.sync import arrow_cut

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    fast = arrow_cut.cut(t.EVENTS, served_events, now)
    assert fast is not None
    assert fast[name].equals(t.flatten_by_value(t.EVENTS, served_events, now)[name])


def test_rows_the_bulk_shape_refuses_still_land_through_the_reference_path(served_events):
    import copy
    import datetime as dt

    rows = copy.deepcopy(served_events[:5])
    rows[0]["id"] = str(rows[0]["id"])  # an id sent as a string
    rows[1]["updatedAt"] = "2024-01-01 10:00:00"  # the request format, no offset
    cut = t.flatten(t.EVENTS, rows, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert cut["events"]["id"].to_pylist()[0] == int(rows[0]["id"])
    assert cut["events"]["updated_at"].to_pylist()[1].isoformat() == "2024-01-01T10:00:00+00:00"
