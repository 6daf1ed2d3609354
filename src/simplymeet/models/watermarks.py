"""The stamps incremental models resume from, held back when a sync lands rows older than them.

An incremental model recomputes the rows whose inputs were stamped (`_synced_at`,
`deleted_at`: a sync's start) after the watermark its last build took. Two syncs of two
accounts may overlap: the one that started later can load and build first, its watermark past
the other's start, and the other's rows, stamped with that earlier start, then land below it,
never recomputed. So a sync that has loaded its rows holds every watermark back below its own
stamp (`hold_back`), and the next build takes them in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from simplymeet.models.seeds import MODELS_SCHEMA

STATE_TABLE = "_incremental_state"
"""Per incremental model: the SQL it was built from, its watermark and inputs' fingerprint."""


def hold_back(client: Any, stamp: dt.datetime) -> None:
    """Lower every incremental model's watermark standing at or past `stamp` (rows a sync
    stamped so were just loaded) to just below it. `client` is a dlt SQL client of the
    warehouse; a warehouse whose models were never built has nothing to lower."""
    found = client.execute_sql(
        "select count(*) from information_schema.tables "
        "where table_schema = %s and table_name = %s",
        MODELS_SCHEMA,
        STATE_TABLE,
    )
    if not found or not found[0][0]:
        return
    client.execute_sql(
        f"update {MODELS_SCHEMA}.{STATE_TABLE} set watermark = %s where watermark >= %s",
        stamp - dt.timedelta(microseconds=1),
        stamp,
    )


def hold_back_to_newest(client: Any, account: str) -> None:
    """`hold_back` to the newest stamp of `account`'s events: rows loaded now that a run left
    pending carry that run's start, not this one's."""
    events = client.execute_sql(
        "select count(*) from information_schema.tables "
        "where table_schema = %s and table_name = 'events'",
        client.dataset_name,
    )
    if not events or not events[0][0]:
        return
    found = client.execute_sql(
        f"select greatest(max(_synced_at), max(deleted_at)) from "
        f"{client.make_qualified_table_name('events')} where account = %s",
        account,
    )
    stamp = found[0][0] if found else None
    if isinstance(stamp, dt.datetime):
        hold_back(client, stamp)
