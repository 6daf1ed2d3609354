"""`simplymeet sync`: one run of the sync, with a summary at the end."""

from __future__ import annotations

import contextlib
import datetime as dt
import shlex
import sys
from typing import TYPE_CHECKING

import click

from simplymeet.cli.errors import EXIT_DATA_TESTS, EXIT_REJECTED_ROWS, exit_code_for
from simplymeet.cli.gc_freeze import freeze_imported
from simplymeet.cli.options import (
    LazyHelpOption,
    OnceOptionsCommand,
    account_option,
    base_url_option,
    config_option,
    dataset_option,
    db_option,
    make_client,
    settings_from,
)

if TYPE_CHECKING:
    from rich.console import Console

    from simplymeet.accounts import Account
    from simplymeet.config import Settings
    from simplymeet.sync.runner import SyncRequest, SyncSummary
    from simplymeet.sync.side_by_side import AccountOutcome


def _resources_help() -> str:
    from simplymeet.sync.resource_names import RESOURCE_NAMES

    return f"Comma-separated subset of: {', '.join(RESOURCE_NAMES)}."


@click.command("sync", cls=OnceOptionsCommand)
@click.option(
    "--resources",
    cls=LazyHelpOption,
    help_from=_resources_help,
    default=None,
    help="Comma-separated subset of the source's resources (listed by --help).",
)
@click.option("--full-refresh", is_flag=True, help="Re-read every event, then reconcile deletes.")
@click.option(
    "--reconcile/--no-reconcile",
    default=None,
    help=(
        "Force or skip the deleted-events pass (default: per reconcile_every_hours, and when "
        "the live events' total differs from the server's)."
    ),
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
    default=None,
    help="Backfill window: also re-read events updated since this UTC date.",
)
@click.option("--destination", default=None, help="Any dlt destination (default: duckdb).")
@dataset_option("Dataset/schema name (default from config).")
@click.option("--no-models", is_flag=True, help="Do not build the SQL models after loading.")
@account_option
@config_option
@db_option
@base_url_option
def sync_command(
    resources: str | None,
    full_refresh: bool,
    reconcile: bool | None,
    since: dt.datetime | None,
    destination: str | None,
    dataset: str | None,
    no_models: bool,
    account_names: tuple[str, ...],
    config_path: str | None,
    db_path: str | None,
    base_url: str | None,
) -> None:
    """Sync SimplyMeet into the warehouse (incremental on updatedAt).

    Example: SIMPLYMEET_API_KEY=... simplymeet sync --resources events,users

    \b
    Exit codes: 0 synced; 1 unexpected failure; 2 bad input or configuration; 3 another
    sync holds the lock; 4 API key refused; 5 API unreachable; 8 sync incomplete: what was
    read does not add up to the server's counts even after re-reading (it is loaded; run
    again); 9 everything else loaded, but rows that break the API contract (null or
    non-integer id, unreadable timestamp) were set aside in raw._rejected_rows (fix them
    upstream; the next sync reads them again); 10 loaded and built, but a data test of the
    models failed ([sync] test_models; `simplymeet models test` shows the rows). With
    several [[accounts]], each account's outcome is printed and the code is the most
    telling one (2, 4, 5, 3, 8, 1, 10, then 9).
    """
    from simplymeet.accounts import configured_accounts, select_accounts

    settings = settings_from(config_path, db_path, base_url)
    accounts = select_accounts(configured_accounts(settings), account_names)
    chosen = [r.strip() for r in resources.split(",")] if resources is not None else None
    if chosen is not None and not any(chosen):
        # An empty value is a script's unset variable more often than a wish for everything.
        raise click.BadParameter(
            "names no resource (leave it out to sync every one)", param_hint="--resources"
        )
    if chosen is not None and not all(chosen):
        # `events,$EXTRA,users` with EXTRA unset: a resource meant is missing from the run.
        raise click.BadParameter(f"item {chosen.index('') + 1} is empty", param_hint="--resources")
    if since is not None and since.replace(tzinfo=dt.UTC) > dt.datetime.now(dt.UTC):
        # Nothing is updated after now: the date is a typo, and the run would re-read nothing.
        raise click.BadParameter(f"{since:%Y-%m-%d} is in the future", param_hint="--since")
    # Bad settings and a missing key exit before dlt and pyarrow load (~1.5 s of CPU).
    api_key = accounts[0].key() if len(accounts) == 1 else None
    with contextlib.ExitStack() as opened:
        client = None
        if len(accounts) == 1:
            own = accounts[0].settings(settings)
            client = opened.enter_context(make_client(own, api_key=api_key))
            from simplymeet.sync.first_reads import read_ahead

            # The run's first list pages travel while dlt and pyarrow load.
            pipelines = [known.pipeline_name for known in configured_accounts(settings)]
            read_ahead(
                client,
                own,
                chosen,
                destination=destination,
                pipelines=pipelines,
                full_refresh=full_refresh,
            )
        from simplymeet.sync import SyncRequest, sync

        freeze_imported()
        request = SyncRequest(
            resources=chosen,
            full_refresh=full_refresh,
            reconcile=reconcile,
            since=since.replace(tzinfo=dt.UTC) if since else None,
            destination=destination,
            dataset=dataset,
            build_models=False if no_models else None,
        )
        from simplymeet.cli.console import make_console  # rich loads when a command prints

        if client is None:
            code = _sync_several(settings, request, accounts)
            if code:
                sys.exit(code)
            return
        [account] = accounts
        from simplymeet.sync.arrow_pandas import convert_without_pandas

        convert_without_pandas()
        console = make_console(stderr=True)
        try:
            summary = sync(
                settings,
                client,
                request,
                console=console if sys.stderr.isatty() else None,
                account=account,
            )
        except Exception as exc:
            checked_alerts_after_failure(settings, exc, destination)
            raise
    console = make_console()
    print_summary(summary, console)
    if (destination or settings.get("warehouse", "destination")) == "duckdb":
        console.print(f"Inspect it: {dlt_info_command(settings)}", soft_wrap=True, highlight=False)
    err = make_console(stderr=True)
    lines, code = landing_notes(summary)
    for line in lines:
        err.print(line, highlight=False, soft_wrap=True)
    if settings.sync.check_alerts and not summary.models_built:
        click.echo("note: alerts read models built before this sync", err=True)
    code = checked_alerts(settings, code, built=summary.models_built, destination=destination)
    if code:
        sys.exit(code)


def checked_alerts(
    settings: Settings, code: int, *, built: bool, destination: str | None = None
) -> int:
    """The run's exit code once `[[alerts]]` are checked, where `[sync] check_alerts` asks and
    the run built the models or ended 0, 9 or 10: its own code first (a failed data test,
    rows set aside, a failure), else 7 when an alert fired. Every route that syncs (the
    command, several accounts, the pipeline script) checks them alike."""
    if not settings.sync.check_alerts or not (
        built or code in (0, EXIT_REJECTED_ROWS, EXIT_DATA_TESTS)
    ):
        return code
    from simplymeet.alerts.cli import check_and_report

    alerts_code = check_and_report(settings, destination=destination)
    return code or alerts_code


def checked_alerts_after_failure(
    settings: Settings, exc: BaseException, destination: str | None = None
) -> None:
    """Check the alerts of a run that failed after loading and building the models on what
    it loaded (the exception keeps its summary as `loaded`); the run then fails with its own
    code, as 8 and 9 take precedence over 7."""
    loaded = getattr(exc, "loaded", None)
    if getattr(loaded, "models_built", False):
        checked_alerts(settings, exit_code_for(exc)[0], built=True, destination=destination)


def _sync_several(settings: Settings, request: SyncRequest, accounts: list[Account]) -> int:
    """Every account side by side; a summary per account that loaded, a line per outcome."""
    from simplymeet.cli.console import make_console
    from simplymeet.sync import overall_exit_code, sync_accounts

    outcomes = sync_accounts(settings, request, accounts=accounts)
    out, err = make_console(), make_console(stderr=True)
    for outcome in outcomes:
        if outcome.summary is not None:
            print_summary(outcome.summary, out, f"simplymeet sync: account {outcome.account}")
    for outcome in outcomes:
        status = "ok" if outcome.exit_code == 0 else f"exit {outcome.exit_code}"
        line = f"account {outcome.account}: {status}"
        if outcome.message:
            line += f": {outcome.message}"
        (out if outcome.exit_code == 0 else err).print(line, highlight=False, soft_wrap=True)
    for line in shared_data_test_notes(outcomes):
        err.print(line, highlight=False, soft_wrap=True)
    # As for one account: the models built on what the accounts loaded are checked whatever
    # failed beside them, and the run's own code goes before any alert's (7).
    built = any(o.summary is not None and o.summary.models_built for o in outcomes)
    return checked_alerts(
        settings, overall_exit_code(outcomes), built=built, destination=request.destination
    )


def dlt_info_command(settings: Settings) -> str:
    """dlt's own `pipeline … info` command for this pipeline, as typed from this folder.

    dlt looks in ~/.dlt/pipelines unless told otherwise; ours live in [warehouse] pipelines_dir.
    """
    wh = settings.section("warehouse")
    folder, name = shlex.quote(str(wh["pipelines_dir"])), shlex.quote(str(wh["pipeline_name"]))
    return f"dlt pipeline --pipelines-dir {folder} {name} info"


def print_summary(summary: SyncSummary, console: Console, title: str = "simplymeet sync") -> None:
    """The end-of-run table: rows per table, then traffic and timing."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("table", "rows", "loaded", "new", "updated", "deleted"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for row in summary.tables:
        table.add_row(
            row.name,
            f"{row.rows_after:,}",
            f"{row.loaded:,}",
            "-" if row.replaced else f"{row.new:,}",
            "-" if row.replaced else f"{row.updated:,}",
            f"{row.deleted:,}" if row.name == "events" else "-",
        )
    console.print(table)
    notes = [
        f"{summary.requests:,} requests ({summary.event_pages:,} event pages, "
        f"{summary.retries:,} retries)",
        f"{summary.duration_seconds:.1f} s",
        f"warehouse {summary.warehouse}",
    ]
    if summary.state_restored:
        notes.append(summary.state_restored)
    if summary.widened_tables:
        # Widening keeps what was landed; what was landed rounded to cents stays rounded.
        notes.append(
            f"amounts of {', '.join(summary.widened_tables)} now land as served; rows landed "
            "before hold them rounded to cents: --full-refresh reads them again"
        )
    if summary.recovered_pending:
        notes.append("finished loading a previous run's pending data first")
    if summary.reconciled:
        how = "by range counts" if summary.reconcile_method == "counts" else "every id checked"
        notes.append(f"reconciled ({how}): {summary.deleted_found:,} events found deleted upstream")
    if summary.event_pages_reread:
        # A gap found and proven by the pages already read (equal stamps) re-reads nothing.
        notes.append(
            f"events changed or cut short while paging: {summary.event_pages_reread:,} "
            "pages re-read around them"
        )
    if summary.events_reread:
        notes.append(
            f"{summary.events_reread:,} events served twice in one read or with a list null "
            "read again by id"
        )
    if summary.events_rechecked:
        notes.append(
            f"{summary.events_rechecked:,} events landed last run with an owner, type, invitee, "
            "date or state null read again by id"
        )
    if summary.future_rows:
        notes.append(f"{summary.future_rows:,} events stamped in the future (cursor not moved)")
    unchanged = sum(row.unchanged for row in summary.tables)
    if unchanged:
        notes.append(f"{unchanged} tables unchanged since their last load (confirmed, not loaded)")
    if summary.models_built:
        tested = summary.model_test_failures
        if tested is None:
            notes.append("models built")
        else:
            notes.append(
                f"models built and tested ({len(tested)} data test(s) failed)"
                if tested
                else "models built and tested"
            )
    # One line whatever the terminal's width: a scheduler's log, or a test, reads it whole.
    console.print(" · ".join(notes), soft_wrap=True)


def data_test_notes(failures: list[str]) -> list[str]:
    """A line per data test that failed after the build, then what to run to see the rows."""
    if not failures:
        return []
    return [
        *(f"data test failed: {failure}" for failure in failures),
        f"{len(failures)} data test(s) of the models failed after the build; "
        "`simplymeet models test` shows the offending rows",
    ]


def shared_data_test_notes(outcomes: list[AccountOutcome]) -> list[str]:
    """`data_test_notes` of a run of several accounts: their models (and tests) are shared,
    so the failures are reported once, not per account."""
    for outcome in outcomes:
        if outcome.summary is not None and outcome.summary.models_built:
            return data_test_notes(outcome.summary.model_test_failures or [])
    return []


def landing_notes(summary: SyncSummary) -> tuple[list[str], int]:
    """What the run set aside, did not recognise or found wrong in the models, one line each,
    and the exit code it calls for (0; 10 when a data test failed, else 9 when rows were set
    aside)."""
    failures = summary.model_test_failures or []
    lines = data_test_notes(failures)
    if summary.unknown_fields:
        listed = "; ".join(
            f"{table} ({', '.join(names)})" for table, names in summary.unknown_fields.items()
        )
        lines.append(
            "warning: the server sent fields the API reference does not know, kept in each "
            f"table's _extra column: {listed}"
        )
    code = EXIT_DATA_TESTS if failures else 0
    note = summary.rejected_note
    if note is None:
        return lines, code
    lines.append(note)
    return lines, code or EXIT_REJECTED_ROWS
