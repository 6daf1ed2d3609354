"""Period-over-period KPIs on hand-built bookings: counts, rates, change and its z-test."""

from __future__ import annotations

import datetime as dt
import math
from functools import partial
from typing import Any

import duckdb
import pytest

from simplymeet.models.sample import SampleWarehouse
from tests.models_support import build_only

build = partial(build_only, models=["kpi_period_over_period"])
"""`raw.build()` for these tests: kpi_period_over_period and the models it reads."""


AS_OF = "2025-06-30T18:00:00Z"
Z95 = 1.959963984540054
WEEK_1 = dt.date(2025, 6, 2)  # Mondays
WEEK_2 = dt.date(2025, 6, 9)


def kpi(
    con: duckdb.DuckDBPyConnection,
    metric: str,
    period: str = "week",
    breakdown: str = "overall",
) -> dict[Any, dict[str, Any]]:
    """The mart's rows for one metric, keyed by period start (and host or event type)."""
    cursor = con.execute(
        "select * from analytics.kpi_period_over_period "
        "where metric = ? and period_grain = ? and breakdown = ?",
        [metric, period, breakdown],
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if breakdown == "overall":
        return {row["period_start_local"]: row for row in rows}
    key = "host_user_id" if breakdown == "host" else "event_type_id"
    return {(row[key], row["period_start_local"]): row for row in rows}


def bookings(
    raw: SampleWarehouse,
    monday: dt.date,
    count: int,
    no_shows: int,
    *,
    host: int = 1,
    event_type: int = 10,
    canceled: int = 0,
) -> None:
    """`count` past bookings in the week of `monday`: the first `no_shows` no-shows, then
    `canceled` canceled ones, the rest attended."""
    for number in range(count):
        start = dt.datetime.combine(monday, dt.time(9), tzinfo=dt.UTC) + dt.timedelta(
            days=number % 5, minutes=number * 7
        )
        state = "no_show" if number < no_shows else "active"
        cancel = no_shows <= number < no_shows + canceled
        raw.event(
            host=host,
            event_type=event_type,
            scheduled_at=start,
            state="canceled" if cancel else state,
            canceled_at=start - dt.timedelta(days=1) if cancel else None,
        )


@pytest.fixture
def raw() -> SampleWarehouse:
    """Host 1 (UTC) with event type 10; host 2 (UTC) with event type 20; no bookings yet."""
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1, timezone="UTC", full_name="Ada")
    raw.user(2, timezone="UTC", full_name="Grace")
    raw.event_type(10, owner=1, name="Intro")
    raw.event_type(20, owner=2, name="Demo")
    return raw


def test_weekly_no_show_rate_and_its_change_against_the_prior_week(raw):
    bookings(raw, WEEK_1, 40, 4)
    bookings(raw, WEEK_2, 40, 16)
    con = build(raw)

    week = kpi(con, "no_show")[WEEK_2]

    assert (week["numerator"], week["denominator"]) == (16, 40)
    assert week["rate"] == pytest.approx(0.4)
    assert (week["prior_numerator"], week["prior_denominator"]) == (4, 40)
    assert week["prior_rate"] == pytest.approx(0.1)
    assert week["change"] == pytest.approx(0.3)


def test_change_z_is_the_pooled_two_proportion_z_statistic(raw):
    bookings(raw, WEEK_1, 40, 4)
    bookings(raw, WEEK_2, 40, 16)
    con = build(raw)

    week = kpi(con, "no_show")[WEEK_2]

    pooled = 20 / 80
    expected = (0.4 - 0.1) / math.sqrt(pooled * (1 - pooled) * (1 / 40 + 1 / 40))
    assert week["change_z"] == pytest.approx(expected)
    assert expected > Z95
    assert week["is_significant_change"] is True


def test_a_change_within_chance_is_not_significant(raw):
    bookings(raw, WEEK_1, 10, 1)
    bookings(raw, WEEK_2, 10, 3)
    con = build(raw)

    week = kpi(con, "no_show")[WEEK_2]

    assert week["change"] == pytest.approx(0.2)
    assert abs(week["change_z"]) < Z95
    assert week["is_significant_change"] is False


def test_a_three_booking_host_jumping_from_none_to_all_no_shows_is_not_significant(raw):
    bookings(raw, WEEK_1, 3, 0, host=2, event_type=20)
    bookings(raw, WEEK_2, 3, 3, host=2, event_type=20)
    con = build(raw)

    week = kpi(con, "no_show", breakdown="host")[(2, WEEK_2)]

    assert week["change"] == pytest.approx(1.0)
    assert week["change_z"] == pytest.approx(math.sqrt(6))  # 2.449 > 1.96 ...
    assert week["is_significant_change"] is True  # ... so only min_sample_size protects


def test_a_period_without_prior_bookings_has_no_z_and_is_not_significant(raw):
    bookings(raw, WEEK_2, 30, 15)
    con = build(raw)

    week = kpi(con, "no_show")[WEEK_2]

    assert week["prior_denominator"] == 0
    assert week["prior_rate"] is None
    assert week["change_z"] is None
    assert week["is_significant_change"] is False


def test_canceled_rate_counts_every_past_booking_and_no_show_rate_leaves_canceled_out(raw):
    bookings(raw, WEEK_1, 20, 2, canceled=5)
    con = build(raw)

    canceled = kpi(con, "canceled")[WEEK_1]
    no_show = kpi(con, "no_show")[WEEK_1]
    completed = kpi(con, "completed")[WEEK_1]

    assert (canceled["numerator"], canceled["denominator"]) == (5, 20)
    assert (no_show["numerator"], no_show["denominator"]) == (2, 15)
    assert (completed["numerator"], completed["denominator"]) == (13, 20)


def test_rescheduled_rate_counts_bookings_moved_at_least_once(raw):
    bookings(raw, WEEK_1, 9, 0)
    raw.event(
        host=1,
        event_type=10,
        scheduled_at="2025-06-04T15:00:00Z",
        reschedules=["2025-06-01T10:00:00Z", "2025-06-02T10:00:00Z"],
    )
    con = build(raw)

    week = kpi(con, "rescheduled")[WEEK_1]

    assert (week["numerator"], week["denominator"]) == (1, 10)


def test_created_counts_bookings_by_the_week_they_were_created_in(raw):
    for number in range(3):
        raw.event(
            host=1,
            event_type=10,
            scheduled_at="2025-06-20T10:00:00Z",
            created_at=dt.datetime(2025, 6, 3, 10 + number, tzinfo=dt.UTC),
        )
    con = build(raw)

    created = kpi(con, "created")

    assert created[WEEK_1]["numerator"] == 3
    assert created[WEEK_1]["unit"] == "count"
    assert created[WEEK_1]["denominator"] is None


def test_future_bookings_are_left_out_of_rates(raw):
    bookings(raw, dt.date(2025, 6, 23), 10, 2)
    raw.event(host=1, event_type=10, scheduled_at="2025-07-02T10:00:00Z", state="no_show")
    con = build(raw)

    june = kpi(con, "no_show", period="month")[dt.date(2025, 6, 1)]
    july = kpi(con, "no_show", period="month")[dt.date(2025, 7, 1)]

    assert (june["numerator"], june["denominator"]) == (2, 10)
    assert (july["numerator"], july["denominator"]) == (0, 0)
    assert july["rate"] is None


def test_monthly_rows_compare_with_the_previous_calendar_month(raw):
    bookings(raw, dt.date(2025, 5, 5), 20, 2)
    bookings(raw, WEEK_2, 20, 8)
    con = build(raw)

    june = kpi(con, "no_show", period="month")[dt.date(2025, 6, 1)]

    assert june["prior_rate"] == pytest.approx(0.1)
    assert june["rate"] == pytest.approx(0.4)
    assert june["period_end_local"] == dt.date(2025, 7, 1)


def test_host_and_event_type_rows_split_the_overall_row(raw):
    bookings(raw, WEEK_1, 12, 3, host=1, event_type=10)
    bookings(raw, WEEK_1, 8, 1, host=2, event_type=20)
    con = build(raw)

    hosts = kpi(con, "no_show", breakdown="host")
    types = kpi(con, "no_show", breakdown="event_type")

    assert hosts[(1, WEEK_1)]["numerator"] == 3
    assert hosts[(2, WEEK_1)]["host_full_name"] == "Grace"
    assert types[(20, WEEK_1)]["denominator"] == 8
    assert kpi(con, "no_show")[WEEK_1]["denominator"] == 20


def test_the_all_grain_row_covers_the_whole_history_without_a_prior(raw):
    bookings(raw, WEEK_1, 10, 1)
    bookings(raw, WEEK_2, 10, 5)
    con = build(raw)

    whole = kpi(con, "no_show", period="all")[None]

    assert (whole["numerator"], whole["denominator"]) == (6, 20)
    assert whole["change"] is None
    assert whole["is_significant_change"] is False


def test_a_week_with_nothing_to_rate_has_neither_a_rate_nor_an_interval(raw):
    bookings(raw, WEEK_1, 1, 0, canceled=1)
    con = build(raw)

    week = kpi(con, "no_show")[WEEK_1]

    assert week["denominator"] == 0
    assert (week["rate"], week["rate_ci_low"], week["rate_ci_high"]) == (None, None, None)


def test_a_count_has_no_interval(raw):
    bookings(raw, WEEK_1, 3, 1)
    con = build(raw)

    [created] = kpi(con, "created").values()

    assert created["unit"] == "count"
    assert (created["rate_ci_low"], created["rate_ci_high"]) == (None, None)
