"""Counters a client keeps about its traffic, for the sync's summary and for tests."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class EndpointStats:
    """Traffic of one endpoint."""

    requests: int = 0
    retries: int = 0
    errors: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0


@dataclass
class ClientStats:
    """Requests sent (every attempt), retries, errors raised and bytes, overall and per endpoint.

    >>> stats = ClientStats()
    >>> stats.record_request("event_list", sent=0)
    >>> stats.requests, stats.by_endpoint["event_list"].requests
    (1, 1)
    """

    requests: int = 0
    retries: int = 0
    errors: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    by_endpoint: dict[str, EndpointStats] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def _endpoint(self, name: str) -> EndpointStats:
        stats = self.by_endpoint.get(name)
        if stats is None:
            stats = self.by_endpoint[name] = EndpointStats()
        return stats

    def record_request(self, endpoint: str, *, sent: int) -> None:
        """One attempt went out with `sent` body bytes."""
        with self._lock:
            one = self._endpoint(endpoint)
            self.requests += 1
            one.requests += 1
            self.bytes_sent += sent
            one.bytes_sent += sent

    def record_response(self, endpoint: str, *, received: int) -> None:
        """A response body of `received` bytes arrived."""
        with self._lock:
            self.bytes_received += received
            self._endpoint(endpoint).bytes_received += received

    def record_retry(self, endpoint: str) -> None:
        """An attempt failed and will be sent again."""
        with self._lock:
            self.retries += 1
            self._endpoint(endpoint).retries += 1

    def record_error(self, endpoint: str) -> None:
        """A call gave up and raised."""
        with self._lock:
            self.errors += 1
            self._endpoint(endpoint).errors += 1

    def as_dict(self) -> dict[str, Any]:
        """A plain snapshot, e.g. to print or to store with a run's state."""
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "errors": self.errors,
                "bytes_sent": self.bytes_sent,
                "bytes_received": self.bytes_received,
                "by_endpoint": {k: asdict(v) for k, v in sorted(self.by_endpoint.items())},
            }

    def summary(self) -> str:
        """One line, e.g. `42 requests (3 retries, 0 errors), 1.2 MB received`."""
        snap = self.as_dict()
        return (
            f"{snap['requests']} requests ({snap['retries']} retries, {snap['errors']} errors), "
            f"{snap['bytes_received'] / 1e6:.1f} MB received"
        )
