"""The report over several accounts: every account's figures together, each account's labelled.

Across accounts a count is the sum and a rate sum(numerator) / sum(denominator) (README,
"Several accounts"); a host is its account's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from simplymeet.models.sample import SampleWarehouse
from simplymeet.report import load_report, open_warehouse, render_html
from simplymeet.report.cli import report_command

NORTH_NO_SHOWS, NORTH_BOOKINGS = 3, 12
SOUTH_NO_SHOWS, SOUTH_BOOKINGS = 1, 8
WILSON_4_OF_20 = "[8.1%, 41.6%]"
"""95% Wilson interval of 4 no-shows in 20: p = 0.2, n = 20, z = 1.96 (worked by hand)."""


def _account(account: str, host_name: str, bookings: int, no_shows: int) -> SampleWarehouse:
    """Host 1 of `account`: `bookings` past bookings in June 2025, the first `no_shows` missed,
    and one canceled 2 h before its start under a 24 h policy (late)."""
    raw = SampleWarehouse(synced_at="2025-06-30T18:00:00Z", account=account)
    raw.user(1, full_name=host_name, current=True)
    raw.event_type(10, owner=1, name="Intro call")
    raw.policy("user", 1, period=1440, first_seen_at="2025-01-01T00:00:00Z")
    for day in range(bookings):
        raw.event(
            host=1,
            event_type=10,
            scheduled_at=dt.datetime(2025, 6, 2 + day, 10, tzinfo=dt.UTC),
            state="no_show" if day < no_shows else "active",
        )
    raw.event(
        host=1,
        event_type=10,
        scheduled_at="2025-06-20T15:00:00Z",
        state="canceled",
        canceled_at="2025-06-20T13:00:00Z",
        canceler="invitee",
    )
    return raw


@pytest.fixture(scope="module")
def two_accounts(tmp_path_factory) -> Path:
    """north (host 1 Ada: 3 no-shows in 12) and south (host 1 Grace: 1 in 8), same ids."""
    raw = _account("north", "Ada Lovelace", NORTH_BOOKINGS, NORTH_NO_SHOWS)
    raw.include(_account("south", "Grace Hopper", SOUTH_BOOKINGS, SOUTH_NO_SHOWS))
    path = tmp_path_factory.mktemp("accounts") / "warehouse.duckdb"
    raw.build(duckdb.connect(str(path))).close()
    return path


@pytest.fixture(scope="module")
def report(two_accounts):
    con = open_warehouse(two_accounts)
    try:
        return load_report(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def printed(two_accounts) -> str:
    result = CliRunner(env={"COLUMNS": "160"}).invoke(report_command, ["--db", str(two_accounts)])
    assert result.exit_code == 0, result.output
    return result.output


def _kpi(report, metric: str) -> dict:
    [row] = report.kpis[report.kpis["metric"] == metric].to_dict("records")
    return row


def test_headline_counts_across_accounts_are_the_sums(report):
    assert report.kpis["metric"].is_unique
    assert _kpi(report, "bookings")["value"] == NORTH_BOOKINGS + SOUTH_BOOKINGS + 2
    assert _kpi(report, "past_bookings")["value"] == NORTH_BOOKINGS + SOUTH_BOOKINGS + 2


def test_headline_rates_across_accounts_are_summed_numerators_over_summed_denominators(report):
    no_show = _kpi(report, "no_show_rate")
    canceled = _kpi(report, "cancellation_rate")

    assert (no_show["numerator"], no_show["denominator"]) == (4, 20)
    assert no_show["value"] == pytest.approx(0.2)
    assert (canceled["numerator"], canceled["denominator"]) == (2, 22)
    assert canceled["value"] == pytest.approx(2 / 22)


def test_headline_interval_across_accounts_is_the_sums_wilson_interval(report):
    no_show = _kpi(report, "no_show_rate")

    assert no_show["ci_low"] == pytest.approx(0.0806577, abs=1e-6)
    assert no_show["ci_high"] == pytest.approx(0.4160174, abs=1e-6)


def test_report_prints_each_headline_figure_once_across_accounts(printed):
    headline = printed.split("Headline metrics by account")[0]
    [no_show] = [line for line in headline.splitlines() if "No-show rate " in line]

    assert "2 accounts together" in headline
    assert "20.0%" in no_show and "4 / 20" in no_show and WILSON_4_OF_20 in no_show


def test_report_prints_each_accounts_headline_figures_labelled(printed):
    by_account = printed.split("Headline metrics by account")[1].split("No-show rate by host")[0]
    no_shows = [line for line in by_account.splitlines() if "No-show rate" in line]

    assert len(no_shows) == 2
    assert "north" in no_shows[0] and "3 / 12" in no_shows[0]
    assert "south" in no_shows[1] and "1 / 8" in no_shows[1]


def test_no_show_rate_by_host_labels_each_hosts_account(report):
    hosts = report.no_show_by_host[["account", "host_full_name", "no_shows", "eligible_bookings"]]

    assert sorted(hosts.values.tolist()) == [
        ["north", "Ada Lovelace", 3, 12],
        ["south", "Grace Hopper", 1, 8],
    ]


def test_report_prints_the_account_beside_each_host(printed):
    hosts = printed.split("No-show rate by host")[1].split("Cancellations by lead time")[0]

    [ada] = [line for line in hosts.splitlines() if "Ada Lovelace" in line]
    assert "north" in ada


def test_cancellations_by_lead_time_add_up_each_bucket_across_accounts(report):
    buckets = report.cancellations_by_lead_time

    assert buckets["lead_time_bucket"].is_unique
    [late] = buckets[buckets["canceled_bookings"] > 0].to_dict("records")
    assert (late["canceled_bookings"], late["late_cancellations"]) == (2, 2)
    assert late["share_of_cancellations"] == pytest.approx(1.0)


def test_weekly_trend_has_one_row_per_week_with_every_accounts_bookings(report):
    trend = report.no_show_trend

    assert trend["week_start_local"].is_unique
    assert trend["eligible_bookings"].sum() == 20
    assert trend["no_shows"].sum() == 4


def test_html_report_shows_combined_cards_and_a_card_per_account(report):
    html = render_html(report)

    assert html.count('<div class="label">No-show rate</div>') == 1
    assert "4 / 20" in html and WILSON_4_OF_20 in html
    by_account = html.split('id="accounts"')[1].split("</section>")[0]
    assert "north" in by_account and "3 / 12" in by_account
    assert "south" in by_account and "1 / 8" in by_account


def test_one_account_reads_as_it_always_did(tmp_path):
    raw = _account("solo", "Ada Lovelace", NORTH_BOOKINGS, NORTH_NO_SHOWS)
    con = raw.build(duckdb.connect(str(tmp_path / "warehouse.duckdb")))
    try:
        data = load_report(con)
    finally:
        con.close()

    assert data.kpis_by_account.empty
    assert "account" not in data.kpis.columns
    assert "account" not in data.no_show_by_host.columns
    assert 'id="accounts"' not in render_html(data)


def test_an_account_synced_with_no_booking_yet_is_among_the_accounts(tmp_path):
    raw = _account("north", "Ada Lovelace", NORTH_BOOKINGS, NORTH_NO_SHOWS)
    empty = SampleWarehouse(synced_at="2025-06-30T18:00:00Z", account="south")
    empty.user(1, full_name="Grace Hopper", current=True)
    raw.include(empty)
    path = tmp_path / "warehouse.duckdb"
    raw.build(duckdb.connect(str(path))).close()

    con = open_warehouse(path)
    try:
        report = load_report(con)
    finally:
        con.close()

    assert report.accounts == ["north", "south"]
    south = report.kpis_by_account[report.kpis_by_account["account"] == "south"]
    assert south.set_index("metric").loc["bookings", "value"] == 0
