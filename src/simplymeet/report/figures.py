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
        f"{int(late)} late" if int(total) else ""
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
    """Utilization by host (rows) and local weekday (columns), with each host's source."""
    hosts: dict[object, dict[str, object]] = {}
    for row in cells.itertuples(index=False):
        host = hosts.setdefault(
            row.host_user_id,
            {"name": row.host_full_name or f"user {row.host_user_id}", "values": {}, "src": set()},
        )
        host["values"][int(row.iso_weekday)] = _value(row.utilization)  # type: ignore[index]
        host["src"].add(row.offered_minutes_source)  # type: ignore[union-attr]
    names, values, notes = [], [], []
    for host in hosts.values():
        names.append(str(host["name"]))
        values.append([host["values"].get(day) for day in range(1, 8)])  # type: ignore[union-attr]
        sources = host["src"]
        notes.append(
            next(iter(sources)).replace("_", " ") if len(sources) == 1 else "mixed"  # type: ignore[arg-type]
        )
    return heatmap(
        names,
        WEEKDAY_LABELS,
        values,
        row_notes=notes,
        label="Utilization by host and weekday",
    )
