"""Cutting served DTOs into typed Arrow columns."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from simplymeet.sync import tables as t
from simplymeet.sync import values


def _reference(col: t.Col, rows: list[dict]) -> pa.Array:
    return pa.array([values.extract(col, row) for row in rows], type=col.type)


@pytest.fixture(scope="module")
def served_events() -> list[dict]:
    from simplymeet.emulator import Store

    store = Store(seed=2, events=300)
    return [store.event_dto(i) for i in store.all_event_ids()]


@pytest.mark.parametrize("col", t.EVENTS.columns, ids=[c.name for c in t.EVENTS.columns])
def test_fast_column_conversion_equals_value_by_value_coercion(col, served_events):
    assert values.column_array(col, served_events).equals(_reference(col, served_events))


def test_request_format_timestamps_are_read_as_utc():
    col = t.c("updated_at", t.TIMESTAMP)
    got = values.column_array(col, [{"updatedAt": "2024-01-01 10:00:00"}, {"updatedAt": None}])
    assert got.to_pylist()[0].isoformat() == "2024-01-01T10:00:00+00:00"
    assert got.to_pylist()[1] is None


def test_offset_timestamps_are_converted_to_utc():
    col = t.c("updated_at", t.TIMESTAMP)
    [value] = values.column_array(col, [{"updatedAt": "2024-01-01T10:00:00+02:00"}]).to_pylist()
    assert value.isoformat() == "2024-01-01T08:00:00+00:00"


def test_ids_sent_as_strings_still_land_as_bigint():
    col = t.c("id", t.ID)
    assert values.column_array(col, [{"id": "42"}, {"id": 7}]).to_pylist() == [42, 7]


def test_money_lands_as_served_not_rounded_to_cents():
    col = t.c("amount", t.MONEY)
    rows = [{"amount": 12.5}, {"amount": "3.333"}, {"amount": 12.345}]
    assert values.column_array(col, rows).to_pylist() == [
        Decimal("12.5"),
        Decimal("3.333"),
        Decimal("12.345"),
    ]


def test_booleans_sent_as_integers_land_as_booleans():
    col = t.c("is_enabled", t.BOOL)
    assert values.column_array(col, [{"isEnabled": 1}, {"isEnabled": 0}]).to_pylist() == [
        True,
        False,
    ]


def test_a_missing_nested_object_gives_nulls():
    col = t.c("invitee_email", t.TEXT, "invitee", "email")
    assert values.column_array(col, [{"invitee": None}, {}]).to_pylist() == [None, None]


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


@pytest.mark.parametrize("spell", [float, lambda n: f"{n}.00"], ids=["float", "decimal text"])
def test_integers_in_another_numeric_spelling_cut_as_the_integers_themselves(served_events, spell):
    import copy
    import datetime as dt

    rows = copy.deepcopy(served_events)
    for row in rows:
        row["duration"] = spell(row["duration"])
        for participant in row.get("participants") or []:
            participant["id"] = spell(participant["id"])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cut, rejected = t.cut(t.EVENTS, rows, now)
    clean, _ = t.cut(t.EVENTS, served_events, now)
    assert not rejected
    for name in ("events", "events__participants"):
        assert cut[name].equals(clean[name])


# --- quarantine: rows that break the contract --------------------------------------------------

NOW = __import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").UTC)


def _broken(served_events: list[dict], change) -> list[dict]:
    import copy

    rows = copy.deepcopy(served_events[:20])
    change(rows[7])
    return rows


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda row: row.update(id=None), "id is null"),
        (lambda row: row.update(id="seven"), 'id "seven" is not an integer'),
        (lambda row: row.update(id=7.5), "id 7.5 is not an integer"),
        (lambda row: row.update(id=True), "id true is not an integer"),
        (lambda row: row.update(duration=30.7), "duration 30.7 is not an integer"),
        (lambda row: row.update(duration="thirty"), 'duration "thirty" is not an integer'),
        (lambda row: row.update(updatedAt="yesterday"), 'updatedAt "yesterday" is not a timestamp'),
        (lambda row: row.update(canceledAt=1700000000), "canceledAt 1700000000 is not a timestamp"),
        (
            lambda row: row.update(participants=[{"id": None, "email": "a@b.c"}]),
            "participants[0].id is null",
        ),
        (lambda row: row.update(answers=["not an object"]), "answers[0] is not an object"),
        (lambda row: row.update(answers={"id": 1}), "answers is not a list"),
    ],
    ids=[
        "null id",
        "text id",
        "fractional id",
        "boolean id",
        "fractional duration",
        "text duration",
        "unparseable updatedAt",
        "epoch canceledAt",
        "child without id",
        "child not an object",
        "children not a list",
    ],
)
def test_a_row_that_breaks_the_contract_is_set_aside_and_the_rest_cut(
    served_events, change, reason
):
    rows = _broken(served_events, change)
    tables, rejected = t.cut(t.EVENTS, rows, NOW)
    assert [item.reason for item in rejected] == [reason]
    assert tables["events"].num_rows == 19
    assert rows[7] is rejected[0].row


def test_a_poll_whose_slots_share_an_id_with_other_contents_is_set_aside():
    from simplymeet.sync import quarantine

    slots = [{"id": 5, "date": "2030-01-01T10:00:00+00:00"}, {"id": 5, "date": "2030-01-02"}]
    kept, [rejected] = quarantine.split_repeats(
        t.POLLS, [{"id": 1, "availability": slots}, {"id": 2, "availability": slots[:1]}]
    )
    assert [poll["id"] for poll in kept] == [2]
    assert rejected.reason == "availability[1].id=5 is served with other contents too"


def test_a_row_served_twice_alike_lands_once():
    from simplymeet.sync import quarantine

    kept, rejected = quarantine.split_repeats(t.USERS, [{"id": 1}, {"id": 2}, {"id": 1}])
    assert (kept, rejected) == ([{"id": 1}, {"id": 2}], [])


def test_a_parent_with_a_bad_child_is_set_aside_whole(served_events):
    rows = _broken(served_events, lambda row: row["answers"].append({"id": None}))
    tables, _ = t.cut(t.EVENTS, rows, NOW)
    assert rows[7]["id"] not in tables["events__answers"]["event_id"].to_pylist()


def test_rejected_rows_keep_the_row_as_served_and_why(served_events):
    rows = _broken(served_events, lambda row: row.update(id=None))
    cut = t.flatten(t.EVENTS, rows, NOW)
    [rejected] = cut["_rejected_rows"].to_pylist()
    assert rejected["table_name"] == "events"
    assert rejected["reason"] == "id is null"
    assert rejected["row_id"] is None
    assert __import__("json").loads(rejected["raw"]) == rows[7]
    assert rejected["_synced_at"] == NOW


def test_ids_as_digit_strings_and_integral_floats_keep_the_contract(served_events):
    rows = _broken(served_events, lambda row: row.update(id=f"{row['id']}"))
    rows[3]["id"] = float(rows[3]["id"])
    tables, rejected = t.cut(t.EVENTS, rows, NOW)
    assert rejected == []
    assert tables["events"].num_rows == 20


def test_a_batch_without_bad_rows_sets_nothing_aside(served_events):
    _, rejected = t.cut(t.EVENTS, served_events, NOW)
    assert rejected == []


# --- unknown fields ----------------------------------------------------------------------------


def test_unknown_fields_are_kept_in_extra_shaped_like_the_dto(served_events):
    import json

    rows = _broken(served_events, lambda row: row.update(loyaltyTier="gold"))
    rows[7]["invitee"]["pronouns"] = "she"
    rows[7]["participants"] = [{"id": 5, "email": "a@b.c", "role": "guest"}]
    cut = t.flatten(t.EVENTS, rows, NOW)
    extras = [json.loads(x) for x in cut["events"]["_extra"].to_pylist() if x]
    assert extras == [{"loyaltyTier": "gold", "invitee": {"pronouns": "she"}}]
    assert [x for x in cut["events__participants"]["_extra"].to_pylist() if x] == [
        '{"role":"guest"}'
    ]


def test_extra_is_the_same_on_the_bulk_and_the_reference_path(served_events):
    from simplymeet.sync import arrow_cut

    rows = _broken(served_events, lambda row: row.update(loyaltyTier="gold"))
    rows[7]["participants"] = [{"id": 5, "email": "a@b.c", "role": "guest"}]
    fast = arrow_cut.cut(t.EVENTS, rows, NOW)
    assert fast is not None
    reference = t.flatten_by_value(t.EVENTS, rows, NOW)
    for name in ("events", "events__participants"):
        assert fast[name]["_extra"].equals(reference[name]["_extra"]), name


def test_a_field_in_a_spelling_no_column_reads_is_kept_in_extra(served_events):
    import json

    rows = [dict(row) for row in served_events[:3]]
    rows[1]["scheduled_at"] = rows[1].pop("scheduledAt")
    rows[2]["invitee"] = {**rows[2]["invitee"], "full_name": "Ada Lovelace"}
    cut = t.flatten(t.EVENTS, rows, NOW)
    extras = [json.loads(x) if x else None for x in cut["events"]["_extra"].to_pylist()]
    assert extras[0] is None
    assert extras[1] == {"scheduled_at": served_events[1]["scheduledAt"]}
    assert extras[2] == {"invitee": {"full_name": "Ada Lovelace"}}


def test_a_field_in_the_other_spelling_is_known_not_extra():
    cut = t.flatten(
        t.CANCELLATION_POLICIES,
        [{"type": "user", "version": 1, "overwritePersonal": False}],
        NOW,
    )
    assert cut["cancellation_policies"]["_extra"].to_pylist() == [None]


@pytest.mark.parametrize("spelling", ["overwrite_personal", "overwritePersonal"])
def test_overwrite_personal_is_read_in_either_spelling(spelling):
    cut = t.flatten(t.CANCELLATION_POLICIES, [{"type": "user", "version": 1, spelling: False}], NOW)
    assert cut["cancellation_policies"]["overwrite_personal"].to_pylist() == [False]


def test_the_unknown_field_names_are_dotted_for_nested_objects():
    from simplymeet.sync.unknown_fields import field_names

    extras = ['{"invitee":{"pronouns":"she"},"loyaltyTier":"gold"}', None, '{"x":{"y":1}}']
    assert field_names(t.EVENTS, extras) == ["invitee.pronouns", "loyaltyTier", "x"]


# --- the cursor a rejected event allows -----------------------------------------------------------


def _page(*stamps):
    return [{"id": i, "updatedAt": s} for i, s in enumerate(stamps)]


def test_a_rejected_event_holds_the_cursor_at_its_updated_at():
    from simplymeet.sync.quarantine import CursorHold, Rejected

    rows = _page("2026-01-03T00:00:00+00:00", "2026-01-02T00:00:00+00:00")
    hold = CursorHold()
    hold.scan(rows, [Rejected(rows[1], "id is null")])
    proposed = __import__("datetime").datetime(2026, 1, 3, tzinfo=__import__("datetime").UTC)
    assert hold.cap(proposed, None).isoformat() == "2026-01-02T00:00:00+00:00"


def test_a_rejected_event_without_a_timestamp_holds_the_cursor_at_the_next_row_read():
    from simplymeet.sync.quarantine import CursorHold, Rejected

    rows = _page("2026-01-03T00:00:00+00:00", "garbage", "2026-01-01T00:00:00+00:00")
    hold = CursorHold()
    hold.scan(rows[:2], [Rejected(rows[1], "bad")])
    hold.scan(rows[2:], [])
    proposed = __import__("datetime").datetime(2026, 1, 3, tzinfo=__import__("datetime").UTC)
    assert hold.cap(proposed, None).isoformat() == "2026-01-01T00:00:00+00:00"


def test_a_rejected_last_row_without_a_timestamp_keeps_the_previous_cursor():
    from simplymeet.sync.quarantine import CursorHold, Rejected

    rows = _page("2026-01-03T00:00:00+00:00", "garbage")
    hold = CursorHold()
    hold.scan(rows, [Rejected(rows[1], "bad")])
    proposed = __import__("datetime").datetime(2026, 1, 3, tzinfo=__import__("datetime").UTC)
    assert hold.cap(proposed, None) is None


# --- the house -----------------------------------------------------------------------------------


def test_the_models_read_the_landing_schema_without_importing_the_sync():
    import subprocess
    import sys

    code = (
        "import sys, simplymeet.models.sources; "
        "print(any(m.startswith('simplymeet.sync') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_the_bulk_cut_does_not_import_the_module_that_calls_it():
    import ast
    from pathlib import Path

    import simplymeet.sync.arrow_cut as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {
        alias.name if node.module is None else f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert "simplymeet.sync.tables" not in imported
