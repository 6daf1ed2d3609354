"""`raw.event_versions` rows cut from an events batch: keyed on (id, updated_at), once each;
an event served without `updatedAt` keyed by its `createdAt`."""

from __future__ import annotations

import datetime as dt

from simplymeet.sync import tables as t
from simplymeet.sync.history import EVENT_VERSIONS, versions

SYNCED_AT = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)


CREATED_AT = "2026-11-01T09:00:00+00:00"


def _event(
    event_id: int,
    updated_at: str | None,
    state: str = "active",
    created_at: str | None = CREATED_AT,
) -> dict:
    return {
        "id": event_id,
        "updatedAt": updated_at,
        "createdAt": created_at,
        "scheduledAt": "2026-12-10T10:00:00+00:00",
        "end": "2026-12-10T10:30:00+00:00",
        "state": state,
        "user": {"id": 7},
        "eventType": {"id": 3},
    }


def _versions(rows: list[dict]) -> list[dict]:
    events = t.flatten(t.EVENTS, rows, SYNCED_AT)[t.EVENTS.name]
    return versions(events).to_pylist()


def test_versions_have_the_declared_schema():
    events = t.flatten(t.EVENTS, [_event(1, "2026-11-30T10:00:00+00:00")], SYNCED_AT)
    assert versions(events[t.EVENTS.name]).schema == EVENT_VERSIONS.schema


def test_a_version_read_twice_in_one_batch_is_kept_once():
    rows = [_event(1, "2026-11-30T10:00:00+00:00"), _event(1, "2026-11-30T10:00:00+00:00")]
    assert len(_versions(rows)) == 1


def test_two_versions_of_one_event_are_both_kept():
    rows = [
        _event(1, "2026-11-30T10:00:00+00:00"),
        _event(1, "2026-11-30T10:00:01+00:00", state="canceled"),
    ]
    assert [row["state"] for row in _versions(rows)] == ["active", "canceled"]


def test_an_event_without_updated_at_is_a_version_stamped_at_its_creation():
    rows = [_event(1, None), _event(2, "2026-11-30T10:00:00+00:00")]
    stamps = {row["id"]: row["updated_at"] for row in _versions(rows)}
    assert stamps == {
        1: dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC),
        2: dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC),
    }


def test_an_event_without_updated_at_read_twice_in_one_batch_is_kept_once():
    assert len(_versions([_event(1, None), _event(1, None)])) == 1


def test_the_first_real_stamp_after_none_is_a_version_of_its_own():
    rows = [_event(1, None), _event(1, "2026-11-30T10:00:00+00:00", state="canceled")]
    assert [row["state"] for row in _versions(rows)] == ["active", "canceled"]


def test_an_event_with_neither_stamp_has_no_version():
    rows = [_event(1, None, created_at=None), _event(2, "2026-11-30T10:00:00+00:00")]
    assert [row["id"] for row in _versions(rows)] == [2]


def test_versions_carry_the_fields_of_the_history():
    [row] = _versions([_event(1, "2026-11-30T10:00:00+00:00")])
    assert row["user_id"] == 7
    assert row["event_type_id"] == 3
    assert row["scheduled_at"] == dt.datetime(2026, 12, 10, 10, tzinfo=dt.UTC)
    assert row["_synced_at"] == SYNCED_AT
