"""The `simplymeet` command: thin shells over the library, one domain error -> one clear line."""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import Any, NoReturn

import click

from simplymeet import __version__
from simplymeet.cli.entry import (
    INTERRUPTED,
    interrupted_exit_code,
    open_closed_streams,
    signal_inside,
    take_interrupts,
    take_terminations,
)
from simplymeet.cli.errors import exit_code_for, without_secrets
from simplymeet.cli.gc_freeze import exit_process, own_process
from simplymeet.cli.shown import echo


class _Group(click.Group):
    """Turns any library error, and any error click finds in the command line, into one line
    on stderr and a meaningful exit code."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as exc:  # an unknown option of `simplymeet` itself
            _one_line_error(exc)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except click.ClickException as exc:  # a subcommand's usage error, or a command's own
            _one_line_error(exc)
        except KeyboardInterrupt as exc:
            _interrupted(exc)
        except BrokenPipeError:
            _reader_gone()
        except Exception as exc:
            # A signal dlt took mid-step comes back wrapped in the step's failure.
            signalled = signal_inside(exc)
            if signalled is not None:
                _interrupted(signalled)
            code, message = exit_code_for(exc)
            echo(f"error: {without_secrets(message)}", err=True)
            sys.exit(code)


def _one_line_error(exc: click.ClickException) -> NoReturn:
    """Print `exc` as one `error: ...` line and exit with its code.

    Click's own form of a usage error is three lines (the usage, a hint, the error); a
    scheduler's log keeps the last, so the hint to the help goes on the error's line.
    """
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        raise exc  # `simplymeet models` alone: click shows the group's help
    message = without_secrets(" ".join(exc.format_message().split()))
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        message += f" (see {exc.ctx.command_path} --help)"
    echo(f"error: {message}", err=True)
    raise click.exceptions.Exit(exc.exit_code)


def _reader_gone() -> NoReturn:
    """The reader of stdout went away (`simplymeet sql ... | head`): stop quietly, as a
    program ended by SIGPIPE does (141), not with an error about the pipe. What is still
    buffered for stdout goes nowhere: flushing it at exit would fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(128 + signal.SIGPIPE)


def _interrupted(exc: BaseException) -> None:
    """Exit as a process stopped by its signal does: 128 + the signal (130 for Ctrl-C)."""
    click.echo(INTERRUPTED, err=True)
    sys.exit(interrupted_exit_code(exc))


_URL_LOGGERS = ("httpx", "httpcore", "urllib3")
"""Loggers that name whole URLs: kept to warnings whatever `-v` asks."""


def _dlt_silenced(record: logging.LogRecord) -> bool:
    """dlt's log at the default verbosity: nothing. The command says what happened in its own
    lines, its last naming the cause; dlt's own would add a line for each retry of each load
    job, a traceback in its text (1,600 lines for one full disk), and warnings about its
    internals an operator cannot act on. `-v` shows them."""
    return record.levelno >= logging.CRITICAL


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="simplymeet")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
def cli(verbose: int, quiet: bool) -> None:
    """Sync SimplyMeet.me into DuckDB, model it, report on it, and write bulk changes back.

    Example: simplymeet demo
    """
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    )
    logging.basicConfig(level=level, format="%(levelname)s: %(name)s: %(message)s")
    # dlt logs through its own handler; keep it at the same verbosity.
    dlt_logger = logging.getLogger("dlt")
    dlt_logger.setLevel(max(level, logging.WARNING))
    (dlt_logger.removeFilter if verbose else dlt_logger.addFilter)(_dlt_silenced)
    # The HTTP libraries log every URL whole (an alert webhook's carries its token); our
    # client logs each request itself, its URL redacted.
    for name in _URL_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def _register() -> None:
    from simplymeet.alerts.cli import alerts_group
    from simplymeet.cli.demo_cmd import demo_command
    from simplymeet.cli.sql_cmd import sql_command
    from simplymeet.cli.sync_cmd import sync_command
    from simplymeet.emulator.cli import emulator_group
    from simplymeet.models.cli import models_group
    from simplymeet.report.cli import report_command
    from simplymeet.writeback.groups import lazy_groups
    from simplymeet.writeback.journal_cli import journal_group

    for command in (
        sync_command,
        demo_command,
        sql_command,
        emulator_group,
        models_group,
        report_command,
        alerts_group,
    ):
        cli.add_command(command)
    # The write-back's resource groups are built from the contract's DTOs when first used.
    for group in (*lazy_groups(), journal_group):
        cli.add_command(group)
    # `simplymeet models build|test|report`: the report reads the models, so it is theirs too.
    models_group.add_command(report_command, "report")


_register()


def main() -> None:
    """The `simplymeet` program: `cli` in a process of its own."""
    open_closed_streams()
    own_process()
    take_interrupts()
    take_terminations()
    try:
        cli()
    except SystemExit as done:
        exit_process(done.code)


if __name__ == "__main__":
    main()
