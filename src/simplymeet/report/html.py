"""A self-contained HTML report: inline CSS and SVG, no scripts, nothing fetched."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from contextlib import suppress
from html import escape
from pathlib import Path

import pandas as pd

from simplymeet.config import AlertRule
from simplymeet.duckdb_files import is_duckdb_file
from simplymeet.models.connection import Warehouse, connect
from simplymeet.report import alerts_section
from simplymeet.report.data import ReportData, load_report
from simplymeet.report.figures import (
    lead_time_chart,
    no_show_trend_chart,
    utilization_heatmap_chart,
)
from simplymeet.report.format import fmt_count, fmt_interval, fmt_rate, fmt_ratio, fmt_value

CSS = """
:root { --ink:#1f2937; --muted:#6b7280; --line:#e5e7eb; --bg:#f8fafc; --card:#ffffff;
        --accent:#2563eb; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif; }
header { background:linear-gradient(120deg,#1e3a8a,#2563eb); color:#fff; padding:28px 40px; }
header h1 { margin:0 0 4px; font-size:26px; font-weight:650; letter-spacing:-.01em; }
header p { margin:0; opacity:.85; }
main { max-width:1100px; margin:0 auto; padding:24px 24px 48px; }
.kpis { display:grid; grid-template-columns:repeat(auto-fill,minmax(190px,1fr)); gap:14px;
        margin-bottom:22px; }
.kpi { background:var(--card); border:1px solid var(--line); border-radius:12px;
       padding:14px 16px; box-shadow:0 1px 2px rgba(0,0,0,.04); }
.kpi .label { color:var(--muted); font-size:13px; }
.kpi .value { font-size:26px; font-weight:650; margin:2px 0; }
.kpi .detail { color:var(--muted); font-size:12px; min-height:18px; }
section.card { background:var(--card); border:1px solid var(--line); border-radius:14px;
               padding:20px 22px; margin-bottom:22px; box-shadow:0 1px 2px rgba(0,0,0,.04); }
section.card h2 { margin:0 0 4px; font-size:18px; }
section.card p.note { margin:0 0 14px; color:var(--muted); font-size:13px; }
.chart svg { max-width:100%; height:auto; display:block; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { padding:6px 10px; border-bottom:1px solid var(--line); text-align:right; }
th:first-child, td:first-child { text-align:left; }
td.ci { white-space:nowrap; }
th { color:var(--muted); font-weight:600; background:#f9fafb; }
.two { display:grid; grid-template-columns:1fr 1fr; gap:22px; }
@media (max-width: 900px) { .two { grid-template-columns:1fr; } }
dl { display:grid; grid-template-columns:220px 1fr; gap:6px 16px; font-size:13px; margin:0; }
dt { font-weight:600; } dd { margin:0; color:var(--muted); }
footer { color:var(--muted); font-size:12px; text-align:center; padding:12px; }
"""


def _table(frame: pd.DataFrame, columns: list[tuple[str, str, str]]) -> str:
    """An HTML table of `frame`: (column, heading, kind) with kind rate/count/ci/text.

    A frame with an `account` column (several accounts) gets it as its first column.
    """
    if "account" in frame.columns:
        columns = [("account", "Account", "text"), *columns]
    head = "".join(f"<th>{escape(heading)}</th>" for _, heading, _ in columns)
    rows = []
    for record in frame.to_dict("records"):
        cells = []
        for column, _, kind in columns:
            if kind == "rate":
                text = fmt_rate(record.get(column))
            elif kind == "count":
                text = fmt_count(record.get(column))
            elif kind == "ci":
                low, high = column.split("|")
                text = fmt_interval(record.get(low), record.get(high))
            else:
                value = record.get(column)
                text = "" if value is None else str(value)
            # An interval read across two lines ("[3.4%," over "17.0%]") reads as two values.
            cell = '<td class="ci">' if kind == "ci" else "<td>"
            cells.append(f"{cell}{escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        rows.append(f'<tr><td colspan="{len(columns)}">No data yet</td></tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_html(data: ReportData, *, generated_at: dt.datetime | None = None) -> str:
    """The report as one HTML document."""
    generated_at = (generated_at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    as_of = f"{data.as_of:%Y-%m-%d %H:%M} UTC" if data.as_of else "unknown"
    cards = []
    for row in data.kpis.itertuples(index=False):
        detail = " · ".join(
            part
            for part in (
                fmt_ratio(row.numerator, row.denominator),
                fmt_interval(row.ci_low, row.ci_high),
            )
            if part
        )
        cards.append(
            f'<div class="kpi" title="{escape(row.definition)}">'
            f'<div class="label">{escape(row.label)}</div>'
            f'<div class="value">{escape(fmt_value(row.unit, row.value))}</div>'
            f'<div class="detail">{escape(detail)}</div></div>'
        )
    by_account = _kpis_by_account_html(data.kpis_by_account)
    definitions = "".join(
        f"<dt>{escape(row.label)}</dt><dd>{escape(row.definition)}</dd>"
        for row in data.kpis.itertuples(index=False)
    )
    no_show_host = _table(
        data.no_show_by_host,
        [
            ("host_full_name", "Host", "text"),
            ("no_shows", "No-shows", "count"),
            ("eligible_bookings", "Bookings", "count"),
            ("no_show_rate", "Rate", "rate"),
            ("no_show_rate_ci_low|no_show_rate_ci_high", "95% CI", "ci"),
        ],
    )
    no_show_type = _table(
        data.no_show_by_event_type,
        [
            ("event_type_label", "Event type · id · owner", "text"),
            ("no_shows", "No-shows", "count"),
            ("eligible_bookings", "Bookings", "count"),
            ("no_show_rate", "Rate", "rate"),
            ("no_show_rate_ci_low|no_show_rate_ci_high", "95% CI", "ci"),
        ],
    )
    reasons = _table(
        data.cancellation_reasons,
        [
            ("cancellation_reason", "Reason", "text"),
            ("canceled_by", "By", "text"),
            ("canceled_bookings", "Canceled", "count"),
            ("share_of_cancellations", "Share", "rate"),
        ],
    )
    utilization = _table(
        data.utilization_by_host,
        [
            ("host_full_name", "Host", "text"),
            ("booked_minutes", "Booked min", "count"),
            ("booked_in_offered_minutes", "Booked in offered min", "count"),
            ("offered_minutes", "Offered min", "count"),
            ("utilization", "Utilization", "rate"),
            ("snapshot_days", "Snapshot days", "count"),
            ("working_hours_days", "Working-hours days", "count"),
            ("mixed_days", "Mixed days", "count"),
        ],
    )
    time_to_cancel = _table(
        data.time_to_cancel,
        [
            ("lead_time_bucket_label", "Before the start", "text"),
            ("canceled_bookings", "Canceled", "count"),
            ("seen_in_history", "Seen changing", "count"),
            ("share_of_cancellations", "Share", "rate"),
            ("cumulative_share", "Cumulative", "rate"),
        ],
    )
    reschedules = _table(
        data.reschedules,
        [
            ("reschedules", "Times moved", "text"),
            ("bookings", "Bookings", "count"),
            ("share_of_bookings", "Share", "rate"),
        ],
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SimplyMeet report — {escape(as_of)}</title>
<style>{CSS}{alerts_section.CSS}</style>
</head>
<body>
<header>
  <h1>SimplyMeet report</h1>
  <p>Data as of {escape(as_of)} (the latest sync) · generated {generated_at:%Y-%m-%d %H:%M} UTC</p>
</header>
<main>
{alerts_section.alerts_html(data.alerts, data.alert_rules)}
<div class="kpis">{"".join(cards)}</div>
{by_account}

<section class="card" id="no-show-trend">
  <h2>No-show rate by week, last {len(data.no_show_trend)} weeks</h2>
  <p class="note">No-shows over past bookings that were not canceled, per host-local week,
  for the {len(data.no_show_trend)} most recent weeks with past bookings; the band is the 95%
  Wilson interval, wide where a week has few bookings.</p>
  <div class="chart">{no_show_trend_chart(data.no_show_trend)}</div>
</section>

<section class="card" id="cancellations">
  <h2>Cancellations by lead time</h2>
  <p class="note">Canceled past bookings by time between cancellation and scheduled start,
  stacked by who canceled; "late" counts those inside the cancellation policy in force.</p>
  <div class="chart">{lead_time_chart(data.cancellations_by_lead_time)}</div>
</section>

<section class="card" id="utilization">
  <h2>Utilization by host and weekday</h2>
  <p class="note">Booked minutes inside offered time over offered minutes, past days, in each
  host's time zone. Offered time comes from availability snapshots where one covers the day,
  else from the working hours in config.toml; the right column says which.</p>
  <div class="chart">{utilization_heatmap_chart(data.utilization_heatmap)}</div>
</section>

<section class="card" id="period-over-period">
  <h2>This period against the last</h2>
  <p class="note">The organization's latest week and month (the current one while it runs)
  against the one before. ✱ marks a change larger than chance (two-proportion z-test,
  |z| ≥ 1.96); rates are over past bookings.</p>
  {alerts_section.period_over_period_html(data.period_over_period)}
</section>

<div class="two">
<section class="card"><h2>No-show rate by host</h2>{no_show_host}</section>
<section class="card"><h2>No-show rate by event type</h2>{no_show_type}</section>
</div>

<section class="card"><h2>Top cancellation reasons</h2>{reasons}</section>

<section class="card"><h2>Utilization by host</h2>{utilization}</section>

<section class="card" id="history">
  <h2>Booking history</h2>
  <p class="note">From every version of each booking the syncs have seen. Time to cancel:
  every canceled booking by how long before its start it was canceled ("seen changing": the
  sync saw it booked, then canceled). Reschedules: how often a booking was moved before it
  happened, from the API's reschedule list or the versions seen, whichever says more. Changes
  between two syncs are seen as their end state only.</p>
  <div class="two">
    <div><h3>Time to cancel</h3>{time_to_cancel}</div>
    <div><h3>Reschedules per booking</h3>{reschedules}</div>
  </div>
</section>

<section class="card" id="definitions">
  <h2>Definitions</h2>
  <dl>{definitions}</dl>
</section>
</main>
<footer>simplymeet-sync · metric definitions in sql/README.md</footer>
</body>
</html>
"""


def _kpis_by_account_html(kpis: pd.DataFrame) -> str:
    """A card of each account's headline figures; empty with one account."""
    if kpis.empty:
        return ""
    shown = pd.DataFrame(
        {
            "account": kpis["account"],
            "label": kpis["label"],
            "value": [fmt_value(u, v) for u, v in zip(kpis["unit"], kpis["value"], strict=True)],
            "ratio": [
                fmt_ratio(x, n) for x, n in zip(kpis["numerator"], kpis["denominator"], strict=True)
            ],
            "interval": [
                fmt_interval(lo, hi) for lo, hi in zip(kpis["ci_low"], kpis["ci_high"], strict=True)
            ],
        }
    )
    table = _table(
        shown,
        [
            ("label", "Metric", "text"),
            ("value", "Value", "text"),
            ("ratio", "Numerator / denominator", "text"),
            ("interval", "95% CI", "text"),
        ],
    )
    return (
        '<section class="card" id="accounts"><h2>By account</h2>'
        '<p class="note">The figures above are every account together: a count is the sum, '
        "a rate the sum of the numerators over the sum of the denominators. Each account's "
        f"own:</p>{table}</section>"
    )


def write_html_report(
    con_or_path: Warehouse, path: str | Path, rules: Sequence[AlertRule] = ()
) -> Path:
    """Read the models and write the HTML report to `path` (firing `rules` marked); return it."""
    with connect(con_or_path, read_only=True) as con:
        data = load_report(con, rules)
    return write_html(path, render_html(data))


class ReportPathError(ValueError):
    """The report's path names no file that can be written (a device, a folder)."""


def write_html(path: str | Path, text: str) -> Path:
    """Write `text` to `path` whole or not at all; return the path.

    The text goes to a temporary file beside `path`, synced, then renamed over it: a full
    disk or a killed process leaves any earlier report as it was, never half of a new one.
    A symbolic link is written through (the link stays); anything other than a regular file
    (a device such as /dev/full, a folder), and a file that holds something other than an
    HTML page (the warehouse itself, named by a slip of tab completion; a settings file), are
    refused before anything is written.
    """
    out = Path(path)
    target = Path(os.path.realpath(out))
    if target.exists() and not target.is_file():
        raise ReportPathError(f"{out} is not a regular file: name a file for the report")
    if target.exists() and not _replaceable(target):
        raise ReportPathError(
            f"{out} holds something other than an HTML page"
            f"{' (a DuckDB database)' if is_duckdb_file(target) else ''}: name another file for "
            "the report; it was left as it was"
        )
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private; the report gets the mode a plain write would give.
        os.chmod(partial, _mode_of(target))
        os.replace(partial, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(partial)
        raise
    return out


def _replaceable(path: Path) -> bool:
    """Whether the report may replace the file: empty, or an HTML page (text whose first
    character past a byte-order mark and white space is `<`). A DuckDB database never is,
    whatever its first bytes (a checksum: one in a few hundred starts with `<`)."""
    if is_duckdb_file(path):
        return False
    with path.open("rb") as handle:
        head = handle.read(1024)
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return not text or (text.startswith(b"<") and b"\x00" not in head)


def _mode_of(path: Path) -> int:
    """The existing file's permissions, else what a new file gets under the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
