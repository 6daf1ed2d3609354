"""Reads sent before their caller asks for them, each answer handed over once.

A sync knows some of its first requests before it can make them: the first page of users,
event types, polls..., which depend on nothing the run has yet to read. The process spends
its first second importing dlt and checking the warehouse; those reads can travel meanwhile
(B12: the key gate's round trip and a wave of list pages, ~0.5 s at 250 ms per request).

Only GETs are read ahead, and an answer is handed to the first caller that sends the same
request (same method, URL and body reader), then forgotten: the caller gets what it would
have got a moment later, and no request is sent twice. A caller arriving while the read is
in flight waits for it rather than sending its own. A read that failed hands its error to
that caller, as a request of its own would have raised it (after the same retries); a read
nobody asks for is counted in the client's stats and dropped.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from simplymeet.client.http import PreparedRequest

log = logging.getLogger(__name__)

Answered = Callable[[Any], object]
"""Called on the worker thread with a read's parsed body, once it is in."""


@dataclass(frozen=True)
class Read:
    """A GET to send ahead: a plain call, or with `on_page` the first page of a list as
    `iter_pages` asks for it (page 1, `on_page` items). `then`, given this read's parsed
    body once it is in, names reads that follow from it (each event type's tags after the
    event type list); an error it raises only means no follow-ups."""

    endpoint: str
    on_page: int | None = None
    path_params: Mapping[str, int] | None = None
    query: Mapping[str, Any] | None = None
    then: Callable[[Any], Iterable[Read]] | None = field(default=None, compare=False)


def request_key(req: PreparedRequest) -> Hashable:
    """What makes two requests the same read: method, URL, and how the body is read."""
    return (req.method, str(req.url), req.read_body)


class ReadAhead:
    """GETs sent on up to `workers` daemon threads, answers held until taken.

    Daemon threads: a command that stops before it needs the answers (a held lock, a
    refused warehouse) exits without waiting for them.
    """

    def __init__(self, send: Callable[[PreparedRequest], Any], workers: int) -> None:
        self._send = send
        self._workers = max(1, workers)
        self._lock = threading.Lock()
        self._held: dict[Hashable, Future[Any]] = {}
        self._queue: deque[tuple[PreparedRequest, Future[Any], Answered | None]] = deque()
        self._running = 0
        self._closed = False

    def start(
        self,
        requests: Iterable[PreparedRequest],
        answered: Callable[[PreparedRequest], Answered | None] = lambda _req: None,
    ) -> int:
        """Send these GETs in the background; returns how many were not already held.
        `answered(req)` may give a callback for `req`'s body, once it is in."""
        started = 0
        with self._lock:
            if self._closed:
                return 0
            for req in requests:
                if req.method != "GET":
                    raise ValueError(f"only GETs are read ahead, not {req.method} {req.url}")
                key = request_key(req)
                if key in self._held:
                    continue
                future: Future[Any] = Future()
                self._held[key] = future
                self._queue.append((req, future, answered(req)))
                started += 1
            spawn = min(self._workers - self._running, len(self._queue))
            self._running += spawn
        for _ in range(spawn):
            threading.Thread(target=self._work, name="simplymeet-read-ahead", daemon=True).start()
        return started

    def take(self, req: PreparedRequest) -> Future[Any] | None:
        """The held read of `req`, no longer held; None when it was not read ahead."""
        # Every request of the client asks: most find nothing held, so no key and no lock.
        if req.method != "GET" or not self._held:
            return None
        with self._lock:
            return self._held.pop(request_key(req), None)

    @property
    def held(self) -> int:
        """Reads sent (or queued) that no caller has taken yet."""
        with self._lock:
            return len(self._held)

    def close(self) -> None:
        """Send nothing more; reads not yet sent are dropped."""
        with self._lock:
            self._closed = True
            dropped, self._queue = self._queue, deque()
        for _req, future, _answered in dropped:
            future.cancel()

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._queue or self._closed:
                    self._running -= 1
                    return
                req, future, answered = self._queue.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                body = self._send(req)
            except BaseException as error:  # handed to the caller that takes it
                future.set_exception(error)
                continue
            if answered is not None:
                # Before the answer is handed over: its taker's next requests must find
                # the follow-ups held, not race them.
                try:
                    answered(body)
                except Exception as error:
                    # Follow-ups are a guess at what comes next; the callers read anyway.
                    log.debug("no reads ahead after %s: %s", req.info.label, error)
            future.set_result(body)
