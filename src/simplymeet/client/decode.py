"""From an HTTP response to a JSON value, a typed result or one of the client's errors.

Both readings of the reference are accepted (docs/api-notes.md): lists as `{meta, items}` or
as a plain array; empty results as 204, an empty 200, `null`, `{}` or `[]`; error bodies in
any shape `contract.errors` reads.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic

# orjson (a declared dependency) parses large pages several times faster than json.
from orjson import JSONDecodeError as _JSONDecodeError
from orjson import loads as _loads

from simplymeet.client.errors import (
    AuthError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    SimplyMeetError,
    ValidationError,
)
from simplymeet.client.pages import Page, page_from_body
from simplymeet.client.retry import parse_retry_after
from simplymeet.client.secret import DEFAULT_SOURCE, redact_url
from simplymeet.contract.endpoints import Endpoint
from simplymeet.contract.errors import field_errors_from_body, message_from_body


@dataclass(frozen=True)
class CallInfo:
    """What an error needs to say which call failed; the URL is already redacted."""

    endpoint: str
    method: str
    url: str

    def context(self, status: int | None, attempts: int = 1) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "method": self.method,
            "url": self.url,
            "status": status,
            "attempts": attempts,
        }

    @property
    def label(self) -> str:
        return f"{self.method} {self.url}"


_BOM = b"\xef\xbb\xbf"
"""UTF-8's byte order mark: a PHP source file saved with one writes it before every answer."""


def parse_json(content: bytes, info: CallInfo, status: int) -> Any:
    """The JSON value of a success body; None for an empty one."""
    content = content.removeprefix(_BOM)
    if not content.strip():
        return None
    try:
        return _loads(content)
    except (_JSONDecodeError, ValueError, UnicodeDecodeError) as exc:
        error: Exception = exc
    # orjson refuses an escaped lone surrogate (`"\ud83d"`, half an emoji cut by a server
    # that truncates text in UTF-16), which JSON's grammar allows: one such note would fail
    # every page holding it, for good. The standard library reads it.
    try:
        return _without_lone_surrogates(json.loads(content, parse_constant=_no_constant))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ProtocolError(
            f"{info.label}: HTTP {status} with a body that is not JSON "
            f"({len(content)} bytes, starting {content[:40]!r}): {error}",
            invalid_json=True,
            **info.context(status),
        ) from None


def _no_constant(name: str) -> Any:
    """`NaN`, `Infinity` and `-Infinity` are no JSON (orjson refuses them too)."""
    raise ValueError(f"{name} is not JSON")


def _without_lone_surrogates(value: Any) -> Any:
    """`value` with each half of a surrogate pair that stands alone as U+FFFD, the character
    UTF-8 (DuckDB's text, Arrow's strings) has for what it cannot hold; pairs written as
    two escapes are already one character."""
    if isinstance(value, str):
        if any("\ud800" <= char <= "\udfff" for char in value):
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value
    if isinstance(value, list):
        return [_without_lone_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {
            _without_lone_surrogates(key): _without_lone_surrogates(item)
            for key, item in value.items()
        }
    return value


def read_success(
    info: CallInfo,
    status: int,
    content: bytes,
    read_body: Callable[[bytes], Any] | None = None,
) -> Any:
    """The parsed body of a 2xx response (None when empty).

    `read_body` reads a body its own way (an event page straight into Arrow); when it
    answers None the body is parsed as JSON, with the usual errors.
    """
    if status == 204:
        return None
    content = content.removeprefix(_BOM)
    if read_body is not None and content.strip():
        read = read_body(content)
        if read is not None:
            return read
    return parse_json(content, info, status)


def error_for_status(
    info: CallInfo,
    status: int,
    headers: Mapping[str, str],
    text: str,
    key_source: str = DEFAULT_SOURCE,
) -> SimplyMeetError:
    """The error for a non-2xx response; `text` is the body, with the key already scrubbed.
    A refused key is said to be checked where it was read (`key_source`)."""
    body: Any = text[:300]
    with contextlib.suppress(_JSONDecodeError, ValueError):
        body = _loads(text) if text.strip() else None
    said = message_from_body(body)
    server = f" Server said: {said}" if said else ""
    ctx = {**info.context(status), "body": body}
    head = f"{info.label}: HTTP {status}"
    if status == 401:
        return AuthError(
            f"{head}: the API key is wrong or missing; check {key_source} "
            f"against the key on the SimplyMeet Integrations page.{server}",
            reason="invalid_key",
            **ctx,
        )
    if status == 403:
        return AuthError(
            f"{head}: the API key was accepted but the account's plan has no API access "
            f"(the API needs a paid subscription).{server}",
            reason="no_paid_plan",
            **ctx,
        )
    if status in (404, 410):
        # 410 Gone: a server that remembers what it deleted says so; to us it is not there.
        said_gone = "gone" if status == 410 else "not found"
        return NotFoundError(f"{head}: {said_gone}.{server}", **ctx)
    if status in (400, 422):
        fields = field_errors_from_body(body)
        detail = "; ".join(f"{k or '(body)'}: {', '.join(v)}" for k, v in fields.items())
        return ValidationError(
            f"{head}: the server rejected the input.{server}" + (f" [{detail}]" if detail else ""),
            field_errors=fields,
            **ctx,
        )
    retry_after = parse_retry_after(headers.get("retry-after"))
    if status == 429:
        wait = f" (Retry-After {retry_after:g}s)" if retry_after is not None else ""
        return RateLimitedError(
            f"{head}: rate limited{wait}.{server}", retry_after=retry_after, **ctx
        )
    if status >= 500:
        return ServerError(f"{head}: server error.{server}", retry_after=retry_after, **ctx)
    if 300 <= status < 400:
        # A redirect may carry credentials or a token: shown redacted, like every URL.
        where = redact_url(headers.get("location", "?"))
        return SimplyMeetError(f"{head}: unexpected redirect to {where}.{server}", **ctx)
    return SimplyMeetError(f"{head}: unexpected status.{server}", **ctx)


def endpoint_refused(error: AuthError) -> AuthError:
    """The error of a 403 from one endpoint after others accepted the key: that endpoint is
    closed to the key (a permission, an ACL rule), not the API to the account's plan."""
    said = message_from_body(error.body)
    server = f" Server said: {said}" if said else ""
    return AuthError(
        f"{error.method} {error.url}: HTTP 403: the API key was accepted by other endpoints "
        f"but may not read this one ({error.endpoint}).{server}",
        reason="endpoint_refused",
        endpoint=error.endpoint,
        method=error.method,
        url=error.url,
        status=error.status,
        attempts=error.attempts,
        body=error.body,
    )


# --- typed results ----------------------------------------------------------------------------


def to_page(
    endpoint: Endpoint, body: Any, number: int, info: CallInfo, *, models: bool = False
) -> Page[Any]:
    """A page from a list body of either shape: items as parsed JSON, or DTOs with `models`."""
    try:
        page = page_from_body(body, number, nothing_is_empty=not endpoint.response_stated)
        dto = endpoint.response_dto
        if models and dto is not None:
            page = Page(page.number, [dto.model_validate(i) for i in page.items], page.meta)
        return page
    except pydantic.ValidationError as exc:
        raise _mismatch(info, endpoint, exc) from None
    except ValueError as exc:
        raise ProtocolError(f"{info.label}: {exc}", **info.context(200)) from None


def to_result(endpoint: Endpoint, body: Any, info: CallInfo) -> Any:
    """The typed result of a call, by the endpoint's documented response shape.

    page -> Page of DTOs; list -> list of DTOs; object -> DTO (None when a mutating call
    answers empty, a list of DTOs when it answers an array, as event_create may); empty ->
    None, whatever the body.
    """
    shape = endpoint.response
    dto = endpoint.response_dto
    if shape == "empty" or dto is None:
        return None
    if shape == "page":
        return to_page(endpoint, body, 1, info, models=True)
    if shape == "list":
        return to_page(endpoint, body, 1, info, models=True).items
    if endpoint.mutating and (body is None or body == {} or isinstance(body, list)):
        return to_models(endpoint, body, info) if body else None
    if body is None or isinstance(body, list):
        what = "an empty body" if body is None else "an array"
        raise ProtocolError(
            f"{info.label}: expected a {dto.__name__} object, got {what}", **info.context(200)
        )
    try:
        return dto.model_validate(body)
    except pydantic.ValidationError as exc:
        raise _mismatch(info, endpoint, exc) from None


def _mismatch(info: CallInfo, endpoint: Endpoint, exc: pydantic.ValidationError) -> ProtocolError:
    name = endpoint.response_dto.__name__ if endpoint.response_dto else "the documented shape"
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return ProtocolError(
        f"{info.label}: body does not match {name}: {exc.error_count()} error(s), "
        f"first at {where or '(top)'}: {first.get('msg')}",
        **info.context(200),
    )


def to_models(endpoint: Endpoint, body: Any, info: CallInfo) -> list[Any]:
    """Every object of a body that may be one object or an array of them (event_create)."""
    dto = endpoint.response_dto
    if body is None or body == {} or dto is None:
        return []
    items = body if isinstance(body, list) else [body]
    try:
        return [dto.model_validate(item) for item in items]
    except pydantic.ValidationError as exc:
        raise _mismatch(info, endpoint, exc) from None
