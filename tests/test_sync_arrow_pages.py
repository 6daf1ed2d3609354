"""Event pages read straight into Arrow land exactly what the served dicts land.

The Arrow path (`sync/arrow_pages.py`) is an optimisation: every table it lands must equal the
reference path's (every page parsed as JSON dicts and cut row by row where needed), and a page
Arrow cannot judge must go the reference way, for that page only.
"""

from __future__ import annotations

import datetime as dt
import io
import typing
from typing import Any

import httpx
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.json as pa_json
import pytest

from simplymeet.client import SimplyMeetClient
from simplymeet.contract.dates import parse_api_datetime
from simplymeet.contract.dtos import EventDTO, InviteeDTO
from simplymeet.emulator.running import RunningEmulator, start_emulator
from simplymeet.sync import SyncRequest, arrow_cut, arrow_pages, sync
from simplymeet.sync import tables as t
from simplymeet.sync.api import SyncApi
from simplymeet.sync.checks import ScanReport
from simplymeet.sync.events import EventScan
from simplymeet.sync.unknown_fields import in_wire_order, wire_order
from tests.loopback import behind, served
from tests.sync_support import (
    EVENTS_ONLY,
    assert_events_match,
    checked_page,
    client_for,
    event_page_body,
    query,
    run_sync,
    settings_for,
)

SYNCED_AT = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
COMPARED = [t.EVENTS.name, *(child.table.name for child in t.EVENTS.children), "event_versions"]


@pytest.fixture(scope="module")
def emulator() -> Any:
    with start_emulator(seed=5, events=450) as emu:
        yield emu


def _served(body: bytes) -> list[dict[str, Any]]:
    return orjson.loads(body)["items"]


def _assert_cut_as_served(body: bytes) -> None:
    """The page, read into Arrow, cuts the tables its served dicts cut."""
    read = arrow_pages.read_event_page(body)
    assert read is not None
    fast = arrow_pages.cut_events([read.rows], SYNCED_AT)
    reference = arrow_cut.cut(t.EVENTS, _served(body), SYNCED_AT)
    assert fast is not None and reference is not None
    for name, table in reference.items():
        assert fast[name].equals(table), name


def _warehouse(settings: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every landed row of the event tables (and rows set aside), without the run's time."""
    present = {
        row[0]
        for row in query(
            settings, "select table_name from information_schema.tables where table_schema='raw'"
        )
    }
    return {
        name: query(settings, f"select * exclude (_synced_at) from raw.{name} order by all")
        for name in [*COMPARED, t.REJECTED_ROWS.name]
        if name in present
    }


def _sync_both(tmp_path: Any, emulator: RunningEmulator, monkeypatch: Any) -> tuple[dict, dict]:
    """A full sync of the events on each path (the Arrow path reads only event pages)."""
    arrow = settings_for(tmp_path / "arrow", emulator)
    run_sync(arrow, emulator, resources=EVENTS_ONLY)
    monkeypatch.setattr(SyncApi, "arrow_pages", False)
    reference = settings_for(tmp_path / "reference", emulator)
    run_sync(reference, emulator, resources=EVENTS_ONLY)
    return _warehouse(arrow), _warehouse(reference)


def test_a_page_read_into_arrow_cuts_the_same_tables_as_its_served_dicts(emulator):
    body = event_page_body(emulator)
    read = arrow_pages.read_event_page(body)
    assert read is not None
    fast = arrow_pages.cut_events([read.rows], SYNCED_AT)
    reference = arrow_cut.cut(t.EVENTS, _served(body), SYNCED_AT)
    assert fast is not None and reference is not None
    assert fast.keys() == reference.keys()
    for name, table in reference.items():
        assert fast[name].equals(table), name


def test_a_page_read_into_arrow_keeps_its_meta_and_serves_the_dicts_as_sent(emulator):
    body = event_page_body(emulator, page=2)
    read = arrow_pages.read_event_page(body)
    assert read is not None and read.meta is not None
    assert read.meta.itemsCount == 450 and read.meta.pagesCount == 5
    assert list(read.rows) == _served(body)


def test_picking_rows_gives_their_served_dicts_without_parsing_the_page(emulator):
    body = event_page_body(emulator, page=3)
    read = arrow_pages.read_event_page(body)
    assert read is not None
    mask = np.zeros(len(read.rows), dtype=bool)
    mask[[0, 41, 99]] = True
    picked = read.rows.pick(mask)
    served = _served(body)
    assert picked == [served[0], served[41], served[99]]
    assert read.rows._dicts is None  # the other 97 rows were never built


def test_the_whole_sync_lands_the_same_warehouse_on_both_paths(tmp_path, emulator, monkeypatch):
    arrow, reference = _sync_both(tmp_path, emulator, monkeypatch)
    assert arrow == reference
    assert len(arrow["events"]) == 450


@pytest.mark.parametrize(
    "text",
    [
        *("é".encode(), "😀".encode(), b"\xed\x9f\xbf", b"\xf4\x8f\xbf\xbf", b"\x00"),
        # Truncated, overlong, a surrogate, past U+10FFFF, a lone continuation, a 5-byte form.
        *(b"a\xe2\x82", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80"),
        b"\xf8\x88\x80\x80\x80",
    ],
)
def test_utf8_is_judged_as_python_s_strict_decoder_judges_it(text):
    try:
        text.decode("utf-8")
        decodes = True
    except UnicodeDecodeError:
        decodes = False
    assert arrow_pages.is_utf8(b'{"name": "' + text + b'"}') is decodes


def test_a_page_with_bytes_that_are_no_utf8_where_nothing_lands_is_left_to_the_json_path(
    emulator,
):
    # In the embedded user's city: neither the key check nor pyarrow reads that value.
    body = event_page_body(emulator).replace(b'"city":"', b'"city":"\xff', 1)
    assert arrow_pages.check_event_page(body) is None


@pytest.mark.parametrize(
    "anomalies",
    ["extra=loyaltyTier", "extra=invitee.pronouns", "null_id=7", "text_id=8", "bad_timestamp=9"],
)
def test_a_page_arrow_cannot_judge_lands_as_on_the_reference_path(
    tmp_path, emulator, monkeypatch, anomalies
):
    emulator.set_anomalies(anomalies)
    try:
        arrow, reference = _sync_both(tmp_path, emulator, monkeypatch)
    finally:
        emulator.set_anomalies(None)
    assert arrow == reference


@pytest.mark.parametrize(
    "anomalies",
    [
        "amount_decimals=3",
        "amount_decimals=3,amount_text=point",
        "amount_text=comma",
        "amount_decimals=3,amount_text=comma",
        "bad_amount=11",
    ],
)
def test_amounts_land_alike_on_both_paths(tmp_path, emulator, monkeypatch, anomalies):
    emulator.set_anomalies(anomalies)
    try:
        arrow, reference = _sync_both(tmp_path, emulator, monkeypatch)
    finally:
        emulator.set_anomalies(None)
    assert arrow == reference


def test_a_field_the_reference_does_not_know_sends_the_page_the_per_row_way(emulator):
    items = _served(event_page_body(emulator))
    items[3]["loyaltyTier"] = "gold"
    assert arrow_pages.read_event_page(orjson.dumps({"items": items})) is None


def test_an_unknown_field_inside_a_flattened_object_sends_the_page_the_per_row_way(emulator):
    items = _served(event_page_body(emulator))
    items[3]["invitee"]["pronouns"] = "she"
    assert arrow_pages.read_event_page(orjson.dumps({"items": items})) is None


def test_an_unknown_field_in_a_child_item_sends_the_page_the_per_row_way(emulator):
    items = _served(event_page_body(emulator))
    with_answers = next(item for item in items if item.get("answers"))
    with_answers["answers"][0]["weight"] = 3
    assert arrow_pages.read_event_page(orjson.dumps({"items": items})) is None


def test_a_field_in_a_spelling_no_column_reads_sends_the_page_the_per_row_way(emulator):
    items = _served(event_page_body(emulator))
    items[6]["scheduled_at"] = items[6].pop("scheduledAt")
    assert arrow_pages.read_event_page(orjson.dumps({"items": items})) is None


def test_a_served_field_named_like_the_syncs_own_sends_the_page_the_per_row_way(emulator):
    items = _served(event_page_body(emulator))
    items[1]["__account"] = "other"
    assert arrow_pages.read_event_page(orjson.dumps({"items": items})) is None


def test_a_new_field_of_the_embedded_user_or_event_type_keeps_the_page_on_the_arrow_path(
    emulator,
):
    # Nothing of them lands beyond the ids the landing reads: no `_extra` to keep it in.
    items = _served(event_page_body(emulator))
    items[2]["user"]["nickname"] = "Ada"
    items[4]["eventType"]["palette"] = ["#fff"]
    _assert_cut_as_served(orjson.dumps({"items": items}))


@pytest.mark.parametrize("page", [1, 4, 5])
def test_reading_only_the_landed_fields_gives_the_struct_of_the_whole_body(emulator, page):
    body = event_page_body(emulator, page)
    read = arrow_pages.read_event_page(body)
    whole = pa_json.read_json(
        io.BytesIO(body),
        read_options=pa_json.ReadOptions(block_size=len(body) + 1),
        parse_options=arrow_pages._PARSE_KNOWN,
    )
    assert read is not None
    assert read.rows.struct.equals(whole.column("items").combine_chunks().values)


def test_a_key_served_twice_lands_the_value_the_served_dicts_hold(emulator):
    served = event_page_body(emulator).decode()
    state = served.index('"state":')
    # The first event's state twice: JSON readers keep the last one, and so must the landing.
    body = (served[:state] + '"state":"bogus",' + served[state:]).encode()
    assert _served(body)[0]["state"] != "bogus"
    _assert_cut_as_served(body)


def test_a_null_embedded_user_or_event_type_lands_as_the_served_dicts_do(emulator):
    items = _served(event_page_body(emulator))
    items[3]["user"] = None
    items[5]["eventType"] = None
    _assert_cut_as_served(orjson.dumps({"items": items}))


def test_a_null_among_the_users_is_cut_the_per_row_way(emulator):
    items = _served(event_page_body(emulator))
    items[2]["users"] = [None, *items[2]["users"]]
    read = arrow_pages.read_event_page(orjson.dumps({"items": items}))
    assert read is not None
    assert arrow_pages.cut_events([read.rows], SYNCED_AT) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", "12"), ("id", 7.5), ("duration", "15"), ("sentEmailReminder", True)],
)
def test_a_value_in_another_reading_sends_the_page_the_per_row_way(emulator, field, value):
    items = _served(event_page_body(emulator))
    items[0][field] = value
    assert arrow_pages.read_event_page(orjson.dumps({"items": items})) is None


def test_a_plain_array_body_is_read_as_json():
    assert arrow_pages.read_event_page(b'[{"id": 1}]') is None


def test_a_batch_with_a_null_id_is_cut_the_per_row_way(emulator):
    items = _served(event_page_body(emulator))
    items[5]["id"] = None
    read = arrow_pages.read_event_page(orjson.dumps({"items": items}))
    assert read is not None
    assert arrow_pages.cut_events([read.rows], SYNCED_AT) is None


def test_timestamps_in_the_request_format_are_left_to_the_per_row_path(emulator):
    items = _served(event_page_body(emulator))
    items[0]["updatedAt"] = "2026-01-02 03:04:05"
    read = arrow_pages.read_event_page(orjson.dumps({"items": items}))
    assert read is not None
    assert read.rows.updated() is None


def _stamps_without_offsets(up, path, pairs, body, headers):
    """An `Answer`: each event of a list page stamped `updatedAt` in the request format
    (`2026-01-02 03:04:05`, UTC), which the reference's examples also show in answers."""
    answer = served(up, path, pairs, body, headers)
    if path.rstrip("/") != "/panel/api/event" or answer.status_code != 200:
        return answer
    page = orjson.loads(answer.content)
    for item in page["items"]:
        if item.get("updatedAt"):
            stamp = parse_api_datetime(item["updatedAt"])
            item["updatedAt"] = stamp.strftime("%Y-%m-%d %H:%M:%S")
    return httpx.Response(200, headers=answer.headers, content=orjson.dumps(page))


def test_a_first_sync_of_stamps_without_an_offset_reads_no_event_again_by_id(tmp_path, emulator):
    # Such a page is read row by row, not into Arrow: the read of every event had kept its
    # rows without their stamps, so the read of canceled bookings found each in another
    # version and every one was read again by id.
    settings = settings_for(tmp_path, emulator)
    with (
        behind(emulator, _stamps_without_offsets) as url,
        SimplyMeetClient(url, api_key=emulator.api_key, concurrency=4) as client,
    ):
        summary = sync(settings, client, SyncRequest(resources=EVENTS_ONLY, build_models=False))

    assert summary.events_reread == 0
    assert_events_match(settings, emulator)


def test_related_event_ids_are_written_as_the_reference_path_writes_them():
    struct = pa.array(
        [{"relatedEventIds": [3, 1]}, {"relatedEventIds": []}, {"relatedEventIds": None}],
        type=pa.struct([("relatedEventIds", pa.list_(pa.int64()))]),
    )
    assert arrow_pages.related_json(struct).to_pylist() == ["[3,1]", "[]", None]


def _assert_read_as_alone(together: arrow_pages.ArrowBody | None, body: bytes) -> None:
    alone = arrow_pages.read_event_page(body)
    assert together is not None and alone is not None
    assert together.rows.struct.equals(alone.rows.struct)
    assert together.meta == alone.meta
    assert list(together.rows) == _served(body)
    assert _updated(together.rows) == _updated(alone.rows)


def _updated(rows: arrow_pages.ArrowRows) -> tuple[list[int], list[bool]] | None:
    return _updated_pair(rows.updated())


def test_pages_read_together_are_read_as_each_alone(emulator):
    bodies = [event_page_body(emulator, page) for page in range(1, 7)]  # page 6 is past the last
    read = arrow_pages.read_checked([checked_page(body) for body in bodies])
    assert [len(body.rows) if body else None for body in read] == [100, 100, 100, 100, 50, 0]
    for together, body in zip(read, bodies, strict=True):
        _assert_read_as_alone(together, body)


def test_a_page_arrow_refuses_among_pages_read_together_leaves_the_others_in_arrow(emulator):
    items = _served(event_page_body(emulator, 2))
    items[5]["id"] = "12"  # checked (a known key), refused by the shape
    bodies = [
        event_page_body(emulator, 1),
        orjson.dumps({"items": items}),
        event_page_body(emulator, 3),
    ]
    first, refused, third = arrow_pages.read_checked([checked_page(body) for body in bodies])
    assert refused is None
    _assert_read_as_alone(first, bodies[0])
    _assert_read_as_alone(third, bodies[2])


def test_a_page_served_over_several_lines_is_read_beside_others_as_alone(emulator):
    indented = orjson.dumps(orjson.loads(event_page_body(emulator, 2)), option=orjson.OPT_INDENT_2)
    assert b"\n" in checked_page(indented).landed  # the served values keep their line breaks
    bodies = [event_page_body(emulator, 1), indented]
    for together, body in zip(
        arrow_pages.read_checked([checked_page(body) for body in bodies]), bodies, strict=True
    ):
        _assert_read_as_alone(together, body)


def test_pages_read_together_check_their_stamps_in_one_call(emulator, monkeypatch):
    checked = [checked_page(event_page_body(emulator, page)) for page in (1, 2, 3)]
    calls: list[int] = []
    read_alone = arrow_pages.updated_of

    def counted(struct: pa.StructArray) -> arrow_pages.Updated | None:
        calls.append(len(struct))
        return read_alone(struct)

    monkeypatch.setattr(arrow_pages, "updated_of", counted)
    read = arrow_pages.read_checked(checked)
    stamps = [body.rows.updated() if body else None for body in read]
    assert calls == [300]
    assert [None if u is None else len(u.micros) for u in stamps] == [100, 100, 100]


def test_a_sliced_group_read_gives_each_page_its_own_stamps(emulator):
    bodies = [event_page_body(emulator, page) for page in (1, 2, 3)]
    data = b"\n".join(checked_page(body).landed for body in bodies)
    table = arrow_pages._read_json(data, arrow_pages._PARSE_KNOWN)
    assert table is not None
    sliced = table.slice(1)  # the list offsets no longer start at 0
    updated = arrow_pages._group_updated(sliced)
    for row, body in enumerate(bodies[1:]):
        alone = arrow_pages.read_event_page(body)
        assert alone is not None
        assert _updated_pair(updated(row)) == _updated(alone.rows)


def _updated_pair(updated: arrow_pages.Updated | None) -> tuple[list[int], list[bool]] | None:
    return None if updated is None else (updated.micros.tolist(), updated.present.tolist())


def test_the_scan_keeps_the_newest_present_stamp_and_counts_the_one_from_the_future(emulator):
    items = _served(event_page_body(emulator))[:4]
    items[0]["updatedAt"] = None
    items[1]["updatedAt"] = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    items[2]["updatedAt"] = "2026-01-02T03:04:05+00:00"
    items[3]["updatedAt"] = "2026-01-02T03:04:04+00:00"
    read = arrow_pages.read_event_page(orjson.dumps({"items": items}))
    assert read is not None and read.rows.updated() is not None
    with client_for(emulator) as client:
        scan = EventScan(SyncApi(client, concurrency=1), 100, ScanReport())
        scan._observe(read.rows)
    assert scan.newest == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert scan.report.future_rows == 1


def test_a_page_without_stamps_leaves_the_scans_newest_unset(emulator):
    items = _served(event_page_body(emulator))[:3]
    for item in items:
        item["updatedAt"] = None
    read = arrow_pages.read_event_page(orjson.dumps({"items": items}))
    assert read is not None
    with client_for(emulator) as client:
        scan = EventScan(SyncApi(client, concurrency=1), 100, ScanReport())
        scan._observe(read.rows)
    assert scan.newest is None
    assert scan.report.future_rows == 0


def test_a_stamp_in_another_form_among_pages_read_together_leaves_only_its_page_row_by_row(
    emulator,
):
    items = _served(event_page_body(emulator, 2))
    items[7]["updatedAt"] = "2026-01-02 03:04:05"
    bodies = [event_page_body(emulator, 1), orjson.dumps({"items": items})]
    first, second = arrow_pages.read_checked([checked_page(body) for body in bodies])
    assert second is not None and second.rows.updated() is None
    _assert_read_as_alone(first, bodies[0])
    assert _updated(first.rows) is not None


def test_updated_stamps_are_the_served_instants_and_a_missing_one_counts_as_recent(emulator):
    items = _served(event_page_body(emulator))[:3]
    items[1]["updatedAt"] = None
    read = arrow_pages.read_event_page(orjson.dumps({"items": items}))
    assert read is not None
    served = [parse_api_datetime(items[i]["updatedAt"]) for i in (0, 2)]
    micros, present = _updated(read.rows) or ([], [])
    assert present == [True, False, True]
    assert [micros[0], micros[2]] == [arrow_pages.micros_of(stamp) for stamp in served]
    after = read.rows.at_or_after(max(served) + dt.timedelta(microseconds=1))
    assert after is not None and after.tolist() == [False, True, False]


def test_the_check_declares_an_events_fields_in_the_order_the_reference_lists_them():
    event = _checked_event()
    declared = [name for name, _ in _fields(event)]
    listed = [name for name in wire_order(EventDTO) if name in declared]
    assert declared[: len(listed)] == listed


def test_the_check_declares_a_flattened_objects_fields_in_the_order_its_dto_lists_them():
    (invitee,) = [t for name, t in _fields(_checked_event()) if name == "invitee"]
    declared = [name for name, _ in _fields(typing.get_args(invitee)[0])]
    listed = [name for name in wire_order(InviteeDTO) if name in declared]
    assert declared[: len(listed)] == listed


def _checked_event() -> Any:
    (page_items,) = [t for name, t in _fields(arrow_pages._LANDED.type) if name == "items"]
    return typing.get_args(page_items)[0]


def test_keys_served_in_another_order_are_read_as_in_the_references_order(emulator):
    body = event_page_body(emulator)

    def reversed_keys(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: reversed_keys(value[key]) for key in reversed(list(value))}
        if isinstance(value, list):
            return [reversed_keys(item) for item in value]
        return value

    shuffled = orjson.dumps(reversed_keys(orjson.loads(body)))
    assert shuffled != body
    assert isinstance(arrow_pages.check_event_page(shuffled), arrow_pages.CheckedPage)
    read, as_served = arrow_pages.read_event_page(shuffled), arrow_pages.read_event_page(body)
    assert read is not None and as_served is not None
    assert read.rows.struct.equals(as_served.rows.struct)
    assert read.meta == as_served.meta


def test_names_no_dto_lists_come_after_the_listed_ones_sorted():
    names = ["zeta", "updatedAt", "alpha", "id"]
    assert in_wire_order(names, [EventDTO]) == ["id", "updatedAt", "alpha", "zeta"]


def _fields(struct: Any) -> list[tuple[str, Any]]:
    hints = typing.get_type_hints(struct)
    return [(name, hints[name]) for name in struct.__struct_fields__]


def test_a_page_with_an_unknown_key_is_judged_by_the_check_alone(emulator):
    items = _served(event_page_body(emulator))
    items[0]["loyaltyTier"] = "gold"
    assert arrow_pages.check_event_page(orjson.dumps({"items": items})) is None
