"""After writing: re-read what changed into the warehouse, so the next query sees it.

Event writes re-read just the touched events through the sync (`SyncRequest(refresh_ids=…)`, no
cursor movement); deletes also set `deleted_at`, since a deleted event can no longer be read,
and so does a write answered 404 or 410 once a GET of its event answers so too. Writes to other
things re-sync their resource (tags, polls, policies, availability), which are small. The SQL
models are rebuilt afterwards when config.toml says the sync builds them, so marts agree with
the raw tables.

Runs with the journal closed: the sync opens the same DuckDB file.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from simplymeet.config import Settings
from simplymeet.sync.api import SyncApi
from simplymeet.sync.quarantine import RowsSetAside
from simplymeet.writeback.execute import ItemOutcome
from simplymeet.writeback.spec import OperationSpec

if TYPE_CHECKING:
    from simplymeet.accounts import Account
    from simplymeet.client import ApiClient


def touched_event_ids(spec: OperationSpec, outcomes: Iterable[ItemOutcome]) -> list[int]:
    """Events whose warehouse rows may now be stale: every item settled in the run.

    Items done by an earlier, interrupted run are included: that run may have died before
    refreshing them.
    """
    ids: set[int] = set()
    for outcome in outcomes:
        if spec.key == "id" and spec.group == "event":
            ids.add(int(outcome.item.target_id))  # type: ignore[arg-type]
        result = outcome.result
        if isinstance(result, dict):
            ids.update(int(i) for i in result.get("event_ids") or [])
    return sorted(ids)


def deleted_event_ids(
    spec: OperationSpec, outcomes: Iterable[ItemOutcome], client: ApiClient
) -> list[int]:
    """Events now known to be gone: deleted by the run (a delete is done only once a GET of
    the event answers 404), or whose write was answered 404 or 410 and whose GET answers so
    too. A write's 404 may name something else it points at (a host or an event type gone
    upstream: "User not found"), and an event marked deleted is revived only once a reconcile
    lists it again: only a GET of the event itself proves it gone, as for the sync's
    deletions."""
    if not (spec.group == "event" and spec.key == "id"):
        return []
    gone: set[int] = set()
    answered_gone: set[int] = set()
    for o in outcomes:
        event_id = int(o.item.target_id)  # type: ignore[arg-type]
        if spec.marks_deleted and o.outcome in ("succeeded", "skipped"):
            gone.add(event_id)
        elif o.status in (404, 410):
            answered_gone.add(event_id)
    to_ask = sorted(answered_gone - gone)
    if to_ask:
        # A GET refused otherwise (a 403, a 5xx) proves nothing either way: left unmarked.
        there, unsure = SyncApi(client).still_there(to_ask)
        gone.update(i for i in to_ask if i not in there and i not in unsure)
    return sorted(gone)


def unnamed_bookings(spec: OperationSpec, outcomes: Iterable[ItemOutcome]) -> bool:
    """Whether a booking of this run succeeded without its answer naming the event it made
    (the answer was lost and the booking was found on the server)."""
    if not (spec.group == "event" and spec.key is None):
        return False
    for outcome in outcomes:
        result = outcome.result
        named = isinstance(result, dict) and result.get("event_ids")
        if outcome.outcome == "succeeded" and not named:
            return True
    return False


def refresh_warehouse(
    settings: Settings,
    client: ApiClient,
    spec: OperationSpec,
    outcomes: list[ItemOutcome],
    *,
    account: Account | None = None,
) -> bool:
    """Bring the warehouse up to date with this run's writes; True when anything was re-read.

    `account` is whose API `client` reads (default: the first configured): its rows are
    re-read, through its own pipeline.

    Raises what the sync raises, and `RowsSetAside` (exit code 9) after the models are built
    when a row it re-read breaks the contract: that row is not in the warehouse as written.
    """
    from simplymeet.sync import SyncRequest, sync

    if not outcomes or not spec.refresh:
        return False
    requests: list[SyncRequest] = []
    if "events" in spec.refresh:
        ids = touched_event_ids(spec, outcomes)
        gone = deleted_event_ids(spec, outcomes, client)
        if ids or gone:
            requests.append(
                SyncRequest(
                    resources=["events"], refresh_ids=ids, deleted_ids=gone, build_models=False
                )
            )
        if unnamed_bookings(spec, outcomes):
            # A booking found on the server after its answer was lost has no id to re-read
            # by: the events are read as a scheduled sync reads them (from the cursor).
            requests.append(SyncRequest(resources=["events"], build_models=False))
    others = [r for r in spec.refresh if r != "events"]
    if others:
        requests.append(
            SyncRequest(resources=others, build_models=False, reread_per_event_type=True)
        )
    set_aside = [
        note
        for request in requests
        if (note := sync(settings, client, request, account=account).rejected_note)
    ]
    if requests and bool(settings.get("sync", "build_models")):
        _build_models(settings)
    if set_aside:
        raise RowsSetAside("; ".join(set_aside))
    return bool(requests)


def left_pending(settings: Settings, account: Account | None = None) -> bool:
    """Whether the account's dlt folder holds a package a killed run extracted or normalized
    and did not load: a refresh killed mid-load may have left a table's delete committed
    and its insert not (a poll without its slots), so the warehouse is not to be planned on
    until it is loaded."""
    from pathlib import Path

    from simplymeet.accounts import configured_accounts
    from simplymeet.sync.retention import has_pending_packages

    own = (account or configured_accounts(settings)[0]).settings(settings)
    folder = Path(own.get("warehouse", "pipelines_dir")) / own.get("warehouse", "pipeline_name")
    return has_pending_packages(folder)


def load_left_pending(
    settings: Settings, client: ApiClient, spec: OperationSpec, account: Account | None = None
) -> None:
    """Load what a killed refresh left pending (`left_pending`), through the sync that loads
    it first, reading again the resources `spec` refreshes (no models: the run's own refresh
    builds them)."""
    from simplymeet.sync import SyncRequest, sync

    resources = list(spec.refresh) or ["events"]
    request = SyncRequest(
        resources=resources,
        build_models=False,
        reread_per_event_type=any(r != "events" for r in resources),
    )
    sync(settings, client, request, account=account)


def _build_models(settings: Settings) -> None:
    try:
        from simplymeet.models import build_models
    except ImportError:  # the models package is optional for the write-back
        return
    build_models(settings.get("warehouse", "duckdb_path"), settings=settings)
