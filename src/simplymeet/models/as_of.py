"""The warehouse as it was known at a past moment, rebuilt from the booking history.

`analytics.event_history` keeps, for each version of a booking, when the warehouse first
learned of it (`known_from`: the sync that read it) and when the booking was found deleted.
Taking, per booking, the latest version known at `ts` (and not yet found deleted) gives the
bookings exactly as the models saw them after the last sync before `ts`; the moment a
booking counts as past is that of the last sync before `ts` that found the events current (a
write-back's re-read of a few bookings does not move it), as in `analytics.int_as_of`.

One exception: a version stamped later than a version the syncs saw after it (a server clock
running ahead) is not in `event_history`, so from the sync that read it until the sync that
read the next version, such a booking is in its version before it (or absent, when it was
its first), not in the state the models used then (sql/README.md, "State as of a past date").

>>> from simplymeet.models.as_of import no_show_rate_as_of
>>> no_show_rate_as_of("simplymeet.duckdb", "2026-11-01T00:00:00Z")  # doctest: +SKIP
NoShowRate(as_of=datetime(...), past_bookings=812, eligible_bookings=640, no_shows=51, ...)

In SQL, `create_as_of_macro(con)` defines `events_as_of(ts)` on a connection:
`select * from events_as_of(timestamptz '2026-11-01 00:00:00+00')`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from simplymeet.models.connection import Warehouse, connect

EVENTS_AS_OF_SQL = """
select
    history.*,
    moment.as_of,
    coalesce(history.scheduled_end_at <= moment.as_of, false) as is_past
from analytics.event_history as history
cross join (
    select coalesce(
        {current},
        (select max(known_from) from analytics.event_history where known_from <= {ts})
    ) as as_of
) as moment
where history.known_from <= {ts}
    and (history.deleted_at is null or history.deleted_at > {ts})
qualify row_number() over (
    partition by history.account, history.event_id order by history.valid_from desc
) = 1
"""
"""Each booking's latest version known at `{ts}`, with that moment's `as_of` and `is_past`
(`{current}`: the last moment before it the events were found current, `_events_as_of`)."""

CURRENT_SQL = """(
    select max(events_current_at)
    from analytics.int_events_current
    where events_current_at <= {ts}
)"""


def _events_as_of(db: Any, ts: str) -> str:
    """`EVENTS_AS_OF_SQL` for `ts` on this warehouse: the moments the events were found
    current come from `analytics.int_events_current`, where that model was built (a build
    of some models only may leave it out: the last sync before `ts` is taken then)."""
    found = db.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'analytics' and table_name = 'int_events_current'"
    ).fetchone()
    current = CURRENT_SQL.format(ts=ts) if found and found[0] else "null"
    return EVENTS_AS_OF_SQL.format(ts=ts, current=current)


@dataclass(frozen=True)
class NoShowRate:
    """The overall no-show rate, counted as `analytics.no_show_rates` counts it."""

    as_of: dt.datetime | None
    past_bookings: int
    canceled_bookings: int
    unknown_state_bookings: int
    eligible_bookings: int
    no_shows: int

    @property
    def no_show_rate(self) -> float | None:
        """no_shows / eligible_bookings; None when nothing is eligible."""
        return self.no_shows / self.eligible_bookings if self.eligible_bookings else None


def create_as_of_macro(con: Warehouse) -> None:
    """Define the table macro `events_as_of(ts)` (temporary, on this connection).

    Per booking, the latest version of `event_history` with `known_from <= ts`; a version
    stamped ahead of the clock is not in `event_history`, hence never that version.
    """
    with connect(con) as db:
        db.execute(
            "create or replace temp macro events_as_of(ts) as table "
            + _events_as_of(db, "ts::timestamptz")
        )


_BREAKDOWNS = {"overall": "null", "host": "host_user_id", "event_type": "event_type_id"}


def no_show_rate_as_of(
    warehouse: Warehouse, ts: dt.datetime | str, account: str | None = None
) -> NoShowRate:
    """The overall no-show rate as the warehouse knew it at `ts` (after the syncs before it),
    of one account or (None) of every account together.

    Equal to what `analytics.no_show_rates` said at `ts`, except for a booking whose version
    then was stamped ahead of the clock (left out of `event_history`: see the module's doc).
    """
    return no_show_rates_as_of(warehouse, ts, account=account)[None]


def no_show_rates_as_of(
    warehouse: Warehouse, ts: dt.datetime | str, by: str = "overall", account: str | None = None
) -> dict[int | None, NoShowRate]:
    """No-show rates as the warehouse knew them at `ts`, keyed by host or event type id.

    `by` is "overall" (one entry, key None), "host" or "event_type", the breakdowns of
    `analytics.no_show_rates`. A booking's host here is its owner (the history keeps the
    owner), which is the mart's primary host whenever the booking has one. Ids are unique
    within an account: with several accounts, a host or event type breakdown needs `account`
    (ValueError without).
    """
    if by not in _BREAKDOWNS:
        raise ValueError(f"by must be one of {', '.join(_BREAKDOWNS)}, not {by!r}")
    sql = """
        select
            {key} as key,
            max(as_of),
            count(*) filter (where is_past),
            count(*) filter (where is_past and state = 'canceled'),
            count(*) filter (where is_past and state = 'unknown'),
            count(*) filter (where is_past and state in ('booked', 'no_show')),
            count(*) filter (where is_past and state = 'no_show')
        from ({events})
        where $account is null or account = $account
        group by all
        having {having}
    """
    with connect(warehouse, read_only=True) as db:
        sql = sql.format(
            key=_BREAKDOWNS[by],
            events=_events_as_of(db, "$ts::timestamptz"),
            having="true" if by == "overall" else "count(*) filter (where is_past) > 0",
        )
        if by != "overall" and account is None:
            found = db.execute(
                "select count(distinct account) from analytics.event_history"
            ).fetchone()
            if found is not None and found[0] > 1:
                # The same host id in two accounts is two hosts: summing them would mislead.
                raise ValueError(f"the warehouse holds {found[0]} accounts: name one for by={by!r}")
        rows = db.execute(sql, {"ts": ts, "account": account}).fetchall()
    if by == "overall" and not rows:
        rows = [(None, None, 0, 0, 0, 0, 0)]
    return {key: NoShowRate(*counts) for key, *counts in rows}
