"""The sync: dlt sources over the SimplyMeet API, landing in DuckDB (or any dlt destination)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simplymeet.lazy_exports import lazy_exports
from simplymeet.models.destinations import DESTINATIONS as MODEL_DESTINATIONS

if TYPE_CHECKING:
    from simplymeet.accounts import Account
    from simplymeet.client import ApiClient
    from simplymeet.config import Settings
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

__all__ = [
    "RESOURCE_NAMES",
    "AccountOutcome",
    "SyncApi",
    "SyncRequest",
    "SyncSummary",
    "build_and_test_models",
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
    from simplymeet.sync.api import SyncApi
    from simplymeet.sync.runner import SyncRequest, run_sync

    request = request or SyncRequest()
    api = SyncApi(client, concurrency=int(settings.get("api", "concurrency")))
    if console is None:
        summary = run_sync(settings, api, request, account=account)
    else:
        summary = _run_with_progress(settings, api, request, console, account)
    build = request.build_models
    if build is None:
        build = bool(settings.get("sync", "build_models"))
    destination = request.destination or settings.get("warehouse", "destination")
    dataset = request.dataset or settings.get("warehouse", "dataset")
    if build and destination in MODEL_DESTINATIONS and request.refresh_ids is None:
        summary.models_built, summary.model_test_failures = build_and_test_models(
            settings, destination, dataset
        )
    return summary


def build_and_test_models(
    settings: Settings, destination: str, dataset: str
) -> tuple[bool, list[str] | None]:
    """Build the models on the warehouse just loaded, then run their data tests.

    Returns True (built) and the failed tests' names (None when `[sync] test_models` is off).
    """
    from simplymeet.sync.lock import warehouse_kept_open

    # The build and the data tests each connect: one database open for both.
    duckdb_file = settings.get("warehouse", "duckdb_path") if destination == "duckdb" else None
    with warehouse_kept_open(duckdb_file):
        return (
            _build_models(settings, destination, dataset),
            _test_models(settings, destination, dataset),
        )


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


def _build_models(settings: Settings, destination: str, dataset: str) -> bool:
    """Build the models on the warehouse just loaded (DuckDB file or PostgreSQL server)."""
    from simplymeet.models import build_models
    from simplymeet.models.connection import warehouse_for

    warehouse = warehouse_for(destination, settings.get("warehouse", "duckdb_path"))
    build_models(warehouse, settings=settings, dataset=dataset)
    return True


def _test_models(settings: Settings, destination: str, dataset: str) -> list[str] | None:
    """The data tests of the models just built, on the same warehouse; None when switched off."""
    if not settings.get("sync", "test_models"):
        return None
    from simplymeet.models import test_models
    from simplymeet.models.connection import warehouse_for

    warehouse = warehouse_for(destination, settings.get("warehouse", "duckdb_path"))
    return [str(f) for f in test_models(warehouse, settings=settings, dataset=dataset)]
