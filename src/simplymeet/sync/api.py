"""The reads the sync needs, over the client's raw (unvalidated JSON) fast path.

The sync reads hundreds of thousands of events; validating each through pydantic would cost
more than the rest of the landing path, so it works on raw dicts and lets `tables.py` type them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from simplymeet.client import ApiClient, NotFoundError
from simplymeet.client.pages import page_from_body

K = TypeVar("K")
V = TypeVar("V")

EVENT_LIST = "event_list"


class FilterIgnoredError(RuntimeError):
    """The server answered a `filter[ids]` request with events that were not asked for."""


class SyncApi:
    """Read-only calls of the sync, counting event pages for the run's summary."""

    def __init__(self, client: ApiClient, *, concurrency: int = 8) -> None:
        self.client = client
        self.concurrency = max(1, concurrency)
        self._event_pages_at_start = self._event_pages()
        self.on_event_page: Callable[[int, int | None], None] | None = None
        """Called with (event pages read, pages expected or None) as events arrive."""
        self._pages_read = 0

    # --- events -----------------------------------------------------------------------------

    def event_page(
        self,
        page: int,
        on_page: int,
        *,
        order_field: str | None = None,
        order_direction: str | None = None,
        filter: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One page of the event list as `{meta, items}` whichever shape the server used."""
        body = self.client.call(
            EVENT_LIST,
            query=_list_query(page, on_page, order_field, order_direction, filter),
            raw=True,
        )
        parsed = page_from_body(body, page)
        meta = parsed.meta.model_dump() if parsed.meta is not None else {}
        if on_page > 1:
            self._tick(None)
        return {"meta": meta, "items": parsed.items}

    def event_pages(
        self, on_page: int, *, order_field: str, order_direction: str
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of the event list, pages 2..N fetched concurrently, yielded in order."""
        query = {"orderField": order_field, "orderDirection": order_direction}
        for page in self.client.iter_pages(EVENT_LIST, query=query, on_page=on_page, raw=True):
            self._tick(page.pages_count)
            yield list(page.items)

    def events_by_ids(self, ids: Sequence[int], on_page: int) -> Iterator[list[dict[str, Any]]]:
        """The current version of each listed event that still exists, a page of ids at a time.

        A server that ignores `filter[ids]` would answer with unrelated events, and every id
        would look deleted; that is detected and answered by fetching the ids one by one.
        """
        chunks = [list(ids[i : i + on_page]) for i in range(0, len(ids), on_page)]

        def fetch(chunk: list[int]) -> list[dict[str, Any]]:
            page = self.event_page(1, len(chunk), filter={"ids": chunk})
            wanted = set(chunk)
            items = page["items"]
            # A row without a readable id proves nothing (the quarantine sets it aside).
            got = (_int(row.get("id")) for row in items)
            if any(i is not None and i not in wanted for i in got):
                raise FilterIgnoredError("filter[ids] not honoured")
            return items

        try:
            for _chunk, rows in self.map_concurrently(fetch, chunks):
                yield rows
        except FilterIgnoredError:
            for _id, row in self.map_concurrently(self._event_or_none, list(ids)):
                if row is not None:
                    yield [row]

    def _event_or_none(self, event_id: int) -> dict[str, Any] | None:
        try:
            return self.client.call("event_get", path_params={"id": event_id}, raw=True)
        except NotFoundError:
            return None

    def _tick(self, total: int | None) -> None:
        self._pages_read += 1
        if self.on_event_page is not None:
            self.on_event_page(self._pages_read, total)

    # --- everything else --------------------------------------------------------------------

    def list_all(
        self,
        endpoint: str,
        on_page: int,
        *,
        path_params: dict[str, int] | None = None,
        query: dict[str, Any] | None = None,
        paged: bool = True,
    ) -> list[dict[str, Any]]:
        """Every item of a list endpoint, in either response shape."""
        if not paged:
            body = self.client.call(endpoint, path_params=path_params, query=query, raw=True)
            return list(page_from_body(body, 1).items)
        items: list[dict[str, Any]] = []
        for page in self.client.iter_pages(
            endpoint, path_params=path_params, query=query, on_page=on_page, raw=True
        ):
            items.extend(page.items)
        return items

    def get_object(self, endpoint: str, path_params: dict[str, int] | None = None) -> Any:
        """A single-object endpoint's body; `{}` for an empty one."""
        body = self.client.call(endpoint, path_params=path_params, raw=True)
        return body if body is not None else {}

    def map_concurrently(self, func: Callable[[K], V], keys: Iterable[K]) -> Iterator[tuple[K, V]]:
        """`func` over `keys` with bounded concurrency, results in key order."""
        keys = list(keys)
        if len(keys) <= 1 or self.concurrency == 1:
            for key in keys:
                yield key, func(key)
            return
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="simplymeet-sync") as pool:
            # Pages keep arriving while the consumer cuts and writes a batch (B1's timeline).
            window = self.concurrency * 4
            futures = [pool.submit(func, key) for key in keys[:window]]
            for index, key in enumerate(keys):
                result = futures[index].result()
                if index + window < len(keys):
                    futures.append(pool.submit(func, keys[index + window]))
                futures[index] = None  # type: ignore[call-overload]
                yield key, result

    # --- accounting -------------------------------------------------------------------------

    def _event_pages(self) -> int:
        stats = self.client.stats.by_endpoint.get(EVENT_LIST)
        return stats.requests if stats else 0

    def stats(self) -> dict[str, int]:
        """Requests, retries and event-list requests made through this api so far."""
        return {
            "requests": self.client.stats.requests,
            "retries": self.client.stats.retries,
            "event_pages": self._event_pages() - self._event_pages_at_start,
        }


def _list_query(
    page: int,
    on_page: int,
    order_field: str | None,
    order_direction: str | None,
    filter: dict[str, Any] | None,
) -> dict[str, Any]:
    query: dict[str, Any] = {"page": page, "onPage": on_page}
    if order_field:
        query["orderField"] = order_field
    if order_direction:
        query["orderDirection"] = order_direction
    if filter:
        query["filter"] = filter
    return query


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
