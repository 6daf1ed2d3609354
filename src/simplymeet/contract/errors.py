"""The error body shape, decided once (the reference does not document one).

The emulator answers every error as

    {"code": 422, "message": "Validation failed", "errors": {"ids": ["must not be empty"]}}

`errors` maps a field path (dots for nesting, e.g. `invitee.email`) to messages and is present
on 422 only. Clients must not rely on this exact shape: `field_errors_from_body` also reads a
list of `{field|propertyPath, message|title}` objects (Symfony's `violations`) and a bare
`{"error": "..."}`.
"""

from __future__ import annotations

from typing import Any


def error_body(code: int, message: str, errors: dict[str, list[str]] | None = None) -> dict:
    """The JSON body of an error response."""
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return body


def message_from_body(body: Any) -> str | None:
    """The server's human message in any of the shapes we accept."""
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "title"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return None


def field_errors_from_body(body: Any) -> dict[str, list[str]]:
    """Field errors from an error body, whichever common shape the server used."""
    if not isinstance(body, dict):
        return {}
    raw = body.get("errors", body.get("violations"))
    out: dict[str, list[str]] = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            out[str(key)] = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, dict):
                key = item.get("field") or item.get("propertyPath") or item.get("path") or ""
                msg = item.get("message") or item.get("title") or str(item)
                out.setdefault(str(key), []).append(str(msg))
            else:
                out.setdefault("", []).append(str(item))
    return out
