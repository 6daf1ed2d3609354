"""The HTTP edge shared by both clients: building a request from ENDPOINTS, the key header,
and turning httpx failures into TransportErrors that say whether the server was reached."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx
from orjson import dumps as _dumps

from simplymeet.client.decode import CallInfo
from simplymeet.client.errors import SimplyMeetError, TransportError, TransportKind
from simplymeet.client.secret import ApiKey, redact_url
from simplymeet.contract.dtos import RequestDTO
from simplymeet.contract.endpoints import API_KEY_HEADER, ENDPOINTS, Endpoint
from simplymeet.contract.query import encode_query
from simplymeet.contract.vocab import MAX_ON_PAGE


class KeyAuth(httpx.Auth):
    """Sets X-API-KEY on each request; the only place the key is revealed."""

    def __init__(self, key: ApiKey) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[API_KEY_HEADER] = self._key.reveal()
        yield request

    def __repr__(self) -> str:
        return "KeyAuth(***)"


@dataclass(frozen=True)
class PreparedRequest:
    """A request ready to send: everything but the key."""

    endpoint: Endpoint
    url: httpx.URL
    content: bytes | None
    info: CallInfo
    read_body: Callable[[bytes], Any] | None = None
    """Reads a success body in place of the JSON parser; None from it: parse it as JSON."""
    verb: str | None = None
    """The method sent when not the endpoint's own (`Endpoint.also`, after a 405 or 404)."""

    @property
    def method(self) -> str:
        return self.verb or self.endpoint.method

    def with_other_method(self) -> PreparedRequest | None:
        """The same request with the endpoint's second method, if it has one not yet tried."""
        also = self.endpoint.also
        if also is None or self.verb == also:
            return None
        return replace(self, verb=also, info=replace(self.info, method=also))

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json"} if self.content is not None else {}


def endpoint_named(name: str) -> Endpoint:
    """The contract's endpoint called `name`, or a ValueError listing close names."""
    try:
        return ENDPOINTS[name]
    except KeyError:
        close = [n for n in ENDPOINTS if n.split("_")[0] == name.split("_")[0]]
        hint = f"; did you mean one of {', '.join(close)}?" if close else ""
        raise ValueError(f"no endpoint named {name!r}{hint}") from None


def prepare(
    base_url: str,
    name: str,
    path_params: Mapping[str, int] | None = None,
    query: Mapping[str, Any] | RequestDTO | None = None,
    body: Mapping[str, Any] | RequestDTO | None = None,
    *,
    page: tuple[int, int] | None = None,
) -> PreparedRequest:
    """Build the URL and JSON body of a call to endpoint `name`, validating what we send.

    Mappings are validated through the endpoint's request DTO when the contract has one, so
    a misspelled field fails here, not as a 422 from the server. `page` is (page, onPage),
    added after validation: every list is paged, even those whose DTO has no paging fields.
    A query field that repeats a path parameter (the DTO's `path_echo`: the event type `id` of
    GetEventTypeAvailabilityRequestDTO) is sent with the path's value when not given.
    """
    endpoint = endpoint_named(name)
    path = endpoint.url_path(**(path_params or {}))
    values: dict[str, Any] = {}
    if query is not None:
        values = _payload(endpoint.query, query)
    if endpoint.query is not None:
        # A query field that repeats a path parameter is sent with its value, unless given.
        for echoed in endpoint.query.path_echo:
            if echoed in endpoint.path_params and values.get(echoed) is None:
                values = {**values, echoed: (path_params or {})[echoed]}
    if page is not None:
        number, on_page = page
        if not 1 <= on_page <= MAX_ON_PAGE:
            raise ValueError(f"on_page must be between 1 and {MAX_ON_PAGE}, got {on_page}")
        values = {**values, "page": number, "onPage": on_page}
    params = encode_query(values)
    content: bytes | None = None
    if body is not None:
        if endpoint.body is None:
            raise ValueError(f"{name} takes no request body")
        content = _dumps(_payload(endpoint.body, body, nulls=True))
    elif endpoint.body is not None and endpoint.method != "DELETE":
        # Every body field of these DTOs is optional or the DTO is empty: send `{}` rather
        # than no body so a strict JSON decoder on the server never sees an empty input.
        content = b"{}"
    url = httpx.URL(base_url + path, params=params)
    return PreparedRequest(
        endpoint, url, content, CallInfo(name, endpoint.method, redact_url(str(url)))
    )


def _payload(
    dto: type[RequestDTO] | None, value: Mapping[str, Any] | RequestDTO, *, nulls: bool = False
) -> Any:
    if isinstance(value, RequestDTO):
        return value.payload()
    if dto is not None:
        # `nulls` (bodies): a null in a mapping is one its caller put there on purpose (the
        # write-back sends a field known to be empty as null), so it is sent, not dropped.
        return dto.model_validate(dict(value)).payload(nulls=nulls)
    return dict(value)


def transport_error(info: CallInfo, exc: Exception, *, got_headers: bool) -> SimplyMeetError:
    """Map an httpx failure onto a TransportError saying whether the server saw the request."""
    kind: TransportKind
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        # Nothing was written to a server: no connection was made (or none was free).
        kind, reached, what = "connect", False, "could not connect"
    elif isinstance(exc, httpx.TimeoutException | TimeoutError):
        kind, reached, what = "timeout", True, "timed out waiting for the server"
    elif got_headers:
        kind, reached, what = "truncated", True, "the response body was cut short"
    elif isinstance(exc, httpx.TransportError):
        kind, reached, what = "dropped", True, "the connection was dropped"
    else:
        return SimplyMeetError(f"{info.label}: {type(exc).__name__}: {exc}", **info.context(None))
    detail = str(exc) or type(exc).__name__
    return TransportError(
        f"{info.label}: {what} ({detail})", kind=kind, reached_server=reached, **info.context(None)
    )


def watch_responses(client: Any, hook: Callable[[Any], None]) -> Callable[[], None] | None:
    """`client.on_response(hook)`; None for a client that offers no view of its responses
    (the observer then learns nothing, as with a server that sends no headers)."""
    on_response = getattr(client, "on_response", None)
    return on_response(hook) if callable(on_response) else None


def response_date(response: Any) -> dt.datetime | None:
    """The `Date` header of an httpx response as an aware datetime (UTC when it names no
    zone); None when it has none or it does not parse."""
    value = response.headers.get("date")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
