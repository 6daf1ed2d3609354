"""`simplymeet writeback jobs|show`: read the write-back journal.

Apart from the resource commands (`cli.py`), which are built from every DTO of the contract:
these need none of it, so `simplymeet --help` lists them without importing it.
"""

from __future__ import annotations

from pathlib import Path

import click

from simplymeet.cli.options import (
    BadInput,
    OnceOptionsCommand,
    config_option,
    db_option,
    limit_option,
    settings_from,
)
from simplymeet.cli.shown import echo


@click.group("writeback")
def journal_group() -> None:
    """Read the write-back journal (`writeback.*` tables in the warehouse).

    Example: simplymeet writeback show event_cancel_list-3f2a9c0d1e2b --outcome failed
    """


@journal_group.command("jobs", cls=OnceOptionsCommand)
@limit_option(20, "Jobs shown.")
@config_option
@db_option
def jobs_command(limit: int, config_path: str | None, db_path: str | None) -> None:
    """List the newest write-back jobs with their items' latest outcomes.

    Example: simplymeet writeback jobs --limit 5
    """
    settings = settings_from(config_path, db_path)
    from simplymeet.writeback.journal import list_jobs

    jobs = list_jobs(_warehouse(settings.get("warehouse", "duckdb_path")), limit)
    if not jobs:
        click.echo("no write-back jobs in this warehouse")
    for job in jobs:
        counts = " · ".join(
            f"{name.replace('_', ' ')} {job[name]:,}"
            for name in ("succeeded", "failed", "unknown", "pending", "skipped", "not_sent")
            if job[name]
        )
        if job["last_run_unfinished"]:
            counts += " · last run unfinished"
        click.echo(
            f"{job['job_id']}  {job['command']}  {job['updated_at']:%Y-%m-%d %H:%M}  {counts}"
        )


@journal_group.command("show", cls=OnceOptionsCommand)
@click.argument("job")
@click.option(
    "--outcome",
    type=click.Choice(["succeeded", "failed", "unknown", "pending", "skipped"]),
    default=None,
    help="Only items whose latest outcome is this.",
)
@config_option
@db_option
def show_command(
    job: str, outcome: str | None, config_path: str | None, db_path: str | None
) -> None:
    """List a job's items with their latest outcome, status and error.

    Example: simplymeet writeback show event_no_show-0a1b2c3d4e5f --outcome unknown
    """
    settings = settings_from(config_path, db_path)
    from simplymeet.writeback.journal import has_job, job_items, job_unsent

    path = _warehouse(settings.get("warehouse", "duckdb_path"))
    if not has_job(path, job):
        # A mistyped job id is no job without items: say so, as a usage error.
        raise BadInput(
            f"no write-back job {job!r} in {path} (`simplymeet writeback jobs` lists them)"
        )
    items = job_items(path, job, outcome)
    unsent, total = job_unsent(path, job)
    if not items and not (unsent and outcome in (None, "pending")):
        click.echo(f"no items of job {job!r}" + (f" with outcome {outcome}" if outcome else ""))
    for item in items:
        status = f" HTTP {item['http_status']}" if item["http_status"] else ""
        error = f"  {item['error']}" if item["error"] else ""
        echo(f"{item['target']}: {item['outcome']}{status}{error}")
    if unsent and outcome in (None, "pending"):
        # Not journaled, so not named: a run stopped or killed before it reached them.
        click.echo(
            f"{unsent:,} of the job's {total:,} items not sent yet: "
            "run the same command again to send them"
        )


def _warehouse(path: str) -> str:
    """`path` when a file is there; a warehouse that is not is bad input, not an empty journal."""
    if Path(path).is_dir():
        raise BadInput(f"the warehouse {path} is a folder, not a DuckDB file")
    if not Path(path).is_file():
        raise BadInput(f"no DuckDB warehouse at {path} (run `simplymeet sync` first)")
    return path
