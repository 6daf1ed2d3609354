"""`simplymeet alerts check`: evaluate the `[[alerts]]` rules, print what fires, exit 7 if any."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from simplymeet.cli.errors import EXIT_ALERTS, EXIT_API, EXIT_OK
from simplymeet.cli.options import OnceOptionsCommand, config_option, db_option, settings_from

if TYPE_CHECKING:
    from rich.console import Console

    from simplymeet.alerts.evaluate import FiredAlert
    from simplymeet.config import Settings


@click.group("alerts")
def alerts_group() -> None:
    """Metric alerts from the [[alerts]] rules of config.toml.

    Example: simplymeet alerts check --json
    """


@alerts_group.command("check", cls=OnceOptionsCommand)
@click.option("--json", "as_json", is_flag=True, help="Print the firing alerts as JSON.")
@click.option(
    "--deliver/--no-deliver",
    default=True,
    help="Post firing alerts to the webhook in the secrets, if one is set (default: yes).",
)
@config_option
@db_option
def check_command(
    as_json: bool, deliver: bool, config_path: str | None, db_path: str | None
) -> None:
    """Evaluate every rule on the warehouse; exit 7 when any fires, 0 when none.

    Other exits: 2 bad config or no models built, 5 the webhook kept failing.

    Example: simplymeet alerts check --json
    """
    settings = settings_from(config_path, db_path)
    # A file named on the command line is read; else the warehouse the sync loads.
    destination = "duckdb" if db_path else None
    sys.exit(check_and_report(settings, as_json=as_json, deliver=deliver, destination=destination))


def check_and_report(
    settings: Settings,
    *,
    as_json: bool = False,
    deliver: bool = True,
    destination: str | None = None,
) -> int:
    """Evaluate, print (table or JSON on stdout), deliver; return the exit code.

    The rules read the warehouse of `destination` (default: `[warehouse] destination`): a
    DuckDB file left beside a PostgreSQL warehouse is not the one the sync loads. Shared by
    `alerts check` and `sync` with `[sync] check_alerts = true`.
    """
    # DuckDB, httpx, pydantic and rich load here, not at import: `simplymeet --help` stays fast.
    from simplymeet.alerts.delivery import WebhookError, deliver_webhook
    from simplymeet.alerts.evaluate import AlertsUnavailableError, evaluate_alerts
    from simplymeet.cli.console import make_console
    from simplymeet.config import read_api_key, read_webhook_url
    from simplymeet.models.connection import OLDER_MODELS, connect, missing_column, warehouse_for
    from simplymeet.models.errors import ModelError

    try:
        warehouse = warehouse_for(
            destination or str(settings.get("warehouse", "destination")),
            settings.get("warehouse", "duckdb_path"),
        )
        with connect(warehouse, read_only=True) as con:
            fired = evaluate_alerts(con, settings.alerts)
    except ModelError as exc:
        raise AlertsUnavailableError(str(exc)) from exc
    except Exception as exc:
        if missing_column(exc):
            # A mart an earlier version built, read by this version's rules.
            raise AlertsUnavailableError(OLDER_MODELS) from exc
        raise
    if as_json:
        click.echo(json.dumps([alert.as_dict() for alert in fired], indent=2, default=str))
    else:
        # Scheduler logs are not terminals: rich would wrap the table at 80 columns there.
        width = None if sys.stdout.isatty() else 160
        print_alerts(fired, len(settings.alerts), make_console(highlight=False, width=width))
    url = read_webhook_url() if deliver and fired else None
    if url:
        try:
            attempts = deliver_webhook(url, fired, api_key=read_api_key())
        except WebhookError as exc:
            click.echo(f"error: {exc}", err=True)
            return EXIT_API
        sent = f"delivered {len(fired)} alert(s) to the webhook ({attempts} attempts)"
        click.echo(sent, err=True)
    return EXIT_ALERTS if fired else EXIT_OK


def print_alerts(fired: Sequence[FiredAlert], rules: int, console: Console) -> None:
    """The firing alerts as a table, or one line saying none fired."""
    from rich.table import Table

    if not fired:
        console.print(f"no alert firing ({rules} rule{'s' if rules != 1 else ''} checked)")
        return
    table = Table(title=f"{len(fired)} alert(s) firing", title_justify="left")
    for column in ("rule", "subject", "period", "value", "n", "prior", "condition"):
        table.add_column(column, justify="right" if column in {"value", "n", "prior"} else "left")
    for alert in fired:
        rate = alert.metric != "created"
        table.add_row(
            alert.rule,
            alert.subject,
            f"{alert.period} {alert.period_start}" if alert.period_start else alert.period,
            f"{alert.value:.1%}" if rate else f"{alert.value:,.0f}",
            f"{alert.numerator}/{alert.denominator}" if rate else "",
            "" if alert.prior_value is None else f"{alert.prior_value:.1%}",
            alert.condition,
        )
    console.print(table)
