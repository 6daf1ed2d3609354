"""The HTTP/1.1 server: asyncio streams and h11, so faults can act on the socket itself.

Each connection is a task serving requests one after another (keep-alive); many connections
are served concurrently. Handlers run on the event loop thread, under the store's lock, and
answer in microseconds to milliseconds, so there is no thread pool. Faults (latency, 429/5xx,
stalls, dropped connections, truncated bodies) are drawn per request from the current
`FaultSpec`, which can be swapped at any time from another thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import NamedTuple

import h11

from simplymeet.contract.errors import error_body
from simplymeet.emulator.anomalies import AnomalySpec
from simplymeet.emulator.app import Response, Secret, dispatch, route
from simplymeet.emulator.faults import (
    APPLIED_LATER,
    CUTTING_FAULTS,
    GARBLING_FAULTS,
    NEXT_PAGE_FAULTS,
    PAGE_FAULTS,
    FaultInjector,
    FaultKind,
    FaultSpec,
    cap_on_page,
    counted_as_asked,
    cut_page,
    first_page_query,
    garbled_page,
    next_page_fault,
    next_page_query,
    page_number,
    previous_page_query,
    repeat_page,
)
from simplymeet.emulator.render import dumps
from simplymeet.emulator.store import Store

_READ_CHUNK = 64 * 1024
_STATUS_TEXT = {429: "rate limit exceeded", 500: "internal server error", 502: "bad gateway"}
_STATUS_TEXT[503] = "service unavailable"
_STATUS_TEXT[504] = "gateway timeout"


class RequestRecord(NamedTuple):
    """One request as the server saw it; status 0 means no response was sent.

    `body` is kept for writes only (what was asked of the server: e.g. which ids a list
    request carried), so tests can count the writes each target received.
    """

    method: str
    path: str
    query: str
    status: int
    body: bytes = b""
    received_at: float = 0.0
    """When the request had arrived (`time.time()`), before any latency: to order it against
    what the client did meanwhile."""
    answered_at: float = 0.0
    """When it was logged, as its answer was about to be sent (`time.time()`)."""


class RequestLog:
    """Thread-safe log of requests, appended when each one is answered (or dropped)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[RequestRecord]:
        """A copy of every record so far."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __iter__(self) -> Iterator[RequestRecord]:
        return iter(self.snapshot())


_CLOSE_SWEEPS = 5
"""Loop turns `close` gives connections accepted while it closes to start and be cut."""


class EmulatorServer:
    """Serves one store over HTTP on an asyncio loop."""

    def __init__(
        self,
        store: Store,
        api_key: Secret,
        *,
        latency_ms: float = 0.0,
        faults: FaultSpec | None = None,
        log: RequestLog | None = None,
    ) -> None:
        self.store = store
        self.api_key = api_key
        self.latency_ms = latency_ms
        self.log = log if log is not None else RequestLog()
        self.injector: FaultInjector | None = FaultInjector(faults) if faults else None
        self._anomalies: AnomalySpec | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task] = set()
        self._later: set[asyncio.Task] = set()
        """Writes a fault answered that are still to be applied (`FaultSpec.apply_later`)."""
        self._closing = False
        self.connections_accepted = 0
        """Connections opened so far: keep-alive shows as many requests on few connections."""
        self.received: Counter[str] = Counter()
        """Requests read so far by endpoint name, counted before any latency: a request still
        being answered (or whose client is gone) is here and not yet in `log`."""

    @property
    def anomalies(self) -> AnomalySpec | None:
        """Rows to serve broken (see `anomalies.py`); swapped like the faults."""
        return self._anomalies

    @anomalies.setter
    def anomalies(self, spec: AnomalySpec | None) -> None:
        nulls = spec.null_updated if spec is not None else frozenset()
        high = spec is not None and spec.nulls_first
        with self.store.lock:
            self._anomalies = spec
            if (nulls, high) != (self.store.sorted_as_null, self.store.nulls_sort_high):
                # Rows served without updatedAt sort as NULL: the list's order changes.
                self.store.sorted_as_null = nulls
                self.store.nulls_sort_high = high
                self.store.changed()
                self.store.pages.clear()

    def set_faults(self, spec: FaultSpec | None) -> None:
        """Swap the fault spec (thread-safe: one attribute assignment)."""
        self.injector = FaultInjector(spec) if spec else None

    def _date_ahead(self) -> float:
        injector = self.injector
        return injector.spec.date_ahead if injector is not None else 0.0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen and return the bound port."""
        self._server = await asyncio.start_server(self._on_connection, host, port, backlog=512)
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and cut every open connection."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        # A connection accepted as the listener closed starts its task a loop turn or more
        # later (and, seeing `_closing`, hangs up at once): a task still serving when the
        # loop stops dies with it, its `finally` on a closed loop.
        for _ in range(_CLOSE_SWEEPS):
            await asyncio.sleep(0)
            if not self._connections:
                continue
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    # --- connections -------------------------------------------------------------------------

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if self._closing:
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self.connections_accepted += 1
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.CancelledError, h11.ProtocolError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), timeout=1)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        while True:
            try:
                received = await self._read_request(conn, reader)
            except h11.RemoteProtocolError as exc:
                await self._send_plain_error(conn, writer, exc.error_status_hint, str(exc))
                return
            if received is None:
                return
            request, body = received
            keep_open = await self._answer(conn, writer, request, body)
            if not keep_open or conn.our_state is h11.MUST_CLOSE:
                return
            conn.start_next_cycle()

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> tuple[h11.Request, bytes] | None:
        request: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(_READ_CHUNK))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert request is not None
                return request, bytes(body)
            elif isinstance(event, h11.ConnectionClosed):
                return None
            else:  # PAUSED cannot happen: we return at EndOfMessage
                return None

    # --- one request -------------------------------------------------------------------------

    async def _answer(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, request: h11.Request, body: bytes
    ) -> bool:
        """Answer one request, faults included; False when the connection must be closed."""
        arrived = time.time()
        method = request.method.decode("ascii")
        target = request.target.decode("utf-8", errors="replace")
        path, _, query = target.partition("?")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.headers}
        found = route(method, path)
        endpoint_name = found[0].name if found else None
        self.received[endpoint_name or ""] += 1

        injector = self.injector
        spec = injector.spec if injector else None
        page = page_number(query)
        delay = self.latency_ms + (
            spec.latency_ms if spec and spec.in_scope(endpoint_name, method, page, query) else 0
        )
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        fault = injector.draw(endpoint_name, method, page, query) if injector else None
        if fault == "unapplied" and method == "GET":
            fault = None  # a write's fault: a read is answered
        after = (
            fault is not None
            and spec is not None
            and spec.after_apply
            and method != "GET"
            and (fault != "429" or spec.after_apply_429)
        ) or fault in PAGE_FAULTS
        later = spec is not None and spec.apply_later > 0 and method != "GET"
        if fault == "truncate":
            after = not later  # a cut answer to a handled request, or before it is applied

        # Log before answering: a client that has its answer must find its request logged.
        def record(status: int) -> None:
            kept = body if method != "GET" else b""
            self.log.add(RequestRecord(method, path, query, status, kept, arrived, time.time()))

        if fault is not None and not after:
            if spec is not None and later and fault in APPLIED_LATER:
                self._apply_later(spec, method, path, query, headers, body)
            outcome = await self._fault(conn, writer, fault, spec, record)  # type: ignore[arg-type]
            if outcome is not None:
                return outcome
            # a stall that ends by answering: fall through to the normal answer

        served = query  # the log keeps what the client asked
        cap = injector.cap_for(endpoint_name, method) if injector is not None else None
        if cap is not None:
            served = cap_on_page(query, cap)
        if fault == "first_page":
            served = first_page_query(served)
        response, _ = dispatch(self.store, self.api_key, method, path, served, headers, body)
        as_asked = cap is not None and spec is not None and spec.cap_counts == "asked"
        if as_asked and response.status == 200 and response.stream is None:
            response.body = counted_as_asked(response.body, query)
        if fault in NEXT_PAGE_FAULTS and response.status == 200 and response.stream is None:
            # The page after, read at once: the store is the same, so the fault is exact.
            following, _ = dispatch(
                self.store, self.api_key, method, path, next_page_query(served), headers, body
            )
            if following.status == 200 and following.stream is None:
                response.body = next_page_fault(response.body, following.body, fault)
        previous = previous_page_query(served) if fault == "repeat" else None
        if previous is not None and response.status == 200 and response.stream is None:
            before, _ = dispatch(self.store, self.api_key, method, path, previous, headers, body)
            if before.status == 200 and before.stream is None:
                response.body = repeat_page(response.body, before.body)
        anomalies = self.anomalies
        if (
            anomalies is not None
            and anomalies.applies_to(endpoint_name)
            and response.status == 200
            and response.stream is None
        ):
            response.body = anomalies.apply(response.body)
        if fault in PAGE_FAULTS:
            if fault in GARBLING_FAULTS and response.status == 200:
                response.body = garbled_page(response.body, fault)
            elif fault in CUTTING_FAULTS and spec is not None and response.status == 200:
                response.body = cut_page(response.body, fault, spec.short_keep)
        elif fault is not None and after:
            if fault == "truncate":
                record(response.status)
                await self._send_truncated(conn, writer, response)
                return False
            outcome = await self._fault(conn, writer, fault, spec, record)  # type: ignore[arg-type]
            if outcome is not None:
                return outcome
        record(response.status)
        await self._send(conn, writer, response)
        return True

    def _apply_later(
        self,
        spec: FaultSpec,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        """Handle the request `spec.apply_later` seconds from now, whatever became of its
        client: the backend behind a gateway that already answered (or dropped) it; with
        `spec.apply_each`, a list write's ids one at a time, that many seconds apart."""
        bodies = [body]
        if spec.apply_each:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and isinstance(parsed.get("ids"), list):
                bodies = [json.dumps({**parsed, "ids": [i]}).encode() for i in parsed["ids"]]

        async def later() -> None:
            await asyncio.sleep(spec.apply_later)
            for n, one in enumerate(bodies):
                if n:
                    await asyncio.sleep(spec.apply_each)
                dispatch(self.store, self.api_key, method, path, query, headers, one)

        task = asyncio.get_running_loop().create_task(later())
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def _fault(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        fault: FaultKind,
        spec: FaultSpec,
        record: Callable[[int], None],
    ) -> bool | None:
        """Act out a fault and log it; returns whether to keep the connection, or None to
        answer normally."""
        if fault == "drop":
            record(0)
            return False
        if fault == "stall":
            await asyncio.sleep(spec.stall_s)
            if spec.stall_then == "close":
                record(0)
                return False
            return None
        if fault == "unapplied":
            record(204)
            await self._send(conn, writer, Response(204))
            return True
        if fault == "said_failed":
            said = {"success": False, "message": "the operation could not be completed"}
            record(200)
            await self._send(conn, writer, Response.json_text(200, dumps(said)))
            return True
        if fault == "truncate":  # a gateway's 504, cut short, before the write it applies
            record(504)
            gateway = Response.json_text(504, dumps(error_body(504, _STATUS_TEXT[504])))
            await self._send_truncated(conn, writer, gateway)
            return False
        status = int(fault)
        response = Response.json_text(status, dumps(error_body(status, _STATUS_TEXT[status])))
        if status in (429, 503):
            response.headers.append(("Retry-After", str(math.ceil(spec.retry_after))))
        record(status)
        await self._send(conn, writer, response)
        return True

    # --- writing -----------------------------------------------------------------------------

    def _head(self, response: Response, length: int | None) -> h11.Response:
        headers = [
            ("Server", "simplymeet-emulator"),
            ("Date", email.utils.formatdate(time.time() + self._date_ahead(), usegmt=True)),
            *response.headers,
        ]
        if length is not None:
            headers.append(("Content-Length", str(length)))
        return h11.Response(status_code=response.status, headers=headers)

    async def _send(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, response: Response
    ) -> None:
        if response.stream is not None:
            await self._send_stream(conn, writer, response)
            return
        length = None if response.status == 204 else len(response.body)
        writer.write(conn.send(self._head(response, length)) or b"")
        if response.body and length is not None:
            # A page of events is ~800 KB: hand the body to the transport as it is, instead
            # of joining it with the head and the end (two copies per page).
            for part in conn.send_with_data_passthrough(h11.Data(data=response.body)) or ():
                writer.write(part)
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        await writer.drain()

    async def _send_stream(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, response: Response
    ) -> None:
        """Chunked transfer: h11 frames the chunks since no Content-Length is given."""
        writer.write(conn.send(self._head(response, None)) or b"")
        for chunk in response.stream or ():
            writer.write(conn.send(h11.Data(data=chunk)) or b"")
            await writer.drain()  # also lets other connections run between batches
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        await writer.drain()

    async def _send_truncated(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, response: Response
    ) -> None:
        """Announce the full Content-Length, send half the body, close."""
        if response.stream is not None:  # cut a stream after its first chunks
            writer.write(conn.send(self._head(response, None)) or b"")
            for _, chunk in zip(range(2), response.stream, strict=False):
                writer.write(conn.send(h11.Data(data=chunk)) or b"")
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            return
        body = response.body or b"{}"
        response = Response(
            200 if response.status == 204 else response.status, body, response.headers
        )
        data = conn.send(self._head(response, len(body))) or b""
        data += conn.send(h11.Data(data=body[: len(body) // 2])) or b""
        writer.write(data)
        with contextlib.suppress(ConnectionError):
            await writer.drain()

    async def _send_plain_error(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, status: int, message: str
    ) -> None:
        if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        with contextlib.suppress(h11.LocalProtocolError, ConnectionError):
            await self._send(
                conn, writer, Response.json_text(status, dumps(error_body(status, message)))
            )
