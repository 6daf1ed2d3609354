"""Several accounts synced in one command: extracts side by side, loads one at a time.

Each account runs `run_sync` with its own client (key, base URL) and its own dlt pipeline
(state, lock, cursor), in a thread of its own: the API reads overlap, and everything that
writes the warehouse takes turns under one lock (DuckDB has a single writer; on PostgreSQL
it also keeps two accounts' merges from contending). One account failing does not stop the
others: each ends with its own exit code, and the command's is the most telling of them
(`overall_exit_code`). The models are built once, after every account has loaded.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simplymeet.accounts import Account, configured_accounts
from simplymeet.cli.errors import (
    EXIT_DATA_TESTS,
    EXIT_OK,
    EXIT_REJECTED_ROWS,
    exit_code_for,
    most_telling,
)

if TYPE_CHECKING:
    from simplymeet.config import Settings
    from simplymeet.sync.runner import SideBySide, SyncRequest, SyncSummary


@dataclass
class AccountOutcome:
    """How one account's sync ended: its summary when it loaded, its exit code, why."""

    account: str
    exit_code: int
    message: str = ""
    """One line when the account failed or set rows aside; empty when it synced clean."""
    summary: SyncSummary | None = None


def sync_account(
    settings: Settings,
    account: Account,
    request: SyncRequest | None = None,
    *,
    side_by_side: SideBySide | None = None,
) -> SyncSummary:
    """One account's sync (no model build): a client with its key and URL, its pipeline.

    Raises what `run_sync` raises (exit codes via `simplymeet.cli.errors.exit_code_for`).

        summary = sync_account(settings, configured_accounts(settings)[1], SyncRequest())
    """
    from simplymeet.client import SimplyMeetClient
    from simplymeet.sync.api import SyncApi
    from simplymeet.sync.runner import run_sync

    own = account.settings(settings)
    with SimplyMeetClient.from_settings(own, api_key=account.key()) as client:
        api = SyncApi(client, concurrency=int(own.api.concurrency))
        return run_sync(settings, api, request, account=account, side_by_side=side_by_side)


def sync_accounts(
    settings: Settings,
    request: SyncRequest | None = None,
    *,
    accounts: list[Account] | None = None,
) -> list[AccountOutcome]:
    """Sync `accounts` (default: every configured one) side by side, then build the models.

    Never raises for one account's failure: each outcome carries its exit code and message.
    A warehouse that cannot be written at all (held by another process, holding a foreign
    pipeline) fails every account with that code before any request.
    """
    from simplymeet.sync.lock import check_warehouse_free
    from simplymeet.sync.ownership import refuse_foreign_pipeline
    from simplymeet.sync.runner import SideBySide, SyncRequest, SyncSummary

    request = request or SyncRequest()
    accounts = accounts or configured_accounts(settings)
    wh = settings.warehouse
    if (request.destination or wh.destination) == "duckdb":
        try:
            check_warehouse_free(wh.duckdb_path)
            names = [known.pipeline_name for known in configured_accounts(settings)]
            refuse_foreign_pipeline(wh.duckdb_path, names)
        except Exception as exc:
            code, message = exit_code_for(exc)
            return [AccountOutcome(account.name, code, message) for account in accounts]
    shared = SideBySide()
    _import_before_threads()

    def one(account: Account) -> AccountOutcome:
        try:
            summary = sync_account(settings, account, request, side_by_side=shared)
        except Exception as exc:
            code, message = exit_code_for(exc)
            # One resource not read, everything else loaded: the models take it in.
            loaded = getattr(exc, "loaded", None)
            kept = loaded if isinstance(loaded, SyncSummary) else None
            return AccountOutcome(account.name, code, message, kept)
        if summary.rejected_rows:
            text = f"{summary.rejected_rows:,} row(s) set aside in the rejected-rows table"
            return AccountOutcome(account.name, EXIT_REJECTED_ROWS, text, summary)
        return AccountOutcome(account.name, EXIT_OK, "", summary)

    with ThreadPoolExecutor(len(accounts), thread_name_prefix="simplymeet-account") as pool:
        outcomes = list(pool.map(one, accounts))
    loaded = [outcome.summary for outcome in outcomes if outcome.summary is not None]
    if loaded and _models_wanted(settings, request):
        from simplymeet.sync import build_and_test_models, full_tests_reason

        destination = request.destination or wh.destination
        dataset = request.dataset or wh.dataset
        # The models (and so their tests) span every account: each summary carries the result.
        built, failures = build_and_test_models(
            settings, destination, dataset, full_tests=full_tests_reason(loaded, request)
        )
        for summary in loaded:
            summary.models_built = built
            summary.model_test_failures = failures
    return outcomes


def _models_wanted(settings: Settings, request: SyncRequest) -> bool:
    from simplymeet.models.destinations import DESTINATIONS

    build = settings.sync.build_models if request.build_models is None else request.build_models
    destination = request.destination or settings.warehouse.destination
    return bool(build) and destination in DESTINATIONS and request.refresh_ids is None


def _import_before_threads() -> None:
    """Import what dlt imports lazily mid-run, once, here: two threads importing pandas at
    the same moment saw it half-initialized ("partially initialized module 'pandas'")."""
    import importlib

    for name in (
        "pandas",
        "pyarrow",
        "dlt.common.libs.pyarrow",
        "dlt.common.libs.pandas",
        "dlt.destinations.impl.duckdb.duck",
        "simplymeet.sync.runner",
    ):
        with contextlib.suppress(ImportError):  # an optional part dlt does without
            importlib.import_module(name)


def overall_exit_code(outcomes: list[AccountOutcome]) -> int:
    """The command's exit code: 0 when every account synced, else the most telling one's."""
    codes = {outcome.exit_code for outcome in outcomes}
    if any(o.summary is not None and o.summary.model_test_failures for o in outcomes):
        codes.add(EXIT_DATA_TESTS)
    return most_telling(codes)
