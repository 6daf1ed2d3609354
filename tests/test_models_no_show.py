"""No-show rates on hand-built bookings: numerator, denominator and Wilson interval."""

from __future__ import annotations

import datetime as dt
import math
from functools import partial
from typing import Any

import duckdb
import pytest

from simplymeet.models.sample import SampleWarehouse
from tests.models_support import build_only

build = partial(build_only, models=["no_show_rates"])
"""`raw.build()` for these tests: no_show_rates and the models it reads."""


AS_OF = "2025-06-30T18:00:00Z"
Z = 1.959963984540054  # two-sided 95% normal quantile


def rates(con: duckdb.DuckDBPyConnection, breakdown: str = "overall") -> list[dict[str, Any]]:
    cursor = con.execute(
        "select * from analytics.no_show_rates where breakdown = ? "
        "order by host_user_id, event_type_id, week_start_local, month_start_local",
        [breakdown],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture
def twelve_past_bookings() -> SampleWarehouse:
    """Host 1 (UTC), type 10: twelve past, not-canceled bookings, three of them no-shows."""
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1, timezone="UTC", full_name="Ada")
    raw.event_type(10, owner=1, name="Intro")
    for day in range(12):
        raw.event(
            100 + day,
            host=1,
            event_type=10,
            scheduled_at=dt.datetime(2025, 6, 2 + day, 10, tzinfo=dt.UTC),
            state="no_show" if day in (1, 5, 9) else "active",
        )
    return raw


def test_three_no_shows_out_of_twelve_past_bookings_is_25_percent(twelve_past_bookings):
    con = build(twelve_past_bookings)

    (overall,) = rates(con)

    assert overall["eligible_bookings"] == 12
    assert overall["no_shows"] == 3
    assert overall["no_show_rate"] == 0.25


def test_canceled_bookings_leave_the_no_show_denominator(twelve_past_bookings):
    for number in range(4):
        twelve_past_bookings.event(
            200 + number,
            host=1,
            event_type=10,
            scheduled_at="2025-06-20T10:00:00Z",
            state="canceled",
            canceled_at="2025-06-19T10:00:00Z",
        )
    con = build(twelve_past_bookings)

    (overall,) = rates(con)

    assert overall["past_bookings"] == 16
    assert overall["canceled_bookings"] == 4
    assert overall["eligible_bookings"] == 12
    assert overall["no_show_rate"] == 0.25


def test_future_bookings_are_excluded_from_the_no_show_rate(twelve_past_bookings):
    for number in range(5):
        twelve_past_bookings.event(
            300 + number,
            host=1,
            event_type=10,
            scheduled_at=dt.datetime(2025, 7, 1 + number, 10, tzinfo=dt.UTC),
            state="no_show" if number == 0 else "active",
        )
    con = build(twelve_past_bookings)

    (overall,) = rates(con)

    assert overall["past_bookings"] == 12
    assert overall["no_show_rate"] == 0.25


def test_deleted_bookings_are_excluded_from_the_no_show_rate(twelve_past_bookings):
    for number in range(2):
        twelve_past_bookings.event(
            400 + number,
            host=1,
            event_type=10,
            scheduled_at="2025-06-20T10:00:00Z",
            state="no_show",
            deleted_at="2025-06-25T00:00:00Z",
        )
    con = build(twelve_past_bookings)

    (overall,) = rates(con)

    assert (overall["no_shows"], overall["eligible_bookings"]) == (3, 12)


def test_rescheduled_booking_counts_once_in_the_no_show_rate():
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1)
    raw.event_type(10, owner=1)
    raw.event(
        1,
        host=1,
        event_type=10,
        scheduled_at="2025-06-10T10:00:00Z",
        state="no_show",
        reschedules=["2025-06-03T10:00:00Z", "2025-06-05T10:00:00Z", "2025-06-07T10:00Z"],
    )
    raw.event(2, host=1, event_type=10, scheduled_at="2025-06-11T10:00:00Z")
    con = build(raw)

    (overall,) = rates(con)

    assert (overall["no_shows"], overall["eligible_bookings"]) == (1, 2)


def test_bookings_in_an_unknown_state_are_counted_apart(twelve_past_bookings):
    twelve_past_bookings.event(
        500, host=1, event_type=10, scheduled_at="2025-06-20T10:00:00Z", state="pending"
    )
    con = build(twelve_past_bookings)

    (overall,) = rates(con)

    assert overall["unknown_state_bookings"] == 1
    assert overall["eligible_bookings"] == 12


def test_no_show_wilson_interval_matches_the_hand_computation(twelve_past_bookings):
    # n = 12, p = 3/12 = 0.25, z^2 = 3.841459
    # centre  = (p + z^2/2n) / (1 + z^2/n) = (0.25 + 0.1600608) / 1.3201216 = 0.3106235
    # spread  = z * sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n)
    #         = 1.959964 * sqrt(0.015625 + 0.0066692) / 1.3201216
    #         = 1.959964 * 0.1493124 / 1.3201216 = 0.2216818
    # interval = [0.3106235 - 0.2216818, 0.3106235 + 0.2216818] = [0.0889417, 0.5323053]
    con = build(twelve_past_bookings)

    (overall,) = rates(con)

    assert overall["no_show_rate_ci_low"] == pytest.approx(0.0889417, abs=1e-6)
    assert overall["no_show_rate_ci_high"] == pytest.approx(0.5323053, abs=1e-6)


def test_wilson_interval_with_no_no_shows_starts_at_zero():
    # n = 10, p = 0: low = 0, high = (z^2/n) / (1 + z^2/n) = 0.384146 / 1.384146 = 0.277533
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1)
    raw.event_type(10, owner=1)
    for day in range(10):
        raw.event(host=1, event_type=10, scheduled_at=dt.datetime(2025, 6, 2 + day, tzinfo=dt.UTC))
    con = build(raw)

    (overall,) = rates(con)

    assert overall["no_show_rate"] == 0
    assert overall["no_show_rate_ci_low"] == pytest.approx(0, abs=1e-12)
    assert overall["no_show_rate_ci_high"] == pytest.approx(Z**2 / 10 / (1 + Z**2 / 10))
    assert overall["no_show_rate_ci_high"] == pytest.approx(0.277533, abs=1e-6)


def test_no_show_rate_by_host_and_by_event_type(twelve_past_bookings):
    raw = twelve_past_bookings
    raw.user(2, full_name="Grace")
    raw.event_type(11, owner=2, name="Consult")
    raw.event(600, host=2, event_type=11, scheduled_at="2025-06-20T10:00:00Z", state="no_show")
    raw.event(601, host=2, event_type=11, scheduled_at="2025-06-21T10:00:00Z")
    con = build(raw)

    by_host = {
        r["host_full_name"]: (r["no_shows"], r["eligible_bookings"]) for r in rates(con, "host")
    }
    by_type = {r["event_type_name"]: r["no_show_rate"] for r in rates(con, "event_type")}

    assert by_host == {"Ada": (3, 12), "Grace": (1, 2)}
    assert by_type == {"Intro": 0.25, "Consult": 0.5}


def test_no_show_rate_by_week_uses_the_hosts_local_week():
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1, timezone="Europe/Paris")
    raw.event_type(10, owner=1)
    # Sunday 15 June 22:30 UTC = Monday 16 June 00:30 in Paris: week of 16 June
    raw.event(1, host=1, event_type=10, scheduled_at="2025-06-15T22:30:00Z", state="no_show")
    # Sunday 15 June 20:00 UTC = 22:00 in Paris: week of 9 June
    raw.event(2, host=1, event_type=10, scheduled_at="2025-06-15T20:00:00Z")
    con = build(raw)

    weeks = {r["week_start_local"]: r["no_show_rate"] for r in rates(con, "week")}
    months = {r["month_start_local"]: r["eligible_bookings"] for r in rates(con, "month")}

    assert weeks == {dt.date(2025, 6, 9): 0.0, dt.date(2025, 6, 16): 1.0}
    assert months == {dt.date(2025, 6, 1): 2}


def test_breakdowns_add_up_to_the_overall_counts(twelve_past_bookings):
    raw = twelve_past_bookings
    raw.user(2)
    raw.event_type(11, owner=2)
    raw.event(700, host=2, event_type=11, scheduled_at="2025-05-30T10:00:00Z", state="no_show")
    con = build(raw)

    (overall,) = rates(con)
    for breakdown in ("host", "event_type", "week", "month"):
        rows = rates(con, breakdown)
        assert sum(r["no_shows"] for r in rows) == overall["no_shows"] == 4
        assert sum(r["eligible_bookings"] for r in rows) == overall["eligible_bookings"] == 13
    assert math.isclose(overall["no_show_rate"], 4 / 13)


@pytest.mark.parametrize("no_shows", [0, 21])
def test_wilson_interval_stays_within_zero_and_one_at_the_extremes(no_shows):
    # at p = 0 or 1 the bound is 0 or 1 exactly; unclamped floating point gave -1.2e-17 at n=21
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1)
    raw.event_type(10, owner=1)
    for day in range(21):
        raw.event(
            host=1,
            event_type=10,
            scheduled_at=dt.datetime(2025, 6, 2, 9, tzinfo=dt.UTC) + dt.timedelta(hours=day),
            state="no_show" if day < no_shows else "active",
        )
    con = build(raw)

    (overall,) = rates(con)

    assert 0 <= overall["no_show_rate_ci_low"] <= overall["no_show_rate_ci_high"] <= 1
    assert (overall["no_show_rate_ci_low"] == 0) == (no_shows == 0)
    assert (overall["no_show_rate_ci_high"] == 1) == (no_shows == 21)


def test_a_host_with_nothing_to_rate_has_neither_a_rate_nor_an_interval():
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1, timezone="UTC")
    raw.event_type(10, owner=1)
    raw.event(
        1,
        host=1,
        event_type=10,
        scheduled_at="2025-06-17T10:00:00Z",
        state="canceled",
        canceled_at="2025-06-16T10:00:00Z",
    )
    con = build(raw)

    [host] = rates(con, "host")

    assert (host["past_bookings"], host["eligible_bookings"]) == (1, 0)
    assert (host["no_show_rate"], host["no_show_rate_ci_low"], host["no_show_rate_ci_high"]) == (
        None,
        None,
        None,
    )
