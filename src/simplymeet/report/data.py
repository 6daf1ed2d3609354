"""The report's figures, read from the models (no metric is computed here, only selected)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from simplymeet.models.errors import ModelError, WarehouseNotFoundError

if TYPE_CHECKING:
    from simplymeet.alerts.evaluate import FiredAlert
    from simplymeet.config import AlertRule

DB_ENV = "SIMPLYMEET_DB"
"""Environment variable naming the DuckDB file the notebooks open."""
PROJECT_MARKER = "config.toml"
"""The file that marks the project folder, against which relative warehouse paths resolve."""


def open_warehouse(path: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file read-only: `path`, else $SIMPLYMEET_DB, else simplymeet.duckdb.

    A relative path is read against the project folder (see `resolve_warehouse_path`), so a
    notebook kernel started in `notebooks/` opens the same file as a command run at the top.
    """
    chosen = resolve_warehouse_path(path or os.environ.get(DB_ENV) or "simplymeet.duckdb")
    if not chosen.exists():
        raise WarehouseNotFoundError(
            f"no DuckDB warehouse at {chosen} (run `simplymeet sync` first)"
        )
    return duckdb.connect(str(chosen), read_only=True)


def resolve_warehouse_path(path: str | Path, start: Path | None = None) -> Path:
    """`path` as given when absolute, else against the project folder.

    The project folder is the nearest folder at or above `start` (default: the current one)
    holding config.toml; without one, the current folder.
    """
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_MARKER).is_file():
            return folder / path
    return here / path


def _frame(con: Any, sql: str, params: list | None = None) -> pd.DataFrame:
    """The rows of a DuckDB-dialect query as a frame, from DuckDB or PostgreSQL alike."""
    from simplymeet.models.connection import dialect_of, missing_relation, run_query

    try:
        cursor = run_query(con, sql, params or [])
        if dialect_of(con) == "duckdb":
            return cursor.df()
        return _typed_like_duckdb(
            pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])
        )
    except Exception as exc:
        if missing_relation(exc):
            message = str(exc).strip().splitlines()[0]
            raise ModelError(
                f"the models are not built ({message}); run `simplymeet models build`"
            ) from exc
        raise


def _typed_like_duckdb(frame: pd.DataFrame) -> pd.DataFrame:
    """PostgreSQL's rows as DuckDB's `.df()` types them: numerics as floats, dates as dates."""
    for column in frame.columns:
        values = frame[column].dropna()
        if values.empty:
            continue
        first = values.iloc[0]
        if isinstance(first, Decimal):
            frame[column] = frame[column].astype("float64")
        elif isinstance(first, dt.date) and not isinstance(first, dt.datetime):
            frame[column] = pd.to_datetime(frame[column])
    return frame


def kpis(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """analytics.kpi_summary: one row per headline metric with numerator and denominator."""
    return _frame(
        con,
        "select metric, label, unit, value, numerator, denominator, ci_low, ci_high, "
        "definition, as_of from analytics.kpi_summary order by metric_order",
    )


def no_show_rates(
    con: duckdb.DuckDBPyConnection, breakdown: str = "host", *, min_bookings: int = 1
) -> pd.DataFrame:
    """No-show rates for one breakdown (overall, host, event_type, week, month)."""
    order = {
        "week": "week_start_local",
        "month": "month_start_local",
    }.get(breakdown, "eligible_bookings desc")
    return _frame(
        con,
        "select breakdown, host_user_id, host_full_name, event_type_id, event_type_name, "
        "event_type_owner_user_id, event_type_owner_full_name, "
        # Event types share names across hosts: the label carries the id and the owner.
        "event_type_name || ' · #' || event_type_id "
        "|| coalesce(' · ' || event_type_owner_full_name, '') as event_type_label, "
        "week_start_local, month_start_local, eligible_bookings, no_shows, no_show_rate, "
        "no_show_rate_ci_low, no_show_rate_ci_high, past_bookings, canceled_bookings "
        "from analytics.no_show_rates where breakdown = ? and eligible_bookings >= ? "
        f"order by {order}",
        [breakdown, min_bookings],
    )


TREND_WEEKS = 26
"""Weeks the no-show trend shows (the most recent ones with past bookings)."""


def no_show_trend(con: duckdb.DuckDBPyConnection, *, weeks: int = TREND_WEEKS) -> pd.DataFrame:
    """Weekly no-show rate with its interval, for the last `weeks` weeks with past bookings."""
    frame = no_show_rates(con, "week")
    return frame.tail(weeks).reset_index(drop=True)


def cancellations_by_lead_time(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """analytics.cancellations_by_lead_time, every bucket in order."""
    return _frame(
        con,
        "select lead_time_bucket, lead_time_bucket_label, canceled_bookings, "
        "canceled_by_invitee, canceled_by_host, canceled_by_unknown, late_cancellations, "
        "share_of_cancellations, late_cancellation_share "
        "from analytics.cancellations_by_lead_time order by lead_time_bucket_order",
    )


def cancellation_reasons(con: duckdb.DuckDBPyConnection, *, top: int = 10) -> pd.DataFrame:
    """The most frequent cancellation reasons, by who canceled (ties by who, then reason)."""
    frame = _frame(
        con,
        "select canceled_by, cancellation_reason, canceled_bookings, share_of_cancellations, "
        "late_cancellations from analytics.cancellations_by_reason",
    )
    # Ties at the cut are broken here, by code point: PostgreSQL's collation orders
    # '(no reason given)' and 'No longer needed' otherwise than DuckDB, and kept other rows.
    ordered = frame.sort_values(
        ["canceled_bookings", "canceled_by", "cancellation_reason"],
        ascending=[False, True, True],
        na_position="last",
        kind="stable",
    )
    return ordered.head(top).reset_index(drop=True)


def cancellation_rates(con: duckdb.DuckDBPyConnection, breakdown: str = "host") -> pd.DataFrame:
    """Cancellation rates for one breakdown (overall, host, event_type, week, month)."""
    return _frame(
        con,
        "select * from analytics.cancellation_rates where breakdown = ? "
        "order by past_bookings desc",
        [breakdown],
    )


def utilization_by_host(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Utilization per host over past days, with the days each source of offered time covered."""
    return _frame(
        con,
        "select host_user_id, any_value(host_full_name) as host_full_name, "
        "sum(booked_in_offered_minutes) as booked_in_offered_minutes, "
        "sum(offered_minutes) as offered_minutes, "
        "sum(booked_outside_offered_minutes) as booked_outside_offered_minutes, "
        "sum(booked_in_offered_minutes) / nullif(sum(offered_minutes), 0) as utilization, "
        "count(*) filter (where offered_minutes_source = 'snapshot') as snapshot_days, "
        "count(*) filter (where offered_minutes_source = 'working_hours') "
        "as working_hours_days, "
        "count(*) filter (where offered_minutes_source = 'mixed') as mixed_days "
        "from analytics.utilization_host_daily where is_past_day "
        "group by host_user_id order by offered_minutes desc",
    )


def utilization_heatmap(con: duckdb.DuckDBPyConnection, *, top_hosts: int = 20) -> pd.DataFrame:
    """analytics.utilization_host_weekday for the hosts with the most offered time."""
    return _frame(
        con,
        "with hosts as (select host_user_id, sum(offered_minutes) as offered "
        "from analytics.utilization_host_weekday group by host_user_id "
        "order by offered desc, host_user_id limit ?) "
        "select cells.* from analytics.utilization_host_weekday as cells "
        "join hosts using (host_user_id) order by hosts.offered desc, host_user_id, iso_weekday",
        [top_hosts],
    )


def time_to_cancel(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """analytics.time_to_cancel: canceled bookings by lead time, and where the time came from."""
    return _frame(
        con,
        "select lead_time_bucket, lead_time_bucket_label, canceled_bookings, seen_in_history, "
        "first_seen_canceled, median_lead_time_minutes, share_of_cancellations, "
        "cumulative_share from analytics.time_to_cancel order by lead_time_bucket_order",
    )


def reschedules_distribution(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Bookings by how often they were moved before they happened (3 or more grouped)."""
    return _frame(
        con,
        "select case when reschedules >= 3 then '3 or more' else reschedules::varchar end "
        "as reschedules, count(*) as bookings, "
        "count(*) filter (where reschedules_source = 'history') as known_from_history_only, "
        "count(*) / sum(count(*)) over () as share_of_bookings "
        "from analytics.reschedules_per_booking group by all order by min(reschedules)",
    )


@dataclass
class ReportData:
    """Everything the report shows, read once from the models."""

    as_of: dt.datetime | None
    kpis: pd.DataFrame
    no_show_trend: pd.DataFrame
    no_show_by_host: pd.DataFrame
    no_show_by_event_type: pd.DataFrame
    cancellations_by_lead_time: pd.DataFrame
    cancellation_reasons: pd.DataFrame
    utilization_by_host: pd.DataFrame
    utilization_heatmap: pd.DataFrame
    time_to_cancel: pd.DataFrame = field(default_factory=pd.DataFrame)
    reschedules: pd.DataFrame = field(default_factory=pd.DataFrame)
    period_over_period: pd.DataFrame = field(default_factory=pd.DataFrame)
    alerts: list[FiredAlert] = field(default_factory=list)
    alert_rules: int = 0


def load_report(con: duckdb.DuckDBPyConnection, rules: Sequence[AlertRule] = ()) -> ReportData:
    """Read every figure the terminal and HTML reports show; evaluate the alert `rules`."""
    from simplymeet.alerts.evaluate import evaluate_alerts
    from simplymeet.report.alerts_section import period_over_period

    summary = kpis(con)
    as_of: Any = summary["as_of"].iloc[0] if len(summary) else None
    if isinstance(as_of, pd.Timestamp):
        as_of = as_of.to_pydatetime()
    return ReportData(
        as_of=as_of,
        kpis=summary,
        no_show_trend=no_show_trend(con),
        no_show_by_host=no_show_rates(con, "host"),
        no_show_by_event_type=no_show_rates(con, "event_type"),
        cancellations_by_lead_time=cancellations_by_lead_time(con),
        cancellation_reasons=cancellation_reasons(con),
        utilization_by_host=utilization_by_host(con),
        utilization_heatmap=utilization_heatmap(con),
        time_to_cancel=time_to_cancel(con),
        reschedules=reschedules_distribution(con),
        period_over_period=period_over_period(con),
        alerts=evaluate_alerts(con, rules),
        alert_rules=len(rules),
    )
