"""HTTP client of the SimplyMeet API, built from the contract's ENDPOINTS table."""

from simplymeet.client.client import DEFAULT_USER_AGENT, SimplyMeetClient
from simplymeet.client.errors import (
    AuthError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    SimplyMeetError,
    TransportError,
    ValidationError,
)
from simplymeet.client.pages import Page
from simplymeet.client.protocol import ApiClient
from simplymeet.client.ratelimit import TokenBucket
from simplymeet.client.retry import RetryPolicy
from simplymeet.client.secret import ApiKey, redact_url
from simplymeet.client.stats import ClientStats

__all__ = [
    "DEFAULT_USER_AGENT",
    "ApiClient",
    "ApiKey",
    "AuthError",
    "ClientStats",
    "NotFoundError",
    "Page",
    "ProtocolError",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "SimplyMeetClient",
    "SimplyMeetError",
    "TokenBucket",
    "TransportError",
    "ValidationError",
    "redact_url",
]
