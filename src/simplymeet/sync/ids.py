"""Ids as the API serves them, read as integers; importable without pyarrow (the reads a
sync sends ahead, before pyarrow is imported, name event types by id)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
"""A number written as text, in the forms Arrow's decimal parser reads (`+7.5`, `.5`, `1e2`),
so a page lands the same read by `pyarrow.json` or value by value."""


def as_id(value: Any) -> int | None:
    """`value` as an integer (an id, a count, minutes), or None when it states none exactly.

    Integers, integral floats and numeric strings whose value is whole (`"30"`, `"30.00"`,
    `"3e1"`: a server that formats its integers as decimals) are read as that integer;
    booleans, fractions (`30.7`, `"30.5"`), other strings and numbers beyond BIGINT are not.

    >>> as_id("30.00"), as_id(30.0), as_id(" 42 "), as_id(30.7), as_id("abc"), as_id(True)
    (30, 30, 42, None, None, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if _INTEGER.fullmatch(text):
            number = int(text)
        elif NUMBER.fullmatch(text):
            exact = Decimal(text)
            # Beyond 18 digits before the point no BIGINT fits: judged before `int()`, which
            # would build every digit of a "1e999999999".
            if exact.adjusted() > 18 or exact != exact.to_integral_value():
                return None
            number = int(exact)
        else:
            return None
    else:
        return None
    return number if -(2**63) <= number < 2**63 else None


_INTEGER = re.compile(r"[+-]?[0-9]+")
