"""What the sync and the write-back need of an API client, as a type.

`SimplyMeetClient` fits it; so does any wrapper an orchestrator puts around one (a recording
proxy, a client with its own auth), without subclassing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from simplymeet.client.client import Body, PathParams, Query
from simplymeet.client.pages import DEFAULT_MAX_PAGES, Page
from simplymeet.client.stats import ClientStats


class ApiClient(Protocol):
    """A blocking SimplyMeet client: raw calls by endpoint name, concurrent paging, counters."""

    stats: ClientStats

    def call(
        self,
        endpoint: str,
        path_params: PathParams = None,
        query: Query = None,
        body: Body = None,
        *,
        raw: bool = True,
        read_body: Callable[[bytes], Any] | None = None,
    ) -> Any:
        """Call an endpoint by its ENDPOINTS name; the parsed JSON (or DTOs with raw=False).

        `read_body` reads a success body in place of the JSON parser where it answers."""
        ...

    def iter_pages(
        self,
        endpoint: str,
        query: Query = None,
        *,
        path_params: PathParams = None,
        on_page: int = 100,
        raw: bool = True,
        max_pages: int = DEFAULT_MAX_PAGES,
        keep_empty: bool = False,
    ) -> Iterator[Page[Any]]:
        """Every non-empty page of a list endpoint, in order (empty ones too with `keep_empty`)."""
        ...
