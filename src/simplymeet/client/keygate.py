"""Stop at the first refused key: until the server has accepted the key once, requests go one
at a time, and once it has refused it (401/403) no further request is sent.

Without this, the sync's parallel resources each send a request with a wrong key before the
first refusal comes back: one wasted request per resource, each logged by the server as a
failed authentication.

A 403 once the key was accepted says nothing of the key or the plan: that one endpoint is
closed to it. Its error says so, and the other endpoints stay open.

A server never reached works the same way: once one request has given up without ever
connecting (refused, no route, a connect timeout) before any answer came back, every other
request fails with that error at once instead of running through its own retries (a sync of
every resource against a wrong `base_url` took 25 s and 70 warning lines to say so). Unlike a
refused key, that lasts `UNREACHABLE_FOR` only: a client kept open (a notebook's) tries the
server again once it may be back.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable

from simplymeet.client.decode import endpoint_refused
from simplymeet.client.errors import AuthError, SimplyMeetError, TransportError

UNREACHABLE_FOR = 60.0
"""Seconds a server found unreachable fails every request at once before it is tried again."""


class KeyGate:
    """The key's standing with the server: unknown (one request at a time), accepted, refused."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._accepted = False
        self._refused: AuthError | None = None
        self._unreachable: TransportError | None = None
        self._unreachable_at = 0.0
        self._clock = clock

    @property
    def accepted(self) -> bool:
        """True once any answer other than 401/403 has come back."""
        return self._accepted

    @property
    def unreachable(self) -> bool:
        """True for `UNREACHABLE_FOR` once a request gave up without ever reaching the server,
        before any answer."""
        if self._unreachable is None:
            return False
        if self._clock() - self._unreachable_at >= UNREACHABLE_FOR:
            self._unreachable = None
            return False
        return True

    @property
    def closed(self) -> bool:
        """True once the key was refused or the server was found unreachable: no retry helps."""
        return self._refused is not None or self.unreachable

    def check(self) -> None:
        """Raise (a copy of) the refusal, or of the failure to reach the server; else return."""
        if self._refused is not None:
            raise copy.copy(self._refused)
        if self.unreachable and self._unreachable is not None:
            error = copy.copy(self._unreachable)
            error.message = f"the server was never reached ({error})"
            error.attempts = 1
            error.echo = True
            raise error

    def gave_up(self, error: SimplyMeetError) -> None:
        """Note a request that gave up with `error` after its retries."""
        if not self._accepted and isinstance(error, TransportError) and not error.reached_server:
            self._unreachable, self._unreachable_at = error, self._clock()

    def record(self, error: SimplyMeetError | None) -> SimplyMeetError | None:
        """Note the outcome of one attempt (None for a success, else the error it raised);
        returns the error to raise for it."""
        if isinstance(error, AuthError):
            if error.status == 403 and self._accepted:
                return endpoint_refused(error)
            self._refused = error
        elif error is None or error.status is not None:
            # An HTTP answer that is not 401/403 means the key got past authentication.
            self._accepted = True
        return error


class ThreadKeyGate(KeyGate):
    """`KeyGate` for the threaded client."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock)
        self.lock = threading.Lock()
        self._shut = threading.Event()

    def gave_up(self, error: SimplyMeetError) -> None:
        super().gave_up(error)
        if self.closed:
            self._shut.set()

    def record(self, error: SimplyMeetError | None) -> SimplyMeetError | None:
        judged = super().record(error)
        if self.closed:
            self._shut.set()
        return judged

    def pause(self, seconds: float) -> None:
        """Wait `seconds` before a retry, or less once the gate has closed (the retry would
        only fail the same way)."""
        if not self.closed:
            self._shut.clear()  # an unreachable server's time ran out: wait in full again
        self._shut.wait(seconds)
