"""`simplymeet report`: the headline metrics in the terminal, or as an HTML file."""

from __future__ import annotations

import click

from simplymeet.cli.gc_freeze import freeze_imported
from simplymeet.cli.options import config_option, db_option, settings_from
from simplymeet.models.cli import chosen_warehouse, destination_option
from simplymeet.models.errors import ModelError


@click.command("report")
@db_option
@config_option
@destination_option
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write a self-contained HTML report with charts to this file.",
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
    from rich.console import Console

    from simplymeet.models.connection import connect
    from simplymeet.report.data import load_report
    from simplymeet.report.html import render_html
    from simplymeet.report.terminal import print_report

    freeze_imported()
    settings = settings_from(config_path, db_path)
    try:
        with connect(chosen_warehouse(settings, destination), read_only=True) as con:
            data = load_report(con, settings.alerts)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc
    print_report(data, Console(highlight=False))
    if html_path:
        with open(html_path, "w", encoding="utf-8") as out:
            out.write(render_html(data))
        click.echo(f"wrote {html_path}")
