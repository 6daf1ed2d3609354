"""The report's three charts, drawn from the frames `simplymeet.report.data` reads."""

from __future__ import annotations

import math

import pandas as pd

from simplymeet.report.charts import (
    HOST,
    INVITEE,
    UNKNOWN,
    Svg,
    heatmap,
    line_with_band,
    stacked_bars,
)

WEEKDAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _value(value: object) -> float | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def no_show_trend_chart(trend: pd.DataFrame) -> Svg:
    """Weekly no-show rate with its 95% Wilson band (frame from `data.no_show_trend`)."""
    labels = [f"{pd.Timestamp(d):%d %b}" for d in trend.get("week_start_local", [])]
    return line_with_band(
        labels,
        [_value(v) for v in trend.get("no_show_rate", [])],
        [_value(v) for v in trend.get("no_show_rate_ci_low", [])],
        [_value(v) for v in trend.get("no_show_rate_ci_high", [])],
        label="Weekly no-show rate with 95% confidence band",
    )


def lead_time_chart(buckets: pd.DataFrame) -> Svg:
    """Cancellations per lead-time bucket, stacked by who canceled, late count on top."""
    notes = [
        f"{int(late):,} late" if int(total) else ""
        for late, total in zip(
            buckets.get("late_cancellations", []),
            buckets.get("canceled_bookings", []),
            strict=True,
        )
    ]
    return stacked_bars(
        list(buckets.get("lead_time_bucket_label", [])),
        [
            ("invitee", INVITEE, list(buckets.get("canceled_by_invitee", []))),
            ("host", HOST, list(buckets.get("canceled_by_host", []))),
            ("unknown", UNKNOWN, list(buckets.get("canceled_by_unknown", []))),
        ],
        notes=notes,
        label="Cancellations by lead time, by who canceled",
    )


def utilization_heatmap_chart(cells: pd.DataFrame) -> Svg:
    """Utilization by host (rows) and local weekday (columns), with each host's source.

    With an `account` column (several accounts), a host is its account's and named with it.
    """
    names: dict[object, str] = {}
    by_day: dict[object, dict[int, float | None]] = {}
    sources: dict[object, set[str]] = {}
    labelled = "account" in cells.columns
    for row in cells.itertuples(index=False):
        host = (row.account, row.host_user_id) if labelled else row.host_user_id
        name = str(row.host_full_name or f"user {row.host_user_id}")
        names.setdefault(host, f"{name} ({row.account})" if labelled else name)
        by_day.setdefault(host, {})[int(row.iso_weekday)] = _value(row.utilization)
        sources.setdefault(host, set()).add(str(row.offered_minutes_source))
    values = [[by_day[host].get(day) for day in range(1, 8)] for host in names]
    notes = [
        next(iter(sources[host])).replace("_", " ") if len(sources[host]) == 1 else "mixed"
        for host in names
    ]
    return heatmap(
        list(names.values()),
        WEEKDAY_LABELS,
        values,
        row_notes=notes,
        label="Utilization by host and weekday",
    )
