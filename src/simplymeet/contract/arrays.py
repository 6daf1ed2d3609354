"""Arrays the reference types, read either way a server serves them."""

from __future__ import annotations

from typing import Any


def as_list(value: Any) -> list[Any] | None:
    """A value the reference types as an array, as the list it stands for; None when it is
    none. PHP's `json_encode` serves an array whose keys are not 0..n-1 (an item removed) as
    an object keyed by the indexes (`{"1": {...}}`, `{}` when empty): its values, in index
    order. Anything else (a string, a number, an object with other keys) is no list: its
    characters or keys would land as items."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and all(key.isdecimal() for key in value):
        return [value[key] for key in sorted(value, key=int)]
    return None
