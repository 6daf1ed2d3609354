"""`simplymeet report`: the headline metrics in the terminal, or as an HTML file."""

from __future__ import annotations

import errno

import click

from simplymeet.cli.gc_freeze import freeze_imported
from simplymeet.cli.options import (
    BadInput,
    OnceOptionsCommand,
    config_option,
    db_option,
    settings_from,
)
from simplymeet.models.cli import chosen_warehouse, command_error, destination_option
from simplymeet.models.errors import ModelError


@click.command("report", cls=OnceOptionsCommand)
@db_option
@config_option
@destination_option
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write a self-contained HTML report with charts to this file ('-': standard "
    "output, the page alone).",
)
def report_command(
    db_path: str | None, config_path: str | None, destination: str | None, html_path: str | None
) -> None:
    """Print the headline metrics as tables; with --html, write the charted report too.

    Example: simplymeet report --html report.html

    Example: simplymeet models report --destination postgres (the same command, read from the
    models on the PostgreSQL server the sync loaded)
    """
    # DuckDB, pandas and rich load here, not when the command line starts.
    from simplymeet.cli.console import make_console
    from simplymeet.models.connection import connect
    from simplymeet.report.data import load_report
    from simplymeet.report.html import ReportPathError, render_html, write_html
    from simplymeet.report.terminal import print_report

    if html_path is not None and not html_path.strip():
        # An unset variable in a scheduled `--html "$REPORT"`: the report would stop quietly.
        raise BadInput("--html names no file: give the report's file name")
    freeze_imported()
    settings = settings_from(config_path, db_path)
    try:
        with connect(chosen_warehouse(settings, destination), read_only=True) as con:
            data = load_report(con, settings.alerts)
    except ModelError as exc:
        raise command_error(exc) from exc
    html = render_html(data) if html_path else None
    if html_path == "-" and html is not None:
        # A pipe (`| gzip`, a mail command) takes the page alone: the tables would break it.
        click.echo(html, nl=False)
        return
    print_report(data, make_console(highlight=False))
    if html_path and html is not None:
        try:
            write_html(html_path, html)
        except ReportPathError as exc:
            raise BadInput(str(exc)) from None
        except OSError as exc:
            raise _unwritten(html_path, exc) from None
        click.echo(f"wrote {html_path}")


# The disk failed, not the path the user chose: an unexpected failure, not bad input.
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


def _unwritten(path: str, exc: OSError) -> click.ClickException:
    """The one-line error of a report that could not be written (exit 1 for a failing disk,
    2 for a path that cannot hold it)."""
    message = f"cannot write the report to {path}: {exc.strerror or exc}; any earlier one is kept"
    return click.ClickException(message) if exc.errno in _DISK_ERRORS else BadInput(message)
