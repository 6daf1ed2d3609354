"""Now, for the write-back's settle period, as neither this machine's clock nor the server's
can make it early.

A write that e-mails people and got no sure answer is not sent again until `settle_seconds`
after its send: the server may still be applying it. The send time is journaled, and a later
run (perhaps on another machine, or after this one's clock jumped) compares it with "now". A
clock ahead would end the period early and e-mail an invitee twice. So a send is stamped with
the later of this machine's time and the server's (its `Date` headers, whole seconds: one
second is added), and "now" is the earlier of the two: either clock running ahead only makes
the wait longer.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

from simplymeet.client.http import response_date, watch_responses

_DATE_RESOLUTION = dt.timedelta(seconds=1)


def _local_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)  # looked up at each call: tests move the clock


class ServerTime:
    """This machine's clock checked against the `Date` of the client's responses."""

    def __init__(self, client: Any, local: Callable[[], dt.datetime] | None = None) -> None:
        """Observe `client`'s responses (an httpx hook; a client without hooks leaves only
        this machine's clock). `local` is this machine's clock (tests set another)."""
        self._local = local or _local_now
        self._lock = threading.Lock()
        self._seen: tuple[dt.datetime, float] | None = None
        watch_responses(client, self.observe)

    def observe(self, response: Any) -> None:
        """httpx response hook: remember the response's Date and when it arrived."""
        when = response_date(response)
        if when is None:
            return
        with self._lock:
            self._seen = (when, time.monotonic())

    @property
    def seen(self) -> bool:
        """Whether an answer's `Date` was seen."""
        with self._lock:
            return self._seen is not None

    def _server_now(self) -> dt.datetime | None:
        with self._lock:
            seen = self._seen
        if seen is None:
            return None
        when, at = seen
        return when + dt.timedelta(seconds=time.monotonic() - at)

    def now(self) -> dt.datetime:
        """The earlier of this machine's time and the server's: for "has the period passed"."""
        local, server = self._local(), self._server_now()
        return local if server is None else min(local, server)

    def stamp(self) -> dt.datetime:
        """The later of the two (the server's rounded up): for "when was it sent"."""
        local, server = self._local(), self._server_now()
        return local if server is None else max(local, server + _DATE_RESOLUTION)
