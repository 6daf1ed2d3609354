"""The reference path of the landing: every DTO value read and coerced in Python.

`arrow_cut` does the same work in bulk through Arrow's C++ converters and falls back here, value
by value, for whatever a server sends that its shapes refuse (an id as a string, a boolean as
0/1, a `Y-m-d H:i:s` timestamp); the two paths are tested to produce equal tables.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

import pyarrow as pa

from simplymeet.contract.arrays import as_list
from simplymeet.contract.dates import parse_api_datetime
from simplymeet.landing_schema import (
    BOOL,
    DATE,
    FLOAT,
    ID,
    MONEY,
    TEXT,
    TIMESTAMP,
    Child,
    Col,
    Path,
    Table,
)
from simplymeet.sync.ids import NUMBER as _NUMBER
from simplymeet.sync.ids import as_id
from simplymeet.sync.unknown_fields import extra_column


def read(row: dict[str, Any], col: Col) -> Any:
    """The raw value of `col` in one DTO: the first of its spellings that is present."""
    for path in col.paths:
        value = getter(path)(row)
        if value is not None:
            return value
    return None


def extract(col: Col, row: dict[str, Any]) -> Any:
    """This column's value in one DTO, coerced to its type."""
    value = read(row, col)
    if value is None:
        return None
    if col.json:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return coerce(value, col.type)


def column_array(col: Col, rows: Sequence[dict[str, Any]]) -> pa.Array:
    """This column over many DTOs as one typed Arrow array.

    Tries Arrow's converters on the raw values first (and Arrow's cast for ISO 8601
    timestamps); any value they refuse sends the whole column through `coerce`.
    """
    if col.json:
        return pa.array([extract(col, row) for row in rows], type=col.type)
    if len(col.paths) == 1:
        get = getter(col.path)
        values = [get(row) for row in rows]
    else:
        values = [read(row, col) for row in rows]
    try:
        if col.type == TIMESTAMP:
            return pa.array(values, type=TEXT).cast(TIMESTAMP)
        if col.type == MONEY:
            # Arrow's float-to-decimal cast rounds to the scale without a word: read in Python.
            raise TypeError("amounts are read one by one")
        if col.type == BOOL and any(
            isinstance(v, int) and v is not True and v is not False for v in values
        ):
            raise TypeError("integers given for a boolean")
        if col.type == ID and any(isinstance(v, bool | float) for v in values):
            # Arrow's converter reads True as 1 and truncates 30.7 to 30 without a word.
            raise TypeError("a boolean or a float where an integer belongs")
        return pa.array(values, type=col.type)
    except (
        pa.ArrowInvalid,
        pa.ArrowTypeError,
        pa.ArrowNotImplementedError,
        TypeError,
        OverflowError,
        ValueError,
    ):
        return pa.array([None if v is None else coerce(v, col.type) for v in values], type=col.type)


@functools.cache
def getter(path: Path) -> Callable[[dict[str, Any]], Any]:
    """A fast reader of `path` in a nested dict: None wherever the path breaks."""
    if len(path) == 1:
        (key,) = path
        return lambda row: row.get(key)
    if path[-1] == "id":
        return _id_of(path[:-1])
    if len(path) == 2:
        outer, inner = path

        def two(row: dict[str, Any]) -> Any:
            value = row.get(outer)
            return value.get(inner) if isinstance(value, dict) else None

        return two

    def deep(row: dict[str, Any]) -> Any:
        value: Any = row
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return deep


def _id_of(path: Path) -> Callable[[dict[str, Any]], Any]:
    """A reader of the id of the object at `path`, which may be served as that id itself: the
    reference types some references by name only (a poll's `user`), and a server that sends
    one as its id sends others so too (a tag's `user`, an organization)."""
    if not path:
        return lambda row: row.get("id")
    if len(path) == 1:
        (key,) = path
        outer: Callable[[dict[str, Any]], Any] = lambda row: row.get(key)  # noqa: E731
    else:
        outer = getter(path)

    def id_of(row: dict[str, Any]) -> Any:
        value = outer(row)
        if isinstance(value, dict):
            return value.get("id")
        return value if isinstance(value, int | float | str) else None

    return id_of


DOUBLE_DIGITS = 15
"""Significant digits a JSON number keeps exactly through an IEEE 754 double (DBL_DIG), as
which orjson, and most JSON parsers, read a number with a fraction (RFC 8259, section 6)."""
_SCALE = MONEY.scale
_WHOLE_DIGITS = MONEY.precision - MONEY.scale
_DECIMAL_COMMA = re.compile(r"([+-]?[0-9]+),([0-9]{1,2})")
"""`49,50`: a decimal comma. One or two digits after it only: `1,234` may be a thousand."""


def as_amount(value: Any) -> Decimal | None:
    """`value` as the amount it states, or None when it states none for sure.

    A JSON integer or number, a numeric string (`"7.999"`) or one with a decimal comma and one
    or two digits after it (`"49,50"`), with at most 29 digits before the point (`MONEY`).
    Decimals past the 9th are rounded off (half to even): no currency has that many (a
    satoshi is the 8th), so they are a double's noise (`0.1 + 0.2` is served
    `0.30000000000000004` by PHP), and a booking is not set aside for it. Booleans, `NaN`,
    `"1,234"`, `"abc"` are no amount.

    >>> as_amount(12.345), as_amount("49,50"), as_amount("1,234"), as_amount(0.1 + 0.2)
    (Decimal('12.345'), Decimal('49.50'), None, Decimal('0.300000000'))
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        amount = Decimal(repr(value))  # the shortest text that reads back as this double
    elif isinstance(value, str):
        parsed = _amount_text(value)
        if parsed is None:
            return None
        amount = parsed
    else:
        return None
    if not amount.is_finite():
        return None
    if not amount.is_zero() and -_trimmed(amount)[1] > _SCALE:
        amount = amount.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN, context=_WIDE)
    return amount if amount_fits(amount) else None


_QUANTUM = Decimal(1).scaleb(-_SCALE)
_WIDE = Context(prec=MONEY.precision + 2)
"""Room for every digit `MONEY` holds: the default context rounds to 28."""


def _amount_text(text: str) -> Decimal | None:
    if _NUMBER.fullmatch(text):
        return Decimal(text)
    comma = _DECIMAL_COMMA.fullmatch(text)
    if comma:
        return Decimal(f"{comma[1]}.{comma[2]}")
    return None


def amount_fits(amount: Decimal) -> bool:
    """Whether `MONEY` holds `amount` exactly: no decimal past its scale, no digit past its
    precision (trailing zeros do not count: `12.3450000000000` is 12.345)."""
    if not amount.is_finite():
        return False
    if amount.is_zero():
        return True
    digits, exponent = _trimmed(amount)
    return -exponent <= _SCALE and digits + exponent <= _WHOLE_DIGITS


def double_exact(amount: Decimal) -> bool:
    """Whether the value-by-value path, which reads a served number as a double, would read
    `amount` exactly (see `DOUBLE_DIGITS`)."""
    return _significant_digits(amount) <= DOUBLE_DIGITS


def _significant_digits(amount: Decimal) -> int:
    return 1 if amount.is_zero() else _trimmed(amount)[0]


def _trimmed(amount: Decimal) -> tuple[int, int]:
    """How many digits a finite, non-zero `amount` has without its trailing zeros, and the
    exponent of its last one. By hand: `Decimal.normalize` rounds to the context's 28 digits."""
    _sign, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # finite
    count = len(digits)
    while digits[count - 1] == 0:
        count -= 1
    exponent += len(digits) - count
    return count, exponent


def coerce(value: Any, type_: pa.DataType) -> Any:
    """One non-null DTO value as `type_`; raises ValueError for an unparseable timestamp, an
    amount `as_amount` cannot read exactly or an integer `as_id` cannot (the quarantine sets
    such a row aside)."""
    if type_ == TIMESTAMP:
        if isinstance(value, dt.datetime):
            return value
        if not isinstance(value, str):
            raise ValueError(f"expected a timestamp, got {value!r}")
        return parse_api_datetime(value)
    if type_ == MONEY:
        amount = as_amount(value)
        if amount is None:
            raise ValueError(f"expected an amount, got {value!r}")
        return amount
    if type_ == ID:  # and INT: one Arrow type, so ids and counts are read alike
        number = as_id(value)
        if number is None:
            raise ValueError(f"expected an integer, got {value!r}")
        return number
    if type_ == FLOAT:
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {value!r}") from None
    if type_ == BOOL:
        return as_bool(value)
    if type_ == TEXT:
        return (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, dict | list)
            else str(value)
        )
    if type_ == DATE:
        return dt.date.fromisoformat(str(value)[:10])
    return value


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
"""How a server may spell a boolean besides JSON's: 0/1, words, and PHP's `false` as text,
which is the empty string."""


def as_bool(value: Any) -> bool:
    """A boolean as served: JSON's, 0 or 1, or a word of `TRUE_WORDS` / `FALSE_WORDS`; raises
    ValueError for anything else (`"maybe"` read as false would land a guess)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ValueError(f"expected a boolean, got {value!r}")


def object_problem(table: Table, row: dict[str, Any], prefix: str = "") -> str | None:
    """Why `row` serves an object the landing reads fields of as something else (`"payment":
    "paid"`), or None. A reference served as its id (`"user": 5`) is an object's reading, and
    so is `[]`: PHP's `json_encode` of an empty array meant as an object (no fields)."""
    for path, takes_id in _object_paths(table):
        value: Any = row
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None or value == [] or isinstance(value, dict):
            continue
        if takes_id and as_id(value) is not None:
            continue
        return f"{prefix}{'.'.join(path)} is not an object"
    return None


@functools.cache
def _object_paths(table: Table) -> tuple[tuple[Path, bool], ...]:
    """The paths of the objects `table` reads fields of, each with whether it may be served
    as its id (a column reads its `id`)."""
    paths: dict[Path, bool] = {}
    for col in table.columns:
        if col.json or col.attached:
            continue
        for path in col.paths:
            for end in range(1, len(path)):
                inner = path[:end]
                paths[inner] = paths.get(inner, False) or path == (*inner, "id")
    return tuple(paths.items())


def child_rows(child: Child, parent: dict[str, Any], parent_id: Any) -> list[dict[str, Any]]:
    """The child's rows for one parent, each with the parent's key and its position attached.

    Raises ValueError when the list is served as something that is no list (`as_list`)."""
    value: Any = parent
    for key in child.list_path:
        value = value.get(key) if isinstance(value, dict) else None
    items = as_list(value) if value is not None else []
    if items is None:
        raise ValueError(f"{'.'.join(child.list_path)} is not a list")
    out = []
    for position, item in enumerate(items):
        row = dict(item) if isinstance(item, dict) else {child.wrap_scalars or "value": item}
        row["__parent_id"] = parent_id
        row["__position"] = position
        out.append(row)
    return out


def to_arrow(
    table: Table,
    rows: Sequence[dict[str, Any]],
    synced_at: dt.datetime,
    extra: pa.Array | None = None,
) -> pa.Table:
    """Cut `rows` (raw DTO dicts) into an Arrow table with `table`'s exact schema.

    `extra` is the `_extra` column (see `unknown_fields`); all null when not given.
    """
    arrays = [column_array(col, rows) for col in table.columns]
    if table.has_extra:
        arrays.append(extra if extra is not None else pa.nulls(len(rows), TEXT))
    arrays.append(pa.array([synced_at] * len(rows), type=TIMESTAMP))
    return pa.Table.from_arrays(arrays, schema=table.schema)


def flatten_by_value(
    table: Table, parents: Sequence[dict[str, Any]], synced_at: dt.datetime
) -> dict[str, pa.Table]:
    """`table` and its child tables from `parents`, every value read and coerced in Python.

    Raises ValueError for a value no reading takes (the quarantine then sets its row aside),
    an object served as something else among them: read through, it would land as nulls."""
    for parent in parents:
        if (why := object_problem(table, parent)) is not None:
            raise ValueError(why)
    out = {table.name: to_arrow(table, parents, synced_at, extra_column(table, parents))}
    key = table.column(table.primary_key[0])
    for child in table.children:
        rows: list[dict[str, Any]] = []
        for parent in parents:
            rows.extend(child_rows(child, parent, read(parent, key)))
        out[child.table.name] = to_arrow(
            child.table, rows, synced_at, extra_column(child.table, rows)
        )
    return out
