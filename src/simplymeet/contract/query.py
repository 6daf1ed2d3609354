"""How list parameters travel in a query string, decided once.

The reference describes list requests as DTOs passed as "query" without saying how nested
filters and arrays are spelled. We send PHP-style brackets, which is what a PHP backend
(the `Y-m-d H:i:s` formats say it is one) parses natively:

    page=2&onPage=100&orderField=updatedAt&orderDirection=desc
    &filter[state]=canceled&filter[ids][]=1&filter[ids][]=2

Booleans are sent as `true`/`false`. When decoding (the emulator's side) we accept every
spelling a client might reasonably use: `filter[ids][]=1`, `filter[ids][0]=1`, `filter[ids]=1,2`,
and filter fields given at the top level (`state=canceled`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_KEY_PART = re.compile(r"\[([^\]]*)\]")


def encode_query(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Flatten nested params into bracketed query pairs, dropping None values.

    >>> encode_query({"page": 1, "filter": {"ids": [3, 4], "state": "canceled"}})
    [('page', '1'), ('filter[ids][]', '3'), ('filter[ids][]', '4'), ('filter[state]', 'canceled')]
    """
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        _encode_into(pairs, key, value)
    return pairs


def _encode_into(pairs: list[tuple[str, str]], key: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for sub_key, sub_value in value.items():
            _encode_into(pairs, f"{key}[{sub_key}]", sub_value)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            pairs.append((f"{key}[]", _scalar(item)))
    else:
        pairs.append((key, _scalar(value)))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def decode_query(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Rebuild nested params from bracketed pairs; repeated or `[]` keys become lists.

    >>> decode_query([("filter[ids][]", "1"), ("filter[ids][]", "2"), ("page", "3")])
    {'filter': {'ids': ['1', '2']}, 'page': '3'}
    """
    result: dict[str, Any] = {}
    for raw_key, value in pairs:
        head, _, rest = raw_key.partition("[")
        parts = [head, *_KEY_PART.findall("[" + rest)] if rest else [head]
        node: dict[str, Any] = result
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            next_is_list = not last and (parts[i + 1] == "" or parts[i + 1].isdigit())
            if last:
                _put(node, part, value)
                break
            if next_is_list:
                node.setdefault(part, [])
                existing = node[part]
                if not isinstance(existing, list):
                    existing = node[part] = [existing]
                existing.append(value)
                break
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
    return result


def _put(node: dict[str, Any], key: str, value: str) -> None:
    if key in node:
        existing = node[key]
        node[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
    else:
        node[key] = value


def as_list(value: Any) -> list[str]:
    """Read an array parameter however it was spelled: repeated, bracketed or comma-separated."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        out.extend(part.strip() for part in str(item).split(",") if part.strip())
    return out


def as_bool(value: Any) -> bool | None:
    """Read a boolean parameter: true/false, 1/0, yes/no, on/off (case-insensitive)."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected a boolean, got {value!r}")
