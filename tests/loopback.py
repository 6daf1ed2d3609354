"""A throwaway HTTP server on 127.0.0.1 for tests that need answers the emulator does not give."""

from __future__ import annotations

import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseServer
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from simplymeet.emulator import RunningEmulator


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers with `reply`."""

    def reply(self, status: int, body: bytes = b"", content_type: str | None = None) -> None:
        """Answer `status` with `body` (and its type, when given)."""
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    """A threading HTTP server that says nothing when a client hangs up mid-answer.

    Tests drop connections on purpose (a client timing out, a sync killed); socketserver's
    default prints a traceback to stderr for each, into the suite's output.
    """

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exception(), ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


# How often a serving thread looks whether it was asked to stop. socketserver's default, half
# a second, is what each `shutdown` waits on average a quarter of: ~4 of the 33 s one sync
# module took, its tests stopping a proxy each.
_STOP_POLL_SECONDS = 0.01


@contextmanager
def running(server: BaseServer) -> Iterator[None]:
    """Serve `server` from a thread for the block; stop and close it after."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": _STOP_POLL_SECONDS}, daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on a free port of 127.0.0.1 for the block; yield its base URL."""
    server = QuietServer(("127.0.0.1", 0), handler)
    with running(server):
        yield f"http://127.0.0.1:{server.server_address[1]}"


# --- a proxy in front of the emulator ----------------------------------------------------------

Pairs = list[tuple[str, str]]
Answer = Callable[[httpx.Client, str, Pairs, bytes | None, dict[str, str]], httpx.Response]
"""(upstream client, path, query pairs, body, headers) -> the response to send back; the
request's method is `headers[":method"]`."""


def served(
    up: httpx.Client, path: str, pairs: Pairs, body: bytes | None, headers: dict[str, str]
) -> httpx.Response:
    """An `Answer`: the emulator's own answer, as it was served."""
    return up.request(headers.pop(":method"), path, params=pairs, content=body, headers=headers)


class _Proxy(QuietServer):
    """A loopback server in front of the emulator, answering through `answer`."""

    def __init__(self, upstream: str, answer: Answer, interim: bytes) -> None:
        self.upstream = httpx.Client(base_url=upstream, timeout=10)
        self.answer = answer
        self.interim = interim
        super().__init__(("127.0.0.1", 0), _Forward)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _forward(self) -> None:
        server: _Proxy = self.server  # type: ignore[assignment]
        path, _, raw_query = self.path.partition("?")
        pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        headers[":method"] = self.command
        answer = server.answer(server.upstream, path, pairs, body, headers)
        self.wfile.write(server.interim)
        # The answer's own `Date` only (a test may set the server's clock by it), not a
        # second one of this proxy's.
        self.send_response_only(answer.status_code)
        if "date" not in answer.headers:
            self.send_header("Date", self.date_time_string())
        for key, value in answer.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_PUT = do_POST = do_DELETE = _forward

    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def behind(emulator: RunningEmulator, answer: Answer, interim: bytes = b"") -> Iterator[str]:
    """Base URL of the emulator seen through a proxy answering with `answer`, each answer
    preceded by the bytes `interim` (informational `1xx` answers, say)."""
    proxy = _Proxy(emulator.base_url, answer, interim)
    try:
        with running(proxy):
            yield proxy.base_url
    finally:
        proxy.upstream.close()
