"""`simplymeet <resource> <action>`: a command per mutating endpoint, thin over `api.py`.

Commands are generated from the operation table (`operations.py`) so every endpoint gets the
same flags, spelled the same way: targets (`--ids`, `--ids-file`, `--sql`), one option per
request field (also readable per row from a CSV or query column of the same name), and
`--dry-run`, `--yes`, `--job`, `--chunk-size`, `--concurrency`, `--retry-unknown`,
`--no-refresh`, `--config`, `--db`, `--base-url`. `simplymeet writeback jobs|show` reads the
journal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import click

from simplymeet.cli.errors import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_FAILURE,
    EXIT_PARTIAL,
    EXIT_USAGE,
    most_telling,
)
from simplymeet.cli.gc_freeze import freeze_imported
from simplymeet.cli.options import (
    BadInput,
    OnceOptionsCommand,
    account_option,
    base_url_option,
    config_option,
    db_option,
    make_client,
    settings_from,
)
from simplymeet.cli.progress import counting_progress
from simplymeet.cli.shown import echo
from simplymeet.contract.endpoints import API_PREFIX
from simplymeet.limits import MAX_CONCURRENCY
from simplymeet.writeback.groups import short_help
from simplymeet.writeback.operations import OPERATIONS
from simplymeet.writeback.spec import Field, OperationSpec
from simplymeet.writeback.targets import Targets

if TYPE_CHECKING:
    from simplymeet.accounts import Account
    from simplymeet.config import Settings
    from simplymeet.writeback.api import Preview

F = Callable[..., Any]

_KIND_HELP = {
    "int": "integer",
    "bool": "true/false",
    "json": "JSON or @file",
    "int_list": "comma-separated integers",
    "str_list": "separated by ';' or ','",
    "datetime_list": "Y-m-d H:i:s values separated by ';'",
}


# --- shared option decorators -------------------------------------------------------------------


def ids_option(func: F) -> F:
    """`--ids 1,2,3`: targets given inline."""
    return click.option("--ids", default=None, help="Target ids, comma-separated: 1,2,3.")(func)


def ids_file_option(name: str = "--ids-file") -> Callable[[F], F]:
    """`--ids-file PATH` (or `--rows-file` for creates): targets and per-row values from a file."""
    return click.option(
        name,
        "ids_file",
        type=click.Path(dir_okay=False, exists=True, allow_dash=True),
        default=None,
        help="A .txt of ids (- reads them from stdin), or a .csv/.tsv/.jsonl whose columns are "
        "the options below (one row per item; the targets are the column named after them, "
        "e.g. `id`).",
    )


def sql_option(func: F) -> F:
    """`--sql "select id …"`: targets (and per-row values) from the warehouse, read-only."""
    return click.option(
        "--sql",
        default=None,
        help="One SELECT run read-only and sandboxed on the warehouse (tables of the synced "
        "dataset can be named unqualified); the targets are the column named after them "
        "(`id`) or a one-column query's only column; columns named after options give "
        "per-row values.",
    )(func)


def id_column_option(func: F) -> F:
    """`--id-column NAME`: the --ids-file/--sql column that holds the targets."""
    return click.option(
        "--id-column",
        default=None,
        help="The --ids-file/--sql column holding the targets when it is not named after "
        "them (`id`); a one-column input needs no name.",
    )(func)


def run_options(func: F) -> F:
    """`--dry-run`, `--job`, `--concurrency`, `--no-refresh`: how a job runs."""
    func = click.option(
        "--no-refresh", is_flag=True, help="Do not re-read the touched rows into the warehouse."
    )(func)
    func = click.option(
        "--concurrency",
        type=click.IntRange(1, MAX_CONCURRENCY),
        default=None,
        help="Requests in flight at once (default: [writeback] concurrency).",
    )(func)
    func = click.option(
        "--job",
        default=None,
        help="Job name for resuming (default: a hash of the operation and its items, so the "
        "same command on the same input resumes).",
    )(func)
    return click.option(
        "--dry-run", is_flag=True, help="Validate and print the exact requests; send nothing."
    )(func)


def yes_option(func: F) -> F:
    """`--yes`: skip the confirmation of destructive commands."""
    return click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(func)


def chunk_size_option(func: F) -> F:
    """`--chunk-size N`: keys per list request."""
    return click.option(
        "--chunk-size",
        type=click.IntRange(1, 10_000),
        default=None,
        help="Ids per list request (default: [writeback] chunk_size).",
    )(func)


def retry_unknown_option(func: F) -> F:
    """`--retry-unknown`: send again items whose earlier outcome could not be told."""
    return click.option(
        "--retry-unknown",
        is_flag=True,
        help="Also send items an earlier run left 'unknown' (it may have been applied: "
        "invitees may get a second e-mail, a POST may create a duplicate).",
    )(func)


def resend_option(func: F) -> F:
    """`--resend`: notify targets another job already notified (resend-notification,
    invite-participants)."""
    return click.option(
        "--resend",
        is_flag=True,
        help="Also send to events an earlier job already sent this to (held back by "
        "default: their invitees would get it twice).",
    )(func)


def time_option(spec: OperationSpec) -> Callable[[F], F]:
    """`--include-past` (cancel, reschedule, a booking in the past, …) or `--include-future`
    (no-show)."""
    if spec.time_flag == "--include-past":
        return click.option(
            "--include-past",
            "include_past",
            is_flag=True,
            help="Also act on bookings that already started (refused by default).",
        )
    return click.option(
        "--include-future",
        "include_future",
        is_flag=True,
        help="Also mark bookings that have not started yet (refused by default).",
    )


def _field_option(f: Field) -> Callable[[F], F]:
    kind = _KIND_HELP.get(f.kind)
    hint = f" [{kind}]" if kind else ""
    need = " Required (here or as a column)." if f.required else ""
    return click.option(f.option, f.name, default=None, help=f"{f.help}{hint}{need}")


# --- commands -----------------------------------------------------------------------------------


def _make_command(spec: OperationSpec) -> click.Command:
    contract = spec.contract

    def callback(**kwargs: Any) -> None:
        _run(spec, kwargs)

    doc = (
        f"{spec.summary}\n\nSends {contract.method_text} {API_PREFIX}{contract.path}."
        f"\n\nExample: {spec.example}"
    )
    callback.__doc__ = doc
    # Applied innermost first, so listed in --help bottom-up: targets, fields, run, settings.
    command: F = account_option(base_url_option(db_option(config_option(callback))))
    command = retry_unknown_option(command)
    if spec.notifies:
        command = resend_option(command)
    if spec.is_list:
        command = chunk_size_option(command)
    if spec.destructive:
        command = yes_option(command)
    if spec.time_flag is not None:
        command = time_option(spec)(command)
    command = run_options(command)
    for f in reversed(spec.fields):
        if f.name != spec.key and not f.filled:
            command = _field_option(f)(command)
    if not spec.single:
        command = sql_option(command)
        command = ids_file_option("--ids-file" if spec.key else "--rows-file")(command)
        if spec.key:
            command = id_column_option(command)
            command = ids_option(command)
    return click.command(spec.command, cls=OnceOptionsCommand, help=doc, short_help=spec.summary)(
        command
    )


def _run(spec: OperationSpec, kwargs: dict[str, Any]) -> None:
    # The job's machinery (DuckDB, the HTTP client) loads here, not when the command line starts.
    from simplymeet.writeback.accounts import split_by_account

    db_path = kwargs.pop("db_path")
    settings = settings_from(kwargs.pop("config_path"), db_path, kwargs.pop("base_url"))
    destination = settings.get("warehouse", "destination")
    if db_path is None and destination != "duckdb":
        # A DuckDB file left from before would be read as the targets' current values.
        raise BadInput(
            f"a write-back reads its targets and their current values from a DuckDB warehouse, "
            f"and [warehouse] destination is {destination}: pass --db with a DuckDB file synced "
            "from the same account (simplymeet sync --destination duckdb)"
        )
    account_names = kwargs.pop("account_names", ())
    targets = Targets(
        ids=kwargs.pop("ids", None),
        ids_file=kwargs.pop("ids_file", None),
        sql=kwargs.pop("sql", None),
        id_column=kwargs.pop("id_column", None),
    )
    job, concurrency = kwargs.pop("job"), kwargs.pop("concurrency")
    chunk_size, retry_unknown = kwargs.pop("chunk_size", None), kwargs.pop("retry_unknown", False)
    refresh = not kwargs.pop("no_refresh", False)
    dry_run, yes = kwargs.pop("dry_run"), kwargs.pop("yes", False)
    if refresh and spec.refresh and not dry_run:  # only a refresh loads into the file
        settings = _refreshed_by_its_owner(settings)
    resend = kwargs.pop("resend", False)
    include_past = kwargs.pop("include_past", False)
    include_future = kwargs.pop("include_future", False)
    values = {k: v for k, v in kwargs.items() if v is not None}
    try:
        parts = split_by_account(settings, spec, targets, account_names)
    except ValueError as exc:  # TargetError, ConfigError: one line, exit 2, nothing sent
        echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if not parts:  # several accounts, and the query selected no row of any
        click.echo(f"{spec.cli_name}: nothing to do: the --sql query selected no targets")
        return
    window = {"include_past": include_past, "include_future": include_future}
    if len(parts) > 1 and not _all_valid(spec, settings, parts, values, job, chunk_size, window):
        sys.exit(EXIT_USAGE)
    codes: list[int] = []
    for account, part in parts:
        if len(parts) > 1:
            click.echo(f"account {account.name}:")
        codes.append(
            _run_account(
                spec,
                settings,
                account,
                part,
                values,
                dry_run=dry_run,
                yes=yes,
                job=job,
                concurrency=concurrency,
                chunk_size=chunk_size,
                retry_unknown=retry_unknown,
                resend=resend,
                refresh=refresh,
                include_past=include_past,
                include_future=include_future,
            )
        )
    code = most_telling(codes)  # as a sync of several accounts ranks them
    if code:
        sys.exit(code)


def _refreshed_by_its_owner(settings: Settings) -> Settings:
    """`settings` refreshing the demo's file through the demo's pipeline (README's closed loop
    runs write-backs on it); ConfigError (exit 2, nothing sent) for a file another pipeline
    owns, which the refresh would refuse only once the writes were sent."""
    from simplymeet.accounts import configured_accounts
    from simplymeet.cli.demo_cmd import DEMO_PIPELINE, DEMO_PIPELINES_DIR
    from simplymeet.sync.ownership import pipelines_in, refuse_foreign_pipeline

    wh = settings.section("warehouse")
    if wh["destination"] != "duckdb":
        _refresh_can_load(settings)
        return settings
    found = pipelines_in(wh["duckdb_path"])
    if not settings.accounts and found == {DEMO_PIPELINE}:
        return settings.with_overrides(
            "warehouse", pipeline_name=DEMO_PIPELINE, pipelines_dir=str(DEMO_PIPELINES_DIR)
        )
    ours = [account.pipeline_name for account in configured_accounts(settings)]
    refuse_foreign_pipeline(wh["duckdb_path"], ours, found=found)
    return settings


def _refresh_can_load(settings: Settings) -> None:
    """ConfigError (exit 2, nothing sent) when the refresh could not load into the settings'
    destination for want of a setting (its credentials, say): found only after the writes,
    it left them sent under an exit code that says nothing was."""
    from simplymeet.accounts import configured_accounts
    from simplymeet.cli.errors import exit_code_for
    from simplymeet.config import ConfigError
    from simplymeet.sync.runner import check_destination

    for account in configured_accounts(settings):
        try:
            check_destination(account.settings(settings))
        except Exception as exc:
            code, message = exit_code_for(exc)
            if code != EXIT_USAGE:
                raise
            raise ConfigError(
                f"the refresh after the writes could not load into the warehouse: {message}"
            ) from None


def _all_valid(
    spec: OperationSpec,
    settings: Settings,
    parts: list[tuple[Account, Targets]],
    values: dict[str, Any],
    job: str | None,
    chunk_size: int | None,
    window: dict[str, bool],
) -> bool:
    """Every account's rows validated before any account's are sent (invalid ones printed)."""
    from simplymeet.writeback.api import plan_operation
    from simplymeet.writeback.render import invalid_lines

    valid = True
    for account, part in parts:
        plan = plan_operation(
            spec,
            settings,
            part,
            values,
            job=job,
            chunk_size=chunk_size,
            include_past=window["include_past"],
            include_future=window["include_future"],
            account=account,
        )
        if not plan.ok:
            valid = False
            click.echo(f"account {account.name}:", err=True)
            for line in invalid_lines(plan):
                echo(line, err=True)
    return valid


def _run_account(
    spec: OperationSpec,
    settings: Settings,
    account: Account,
    targets: Targets,
    values: dict[str, Any],
    *,
    dry_run: bool,
    yes: bool,
    job: str | None,
    concurrency: int | None,
    chunk_size: int | None,
    retry_unknown: bool,
    refresh: bool,
    include_past: bool,
    include_future: bool,
    resend: bool = False,
) -> int:
    """One account's part of a job; the exit code it calls for (0 when all went well)."""
    from simplymeet.writeback.api import run_operation
    from simplymeet.writeback.plan import InvalidRows
    from simplymeet.writeback.render import (
        failure_line,
        invalid_lines,
        nothing_to_send_lines,
        preview_lines,
        refresh_lines,
        summary_lines,
    )

    freeze_imported()
    own = account.settings(settings)
    stack = ExitStack()
    bar: list[Callable[[int], None] | None] = [None]

    def confirm(view: Preview) -> bool:
        if spec.destructive and not yes:
            _confirm(view)
        items = len(view.to_send) + len(view.to_check) + len(view.done_before)
        bar[0] = stack.enter_context(counting_progress(items, "sending"))
        return True

    def advance(n: int) -> None:
        if bar[0] is not None:
            bar[0](n)

    try:
        with stack:
            report = run_operation(
                spec,
                settings,
                lambda: make_client(own, api_key=account.key()),
                targets,
                values,
                dry_run=dry_run,
                job=job,
                chunk_size=chunk_size,
                concurrency=concurrency,
                retry_unknown=retry_unknown,
                resend=resend,
                refresh=refresh,
                include_past=include_past,
                include_future=include_future,
                confirm=confirm,
                on_progress=advance,
                account=account,
            )
    except InvalidRows as exc:
        for line in invalid_lines(exc.plan):
            echo(line, err=True)
        return EXIT_USAGE
    if report.run_id is None:  # nothing was sent: a dry run, or nothing left to send
        lines = preview_lines if dry_run else nothing_to_send_lines
        for line in [*lines(report.preview), *refresh_lines(report)]:
            echo(line)
        if not report.refresh_error:
            return 0
        echo(failure_line(report) or "", err=True)
        return report.refresh_exit or EXIT_FAILURE
    for line in summary_lines(report):
        echo(line)
    failure = failure_line(report)
    if failure is not None:
        echo(failure, err=True)
    if report.aborted:
        return EXIT_API if report.server_failing else EXIT_AUTH
    if report.failed or report.unknown or report.held:
        return EXIT_PARTIAL
    if report.refresh_error:
        return report.refresh_exit or EXIT_FAILURE
    return 0


def stdin_is_terminal() -> bool:
    """Whether someone can answer a confirmation prompt (cron and pipes cannot)."""
    return sys.stdin.isatty()


def _confirm(view: Preview) -> None:
    from simplymeet.writeback.api import Declined
    from simplymeet.writeback.render import confirm_text

    question = confirm_text(view)
    if not stdin_is_terminal():
        raise click.UsageError(f"{question} — stdin is not a terminal: pass --yes to confirm")
    # Not click.confirm: it turns a Ctrl-C into "Aborted!" and exit 1. A Ctrl-C here stops the
    # command as it stops any (130); the end of input declines.
    click.echo(f"{question} [y/N]: ", nl=False, err=True)
    try:
        answer = input()
    except EOFError:
        click.echo("", err=True)
        raise Declined("declined: nothing was sent") from None
    if answer.strip().lower() not in ("y", "yes"):
        raise Declined("declined: nothing was sent")


def _groups() -> list[click.Group]:
    groups: dict[str, click.Group] = {}
    for spec in OPERATIONS.values():
        group = groups.get(spec.group)
        if group is None:
            first = next(s for s in OPERATIONS.values() if s.group == spec.group)
            noun = spec.group.replace("-", " ")
            group = groups[spec.group] = click.Group(
                spec.group,
                help=f"Write {noun} changes back to SimplyMeet (validated, journaled, "
                f"resumable).\n\nExample: {first.example}",
                short_help=short_help(spec.group),
            )
        group.add_command(_make_command(spec))
    return list(groups.values())


writeback_commands: list[click.Group] = _groups()
"""What `simplymeet.cli.main` registers (through `groups.lazy_groups`): one group per API
resource."""
