"""The client's connection pool: an httpx transport that sends through urllib3.

httpx stays the client's interface (requests, auth, decoding, errors); only the bytes on the
wire move to urllib3, whose responses read a body with the standard library's `http.client`
(one `recv_into` per socket read). httpx's own pool parses every 64 KB of a body through h11
in Python: reading 1,000 event pages of ~800 KB each in 8 threads cost 1.2-1.7 CPU-s through
it against 0.95 here, and a 100k-event sync 15.7 CPU-s against 13.4 (medians of three fresh
processes each, alternated; `bench/README.md`, session 22).

What the client relies on is kept: nothing is retried or redirected here (a write is sent
once; `retry.py` decides), a body is read one socket read at a time (so the client's
whole-response deadline is checked between reads), and every failure is the httpx exception
that says the same thing (`http.transport_error` tells "never reached the server" from the
rest by those types).
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import httpx
import urllib3
from urllib3 import exceptions as u3
from urllib3.connection import HTTPConnection, HTTPSConnection

DEADLINE = "simplymeet.deadline"
"""A request extension: the `time.monotonic()` by which its answer must have begun, or its
connection is cut (`_Watchdog`)."""

_LATE = "the answer had not begun by the deadline"

_READ_SIZE = 1 << 20
"""At most this much a read; one socket read returns what has arrived, often less."""


class _Body(httpx.SyncByteStream):
    """A response body as it arrives, the connection back in the pool once it is all read."""

    def __init__(self, response: urllib3.BaseHTTPResponse) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        response = self._response
        while True:
            try:
                chunk = response.read1(_READ_SIZE, decode_content=False)
            except u3.HTTPError as exc:
                raise _mapped(exc) from exc
            if not chunk:
                return
            yield chunk

    def close(self) -> None:
        response = self._response
        if response.connection is not None:
            # Not read to the end (a deadline, an error): the rest of this body must not be
            # read as the next response's start, so the socket is closed, not reused.
            response.close()
        response.release_conn()


class _FinalResponse(http.client.HTTPResponse):
    """A response that reads past interim answers to the final one.

    A server or a proxy in front of it may send informational answers before the real one
    (`103 Early Hints`, `102 Processing`); RFC 9110 (15.2) asks a client to skip those it does
    not expect, and `http.client` skips `100 Continue` only, handing a 103 up as the answer
    (its body empty, the real answer left on the socket)."""

    def _read_status(self) -> tuple[str, int, str]:
        while True:
            # Private to http.client (typeshed leaves it out), and the one place that reads
            # a status line: `begin` reads its headers after.
            version, status, reason = super()._read_status()  # type: ignore[misc]
            if not 102 <= status < 200:  # 100 is http.client's own; 101 switches protocols
                return version, status, reason
            http.client.parse_headers(self.fp)


class _Connection(HTTPConnection):
    response_class = _FinalResponse


class _SecureConnection(HTTPSConnection):
    response_class = _FinalResponse


class _Tracked(urllib3.HTTPConnectionPool):
    """A pool that can cut the connections it has lent out, not only the idle ones: closing
    the client ends the reads still in flight at once, as httpx's own pool does."""

    ConnectionCls: type[HTTPConnection] = _Connection

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lent: weakref.WeakSet[HTTPConnection] = weakref.WeakSet()
        self._lent_to: dict[int, HTTPConnection] = {}
        self._lent_lock = threading.Lock()

    def _get_conn(self, timeout: float | None = None) -> HTTPConnection:
        conn: HTTPConnection = super()._get_conn(timeout)  # type: ignore[assignment]
        with self._lent_lock:
            self._lent.add(conn)
            self._lent_to[threading.get_ident()] = conn
        return conn

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            with self._lent_lock:
                self._lent.discard(conn)
                thread = threading.get_ident()
                if self._lent_to.get(thread) is conn:
                    del self._lent_to[thread]
        super()._put_conn(conn)

    def cut(self, thread: int) -> bool:
        """Shut the socket of the connection lent to `thread`, waking its read; whether
        there was one."""
        with self._lent_lock:
            conn = self._lent_to.get(thread)
        sock = conn.sock if conn is not None else None
        if sock is None:
            return False
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        return True

    def close(self) -> None:
        super().close()
        with self._lent_lock:
            lent = list(self._lent)
        for conn in lent:
            sock = conn.sock
            if sock is not None:
                # Wakes a thread blocked reading it; that thread closes it.
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class _NotConnected(Exception):
    """A new connection failed before the request could be written: TCP or TLS handshake."""


class _TrackedHTTPS(_Tracked, urllib3.HTTPSConnectionPool):
    ConnectionCls = _SecureConnection

    def _validate_conn(self, conn: Any) -> None:
        # urllib3 makes the TLS handshake here, before sending; a TLS error after this point
        # (a broken record while waiting for the answer) must not read as "never sent".
        try:
            super()._validate_conn(conn)
        except (OSError, ValueError, u3.HTTPError) as exc:
            raise _NotConnected(str(exc) or type(exc).__name__) from exc


class _Watchdog:
    """Cuts the connection of a request whose answer has not begun by its deadline.

    A read timeout bounds each socket read, so a server trickling its status line and headers
    a byte at a time would hold a request forever; the client's whole-response deadline is
    checked between reads of the body only. One thread for every request of a transport
    (started with the first deadline), not a timer each: a sync sends a thousand."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, int, _Tracked]] = []
        self._cut: set[int] = set()
        self._serial = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def watch(self, deadline: float, pool: _Tracked) -> int:
        """Cut the calling thread's connection of `pool` at `deadline`; a ticket to `done`."""
        with self._cond:
            self._serial += 1
            entry = (deadline, self._serial, threading.get_ident(), pool)
            heapq.heappush(self._due, entry)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="simplymeet-deadlines", daemon=True
                )
                self._thread.start()
            elif self._due[0] is entry:
                # Only a deadline earlier than every other one changes when the thread must
                # wake: waking it for each request cost every request a switch of threads.
                self._cond.notify()
            return self._serial

    def done(self, ticket: int) -> bool:
        """Stop watching `ticket`; whether its connection was cut."""
        with self._cond:
            self._due = [entry for entry in self._due if entry[1] != ticket]
            heapq.heapify(self._due)
            if ticket in self._cut:
                self._cut.discard(ticket)
                return True
            return False

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if not self._due:
                    self._cond.wait()
                    continue
                deadline, ticket, thread, pool = self._due[0]
                left = deadline - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                heapq.heappop(self._due)
                if pool.cut(thread):
                    self._cut.add(ticket)


class PooledTransport(httpx.BaseTransport):
    """Keep-alive connections to the API, at most `connections` kept per host.

    urllib3 checks a kept connection before reusing it and opens a new one when the server
    has closed it, before anything is sent; after that, nothing is re-sent.
    """

    def __init__(self, connections: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self.connections = connections
        self.ssl_context = ssl_context
        self._pools: dict[tuple[str, str, int | None], _Tracked] = {}
        self._lock = threading.Lock()
        self._watchdog = _Watchdog()

    def _pool(self, url: httpx.URL) -> _Tracked:
        key = (url.scheme, url.host, url.port)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                options: dict[str, Any] = {"maxsize": self.connections, "block": False}
                if url.scheme == "https":
                    pool = _TrackedHTTPS(
                        url.host, url.port, ssl_context=self.ssl_context, **options
                    )
                else:
                    pool = _Tracked(url.host, url.port, **options)
                self._pools[key] = pool
            return pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` once and return its response, the body still to be read."""
        limits = request.extensions.get("timeout", {})
        timeout = urllib3.Timeout(connect=limits.get("connect"), read=limits.get("read"))
        content = request.read()
        pool = self._pool(request.url)
        deadline = request.extensions.get(DEADLINE)
        ticket = None if deadline is None else self._watchdog.watch(deadline, pool)
        try:
            response = pool.urlopen(
                request.method,
                request.url.raw_path.decode("ascii"),
                body=content or None,
                headers=_headers(request),
                redirect=False,
                retries=False,
                assert_same_host=False,
                timeout=timeout,
                preload_content=False,
                decode_content=False,
            )
        except BaseException as exc:
            cut = ticket is not None and self._watchdog.done(ticket)
            if isinstance(exc, _NotConnected):
                raise httpx.ConnectError(str(exc)) from exc
            if isinstance(exc, u3.HTTPError):
                raise (httpx.ReadTimeout(_LATE) if cut else _mapped(exc)) from exc
            raise
        if ticket is not None and self._watchdog.done(ticket):
            # Cut mid-headers, `http.client` may still make an answer of what had come.
            response.close()
            response.release_conn()
            raise httpx.ReadTimeout(_LATE)
        return httpx.Response(
            response.status,
            headers=list(response.headers.iteritems()),
            stream=_Body(response),
            extensions={
                "http_version": b"HTTP/1.0" if response.version == 10 else b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
        )

    def close(self) -> None:
        """Close every connection, the idle ones and those still reading an answer."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        self._watchdog.close()
        for pool in pools:
            pool.close()


def _headers(request: httpx.Request) -> urllib3.HTTPHeaderDict:
    """The request's headers as httpx would send them: names in the case they were set."""
    headers = urllib3.HTTPHeaderDict()
    for name, value in request.headers.raw:
        headers.add(name.decode("latin-1"), value.decode("latin-1"))
    return headers


def _mapped(exc: u3.HTTPError) -> httpx.TransportError:
    """The httpx exception for a urllib3 failure, by what the server can have seen."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, u3.NewConnectionError):
        return httpx.ConnectError(message)  # refused, unresolvable: nothing was sent
    if isinstance(exc, u3.ConnectTimeoutError):
        return httpx.ConnectTimeout(message)
    if isinstance(exc, u3.ReadTimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(exc, u3.EmptyPoolError | u3.ClosedPoolError):
        return httpx.PoolTimeout(message)
    if isinstance(exc, u3.ProtocolError | u3.SSLError):
        # The connection broke, or spoke something other than HTTP or TLS, once it was open:
        # the request may have left.
        return httpx.RemoteProtocolError(message)
    return httpx.TransportError(message)
