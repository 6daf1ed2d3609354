"""The write-back as library calls: plan, preview, run (and a function per endpoint below).

    from simplymeet.config import load_settings
    from simplymeet.writeback import event_cancel_list, Targets

    report = event_cancel_list(
        settings, client,
        sql="select id from events where user_id = 7 and scheduled_at >= '2026-12-01'",
        reason="host away",
    )
    assert report.ok, [f.error for f in report.failed]

Every call validates all rows before sending anything (`InvalidRows` when one is wrong),
journals every write in the warehouse (`writeback.journal`), resumes the same job when called
again with the same input, and refreshes the touched rows in the warehouse afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import duckdb

from simplymeet.accounts import Account
from simplymeet.cli.errors import exit_code_for
from simplymeet.config import Settings
from simplymeet.interruptions import signal_inside
from simplymeet.sync.quarantine import RowsSetAside
from simplymeet.writeback.accounts import accounts_in_use
from simplymeet.writeback.execute import ALREADY_SO, Executor, ItemOutcome, RunReport
from simplymeet.writeback.journal import (
    ItemHistory,
    Journal,
    JournalError,
    latest_earlier,
    notified_before,
    open_journal,
    read_job,
    split_by_history,
    unrefreshed_run,
)
from simplymeet.writeback.operations import operation, same_change
from simplymeet.writeback.plan import InvalidRows, Item, Plan, Request, build_plan, job_id_for
from simplymeet.writeback.refresh import left_pending, load_left_pending, refresh_warehouse
from simplymeet.writeback.server_current import (
    complete_from_server,
    sent_where_changed,
    skips_the_server_may_undo,
)
from simplymeet.writeback.spec import OperationSpec
from simplymeet.writeback.targets import Targets, read_rows
from simplymeet.writeback.warehouse import WarehouseView, read_only

if TYPE_CHECKING:
    from simplymeet.client import ApiClient

log = logging.getLogger("simplymeet.writeback")


class Declined(RuntimeError):
    """The confirmation was answered no: nothing was sent."""


@dataclass
class Preview:
    """What a run of a plan would do now, given the journal: the dry-run's content."""

    plan: Plan
    to_send: list[Item]
    done_before: list[Item]
    to_check: list[Item]
    """Left pending or unknown by an earlier run: checked on the server before sending."""
    requests: list[Request]
    held_back: list[Item] = field(default_factory=list)
    """Notifications or invitations another job already sent to their target: a run holds
    them back (exit 6) unless `--resend`."""

    @property
    def nothing_to_send(self) -> bool:
        """Every item is skipped or already done: a run would send no request."""
        return not (self.requests or self.done_before or self.to_check or self.held_back)


def plan_operation(
    name: str | OperationSpec,
    settings: Settings,
    targets: Targets | None = None,
    values: dict[str, Any] | None = None,
    *,
    job: str | None = None,
    chunk_size: int | None = None,
    check_warehouse: bool = True,
    include_past: bool = False,
    include_future: bool = False,
    account: Account | None = None,
) -> Plan:
    """Read the targets and validate every row into a Plan; sends nothing.

    `account` (with `[[accounts]]` configured) checks the targets against that account's
    rows only, and keeps its job apart from another account's job on the same ids.

    Cancels, reschedules, resent notifications and invitations of bookings that already
    started are refused unless `include_past`; no-shows of bookings that have not started
    unless `include_future` (see `OperationSpec.when`).
    """
    spec = operation(name) if isinstance(name, str) else name
    db, dataset = _warehouse(settings)
    rows = read_rows(targets or Targets(), key=spec.key, db_path=db, dataset=dataset)
    size = int(chunk_size or settings.get("writeback", "chunk_size"))
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, got {size}")
    scoped = account if account is not None and accounts_in_use(settings) else None
    if not rows and targets is not None and targets.given():
        # Files and --ids refuse being empty; a query selecting nothing is a scheduled job
        # with nothing to do today, not a mistake.
        what = "the --sql query" if targets.sql is not None else "the rows given"
        plan = Plan(spec, job_id="", items=[], chunk_size=size)
        plan.nothing_selected = f"{what} selected no targets"
        plan.job_id = job or job_id_for(spec, [])
    elif not check_warehouse:
        plan = build_plan(
            spec,
            rows,
            values,
            view=None,
            chunk_size=size,
            job=job,
            include_past=include_past,
            include_future=include_future,
        )
    else:
        with read_only(db) as con:
            view = WarehouseView(con, dataset, scoped.name if scoped else None)
            plan = build_plan(
                spec,
                rows,
                values,
                view=view,
                chunk_size=size,
                job=job,
                include_past=include_past,
                include_future=include_future,
            )
    if scoped is not None:
        plan.job_id = f"{plan.job_id}@{scoped.name}"
        plan.account = scoped.name
    return plan


def preview(plan: Plan, settings: Settings, *, resend: bool = False) -> Preview:
    """What running `plan` now would send, after what earlier runs of its job did (and, for
    a write that e-mails people, what other jobs sent: `Executor._resume` in the same order)."""
    db, _ = _warehouse(settings)

    def unsettled(history: dict[str, ItemHistory]) -> list[Item]:
        _, check, send = split_by_history(plan.items, history)
        return [*check, *send]

    history, earlier = read_job(db, plan.job_id, same_change(plan.spec), unsettled, plan.account)
    done, check, send = split_by_history(plan.items, history)
    held: list[Item] = []
    if plan.spec.notifies and not resend:
        sent = notified_before(send, history, earlier)
        held = [i for i in send if i.key in sent]
        send = [i for i in send if i.key not in sent]
    crossed = latest_earlier(
        [*check, *send], history, earlier, resend=plan.spec.notifies and resend
    )
    # Left unsettled by another job (the same command on a changed input): checked first.
    check += [i for i in send if i.key in crossed]
    send = [i for i in send if i.key not in crossed]
    return Preview(plan, send, done, check, plan.requests(check + send), held)


def execute_plan(
    plan: Plan,
    settings: Settings,
    client: ApiClient,
    *,
    concurrency: int | None = None,
    retry_unknown: bool = False,
    resend: bool = False,
    refresh: bool = True,
    selection: str = "",
    on_progress: Callable[[int], None] | None = None,
    account: Account | None = None,
) -> RunReport:
    """Send a valid plan, journaled and resumable, then refresh the warehouse (the rows of
    `account`, the one `client` writes to; default: the first configured)."""
    if not plan.ok:
        raise InvalidRows(plan)
    # The warehouse may be older than the server: what a PUT body repeats unchanged is what
    # the server holds now, not what the last sync saw.
    plan = complete_from_server(plan, client)
    db, _ = _warehouse(settings)
    workers = int(concurrency or settings.get("writeback", "concurrency"))
    # The journal stays open through the refresh: the sync's and the models' connections to
    # the file then share its database instead of each reading the catalog again (DuckDB
    # keeps one database per file per process; ~20 ms of CPU an open), and the refresh is
    # journaled without opening the file once more. The file is held through the refresh's
    # few by-id reads, as it was through the sends.
    with open_journal(db) as journal:
        executor = Executor(
            plan,
            client,
            journal,
            concurrency=workers,
            retry_unknown=retry_unknown,
            resend=resend,
            settle_seconds=float(settings.get("writeback", "settle_seconds")),
            selection=selection,
            on_progress=on_progress,
        )
        report = executor.run()
        behind = any(outcome.note == ALREADY_SO for outcome in report.outcomes)
        # A write answered 404 or 410 may have found its booking deleted upstream: the
        # refresh asks the event itself and marks it deleted, or every mart counts it live
        # until the reconcile and each re-run sends the same write into the same 404.
        answered_gone = any(outcome.status in (404, 410) for outcome in report.outcomes)
        # An unknown item may have been applied (a reschedule moved to another instant,
        # an answer lost): the refresh reads what the server holds now, unless the run
        # stopped for a server failing every request or refusing the key.
        changed = report.succeeded or (report.unknown and report.aborted is None)
        if refresh and report.outcomes and not changed and not behind and not answered_gone:
            # Nothing changed upstream, and the warehouse was not found behind: a refresh
            # would only retry into the same failure.
            report.refresh_skipped = "nothing succeeded, so nothing changed upstream"
        elif refresh and report.outcomes:
            _refresh(
                report, settings, client, report.outcomes, report.run_id or "", account, journal
            )
    return report


def _refresh(
    report: RunReport,
    settings: Settings,
    client: ApiClient,
    outcomes: list[ItemOutcome],
    run_id: str,
    account: Account | None,
    journal: Journal | None = None,
) -> None:
    """Refresh the warehouse for `outcomes` into `report`, and journal it against `run_id`
    (through `journal` when the caller holds it open)."""
    try:
        report.refreshed = refresh_warehouse(
            settings, client, report.plan.spec, outcomes, account=account
        )
    except Exception as exc:  # the writes stand; say the warehouse is behind and why
        if (stop := signal_inside(exc)) is not None:
            # A stop that ended a query of the refresh: the command stops as stopped.
            raise stop from exc
        # Read again and built all the same, but without the rows set aside.
        report.refreshed = isinstance(exc, RowsSetAside)
        # The sync's own exit code and line (dlt wraps what a read raised in pages of
        # text): a locked pipeline, a server failing, a count that did not add up.
        report.refresh_exit, report.refresh_error = exit_code_for(exc)
    try:
        if journal is not None:
            journal.mark_refreshed(run_id, report.refresh_error)
        else:
            with open_journal(_warehouse(settings)[0]) as opened:
                opened.mark_refreshed(run_id, report.refresh_error)
    except (JournalError, duckdb.Error) as exc:
        # A sync holds the file now, or a fatal error in the refresh (a full disk)
        # invalidated the database the journal holds: the writes are journaled, and the
        # summary of what was sent must still be printed.
        log.warning("could not record the refresh in the journal: %s", exc)


def _unrefreshed(plan: Plan, settings: Settings, refresh: bool) -> str | None:
    """The run of this job to refresh after when nothing is left to send (`unrefreshed_run`):
    killed after the warehouse read its writes back but before the models were rebuilt, it
    left marts that disagree with the raw tables, and the re-run finds every target done."""
    db = _warehouse(settings)[0]
    if not refresh or not plan.job_id or not db.exists():
        return None
    with read_only(db) as con:
        return unrefreshed_run(con, plan.job_id)


def _caught_up(
    plan: Plan,
    view: Preview,
    settings: Settings,
    client: ApiClient,
    run_id: str,
    account: Account | None,
) -> RunReport:
    """Nothing to send, and the warehouse refreshed for the job's targets (`_unrefreshed`)."""
    report = RunReport(plan, None, preview=view)
    outcomes = [ItemOutcome(s.item, "skipped", note=s.reason) for s in plan.skipped]
    if outcomes:
        _refresh(report, settings, client, outcomes, run_id, account)
    return report


def run_operation(
    name: str | OperationSpec,
    settings: Settings,
    client: ApiClient | Callable[[], AbstractContextManager[ApiClient]],
    targets: Targets | None = None,
    values: dict[str, Any] | None = None,
    *,
    dry_run: bool = False,
    job: str | None = None,
    chunk_size: int | None = None,
    concurrency: int | None = None,
    retry_unknown: bool = False,
    resend: bool = False,
    refresh: bool = True,
    include_past: bool = False,
    include_future: bool = False,
    confirm: Callable[[Preview], bool] | None = None,
    on_progress: Callable[[int], None] | None = None,
    account: Account | None = None,
) -> RunReport:
    """Plan, (optionally) confirm, send and refresh: the whole job in one call.

    `account` is the configured account every target belongs to and `client` writes to
    (`writeback.accounts.split_by_account` splits a mixed list); default: the first.

    `client` is a client, or a callable returning one as a context manager (closed after the
    run), called only when a request is to be sent: a dry run needs no API key. `dry_run`
    returns after planning with nothing sent; so does a plan with nothing left to send (a
    re-run). Both reports carry the `preview` (the requests a run would send). `confirm` is
    asked with the preview before anything is sent and may decline.
    """
    if not dry_run and left_pending(settings, account):
        # A refresh killed mid-load: the warehouse is loaded whole before it is planned on.
        spec = name if isinstance(name, OperationSpec) else operation(name)
        with _opened(client) as live:
            load_left_pending(settings, live, spec, account)
    with _read_once(settings, targets):
        plan = plan_operation(
            name,
            settings,
            targets,
            values,
            job=job,
            chunk_size=chunk_size,
            include_past=include_past,
            include_future=include_future,
            account=account,
        )
        if not plan.ok:
            raise InvalidRows(plan)
        view = preview(plan, settings, resend=resend)
        if dry_run:
            return RunReport(plan, None, dry_run=dry_run, preview=view)
        behind: str | None = None
        if view.nothing_to_send and not skips_the_server_may_undo(plan):
            behind = _unrefreshed(plan, settings, refresh)
            if behind is None:
                return RunReport(plan, None, preview=view)
    with _opened(client) as live:
        if view.nothing_to_send and behind is None:
            # Skipped as already done by the warehouse: the server may hold other values.
            plan = sent_where_changed(plan, live)
            view = preview(plan, settings, resend=resend)
            if view.nothing_to_send:
                behind = _unrefreshed(plan, settings, refresh)
                if behind is None:
                    return RunReport(plan, None, preview=view)
        if behind is not None:
            return _caught_up(plan, view, settings, live, behind, account)
        if confirm is not None and not confirm(view):
            raise Declined("declined: nothing was sent")
        report = execute_plan(
            plan,
            settings,
            live,
            concurrency=concurrency,
            retry_unknown=retry_unknown,
            resend=resend,
            refresh=refresh,
            selection=(targets or Targets()).describe(),
            on_progress=on_progress,
            account=account,
        )
    report.preview = view
    return report


def _opened(
    client: ApiClient | Callable[[], AbstractContextManager[ApiClient]],
) -> AbstractContextManager[ApiClient]:
    """`client` as a context manager: as it is, or opened from the factory it is."""
    if hasattr(client, "call") or not callable(client):  # a client, not a factory of one
        return nullcontext(cast("ApiClient", client))
    return client()


@contextmanager
def _read_once(settings: Settings, targets: Targets | None) -> Iterator[None]:
    """Hold the warehouse open read-only for the block, so the plan's, the journal's and the
    refresh check's read-only connections share one database instead of each reading the
    catalog again (~20 ms of CPU an open). Not through the confirmation: a sync elsewhere
    could not write the file while a prompt waits. Not for --sql targets: their sandboxed
    connection is configured otherwise, and DuckDB opens a file one way at a time."""
    db = _warehouse(settings)[0]
    if (targets is not None and targets.sql is not None) or not db.is_file():
        yield
        return
    with read_only(db):
        yield


def _warehouse(settings: Settings) -> tuple[Path, str]:
    wh = settings.section("warehouse")
    return Path(wh["duckdb_path"]), str(wh["dataset"])
