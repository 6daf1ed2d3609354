"""The report's figures, read from the models (no metric is computed here, only selected).

With several accounts, a figure for the whole warehouse adds the accounts' rows up
(`simplymeet.report.accounts`: counts summed, rates sum(numerator) / sum(denominator)), and a
per-host or per-event-type row carries its `account`. With one account, the rows are the
models' own and carry no `account` column.
"""

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

from simplymeet.duckdb_files import refuse_another_kind_of_file
from simplymeet.models.errors import ModelsNotBuiltError, WarehouseNotFoundError
from simplymeet.report.accounts import ACCOUNT, combine, combine_kpis

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
    refuse_another_kind_of_file(chosen)
    return duckdb.connect(str(chosen), read_only=True)


def alert_rules(start: Path | None = None) -> list[AlertRule]:
    """The `[[alerts]]` rules of the project's config.toml ($SIMPLYMEET_CONFIG, else the one
    in the project folder, `resolve_warehouse_path`), as `simplymeet alerts check` reads them:
    a notebook started in `notebooks/` shows the same firing alerts. None configured: []."""
    from simplymeet.config import CONFIG_ENV, load_settings

    if os.environ.get(CONFIG_ENV):
        # Named: a file that is not there is an error, as for every command.
        return list(load_settings().alerts)
    path = resolve_warehouse_path(PROJECT_MARKER, start)
    return list(load_settings(path).alerts) if path.is_file() else []


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
    from simplymeet.models.connection import (
        OLDER_MODELS,
        dialect_of,
        missing_column,
        missing_relation,
        run_query,
    )

    try:
        cursor = run_query(con, sql, params or [])
        if dialect_of(con) == "duckdb":
            return cursor.df()
        return _typed_like_duckdb(
            pd.DataFrame(cursor.fetchall(), columns=[d[0] for d in cursor.description])
        )
    except Exception as exc:
        if missing_relation(exc):
            # The database's own words name a table the user never made: say what to do.
            raise ModelsNotBuiltError(
                "the warehouse has no models to report on; run `simplymeet models build` (or "
                "a sync without --no-models)"
            ) from exc
        if missing_column(exc):
            raise ModelsNotBuiltError(OLDER_MODELS) from exc
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


def accounts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The accounts the warehouse holds bookings of, in name order."""
    frame = _frame(con, "select distinct account from analytics.fct_events order by account")
    return [str(name) for name in frame["account"]]


def _several_accounts(con: duckdb.DuckDBPyConnection) -> bool:
    return len(accounts(con)) > 1


def _named_hosts(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every host named: a host the warehouse has no name for (a colleague who
    left, no longer served by the user list) as `user <id>`, and the bookings of no host as
    `(no host)`; a missing name reads as NaN, which no `or` falls back from."""
    if "host_full_name" not in frame.columns:
        return frame
    labels = [
        name
        if isinstance(name, str) and name.strip()
        else f"user {int(user_id)}"
        if pd.notna(user_id)
        else "(no host)"
        for name, user_id in zip(frame["host_full_name"], frame["host_user_id"], strict=True)
    ]
    return frame.assign(host_full_name=pd.Series(labels, index=frame.index, dtype=object))


def _labelled(frame: pd.DataFrame, several: bool) -> pd.DataFrame:
    """`frame` with its `account` column where there are several accounts, else without."""
    return frame if several else frame.drop(columns=[ACCOUNT], errors="ignore")


KPI_COLUMNS = (
    "metric, label, unit, value, numerator, denominator, ci_low, ci_high, definition, as_of"
)


def kpis(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """analytics.kpi_summary: one row per headline metric with numerator and denominator.

    With several accounts, each metric across them: counts summed, a rate sum(numerator) /
    sum(denominator), its interval from those sums (`kpis_by_account` has each account's).
    """
    frame = _frame(
        con,
        f"select account, {KPI_COLUMNS} from analytics.kpi_summary order by metric_order, account",
    )
    if frame["account"].nunique() > 1:
        return combine_kpis(frame)
    return frame.drop(columns=[ACCOUNT])


def kpis_by_account(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """analytics.kpi_summary per account (an `account` column first), in the model's order."""
    return _frame(
        con,
        f"select account, {KPI_COLUMNS} from analytics.kpi_summary order by account, metric_order",
    )


PERIOD_BREAKDOWNS = ("overall", "week", "month")
"""Breakdowns whose rows are the whole organization's: added up across accounts."""

NO_SHOW_COUNTS = ("past_bookings", "canceled_bookings", "eligible_bookings", "no_shows")


def no_show_rates(
    con: duckdb.DuckDBPyConnection, breakdown: str = "host", *, min_bookings: int = 1
) -> pd.DataFrame:
    """No-show rates for one breakdown (overall, host, event_type, week, month).

    With several accounts, an overall, week or month row is every account's (counts summed,
    rate and interval from the sums); a host or event type row is its account's, labelled.
    """
    several = _several_accounts(con)
    combined = several and breakdown in PERIOD_BREAKDOWNS
    order = {
        "week": "week_start_local",
        "month": "month_start_local",
    }.get(breakdown, "eligible_bookings desc")
    frame = _frame(
        con,
        "select account, breakdown, host_user_id, host_full_name, event_type_id, "
        "event_type_name, event_type_owner_user_id, event_type_owner_full_name, "
        # Event types share names across hosts: the label carries the id and the owner. A
        # type the event type list no longer serves has no name, and a booking may have no
        # type: both are named, not NULL (shown as "nan").
        "case when event_type_id is null then '(no event type)' "
        "else coalesce(nullif(trim(event_type_name), '') || ' · ', 'event type ') "
        "|| '#' || event_type_id || coalesce(' · ' || event_type_owner_full_name, '') "
        "end as event_type_label, "
        "week_start_local, month_start_local, eligible_bookings, no_shows, no_show_rate, "
        "no_show_rate_ci_low, no_show_rate_ci_high, past_bookings, canceled_bookings "
        "from analytics.no_show_rates where breakdown = ? and eligible_bookings >= ? "
        f"order by {order}, account",
        # Across accounts the threshold applies to the sums, not to each account's row.
        [breakdown, 0 if combined else min_bookings],
    )
    if not combined:
        return _labelled(_named_hosts(frame), several)
    frame = combine(
        frame,
        ["breakdown", "week_start_local", "month_start_local"],
        counts=NO_SHOW_COUNTS,
        rates={"no_show_rate": ("no_shows", "eligible_bookings")},
        intervals={
            ("no_show_rate_ci_low", "no_show_rate_ci_high"): ("no_shows", "eligible_bookings")
        },
    )
    return frame[frame["eligible_bookings"] >= min_bookings].reset_index(drop=True)


TREND_WEEKS = 26
"""Weeks the no-show trend shows (the most recent ones with past bookings)."""


def no_show_trend(con: duckdb.DuckDBPyConnection, *, weeks: int = TREND_WEEKS) -> pd.DataFrame:
    """Weekly no-show rate with its interval, for the last `weeks` weeks with past bookings."""
    frame = no_show_rates(con, "week")  # every account's weeks added up
    return frame.tail(weeks).reset_index(drop=True)


CANCELLATION_COUNTS = (
    "canceled_bookings",
    "canceled_by_invitee",
    "canceled_by_host",
    "canceled_by_unknown",
    "late_cancellations",
)


def cancellations_by_lead_time(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """analytics.cancellations_by_lead_time, every bucket in order (across every account)."""
    frame = _frame(
        con,
        "select account, lead_time_bucket, lead_time_bucket_label, canceled_bookings, "
        "canceled_by_invitee, canceled_by_host, canceled_by_unknown, late_cancellations, "
        "share_of_cancellations, late_cancellation_share "
        "from analytics.cancellations_by_lead_time order by lead_time_bucket_order, account",
    )
    if frame["account"].nunique() <= 1:
        return frame.drop(columns=[ACCOUNT])
    return combine(
        frame,
        ["lead_time_bucket"],
        counts=CANCELLATION_COUNTS,
        rates={"late_cancellation_share": ("late_cancellations", "canceled_bookings")},
        shares={"share_of_cancellations": "canceled_bookings"},
    )


def cancellation_reasons(con: duckdb.DuckDBPyConnection, *, top: int = 10) -> pd.DataFrame:
    """The most frequent cancellation reasons, by who canceled (ties by who, then reason).

    With several accounts, a reason's count is every account's, its share of every
    account's cancellations.
    """
    frame = _frame(
        con,
        "select account, canceled_by, cancellation_reason, canceled_bookings, "
        "share_of_cancellations, late_cancellations from analytics.cancellations_by_reason "
        "order by account",
    )
    if frame["account"].nunique() > 1:
        frame = combine(
            frame,
            ["canceled_by", "cancellation_reason"],
            counts=["canceled_bookings", "late_cancellations"],
            shares={"share_of_cancellations": "canceled_bookings"},
        )
    frame = frame.drop(columns=[ACCOUNT], errors="ignore")
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
    """Cancellation rates for one breakdown (overall, host, event_type, week, month).

    Rows carry their `account`; with several accounts, an overall, week or month row is
    every account's (account `all`: counts summed, rates from the sums).
    """
    frame = _frame(
        con,
        "select * from analytics.cancellation_rates where breakdown = ? "
        "order by past_bookings desc",
        [breakdown],
    )
    if breakdown not in PERIOD_BREAKDOWNS or not _several_accounts(con):
        return frame
    frame = combine(
        frame.sort_values(["week_start_local", "month_start_local"], kind="stable"),
        ["breakdown", "week_start_local", "month_start_local"],
        counts=["past_bookings", *CANCELLATION_COUNTS],
        rates={
            "cancellation_rate": ("canceled_bookings", "past_bookings"),
            "invitee_cancellation_share": ("canceled_by_invitee", "canceled_bookings"),
            "host_cancellation_share": ("canceled_by_host", "canceled_bookings"),
            "late_cancellation_share": ("late_cancellations", "canceled_bookings"),
        },
    )
    frame.insert(0, ACCOUNT, "all")
    return frame.sort_values("past_bookings", ascending=False, kind="stable").reset_index(drop=True)


def utilization_by_host(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Utilization per host over past days, with the days each source of offered time covered.

    A host is its account's (`account` labels the rows where there are several).
    """
    return _labelled(
        _frame(
            con,
            "select account, host_user_id, any_value(host_full_name) as host_full_name, "
            "sum(booked_minutes) as booked_minutes, "
            "sum(booked_in_offered_minutes) as booked_in_offered_minutes, "
            "sum(offered_minutes) as offered_minutes, "
            "sum(booked_outside_offered_minutes) as booked_outside_offered_minutes, "
            "sum(booked_in_offered_minutes) / nullif(sum(offered_minutes), 0) as utilization, "
            "count(*) filter (where offered_minutes_source = 'snapshot') as snapshot_days, "
            "count(*) filter (where offered_minutes_source = 'working_hours') "
            "as working_hours_days, "
            "count(*) filter (where offered_minutes_source = 'mixed') as mixed_days "
            "from analytics.utilization_host_daily where is_past_day "
            "group by account, host_user_id order by offered_minutes desc, account, host_user_id",
        ).pipe(_named_hosts),
        _several_accounts(con),
    )


def utilization_heatmap(con: duckdb.DuckDBPyConnection, *, top_hosts: int = 20) -> pd.DataFrame:
    """analytics.utilization_host_weekday for the hosts with the most offered time.

    A host is its account's (`account` labels the rows where there are several).
    """
    return _labelled(
        _frame(
            con,
            "with hosts as (select account, host_user_id, sum(offered_minutes) as offered "
            "from analytics.utilization_host_weekday group by account, host_user_id "
            "order by offered desc, account, host_user_id limit ?) "
            "select cells.* from analytics.utilization_host_weekday as cells "
            "join hosts using (account, host_user_id) "
            "order by hosts.offered desc, account, host_user_id, iso_weekday",
            [top_hosts],
        ).pipe(_named_hosts),
        _several_accounts(con),
    )


def time_to_cancel(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """analytics.time_to_cancel: canceled bookings by lead time, and where the time came from.

    Per account where there are several (`account` first): a median does not add up.
    """
    return _labelled(
        _frame(
            con,
            "select account, lead_time_bucket, lead_time_bucket_label, canceled_bookings, "
            "seen_in_history, first_seen_canceled, median_lead_time_minutes, "
            "share_of_cancellations, cumulative_share from analytics.time_to_cancel "
            "order by account, lead_time_bucket_order",
        ),
        _several_accounts(con),
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
    """Across every account; `kpis_by_account` has each account's rows (several only)."""
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
    accounts: list[str] = field(default_factory=list)
    kpis_by_account: pd.DataFrame = field(default_factory=pd.DataFrame)
    """kpi_summary per account where the warehouse holds several; empty with one."""


def load_report(con: duckdb.DuckDBPyConnection, rules: Sequence[AlertRule] = ()) -> ReportData:
    """Read every figure the terminal and HTML reports show; evaluate the alert `rules`."""
    from simplymeet.alerts.evaluate import evaluate_alerts
    from simplymeet.report.alerts_section import period_over_period

    summary = kpis(con)
    # An account synced with no booking yet has headline figures (0 bookings) all the same.
    headline = _frame(con, "select distinct account from analytics.kpi_summary")
    names = sorted({*accounts(con), *map(str, headline["account"])})
    as_of: Any = summary["as_of"].iloc[0] if len(summary) else None
    if isinstance(as_of, pd.Timestamp):
        as_of = as_of.to_pydatetime()
    if isinstance(as_of, dt.datetime):
        # DuckDB hands a timestamptz over in the session's zone (the machine's): the report
        # says UTC. A naive one is UTC already.
        as_of = as_of.astimezone(dt.UTC) if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC)
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
        accounts=names,
        kpis_by_account=kpis_by_account(con) if len(names) > 1 else pd.DataFrame(),
    )
