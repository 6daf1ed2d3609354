"""The SimplyMeet API contract: endpoints, DTOs, vocabularies, formats. One place for each fact."""

from simplymeet.contract import dtos
from simplymeet.contract.dates import (
    format_request_datetime,
    format_response_datetime,
    parse_api_datetime,
    parse_request_datetime,
)
from simplymeet.contract.endpoints import (
    API_KEY_HEADER,
    API_PREFIX,
    DEFAULT_BASE_URL,
    ENDPOINTS,
    Endpoint,
    match_route,
)
from simplymeet.contract.vocab import MAX_ON_PAGE, normalize_event_state

__all__ = [
    "API_KEY_HEADER",
    "API_PREFIX",
    "DEFAULT_BASE_URL",
    "ENDPOINTS",
    "MAX_ON_PAGE",
    "Endpoint",
    "dtos",
    "format_request_datetime",
    "format_response_datetime",
    "match_route",
    "normalize_event_state",
    "parse_api_datetime",
    "parse_request_datetime",
]
