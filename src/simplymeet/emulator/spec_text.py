"""The text form the emulator's condition specs share: `key=value,…`, lists `|`-separated.

Faults (`faults.py`), anomalies (`anomalies.py`) and readings (`readings.py`) are each given on
the command line and in tests in this one form.
"""

from __future__ import annotations

from collections.abc import Iterator


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
