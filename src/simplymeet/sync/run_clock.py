"""The stamp a run writes (`_synced_at`, `deleted_at`, `_sync_runs`): this machine's clock,
kept in step with the stamps the warehouse already holds.

Everything after a run reads those stamps as an order: the incremental models take the rows
stamped after their last build, the data tests the bookings stamped after their last pass,
the reconcile cadence the time since the last reconcile. One run on a clock far ahead (a
restored VM, an NTP glitch) left stamps a year ahead, and every later run's rows sorted
before them: the models never saw another change (exit 10 on every run after). A run on a
clock behind did the same to its own rows. So:

- A run whose clock reads earlier than the newest stamp held, by less than `TOLERANCE`
  (a clock stepped back a little), stamps just after that stamp: the order holds.
- A larger gap means one of the two clocks is wrong, and the server's `Date` decides (one
  request, only then). Stamps held ahead of the time it confirms are brought
  back to just before this run's (the models see a watermark ahead of the data and rebuild
  whole), and a run on a clock behind the server's stamps with the server's time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from dlt.destinations.sql_client import SqlClientBase

from simplymeet.landing_schema import ACCOUNT, DELETED_AT, SYNCED_AT
from simplymeet.sync.cleanup import existing_tables

log = logging.getLogger(__name__)

TOLERANCE = dt.timedelta(hours=1)
"""A gap between clocks that is taken for a wrong clock, not for a clock stepped back."""

ONE_TICK = dt.timedelta(microseconds=1)

RUN_STAMPS = ("started_at", "finished_at", "events_current_at")
"""The stamps of `_sync_runs` (the reconcile cadence, the child-row check and the models'
`as_of` read them)."""


def local_now() -> dt.datetime:
    """This machine's time (looked up at each call: tests move the clock)."""
    return dt.datetime.now(dt.UTC)


def _stamped_columns(client: SqlClientBase[Any]) -> dict[str, set[str]]:
    """Per table of the dataset that has an account column, its stamp columns (`_synced_at`,
    `deleted_at`, the runs'), in one question to `information_schema`."""
    wanted = (SYNCED_AT, DELETED_AT, *RUN_STAMPS, ACCOUNT)
    marks = ", ".join("%s" for _ in wanted)
    rows = client.execute_sql(
        "select table_name, column_name from information_schema.columns "
        f"where table_schema = %s and column_name in ({marks})",
        client.dataset_name,
        *wanted,
    )
    found: dict[str, set[str]] = {}
    for table, column in rows or ():
        found.setdefault(str(table), set()).add(str(column))
    return {table: columns - {ACCOUNT} for table, columns in found.items() if ACCOUNT in columns}


def newest_stamp(client: SqlClientBase[Any], account: str) -> dt.datetime | None:
    """The newest stamp `account`'s rows carry in any table of the dataset, or None."""
    parts: list[str] = []
    args: list[Any] = []
    for table, columns in sorted(_stamped_columns(client).items()):
        if not columns:
            continue
        name = client.make_qualified_table_name(table)
        highest = ", ".join(f"max({column})" for column in sorted(columns))
        parts.append(f"select greatest({highest}) as stamp from {name} where {ACCOUNT} = %s")
        args.append(account)
    if not parts:
        return None
    rows = client.execute_sql(
        f"select max(stamp) from ({' union all '.join(parts)}) as stamps", *args
    )
    newest = rows[0][0] if rows else None
    return _utc(newest) if newest is not None else None


STATE_TABLE = "_dlt_pipeline_state"


def bring_back(
    client: SqlClientBase[Any], account: str, pipeline_name: str, ceiling: dt.datetime
) -> int:
    """Set every stamp of `account` later than `ceiling` to `ceiling`; how many rows moved.

    `pipeline_name`'s states loaded under a load id after `ceiling` are dropped too: dlt takes
    the state of the newest load id, a time on the loading machine's clock, so the one a run
    on a clock ahead loaded would be restored over every state loaded after it (later
    versions of it: each run's state grows from the one before).
    """
    if STATE_TABLE in existing_tables(client):
        client.execute_sql(
            f"delete from {client.make_qualified_table_name(STATE_TABLE)} "
            "where pipeline_name = %s and cast(_dlt_load_id as double precision) > %s",
            pipeline_name,
            ceiling.timestamp(),
        )
    moved = 0
    for table, columns in sorted(_stamped_columns(client).items()):
        name = client.make_qualified_table_name(table)
        for column in sorted(columns):
            rows = client.execute_sql(
                f"update {name} set {column} = %s where {ACCOUNT} = %s and {column} > %s "
                "returning 1",
                ceiling,
                account,
                ceiling,
            )
            moved += len(rows or ())
    return moved


def run_stamp(
    local: dt.datetime,
    newest_held: dt.datetime | None,
    server_now: Callable[[], dt.datetime | None],
) -> tuple[dt.datetime, dt.datetime | None]:
    """This run's stamp, and the ceiling to bring held stamps back to (None: leave them).

    `server_now` asks the server's time (a request; None when it cannot tell); it is called
    only when the newest stamp held is `TOLERANCE` or more ahead of this machine's clock.
    Without it nothing held is moved: the run is stamped after what is held.
    """
    if newest_held is None or newest_held - local < TOLERANCE:
        if newest_held is not None and newest_held >= local:
            # A clock stepped back a little: keep after what is held.
            return newest_held + ONE_TICK, None
        return local, None
    server = server_now()
    if server is None:
        log.warning(
            "the warehouse holds stamps up to %s, this machine's clock reads %s, and the "
            "server's time cannot tell which is right: this run is stamped after them",
            f"{newest_held:%Y-%m-%d %H:%M:%S}Z",
            f"{local:%Y-%m-%d %H:%M:%S}Z",
        )
        return newest_held + ONE_TICK, None
    now = local
    if abs(local - server) >= TOLERANCE:
        log.warning(
            "this machine's clock reads %s, the server's %s: this run is stamped by the "
            "server's; set this machine's clock right",
            f"{local:%Y-%m-%d %H:%M:%S}Z",
            f"{server:%Y-%m-%d %H:%M:%S}Z",
        )
        now = server
    if newest_held - now < TOLERANCE:
        return max(now, newest_held + ONE_TICK), None
    log.warning(
        "the warehouse holds stamps up to %s, ahead of the time now (%s): a run on a clock "
        "ahead wrote them; they are brought back to now, and the models rebuild what they read",
        f"{newest_held:%Y-%m-%d %H:%M:%S}Z",
        f"{now:%Y-%m-%d %H:%M:%S}Z",
    )
    return now, now - ONE_TICK


def warn_if_apart(stamp: dt.datetime, server_now: dt.datetime | None, elapsed: float) -> bool:
    """Say so when this run's stamp is `TOLERANCE` or more away from the server's time
    (`server_now`, read `elapsed` seconds after the stamp was taken); whether it is.

    Ahead, the next run on a right clock brings the stamps back. Behind, the stamps keep
    their order (a run compares its clock with the server's only when the stamps held are
    ahead of it), so a clock behind from the first run would go unnoticed while the models'
    `as_of` trailed the time: bookings ended since it read as upcoming.
    """
    if server_now is None:
        return False
    if stamp - server_now >= TOLERANCE:
        log.warning(
            "this machine's clock reads %s, the server's %s: this run's rows are stamped "
            "ahead (and its models' 'now' with them); set the clock right, and the next run "
            "brings the stamps back",
            f"{stamp:%Y-%m-%d %H:%M:%S}Z",
            f"{server_now:%Y-%m-%d %H:%M:%S}Z",
        )
        return True
    server_then = server_now - dt.timedelta(seconds=elapsed)
    if server_then - stamp >= TOLERANCE:
        log.warning(
            "this machine's clock read %s, the server's %s: this run's rows are stamped "
            "behind (and its models' 'now' with them: bookings ended since read as "
            "upcoming); set the clock right",
            f"{stamp:%Y-%m-%d %H:%M:%S}Z",
            f"{server_then:%Y-%m-%d %H:%M:%S}Z",
        )
        return True
    return False


def _utc(value: Any) -> dt.datetime:
    stamp: dt.datetime = value
    return stamp.replace(tzinfo=dt.UTC) if stamp.tzinfo is None else stamp.astimezone(dt.UTC)
