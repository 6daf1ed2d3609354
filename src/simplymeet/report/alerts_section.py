"""The report's period-over-period table and its firing-alerts banner (HTML)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import duckdb
import pandas as pd

from simplymeet.alerts.evaluate import FiredAlert
from simplymeet.report.format import fmt_count, fmt_rate, fmt_ratio, is_missing

METRIC_LABELS = {
    "created": "Bookings created",
    "completed": "Completion rate",
    "rescheduled": "Reschedule rate",
    "canceled": "Cancellation rate",
    "no_show": "No-show rate",
}

CSS = """
.alerts { border-left:5px solid #dc2626; }
.alerts h2 { color:#b91c1c; }
.quiet { border-left:5px solid #16a34a; }
td.significant { font-weight:650; color:#b91c1c; }
"""


def period_over_period(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each account's latest week and month per metric, with the prior period and the test.

    The latest period of a grain is the most recent with data (it may still be running).
    Where the warehouse holds several accounts, each row carries its `account` (a z-test of
    a change does not add up across accounts).
    """
    from simplymeet.report.data import _frame, _labelled, _several_accounts

    frame = _frame(
        con,
        """
        with overall as (
            select * from analytics.kpi_period_over_period
            where breakdown = 'overall' and period_grain in ('week', 'month')
        ),
        latest as (
            select account, period_grain, metric, max(period_start_local) as period_start_local
            from overall where coalesce(denominator, numerator) > 0
            group by all
        )
        select overall.account, overall.period_grain, overall.period_start_local,
            overall.metric, overall.unit, overall.numerator, overall.denominator, overall.rate,
            overall.prior_numerator, overall.prior_rate, overall.change, overall.change_z,
            overall.is_significant_change
        from overall join latest using (account, period_grain, metric, period_start_local)
        order by overall.account, overall.period_grain desc, array_position(
            ['created', 'completed', 'rescheduled', 'canceled', 'no_show'], overall.metric)
        """,
    )
    return _labelled(frame, _several_accounts(con))


def fired_alerts_frame(fired: Sequence[FiredAlert]) -> pd.DataFrame:
    """The firing alerts as a table (one row per rule and group), for notebooks."""
    columns = list(FiredAlert.__dataclass_fields__)
    return pd.DataFrame([alert.as_dict() for alert in fired], columns=columns)


def alerts_html(fired: Sequence[FiredAlert], rules: int) -> str:
    """A card listing the firing alerts (red), or saying none fired; empty without rules."""
    if not rules:
        return ""
    if not fired:
        return (
            '<section class="card quiet" id="alerts"><h2>No alert firing</h2>'
            f'<p class="note">{rules} rule(s) checked (config.toml [[alerts]]).</p></section>'
        )
    items = "".join(
        "<tr>"
        f"<td>{escape(alert.rule)}</td><td>{escape(alert.subject)}</td>"
        f"<td>{escape(alert.period)} {escape(str(alert.period_start or ''))}</td>"
        f"<td>{escape(_value(alert.metric, alert.value))}</td>"
        f"<td>{escape(fmt_ratio(alert.numerator, alert.denominator))}</td>"
        f"<td>{escape(alert.condition)}</td>"
        "</tr>"
        for alert in fired
    )
    head = "".join(f"<th>{h}</th>" for h in ("Rule", "For", "Period", "Value", "Of", "Condition"))
    return (
        f'<section class="card alerts" id="alerts"><h2>{len(fired)} alert(s) firing</h2>'
        '<p class="note">From the [[alerts]] rules of config.toml '
        "(<code>simplymeet alerts check</code>).</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{items}</tbody></table></section>"
    )


def period_over_period_html(frame: pd.DataFrame) -> str:
    """The latest week and month against the prior ones; significant changes in red."""
    rows = []
    for record in frame.to_dict("records"):
        rate = record["unit"] == "rate"
        value = fmt_rate(record["rate"]) if rate else fmt_count(record["numerator"])
        prior = fmt_rate(record["prior_rate"]) if rate else fmt_count(record["prior_numerator"])
        change = record["change"]
        if is_missing(change):
            shown = "–"
        elif rate:
            shown = f"{float(change) * 100:+.1f} pts"
        else:
            shown = f"{float(change):+,.0f}"
        significant = bool(record["is_significant_change"])
        z = "" if is_missing(record["change_z"]) else f"{float(record['change_z']):+.2f}"
        label = METRIC_LABELS.get(record["metric"], record["metric"])
        period = f"{record['period_grain']} of {_day(record['period_start_local'])}"
        if "account" in record:
            label = f"{record['account']}: {label}"
        rows.append(
            "<tr>"
            f"<td>{escape(label)}</td>"
            f"<td>{escape(period)}</td>"
            f"<td>{escape(value)}</td><td>{escape(prior)}</td>"
            f'<td class="{"significant" if significant else ""}">{escape(shown)}</td>'
            f"<td>{escape(z)}{' ✱' if significant else ''}</td>"
            "</tr>"
        )
    if not rows:
        rows.append('<tr><td colspan="6">No data yet</td></tr>')
    head = "".join(
        f"<th>{h}</th>" for h in ("Metric", "Period", "Value", "Prior period", "Change", "z")
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _day(start: object) -> str:
    # A week or a month starts on a day: pandas hands it over as a midnight Timestamp, whose
    # text ("2026-11-30 00:00:00") reads as a moment.
    day = getattr(start, "date", None)
    return str(day() if callable(day) else start)


def _value(metric: str, value: float) -> str:
    return fmt_count(value) if metric == "created" else fmt_rate(value)
