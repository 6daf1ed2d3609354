"""How the report writes numbers (rates as percentages, counts with separators) and the
names it prints."""

from __future__ import annotations

import math
import re
from typing import Any

_LINE_BREAKS = re.compile(r"[\t\n\v\f\r\x85]+")


def is_missing(value: Any) -> bool:
    """None, NaN, pandas NA or NaT."""
    if value is None:
        return True
    try:
        return bool(value != value) or (isinstance(value, float) and math.isnan(value))
    except (TypeError, ValueError):
        return False


def fmt_rate(value: Any, digits: int = 1) -> str:
    """0.2534 -> '25.3%'."""
    return "–" if is_missing(value) else f"{float(value) * 100:.{digits}f}%"


def fmt_count(value: Any) -> str:
    """1234.0 -> '1,234'."""
    return "–" if is_missing(value) else f"{float(value):,.0f}"


def fmt_value(unit: str, value: Any) -> str:
    """A KPI value by its unit (`rate` or `count`)."""
    return fmt_rate(value) if unit == "rate" else fmt_count(value)


def fmt_interval(low: Any, high: Any) -> str:
    """'[8.9%, 53.2%]', or '' when there is no interval."""
    if is_missing(low) or is_missing(high):
        return ""
    return f"[{fmt_rate(low)}, {fmt_rate(high)}]"


def fmt_ratio(numerator: Any, denominator: Any) -> str:
    """'3 / 12', or '' for counts."""
    if is_missing(numerator) or is_missing(denominator):
        return ""
    return f"{fmt_count(numerator)} / {fmt_count(denominator)}"


def fmt_text(value: Any) -> str:
    """A name as a table cell: line breaks and tabs as one space (the console writes out any
    other control character: `cli.console`)."""
    return _LINE_BREAKS.sub(" ", str(value))
