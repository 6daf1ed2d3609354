"""Date formats of the API, decided once.

Requests take `Y-m-d H:i:s` (PHP's format, read as UTC); list filters on dates take `Y-m-d`.
Responses use ISO 8601 with an offset (`2023-12-31T23:59:59+00:00`, as PollDTO states), but
a server may also answer in the request format, with `Z`, or with fractions of a second:
`parse_api_datetime` accepts all of them and always returns an aware UTC datetime.
"""

from __future__ import annotations

import datetime as dt
import re

REQUEST_DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
"""strftime pattern of `Y-m-d H:i:s`, the request format of scheduledAt, start and end."""

REQUEST_DATE_FORMAT = "%Y-%m-%d"
"""strftime pattern of `Y-m-d`, used by scheduledAtFrom/To and availability start/end dates."""

_REQUEST_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def parse_api_datetime(value: str | None) -> dt.datetime | None:
    """Parse a response timestamp in any form a server may send; naive values are UTC.

    >>> parse_api_datetime("2023-12-31T23:59:59+01:00").isoformat()
    '2023-12-31T22:59:59+00:00'
    >>> parse_api_datetime("2023-12-31 23:59:59").isoformat()
    '2023-12-31T23:59:59+00:00'
    """
    if value is None or value == "":
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(
            f"unrecognised timestamp {value!r}: expected ISO 8601 or Y-m-d H:i:s"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d\d)(?::(\d\d)(?:\.\d+)?)?")


def parse_time_of_day(value: str) -> dt.time:
    """A time of day as a server may spell it: `09:00`, `9:00` (PHP's `G:i`), with seconds.

    >>> parse_time_of_day("9:05").isoformat()
    '09:05:00'
    """
    found = _TIME_OF_DAY.fullmatch(value.strip())
    if found is None:
        raise ValueError(f"unrecognised time of day {value!r}: expected H:MM or HH:MM[:SS]")
    hour, minute, second = (int(part or 0) for part in found.groups())
    return dt.time(hour, minute, second)  # ValueError past 23:59:59


def parse_request_datetime(value: str) -> dt.datetime:
    """Validate a request timestamp in `Y-m-d H:i:s` and return it as aware UTC."""
    if not isinstance(value, str) or not _REQUEST_DATETIME.match(value):
        raise ValueError(f"expected a date and time as Y-m-d H:i:s, got {value!r}")
    try:
        parsed = dt.datetime.strptime(value, REQUEST_DATETIME_FORMAT)
    except ValueError as exc:
        raise ValueError(f"not a valid date and time: {value!r}") from exc
    if not dt.datetime.min + _EDGE <= parsed <= dt.datetime.max - _EDGE:
        # A booking's end and its zone's offset are a day or two either side: one at the
        # calendar's edge (a year typed wrong) failed mid-run ("date value out of range").
        raise ValueError(f"a date and time at the calendar's edge: {value!r}")
    return parsed.replace(tzinfo=dt.UTC)


_EDGE = dt.timedelta(days=2)


def format_request_datetime(value: dt.datetime) -> str:
    """Format a datetime for a request body (`Y-m-d H:i:s`, in UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC)
    return value.strftime(REQUEST_DATETIME_FORMAT)


def format_response_datetime(value: dt.datetime) -> str:
    """Format a datetime as the API answers it: ISO 8601 with offset, whole seconds, UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat()
