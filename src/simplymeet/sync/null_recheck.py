"""Events landed with a core field null are read again by id, once, in the next run.

Every event has an owner, a type, an invitee with an e-mail address, a start and an end, a
state and a creation time; a server whose join or
cache misses can still serve one of them null for a read. The sync lands what it is served,
and an event not changed again is never read again by the incremental scan: the null would
stay through every later run (the reconcile compares counts and ids, not contents). So each
run reads again by id the events the run before it landed with such a null. What that read
serves is landed as any read is; a null it serves as well is the server's answer, and is not
asked for again until the event changes.

The events resource's state keeps when the last check ran and which ids it read: the next
run's suspects are the events landed since then with a core field null, less those ids (their
null was served twice), unless that run found the server glitching (rows set aside, a version
served twice, a list not adding up). A glitch can last across both reads unseen (a cache
missing for minutes, a run killed and run again at once), so a run on the reconcile's
cadence, and any run an hour (`SWEEP_EVERY`) after the last such sweep, asks again for
every live event holding such a null. A server that serves such nulls for many events is
not a glitch to re-read: at most `RECHECK_CAP` ids are read again a run.

An event set aside (`raw._rejected_rows`: a stamp no reading parses, an id that is no
integer...) and not landed by any run since is read again by id in every run too
(`set_aside`), until it lands: once fixed upstream it must land even where the scan's cursor
passed it (a first sync reads by id, not by stamp, so no stamp bounds the cursor there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from simplymeet.landing_schema import REJECTED_ROWS
from simplymeet.sync import tables as t
from simplymeet.sync.cleanup import existing_tables

if TYPE_CHECKING:
    from dlt.destinations.sql_client import SqlClientBase

CORE_COLUMNS = (
    "user_id",
    "event_type_id",
    "invitee_id",
    "invitee_email",
    "scheduled_at",
    "end_date",
    "state",
    "created_at",
)
"""The `raw.events` columns every event has (owner, type, invitee and the address its
e-mails go to, start, end, state, creation)."""
RECHECK_CAP = 1000
"""The most ids read again in one run (ten requests of a hundred)."""
SWEEP_EVERY = dt.timedelta(hours=1)
"""How often every live event holding a core null is asked again, whatever was served
before: a glitch outlasting two reads costs at most this long, and a server whose answer is
a null costs ten requests an hour at most."""
STATE_KEY = "null_recheck"


def suspects(
    client: SqlClientBase[Any],
    account: str,
    state: Mapping[str, Any],
    *,
    everything: bool = False,
) -> list[int]:
    """The ids of `account`'s live events landed since the last check with a core field null,
    less those the last check read (at most `RECHECK_CAP`, lowest id first); with
    `everything`, those of every live event holding such a null."""
    if t.EVENTS.name not in existing_tables(client):
        return []
    last = {} if everything else state.get(STATE_KEY) or {}
    checked = {int(i) for i in last.get("ids") or ()}
    events = client.make_qualified_table_name(t.EVENTS.name)
    nulls = " or ".join(f"{column} is null" for column in CORE_COLUMNS)
    where = f"{t.ACCOUNT} = %s and {t.DELETED_AT} is null and ({nulls})"
    args: list[Any] = [account]
    if last.get("at"):
        where += f" and {t.SYNCED_AT} >= %s"
        args.append(dt.datetime.fromisoformat(last["at"]))
    limit = RECHECK_CAP + len(checked)
    query = f"select id from {events} where {where} order by id limit {limit}"
    rows = client.execute_sql(query, *args)
    found = {int(row[0]) for row in rows or ()}
    return sorted(found - checked)[:RECHECK_CAP]


def sweep_due(state: Mapping[str, Any], now: dt.datetime) -> bool:
    """Whether `SWEEP_EVERY` has passed since the last run that asked for every null (or
    none ever did, or the last one is stamped ahead of `now`)."""
    swept = (state.get(STATE_KEY) or {}).get("swept_at")
    if not swept:
        return True
    at = dt.datetime.fromisoformat(swept)
    return not at <= now < at + SWEEP_EVERY


def record(
    state: MutableMapping[str, Any],
    synced_at: dt.datetime,
    ids: list[int],
    *,
    swept: bool = False,
) -> None:
    """Write this run's check into the events resource's state: when it ran, what it read,
    and when a run last asked for every null (`swept`: this one)."""
    last = (state.get(STATE_KEY) or {}).get("swept_at")
    state[STATE_KEY] = {
        "at": synced_at.isoformat(),
        "ids": list(ids),
        "swept_at": synced_at.isoformat() if swept else last,
    }


def set_aside(client: SqlClientBase[Any], account: str) -> list[int]:
    """The ids of `account`'s events a run set aside whose row no later run has landed (at
    most `RECHECK_CAP`, lowest id first)."""
    present = existing_tables(client)
    if REJECTED_ROWS.name not in present or t.EVENTS.name not in present:
        return []
    rejected = client.make_qualified_table_name(REJECTED_ROWS.name)
    last_set_aside: dict[int, dt.datetime] = {}
    for row_id, at in (
        client.execute_sql(
            f"select row_id, max({t.SYNCED_AT}) from {rejected} "
            f"where {t.ACCOUNT} = %s and table_name = %s group by row_id",
            account,
            t.EVENTS.name,
        )
        or ()
    ):
        # Read the same way whatever the destination: an id that is no integer cannot be
        # asked for by id, and is left to the scan.
        if isinstance(row_id, str) and row_id.isdecimal():
            last_set_aside[int(row_id)] = at
    if not last_set_aside:
        return []
    events = client.make_qualified_table_name(t.EVENTS.name)
    landed: dict[int, dt.datetime] = {}
    ids = sorted(last_set_aside)
    for start in range(0, len(ids), 1000):
        listed = ", ".join(str(i) for i in ids[start : start + 1000])
        rows = client.execute_sql(
            f"select id, {t.SYNCED_AT} from {events} where {t.ACCOUNT} = %s and id in ({listed})",
            account,
        )
        landed.update((int(i), at) for i, at in rows or ())
    waiting = [i for i in ids if i not in landed or landed[i] < last_set_aside[i]]
    return waiting[:RECHECK_CAP]
