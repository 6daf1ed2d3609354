"""The reads the sync needs, over the client's raw (unvalidated JSON) fast path.

The sync reads hundreds of thousands of events; validating each through pydantic would cost
more than the rest of the landing path, so it works on raw dicts and lets `tables.py` type them.
Pages are the client's typed `Page` (items as raw dicts, `meta` as the contract's DTO).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

import orjson

from simplymeet.client import (
    ApiClient,
    NotFoundError,
    ProtocolError,
    SimplyMeetError,
    ValidationError,
)
from simplymeet.client import pages as paging
from simplymeet.client.http import response_date, watch_responses
from simplymeet.client.pages import Page, page_from_body
from simplymeet.client.read_ahead import Read
from simplymeet.contract.endpoints import API_PREFIX, ENDPOINTS
from simplymeet.contract.vocab import STATE_CANCELED
from simplymeet.sync import arrow_pages, quarantine
from simplymeet.sync.checks import IncompleteScanError, list_problem, page_problem, repeated_id
from simplymeet.sync.page_groups import GROUP_PAGES, AwaitedPage, PageGroups
from simplymeet.sync.values import as_id

CANCELED_ONLY = {"state": STATE_CANCELED}
"""The list filter for canceled events (`EventScan.canceled_since`, `events_by_ids`)."""

K = TypeVar("K")
V = TypeVar("V")

EVENT_LIST = "event_list"


class FilterIgnoredError(RuntimeError):
    """The server answered a `filter[ids]` request with events that were not asked for."""


LIST_ATTEMPTS = 4
"""Reads of a small list before one that does not add up, or two reads of a list of several
pages that never hold the same items, fail the run."""

SHORT_ANSWER_ROUNDS = 3
"""Times the ids a `filter[ids]` page short of its own count left out are asked again."""


class ServerClock:
    """The server's time as its responses' `Date` headers state it (whole seconds, UTC).

    A cursor must never pass what the server can have committed; the server's own clock says
    that, where ours may be ahead or behind. Each thread keeps the Date of its last response,
    so a scan can read the time of the page it just fetched.
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self.latest: dt.datetime | None = None
        self._received = 0.0

    def observe(self, response: Any) -> None:
        """httpx response hook: remember the response's Date."""
        when = response_date(response)
        if when is None:
            return
        self._local.last = when
        with self._lock:
            if self.latest is None or when >= self.latest:
                self.latest, self._received = when, time.monotonic()

    def now(self) -> dt.datetime | None:
        """The server's time now: its newest `Date` plus the time since it came (None before
        any)."""
        with self._lock:
            if self.latest is None:
                return None
            return self.latest + dt.timedelta(seconds=time.monotonic() - self._received)

    def last_on_this_thread(self) -> dt.datetime | None:
        """The Date of the last response this thread received, or None."""
        return getattr(self._local, "last", None)


class SyncApi:
    """Read-only calls of the sync, counting event pages for the run's summary."""

    arrow_pages: bool = True
    """Read event pages asked for `arrow` straight into Arrow (`arrow_pages`); False reads
    every page as JSON dicts: the reference path the Arrow one is tested and benched against."""

    def __init__(self, client: ApiClient, *, concurrency: int = 8) -> None:
        self.client = client
        self.concurrency = max(1, concurrency)
        self._event_pages_at_start = self._event_pages()
        self.on_event_page: Callable[[int, int | None], None] | None = None
        """Called with (event pages read, pages expected or None) as events arrive."""
        self._pages_read = 0
        self.clock = ServerClock()
        watch_responses(client, self.clock.observe)
        self._lock = threading.Lock()
        """Guards what the run's threads learn of the server: `_routes_answer`, `listed_apart`."""
        self._routes_answer: bool | None = None
        self.listed_apart: set[int] = set()
        """Ids a read by id found only when it asked for canceled events: a server listing
        them apart leaves them out of the plain list's count too."""

    def none_if_not_found(self, error: NotFoundError) -> None:
        """Return where a 404 may read as "none" (an empty list a server answers so); raise
        `error` where the API's routes are not there at all: a base URL with a wrong path
        answers every request 404, and read as none it would empty the tables. Asked once a
        run, by reading the current user (one request): only a 404 there says the routes
        are missing; any other answer (a 5xx, a 403 of a key that may not read it) comes
        from a route that is there."""
        with self._lock:
            if self._routes_answer is None:
                try:
                    self.client.call("current_user_get", raw=True)
                    self._routes_answer = True
                except NotFoundError:
                    self._routes_answer = False
                except SimplyMeetError as other:
                    self._routes_answer = other.status is not None
        if not self._routes_answer:
            raise error

    # --- events -----------------------------------------------------------------------------

    def event_page(
        self,
        page: int,
        on_page: int,
        *,
        order: dict[str, str] | None = None,
        filter: dict[str, Any] | None = None,
        arrow: bool = False,
    ) -> Page[dict[str, Any]]:
        """One page of the event list, whichever shape the server used.

        With `arrow` the items may be `arrow_pages.ArrowRows` (read into Arrow, the served
        dicts on demand) where the body allows; a consumer that only iterates sees dicts.
        """
        read_body = arrow_pages.read_event_page if arrow and self.arrow_pages else None
        try:
            return _page_of(self._event_body(page, on_page, order, filter, read_body), page)
        except (NotFoundError, ValidationError):
            if page == 1:
                raise  # what the request asks (an order, a filter) is refused
            # A page past the end as the server counts now (deletes since an earlier count):
            # empty, and marked so each scan's checks judge it (`checks.page_problem`).
            return Page(page, [], refused=True)

    def event_page_ahead(
        self,
        page: int,
        on_page: int,
        *,
        order: dict[str, str] | None = None,
        filter: dict[str, Any] | None = None,
    ) -> bool:
        """Send now, in the background, the request `event_page` makes with these arguments
        (no `arrow`); that call takes the answer instead of sending it. Returns whether it
        went: not where the client reads nothing ahead."""
        send = getattr(self.client, "read_ahead", None)
        if send is None:
            return False
        send([Read(EVENT_LIST, query=_list_query(page, on_page, order, filter))])
        return True

    def _event_body(
        self,
        page: int,
        on_page: int,
        order: dict[str, str] | None,
        filter: dict[str, Any] | None,
        read_body: Callable[[bytes], Any] | None,
    ) -> Any:
        query = _list_query(page, on_page, order, filter)
        body = self.client.call(EVENT_LIST, query=query, raw=True, read_body=read_body)
        if on_page > 1:
            self._tick(None)
        return body

    def event_pages(
        self,
        on_page: int,
        *,
        order: dict[str, str],
        sequential: bool = False,
        first: Page[dict[str, Any]] | None = None,
        arrow: bool = False,
    ) -> Iterator[Page[dict[str, Any]]]:
        """Every page of the event list in order, empty ones included (they are checked).

        Concurrent by default (pages 2..N `concurrency` at a time); `sequential` requests page
        n+1 only once page n has arrived, for a scan that compares consecutive pages. `first`
        is page 1 when the caller already has it. With `arrow`, pages 2..N of a concurrent read
        are read into Arrow a group at a time (`page_groups`).
        """
        groups: PageGroups | None = None
        total = first.pages_count if first is not None else None
        if arrow and self.arrow_pages and not sequential and self.concurrency > 1 and total:

            def as_json(number: int, content: bytes) -> Page[dict[str, Any]]:
                try:
                    body = orjson.loads(content)
                except orjson.JSONDecodeError:
                    # Checked by msgspec yet not orjson's JSON (an integer past 64 bits):
                    # asked again, as the client asks again for a body that does not parse.
                    return self.event_page(number, on_page, order=order)
                return _page_of(body, number)

            size = min(GROUP_PAGES, self.concurrency * paging.READ_AHEAD)
            groups = PageGroups(2, total, as_json, size)

        def fetch(number: int) -> Page[dict[str, Any]]:
            if number == 1 and first is not None:
                return first
            if groups is None or not groups.covers(number):
                return self.event_page(number, on_page, order=order, arrow=arrow)
            checked: arrow_pages.CheckedPage | None = None
            try:
                body = self._event_body(number, on_page, order, None, arrow_pages.check_event_page)
                if isinstance(body, arrow_pages.CheckedPage):
                    checked = body
                    return AwaitedPage(number, [])
                return _page_of(body, number)
            finally:
                groups.hand_over(number, checked)

        # The event list takes `page` and `onPage`: a page without a count that is shorter
        # than asked may be the server's own page size, so the next one is asked.
        if sequential:
            return paging.iter_sequential(
                fetch, endpoint=EVENT_LIST, on_page=on_page, prefetch=True, keep_empty=True,
                paged_by_server=True,
            )  # fmt: skip
        pages = paging.iter_pages(
            fetch, endpoint=EVENT_LIST, on_page=on_page, window=self.concurrency, keep_empty=True,
            paged_by_server=True,
        )  # fmt: skip
        if groups is None:
            return pages
        return _awaited(pages, groups)

    def events_by_ids(
        self, ids: Sequence[int], on_page: int, *, canceled_asked: bool = True
    ) -> Iterator[list[dict[str, Any]]]:
        """The current version of each listed event that still exists, a page of ids at a time;
        the ids a page leaves out are asked for once more as canceled events (unless
        `canceled_asked` is False: a caller that asks each id left out by a GET of its own).

        A server that ignores `filter[ids]` would answer with unrelated events, and every id
        would look deleted; that is detected and answered by fetching the ids one by one.
        """
        chunks = [list(ids[i : i + on_page]) for i in range(0, len(ids), on_page)]

        def fetch(chunk: list[int]) -> list[dict[str, Any]]:
            items = _fetch(chunk, SHORT_ANSWER_ROUNDS, {})
            got = {as_id(row.get("id")) for row in items}
            rest = [i for i in chunk if i not in got]
            if rest and canceled_asked:
                # A server may list a canceled event only when asked for its state (as it
                # may its list); what is not there either was deleted. A state filter
                # refused, or "none" answered with a 404, adds nothing.
                with contextlib.suppress(NotFoundError, ValidationError):
                    apart = _fetch(rest, SHORT_ANSWER_ROUNDS, CANCELED_ONLY)
                    items.extend(apart)
                    found = (as_id(row.get("id")) for row in apart)
                    with self._lock:
                        self.listed_apart.update(i for i in found if i is not None)
            return items

        def _fetch(chunk: list[int], rounds: int, also: Mapping[str, str]) -> list[dict[str, Any]]:
            page = self.event_page(1, len(chunk), filter={"ids": chunk, **also})
            wanted = set(chunk)
            items = list(page.items)
            # A row without a readable id proves nothing (the quarantine sets it aside).
            got = {as_id(row.get("id")) for row in items}
            if any(i is not None and i not in wanted for i in got):
                raise FilterIgnoredError("filter[ids] not honoured")
            rest = [i for i in chunk if i not in got]
            served = page.meta.itemsPerPage if page.meta is not None else None
            if items and served and served < len(chunk) and (page.pages_count or 1) > 1:
                # The server serves fewer rows a page than asked: the ids it did not show may
                # be on its next pages. Ask for them again, a page it serves at a time, so
                # that each answer is one page, whose absent ids are absent.
                for start in range(0, len(rest), served):
                    items.extend(_fetch(rest[start : start + served], rounds, also))
            elif rest and rounds > 0 and page_problem(page, len(chunk)):
                # A page short of what its own meta counts: the ids it left out may exist.
                items.extend(_fetch(rest, rounds - 1, also))
            return items

        try:
            for _chunk, rows in self.map_concurrently(fetch, chunks):
                yield rows
        except FilterIgnoredError:
            for _id, row in self.map_concurrently(self._event_or_none, list(ids)):
                if row is not None:
                    yield [row]

    def still_there(
        self, ids: Sequence[int]
    ) -> tuple[dict[int, dict[str, Any]], dict[int, SimplyMeetError]]:
        """Of `ids`, those a GET of the event itself finds (with what it answers), and those
        whose GET failed otherwise than 404 (a 403, a 5xx after the retries), with the error:
        a list that leaves an id out is no proof the event is gone, a 404 of the event is."""

        def found(event_id: int) -> dict[str, Any] | SimplyMeetError | None:
            try:
                return self._event_or_none(event_id)
            except SimplyMeetError as error:
                return error

        there: dict[int, dict[str, Any]] = {}
        unsure: dict[int, SimplyMeetError] = {}
        for event_id, answer in self.map_concurrently(found, ids):
            if isinstance(answer, SimplyMeetError):
                unsure[event_id] = answer
            elif answer:
                there[event_id] = answer
        return there, unsure

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
        keyed_by: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a list endpoint, in either response shape, checked against its count.

        A `{meta, items}` list whose pages do not add up to their `itemsCount` (a short or
        missing page, a total that moved) is read again, up to `LIST_ATTEMPTS` times, then
        `IncompleteScanError` names what was wrong. A list whose items came on more than one
        page is read until two reads in a row hold the same items: a delete while paging
        shifts an unread item onto a page already read, and a delete with a create leaves the
        count as it was (a plain array has no count at all), so only a second read shows it.
        With `keyed_by`, an object of objects is read as its values, each given its key as
        that field (`keyed_values`); any other object is a `ProtocolError` naming the shape.
        """
        if not paged:
            body = self.client.call(endpoint, path_params=path_params, query=query, raw=True)
            if not _more_pages(body):
                return list_body(endpoint, body, keyed_by)
            # A server that pages this list after all (`{meta, items}`, more than one page):
            # read as a paged list, every page, checked against its count.
        problem = ""
        previous: set[Any] | None = None  # the items of the last read of several pages
        for _attempt in range(LIST_ATTEMPTS):
            # An empty list's page 1 comes back too: its meta says whether it is empty or its
            # only page lost the items the meta counts (one request, not a second to ask).
            try:
                pages = list(
                    self.client.iter_pages(
                        endpoint,
                        path_params=path_params,
                        query=query,
                        on_page=on_page,
                        raw=True,
                        keep_empty=True,
                    )
                )
            except ProtocolError:
                if keyed_by is None:
                    raise
                # Not a list page: an object keyed by `keyed_by` is the whole list at once.
                body = self.client.call(endpoint, path_params=path_params, raw=True)
                return list_body(endpoint, body, keyed_by)
            if not pages:
                # A plain array's repeated page is dropped: ask once whether the list is empty.
                body = self.client.call(endpoint, path_params=path_params, query=query, raw=True)
                try:
                    only = page_from_body(
                        body, 1, nothing_is_empty=not ENDPOINTS[endpoint].response_stated
                    )
                except ValueError as exc:
                    raise shape_error(endpoint, str(exc)) from None
                if (only.meta and only.meta.itemsCount) or only.items:
                    pages = [only]
            items = [item for page in pages for item in page.items]
            identities = {_identity(item) for item in items}
            found = list_problem(pages, on_page, len(identities))
            if found is not None:
                problem, previous = found, None
                continue
            twice = repeated_id(items)
            if twice is not None and (_attempt < LIST_ATTEMPTS - 1 or _uncounted_pages(pages)):
                # One id twice in one read stands where another item was not served: read
                # again. A list that counts its items shows on every read whether one is
                # missing (a server that always repeats one is then judged row by row); pages
                # that count nothing show it on none, and the list is not proven whole.
                problem, previous = f"item {twice} was served twice", None
                continue
            if _one_answer(pages) or identities == previous:
                return objects_only(endpoint, items)
            if previous is not None:
                problem = "its items changed between two reads of its pages"
            previous = identities
        where = f"{endpoint} {path_params}" if path_params else endpoint
        raise IncompleteScanError(f"{where}: {problem} ({LIST_ATTEMPTS} reads)")

    def event_type_tags(self, type_id: int, on_page: int) -> list[dict[str, Any]] | None:
        """An event type's tags, every page; None where the server answers 404 (the reference
        does not say what a type without tags answers: a 404 reads as "none")."""
        try:
            return self.list_all(
                "event_type_tag_list", on_page, path_params={"eventTypeId": type_id}
            )
        except NotFoundError:
            return None

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


def _uncounted_pages(pages: list[Page[Any]]) -> bool:
    """Whether a read's items came on several pages, none of which counts the list's items."""
    served = [page for page in pages if page.items]
    return len(served) > 1 and not any(
        page.meta is not None and page.meta.itemsCount is not None for page in pages
    )


def _one_answer(pages: list[Page[Any]]) -> bool:
    """Whether one answer held the whole list at one moment, so nothing can have moved under
    the read. Not where a page 2 came back, even empty or repeating page 1 (`keep_empty`
    yields both): rows deleted or created between the two requests leave such a page where
    unread rows were. A short plain page 1 followed by an empty page 2 is one answer: a
    server that honours `onPage` served every row on it."""
    if len(pages) > 1:
        return False
    if not pages:
        return True
    count = pages[0].pages_count
    return count is None or count <= 1


def _more_pages(body: Any) -> bool:
    """Whether a list answer is a `{meta, items}` page that says more pages follow."""
    meta = body.get("meta") if isinstance(body, dict) and "items" in body else None
    pages = meta.get("pagesCount") if isinstance(meta, dict) else None
    try:
        return pages is not None and int(pages) > 1
    except (TypeError, ValueError):
        return False


def list_body(endpoint: str, body: Any, keyed_by: str | None = None) -> list[dict[str, Any]]:
    """The items of one list body: `{meta, items}`, a plain array, or (with `keyed_by`) an
    object of objects; anything else is a `ProtocolError` naming the endpoint and the shape."""
    if isinstance(body, dict) and "items" not in body and keyed_by is not None:
        # An object keyed by `keyed_by`: `{}` holds none.
        return keyed_values(endpoint, body, keyed_by)
    unsaid = endpoint in ENDPOINTS and not ENDPOINTS[endpoint].response_stated
    try:
        return objects_only(endpoint, page_from_body(body, 1, nothing_is_empty=unsaid).items)
    except ValueError as exc:
        raise shape_error(endpoint, str(exc)) from None


def one_policy(endpoint: str, body: Any) -> dict[str, Any] | None:
    """The CancellationPolicyDTO of a policy read: None when empty (`{}`, `[]`, no body); an
    array holding one policy is that policy. Any other shape is a `ProtocolError`."""
    if isinstance(body, list) and len(body) <= 1:
        body = body[0] if body else None
    if body is None or isinstance(body, dict):
        return body or None
    what = f"an array of {len(body)}" if isinstance(body, list) else type(body).__name__
    raise shape_error(endpoint, f"expected a CancellationPolicyDTO object, got {what}")


def objects_only(endpoint: str, items: list[Any]) -> list[dict[str, Any]]:
    """`items`, when every one is an object (a DTO); else a `ProtocolError` naming the kinds."""
    others = sorted({type(item).__name__ for item in items if not isinstance(item, dict)})
    if others:
        raise shape_error(endpoint, f"expected a list of objects, got items of {', '.join(others)}")
    return items


def keyed_values(endpoint: str, body: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """A list served as an object keyed by `field` (`{"event": {...}, ...}`): its values, each
    with its key as `field` unless the value states its own.

    Only an object whose every value is an object reads this way unambiguously."""
    if not all(isinstance(value, dict) for value in body.values()):
        kinds = sorted({type(value).__name__ for value in body.values()})
        raise shape_error(
            endpoint,
            f"expected a list, or an object of objects keyed by {field}; got an object "
            f"whose values are {', '.join(kinds)}",
        )
    return [{field: key, **value} for key, value in body.items()]


def shape_error(endpoint: str, detail: str) -> ProtocolError:
    """A body of `endpoint` that no reading of the reference makes sense of."""
    known = ENDPOINTS.get(endpoint)
    where = f"{known.method} {API_PREFIX}{known.path}" if known else endpoint
    return ProtocolError(f"{where} ({endpoint}): {detail}", endpoint=endpoint, status=200)


def _list_query(
    page: int, on_page: int, order: dict[str, str] | None, filter: dict[str, Any] | None
) -> dict[str, Any]:
    query: dict[str, Any] = {"page": page, "onPage": on_page, **(order or {})}
    if filter:
        query["filter"] = filter
    return query


def _identity(item: Any) -> Any:
    if isinstance(item, dict) and item.get("id") is not None:
        return item["id"]
    return repr(item)


def _page_of(body: Any, number: int) -> Page[dict[str, Any]]:
    """An event page of `body`; a body no reading makes a page of is a `ProtocolError`."""
    if isinstance(body, arrow_pages.ArrowBody):
        return Page(number, body.rows, body.meta)  # type: ignore[arg-type]
    try:
        page = page_from_body(body, number)
    except ValueError as exc:
        raise shape_error(EVENT_LIST, str(exc)) from None
    return replace(page, items=quarantine.objects_or_marked(page.items))


def _awaited(pages: Iterator[Page[Any]], groups: PageGroups) -> Iterator[Page[Any]]:
    """`pages` with each page handed to its group replaced by the page its group read."""
    try:
        for page in pages:
            yield groups.page(page) if isinstance(page, AwaitedPage) else page
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()  # the pager's own stop: pages not yet requested are dropped
