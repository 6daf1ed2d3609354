"""The headline metrics as terminal tables (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from simplymeet.cli.console import make_console
from simplymeet.report.data import ReportData
from simplymeet.report.format import (
    fmt_count,
    fmt_interval,
    fmt_rate,
    fmt_ratio,
    fmt_text,
    fmt_value,
)


def print_report(data: ReportData, console: Console | None = None, *, top: int = 10) -> None:
    """Print KPIs, no-show by host, cancellations by lead time and utilization by host."""
    console = console or make_console()
    as_of = f" (data as of {data.as_of:%Y-%m-%d %H:%M} UTC)" if data.as_of else ""
    across = f", {len(data.accounts)} accounts together" if len(data.accounts) > 1 else ""
    table = Table(title=f"SimplyMeet headline metrics{across}{as_of}", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("numerator / denominator", justify="right")
    table.add_column("95% CI", justify="right")
    for row in data.kpis.itertuples(index=False):
        table.add_row(
            row.label,
            fmt_value(row.unit, row.value),
            fmt_ratio(row.numerator, row.denominator),
            fmt_interval(row.ci_low, row.ci_high),
        )
    console.print(table)
    if not data.kpis_by_account.empty:
        console.print(_kpis_by_account(data))

    labelled = "account" in data.no_show_by_host.columns
    hosts = Table(title="No-show rate by host (past, not-canceled bookings)", title_justify="left")
    for name, justify in (
        ("host", "left"),
        ("no-shows", "right"),
        ("bookings", "right"),
        ("rate", "right"),
        ("95% CI", "right"),
    ):
        hosts.add_column(name, justify=justify)  # type: ignore[arg-type]
    if labelled:
        hosts.add_column("account")
    for row in data.no_show_by_host.head(top).itertuples(index=False):
        hosts.add_row(
            fmt_text(row.host_full_name or row.host_user_id),
            fmt_count(row.no_shows),
            fmt_count(row.eligible_bookings),
            fmt_rate(row.no_show_rate),
            fmt_interval(row.no_show_rate_ci_low, row.no_show_rate_ci_high),
            *([fmt_text(row.account)] if labelled else []),
        )
    console.print(hosts)
    _say_cut(console, len(data.no_show_by_host), top, "most bookings")

    buckets = Table(title="Cancellations by lead time", title_justify="left")
    for name in ("lead time", "canceled", "by invitee", "by host", "late", "share"):
        buckets.add_column(name, justify="left" if name == "lead time" else "right")
    for row in data.cancellations_by_lead_time.itertuples(index=False):
        buckets.add_row(
            row.lead_time_bucket_label,
            fmt_count(row.canceled_bookings),
            fmt_count(row.canceled_by_invitee),
            fmt_count(row.canceled_by_host),
            fmt_count(row.late_cancellations),
            fmt_rate(row.share_of_cancellations),
        )
    console.print(buckets)

    # Fits 80 columns: short headers, and a long host name is cut rather than wrapping a row.
    utilization = Table(
        title="Utilization by host (past days, minutes)",
        title_justify="left",
        caption="booked*: minutes booked inside the offered time (utilization = booked* / offered)",
        caption_justify="left",
    )
    utilization.add_column("host", overflow="ellipsis", no_wrap=True, max_width=24)
    for name in ("booked*", "offered", "util."):
        utilization.add_column(name, justify="right", no_wrap=True)
    utilization.add_column("offered from (days)", no_wrap=True)
    labelled = "account" in data.utilization_by_host.columns
    if labelled:
        utilization.add_column("account", no_wrap=True)
    for row in data.utilization_by_host.head(top).itertuples(index=False):
        utilization.add_row(
            fmt_text(row.host_full_name or row.host_user_id),
            fmt_count(row.booked_in_offered_minutes),
            fmt_count(row.offered_minutes),
            fmt_rate(row.utilization),
            _sources(row.snapshot_days, row.working_hours_days, row.mixed_days),
            *([fmt_text(row.account)] if labelled else []),
        )
    console.print(utilization)
    _say_cut(console, len(data.utilization_by_host), top, "most offered time")


def _say_cut(console: Console, rows: int, top: int, first: str) -> None:
    """Say under a table that it shows only the first `top` of `rows` hosts."""
    if rows > top:
        console.print(f"{top} of {rows} hosts shown, the {first} first; --html lists all")


def _kpis_by_account(data: ReportData) -> Table:
    """Each account's headline figures, one row per account and metric."""
    table = Table(title="Headline metrics by account", title_justify="left")
    table.add_column("account")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("numerator / denominator", justify="right")
    table.add_column("95% CI", justify="right")
    for row in data.kpis_by_account.itertuples(index=False):
        table.add_row(
            fmt_text(row.account),
            row.label,
            fmt_value(row.unit, row.value),
            fmt_ratio(row.numerator, row.denominator),
            fmt_interval(row.ci_low, row.ci_high),
        )
    return table


def _sources(snapshot: int, working_hours: int, mixed: int) -> str:
    """'snapshot 3, hours 537': days whose offered time came from each source."""
    parts = []
    if snapshot:
        parts.append(f"snapshot {snapshot}")
    if working_hours:
        parts.append(f"hours {working_hours}")
    if mixed:
        parts.append(f"mixed {mixed}")
    return ", ".join(parts) or "–"
