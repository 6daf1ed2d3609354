"""From an HTTP request to a response: routing, auth, body validation, handler, JSON.

The server (`server.py`) owns sockets and faults; this module owns API semantics and knows
nothing about connections. Routes come from the contract's `match_route`; request bodies are
validated with the endpoint's request DTO from the contract.
"""

from __future__ import annotations

import hmac
import json
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from simplymeet.contract.dtos import RequestDTO, missing_fields
from simplymeet.contract.endpoints import API_KEY_HEADER, Endpoint, endpoints_at, match_route
from simplymeet.emulator.api_errors import ApiError, Unprocessable, field_errors
from simplymeet.emulator.listing import parse_query_string
from simplymeet.emulator.render import dumps
from simplymeet.emulator.store import Store

MAX_BODY_BYTES = 10 * 1024 * 1024
_JSON_TYPE = ("Content-Type", "application/json")


@dataclass
class Response:
    """A response before it meets the socket: status, extra headers, body bytes."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: Iterator[bytes] | None = None
    """When set, the body is sent in these chunks (chunked encoding) instead of `body`."""

    @classmethod
    def json_text(cls, status: int, text: str | bytes) -> Response:
        body = text if isinstance(text, bytes) else text.encode("utf-8")
        return cls(status, body, [("Content-Type", "application/json")])

    @classmethod
    def error(cls, err: ApiError) -> Response:
        return cls.json_text(err.status, dumps(err.body()))


class Json(str):
    """A handler result that is already JSON text (the event fast path)."""


@dataclass(frozen=True)
class JsonBytes:
    """A handler result that is already JSON, encoded as UTF-8 (pages of events, ~800 KB:
    held, not subclassed, because a `bytes` subclass copies its value)."""

    body: bytes


class JsonChunks:
    """A handler result streamed as it is rendered (UTF-8 JSON): for responses too big to hold
    in memory."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks


@dataclass
class Call:
    """One API call as a handler sees it."""

    store: Store
    endpoint: Endpoint
    params: dict[str, int]
    query: dict[str, Any]
    body: Any  # the validated request DTO, or None


Handler = Callable[[Call], Any]
HANDLERS: dict[str, Handler] = {}


def handles(name: str) -> Callable[[Handler], Handler]:
    """Register a handler for the contract endpoint named `name`."""

    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


class Secret:
    """An API key that never shows itself in a repr, a log line or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def matches(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(
            candidate.encode("utf-8"), self._value.encode("utf-8")
        )

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


def route(method: str, path: str) -> tuple[Endpoint, dict[str, int]] | None:
    """The contract endpoint serving a request, if any."""
    return match_route(method, path)


def dispatch(
    store: Store,
    api_key: Secret,
    method: str,
    path: str,
    query_string: str,
    headers: dict[str, str],
    body: bytes,
) -> tuple[Response, Endpoint | None]:
    """Answer one request. Never raises: every failure becomes an error response."""
    found = route(method, path)
    if found is not None and method.upper() not in store.readings.methods(found[0]):
        found = None
    if found is None:
        allowed = [m for e in endpoints_at(path) for m in store.readings.methods(e)]
        if allowed and store.readings.wrong_method == "405":
            refused = Response.error(ApiError(405, f"{method} is not allowed on {path}"))
            refused.headers.append(("Allow", ", ".join(allowed)))
            return refused, None
        return Response.error(ApiError(404, f"no route for {method} {path}")), None
    endpoint, params = found
    reads = method in ("GET", "HEAD")
    try:
        _authorize(store, api_key, headers)
        if endpoint.name in store.readings.forbidden:
            raise ApiError(403, f"access denied to {endpoint.name}")
        if reads:
            with store.lock:
                kept = store.pages.get(endpoint.name, query_string)
            if kept is not None:
                return Response(200, kept, [_JSON_TYPE]), endpoint
        query = parse_query_string(query_string)
        dto = _body(endpoint, body)
        if store.put_mode == "strict" and method in ("PUT", "POST") and isinstance(dto, RequestDTO):
            _refuse_partial(dto)
        handler = HANDLERS.get(endpoint.name)
        if handler is None:
            raise ApiError(501, f"{endpoint.name} is not implemented by the emulator")
        with store.lock:
            try:
                result = handler(Call(store, endpoint, params, query, dto))
            finally:
                if not reads:  # whatever it changed, and even if it failed half way
                    store.pages.clear()
            if isinstance(result, JsonBytes):
                result = result.body
            if reads and isinstance(result, Json | bytes):
                response = Response.json_text(200, result)
                store.pages.put(endpoint.name, query_string, response.body)
                return response, endpoint
    except ApiError as err:
        if (
            store.readings.refusals == "200"
            and not reads
            and endpoint.response == "empty"
            and 400 <= err.status < 500
            and err.status not in (401, 403, 429)
        ):
            # "Returns empty response when the operation is successful": an answer that is
            # not empty says otherwise, under a 200.
            said = {"success": False, "message": err.message}
            return Response.json_text(200, dumps(said)), endpoint
        return Response.error(err), endpoint
    except Exception as exc:  # a bug in the emulator: answer 500 and say so, keep serving
        traceback.print_exc(file=sys.stderr)
        return Response.error(ApiError(500, f"emulator error: {type(exc).__name__}")), endpoint
    if result is None:
        return Response(204), endpoint
    if isinstance(result, Json | bytes):
        return Response.json_text(200, result), endpoint
    if isinstance(result, JsonChunks):
        return Response(200, b"", [("Content-Type", "application/json")], result.chunks), endpoint
    return Response.json_text(200, dumps(result)), endpoint


def _authorize(store: Store, api_key: Secret, headers: dict[str, str]) -> None:
    if not api_key.matches(headers.get(API_KEY_HEADER.lower())):
        raise ApiError(401, f"missing or invalid {API_KEY_HEADER} header")
    if not store.paid:
        raise ApiError(403, "the API is a feature of paid plans; upgrade to use it")


def _refuse_partial(request: RequestDTO) -> None:
    """A strict server's answer to a PUT or POST body that leaves out a field its DTO lists."""
    missing = missing_fields(request)
    if missing:
        raise Unprocessable({name: ["This value should not be missing."] for name in missing})


def put_value(store: Store, request: BaseModel, name: str, current: Any) -> Any:
    """What a PUT leaves in a field: the value the body gives; where the body gives none (left
    out or null), the current value, or null on a server that replaces (`Store.put_mode`)."""
    value = getattr(request, name)
    if value is not None:
        return value
    return None if store.put_mode == "replace" else current


def _body(endpoint: Endpoint, raw: bytes) -> BaseModel | None:
    if endpoint.body is None:
        return None
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "request body too large")
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"malformed JSON body: {exc.msg}") from None
    if isinstance(data, list) and set(endpoint.body.model_fields) >= {"ids"}:
        data = {"ids": data}  # the reference calls some id-list bodies "an array of integers"
    if not isinstance(data, dict):
        raise Unprocessable.one("body", "expected a JSON object")
    try:
        return endpoint.body.model_validate(data)
    except ValidationError as exc:
        raise Unprocessable(field_errors(exc)) from None
