"""The text form the emulator's condition specs share: `key=value,…`, lists `|`-separated.

Faults (`faults.py`), anomalies (`anomalies.py`) and readings (`readings.py`) are each given on
the command line and in tests in this one form.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from typing import Any


def pairs(text: str, kind: str) -> Iterator[tuple[str, str]]:
    """Each `key=value` of `text`, the key lowercased and both stripped; `kind` names the spec
    in the error a part without `=` raises."""
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, raw = part.partition("=")
        if not sep:
            raise ValueError(f"expected key=value in {kind} spec, got {part!r}")
        yield key.strip().lower(), raw.strip()


def items(raw: str) -> list[str]:
    """The non-empty `|`-separated items of a value."""
    return [x.strip() for x in raw.split("|") if x.strip()]


def render(spec: Any, empty: str) -> str:
    """The text form of a spec dataclass: its fields that differ from a default spec's, sets
    `|`-joined in sorted order, pairs as `a:b` in their own order; `empty` when none differ."""
    defaults = type(spec)()
    parts = []
    for f in fields(spec):
        value = getattr(spec, f.name)
        if value != getattr(defaults, f.name):
            parts.append(f"{f.name}={_value_text(value)}")
    return ",".join(parts) or empty


def _value_text(value: Any) -> str:
    if isinstance(value, tuple) and all(isinstance(v, tuple) for v in value):
        return "|".join(":".join(map(str, pair)) for pair in value)
    if isinstance(value, frozenset | tuple):
        return "|".join(sorted(map(str, value)))
    return str(value)
