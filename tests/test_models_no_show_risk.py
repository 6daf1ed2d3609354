"""Upcoming bookings' no-show risk on hand-built history: shrunk rate, interval, ranking."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import duckdb
import pytest

from simplymeet.models import test_models as run_data_tests
from simplymeet.models.project import load_project
from simplymeet.models.sample import SampleWarehouse
from tests.models_support import build_only
from tests.test_models_period_over_period import AS_OF, WEEK_1, bookings

build = partial(build_only, models=["upcoming_no_show_risk"])
"""The risk mart and the models it reads (12 of the project's ~50): what every test reads."""

Z = 1.959963984540054
UPCOMING = "2025-07-03T10:00:00Z"


def risks(con: duckdb.DuckDBPyConnection) -> dict[int, dict[str, Any]]:
    cursor = con.execute("select * from analytics.upcoming_no_show_risk")
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {row["event_id"]: row for row in rows}


@pytest.fixture
def raw() -> SampleWarehouse:
    """Host 1 type 10: 40 past bookings, 20 no-shows; host 2 type 20: 40 past, 4 no-shows."""
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1, timezone="UTC", full_name="Ada")
    raw.user(2, timezone="UTC", full_name="Grace")
    raw.user(3, timezone="UTC", full_name="Linus")
    raw.event_type(10, owner=1, name="Intro")
    raw.event_type(20, owner=2, name="Demo")
    raw.event_type(30, owner=3, name="Chat")
    bookings(raw, WEEK_1, 40, 20, host=1, event_type=10)
    bookings(raw, WEEK_1, 40, 4, host=2, event_type=20)
    return raw


def test_an_account_with_no_past_booking_lists_its_upcoming_ones_unscored_and_passes_its_tests():
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1, timezone="UTC", full_name="Ada")
    raw.event_type(10, owner=1, name="Intro")
    raw.event(1, host=1, event_type=10, scheduled_at=UPCOMING)
    con = build(raw)

    [risk] = risks(con).values()
    assert (risk["event_id"], risk["no_show_risk"], risk["prior_strength"]) == (1, None, None)
    assert run_data_tests(con, select=["upcoming_no_show_risk"]) == []


def test_only_upcoming_bookings_that_are_not_canceled_are_scored(raw):
    raw.event(1, host=1, event_type=10, scheduled_at=UPCOMING)
    raw.event(
        2,
        host=1,
        event_type=10,
        scheduled_at=UPCOMING,
        state="canceled",
        canceled_at="2025-06-29T10:00:00Z",
    )
    con = build(raw)

    assert set(risks(con)) == {1}


def test_the_history_of_the_host_and_event_type_comes_with_its_wilson_interval(raw):
    raw.event(1, host=1, event_type=10, scheduled_at=UPCOMING)
    con = build(raw)

    risk = risks(con)[1]

    assert (risk["history_no_shows"], risk["history_bookings"]) == (20, 40)
    assert risk["history_no_show_rate"] == 0.5
    half_width = Z * (0.25 / 40 + Z**2 / (4 * 40**2)) ** 0.5 / (1 + Z**2 / 40)
    assert risk["history_no_show_rate_ci_high"] == pytest.approx(0.5 + half_width)


def test_risk_is_the_pair_rate_shrunk_towards_the_organization_rate(raw):
    raw.event(1, host=1, event_type=10, scheduled_at=UPCOMING)
    con = build(raw)

    risk = risks(con)[1]

    m = risk["prior_strength"]
    assert risk["overall_no_show_rate"] == pytest.approx(24 / 80)
    assert risk["no_show_risk"] == pytest.approx((20 + m * 0.3) / (40 + m))
    assert 0.3 < risk["no_show_risk"] < 0.5


def test_a_pair_without_history_gets_the_organization_rate(raw):
    raw.event(1, host=3, event_type=30, scheduled_at=UPCOMING)
    con = build(raw)

    risk = risks(con)[1]

    assert risk["history_bookings"] == 0
    assert risk["history_no_show_rate"] is None
    assert risk["no_show_risk"] == pytest.approx(0.3)


def test_a_pair_with_three_bookings_is_pulled_most_of_the_way_to_the_organization_rate(raw):
    bookings(raw, WEEK_1, 3, 3, host=3, event_type=30)
    raw.event(1, host=3, event_type=30, scheduled_at=UPCOMING)
    raw.event(2, host=1, event_type=10, scheduled_at=UPCOMING)
    con = build(raw)

    small, large = risks(con)[1], risks(con)[2]

    assert small["history_no_show_rate"] == 1.0
    assert small["no_show_risk"] - small["overall_no_show_rate"] < 0.5 * (
        1.0 - small["overall_no_show_rate"]
    )
    # more history, less shrinkage: 40 bookings keep more of their own rate than 3
    large_kept = (large["no_show_risk"] - large["overall_no_show_rate"]) / (
        large["history_no_show_rate"] - large["overall_no_show_rate"]
    )
    small_kept = (small["no_show_risk"] - small["overall_no_show_rate"]) / (
        small["history_no_show_rate"] - small["overall_no_show_rate"]
    )
    assert large_kept > small_kept


def test_the_riskiest_booking_ranks_first(raw):
    raw.event(1, host=2, event_type=20, scheduled_at=UPCOMING)
    raw.event(2, host=1, event_type=10, scheduled_at=dt.datetime(2025, 7, 4, 10, tzinfo=dt.UTC))
    con = build(raw)

    ranked = risks(con)

    assert (ranked[2]["risk_rank"], ranked[1]["risk_rank"]) == (1, 2)


def test_weekday_and_lead_time_rates_are_shown_beside_the_risk(raw):
    raw.event(1, host=1, event_type=10, scheduled_at=UPCOMING, created_at="2025-06-30T09:00:00Z")
    con = build(raw)

    risk = risks(con)[1]

    assert risk["scheduled_iso_weekday_local"] == 4  # a Thursday
    assert risk["booking_lead_time_bucket"] == "1-7 days"
    assert risk["weekday_bookings"] == 16  # the history's Thursdays
    assert risk["lead_time_bookings"] == 0


def test_the_same_history_gives_the_same_risks_every_time_they_are_computed(tested):
    """The spread between pairs is a floating-point sum; summed in whatever order DuckDB's
    threads finished, a synced warehouse's risks differed in their last bits in 8 of 300
    evaluations (and a model kept as built differed from its own SQL run again)."""
    sql = load_project()["upcoming_no_show_risk"].sql
    con = duckdb.connect(str(tested.get("warehouse", "duckdb_path")), read_only=True)
    try:
        assert con.execute("select count(*) from analytics.upcoming_no_show_risk").fetchone() > (0,)
        differing = [
            run
            for run in range(150)
            if con.execute(
                f"select count(*) from (({sql}) except all "
                "(select * from analytics.upcoming_no_show_risk))"
            ).fetchone()
            != (0,)
        ]
    finally:
        con.close()

    assert differing == []


def test_a_pair_without_history_has_no_history_interval(raw):
    raw.event(1, host=3, event_type=30, scheduled_at=UPCOMING)
    con = build(raw)

    risk = risks(con)[1]

    assert (risk["history_bookings"], risk["history_no_show_rate"]) == (0, None)
    assert (risk["history_no_show_rate_ci_low"], risk["history_no_show_rate_ci_high"]) == (
        None,
        None,
    )
