"""Figures across accounts: a count is the sum, a rate sum(numerator) / sum(denominator).

The marts are per account (sql/README.md, "Accounts"). Where the report shows one figure for
the whole warehouse, it adds the accounts' numerators and denominators here and divides again;
an interval is computed again from those sums, as the marts compute it (never averaged).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

Z_95 = 1.959963984540054
"""Two-sided 95%, as in the marts' Wilson intervals (no_show_rates.sql)."""

ACCOUNT = "account"


def wilson_interval(successes: Any, trials: Any) -> tuple[float | None, float | None]:
    """The 95% Wilson score interval of successes / trials; (None, None) without a trial."""
    if _missing(successes) or _missing(trials) or float(trials) <= 0:
        return None, None
    n = float(trials)
    p = float(successes) / n
    z2_over_n = Z_95 * Z_95 / n
    centre = p + z2_over_n / 2
    spread = Z_95 * math.sqrt(p * (1 - p) / n + z2_over_n / (4 * n))
    return (
        max(0.0, (centre - spread) / (1 + z2_over_n)),
        min(1.0, (centre + spread) / (1 + z2_over_n)),
    )


def _missing(value: Any) -> bool:
    return value is None or bool(pd.isna(value))


def _ratio(numerator: Any, denominator: Any) -> float | None:
    if _missing(numerator) or _missing(denominator) or float(denominator) == 0:
        return None
    return float(numerator) / float(denominator)


def combine(
    frame: pd.DataFrame,
    keys: Sequence[str],
    *,
    counts: Sequence[str],
    rates: Mapping[str, tuple[str, str]] = {},
    intervals: Mapping[tuple[str, str], tuple[str, str]] = {},
    shares: Mapping[str, str] = {},
) -> pd.DataFrame:
    """One row per `keys` over every account: `counts` summed, every ratio divided again.

    `rates`: rate column -> (numerator, denominator) columns; `intervals`: (low, high) ->
    (successes, trials), a Wilson interval; `shares`: share column -> count column, the
    count over the sum of that count across the result's rows. Other columns keep the
    group's first value (labels, which the accounts share for a key). Row order: the
    groups' first appearance in `frame`.
    """
    frame = frame.drop(columns=[ACCOUNT], errors="ignore")
    if frame.empty:
        return frame.reset_index(drop=True)
    grouped = frame.groupby(list(keys), dropna=False, sort=False)
    others = [c for c in frame.columns if c not in keys and c not in counts]
    summed = grouped[list(counts)].sum(min_count=1) if counts else None
    first = grouped[others].first() if others else None
    parts = [part for part in (summed, first) if part is not None]
    result = pd.concat(parts, axis=1).reset_index() if parts else grouped.size().reset_index()
    for rate, (numerator, denominator) in rates.items():
        result[rate] = [
            _ratio(x, n) for x, n in zip(result[numerator], result[denominator], strict=True)
        ]
    for (low, high), (successes, trials) in intervals.items():
        bounds = [
            wilson_interval(x, n) for x, n in zip(result[successes], result[trials], strict=True)
        ]
        result[low] = [bound[0] for bound in bounds]
        result[high] = [bound[1] for bound in bounds]
    for share, count in shares.items():
        total = result[count].sum()
        result[share] = [_ratio(value, total) for value in result[count]]
    for rate in (*rates, *shares, *(c for pair in intervals for c in pair)):
        result[rate] = result[rate].astype("float64")
    return result[list(frame.columns)]


def combine_kpis(frame: pd.DataFrame) -> pd.DataFrame:
    """kpi_summary's rows across accounts: one per metric, in the model's order.

    A count metric is the sum of the accounts' values; a rate is sum(numerator) /
    sum(denominator), with a Wilson interval from the sums where the metric has one.
    """
    frame = frame.drop(columns=[ACCOUNT], errors="ignore")
    if frame.empty:
        return frame.reset_index(drop=True)
    rows = []
    for _, group in frame.groupby("metric", sort=False):
        row = group.iloc[0].to_dict()
        if row["unit"] == "count":
            row["value"] = group["value"].sum(min_count=1)
        else:
            numerator = group["numerator"].sum(min_count=1)
            denominator = group["denominator"].sum(min_count=1)
            row["numerator"], row["denominator"] = numerator, denominator
            row["value"] = _ratio(numerator, denominator)
            has_interval = group["ci_low"].notna().any() or group["ci_high"].notna().any()
            low, high = wilson_interval(numerator, denominator) if has_interval else (None, None)
            row["ci_low"], row["ci_high"] = low, high
        rows.append(row)
    result = pd.DataFrame(rows, columns=frame.columns)
    for column in ("value", "numerator", "denominator", "ci_low", "ci_high"):
        result[column] = result[column].astype("float64")
    return result
