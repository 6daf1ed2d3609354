"""fct_events on hand-built raw rows: one row per booking, local times, policy lateness."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import duckdb
import pytest

from simplymeet.config import Settings
from simplymeet.models import build_models
from simplymeet.models import test_models as run_data_tests
from simplymeet.models.sample import SampleWarehouse
from tests.models_support import build_only, project_of

build = partial(build_only, models=["fct_events"])
"""`raw.build()` for these tests: fct_events and the models it reads."""


AS_OF = "2025-06-30T18:00:00Z"


def fact(con: duckdb.DuckDBPyConnection, event_id: int) -> dict[str, Any]:
    cursor = con.execute("select * from analytics.fct_events where event_id = ?", [event_id])
    rows = cursor.fetchall()
    assert len(rows) == 1, f"expected one fct_events row for {event_id}, got {len(rows)}"
    return dict(zip([d[0] for d in cursor.description], rows[0], strict=True))


@pytest.fixture
def raw() -> SampleWarehouse:
    """One host in UTC who owns the API key, one 60-minute event type."""
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1, timezone="UTC", current=True)
    raw.event_type(10, owner=1, duration=60)
    return raw


def test_rescheduled_booking_with_several_hosts_and_participants_counts_once(raw):
    raw.user(2)
    raw.event(
        100,
        host=1,
        event_type=10,
        scheduled_at="2025-06-10T10:00:00Z",
        duration=60,
        hosts=[1, 2],
        reschedules=["2025-06-03T10:00:00Z", "2025-06-05T10:00:00Z"],
        participants=["a@example.com", "b@example.com"],
    )
    con = build(raw)

    row = fact(con, 100)  # fails if the joins fanned the booking out

    assert row["reschedule_count"] == 2
    assert row["is_rescheduled"] is True
    assert row["first_scheduled_at"] == dt.datetime(2025, 6, 3, 10, tzinfo=dt.UTC)
    assert row["host_user_ids"] == [1, 2]
    assert row["host_count"] == 2
    assert row["participant_count"] == 2


def test_booking_at_2330_paris_on_a_sunday_counts_for_that_sunday(raw):
    raw.user(3, timezone="Europe/Paris")
    # 21:30 UTC on Sunday 15 June 2025 is 23:30 in Paris (CEST, UTC+2)
    raw.event(101, host=3, event_type=10, scheduled_at="2025-06-15T21:30:00Z")
    con = build(raw)

    row = fact(con, 101)

    assert row["host_timezone"] == "Europe/Paris"
    assert row["scheduled_at_local"] == dt.datetime(2025, 6, 15, 23, 30)
    assert row["scheduled_date_local"] == dt.date(2025, 6, 15)
    assert row["scheduled_weekday_local"] == "Sunday"
    assert row["scheduled_iso_weekday_local"] == 7
    assert row["scheduled_week_local"] == dt.date(2025, 6, 9)


def test_booking_at_0030_paris_on_a_monday_counts_for_monday_though_utc_says_sunday(raw):
    raw.user(3, timezone="Europe/Paris")
    # 22:30 UTC on Sunday 15 June is 00:30 on Monday 16 June in Paris
    raw.event(102, host=3, event_type=10, scheduled_at="2025-06-15T22:30:00Z")
    con = build(raw)

    row = fact(con, 102)

    assert row["scheduled_date_local"] == dt.date(2025, 6, 16)
    assert row["scheduled_weekday_local"] == "Monday"
    assert row["scheduled_week_local"] == dt.date(2025, 6, 16)
    assert row["scheduled_month_local"] == dt.date(2025, 6, 1)


def test_a_booking_created_at_0030_paris_was_created_on_that_day_in_paris(raw):
    raw.user(3, timezone="Europe/Paris")
    # 22:30 UTC on Sunday 15 June is 00:30 on Monday 16 June in Paris
    raw.event(
        103,
        host=3,
        event_type=10,
        scheduled_at="2025-06-20T10:00:00Z",
        created_at="2025-06-15T22:30:00Z",
    )
    con = build(raw)

    row = fact(con, 103)

    assert row["created_date_local"] == dt.date(2025, 6, 16)


def test_a_booking_whose_host_and_event_type_are_no_longer_listed_is_kept_and_passes_its_tests(
    raw,
):
    # Events embed their host and event type; the lists may no longer hold them (a removed
    # user, an event type the list's filters hide): the booking is still a booking.
    raw.event(104, host=99, event_type=98, scheduled_at="2025-06-14T16:00:00Z")
    con = build(raw)

    row = fact(con, 104)

    assert (row["host_user_id"], row["event_type_id"]) == (99, 98)
    assert run_data_tests(con, select=["fct_events"]) == []


def test_host_without_a_known_timezone_falls_back_to_event_type_timezone(raw):
    raw.user(4, timezone="Not/AZone")
    raw.event_type(11, owner=4, timezone="Asia/Tokyo")
    # 16:00 UTC on Saturday 14 June is 01:00 on Sunday 15 June in Tokyo
    raw.event(103, host=4, event_type=11, scheduled_at="2025-06-14T16:00:00Z")
    con = build(raw)

    row = fact(con, 103)

    assert row["host_timezone"] == "Asia/Tokyo"
    assert row["scheduled_date_local"] == dt.date(2025, 6, 15)


def test_local_dates_do_not_depend_on_the_session_timezone(raw):
    raw.user(3, timezone="Europe/Paris")
    raw.event(104, host=3, event_type=10, scheduled_at="2025-06-15T22:30:00Z")
    con = duckdb.connect()
    con.execute("set TimeZone = 'America/Los_Angeles'")
    build(raw, con)

    row = fact(con, 104)

    assert row["scheduled_date_local"] == dt.date(2025, 6, 16)
    assert row["scheduled_at_local"] == dt.datetime(2025, 6, 16, 0, 30)


def test_duration_lead_time_and_past_flag(raw):
    raw.event(
        105,
        host=1,
        event_type=10,
        scheduled_at="2025-06-10T10:00:00Z",
        created_at="2025-06-08T10:00:00Z",
        duration=45,
    )
    con = build(raw)

    row = fact(con, 105)

    assert row["duration_minutes"] == 45
    assert row["scheduled_end_at"] == dt.datetime(2025, 6, 10, 10, 45, tzinfo=dt.UTC)
    assert row["booking_lead_time_minutes"] == 2 * 24 * 60
    assert row["is_past"] is True
    assert row["final_state"] == "booked"


def test_future_booking_is_not_past(raw):
    raw.event(106, host=1, event_type=10, scheduled_at="2025-07-02T10:00:00Z")
    con = build(raw)

    assert fact(con, 106)["is_past"] is False


def test_booking_in_progress_at_the_last_sync_is_not_past(raw):
    # as_of is 18:00 UTC; the meeting runs 17:30-18:30
    raw.event(107, host=1, event_type=10, scheduled_at="2025-06-30T17:30:00Z", duration=60)
    con = build(raw)

    row = fact(con, 107)

    assert row["as_of"] == dt.datetime(2025, 6, 30, 18, tzinfo=dt.UTC)
    assert row["is_past"] is False


def test_a_booking_without_end_or_duration_lasts_its_event_types_duration_then_is_past(raw):
    # the API may leave out both endDate and duration; event type 10 lasts 60 minutes
    raw.event(108, host=1, event_type=10, scheduled_at="2025-06-10T10:00:00Z", duration=None)
    con = build(raw)

    row = fact(con, 108)

    assert row["scheduled_end_at"] == dt.datetime(2025, 6, 10, 11, tzinfo=dt.UTC)
    assert row["duration_minutes"] == 60
    assert row["is_past"] is True
    assert run_data_tests(con, select=["fct_events"]) == []


def test_a_booking_with_no_length_anywhere_is_past_once_it_has_started(raw):
    # neither the booking nor its event type says how long it lasts: it ends where it starts
    raw.event_type(11, owner=1, duration=None)
    raw.event(109, host=1, event_type=11, scheduled_at="2025-06-30T17:59:00Z", duration=None)
    raw.event(110, host=1, event_type=11, scheduled_at="2025-06-30T18:01:00Z", duration=None)
    con = build(raw)

    started, upcoming = fact(con, 109), fact(con, 110)

    assert started["scheduled_end_at"] == started["scheduled_at"]
    assert started["duration_minutes"] is None  # unknown: an average must not count it as 0
    assert (started["is_past"], upcoming["is_past"]) == (True, False)


def _canceled_two_hours_before(raw: SampleWarehouse, event_id: int = 200, host: int = 1) -> int:
    return raw.event(
        event_id,
        host=host,
        event_type=10,
        scheduled_at="2025-06-10T10:00:00Z",
        state="canceled",
        canceled_at="2025-06-10T08:00:00Z",
        canceler="invitee",
        reason="Feeling unwell",
    )


def test_cancellation_2_hours_before_start_is_late_under_a_24_hour_policy(raw):
    raw.policy("user", 1, period=1440, first_seen_at="2025-01-01T00:00:00Z")
    _canceled_two_hours_before(raw)
    con = build(raw)

    row = fact(con, 200)

    assert row["cancellation_lead_time_minutes"] == 120
    assert row["cancellation_policy_type"] == "user"
    assert row["cancellation_policy_period_minutes"] == 1440
    assert row["is_late_cancellation"] is True


def test_cancellation_2_hours_before_start_is_not_late_under_a_1_hour_policy(raw):
    raw.policy("user", 1, period=60, first_seen_at="2025-01-01T00:00:00Z")
    _canceled_two_hours_before(raw)
    con = build(raw)

    row = fact(con, 200)

    assert row["cancellation_policy_period_minutes"] == 60
    assert row["is_late_cancellation"] is False


def test_cancellation_after_the_start_is_late(raw):
    raw.policy("user", 1, period=60, first_seen_at="2025-01-01T00:00:00Z")
    raw.event(
        201,
        host=1,
        event_type=10,
        scheduled_at="2025-06-10T10:00:00Z",
        state="canceled",
        canceled_at="2025-06-10T10:15:00Z",
        canceler="host",
    )
    con = build(raw)

    row = fact(con, 201)

    assert row["cancellation_lead_time_minutes"] == -15
    assert row["cancellation_lead_time_bucket"] == "after_start"
    assert row["canceled_by"] == "host"
    assert row["is_late_cancellation"] is True


def test_policy_in_force_is_the_latest_version_seen_before_the_cancellation(raw):
    raw.policy("user", 1, period=1440, first_seen_at="2025-01-01T00:00:00Z")
    raw.policy("user", 2, period=60, first_seen_at="2025-06-01T00:00:00Z")
    raw.event(
        202,
        host=1,
        event_type=10,
        scheduled_at="2025-05-20T10:00:00Z",
        state="canceled",
        canceled_at="2025-05-20T08:00:00Z",
    )
    _canceled_two_hours_before(raw, 203)  # canceled 10 June, under version 2
    con = build(raw)

    may, june = fact(con, 202), fact(con, 203)

    assert (may["cancellation_policy_version"], may["is_late_cancellation"]) == (1, True)
    assert (june["cancellation_policy_version"], june["is_late_cancellation"]) == (2, False)


def test_a_cancellation_after_the_policy_was_removed_is_judged_by_no_policy(raw):
    raw.policy("user", 1, period=1440, first_seen_at="2025-01-01T00:00:00Z")
    # The removal as the sync lands it (`policy_versions.REMOVED`): disabled, no period.
    raw.policy("user", -7, period=None, enabled=False, first_seen_at="2025-06-01T00:00:00Z")
    raw.event(
        202,
        host=1,
        event_type=10,
        scheduled_at="2025-05-20T10:00:00Z",
        state="canceled",
        canceled_at="2025-05-20T08:00:00Z",
    )
    _canceled_two_hours_before(raw, 203)  # canceled 10 June, after the removal
    con = build(raw)

    may, june = fact(con, 202), fact(con, 203)

    assert (may["cancellation_policy_version"], may["is_late_cancellation"]) == (1, True)
    assert june["cancellation_policy_type"] is None
    assert june["is_late_cancellation"] is False


def test_cancellation_before_any_version_was_seen_is_judged_by_the_earliest(raw):
    raw.policy("user", 1, period=1440, first_seen_at="2025-06-20T00:00:00Z")
    raw.policy("user", 2, period=60, first_seen_at="2025-06-25T00:00:00Z")
    _canceled_two_hours_before(raw)  # 10 June: before either version was first seen
    con = build(raw)

    row = fact(con, 200)

    assert row["cancellation_policy_version"] == 1
    assert row["is_late_cancellation"] is True


def test_organization_policy_applies_when_it_overwrites_personal_policies(raw):
    raw.policy("user", 1, period=60, first_seen_at="2025-01-01T00:00:00Z")
    raw.policy("organization", 1, period=1440, overwrite_personal=True, first_seen_at="2025-01-01")
    _canceled_two_hours_before(raw)
    con = build(raw)

    row = fact(con, 200)

    assert row["cancellation_policy_type"] == "organization"
    assert row["is_late_cancellation"] is True


def test_user_policy_applies_when_the_organization_does_not_overwrite_it(raw):
    raw.policy("user", 1, period=60, first_seen_at="2025-01-01T00:00:00Z")
    raw.policy("organization", 1, period=1440, first_seen_at="2025-01-01T00:00:00Z")
    _canceled_two_hours_before(raw)
    con = build(raw)

    row = fact(con, 200)

    assert row["cancellation_policy_type"] == "user"
    assert row["is_late_cancellation"] is False


def test_organization_policy_applies_when_the_user_policy_is_disabled(raw):
    raw.policy("user", 1, period=60, enabled=False, first_seen_at="2025-01-01T00:00:00Z")
    raw.policy("organization", 1, period=1440, first_seen_at="2025-01-01T00:00:00Z")
    _canceled_two_hours_before(raw)
    con = build(raw)

    assert fact(con, 200)["cancellation_policy_type"] == "organization"


def test_user_policy_is_only_known_for_the_api_key_owner(raw):
    # the API exposes the key owner's user policy only; host 2 is judged by the organization's
    raw.user(2)
    raw.policy("user", 1, period=60, first_seen_at="2025-01-01T00:00:00Z")
    raw.policy("organization", 1, period=1440, first_seen_at="2025-01-01T00:00:00Z")
    _canceled_two_hours_before(raw, 204, host=2)
    con = build(raw)

    row = fact(con, 204)

    assert row["cancellation_policy_type"] == "organization"
    assert row["is_late_cancellation"] is True


def test_cancellation_with_no_enabled_policy_is_not_late(raw):
    raw.policy("user", 1, period=1440, enabled=False, first_seen_at="2025-01-01T00:00:00Z")
    _canceled_two_hours_before(raw)
    con = build(raw)

    row = fact(con, 200)

    assert row["cancellation_policy_type"] is None
    assert row["is_late_cancellation"] is False


def test_cancellation_fields_are_null_on_bookings_not_canceled(raw):
    raw.policy("user", 1, period=1440, first_seen_at="2025-01-01T00:00:00Z")
    raw.event(108, host=1, event_type=10, scheduled_at="2025-06-10T10:00:00Z")
    con = build(raw)

    row = fact(con, 108)

    assert row["is_canceled"] is False
    assert row["canceled_by"] is None
    assert row["is_late_cancellation"] is None
    assert row["cancellation_lead_time_bucket"] is None


def test_canceler_outside_the_vocabulary_is_unknown(raw):
    raw.event(
        205,
        host=1,
        event_type=10,
        scheduled_at="2025-06-10T10:00:00Z",
        state="canceled",
        canceled_at="2025-06-01T10:00:00Z",
        canceler="robot",
    )
    con = build(raw)

    row = fact(con, 205)

    assert row["canceled_by"] == "unknown"
    assert row["cancellation_lead_time_bucket"] == "7d_plus"


def _without_a_start(
    raw: SampleWarehouse, event_id: int, *, end: bool = False
) -> duckdb.DuckDBPyConnection:
    """`raw` with booking `event_id` served without a start (and without its end unless
    `end`), every model built."""
    con = duckdb.connect()
    raw.write(con)
    ended = "" if end else ", end_date = null"
    con.execute(f"update raw.events set scheduled_at = null{ended} where id = ?", [event_id])
    build_models(
        con,
        sql_dir=project_of(("kpi_period_over_period", "kpi_summary")),
        settings=Settings(),
    )
    return con


def test_a_booking_served_without_a_start_passes_every_data_test(raw):
    raw.event(105, host=1, event_type=10, scheduled_at="2025-06-14T16:00:00Z")
    raw.event(106, host=1, event_type=10, scheduled_at="2025-06-20T16:00:00Z")

    con = _without_a_start(raw, 105)

    built = ["stg_events", "fct_events", "kpi_summary", "kpi_period_over_period"]
    assert run_data_tests(con, select=built) == []


def test_a_booking_served_without_a_start_is_neither_past_nor_upcoming(raw):
    raw.event(105, host=1, event_type=10, scheduled_at="2025-06-14T16:00:00Z")
    raw.event(106, host=1, event_type=10, scheduled_at="2025-07-20T16:00:00Z")

    con = _without_a_start(raw, 105)

    kpis = dict(con.execute("select metric, value from analytics.kpi_summary").fetchall())
    assert (kpis["bookings"], kpis["past_bookings"], kpis["upcoming_bookings"]) == (2, 0, 1)


def test_a_booking_served_without_a_start_but_with_its_end_is_not_past(raw):
    raw.event(105, host=1, event_type=10, scheduled_at="2025-06-14T16:00:00Z")

    con = _without_a_start(raw, 105, end=True)

    assert fact(con, 105)["is_past"] is False
    built = ["stg_events", "fct_events", "kpi_summary", "kpi_period_over_period"]
    assert run_data_tests(con, select=built) == []
