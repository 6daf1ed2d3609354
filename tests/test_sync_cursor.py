"""The events cursor's state between runs (`sync/cursor.py`)."""

from __future__ import annotations

import datetime as dt

from simplymeet.sync.cursor import ORDER_PROOF_HOURS, EventCursor

NOW = dt.datetime(2026, 12, 6, 12, tzinfo=dt.UTC)


def test_an_order_shown_within_the_proof_hours_is_trusted():
    cursor = EventCursor(order_shown_at=NOW - dt.timedelta(hours=ORDER_PROOF_HOURS - 1))

    assert cursor.order_proven(NOW)


def test_an_order_shown_longer_ago_than_the_proof_hours_must_be_shown_again():
    # A server may stop honouring orderField=updatedAt (a deploy).
    cursor = EventCursor(order_shown_at=NOW - dt.timedelta(hours=ORDER_PROOF_HOURS + 1))

    assert not cursor.order_proven(NOW)


def test_an_order_never_shown_is_not_trusted():
    assert not EventCursor().order_proven(NOW)


def test_when_the_order_was_shown_survives_a_save_and_a_load():
    state: dict = {}
    EventCursor(order_shown_at=NOW).save(state)

    assert EventCursor.load(state).order_shown_at == NOW
