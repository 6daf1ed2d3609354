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
import socket
import ssl
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import httpx
import urllib3
from urllib3 import exceptions as u3
from urllib3.connection import HTTPConnection

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


class _Tracked(urllib3.HTTPConnectionPool):
    """A pool that can cut the connections it has lent out, not only the idle ones: closing
    the client ends the reads still in flight at once, as httpx's own pool does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lent: weakref.WeakSet[HTTPConnection] = weakref.WeakSet()
        self._lent_lock = threading.Lock()

    def _get_conn(self, timeout: float | None = None) -> HTTPConnection:
        conn: HTTPConnection = super()._get_conn(timeout)  # type: ignore[assignment]
        with self._lent_lock:
            self._lent.add(conn)
        return conn

    def _put_conn(self, conn: Any) -> None:
        if conn is not None:
            with self._lent_lock:
                self._lent.discard(conn)
        super()._put_conn(conn)

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
    def _validate_conn(self, conn: Any) -> None:
        # urllib3 makes the TLS handshake here, before sending; a TLS error after this point
        # (a broken record while waiting for the answer) must not read as "never sent".
        try:
            super()._validate_conn(conn)
        except (OSError, ValueError, u3.HTTPError) as exc:
            raise _NotConnected(str(exc) or type(exc).__name__) from exc


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
        try:
            response = self._pool(request.url).urlopen(
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
        except _NotConnected as exc:
            raise httpx.ConnectError(str(exc)) from exc
        except u3.HTTPError as exc:
            raise _mapped(exc) from exc
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
