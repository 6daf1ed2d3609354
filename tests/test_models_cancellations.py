"""Cancellation models on hand-built bookings: rate, who canceled, reasons, lead time, lateness."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pytest

from simplymeet.models.sample import SampleWarehouse

AS_OF = "2025-06-30T18:00:00Z"
START = dt.datetime(2025, 6, 20, 10, tzinfo=dt.UTC)


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture
def raw() -> SampleWarehouse:
    """Host 1 owns the API key; its user policy: cancel at least 24 hours ahead."""
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1, current=True)
    raw.event_type(10, owner=1)
    raw.policy("user", 1, period=1440, first_seen_at="2025-01-01T00:00:00Z")
    return raw


def cancel(raw: SampleWarehouse, minutes_before: int, canceler: str, reason: str | None) -> None:
    raw.event(
        host=1,
        event_type=10,
        scheduled_at=START,
        state="canceled",
        canceled_at=START - dt.timedelta(minutes=minutes_before),
        canceler=canceler,
        reason=reason,
    )


def test_cancellation_rate_is_canceled_over_past_bookings_split_by_who_canceled(raw):
    for _ in range(6):
        raw.event(host=1, event_type=10, scheduled_at=START)
    cancel(raw, 3000, "invitee", "Travel")
    cancel(raw, 3000, "invitee", "Travel")
    cancel(raw, 3000, "invitee", None)
    cancel(raw, 3000, "host", "Sick")
    raw.event(host=1, event_type=10, scheduled_at="2025-07-10T10:00:00Z")  # future: left out
    con = raw.build()

    (overall,) = rows(con, "select * from analytics.cancellation_rates where breakdown='overall'")

    assert overall["past_bookings"] == 10
    assert overall["canceled_bookings"] == 4
    assert overall["cancellation_rate"] == 0.4
    assert (overall["canceled_by_invitee"], overall["canceled_by_host"]) == (3, 1)
    assert overall["invitee_cancellation_share"] == 0.75


def test_cancellations_by_lead_time_bucket_with_the_late_share(raw):
    # policy 24 h: 10 min after start, 30 min and 2 h before are late; 2 days before is not
    cancel(raw, -10, "invitee", None)
    cancel(raw, 30, "invitee", None)
    cancel(raw, 120, "host", None)
    cancel(raw, 2 * 1440, "invitee", None)
    con = raw.build()

    buckets = {
        r["lead_time_bucket"]: (r["canceled_bookings"], r["late_cancellations"])
        for r in rows(con, "select * from analytics.cancellations_by_lead_time")
    }
    (overall,) = rows(con, "select * from analytics.cancellation_rates where breakdown='overall'")

    assert buckets == {
        "after_start": (1, 1),
        "under_1h": (1, 1),
        "1h_to_24h": (1, 1),
        "1d_to_3d": (1, 0),
        "3d_to_7d": (0, 0),
        "7d_plus": (0, 0),
        "unknown": (0, 0),
    }
    assert overall["late_cancellation_share"] == 0.75


def test_an_organization_with_no_booking_yet_reads_every_lead_time_bucket_at_zero(raw):
    con = raw.build()

    by_lead_time = rows(con, "select * from analytics.cancellations_by_lead_time")
    time_to_cancel = rows(con, "select * from analytics.time_to_cancel")

    buckets = rows(con, "select lead_time_bucket from analytics.int_lead_time_buckets")
    assert len(by_lead_time) == len(buckets) == len(time_to_cancel) > 0
    assert {r["canceled_bookings"] for r in by_lead_time} == {0}


def test_cancellations_by_lead_time_lists_buckets_in_order(raw):
    cancel(raw, 30, "invitee", None)
    con = raw.build()

    order = con.execute(
        "select lead_time_bucket from analytics.cancellations_by_lead_time"
        " order by lead_time_bucket_order"
    ).fetchall()

    assert [r[0] for r in order] == [
        "after_start",
        "under_1h",
        "1h_to_24h",
        "1d_to_3d",
        "3d_to_7d",
        "7d_plus",
        "unknown",
    ]


def test_cancellations_by_reason_group_blank_reasons_together(raw):
    cancel(raw, 3000, "invitee", "Travel")
    cancel(raw, 3000, "invitee", "  Travel ")
    cancel(raw, 3000, "invitee", "")
    cancel(raw, 3000, "invitee", None)
    cancel(raw, 60, "host", "Sick")
    con = raw.build()

    reasons = {
        (r["canceled_by"], r["cancellation_reason"]): (
            r["canceled_bookings"],
            r["share_of_cancellations"],
        )
        for r in rows(con, "select * from analytics.cancellations_by_reason")
    }

    assert reasons == {
        ("invitee", "Travel"): (2, 0.4),
        ("invitee", "(no reason given)"): (2, 0.4),
        ("host", "Sick"): (1, 0.2),
    }


def test_cancellations_by_reason_trims_tabs_and_line_breaks_around_a_reason(raw):
    for reason in ("Travel", "Travel\n", "\tTravel", " Travel\r\n"):
        cancel(raw, 3000, "invitee", reason)
    con = raw.build()

    reasons = rows(con, "select * from analytics.cancellations_by_reason")

    assert [(r["cancellation_reason"], r["canceled_bookings"]) for r in reasons] == [("Travel", 4)]


def test_cancellations_by_reason_counts_a_whitespace_only_reason_as_none_given(raw):
    for reason in ("\n", "\t", " \r\n "):
        cancel(raw, 3000, "invitee", reason)
    con = raw.build()

    reasons = rows(con, "select * from analytics.cancellations_by_reason")

    assert [(r["cancellation_reason"], r["canceled_bookings"]) for r in reasons] == [
        ("(no reason given)", 3)
    ]


def test_a_versions_cancellation_reason_is_trimmed_of_every_whitespace(raw):
    cancel(raw, 3000, "invitee", "\tTravel\n")
    cancel(raw, 3000, "invitee", "\n")
    con = raw.build()

    reasons = con.execute(
        "select cancellation_reason from analytics.stg_event_versions order by event_id"
    ).fetchall()

    assert reasons == [("Travel",), (None,)]


def test_a_reschedule_reason_is_trimmed_of_every_whitespace(raw):
    for _ in range(2):
        raw.event(host=1, event_type=10, scheduled_at=START, reschedules=["2025-06-19T10:00:00Z"])
    first, second = raw.rows["events__rescheduling"]
    first["reason"], second["reason"] = "Clash\r\n", "\t"
    con = raw.build()

    reasons = con.execute(
        "select reschedule_reason from analytics.stg_event_reschedulings order by event_id"
    ).fetchall()

    assert reasons == [("Clash",), (None,)]


def test_kpi_summary_states_numerator_and_denominator_of_each_rate(raw):
    for day in range(8):
        raw.event(
            host=1,
            event_type=10,
            scheduled_at=START - dt.timedelta(days=day),
            state="no_show" if day < 2 else "active",
        )
    cancel(raw, 30, "invitee", None)
    cancel(raw, 3000, "host", None)
    raw.event(host=1, event_type=10, scheduled_at="2025-07-10T10:00:00Z")
    con = raw.build()

    kpis = {r["metric"]: r for r in rows(con, "select * from analytics.kpi_summary")}

    assert kpis["bookings"]["value"] == 11
    assert (kpis["past_bookings"]["value"], kpis["upcoming_bookings"]["value"]) == (10, 1)
    no_show = kpis["no_show_rate"]
    assert (no_show["numerator"], no_show["denominator"], no_show["value"]) == (2, 8, 0.25)
    assert no_show["ci_low"] < 0.25 < no_show["ci_high"]
    canceled = kpis["cancellation_rate"]
    assert (canceled["numerator"], canceled["denominator"], canceled["value"]) == (2, 10, 0.2)
    late = kpis["late_cancellation_share"]
    assert (late["numerator"], late["denominator"], late["value"]) == (1, 2, 0.5)
    assert all(r["definition"] for r in kpis.values())
    assert kpis["bookings"]["as_of"] == dt.datetime(2025, 6, 30, 18, tzinfo=dt.UTC)


def test_kpi_summary_has_every_headline_row_for_an_account_with_no_past_booking(raw):
    raw.event(host=1, event_type=10, scheduled_at="2025-07-02T10:00:00Z")
    cancel_upcoming = dict(state="canceled", canceled_at="2025-06-29T10:00:00Z", canceler="host")
    raw.event(host=1, event_type=10, scheduled_at="2025-07-03T10:00:00Z", **cancel_upcoming)
    con = raw.build()

    kpis = {r["metric"]: r for r in rows(con, "select * from analytics.kpi_summary")}

    assert list(kpis) == [
        "bookings",
        "past_bookings",
        "upcoming_bookings",
        "no_show_rate",
        "cancellation_rate",
        "late_cancellation_share",
        "invitee_cancellation_share",
        "reschedule_rate",
        "utilization",
        "snapshot_day_share",
        "unknown_state_bookings",
    ]


def test_kpi_summary_rates_nothing_for_an_account_with_no_past_booking(raw):
    raw.event(host=1, event_type=10, scheduled_at="2025-07-02T10:00:00Z")
    con = raw.build()

    kpis = {r["metric"]: r for r in rows(con, "select * from analytics.kpi_summary")}

    no_show = kpis["no_show_rate"]
    assert (no_show["numerator"], no_show["denominator"], no_show["value"]) == (0, 0, None)
    assert (no_show["ci_low"], no_show["ci_high"]) == (None, None)
    canceled = kpis["cancellation_rate"]
    assert (canceled["numerator"], canceled["denominator"], canceled["value"]) == (0, 0, None)


def test_kpi_summary_counts_no_booking_for_an_organization_synced_without_any(raw):
    # `raw` holds users and event types only.
    con = raw.build()

    kpis = {r["metric"]: r for r in rows(con, "select * from analytics.kpi_summary")}

    assert kpis["bookings"]["value"] == 0
    assert kpis["no_show_rate"]["value"] is None
    assert kpis["no_show_rate"]["as_of"] is not None


# CancellationDTO.canceler is "The user of the cancellation.": a server may serve the person's
# e-mail instead of the side. The invitee's own e-mail is the invitee's side, a user's the host's.


def _canceled_by(raw: SampleWarehouse, canceler: str | None, **columns: Any) -> str:
    event_id = raw.event(
        host=1,
        event_type=10,
        scheduled_at=START,
        state="canceled",
        canceled_at=START - dt.timedelta(days=3),
        canceler=canceler,
        invitee_email="Ada.Lovelace@Example.com",
        **columns,
    )
    con = raw.build()
    [(found,)] = con.execute(
        f"select canceled_by from analytics.fct_events where event_id = {event_id}"
    ).fetchall()
    return found


def test_a_canceler_served_as_the_invitees_email_in_any_case_is_the_invitee(raw):
    assert _canceled_by(raw, " ada.lovelace@example.COM ") == "invitee"


def test_a_canceler_served_as_a_users_email_is_the_host(raw):
    raw.user(2, email="Grace@Org.example")  # not the booking's host: still the host's side
    assert _canceled_by(raw, "grace@org.example") == "host"


def test_invitee_cancellation_share_counts_cancelers_served_as_emails(raw):
    cancel(raw, 3000, "user1@example.com", None)  # host 1's e-mail (SampleWarehouse.user)
    for _ in range(3):
        raw.event(
            host=1,
            event_type=10,
            scheduled_at=START,
            state="canceled",
            canceled_at=START - dt.timedelta(days=3),
            canceler="ada@example.com",
            invitee_email="ada@example.com",
        )
    con = raw.build()

    [(value, numerator, denominator)] = con.execute(
        "select value, numerator, denominator from analytics.kpi_summary "
        "where metric = 'invitee_cancellation_share'"
    ).fetchall()
    assert (value, numerator, denominator) == (0.75, 3, 4)
