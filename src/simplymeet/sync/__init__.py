"""The sync: dlt sources over the SimplyMeet API, landing in DuckDB (or any dlt destination)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from simplymeet.lazy_exports import lazy_exports
from simplymeet.models.destinations import DESTINATIONS as MODEL_DESTINATIONS

if TYPE_CHECKING:
    from simplymeet.accounts import Account
    from simplymeet.client import ApiClient
    from simplymeet.config import Settings
    from simplymeet.models.test_scope import BuildChanges
    from simplymeet.sync.api import SyncApi
    from simplymeet.sync.resource_names import RESOURCE_NAMES
    from simplymeet.sync.runner import SyncRequest, SyncSummary, make_pipeline, run_sync
    from simplymeet.sync.side_by_side import (
        AccountOutcome,
        overall_exit_code,
        sync_account,
        sync_accounts,
    )
    from simplymeet.sync.source import simplymeet_source

# dlt and pyarrow load on first use of these names, not on `import simplymeet.sync`.
_EXPORTS = {
    "RESOURCE_NAMES": "simplymeet.sync.resource_names",
    "SyncApi": "simplymeet.sync.api",
    "SyncRequest": "simplymeet.sync.runner",
    "SyncSummary": "simplymeet.sync.runner",
    "make_pipeline": "simplymeet.sync.runner",
    "run_sync": "simplymeet.sync.runner",
    "AccountOutcome": "simplymeet.sync.side_by_side",
    "overall_exit_code": "simplymeet.sync.side_by_side",
    "sync_account": "simplymeet.sync.side_by_side",
    "sync_accounts": "simplymeet.sync.side_by_side",
    "simplymeet_source": "simplymeet.sync.source",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
log = logging.getLogger(__name__)

__all__ = [
    "RESOURCE_NAMES",
    "AccountOutcome",
    "SyncApi",
    "SyncRequest",
    "SyncSummary",
    "build_and_test_models",
    "full_tests_reason",
    "make_pipeline",
    "overall_exit_code",
    "run_sync",
    "simplymeet_source",
    "sync",
    "sync_account",
    "sync_accounts",
]


def sync(
    settings: Settings,
    client: ApiClient,
    request: SyncRequest | None = None,
    *,
    console: Any = None,
    account: Account | None = None,
) -> SyncSummary:
    """Run one sync with `client`, then build the SQL models when configured to.

    `console` (a rich Console) shows progress while it runs; None keeps the run silent,
    which is what cron and orchestrators want. `account` (default: the first configured,
    `default` when none is) names whose API `client` reads; several accounts at once:
    `sync_accounts`.
    """
    from simplymeet.checkpoints import hand_overs

    # The load's rows are checkpointed with the models', beside the data tests.
    with hand_overs():
        return _sync(settings, client, request, console, account)


def _sync(
    settings: Settings,
    client: ApiClient,
    request: SyncRequest | None,
    console: Any,
    account: Account | None,
) -> SyncSummary:
    from simplymeet.sync.api import SyncApi
    from simplymeet.sync.runner import SyncRequest, SyncSummary, run_sync

    request = request or SyncRequest()
    api = SyncApi(client, concurrency=int(settings.get("api", "concurrency")))
    failure: Exception | None = None
    try:
        if console is None:
            summary = run_sync(settings, api, request, account=account)
        else:
            summary = _run_with_progress(settings, api, request, console, account)
    except Exception as exc:
        # A resource that could not be read (a 403, a server failing it) or that did not add
        # up, with everything else loaded: the models are built on what was loaded, then the
        # run fails as it would (the exception keeps the summary as `loaded`).
        loaded = getattr(exc, "loaded", None)
        if not isinstance(loaded, SyncSummary):
            raise
        summary, failure = loaded, exc
    build = request.build_models
    if build is None:
        build = bool(settings.get("sync", "build_models"))
    destination = request.destination or settings.get("warehouse", "destination")
    dataset = request.dataset or settings.get("warehouse", "dataset")
    if build and destination in MODEL_DESTINATIONS and request.refresh_ids is None:
        summary.models_built, summary.model_test_failures = build_and_test_models(
            settings, destination, dataset, full_tests=full_tests_reason([summary], request)
        )
    if failure is not None:
        raise failure
    return summary


def build_and_test_models(
    settings: Settings, destination: str, dataset: str, *, full_tests: str | None = None
) -> tuple[bool, list[str] | None]:
    """Build the models on the warehouse just loaded, then run their data tests.

    Returns True (built) and the failed tests' names (None when `[sync] test_models` is off).
    After a run whose tests passed, the tests of the booking models read only the bookings
    changed since (`simplymeet.models.test_scope`); `full_tests` says why they must read
    every row this time.
    """
    from simplymeet.checkpoints import checkpoint_beside, checkpoints_deferred
    from simplymeet.sync.lock import warehouse_kept_open

    # The build and the data tests each connect: one database open for both.
    duckdb_file = settings.get("warehouse", "duckdb_path") if destination == "duckdb" else None
    with warehouse_kept_open(duckdb_file) as held, checkpoints_deferred(held):
        changes = _build_models(settings, destination, dataset)
        # The build's checkpoint beside the tests, which only read until their end.
        with checkpoint_beside(held):
            return True, _test_models(settings, destination, dataset, changes, full_tests)


def full_tests_reason(summaries: list[SyncSummary], request: SyncRequest) -> str | None:
    """Why this command's data tests read every row: the periodic pass over every row."""
    if request.full_refresh:
        return "a full refresh"
    if any(summary.reconciled for summary in summaries):
        return "the run reconciled every booking"
    if any(summary.migrated_tables or summary.widened_tables for summary in summaries):
        return "the run migrated tables"
    return None


def _run_with_progress(
    settings: Settings, api: SyncApi, request: SyncRequest, console: Any, account: Account | None
) -> SyncSummary:
    """A progress bar of event pages, with the current stage as its label."""
    from rich.progress import Progress

    from simplymeet.cli.progress import progress_columns
    from simplymeet.sync.runner import run_sync

    columns = progress_columns()
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting", total=None)

        def on_page(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total or None)

        api.on_event_page = on_page
        return run_sync(
            settings,
            api,
            request,
            on_stage=lambda stage: progress.update(task, description=stage),
            account=account,
        )


def _build_models(settings: Settings, destination: str, dataset: str) -> BuildChanges | None:
    """Build the models on the warehouse just loaded (DuckDB file or PostgreSQL server)."""
    from simplymeet.models import build_models
    from simplymeet.models.connection import warehouse_for

    warehouse = warehouse_for(destination, settings.get("warehouse", "duckdb_path"))
    built = build_models(warehouse, settings=settings, dataset=dataset, keep_unchanged=True)
    if built.unchanged:
        log.info("models: nothing they are made of changed since the last build; kept as built")
    return built.changes


def _test_models(
    settings: Settings,
    destination: str,
    dataset: str,
    changes: BuildChanges | None,
    full_tests: str | None,
) -> list[str] | None:
    """The data tests of the models just built, on the same warehouse; None when switched off."""
    if not settings.get("sync", "test_models"):
        return None
    from simplymeet.models.connection import warehouse_for
    from simplymeet.models.datatests import run_model_tests

    warehouse = warehouse_for(destination, settings.get("warehouse", "duckdb_path"))
    run = run_model_tests(
        warehouse, settings=settings, dataset=dataset, changes=changes, full_reason=full_tests
    )
    if run.unchanged:
        log.info("data tests: not run; they passed on these same models and rows")
    elif run.bookings is not None:
        log.info(
            "data tests: %d of %d read only the %d bookings changed since they last passed",
            len(run.scoped),
            run.tests,
            run.bookings,
        )
    elif run.full_reason:
        log.info("data tests: all %d read every row (%s)", run.tests, run.full_reason)
    return [str(f) for f in run.failures]
