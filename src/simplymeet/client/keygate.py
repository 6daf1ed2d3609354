"""Stop at the first refused key: until the server has accepted the key once, requests go one
at a time, and once it has refused it (401/403) no further request is sent.

Without this, the sync's parallel resources each send a request with a wrong key before the
first refusal comes back: one wasted request per resource, each logged by the server as a
failed authentication.

A 403 once the key was accepted says nothing of the key or the plan: that one endpoint is
closed to it. Its error says so, and the other endpoints stay open.
"""

from __future__ import annotations

import copy
import threading

from simplymeet.client.decode import endpoint_refused
from simplymeet.client.errors import AuthError, SimplyMeetError


class KeyGate:
    """The key's standing with the server: unknown (one request at a time), accepted, refused."""

    def __init__(self) -> None:
        self._accepted = False
        self._refused: AuthError | None = None

    @property
    def accepted(self) -> bool:
        """True once any answer other than 401/403 has come back."""
        return self._accepted

    def check(self) -> None:
        """Raise (a copy of) the refusal if the key was refused; else return."""
        if self._refused is not None:
            raise copy.copy(self._refused)

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

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
