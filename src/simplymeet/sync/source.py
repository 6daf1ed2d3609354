"""The dlt source: one resource per readable endpoint family, landing Arrow tables.

Rows are cut into Arrow tables by `tables.py` (no per-row dlt normalization: ../shared/FACTS.md
measured that path at a tenth of the CPU and a twentieth of the memory of yielding dicts).
Because we unnest child lists ourselves, each child table is declared as a table variant of
its parent's resource and merged on its own key; rows of a child whose parent was re-synced
in a later run are removed after the load by `cleanup.py`, so a participant removed upstream
disappears from the warehouse.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import itertools
import logging
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

import dlt
import pyarrow as pa
from dlt.common.destination import TLoaderFileFormat
from dlt.extract.resource import DltResource
from dlt.extract.source import DltSource

from simplymeet.accounts import DEFAULT_ACCOUNT
from simplymeet.client import AuthError, NotFoundError, SimplyMeetError, ValidationError
from simplymeet.contract import dtos
from simplymeet.contract.arrays import as_list
from simplymeet.contract.dates import parse_api_datetime, parse_time_of_day
from simplymeet.sync import (
    arrow_pages,
    availability_reads,
    null_recheck,
    policy_versions,
    quarantine,
)
from simplymeet.sync import events as ev
from simplymeet.sync import history as h
from simplymeet.sync import per_type_refresh as ptr
from simplymeet.sync import tables as t
from simplymeet.sync.api import SyncApi, one_policy, shape_error
from simplymeet.sync.arrow_pages import ArrowRows
from simplymeet.sync.checks import REREAD_CAP, IncompleteScanError, ScanReport
from simplymeet.sync.cursor import EventCursor
from simplymeet.sync.resource_names import RESOURCE_NAMES, check_resources
from simplymeet.sync.snapshots import Snapshots, resource_digests
from simplymeet.sync.values import as_id

log = logging.getLogger("simplymeet.sync")

MERGE = {"disposition": "merge", "strategy": "delete-insert"}
INSERT_ONLY = {"disposition": "merge", "strategy": "insert-only"}
REPLACE = {"disposition": "merge", "strategy": "delete-insert"}
"""A replace of one account's rows: dlt's own `replace` would truncate every account's.
`_declare` merges such tables on `account`, so a load deletes the account's rows and inserts
what was read; `cleanup.drop_unrefreshed` empties an account whose list came back empty."""
APPEND = "append"

DEDUP_SORT = {t.EVENTS.name: "updated_at"}
"""Of the rows of one key in one load, the newest by this column is kept (merge, and
`first_load.drop_duplicate_keys` after an append)."""
RENEW_CHILDREN = "renew_children"
"""The events resource's state: events read in two versions whose child rows a read by id
has yet to replace (`ScanReport.read_in_versions`)."""
FULL_READ_OWED = "full_read_owed"
"""Events state: a run that could not read every event again (a write-back's refresh,
reading by id) found event columns the rows held were landed without; the next run reads
every event, and a complete read of every event clears it (`migrate.columns_added_since`:
that run's load adds the columns, after which they are no longer seen missing)."""

RESOURCE_TABLES: dict[str, list[t.Table]] = {
    "events": [t.EVENTS],
    "event_types": [t.EVENT_TYPES],
    "event_type_tags": [t.EVENT_TYPE_TAGS],
    "users": [t.USERS, t.ORGANIZATIONS],
    "current_user": [t.CURRENT_USER],
    "user_event_type_tags": [t.USER_EVENT_TYPE_TAGS],
    "polls": [t.POLLS, t.POLL_RESULTS],
    "acl_rules": [t.ACL_RULES],
    "integrations": [t.INTEGRATIONS],
    "cancellation_policies": [t.CANCELLATION_POLICIES],
    "availability": [t.AVAILABILITY_DAYS, t.AVAILABILITY_SLOTS],
}
"""The raw tables each resource writes and the runner counts (`event_versions`, the history,
and `_rejected_rows` aside)."""
assert set(RESOURCE_TABLES) == set(RESOURCE_NAMES)


def landed_tables(resources: Sequence[str]) -> list[t.Table]:
    """The counted tables of `resources`: parents, then their children."""
    out: list[t.Table] = []
    for resource in resources:
        for table in RESOURCE_TABLES.get(resource, []):
            out.append(table)
            out.extend(child.table for child in table.children)
    return out


def appendable_tables(resources: Sequence[str]) -> list[t.Table]:
    """The tables an account's first load may append to (`first_load.py`): the counted ones,
    and the events' history."""
    tables = landed_tables(resources)
    if "events" in resources:
        tables.append(h.EVENT_VERSIONS)
    return tables


EVENT_BATCH_ROWS = 1_000
"""Events flattened into one Arrow table at a time: large enough to amortize dlt's per-item
cost, small enough that the page fetches never idle while a batch is cut (B1 measured 5,000
stalling the pool) and memory does not grow with the organization."""
ARROW_BATCH_ROWS = 5_000
"""The same for a batch of pages read into Arrow: cutting it costs little, while dlt spends
a fixed ~10 ms per Arrow item it extracts (it re-derives the table's schema and resolves its
configuration each time; B3's profile): fewer, larger items."""
EDGE_CUT_ROWS = 10_000
"""Edge fingerprints held before those below the window's current start are let go."""

# Every resource is `parallelized`: dlt steps the generators in a thread pool, so the dozen
# small endpoints are read while the events are paged instead of one after another; the
# client's semaphore still bounds the requests in flight.


class ReadOnce:
    """One list endpoint read at most once per source, for every resource that needs it.

    The event type list is read by `event_types`, and by `event_type_tags` and `availability`
    to know which types to ask about: three reads of one list per run, each queued behind
    dlt's worker pool (B2's incremental run: a third of its requests). Read once, the three
    also work from the same list (as `user_event_type_tags` and `event_type_tags` do from the
    user tag list). A failed read is not kept: the next caller reads again.
    """

    def __init__(self, read: Callable[[], list[dict[str, Any]]]) -> None:
        self._read = read
        self._lock = threading.Lock()
        self._rows: list[dict[str, Any]] | None = None

    def __call__(self) -> list[dict[str, Any]]:
        """The rows, each caller its own copy (a resource may change the rows it emits)."""
        with self._lock:
            if self._rows is None:
                self._rows = self._read()
            return copy.deepcopy(self._rows)


_DETAIL_ONLY = frozenset(dtos.EventTypeDTO.model_fields) - frozenset(
    dtos.SimpleEventTypeDTO.model_fields
)


def whole_event_types(api: SyncApi, listed: Callable[[], list[Any]]) -> list[Any]:
    """The event type list's items as EventTypeDTOs.

    The reference leaves the list's return unsaid ("Retour: -") and defines a summary,
    SimpleEventTypeDTO, that no endpoint names: a server may list types as summaries. An item
    with none of EventTypeDTO's own fields (duration, users, questions...), or with its hosts
    (`users`) served null or left out, is read whole from `GET /event-type/{id}`
    (`read_whole`).
    """

    def partial(item: dict[str, Any]) -> bool:
        return not _DETAIL_ONLY.intersection(item) or _children_unserved(t.EVENT_TYPES, item)

    return read_whole(api, "event_type_get", "event type", listed, partial)


def whole_polls(api: SyncApi, listed: Callable[[], list[Any]]) -> list[Any]:
    """The poll list's items, each whose `availability` is served null or left out read whole
    from `GET /poll/{id}` (`read_whole`): a list may leave out what is costly to join, and a
    null served once would drop the poll's slots and votes, exit 0."""
    return read_whole(
        api, "poll_get", "poll", listed, functools.partial(_children_unserved, t.POLLS)
    )


_NEVER_EMPTY = {t.EVENT_TYPES.name: ("users",), t.POLLS.name: ("availability",)}
"""The child lists an item always has rows of: an event type's hosts, a poll's slots. Served
null or left out, they are missing, not empty; the others (durations, questions) a server
may leave out where they are empty, and reading each such item by id on every run would
cost a request per item."""


def _children_unserved(table: t.Table, item: dict[str, Any]) -> bool:
    """Whether `item` leaves out, or serves null, a list it always has rows of."""
    return any(item.get(key) is None for key in _NEVER_EMPTY.get(table.name, ()))


def read_whole(
    api: SyncApi,
    endpoint: str,
    what: str,
    listed: Callable[[], list[Any]],
    partial: Callable[[dict[str, Any]], bool],
) -> list[Any]:
    """`listed()`'s items, each that is `partial` replaced by what `endpoint` answers for its
    id, where that is the whole object (with an id, or with fields the item lacks).

    An item answered 404 there was deleted after the list was read, or the server is wrong:
    `listed` read once more says which. One no longer listed is left out; one still listed
    fails the read. An answer of nothing (`null`, `{}`) or of no object fails it too: kept as
    listed, the item would land without what it left out (an event type's duration and
    hosts, a poll's slots and votes), exit 0.
    """
    items = listed()
    wanted = {
        index: item_id
        for index, item in enumerate(items)
        if isinstance(item, dict) and (item_id := as_id(item.get("id"))) is not None
        and partial(item)
    }  # fmt: skip

    def read(index: int) -> Any:
        try:
            return api.get_object(endpoint, {"id": wanted[index]})
        except NotFoundError as exc:
            return exc

    out = list(items)
    gone: dict[int, NotFoundError] = {}
    for index, body in api.map_concurrently(read, wanted):
        if isinstance(body, NotFoundError):
            gone[index] = body
            continue
        whole = body[0] if isinstance(body, list) and len(body) == 1 else body
        if isinstance(whole, dict) and as_id(whole.get("id")) is not None:
            out[index] = whole
        elif isinstance(whole, dict) and any(
            value is not None and items[index].get(key) is None for key, value in whole.items()
        ):
            out[index] = {**whole, "id": wanted[index]}  # the object, its id left out
        else:
            kind = "nothing" if not whole else f"no {what} ({type(whole).__name__})"
            raise shape_error(endpoint, f"{what} {wanted[index]} answered {kind}")
    if gone:
        still = {as_id(item.get("id")) for item in listed() if isinstance(item, dict)}
        for index, error in gone.items():
            if wanted[index] in still:
                raise error
        log.info("%s(s) %s deleted while being read", what, sorted(wanted[i] for i in gone))
        out = [item for index, item in enumerate(out) if index not in gone]
    return out


def _all_or_nothing(
    name: str, report: ScanReport | None
) -> Callable[[Callable[[], Iterator[Any]]], Callable[[], Iterator[Any]]]:
    """Wrap a resource other than the events: everything it yields, or nothing at all.

    With a `report`, a read of it that fails for good (a 5xx or a dropped connection after the
    retries, a 403 of that one endpoint, a body no reading makes sense of, a list that never
    adds up to its count) is recorded there instead of failing the extract: the other
    resources still load, and the runner fails the run naming it afterwards. Nothing of the
    failed resource is loaded, so none of its tables is replaced or emptied, and the per-type
    refresh plan does not record what it did not read. A refused key (401, or a 403 before
    any call was accepted) still stops the run.
    """

    def wrap(produce: Callable[[], Iterator[Any]]) -> Callable[[], Iterator[Any]]:
        @functools.wraps(produce)
        def all_or_nothing() -> Iterator[Any]:
            try:
                # Every read of a resource happens before its first yield; held back, no
                # table of it reaches the load unless the whole read succeeded.
                items = list(produce())
            except SimplyMeetError as error:
                refused = isinstance(error, AuthError) and error.reason != "endpoint_refused"
                if report is None or refused:
                    raise
                report.resource_failed(name, error)
                return
            except IncompleteScanError as error:
                # A list that never added up to its count: the run exits 8 naming it, after
                # the other resources loaded.
                if report is None:
                    raise
                report.resource_incomplete(name, error)
                return
            yield from items

        return all_or_nothing

    return wrap


def _declare(
    resource: DltResource,
    table: t.Table,
    write_disposition: Any,
    *,
    merge_key: Sequence[str] | None = None,
    dedup_sort: str | None = None,
) -> None:
    # A table without a key (the quarantine's append) stays without one.
    key = table.landed_key if table.primary_key else ()
    columns: dict[str, dict[str, Any]] = {name: {"name": name, "nullable": False} for name in key}
    if dedup_sort:
        columns[dedup_sort] = {"name": dedup_sort, "dedup_sort": "desc"}
    if write_disposition is REPLACE:
        merge_key = [t.ACCOUNT]
    elif merge_key:
        merge_key = [t.ACCOUNT, *merge_key]
    resource.apply_hints(
        table_name=table.name,
        write_disposition=write_disposition,
        primary_key=list(key),
        merge_key=list(merge_key) if merge_key else None,
        columns=columns,
        create_table_variant=True,
    )


def in_file_format(source: DltSource, file_format: TLoaderFileFormat | None) -> None:
    """Have every table of `source` loaded in `file_format` (None: dlt's choice). A hint of
    each table `_declare` declared: the resource's own hints do not reach those."""
    if file_format is None:
        return
    for resource in source.resources.values():
        for name in list(resource._hints_variants):  # the tables `_declare` declared
            resource.apply_hints(
                table_name=name, file_format=file_format, create_table_variant=True
            )


def _append_instead(resource: DltResource, table: t.Table) -> None:
    """Load `table` with `append` (an account's first load, `first_load.py`): its merge key
    and `dedup_sort` are dropped (dlt warns about them on an append), its key is kept."""
    resource.apply_hints(table_name=table.name, columns={}, merge_key=[], create_table_variant=True)
    _declare(resource, table, APPEND)


def _emit(
    table: t.Table,
    rows: Sequence[dict[str, Any]],
    synced_at: dt.datetime,
    hold: quarantine.CursorHold | None = None,
    snapshots: Snapshots | None = None,
    set_aside: Sequence[quarantine.Rejected] = (),
) -> Iterator:
    """Every table cut from `rows` (empty ones too, so replace truncates them), and the rows
    that break the contract into `_rejected_rows` (`hold` learns which they were), with those
    the caller `set_aside` already (`quarantine.split_repeats`).

    With `snapshots` (a replaced list), nothing when the list is unchanged since its last load;
    a list with a rejected row is always loaded, so each run reports it."""
    tables, rejected = t.cut(table, rows, synced_at)
    rejected = [*set_aside, *rejected]
    if hold is not None:
        hold.scan(rows, rejected)
    if snapshots is not None and snapshots.is_unchanged(
        table.name, rows, tables, resource_digests(), rejected=bool(rejected)
    ):
        return
    for name, arrow in tables.items():
        yield dlt.mark.with_table_name(arrow, name)
    if rejected:
        arrow = quarantine.to_arrow(table, rejected, synced_at)
        yield dlt.mark.with_table_name(arrow, t.REJECTED_ROWS.name)


# --- events ---------------------------------------------------------------------------------


def events_resource(
    api: SyncApi,
    synced_at: dt.datetime,
    *,
    page_size: int,
    lag_seconds: int,
    full_refresh: bool = False,
    since: dt.datetime | None = None,
    refresh_ids: Sequence[int] | None = None,
    recheck_ids: Sequence[int] = (),
    recheck_sweep: bool = False,
    report: ScanReport | None = None,
    history: bool = True,
    lookback_seconds: int = 0,
    landed_stamps: Mapping[int, dt.datetime] | None = None,
    owe_full_read: bool = False,
) -> DltResource:
    """Events merged on id; incremental on updatedAt through an `EventCursor` in dlt state.

    `full_refresh` reads everything and `since` re-reads from a date: both also reset the
    cursor to what this run proves, where a normal run could only ever move it forward.
    `recheck_ids` are read again by id as well (`null_recheck.py`); `recheck_sweep` says they
    are every event holding a null.
    With `history`, every version read also lands in `event_versions` (see `history.py`).
    An incremental scan reads from `lookback_seconds` below the cursor where that is more
    than the lag (a reconciling run: a change stamped by a clock running behind the server's
    by more than the lag is older than the cursor when it lands). Of the rows it reads below
    the lag's window, those served with the `updatedAt` the warehouse holds for their id
    (`landed_stamps`) are not loaded again. `owe_full_read`: a read by id records that the
    next run must read every event (`FULL_READ_OWED`).
    """
    report = report if report is not None else ScanReport()
    lag = dt.timedelta(seconds=lag_seconds)
    lookback = max(lag, dt.timedelta(seconds=lookback_seconds))

    key = list(t.EVENTS.landed_key)

    @dlt.resource(name="events", write_disposition=MERGE, primary_key=key, parallelized=True)
    def events() -> Iterator[Any]:
        state = dlt.current.resource_state()
        cursor = EventCursor.load(state)
        if refresh_ids is not None:
            served: set[int] = set()
            for rows in api.events_by_ids(refresh_ids, page_size):
                served.update(i for i in (as_id(row.get("id")) for row in rows) if i is not None)
                yield from _emit_events(rows, synced_at, None, history)
            report.read_by_id.update(served)
            # Read again, or asked for and not served (a server that lists a canceled event
            # only when asked for its state): nothing more to do for them.
            asked = set(refresh_ids)
            state[RENEW_CHILDREN] = [i for i in state.get(RENEW_CHILDREN) or () if i not in asked]
            if owe_full_read:
                state[FULL_READ_OWED] = True
            return
        scan = ev.EventScan(api, page_size, report)
        scan.order_proven = cursor.order_proven(synced_at)
        window: dt.datetime | None
        reads_every_event = full_refresh or (cursor.updated_at is None and since is None)
        created_after = False
        if cursor.updated_at is None or full_refresh:
            window = since if not full_refresh else None
            pages = scan.since(window) if window is not None else scan.everything()
        else:
            start = cursor.updated_at - lookback
            window = min(start, since) if since is not None else start
            pages = scan.since(window, below_cursor=lookback)
            if cursor.last_id is not None:
                # A never-updated event may be served without updatedAt and sorted after every
                # stamp, where the read above stops: every event created since is read by id.
                pages = itertools.chain(pages, scan.created_after(cursor.last_id))
                created_after = True
        # A list may leave canceled events out unless asked for a state.
        pages = itertools.chain(pages, scan.canceled_since(window))
        scan.read_ahead_what_follows(created_after=created_after)
        if recheck_ids and not full_refresh:
            pages = itertools.chain(pages, api.events_by_ids(recheck_ids, page_size))
        # Rows at the cursor's edge are read again every run (lag, equal timestamps); those
        # that are byte-for-byte what the last run loaded are skipped, so an unchanged source
        # loads nothing.
        rereading = full_refresh or since is not None
        seen_edge = {} if rereading else cursor.edge
        edge = _Edge()
        hold = quarantine.CursorHold()
        batch: list[Any] = []  # served dicts, and pages still in Arrow (`ArrowRows`)
        batch_rows = 0
        limit = ARROW_BATCH_ROWS
        looking_back = landed_stamps is not None and lookback > lag and not rereading
        # Read by id to be landed whatever they are stamped (a null served once).
        asked_again = {int(i) for i in recheck_ids}
        for read in pages:
            # Asked page by page: it falls with the newest row read (see `safe_cursor`).
            edge_from = scan.edge_from(lag)
            by_row: Sequence[dict[str, Any]] = read
            near = (
                read.at_or_after(edge_from)
                if isinstance(read, ArrowRows) and not seen_edge and not looking_back
                else None
            )
            if isinstance(read, ArrowRows) and near is not None:
                # A page in Arrow: only its rows in the edge window are looked at one by one.
                for row in read.pick(near):
                    edge.add(row, ev.fingerprint(row), edge_from)
                batch.append(read)
                batch_rows += len(read)
                by_row = ()
            if by_row:
                limit = EVENT_BATCH_ROWS  # rows cut one by one: keep the batch small
            for row in by_row:
                # Every row read is compared with the last run's edge, not only those in this
                # run's: the windows differ by the time between runs, and a row in between
                # that was loaded unchanged must not be loaded again (B2 loaded 105 for 100).
                updated = quarantine.updated_at(row)
                keep = updated is None or updated >= edge_from
                if looking_back and not keep and landed_stamps is not None:
                    row_id = as_id(row.get("id"))
                    landed = landed_stamps.get(row_id) if row_id not in asked_again else None
                    if landed is not None and landed == updated:
                        continue  # read again below the window, as it was landed
                if keep or seen_edge:
                    key, digest = str(row.get("id")), ev.fingerprint(row)
                    if keep:
                        edge.add(row, digest, edge_from)
                    if seen_edge.get(key) == digest:
                        continue
                batch.append(row)
                batch_rows += 1
            if batch_rows >= limit:
                yield from _emit_events(batch, synced_at, hold, history)
                batch, batch_rows, limit = [], 0, ARROW_BATCH_ROWS
        if batch:
            yield from _emit_events(batch, synced_at, hold, history)
        for key in hold.keys:
            edge.drop(key)  # a rejected row is read again until it lands
        twice = scan.served_twice()
        report.read_twice(twice)
        report.read_versions(scan.read_in_versions())
        # Kept with this run's load until a read by id replaces their child rows: a run
        # stopped (or failing) before that leaves them to the next run.
        pending = {int(i) for i in state.get(RENEW_CHILDREN) or ()} | report.read_in_versions
        state[RENEW_CHILDREN] = sorted(pending)[:REREAD_CAP]
        # A null the recheck was served again is the server's answer only from a run the
        # server answered cleanly: one that set rows aside, served a version twice or did
        # not add up was glitching, and the next run asks again.
        troubled = bool(hold.keys or twice or report.problems)
        null_recheck.record(
            state, synced_at, [] if troubled else list(recheck_ids), swept=recheck_sweep
        )
        if scan.order_shown is not None:
            cursor.order_shown_at = synced_at if scan.order_shown else None
        cursor.last_scan = {
            "at": synced_at.isoformat(),
            "pages": report.event_pages,
            "reread_pages": report.reread_pages,
            "window_from": report.window_from,
            "gaps": report.gaps_found,
            "complete": scan.complete,
        }
        if scan.complete and reads_every_event:
            state.pop(FULL_READ_OWED, None)
        if scan.complete:
            if scan.highest_id is not None:
                # Only as far as the read above the last id showed every id.
                proven = scan.highest_id
                if scan.tail_top is not None:
                    proven = min(proven, scan.tail_top)
                cursor.last_id = max(cursor.last_id or 0, proven)
            proposed = scan.safe_cursor()
            if proposed is not None:
                # A rejected event holds the cursor at or below it, so a fix upstream that
                # does not touch its updatedAt is still read (see quarantine.CursorHold).
                cursor.updated_at = hold.cap(proposed, cursor.updated_at) or cursor.updated_at
            cursor.edge = edge.at_or_after(scan.edge_from(lag))
            cursor.held_runs = 0
        else:
            # What was read is loaded and the run fails with exit 8 once loaded. The cursor
            # moves only up to the lowest gap left open, so the next run reads that part of
            # the window again, not more: the held window is capped at what is uncertain.
            cursor.held_runs += 1
            cursor.edge = {}
            floor, safe = scan.unproven_below, scan.safe_cursor()
            if floor is not None and safe is not None and cursor.updated_at is not None:
                moved = max(cursor.updated_at, min(floor, safe))
                cursor.updated_at = hold.cap(moved, cursor.updated_at) or cursor.updated_at
        cursor.save(state)

    resource = events()
    _declare(resource, t.EVENTS, MERGE, dedup_sort=DEDUP_SORT[t.EVENTS.name])
    for child in t.EVENTS.children:
        _declare(resource, child.table, MERGE)
    if history:
        _declare(resource, h.EVENT_VERSIONS, INSERT_ONLY)
    return resource


_UNSETTLED = "unsettled"
"""A fingerprint no row has (they are hex digests): the row is loaded again next run."""


class _Edge:
    """Fingerprints of the rows the next run reads again, by id, with their `updatedAt`.

    The window's start falls as the scan reads newer rows, so rows are taken against the
    start known when they were read and cut to the final one at the end (and on the way, so
    a backfill read by id, whose first pages move the start most, keeps few)."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[dt.datetime | None, str]] = {}
        self._cut_at = EDGE_CUT_ROWS

    def add(self, row: dict[str, Any], digest: str, start: dt.datetime) -> None:
        key, stamp = str(row.get("id")), quarantine.updated_at(row)
        known = self._rows.get(key)
        if known is not None and known[0] == stamp and known[1] != digest:
            # Two versions of one row stamped alike (a second's resolution) read in one run:
            # the merge keeps either, ordered by `updatedAt` alone. No fingerprint may say it
            # was loaded as it is now: the next run loads it again.
            digest = _UNSETTLED
        self._rows[key] = (stamp, digest)
        if len(self._rows) >= self._cut_at:
            self._rows = self._cut(start)
            self._cut_at = max(EDGE_CUT_ROWS, 2 * len(self._rows))

    def drop(self, key: str) -> None:
        self._rows.pop(key, None)

    def at_or_after(self, start: dt.datetime) -> dict[str, str]:
        """The fingerprints of rows stamped at or after `start` (or not stamped)."""
        return {key: digest for key, (_, digest) in self._cut(start).items()}

    def _cut(self, start: dt.datetime) -> dict[str, tuple[dt.datetime | None, str]]:
        return {
            key: (stamp, digest)
            for key, (stamp, digest) in self._rows.items()
            if stamp is None or stamp >= start
        }


def _emit_events(
    batch: Sequence[Any],
    synced_at: dt.datetime,
    hold: quarantine.CursorHold | None,
    history: bool,
) -> Iterator:
    """`_emit` of events, plus each landed event's version when `history` is on.

    `batch` holds served dicts and pages read into Arrow (`ArrowRows`). A batch of Arrow
    pages only is cut in Arrow; one that Arrow cannot judge (a null key, a timestamp in
    another form) or that follows a set-aside row is cut from the served dicts, row by row.
    """
    if batch and all(isinstance(part, ArrowRows) for part in batch):
        waiting = hold is not None and hold.waiting
        tables = None if waiting else arrow_pages.cut_events(batch, synced_at)
        if tables is not None:
            for name, arrow in tables.items():
                yield dlt.mark.with_table_name(arrow, name)
                if history and name == t.EVENTS.name:
                    yield dlt.mark.with_table_name(h.versions(arrow), h.EVENT_VERSIONS.name)
            return
    rows = [
        _empty_objects_as_lists(row)
        for part in batch
        for row in (part if isinstance(part, ArrowRows) else (part,))
    ]
    rows, repeated = quarantine.split_repeated_children(t.EVENTS, rows)
    for item in _emit(t.EVENTS, rows, synced_at, hold, set_aside=repeated):
        yield item
        if history and item.meta.table_name == t.EVENTS.name:
            yield dlt.mark.with_table_name(h.versions(item.data), h.EVENT_VERSIONS.name)


_LIST_FIELDS = (*ev.CHILD_LISTS, "relatedEventIds")
"""An event's fields the reference types as arrays."""


def _empty_objects_as_lists(row: Any) -> Any:
    """`row` with an object in an array's place read as the array PHP's `json_encode` meant
    (`{}` the empty one, `{"1": {...}}` one whose first item was removed: `values.as_list`);
    any other object is left for the quarantine to name."""
    if not isinstance(row, dict):
        return row
    served = {name: row.get(name) for name in _LIST_FIELDS if isinstance(row.get(name), dict)}
    lists = {name: as_list(value) for name, value in served.items()}
    read = {name: items for name, items in lists.items() if items is not None}
    return {**row, **read} if read else row


# --- event types, tags ----------------------------------------------------------------------


def event_types_resource(
    event_type_list: ReadOnce,
    synced_at: dt.datetime,
    snapshots: Snapshots | None = None,
    report: ScanReport | None = None,
) -> DltResource:
    """Event types with durations, questions, hosts and request location types."""

    @dlt.resource(name="event_types", write_disposition=REPLACE, parallelized=True)
    @_all_or_nothing("event_types", report)
    def event_types() -> Iterator[Any]:
        rows, repeated = quarantine.split_repeats(t.EVENT_TYPES, event_type_list())
        yield from _emit(t.EVENT_TYPES, rows, synced_at, snapshots=snapshots, set_aside=repeated)

    resource = event_types()
    _declare(resource, t.EVENT_TYPES, REPLACE)
    for child in t.EVENT_TYPES.children:
        _declare(resource, child.table, REPLACE)
    return resource


def event_type_tags_resource(
    api: SyncApi,
    event_type_list: ReadOnce,
    synced_at: dt.datetime,
    page_size: int,
    refresh: ptr.Refresh,
    user_tag_list: ReadOnce,
    snapshots: Snapshots | None = None,
    report: ScanReport | None = None,
) -> DltResource:
    """Tags of every event type, from the per-event-type tag endpoint.

    Only the types `refresh` makes due are asked; the others' tags are the ones last read,
    kept in the source's state, so the replaced table is always whole (see
    `per_type_refresh.py`). Every type is due when the user's event type tags
    (`user_tag_list`) changed since its tags were read.
    """

    @dlt.resource(name="event_type_tags", write_disposition=REPLACE, parallelized=True)
    @_all_or_nothing("event_type_tags", report)
    def event_type_tags() -> Iterator[Any]:
        plan = ptr.RefreshPlan.of("event_type_tags")
        kept = plan.kept("tags_by_type")
        # An event type `event_types` sets aside (no usable id, a value no reading takes)
        # has no row for its tags to belong to: none are asked for.
        fingerprints = ptr.event_type_fingerprints(
            quarantine.landing(t.EVENT_TYPES, event_type_list())
        )
        # A type's tags may be the user's tags (the only ones the API makes): one renamed or
        # deleted changes no type's row, and would stay stale for the whole cadence.
        fingerprints = _with_user_tags(fingerprints, user_tag_list)
        due = plan.due(fingerprints, refresh)
        missing: list[int] = []

        def tags_of(type_id: int) -> list[dict[str, Any]]:
            tags = api.event_type_tags(type_id, page_size)
            if tags is None:
                missing.append(type_id)
            return tags or []

        for type_id, tags in api.map_concurrently(tags_of, due):
            kept[str(type_id)] = list(tags)
        _warn_none("event_type_tags", "the tag list of event type(s)", missing, "404", "no tags")
        for key in [k for k in kept if int(k) not in fingerprints]:
            del kept[key]
        plan.record(due, fingerprints, refresh)
        rows, repeated = quarantine.split_repeats(
            t.EVENT_TYPE_TAGS,
            [
                {**tag, "__parent_id": type_id}
                for type_id in sorted(fingerprints)
                for tag in kept.get(str(type_id), [])
            ],
        )
        yield from _emit(
            t.EVENT_TYPE_TAGS, rows, synced_at, snapshots=snapshots, set_aside=repeated
        )

    resource = event_type_tags()
    _declare(resource, t.EVENT_TYPE_TAGS, REPLACE)
    return resource


def _with_user_tags(fingerprints: dict[int, str], user_tag_list: ReadOnce) -> dict[int, str]:
    """Each type's fingerprint joined with the user tags' as listed now. Unread, the types'
    own are kept: their changed fingerprints make every type due, read again to no harm."""
    try:
        tags = user_tag_list()
    except (SimplyMeetError, IncompleteScanError) as exc:
        log.warning("event_type_tags: the user tags could not be read (%s)", exc)
        return fingerprints
    # In no order: a server may list them in a new order on each request.
    listed = ev.fingerprint({"user_tags": sorted(ev.fingerprint(tag) for tag in tags)})
    return {type_id: f"{own}+{listed}" for type_id, own in fingerprints.items()}


def user_event_type_tags_resource(
    user_tag_list: ReadOnce,
    synced_at: dt.datetime,
    snapshots: Snapshots | None = None,
    report: ScanReport | None = None,
) -> DltResource:
    """The organization's user event type tags."""

    @dlt.resource(name="user_event_type_tags", write_disposition=REPLACE, parallelized=True)
    @_all_or_nothing("user_event_type_tags", report)
    def user_event_type_tags() -> Iterator[Any]:
        served = user_tag_list()
        rows, repeated = quarantine.split_repeats(t.USER_EVENT_TYPE_TAGS, served)
        yield from _emit(
            t.USER_EVENT_TYPE_TAGS, rows, synced_at, snapshots=snapshots, set_aside=repeated
        )

    resource = user_event_type_tags()
    _declare(resource, t.USER_EVENT_TYPE_TAGS, REPLACE)
    return resource


# --- users ----------------------------------------------------------------------------------


def users_resource(
    api: SyncApi,
    synced_at: dt.datetime,
    page_size: int,
    snapshots: Snapshots | None = None,
    report: ScanReport | None = None,
) -> DltResource:
    """Users, and the organizations named in their profiles."""

    @dlt.resource(name="users", write_disposition=REPLACE, parallelized=True)
    @_all_or_nothing("users", report)
    def users() -> Iterator[Any]:
        rows, repeated = quarantine.split_repeats(t.USERS, api.list_all("user_list", page_size))
        yield from _emit(t.USERS, rows, synced_at, snapshots=snapshots, set_aside=repeated)
        organizations: dict[Any, dict[str, Any]] = {}
        for row in rows:
            org = row.get("organization")
            if isinstance(org, dict) and org.get("id") is not None:
                organizations[org["id"]] = org
        yield from _emit(
            t.ORGANIZATIONS, list(organizations.values()), synced_at, snapshots=snapshots
        )

    resource = users()
    _declare(resource, t.USERS, REPLACE)
    _declare(resource, t.ORGANIZATIONS, REPLACE)
    return resource


def current_user_resource(
    api: SyncApi,
    synced_at: dt.datetime,
    snapshots: Snapshots | None = None,
    report: ScanReport | None = None,
) -> DltResource:
    """The user who owns the API key."""

    @dlt.resource(name="current_user", write_disposition=REPLACE, parallelized=True)
    @_all_or_nothing("current_user", report)
    def current_user() -> Iterator[Any]:
        rows = [_one_user(api.get_object("current_user_get"))]
        yield from _emit(t.CURRENT_USER, rows, synced_at, snapshots=snapshots)

    resource = current_user()
    _declare(resource, t.CURRENT_USER, REPLACE)
    return resource


def _one_user(body: Any) -> Any:
    """The UserDTO of a `current-user` answer: the reference leaves its shape unsaid, so an
    array holding one user is that user. An array of any other length names no one user."""
    if not isinstance(body, list):
        return body
    if len(body) == 1:
        return body[0]
    raise shape_error("current_user_get", f"expected one UserDTO, got an array of {len(body)}")


# --- polls ----------------------------------------------------------------------------------


def _slots_keyed(poll: Any) -> Any:
    """A PollDTO whose slots each have an id of their own within the poll.

    The reference describes PollAvailabilityDTO's `id` as "Poll ID": a server may serve every
    slot of a poll with the poll's id, which keys no slot (merged on it, one slot of three
    would land, and the votes of all three under it). Such slots are numbered by their
    position in the poll (1, 2, …), as a server numbering them within each poll does, and
    their votes follow them. Slots sharing another id are left as served: the poll is set
    aside (`quarantine.split_repeats`). docs/api-notes.md has the reasoning."""
    if not isinstance(poll, dict):
        return poll
    slots = as_list(poll.get("availability"))
    if slots is None or len(slots) < 2:
        return poll
    own = t.as_id(poll.get("id"))
    if own is None or not all(
        isinstance(slot, dict) and t.as_id(slot.get("id")) == own for slot in slots
    ):
        return poll
    numbered = [{**slot, "id": number} for number, slot in enumerate(slots, start=1)]
    return {**poll, "availability": numbered}


def polls_resource(
    api: SyncApi,
    synced_at: dt.datetime,
    page_size: int,
    snapshots: Snapshots | None = None,
    report: ScanReport | None = None,
) -> DltResource:
    """Polls with their availability slots and each slot's results."""

    @dlt.resource(name="polls", write_disposition=REPLACE, parallelized=True)
    @_all_or_nothing("polls", report)
    def polls() -> Iterator[Any]:
        # A poll's `user` and `eventType` (typed by name only) may be served as their ids:
        # `values.getter` reads either.
        listed = functools.partial(_listed, "polls", api, "poll_list", page_size)
        served = [_slots_keyed(poll) for poll in whole_polls(api, listed)]
        rows, repeated = quarantine.split_repeats(t.POLLS, served)
        yield from _emit(t.POLLS, rows, synced_at, snapshots=snapshots, set_aside=repeated)
        results: list[dict[str, Any]] = []
        # Only the votes of polls that land: a poll set aside (no id, a slot without one) has
        # its votes set aside with it, inside the poll as served.
        for poll in rows:
            if quarantine.problem(t.POLLS, poll) is not None:
                continue
            for slot in as_list(poll.get("availability")) or []:
                served = slot.get("results")
                votes = as_list(served) if served is not None else []
                if votes is None:
                    # Votes served as no list: set aside as served.
                    results.append(quarantine.NotAnObject(served))
                    continue
                for position, result in enumerate(votes):
                    if not isinstance(result, dict):
                        # A vote served as null: set aside as served, the other votes land.
                        results.append(quarantine.NotAnObject(result))
                        continue
                    results.append(
                        {
                            **result,
                            "__poll_id": poll.get("id"),
                            "__parent_id": slot.get("id"),
                            "__position": position,
                        }
                    )
        yield from _emit(t.POLL_RESULTS, results, synced_at, snapshots=snapshots)

    resource = polls()
    _declare(resource, t.POLLS, REPLACE)
    for child in t.POLLS.children:
        _declare(resource, child.table, REPLACE)
    _declare(resource, t.POLL_RESULTS, REPLACE)
    return resource


# --- small configuration endpoints ----------------------------------------------------------


def acl_rules_resource(
    api: SyncApi,
    synced_at: dt.datetime,
    page_size: int,
    snapshots: Snapshots | None = None,
    report: ScanReport | None = None,
) -> DltResource:
    """ACL rules of the API key's user."""

    @dlt.resource(name="acl_rules", write_disposition=REPLACE, parallelized=True)
    @_all_or_nothing("acl_rules", report)
    def acl_rules() -> Iterator[Any]:
        served = api.list_all("acl_list", page_size, keyed_by="resource")
        rows, repeated = quarantine.split_repeats(t.ACL_RULES, served)
        yield from _emit(t.ACL_RULES, rows, synced_at, snapshots=snapshots, set_aside=repeated)

    resource = acl_rules()
    _declare(resource, t.ACL_RULES, REPLACE)
    return resource


def integrations_resource(
    api: SyncApi,
    synced_at: dt.datetime,
    snapshots: Snapshots | None = None,
    report: ScanReport | None = None,
) -> DltResource:
    """User and organization integrations, one row each (see `integration_rows`)."""

    @dlt.resource(name="integrations", write_disposition=REPLACE, parallelized=True)
    @_all_or_nothing("integrations", report)
    def integrations() -> Iterator[Any]:
        rows = integration_rows(api.get_object("integration_list"))
        yield from _emit(t.INTEGRATIONS, rows, synced_at, snapshots=snapshots)

    resource = integrations()
    _declare(resource, t.INTEGRATIONS, REPLACE)
    return resource


UNSCOPED = "unscoped"
"""The scope of integrations served as one plain array: it does not say whose they are."""


def integration_rows(body: Any) -> list[dict[str, Any]]:
    """Rows of an integration list, in every shape a reading of the reference gives.

    IntegrationListDTO is `{user: [...], organization: [...]}`; a scope may also come keyed by
    name, the whole answer as one plain array (`[]`: no integrations), whose items land with
    the scope `UNSCOPED`, or as an array of IntegrationListDTOs ("Returns list of
    integrations"). Any other shape is a `ProtocolError` naming it.
    """
    if body is None or body == {}:
        return []
    if isinstance(body, list) and body and all(_integration_list_dto(item) for item in body):
        scopes: list[tuple[str, Any]] = [
            (scope, items)
            for scope in ("user", "organization")
            for items in [[i for dto in body for i in _scope_items(dto.get(scope), scope)]]
        ]
    elif isinstance(body, list):
        scopes = [(UNSCOPED, body)]
    elif isinstance(body, dict):
        scopes = [(scope, body.get(scope)) for scope in ("user", "organization")]
    else:
        raise shape_error("integration_list", f"expected an object, got {type(body).__name__}")
    rows: list[dict[str, Any]] = []
    for scope, items in scopes:
        for position, item in enumerate(_scope_items(items, scope)):
            name = item.get("name") or item.get("type") if isinstance(item, dict) else item
            rows.append({"__scope": scope, "__position": position, "__name": name, "__item": item})
    return rows


def _integration_list_dto(item: Any) -> bool:
    """Whether an array's item is an IntegrationListDTO (`user`, `organization` and no more)."""
    return isinstance(item, dict) and bool(item) and set(item) <= {"user", "organization"}


def _scope_items(items: Any, scope: str) -> list[Any]:
    """A scope's integrations as a list: served as one, keyed by name, or absent."""
    if isinstance(items, dict):
        return [
            {"name": k, **(v if isinstance(v, dict) else {"value": v})} for k, v in items.items()
        ]
    if items is None:
        return []
    if not isinstance(items, list):
        raise shape_error(
            "integration_list", f"expected `{scope}` to be an array, got {type(items).__name__}"
        )
    return items


def cancellation_policies_resource(
    api: SyncApi,
    synced_at: dt.datetime,
    report: ScanReport | None = None,
    landed: policy_versions.Landed | None = None,
) -> DltResource:
    """Organization and user cancellation policies; every version seen is kept.

    Insert-only on (type, version): a version already in the warehouse keeps the
    `first_seen_at` of the run that first saw it, which is when it came into force as far as
    the warehouse can tell. Each change lands as a version, whatever the server's `version`
    says (`policy_versions.py`), judged against the versions `landed` (read from the
    warehouse before the run). A policy answered 404 after a version of it was landed lands
    its removal as a version (`policy_versions.removal`), so it is no longer in force.
    """

    @dlt.resource(name="cancellation_policies", write_disposition=INSERT_ONLY, parallelized=True)
    @_all_or_nothing("cancellation_policies", report)
    def cancellation_policies() -> Iterator[Any]:
        rows = []
        scopes = {
            "organization_cancellation_policy_get": "organization",
            "user_cancellation_policy_get": "user",
        }
        missing: list[str] = []

        def policy_of(name: str) -> dict[str, Any] | None:
            try:
                return one_policy(name, api.get_object(name))
            except NotFoundError as error:
                api.none_if_not_found(error)
                # "No cancellation policy": none in force. The versions already kept stay
                # (insert-only); one that was in force is followed by its removal.
                missing.append(scopes[name])
                return None

        # Side by side: one after the other, the second was the last request of an
        # incremental run, a round trip after every other (B2's timeline).
        kept = copy.deepcopy(landed or {})  # recorded into as versions are chosen
        before = {kind: set(record.get("versions", ())) for kind, record in (landed or {}).items()}

        def add(kind: str, row: dict[str, Any]) -> None:
            # A version the warehouse holds would be dropped by the insert-only merge anyway;
            # sent, it was counted as loaded and updated on every run of an unchanged account.
            if str(row["version"]) not in before.get(kind, set()):
                rows.append(row)

        for name, policy in api.map_concurrently(policy_of, scopes):
            scope = scopes[name]
            if policy is None and (removed := policy_versions.removal(kept.get(scope))):
                record = kept[scope]
                add(
                    scope,
                    {
                        **removed,
                        "type": scope,
                        "version": policy_versions.landed_version(record, removed),
                        "__first_seen_at": synced_at,
                    },
                )
            elif policy:
                kind = policy.get("type") or scope
                record = kept.setdefault(str(kind).strip().lower(), {})
                add(
                    str(kind).strip().lower(),
                    {
                        **policy,
                        "type": kind,
                        "version": policy_versions.landed_version(record, policy),
                        "__first_seen_at": synced_at,
                    },
                )
        _warn_none(
            "cancellation_policies",
            "the policy of",
            missing,
            "404",
            "no policy in force (a policy landed before lands its removal as a version)",
        )
        yield from _emit(t.CANCELLATION_POLICIES, rows, synced_at)

    resource = cancellation_policies()
    _declare(resource, t.CANCELLATION_POLICIES, INSERT_ONLY)
    return resource


# --- availability snapshots -----------------------------------------------------------------


def availability_resource(
    api: SyncApi,
    event_type_list: ReadOnce,
    synced_at: dt.datetime,
    page_size: int,
    horizon_days: int,
    refresh: ptr.Refresh,
    report: ScanReport | None = None,
) -> DltResource:
    """What each event type offers over the next `horizon_days`, recorded as of today.

    Merged on (snapshot_date, event_type_id): a second sync on the same day replaces that
    day's snapshot, earlier days' snapshots stay, so capacity over time can be computed.
    Only the types `refresh` makes due are read; every type is due on a new snapshot date, so
    each snapshot day holds every event type (see `per_type_refresh.py`).

    A read replaces its type's snapshot of the day whatever it answers: no days or no hours
    (fully booked), a 400 for a disabled type or a 404 read as offering nothing, and a type
    gone from the list, leave none of the type's rows of the day; the runner deletes them
    after the load (`cleanup.drop_replaced_snapshots`), as the merge deletes only keys that
    have new rows. A read that fails (a 5xx, a timeout) replaces nothing: the resource loads
    nothing and the run fails naming it (`_all_or_nothing`).
    """

    @dlt.resource(name="availability", write_disposition=MERGE, parallelized=True)
    @_all_or_nothing("availability", report)
    def availability() -> Iterator[Any]:
        snapshot_date = synced_at.date()
        types = event_type_list()
        durations = {t.as_id(row.get("id")): availability_reads.slot_minutes(row) for row in types}
        rows_by_id = {t.as_id(row.get("id")): row for row in types}
        disabled = {t.as_id(row.get("id")) for row in types if _is_disabled(row)}
        plan = ptr.RefreshPlan.of("availability")
        fingerprints = ptr.event_type_fingerprints(types)
        today = dataclasses.replace(refresh, snapshot_date=snapshot_date)
        due = plan.due(fingerprints, today)
        days: list[dict[str, Any]] = []
        slots: list[dict[str, Any]] = []
        refused: dict[str, list[int]] = {"404": [], "400": []}
        unreadable: list[Any] = []

        def availability_of(type_id: int) -> list[dict[str, Any]]:
            def days_from(asked: dict[str, str]) -> list[dict[str, Any]]:
                return api.list_all(
                    "event_type_availability",
                    page_size,
                    path_params={"id": type_id},
                    query=asked,
                    paged=False,
                    keyed_by="date",
                )

            try:
                query = availability_reads.availability_query(
                    snapshot_date, horizon_days, rows_by_id[type_id]
                )
                return _through_end_date(days_from, query, horizon_days)
            except NotFoundError:
                refused["404"].append(type_id)
                return []
            except ValidationError:
                # A disabled type offers nothing; a server may refuse to say so (400).
                if type_id not in disabled:
                    raise
                refused["400"].append(type_id)
                return []

        fetched = api.map_concurrently(availability_of, due)
        for type_id, entries in fetched:
            for entry in entries:
                if not isinstance(entry, dict):
                    days.append(quarantine.NotAnObject(entry))  # set aside as served
                    continue
                # A day served without its date is set aside with its hours (the date keys
                # them), as one served with a date no reading parses is: not dropped.
                day = _day_of(entry) or None
                common = {
                    "__snapshot_date": snapshot_date,
                    "__event_type_id": type_id,
                    "__timezone": "UTC",
                }
                days.append({**entry, "date": day, **common})
                for hour in entry.get("hours") or []:
                    if not isinstance(hour, dict):
                        # An hour served as null: set aside as served, the others land.
                        slots.append(quarantine.NotAnObject(hour))
                        continue
                    start_at = _slot_start(day or "", hour.get("start"))
                    if start_at is None and day is not None:
                        unreadable.append(hour.get("start"))
                    slots.append(
                        {
                            **hour,
                            **common,
                            "__date": day,
                            "__start_at": start_at,
                            "__duration": durations.get(type_id),
                        }
                    )
        # Cut before the plan records the reads: a type recorded as read has its earlier rows
        # of the day deleted after the load (`per_type_refresh.snapshot_reads`), so a cut that
        # fails must leave the plan as it was.
        items = [
            *_emit(t.AVAILABILITY_DAYS, days, synced_at),
            *_emit(t.AVAILABILITY_SLOTS, slots, synced_at),
        ]
        plan.record(due, fingerprints, today)
        if unreadable:
            log.warning(
                "availability: %d slot start(s) read as no time (e.g. %r); landed without start_at",
                len(unreadable),
                unreadable[0],
            )
        for status, ids in refused.items():
            _warn_none(
                "availability",
                "the availability of event type(s)",
                ids,
                status,
                "offering nothing (their snapshot of the day is emptied)",
            )
        yield from items

    resource = availability()
    key = ["snapshot_date", "event_type_id"]
    _declare(resource, t.AVAILABILITY_DAYS, MERGE, merge_key=key)
    _declare(resource, t.AVAILABILITY_SLOTS, MERGE, merge_key=key)
    return resource


def _through_end_date(
    days_from: Callable[[dict[str, str]], list[dict[str, Any]]],
    query: dict[str, str],
    rounds: int,
) -> list[dict[str, Any]]:
    """The availability of `query`'s whole range, however few days one answer holds.

    A plain array has no count to check, and the reference states no range limit: an answer
    whose last date falls short of `endDate` is followed by a read from the day after it,
    until one adds no later day (a server that leaves out days it has nothing for)."""
    days = days_from(query)
    end = query["endDate"]
    for _ in range(rounds):
        last = max((_day_of(entry) for entry in days), default="")
        if not last or last >= end:
            break
        try:
            after = dt.date.fromisoformat(last) + dt.timedelta(days=1)
        except ValueError:
            break
        later = [
            e for e in days_from({**query, "startDate": after.isoformat()}) if _day_of(e) > last
        ]
        if not later:
            break
        days += later
    return days


def _day_of(entry: dict[str, Any]) -> str:
    return str(entry.get("date") or "")[:10]


def _is_disabled(row: dict[str, Any]) -> bool:
    """Whether an EventTypeDTO row says the type is disabled (`isEnabled` false)."""
    value = row.get("isEnabled")
    # A bool of the reference, or what a server spells it as: 0, "0", "false".
    return value is False or str(value).strip().lower() in ("0", "false")


def _listed(resource: str, api: SyncApi, endpoint: str, page_size: int) -> list[dict[str, Any]]:
    """Every item of an organization's list that may be empty (its polls, its user tags): a
    404 is none, as a server may answer an empty list so (the reference gives only the
    type; an event type's tag list is read alike); every later run failed with exit 5 once
    the last poll or tag was deleted. An answer of nothing (`null`, no body) still fails the
    resource: it is no proof the list is empty."""
    try:
        return api.list_all(endpoint, page_size)
    except NotFoundError as error:
        api.none_if_not_found(error)
        log.warning("%s: the list answered 404; read as none", resource)
        return []


def _warn_none(resource: str, what: str, which: Sequence[Any], status: str, means: str) -> None:
    """One warning line for the reads of a resource that answered `status`, read as none."""
    if not which:
        return
    names = ", ".join(str(i) for i in sorted(which))
    log.warning("%s: %s %s answered %s; read as %s", resource, what, names, status, means)


def _slot_start(day: str, start: Any) -> dt.datetime | None:
    """A slot's start as UTC: either a full timestamp, or a time of day on `day` (UTC)."""
    if not isinstance(start, str) or not start:
        return None
    try:
        if "T" in start or len(start) > 10:
            return parse_api_datetime(start)
        clock = parse_time_of_day(start)
        return dt.datetime.combine(dt.date.fromisoformat(day), clock, dt.UTC)
    except ValueError:
        return None


# --- the source -----------------------------------------------------------------------------


@dlt.source(name="simplymeet", max_table_nesting=0)
def simplymeet_source(
    api: SyncApi,
    synced_at: dt.datetime,
    resources: Sequence[str] = RESOURCE_NAMES,
    page_size: int = 100,
    lag_seconds: int = 120,
    lookback_seconds: int = 0,
    landed_stamps: Mapping[int, dt.datetime] | None = None,
    horizon_days: int = 14,
    full_refresh: bool = False,
    since: dt.datetime | None = None,
    refresh_ids: Sequence[int] | None = None,
    recheck_ids: Sequence[int] = (),
    recheck_sweep: bool = False,
    report: ScanReport | None = None,
    history: bool = True,
    per_event_type_refresh_hours: float = 0.0,
    account: str = DEFAULT_ACCOUNT,
    snapshots: Snapshots | None = None,
    append_to: Collection[str] = (),
    policies: policy_versions.Landed | None = None,
    owe_full_read: bool = False,
) -> list[DltResource]:
    """Every readable SimplyMeet endpoint as dlt resources; `resources` selects a subset.

    `recheck_ids` are events to read again by id (`null_recheck.suspects`), every event
    holding a core null with `recheck_sweep`. `lookback_seconds` below the events cursor
    are read again where that is more than the lag (`events_resource`).
    `report` collects what the scans could not prove, and the resources other than the events
    whose read failed (`_all_or_nothing`): the runner loads the rest, then fails the run.
    `per_event_type_refresh_hours` is how old an event type's tags and availability may grow
    before a run reads them again (0: every run; `full_refresh` reads them all).
    Every row is stamped with `account`, the configured account the API is of.
    With `snapshots`, a replaced list unchanged since its last load is not loaded again
    (`snapshots.py`). The tables named in `append_to` are appended to instead of merged
    (`first_load.py`: the caller deduplicates them after the load). `policies` are the
    cancellation policy versions already in the warehouse (`policy_versions.landed`).
    """
    check_resources(resources)
    refresh = ptr.Refresh(
        every_hours=per_event_type_refresh_hours, now=synced_at, force=full_refresh
    )
    event_type_list = ReadOnce(
        lambda: whole_event_types(api, lambda: api.list_all("event_type_list", page_size))
    )
    user_tag_list = ReadOnce(
        functools.partial(
            _listed, "user_event_type_tags", api, "user_event_type_tag_list", page_size
        )
    )
    builders = {
        "events": lambda: events_resource(
            api,
            synced_at,
            page_size=page_size,
            lag_seconds=lag_seconds,
            lookback_seconds=lookback_seconds,
            landed_stamps=landed_stamps,
            full_refresh=full_refresh,
            since=since,
            refresh_ids=refresh_ids,
            recheck_ids=recheck_ids,
            recheck_sweep=recheck_sweep,
            report=report,
            history=history,
            owe_full_read=owe_full_read,
        ),
        "event_types": lambda: event_types_resource(event_type_list, synced_at, snapshots, report),
        "event_type_tags": lambda: event_type_tags_resource(
            api, event_type_list, synced_at, page_size, refresh, user_tag_list, snapshots, report
        ),
        "users": lambda: users_resource(api, synced_at, page_size, snapshots, report),
        "current_user": lambda: current_user_resource(api, synced_at, snapshots, report),
        "user_event_type_tags": lambda: user_event_type_tags_resource(
            user_tag_list, synced_at, snapshots, report
        ),
        "polls": lambda: polls_resource(api, synced_at, page_size, snapshots, report),
        "acl_rules": lambda: acl_rules_resource(api, synced_at, page_size, snapshots, report),
        "integrations": lambda: integrations_resource(api, synced_at, snapshots, report),
        "cancellation_policies": lambda: cancellation_policies_resource(
            api, synced_at, report, policies
        ),
        "availability": lambda: availability_resource(
            api, event_type_list, synced_at, page_size, horizon_days, refresh, report
        ),
    }
    chosen = [builders[name]() for name in RESOURCE_NAMES if name in resources]
    stamp = _account_stamp(account)
    for resource in chosen:
        # Every resource may set rows aside; each run's rejections are appended, never merged.
        _declare(resource, t.REJECTED_ROWS, APPEND)
        for table in appendable_tables([resource.name]):
            if table.name in append_to:
                _append_instead(resource, table)
        resource.add_map(stamp)
    return chosen


def _account_stamp(account: str) -> Any:
    """A map step appending the `account` column to each Arrow table a resource yields."""
    field = pa.field(t.ACCOUNT, pa.string(), nullable=False)
    value = pa.scalar(account, pa.string())

    def stamp(item: Any) -> Any:
        if isinstance(item, pa.Table):
            return item.append_column(field, pa.repeat(value, item.num_rows))
        return item

    return stamp


def empty_arrow(table: t.Table) -> pa.Table:
    """A zero-row table with `table`'s schema."""
    return table.schema.empty_table()
