"""The client's exceptions: a small tree a caller can act on.

    SimplyMeetError            anything the client raises about a call (other 4xx, redirects)
    ├── AuthError              401 key wrong or missing (reason "invalid_key"),
    │                          403 plan without API access (reason "no_paid_plan"),
    │                          403 of one endpoint once others accepted the key
    │                          (reason "endpoint_refused")
    ├── NotFoundError          404
    ├── ValidationError        400/422, with the server's `field_errors`
    ├── RateLimitedError       429 after retries, with `retry_after`
    ├── ServerError            5xx after retries
    ├── TransportError         timeout, refused or dropped connection, truncated body
    └── ProtocolError          a 2xx body that is not the documented shape (or not JSON)

Every error keeps the endpoint name, method, redacted URL, HTTP status (None when no response
arrived) and how many attempts were made. None of them holds the request or its headers, so
the key cannot leak through an error's message, repr or attributes.
"""

from __future__ import annotations

from typing import Any, Literal

AuthReason = Literal["invalid_key", "no_paid_plan", "endpoint_refused"]


class SimplyMeetError(Exception):
    """Base of every error the client raises about a call."""

    retriable = False
    """True when trying the same call later may succeed (rate limit, server or network)."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
        attempts: int = 1,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.method = method
        self.url = url
        self.status = status
        self.attempts = attempts
        self.body = body
        """The server's error body (parsed JSON, or text cut to 300 characters)."""

    def __str__(self) -> str:
        suffix = f" (after {self.attempts} attempts)" if self.attempts > 1 else ""
        return self.message + suffix

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor arguments: rebuild from the instance state when pickled
        # (e.g. raised in a worker process).
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[SimplyMeetError], state: dict[str, Any]) -> SimplyMeetError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


class AuthError(SimplyMeetError):
    """The key was refused: `reason` says whether it is wrong, the plan lacks API access, or
    only this endpoint is closed to it."""

    def __init__(self, message: str, *, reason: AuthReason, **context: Any) -> None:
        super().__init__(message, **context)
        self.reason: AuthReason = reason


class NotFoundError(SimplyMeetError):
    """The resource does not exist (404)."""


class ValidationError(SimplyMeetError):
    """The server rejected the input; `field_errors` maps field paths to its messages."""

    def __init__(
        self, message: str, *, field_errors: dict[str, list[str]] | None = None, **context: Any
    ) -> None:
        super().__init__(message, **context)
        self.field_errors: dict[str, list[str]] = field_errors or {}


class RateLimitedError(SimplyMeetError):
    """Still rate limited (429) after the retries; `retry_after` is the server's hint in s."""

    retriable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after


class ServerError(SimplyMeetError):
    """The server failed (5xx) and kept failing through the retries."""

    retriable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after


TransportKind = Literal["connect", "timeout", "dropped", "truncated"]


class TransportError(SimplyMeetError):
    """No complete response: a connect failure, a timeout, a dropped connection, a cut body.

    `reached_server` is False only when the request certainly never reached the server
    (connection refused, connect timeout): then even a POST is safe to send again.
    """

    retriable = True

    def __init__(
        self, message: str, *, kind: TransportKind, reached_server: bool, **context: Any
    ) -> None:
        super().__init__(message, **context)
        self.kind: TransportKind = kind
        self.reached_server = reached_server
        self.echo = False
        """A request not sent because an earlier one found the server unreachable: this
        repeats that failure (`ThreadKeyGate.check`)."""


class ProtocolError(SimplyMeetError):
    """A successful response whose body is not what the reference documents.

    `invalid_json` is True when the body did not even parse (often a body cut short without
    a Content-Length to notice it by); such a body is retried for idempotent methods.
    """

    def __init__(self, message: str, *, invalid_json: bool = False, **context: Any) -> None:
        super().__init__(message, **context)
        self.invalid_json = invalid_json
