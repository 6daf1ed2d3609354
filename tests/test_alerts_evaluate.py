"""Alert rules evaluated on hand-built bookings: thresholds, significance, sample sizes."""

from __future__ import annotations

import datetime as dt
from functools import partial

import duckdb
import pytest

from simplymeet.alerts import AlertsUnavailableError, evaluate_alerts
from simplymeet.models.sample import SampleWarehouse
from tests.alerts_support import rules
from tests.models_support import build_only
from tests.test_models_period_over_period import AS_OF, WEEK_1, WEEK_2, bookings

build = partial(build_only, models=["kpi_period_over_period"])
"""`raw.build()` for these tests: kpi_period_over_period and the models it reads."""


@pytest.fixture
def raw() -> SampleWarehouse:
    """Host 1 (big) with event type 10, host 2 (small) with event type 20, both UTC."""
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1, timezone="UTC", full_name="Ada")
    raw.user(2, timezone="UTC", full_name="Grace")
    raw.event_type(10, owner=1, name="Intro")
    raw.event_type(20, owner=2, name="Demo")
    return raw


def no_show_above(threshold: float, **extra) -> dict:
    return {"name": "no-shows high", "metric": "no_show", "above": threshold, **extra}


def test_a_threshold_alert_fires_when_the_rate_is_above_it(raw):
    bookings(raw, WEEK_2, 40, 12)
    con = build(raw)

    (alert,) = evaluate_alerts(con, rules(no_show_above(0.2)))

    assert (alert.rule, alert.subject, alert.period_start) == ("no-shows high", "overall", WEEK_2)
    assert alert.value == pytest.approx(0.3)
    assert (alert.numerator, alert.denominator) == (12, 40)


def test_a_threshold_alert_stays_quiet_when_the_rate_is_at_or_below_it(raw):
    bookings(raw, WEEK_2, 40, 8)
    con = build(raw)

    assert evaluate_alerts(con, rules(no_show_above(0.2))) == []


def test_only_the_latest_period_is_judged(raw):
    bookings(raw, WEEK_1, 40, 30)
    bookings(raw, WEEK_2, 40, 2)
    con = build(raw)

    assert evaluate_alerts(con, rules(no_show_above(0.2))) == []


def test_a_three_booking_host_never_fires_a_rate_threshold(raw):
    bookings(raw, WEEK_2, 40, 2, host=1, event_type=10)
    bookings(raw, WEEK_2, 3, 3, host=2, event_type=20)
    con = build(raw)

    fired = evaluate_alerts(con, rules(no_show_above(0.5, breakdown="host")))

    assert fired == []


def test_a_three_booking_host_never_fires_a_significance_alert(raw):
    # 0/3 then 3/3: z = 2.45, "significant" by the test alone; the sample size says noise.
    bookings(raw, WEEK_1, 3, 0, host=2, event_type=20)
    bookings(raw, WEEK_2, 3, 3, host=2, event_type=20)
    con = build(raw)

    rule = {"name": "jump", "metric": "no_show", "breakdown": "host"}
    fired = evaluate_alerts(con, rules({**rule, "significant_change": "up"}))

    assert fired == []


def test_a_significant_rise_on_a_large_host_fires(raw):
    bookings(raw, WEEK_1, 40, 4, host=1, event_type=10)
    bookings(raw, WEEK_2, 40, 16, host=1, event_type=10)
    con = build(raw)

    rule = {"name": "jump", "metric": "no_show", "breakdown": "host", "significant_change": "up"}
    (alert,) = evaluate_alerts(con, rules(rule))

    assert (alert.subject, alert.subject_id) == ("Ada", 1)
    assert alert.change == pytest.approx(0.3)
    assert alert.change_z > 1.96


def test_a_significant_rise_does_not_fire_a_rule_watching_for_a_fall(raw):
    bookings(raw, WEEK_1, 40, 4)
    bookings(raw, WEEK_2, 40, 16)
    con = build(raw)

    rule = {"name": "drop", "metric": "no_show", "significant_change": "down"}
    assert evaluate_alerts(con, rules(rule)) == []


def test_a_change_within_chance_does_not_fire(raw):
    bookings(raw, WEEK_1, 40, 4)
    bookings(raw, WEEK_2, 40, 7)
    con = build(raw)

    rule = {"name": "jump", "metric": "no_show", "significant_change": "any"}
    assert evaluate_alerts(con, rules(rule)) == []


def _created(raw: SampleWarehouse, count: int, on: dt.date, host: int = 1) -> None:
    """`count` bookings created on `on` (one an hour from 08:00 UTC, at most 16) for a later
    date."""
    for hour in range(count):
        raw.event(
            host=host,
            event_type=10 if host == 1 else 20,
            scheduled_at="2025-07-20T10:00:00Z",
            created_at=dt.datetime(on.year, on.month, on.day, 8 + hour, tzinfo=dt.UTC),
        )


def test_a_count_threshold_fires_on_created_bookings(raw):
    _created(raw, 5, dt.date(2025, 6, 30))  # the week as_of (Monday 30 June, 18:00) is in
    con = build(raw)

    rule = {"name": "busy", "metric": "created", "period": "week", "above": 4}
    (alert,) = evaluate_alerts(con, rules(rule))

    assert (alert.value, alert.period_start) == (5, dt.date(2025, 6, 30))


def test_a_count_below_a_threshold_fires_for_a_week_in_which_nothing_was_created(raw):
    _created(raw, 5, dt.date(2025, 6, 24))  # last week; none in the week of as_of
    con = build(raw)

    rule = {"name": "quiet", "metric": "created", "period": "week", "below": 1}
    (alert,) = evaluate_alerts(con, rules(rule))

    assert (alert.value, alert.numerator, alert.period_start) == (0, 0, dt.date(2025, 6, 30))


def test_a_host_who_created_nothing_this_week_fires_a_per_host_count_below_alert(raw):
    _created(raw, 5, dt.date(2025, 6, 30), host=1)  # this week
    _created(raw, 3, dt.date(2025, 6, 24), host=2)  # last week only
    con = build(raw)

    rule = {"name": "quiet", "metric": "created", "period": "week", "breakdown": "host"}
    (alert,) = evaluate_alerts(con, rules({**rule, "below": 1}))

    assert (alert.subject_id, alert.value, alert.period_start) == (2, 0, dt.date(2025, 6, 30))


def test_a_count_is_judged_in_a_week_only_once_every_calendar_has_reached_it():
    raw = SampleWarehouse(synced_at="2025-06-30T06:00:00Z")  # Sunday evening at UTC-12
    raw.user(1, timezone="UTC")
    raw.event_type(10, owner=1)
    _created(raw, 5, dt.date(2025, 6, 24))
    con = build(raw)

    rule = {"name": "busy", "metric": "created", "period": "week", "above": 4}
    (alert,) = evaluate_alerts(con, rules(rule))

    assert alert.period_start == dt.date(2025, 6, 23)


@pytest.mark.parametrize("breakdown", ["overall", "host", "event_type"])
def test_a_count_is_not_judged_in_a_week_begun_in_a_calendar_ahead_before_it_is_current(
    breakdown,
):
    # Monday 06:00 UTC: the new week has begun in UTC's calendar, not at UTC-12. Bookings
    # made in its first hours are the next week's to judge, not this rule's now.
    raw = SampleWarehouse(synced_at="2025-06-30T06:00:00Z")
    raw.user(1, timezone="UTC")
    raw.event_type(10, owner=1)
    for day in (23, 24):
        _created(raw, 10, dt.date(2025, 6, day))
    _created(raw, 2, dt.date(2025, 6, 30))
    con = build(raw)

    rule = {"name": "few", "metric": "created", "period": "week", "breakdown": breakdown}
    assert evaluate_alerts(con, rules({**rule, "below": 5})) == []


def test_a_warehouse_without_models_is_an_error_saying_what_to_run():
    con = duckdb.connect()

    with pytest.raises(AlertsUnavailableError, match="models build"):
        evaluate_alerts(con, rules(no_show_above(0.2)))


def test_a_significance_alert_needs_the_sample_in_the_prior_period_too(raw):
    # 40 bookings this week against 3 last week: the jump is measured against noise.
    bookings(raw, WEEK_1, 3, 0, host=1, event_type=10)
    bookings(raw, WEEK_2, 40, 30, host=1, event_type=10)
    con = build(raw)

    rule = {"name": "jump", "metric": "no_show", "significant_change": "up"}
    assert evaluate_alerts(con, rules(rule)) == []
    assert evaluate_alerts(con, rules({**rule, "min_sample_size": 3}))


def test_with_several_accounts_each_alert_names_its_account(raw):
    bookings(raw, WEEK_2, 40, 12)
    con = build(raw)
    # a second account whose bookings are the same: its rows differ only in `account`
    con.execute(
        "insert into analytics.kpi_period_over_period "
        "select * replace ('south' as account) from analytics.kpi_period_over_period"
    )

    fired = evaluate_alerts(con, rules(no_show_above(0.2)))

    assert sorted((a.account, a.subject) for a in fired) == [
        ("default", "default: overall"),
        ("south", "south: overall"),
    ]


def test_each_account_is_judged_on_its_own_latest_period(raw):
    bookings(raw, WEEK_1, 40, 12)
    bookings(raw, WEEK_2, 40, 2)
    con = build(raw)
    # south's latest data is week 1 (high); default's latest is week 2 (low)
    con.execute(
        "insert into analytics.kpi_period_over_period "
        "select * replace ('south' as account) from analytics.kpi_period_over_period "
        "where period_start_local is distinct from $week",
        {"week": WEEK_2},
    )

    fired = evaluate_alerts(con, rules(no_show_above(0.2, period="week")))

    assert [(a.account, a.period_start) for a in fired] == [("south", WEEK_1)]
