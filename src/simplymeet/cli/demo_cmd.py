"""`simplymeet demo`: the emulator in-process, a sync into its own DuckDB file, what landed.

The demo keeps its own file and pipeline folder so a real `simplymeet sync` run in the same
folder (into ./simplymeet.duckdb, state in .simplymeet/pipelines) never mixes with it. Each
run builds both beside the last ones and replaces them only once it has ended: a demo
stopped by a Ctrl-C, a bad option or a failure leaves the last one whole.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import click

from simplymeet.cli.gc_freeze import freeze_imported
from simplymeet.cli.options import OnceOptionsCommand, config_option, seed_options
from simplymeet.cli.sync_cmd import dlt_info_command, print_summary

if TYPE_CHECKING:
    from rich.console import Console

DEMO_PIPELINE = "simplymeet_demo"
DEMO_DB = "simplymeet-demo.duckdb"
DEMO_PIPELINES_DIR = Path(".simplymeet") / "demo-pipelines"


def _refuse_what_is_not_a_demo(db: Path) -> None:
    """ConfigError (exit 2) unless `db` is absent, or a DuckDB file holding no tables or the
    demo's: the demo replaces its file on every run, and a `--db` naming another file (the
    user's own database, a text file) must not lose it."""
    import duckdb

    from simplymeet.config import ConfigError
    from simplymeet.duckdb_files import refuse_another_kind_of_file
    from simplymeet.sync.ownership import pipelines_of

    if not db.exists():
        return
    if db.is_dir():
        raise ConfigError(f"{db} is a directory; give --db a DuckDB file path")
    try:
        refuse_another_kind_of_file(db)
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise ConfigError(
            f"{db} is no demo warehouse the demo may replace ({exc}); choose another --db"
        ) from None
    try:
        tables = con.execute("select count(*) from information_schema.tables").fetchone()
        demo = pipelines_of(con) == {DEMO_PIPELINE}
    finally:
        con.close()
    if tables and tables[0] and not demo:
        raise ConfigError(
            f"{db} holds tables of its own, not the demo's; the demo replaces its file on "
            "every run: choose another --db"
        )


@click.command("demo", cls=OnceOptionsCommand)
@seed_options(20_000, 7, "Seeded bookings.", "Emulator seed (same seed, same data).")
@click.option(
    "--db",
    "db_path",
    default=DEMO_DB,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="DuckDB file to create (replaced on each run; never a real sync's file).",
)
@config_option
def demo_command(events: int, seed: int, db_path: str, config_path: str | None) -> None:
    """Start the emulator with seeded data, sync it into DuckDB, print what landed.

    Example: simplymeet demo --events 5000
    """
    from simplymeet.client import SimplyMeetClient
    from simplymeet.config import load_settings
    from simplymeet.emulator import start_emulator
    from simplymeet.sync import SyncRequest, sync
    from simplymeet.sync.ownership import refuse_foreign_pipeline

    freeze_imported()
    db = Path(db_path)
    state_dir = DEMO_PIPELINES_DIR
    settings = load_settings(config_path)  # a bad --config replaces nothing
    refuse_foreign_pipeline(db, DEMO_PIPELINE)
    _refuse_what_is_not_a_demo(db)
    # Built beside the last demo (one folder: the renames below cannot fail half way across
    # file systems), which stays whole until this one has ended.
    building, state_building = _building(db), state_dir.with_name(state_dir.name + ".building")
    _remove(building, state_building)  # what a demo killed while building left
    warehouse = {"destination": "duckdb", "pipeline_name": DEMO_PIPELINE}
    settings = settings.with_overrides(
        "warehouse", duckdb_path=str(db), pipelines_dir=str(state_dir), **warehouse
    )
    from simplymeet.cli.console import make_console

    console = make_console()
    key = "demo-" + secrets.token_urlsafe(16)
    console.print(f"starting the emulator with {events:,} seeded bookings (seed {seed})…")
    try:
        with start_emulator(seed=seed, events=events, api_key=key) as emulator:
            built = settings.with_overrides(
                "warehouse", duckdb_path=str(building), pipelines_dir=str(state_building)
            ).with_overrides("api", base_url=emulator.base_url)
            with SimplyMeetClient.from_settings(built, api_key=key) as client:
                summary = sync(built, client, SyncRequest(), console=make_console(stderr=True))
        _replace(db, building, state_dir, state_building)
    except BaseException:
        _remove(building, state_building)
        raise
    summary.warehouse = summary.warehouse.replace(str(building.resolve()), str(db.resolve()))
    print_summary(summary, console)
    _print_headlines(db, console)
    lines = (
        f'Query it:   simplymeet sql --db {db} "select * from analytics.kpi_summary"',
        f"Report:     simplymeet report --db {db} --html report.html",
        f"Inspect it: {dlt_info_command(settings)}",
    )
    console.print("\n" + "\n".join(lines), soft_wrap=True, highlight=False)


def _building(db: Path) -> Path:
    """Where a demo builds the file that replaces `db` once it has ended."""
    return db.with_name(f".{db.stem}.building{db.suffix}")


def _wal(db: Path) -> Path:
    return db.with_name(db.name + ".wal")


def _remove(building: Path, state_building: Path) -> None:
    """Remove a demo's file and folder being built (and the file's write-ahead log)."""
    for path in (building, _wal(building)):
        path.unlink(missing_ok=True)
    shutil.rmtree(state_building, ignore_errors=True)


def _replace(db: Path, building: Path, state_dir: Path, state_building: Path) -> None:
    """Put the demo just built in place of the last one: the folder first, then the file (a
    demo killed between them left a file whose state the next run restores from it)."""
    shutil.rmtree(state_dir, ignore_errors=True)
    state_building.rename(state_dir)
    _wal(db).unlink(missing_ok=True)
    if _wal(building).exists():
        _wal(building).replace(_wal(db))
    building.replace(db)


def _print_headlines(db: Path, console: Console) -> None:
    from simplymeet.report import load_report, open_warehouse, print_report

    con = open_warehouse(db)
    try:
        print_report(load_report(con), console, top=5)
    finally:
        con.close()
