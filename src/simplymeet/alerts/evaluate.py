"""Evaluate `[[alerts]]` rules against the period-over-period mart of the warehouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from simplymeet.accounts import DEFAULT_ACCOUNT
from simplymeet.config import ALERT_RATE_METRICS, AlertRule, ConfigError
from simplymeet.models.connection import Connection, run_query

MART = "analytics.kpi_period_over_period"


class AlertsUnavailableError(ConfigError):
    """The warehouse has no period-over-period mart to evaluate rules against."""


@dataclass(frozen=True)
class FiredAlert:
    """One rule firing for one group (the whole organization, a host or an event type)."""

    rule: str
    condition: str
    metric: str
    breakdown: str
    subject: str
    subject_id: int | None
    period: str
    period_start: dt.date | None
    value: float
    numerator: int
    denominator: int | None
    prior_value: float | None
    change: float | None
    change_z: float | None
    account: str = DEFAULT_ACCOUNT
    """The SimplyMeet account whose bookings these are (`[[accounts]]`)."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings."""
        data = asdict(self)
        data["period_start"] = self.period_start.isoformat() if self.period_start else None
        return data


def evaluate_alerts(con: Connection, rules: Iterable[AlertRule]) -> list[FiredAlert]:
    """Every (rule, group) that fires in the latest period of the rule's grain.

    For a rate, the latest period is the most recent one with at least one booking in its
    denominator; it may still be running. For a count (`created`), it is the period the
    warehouse is current in (`as_of`), once every calendar has reached it: a period in which
    nothing was created has no row in the mart, and counts 0 for every group the last
    period with data had (a count alert exists to catch the drop to nothing). Raises
    AlertsUnavailableError when the models have not been built.
    """
    rules = list(rules)
    if not rules:
        return []
    found = run_query(
        con,
        "select count(*) from information_schema.tables "
        "where table_schema = 'analytics' and table_name = 'kpi_period_over_period'",
    ).fetchone()
    if not found or not found[0]:
        raise AlertsUnavailableError(
            f"the warehouse has no {MART} (run `simplymeet models build` or a sync first)"
        )
    accounts = run_query(con, f"select count(distinct account) from {MART}").fetchone()
    several = bool(accounts and accounts[0] > 1)
    fired: list[FiredAlert] = []
    for rule in rules:
        fired.extend(_evaluate(con, rule, several))
    return fired


_ROWS = f"""
    rows as (
        select * from {MART}
        where metric = ? and breakdown = ? and period_grain = ?
    )
"""
"""The mart's rows of one rule (its metric, breakdown and grain), as a CTE."""

_COLUMNS = """
    rows.account,
    rows.host_user_id,
    rows.host_full_name,
    rows.event_type_id,
    rows.event_type_name,
    rows.period_start_local,
    coalesce(rows.rate, rows.numerator) as value,
    rows.numerator,
    rows.denominator,
    rows.prior_rate,
    rows.prior_denominator,
    rows.change,
    rows.change_z,
    rows.is_significant_change
"""


def _evaluate(con: Connection, rule: AlertRule, several_accounts: bool) -> list[FiredAlert]:
    current = None
    if rule.metric not in ALERT_RATE_METRICS and rule.period in PERIOD_STARTS:
        current = _current_period(con, rule.period)
    if current is None:
        # Each account's latest period with something to judge (a rate's bookings).
        sql = f"""
            with {_ROWS},
            latest as (
                select account, max(period_start_local) as period_start_local from rows
                where coalesce(denominator, numerator) > 0
                group by account
            )
            select {_COLUMNS}
            from rows
            join latest
                on rows.account = latest.account
                and rows.period_start_local is not distinct from latest.period_start_local
            order by rows.account, rows.host_user_id, rows.event_type_id
        """
        params: list[Any] = [rule.metric, rule.breakdown, rule.period]
    else:
        # A count: the current period's rows, and each account's latest period before it
        # for the groups the current one has no row of (counted 0 there).
        sql = f"""
            with {_ROWS},
            latest as (
                select account, max(period_start_local) as period_start_local from rows
                where numerator > 0 and period_start_local < ?
                group by account
            )
            select {_COLUMNS}
            from rows
            left join latest
                on rows.account = latest.account
            where rows.period_start_local = ?
                or rows.period_start_local = latest.period_start_local
            order by rows.account, rows.host_user_id, rows.event_type_id
        """
        params = [rule.metric, rule.breakdown, rule.period, current, current]
    cursor = run_query(con, sql, params)
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    if current is not None:
        rows = _in_current_period(rows, current)
    return [_fired(rule, row, several_accounts) for row in rows if _fires(rule, row)]


PERIOD_STARTS = ("week", "month")
"""The grains whose current period a count is judged in."""

LATEST_OFFSET = dt.timedelta(hours=12)
"""How far the last calendar on Earth (UTC-12) is behind UTC: a period is current once it
has begun there too, so no host's count is judged in a period its calendar has not reached."""


def _current_period(con: Connection, grain: str) -> dt.date | None:
    """The first day of the period of `grain` holding the warehouse's as-of moment in every
    calendar; None without one."""
    found = run_query(con, "select as_of from analytics.int_as_of").fetchone()
    if not found or found[0] is None:
        return None
    moment = found[0]
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    day = (moment - LATEST_OFFSET).date()
    return day - dt.timedelta(days=day.weekday()) if grain == "week" else day.replace(day=1)


def _in_current_period(rows: list[dict[str, Any]], current: dt.date) -> list[dict[str, Any]]:
    """A count's rows in the `current` period: each group's row there, or, for a group with
    none (nothing created), its row of the period before counted 0 in the current one."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        group = (row["account"], row["host_user_id"], row["event_type_id"])
        start = row["period_start_local"]
        if start == current:
            # A later period (begun in a calendar ahead of UTC-12) is not current yet.
            groups[group] = row
        elif group not in groups:
            groups[group] = {
                **row,
                "period_start_local": current,
                "value": 0,
                "numerator": 0,
                "denominator": None,
                "prior_rate": None,
                "prior_denominator": None,
                "change": None,
                "change_z": None,
                "is_significant_change": None,
            }
    return list(groups.values())


def _fires(rule: AlertRule, row: dict[str, Any]) -> bool:
    is_rate = rule.metric in ALERT_RATE_METRICS
    if is_rate and (row["denominator"] or 0) < rule.min_sample_size:
        return False
    if row["value"] is None:
        return False
    if rule.significant_change:
        # Both periods need the sample: a large week after a 3-booking week is still noise.
        if (row["prior_denominator"] or 0) < rule.min_sample_size:
            return False
        if not row["is_significant_change"]:
            return False
        up = (row["change"] or 0) > 0
        return rule.significant_change == "any" or (rule.significant_change == "up") == up
    if rule.above is not None and row["value"] > rule.above:
        return True
    return rule.below is not None and row["value"] < rule.below


def _condition(rule: AlertRule) -> str:
    if rule.significant_change:
        return f"significant change ({rule.significant_change}) vs prior {rule.period}"
    parts = []
    if rule.above is not None:
        parts.append(f"above {rule.above:g}")
    if rule.below is not None:
        parts.append(f"below {rule.below:g}")
    return " or ".join(parts)


def _fired(rule: AlertRule, row: dict[str, Any], several_accounts: bool) -> FiredAlert:
    if rule.breakdown == "host":
        subject_id = row["host_user_id"]
        subject = row["host_full_name"] or f"host {subject_id}"
    elif rule.breakdown == "event_type":
        subject_id = row["event_type_id"]
        subject = row["event_type_name"] or f"event type {subject_id}"
    else:
        subject_id, subject = None, "overall"
    if several_accounts:
        # The same host id, or "overall", exists in each account: name whose it is.
        subject = f"{row['account']}: {subject}"
    return FiredAlert(
        rule=rule.name,
        condition=_condition(rule),
        metric=rule.metric,
        breakdown=rule.breakdown,
        subject=subject,
        subject_id=subject_id,
        period=rule.period,
        period_start=row["period_start_local"],
        value=float(row["value"]),
        numerator=int(row["numerator"]),
        denominator=None if row["denominator"] is None else int(row["denominator"]),
        prior_value=row["prior_rate"],
        change=row["change"],
        change_z=row["change_z"],
        account=row["account"],
    )
