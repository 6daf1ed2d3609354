"""`simplymeet demo`: the emulator in-process, a sync into ./simplymeet.duckdb, what landed."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import click
from rich.console import Console

from simplymeet.cli.options import config_option
from simplymeet.cli.sync_cmd import print_summary
from simplymeet.config import ConfigError, load_settings

DEMO_PIPELINE = "simplymeet_demo"


@click.command("demo")
@click.option("--events", default=20_000, show_default=True, help="Seeded bookings.")
@click.option("--seed", default=7, show_default=True, help="Emulator seed (same seed, same data).")
@click.option(
    "--db",
    "db_path",
    default="simplymeet.duckdb",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="DuckDB file to create.",
)
@config_option
def demo_command(events: int, seed: int, db_path: str, config_path: str | None) -> None:
    """Start the emulator with seeded data, sync it into DuckDB, print what landed.

    Example: simplymeet demo --events 5000
    """
    from simplymeet.client import SimplyMeetClient
    from simplymeet.emulator import start_emulator
    from simplymeet.sync import SyncRequest, sync

    if events < 0:
        raise click.BadParameter("must be zero or more", param_hint="--events")
    db = Path(db_path)
    state_dir = Path(".simplymeet") / "demo-pipelines"
    _refuse_foreign_warehouse(db)
    for path in (db, db.with_name(db.name + ".wal")):
        path.unlink(missing_ok=True)
    shutil.rmtree(state_dir, ignore_errors=True)
    settings = load_settings(config_path)
    settings = settings.with_overrides(
        "warehouse",
        destination="duckdb",
        duckdb_path=str(db),
        pipeline_name=DEMO_PIPELINE,
        pipelines_dir=str(state_dir),
    )
    console = Console()
    key = "demo-" + secrets.token_urlsafe(16)
    console.print(f"starting the emulator with {events:,} seeded bookings (seed {seed})…")
    with start_emulator(seed=seed, events=events, api_key=key) as emulator:
        settings = settings.with_overrides("api", base_url=emulator.base_url)
        with SimplyMeetClient.from_settings(settings, api_key=key) as client:
            summary = sync(settings, client, SyncRequest(), console=Console(stderr=True))
    print_summary(summary, console)
    _print_headlines(db, console)
    console.print(
        f"\nOpen it: duckdb {db}   ·   report: simplymeet report --db {db} --html report.html"
    )


def _refuse_foreign_warehouse(db: Path) -> None:
    """Never delete a DuckDB file that a real (non-demo) pipeline wrote."""
    if not db.exists():
        return
    import duckdb

    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise ConfigError(f"{db} exists and is not a DuckDB file this demo can replace") from exc
    try:
        rows = con.execute("select distinct pipeline_name from raw._dlt_pipeline_state").fetchall()
    except duckdb.Error:
        rows = []
    finally:
        con.close()
    foreign = sorted({r[0] for r in rows} - {DEMO_PIPELINE})
    if foreign:
        raise ConfigError(
            f"{db} holds data of pipeline {foreign[0]!r}; pass --db to write the demo elsewhere"
        )


def _print_headlines(db: Path, console: Console) -> None:
    from simplymeet.report import load_report, open_warehouse, print_report

    con = open_warehouse(db)
    try:
        print_report(load_report(con), console, top=5)
    finally:
        con.close()
