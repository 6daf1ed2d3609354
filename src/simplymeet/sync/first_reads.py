"""The reads a sync starts with that depend on nothing it has yet to read, sent ahead.

Before its first request a sync imports dlt and pyarrow, takes its lock, checks the warehouse
and reads its pipeline state: most of a second. The first page of each list below is what the
resources ask for first whatever that state says, so the client sends them meanwhile
(`SimplyMeetClient.read_ahead`) and the resources take the answers. The per-event-type reads
(tags, availability) depend on the refresh plan kept in that state: they follow the event
type list only on a run where every type is due whatever the plan says. The events scan is
not read ahead: its first request depends on the cursor, and it dates its window from the
Date of its own thread's first answer.

Importable without dlt or pyarrow: `simplymeet sync` calls this before loading them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simplymeet.client.read_ahead import Read
from simplymeet.interruptions import signal_inside
from simplymeet.sync.resource_names import RESOURCE_NAMES

if TYPE_CHECKING:
    from simplymeet.client import ApiClient
    from simplymeet.config import Settings

_PAGED: dict[str, tuple[str, ...]] = {
    # The event type list goes first: a key not yet accepted sends one request alone, and
    # the per-event-type reads (tags, availability) wait on this list.
    "event_type_list": ("event_types", "event_type_tags", "availability"),
    "user_list": ("users",),
    "user_event_type_tag_list": ("user_event_type_tags",),
    "poll_list": ("polls",),
    "acl_list": ("acl_rules",),
}
"""List endpoints read from page 1 (`SyncApi.list_all`), and the resources that read them."""

_PLAIN: dict[str, tuple[str, ...]] = {
    "current_user_get": ("current_user",),
    "integration_list": ("integrations",),
    "organization_cancellation_policy_get": ("cancellation_policies",),
    "user_cancellation_policy_get": ("cancellation_policies",),
}
"""Endpoints read with one plain call (`SyncApi.get_object`), and the resources that read them."""


def first_reads(
    resources: Sequence[str],
    page_size: int,
    *,
    every_type_due: bool = False,
    horizon_days: int | None = None,
) -> list[Read]:
    """The reads `resources` start with, whatever the pipeline's state; the list endpoints'
    first pages at `page_size` items, as `SyncApi.list_all` asks for them.

    `every_type_due` says every event type's tags and availability will be read this run
    (its first, a full refresh, a cadence of 0): those reads then follow the event type
    list's first page as soon as it is in (availability over `horizon_days` from today).
    """
    chosen = set(resources)
    then = None
    per_type = {"event_type_tags", "availability"} & chosen
    if every_type_due and per_type:
        if horizon_days is None:
            raise ValueError("every_type_due needs the availability horizon_days")
        then = functools.partial(
            _per_type_reads,
            tags="event_type_tags" in per_type,
            availability="availability" in per_type,
            page_size=page_size,
            horizon_days=horizon_days,
        )
    reads = [
        Read(name, on_page=page_size, then=then if name == "event_type_list" else None)
        for name, users in _PAGED.items()
        if chosen & set(users)
    ]
    reads += [Read(name) for name, users in _PLAIN.items() if chosen & set(users)]
    return reads


def _per_type_reads(
    body: Any, *, tags: bool, availability: bool, page_size: int, horizon_days: int
) -> list[Read]:
    """The tag and availability reads of each event type on the list's first page (`body`),
    as the `event_type_tags` and `availability` resources send them."""
    # Nothing that imports pyarrow: this runs on the client's thread while the main thread
    # imports dlt, and an import of pyarrow here held these reads back ~0.3 s behind it.
    from simplymeet.client.pages import page_from_body
    from simplymeet.sync.availability_reads import availability_query
    from simplymeet.sync.ids import as_id

    rows = page_from_body(body, 1).items
    # The types the resources read: each listed row with a usable id, once.
    by_id: dict[int, dict[str, Any]] = {}
    for row in rows:
        if isinstance(row, dict) and (type_id := as_id(row.get("id"))) is not None:
            by_id[type_id] = row
    # The run's snapshot date is its start's; a run starting after midnight UTC reads its
    # own availability, and these answers go unused.
    today = dt.datetime.now(dt.UTC).date()
    reads: list[Read] = []
    for type_id in by_id:
        if tags:
            reads.append(
                Read("event_type_tag_list", on_page=page_size, path_params={"eventTypeId": type_id})
            )
        if availability:
            query = availability_query(today, horizon_days, by_id[type_id])
            reads.append(Read("event_type_availability", path_params={"id": type_id}, query=query))
    return reads


def read_ahead(
    client: ApiClient,
    settings: Settings,
    resources: Sequence[str] | None,
    *,
    destination: str | None = None,
    pipelines: Iterable[str] = (),
    full_refresh: bool = False,
) -> int:
    """Send the first reads of the resources a run of these settings syncs (`resources`, else
    `[sync] resources`, else all); returns how many went out first (follow-ups not counted).

    Nothing is sent when a check the run makes before its first request would refuse it
    (`nothing_refuses`): a refused run costs the API nothing. A client without read-ahead
    (another `ApiClient`) sends nothing here and the resources read as usual.
    """
    send = getattr(client, "read_ahead", None)
    chosen = resources or settings.get("sync", "resources") or RESOURCE_NAMES
    if send is None or not nothing_refuses(settings, chosen, destination, pipelines):
        return 0
    wh = settings.section("warehouse")
    every_type_due = (
        full_refresh
        or float(settings.get("sync", "per_event_type_refresh_hours")) == 0
        or _first_run(wh)
    )
    reads = first_reads(
        chosen,
        int(settings.get("api", "page_size")),
        every_type_due=every_type_due,
        horizon_days=int(settings.get("sync", "availability_horizon_days")),
    )
    sent: int = send(reads)
    return sent


def _first_run(wh: dict[str, Any]) -> bool:
    """No warehouse file and no local pipeline: no state to restore, every type is new."""
    pipeline_dir = Path(wh["pipelines_dir"]) / wh["pipeline_name"]
    return not Path(wh["duckdb_path"]).exists() and not pipeline_dir.exists()


def nothing_refuses(
    settings: Settings,
    resources: Sequence[str],
    destination: str | None,
    pipelines: Iterable[str],
) -> bool:
    """Whether the checks before a run's first request pass as things stand: every resource
    is known, the destination is DuckDB (another is resolved by dlt, which has not loaded),
    no other sync holds the pipeline's lock, and no other process holds the DuckDB file, it
    is a DuckDB file (or one can be made there), and it holds no pipeline but `pipelines`
    (every configured account's).

    Only a forecast: the run makes the checks itself and raises what they find.
    """
    if not set(resources) <= set(RESOURCE_NAMES):
        return False
    from simplymeet.sync.lock import check_warehouse_path, pipeline_lock_free, warehouse_kept_open
    from simplymeet.sync.ownership import pipelines_of

    wh = settings.section("warehouse")
    if (destination or wh["destination"]) != "duckdb":
        return False
    try:
        if not pipeline_lock_free(wh["pipelines_dir"], wh["pipeline_name"]):
            return False
    except OSError:
        # An unreadable pipelines folder: the run itself says what is wrong with it.
        return False
    ours = {wh["pipeline_name"], *pipelines}
    try:
        check_warehouse_path(wh["duckdb_path"])
        with warehouse_kept_open(wh["duckdb_path"]) as con:
            return con is None or not pipelines_of(con) - ours
    except Exception as exc:
        # A stop that ended the query is a stop, not a refusal.
        if (stop := signal_inside(exc)) is not None:
            raise stop from exc
        # Held, or not a DuckDB file: the run says which, before any request.
        return False
