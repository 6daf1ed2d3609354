"""The SimplyMeet API client: `SimplyMeetClient`, thread-safe.

It has one typed method per endpoint (from `operations`), a raw `call()` that returns the
parsed JSON without pydantic, and page iterators (pages fetched on a bounded thread pool).
Every request goes through one path: the rate limit, a concurrency slot, one attempt with a
whole-response deadline, then the retry policy (see `retry`), counted in `stats`.

There is no asyncio client: nothing in the project called one (the sync, the write-back and
the notebooks all use threads), and a second I/O path is a second place for every fix.

    with SimplyMeetClient(api_key="...", rate_limit=10) as client:
        me = client.current_user_get()
        for page in client.iter_pages("event_list", {"orderField": "updatedAt"}):
            load(page.items)            # parsed JSON dicts, no validation cost
    print(client.stats.summary())
"""

from __future__ import annotations

import functools
import logging
import os
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any, Self
from urllib.parse import unquote, urlsplit

import httpx
import orjson

from simplymeet import __version__
from simplymeet.client import decode, pages
from simplymeet.client.errors import (
    AuthError,
    ProtocolError,
    SimplyMeetError,
    TransportError,
    ValidationError,
)
from simplymeet.client.http import (
    KeyAuth,
    PreparedRequest,
    endpoint_named,
    prepare,
    transport_error,
)
from simplymeet.client.keygate import ThreadKeyGate
from simplymeet.client.operations import Call, Operations, SyncCaller
from simplymeet.client.pages import DEFAULT_MAX_PAGES, Page
from simplymeet.client.ratelimit import ServerHold, TokenBucket
from simplymeet.client.read_ahead import Read, ReadAhead
from simplymeet.client.retry import RetryPolicy, is_retriable
from simplymeet.client.secret import ApiKey
from simplymeet.client.stats import ClientStats
from simplymeet.client.transport import DEADLINE, PooledTransport
from simplymeet.config import (
    API_KEY_ENV,
    DEFAULT_SECRETS_PATH,
    ConfigError,
    Settings,
    check_base_url,
    read_api_key,
)
from simplymeet.contract.dtos import RequestDTO
from simplymeet.contract.endpoints import API_PREFIX, DEFAULT_BASE_URL, ENDPOINTS

log = logging.getLogger("simplymeet.client")

DEFAULT_USER_AGENT = f"simplymeet-sync/{__version__} (+httpx)"

Query = Mapping[str, Any] | RequestDTO | None
PathParams = Mapping[str, int] | None
Body = Mapping[str, Any] | RequestDTO | None


def _reason(error: SimplyMeetError) -> str:
    """A few words for the retry log line."""
    if error.status:
        return f"HTTP {error.status}"
    if isinstance(error, TransportError):
        return error.kind
    if isinstance(error, ProtocolError):
        return "body not JSON"
    return type(error).__name__


class _Deadline(Exception):
    """The whole response took longer than the client's timeout."""


def tls_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's CAs, or SSL_CERT_FILE / SSL_CERT_DIR), one per
    process for each choice of those variables.

    Building it loads every CA certificate, ~30 ms of CPU per client; an SSLContext is safe to
    share between clients and threads (several accounts, a write-back's refresh).
    """
    return _tls_context(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@functools.cache
def _tls_context(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context()


class _ClientBase(Operations):
    """Settings, request preparation and result conversion (apart from the I/O)."""

    _connect_warned = False
    """A connect failure was logged as a warning (`_repeats_a_connect_failure`)."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | ApiKey | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: float | None = None,
        rate_burst: int = 1,
        concurrency: int = 8,
        user_agent: str = DEFAULT_USER_AGENT,
        allow_insecure_http: bool = False,
    ) -> None:
        # Before the key is read: a refused URL must not depend on having a key.
        check_base_url(base_url, allow_insecure_http=allow_insecure_http)
        key = ApiKey(api_key) if api_key is not None else ApiKey.from_env()
        if key is None:
            raise AuthError(
                f"no API key: pass api_key=... or set {API_KEY_ENV}", reason="invalid_key"
            )
        if _holds_key(base_url, key):
            # Every URL the run prints or journals (warnings, dlt's trace, a failed write's
            # error) would carry the key in clear: it travels in its header only.
            raise ConfigError(
                f"[api] base_url holds the API key: give the scheme, host, port and path "
                f"only; the key comes from {API_KEY_ENV} or {DEFAULT_SECRETS_PATH}"
            )
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self._key = key
        # Every path starts with /panel/api: a base URL given with it (as the emulator's
        # banner prints it) would ask for /panel/api/panel/api/...
        self.base_url = base_url.strip().rstrip("/").removesuffix(API_PREFIX)
        self.timeout = float(timeout)
        policy = retry or RetryPolicy()
        self.retry = policy if max_retries is None else replace(policy, max_retries=max_retries)
        self.rate_limit = rate_limit
        self.rate_burst = rate_burst
        self.concurrency = concurrency
        self.user_agent = user_agent
        self.stats = ClientStats()
        self._rng = random.Random()

    @classmethod
    def from_settings(
        cls, settings: Settings, *, api_key: str | ApiKey | None = None, **options: Any
    ) -> Self:
        """The client `[api]` describes, the one way the CLI, the demo and scripts build it.

        The key is `api_key`, else $SIMPLYMEET_API_KEY, else .simplymeet/secrets.toml;
        ConfigError (exit 2) when there is none. `options` pass on (e.g. `transport=`).

            with SimplyMeetClient.from_settings(load_settings()) as client: ...
        """
        key = api_key if api_key is not None else read_api_key()
        if not key:
            raise ConfigError(
                f"no API key: set {API_KEY_ENV} or write api_key to {DEFAULT_SECRETS_PATH}"
            )
        api = settings.api
        return cls(
            api.base_url,
            key,
            timeout=api.timeout_seconds,
            max_retries=api.max_retries,
            rate_limit=api.rate_limit or None,
            concurrency=api.concurrency,
            allow_insecure_http=api.allow_insecure_http,
            **options,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={self._key!r})"

    def _http_settings(self) -> dict[str, Any]:
        return {
            "auth": KeyAuth(self._key),
            "headers": {"Accept": "application/json", "User-Agent": self.user_agent},
            "timeout": httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            # Keep-alive connections, as many as requests we let run at once.
            "limits": httpx.Limits(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            ),
            "follow_redirects": False,  # a redirect would carry the key to another URL
            "verify": tls_context(),
        }

    def _prepare(self, name: str, call: Call[Any]) -> PreparedRequest:
        return prepare(self.base_url, name, call.path_params, call.query, call.body)

    def _page_request(
        self, name: str, path_params: PathParams, query: Query, number: int, on_page: int
    ) -> PreparedRequest:
        return prepare(self.base_url, name, path_params, query, page=(number, on_page))

    def _convert(self, req: PreparedRequest, call: Call[Any], body: Any) -> Any:
        if call.result == "models":
            return decode.to_models(req.endpoint, body, req.info)
        return decode.to_result(req.endpoint, body, req.info)

    def _to_page(self, req: PreparedRequest, body: Any, number: int, raw: bool) -> Page[Any]:
        return decode.to_page(req.endpoint, body, number, req.info, models=not raw)

    def _interpret(self, req: PreparedRequest, status: int, headers: Any, content: bytes) -> Any:
        self.stats.record_response(req.info.endpoint, received=len(content))
        log.debug("%s -> %s (%d bytes)", req.info.label, status, len(content))
        content = self._key.scrub(content)
        if 200 <= status < 300:
            try:
                return decode.read_success(req.info, status, content, req.read_body)
            except SimplyMeetError as exc:
                # A body that is not what it should be is quoted: a server may echo the key.
                exc.message = self._key.redact(exc.message)
                exc.args = (exc.message, *exc.args[1:])
                raise
        text = self._key.redact(_unescaped(content))
        # Headers reach the message too (a redirect's Location): the key never does.
        said = {str(k).lower(): self._key.redact(str(v)) for k, v in headers.items()}
        raise decode.error_for_status(req.info, status, said, text, self._key.source)

    def _server_pause(self, error: SimplyMeetError, attempt: int) -> float:
        """How long a 429 holds every request of the client: its Retry-After, else this
        attempt's back-off. A Retry-After past the policy's `max_retry_after` holds nothing:
        the request gives up at once (`RetryPolicy.next_delay`), and so would the others."""
        after = getattr(error, "retry_after", None)
        if after is not None:
            return float(after) if after <= self.retry.max_retry_after else 0.0
        return self.retry.backoff(attempt, self._rng)

    def _repeats_a_connect_failure(self, error: SimplyMeetError) -> bool:
        """Whether `error` is a connect failure to a server that has not answered yet, after
        one was already logged as a warning: a server that cannot be reached fails every
        request, and a scheduler's log read dozens of retry lines before the one error."""
        gate = getattr(self, "_gate", None)
        if (
            not isinstance(error, TransportError)
            or error.reached_server
            or gate is None
            or gate.accepted
        ):
            return False
        warned, self._connect_warned = self._connect_warned, True
        return warned

    def _after_failure(self, req: PreparedRequest, error: SimplyMeetError, attempt: int) -> float:
        """Seconds to wait before retrying, or re-raise `error` when the policy says stop."""
        error.attempts = attempt
        delay = self.retry.next_delay(error, req.method, attempt, self._rng)
        if delay is None:
            self.stats.record_error(req.info.endpoint)
            # A write the policy would have sent again as a read: held back because the
            # server may have applied it. One that never reached it, or that ran out of its
            # retries, was not held back for that.
            held_back = attempt <= self.retry.max_retries and getattr(error, "reached_server", True)
            if req.endpoint.mutating and held_back and is_retriable(error, "GET"):
                error.message += (
                    f" Not retried: the server may already have applied this {req.method};"
                    " check before sending it again."
                )
            raise error
        self.stats.record_retry(req.info.endpoint)
        reason = _reason(error)
        quiet = error.status == 429 or self._repeats_a_connect_failure(error)
        level = logging.INFO if quiet else logging.WARNING
        log.log(
            level,
            "%s failed (%s); retry %d of %d in %.2fs",
            req.info.label,
            reason,
            attempt,
            self.retry.max_retries,
            delay,
        )
        return delay


class SimplyMeetClient(_ClientBase, SyncCaller):
    """Sync client; thread-safe, so page iteration runs pages on `concurrency` threads.

    client = SimplyMeetClient("http://127.0.0.1:8080", api_key="...", rate_limit=10)
    client.event_cancel(123, reason="duplicate")
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | ApiKey | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        rate_limit: float | None = None,
        rate_burst: int = 1,
        concurrency: int = 8,
        transport: httpx.BaseTransport | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        allow_insecure_http: bool = False,
    ) -> None:
        super().__init__(
            base_url,
            api_key,
            timeout=timeout,
            max_retries=max_retries,
            retry=retry,
            rate_limit=rate_limit,
            rate_burst=rate_burst,
            concurrency=concurrency,
            user_agent=user_agent,
            allow_insecure_http=allow_insecure_http,
        )
        self._http = httpx.Client(
            transport=transport or PooledTransport(concurrency, tls_context()),
            **self._http_settings(),
        )
        self._limiter = TokenBucket(rate_limit, rate_burst) if rate_limit else None
        self._hold = ServerHold()
        self._slots = threading.BoundedSemaphore(concurrency)
        self._gate = ThreadKeyGate()
        self._ahead = ReadAhead(self._send_now, concurrency)
        self._closed = False
        self._methods: dict[str, str] = {}
        """Per endpoint the reference shows with two methods, the one last answered 2xx."""

    def __enter__(self) -> SimplyMeetClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def on_response(self, hook: Callable[[httpx.Response], None]) -> Callable[[], None]:
        """Call `hook` with every response this client receives, retries included: its
        status and headers, which the calls (returning bodies) do not show. Returns what
        removes it."""
        hooks = self._http.event_hooks["response"]
        hooks.append(hook)
        return lambda: hooks.remove(hook)

    def close(self) -> None:
        """Close the pooled connections (reads ahead not yet sent are dropped)."""
        self._closed = True
        self._ahead.close()
        self._http.close()

    def read_ahead(self, reads: Iterable[Read]) -> int:
        """Send these GETs now, in the background; the call that sends the same request
        later gets the answer (or waits for it) instead of sending it again.

        For a caller that knows its first reads before it is ready to make them (the sync,
        while dlt loads). Returns how many were sent (a read already held is not resent).

            client.read_ahead([Read("user_list", on_page=100), Read("current_user_get")])
        """
        then: dict[int, Callable[[Any], Iterable[Read]]] = {}
        prepared = []
        for read in reads:
            req = (
                self._page_request(read.endpoint, read.path_params, read.query, 1, read.on_page)
                if read.on_page is not None
                else prepare(self.base_url, read.endpoint, read.path_params, read.query)
            )
            prepared.append(req)
            if read.then is not None:
                then[id(req)] = read.then

        def answered(req: PreparedRequest) -> Callable[[Any], object] | None:
            follow = then.get(id(req))
            return None if follow is None else lambda body: self.read_ahead(follow(body))

        return self._ahead.start(prepared, answered)

    @property
    def server_unreachable(self) -> bool:
        """Whether a request gave up without ever reaching the server, before any answer
        (for a while: the client sends nothing until then, `ThreadKeyGate.unreachable`)."""
        return self._gate.unreachable

    @property
    def reads_ahead_unused(self) -> int:
        """Reads sent ahead that no call has taken (yet)."""
        return self._ahead.held

    # --- the raw fast path --------------------------------------------------------------------

    def call(
        self,
        endpoint: str,
        path_params: PathParams = None,
        query: Query = None,
        body: Body = None,
        *,
        raw: bool = True,
        read_body: Callable[[bytes], Any] | None = None,
    ) -> Any:
        """Call any endpoint by its ENDPOINTS name: the raw fast path.

        Returns the parsed JSON as the server sent it (None when empty), without pydantic;
        `raw=False` gives what the typed method would (DTO, list of DTOs, Page or None).
        `read_body` reads a success body instead of the JSON parser, where it answers
        (see `decode.read_success`).

        client.call("event_get", {"id": 123})["state"]   # 'active'
        """
        req = prepare(self.base_url, endpoint, path_params, query, body)
        if read_body is not None:
            req = replace(req, read_body=read_body)
        body = self._send(req)
        return body if raw else self._convert(req, Call(), body)

    def iter_pages(
        self,
        endpoint: str,
        query: Query = None,
        *,
        path_params: PathParams = None,
        on_page: int = 100,
        raw: bool = True,
        max_pages: int = DEFAULT_MAX_PAGES,
        keep_empty: bool = False,
    ) -> Iterator[Page[Any]]:
        """Every non-empty page in order; pages after the first fetched `concurrency` at a time.

        Items are the parsed JSON dicts (the fast path), or DTOs with `raw=False`.
        `keep_empty` yields empty pages too (with their meta: an empty list's page 1 says
        the list is empty, with no second request to ask).

        for page in client.iter_pages("event_list", {"filter": {"state": "canceled"}}):
            rows.extend(page.items)
        """
        endpoint_named(endpoint)
        return pages.iter_pages(
            lambda n: self._fetch_page(endpoint, path_params, query, n, on_page, raw),
            endpoint=endpoint,
            on_page=on_page,
            window=self.concurrency,
            max_pages=max_pages,
            keep_empty=keep_empty,
            paged_by_server=_takes_pages(endpoint),
        )

    def iter_pages_sequential(
        self,
        endpoint: str,
        query: Query = None,
        *,
        path_params: PathParams = None,
        on_page: int = 100,
        raw: bool = True,
        prefetch: bool = True,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> Iterator[Page[Any]]:
        """Pages one at a time so the caller can stop early; at most one page is prefetched.

        for page in client.iter_pages_sequential("event_list", {"orderField": "updatedAt",
                                                                "orderDirection": "desc"}):
            if older_than_cursor(page): break   # nothing more is requested
        """
        endpoint_named(endpoint)
        return pages.iter_sequential(
            lambda n: self._fetch_page(endpoint, path_params, query, n, on_page, raw),
            endpoint=endpoint,
            on_page=on_page,
            prefetch=prefetch,
            max_pages=max_pages,
            paged_by_server=_takes_pages(endpoint),
        )

    def iter_items(self, endpoint: str, query: Query = None, **options: Any) -> Iterator[Any]:
        """Every item of a list, in order (see `iter_pages` for the options)."""
        for page in self.iter_pages(endpoint, query, **options):
            yield from page.items

    def _fetch_page(
        self,
        name: str,
        path_params: PathParams,
        query: Query,
        number: int,
        on_page: int,
        raw: bool,
    ) -> Page[Any]:
        req = self._page_request(name, path_params, query, number, on_page)
        try:
            body = self._send(req)
        except ValidationError:
            if number != 1 or _reference_pages(name):
                raise
            # Every list is sent `page` and `onPage`, but the reference lists no paging for
            # this one: a server refusing parameters it does not know is asked for the whole
            # list without them (a refused page after it ends the list: `pages._page_after`).
            req = prepare(self.base_url, name, path_params, query)
            body = self._send(req)
        return self._to_page(req, body, number, raw)

    # --- one request --------------------------------------------------------------------------

    def _run(self, endpoint: str, call: Call[Any]) -> Any:
        req = self._prepare(endpoint, call)
        return self._convert(req, call, self._send(req))

    def _send(self, req: PreparedRequest) -> Any:
        held = self._ahead.take(req)
        if held is not None and not held.cancelled():
            return held.result()
        return self._send_now(req)

    def _send_now(self, req: PreparedRequest) -> Any:
        name = req.endpoint.name
        if self._methods.get(name, req.method) != req.method:
            # The server took the other method before: a bulk write pays its refusal once.
            req = req.with_other_method() or req
        attempt = 0
        switched_on: SimplyMeetError | None = None
        while True:
            attempt += 1
            try:
                answer = self._gated_attempt(req)
            except SimplyMeetError as error:
                if self._closed or self._gate.unreachable:
                    # Closed meanwhile (a read ahead nobody took, cut by the close), or the
                    # server found unreachable by another request: no retry.
                    raise
                if error.status == 405 and switched_on is not None:
                    # The other method is not routed at all: the 404 the first one got was
                    # the target's own answer (a booking deleted upstream), and is the one
                    # the caller must judge.
                    raise switched_on from None
                refused = error.status == 405 or (
                    error.status == 404 and self._methods.get(name) != req.method
                )
                other = req.with_other_method() if refused else None
                if other is not None:
                    # A 405 was refused by the router, so nothing was applied: the same
                    # write with the method the reference also shows is still its first. So
                    # was a 404, from a router that matches method and path together (or
                    # for a target that is not there, which the other method says again),
                    # unless this method was taken before: then the target is not there.
                    log.info(
                        "%s answered %s; sending it as %s",
                        req.info.label,
                        error.status,
                        other.method,
                    )
                    switched_on = error if error.status == 404 else None
                    req = other
                    continue
                if error.status == 429 or (
                    error.status == 503 and getattr(error, "retry_after", None) is not None
                ):
                    # The server's pause is for every thread of the client (`ServerHold`).
                    self._hold.hold(self._server_pause(error, attempt))
                try:
                    delay = self._after_failure(req, error, attempt)
                except SimplyMeetError as final:
                    self._gate.gave_up(final)
                    raise
                self._gate.pause(delay)
                continue
            if req.endpoint.also is not None:
                self._methods[name] = req.method
            return answer

    def _gated_attempt(self, req: PreparedRequest) -> Any:
        gate = self._gate
        if not gate.accepted:
            with gate.lock:
                if not gate.accepted:
                    return self._checked_attempt(req)
        # Accepted, perhaps while this request waited its turn: the requests that queued
        # behind the first one go out together, not one at a time.
        return self._checked_attempt(req)

    def _checked_attempt(self, req: PreparedRequest) -> Any:
        self._gate.check()
        try:
            result = self._attempt(req)
        except SimplyMeetError as error:
            judged = self._gate.record(error)
            if judged is not error and judged is not None:
                raise judged from None
            raise
        self._gate.record(None)
        return result

    def _attempt(self, req: PreparedRequest) -> Any:
        self._hold.wait()
        if self._limiter is not None:
            self._limiter.acquire()
        got_headers = False
        with self._slots:
            # A pause the server asked for while this thread waited its turn (a token, a
            # connection slot) holds it too; after it, it takes its turn under the rate again,
            # and looks again: another thread's 429 may have set a new pause meanwhile.
            while self._hold.wait() and self._limiter is not None:
                self._limiter.acquire()
            self.stats.record_request(req.info.endpoint, sent=len(req.content or b""))
            deadline = time.monotonic() + self.timeout
            try:
                with self._http.stream(
                    req.method,
                    req.url,
                    content=req.content,
                    headers=req.headers,
                    extensions={DEADLINE: deadline},
                ) as response:
                    got_headers = True
                    chunks = []
                    for chunk in response.iter_bytes():
                        chunks.append(chunk)
                        # httpx's timeouts bound each read; this bounds the whole body, so a
                        # server trickling bytes cannot hold a request forever.
                        if time.monotonic() > deadline:
                            raise _Deadline(f"no complete response within {self.timeout:g}s")
            except (httpx.HTTPError, _Deadline) as exc:
                if isinstance(exc, _Deadline):
                    exc = httpx.ReadTimeout(str(exc))
                error = transport_error(req.info, exc, got_headers=got_headers)
                # The failure's text may quote what the server sent: a status line it could
                # not parse, echoing the key.
                error.message = self._key.redact(error.message)
                raise error from None
        return self._interpret(req, response.status_code, response.headers, b"".join(chunks))


def _unescaped(content: bytes) -> str:
    """An error body as text; a JSON one written again without the escapes a server may
    use (PHP writes `/` as `\\/`, some encoders every character as `\\uXXXX`), so that the
    key in it is found as its own characters and redacted."""
    try:
        return orjson.dumps(orjson.loads(content)).decode()
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return content.decode("utf-8", "replace")


def _takes_pages(endpoint: str) -> bool:
    """Whether a server may page `endpoint`'s plain array: every list is sent `page` and
    `onPage`, which a server may honour with fewer rows than asked (the users, the user tags,
    an event type's tags), so a short page that is not empty is followed by one request for
    the next. That costs an event type with tags one request more on the runs that read its
    tags; a tag list cut at a server's own page size would otherwise land short, exit 0."""
    return _reference_pages(endpoint) or ENDPOINTS[endpoint].response == "list"


def _reference_pages(endpoint: str) -> bool:
    """Whether the reference pages `endpoint` (its query DTO has `onPage`)."""
    query = ENDPOINTS[endpoint].query
    return query is not None and "onPage" in query.model_fields


def _holds_key(base_url: str, key: ApiKey) -> bool:
    """Whether `base_url`'s path holds `key` (a key pasted there), as written or
    percent-decoded (up to three times). Not runs of it, nor the host: a vendor's key may
    share a word with its host name. A key under 8 characters counts only as a whole path
    segment (`1` is in `/v1`)."""
    value = key.reveal()
    path = urlsplit(base_url).path
    for _ in range(3):
        segments = path.split("/")
        if value in segments or (len(value) >= 8 and value in path):
            return True
        path = unquote(path)
    return False
