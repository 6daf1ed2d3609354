"""How long `simplymeet models build` and `models test` take at 100k and 1M events.

Raw tables are generated in DuckDB with the sync's exact schemas (no HTTP, no dlt): 60 hosts
in 6 time zones, 240 event types, two years of bookings with 2 participants each, ~14%
cancellations, ~10% no-shows, ~8% reschedules, ~1% deleted, and 14-day availability snapshots
of every event type for the last 8 weeks. Swap `generate` for an emulator sync to bench on
served data.

    .venv/bin/python bench/bench_models.py                 # 100k and 1M events
    .venv/bin/python bench/bench_models.py --events 200000 --threads 2
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from simplymeet.accounts import DEFAULT_ACCOUNT
from simplymeet.config import Settings
from simplymeet.models import build_models, test_models
from simplymeet.models.sources import ensure_source_tables

ZONES = (
    "Europe/Paris",
    "America/New_York",
    "Asia/Tokyo",
    "Europe/London",
    "UTC",
    "America/Los_Angeles",
)


def generate(
    con: duckdb.DuckDBPyConnection,
    events: int,
    *,
    hosts: int = 60,
    event_types: int = 240,
    days: int = 730,
) -> None:
    """Fill the `raw.*` tables with `events` bookings ending at the sync time."""
    ensure_source_tables(con)
    zones = "[" + ", ".join(f"'{z}'" for z in ZONES) + "]"
    as_of = "timestamptz '2025-06-30 18:00:00+00'"
    con.execute(f"""
        insert into raw.users by name
        select range + 1 as id, 'Host ' || (range + 1) as full_name,
            'host' || (range + 1) || '@example.com' as email,
            {zones}[(range % {len(ZONES)}) + 1] as timezone, true as is_enabled,
            {as_of} as _synced_at
        from range({hosts})
    """)
    con.execute("insert into raw.current_user by name select * from raw.users where id = 1")
    con.execute(f"""
        insert into raw.event_types by name
        select range + 1 as id, 'Type ' || (range + 1) as name, (range % {hosts}) + 1 as user_id,
            case when range % 10 = 0 then 'collective' else 'regular' end as type,
            [30, 45, 60][(range % 3) + 1] as duration, true as is_enabled, {as_of} as _synced_at
        from range({event_types})
    """)
    con.execute(f"""
        insert into raw.event_types__users by name
        select id as event_type_id, ((user_id + 1) % {hosts}) + 1 as user_id,
            0 as position_in_parent, {as_of} as _synced_at
        from raw.event_types where type = 'collective'
    """)
    con.execute(f"""
        insert into raw.cancellation_policies by name
        select * from (values
            ('user', 1, true, 1440, false, timestamptz '2024-01-01 00:00:00+00', {as_of}),
            ('user', 2, true, 120, false, timestamptz '2025-01-01 00:00:00+00', {as_of}),
            ('organization', 1, true, 720, false, timestamptz '2024-01-01 00:00:00+00', {as_of})
        ) as p(type, version, enabled, period, overwrite_personal, first_seen_at, _synced_at)
    """)
    con.execute(f"""
        create temp table generated as
        select
            range + 1 as id,
            cast(hash(range, 1) % {event_types} as bigint) + 1 as event_type_id,
            {as_of} - to_days({days}) + to_minutes(
                cast((hash(range, 2) % ({days} + 14)) * 1440
                + 480 + (hash(range, 3) % 16) * 30 as bigint)
            ) as scheduled_at,
            cast(hash(range, 4) % 1000 as bigint) as roll,
            cast(hash(range, 5) % 10000 as bigint) as lead
        from range({events})
    """)
    con.execute(f"""
        insert into raw.events by name
        select g.id, g.event_type_id, t.user_id, g.scheduled_at,
            g.scheduled_at + to_minutes(t.duration) as end_date, t.duration,
            g.scheduled_at - to_minutes(cast(60 + g.lead * 5 as bigint)) as created_at,
            case when g.roll < 140 then 'canceled'
                 when g.roll < 240 and g.scheduled_at < {as_of} then 'no_show'
                 else 'active' end as state,
            case when g.roll < 140 then least(
                g.scheduled_at - to_minutes(cast(g.lead % 6000 - 30 as bigint)), {as_of})
            end as canceled_at,
            case when g.roll < 140 then case when g.roll % 3 = 0 then 'host' else 'invitee' end
            end as cancellation_canceler,
            case when g.roll < 140 then ['Travel', 'Sick', null, 'Conflict'][(g.roll % 4) + 1]
            end as cancellation_reason,
            case when g.roll >= 990 then {as_of} end as deleted_at,
            {as_of} as updated_at,
            {as_of} as _synced_at
        from generated as g
        join raw.event_types as t on t.id = g.event_type_id
    """)
    con.execute(f"""
        insert into raw.events__users by name
        select e.id as event_id, u.user_id, 0 as position_in_parent, {as_of} as _synced_at
        from raw.events as e
        join raw.event_types__users as u on u.event_type_id = e.event_type_id
    """)
    con.execute(f"""
        insert into raw.events__participants by name
        select id as event_id, id * 10 + p as id, 'p' || p || '@example.com' as email,
            {as_of} as _synced_at
        from raw.events, range(2) as r(p)
    """)
    con.execute(f"""
        insert into raw.events__rescheduling by name
        select id as event_id, id as id, 'invitee' as rescheduler,
            scheduled_at - to_days(2) as previously_scheduled_at, 0 as position_in_parent,
            {as_of} as _synced_at
        from raw.events where hash(id, 6) % 100 < 8
    """)
    con.execute("""
        create temp table snapshot_days as
        select t.id as event_type_id, t.duration, u.timezone,
            date '2025-06-30' - cast(7 * w as integer) as snapshot_date,
            date '2025-06-30' - cast(7 * w as integer) + cast(d as integer) as date
        from raw.event_types as t
        join raw.users as u on u.id = t.user_id, range(8) as ws(w), range(14) as ds(d)
    """)
    con.execute(f"""
        insert into raw.event_type_availability_days by name
        select snapshot_date, event_type_id, date, isodow(date) <= 5 as available, timezone,
            {as_of} as _synced_at
        from snapshot_days
    """)
    con.execute(f"""
        insert into raw.event_type_availability_slots by name
        select snapshot_date, event_type_id, date,
            lpad(cast(s // 60 as varchar), 2, '0') || ':' || lpad(cast(s % 60 as varchar), 2, '0')
                as start,
            timezone(timezone, date + to_minutes(cast(s as bigint))) as start_at,
            hash(event_type_id, date, s) % 5 <> 0 as available, duration as duration_minutes,
            {as_of} as _synced_at
        from snapshot_days, range(540, 1020, 30) as r(s)
        where isodow(date) <= 5
    """)
    # The booking history a sync keeps: each event's one version, as read.
    version_columns = ", ".join(
        f'"{name}"'
        for (name,) in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'event_versions'"
        ).fetchall()
        if name != "account"
    )
    con.execute(
        f"insert into raw.event_versions ({version_columns}) "
        f"select {version_columns} from raw.events"
    )
    # Every row is one account's, as a sync stamps it: the models key on the account.
    tables = con.execute(
        "select table_name from information_schema.columns "
        "where table_schema = 'raw' and column_name = 'account'"
    ).fetchall()
    for (table,) in tables:
        con.execute(
            f"update raw.\"{table}\" set account = '{DEFAULT_ACCOUNT}' where account is null"
        )


def bench(events: int, folder: Path, threads: int | None) -> dict[str, float]:
    path = folder / f"bench_{events}.duckdb"
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    if threads:
        con.execute(f"set threads = {threads}")
    started = time.perf_counter()
    generate(con, events)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    result = build_models(con, settings=Settings())
    built = time.perf_counter() - started
    started = time.perf_counter()
    failures = test_models(con)
    tested = time.perf_counter() - started
    rows = con.execute("select count(*) from analytics.fct_events").fetchone()[0]
    con.close()
    slowest = sorted(result.models, key=lambda m: -m.seconds)[:3]
    print(
        f"{events:>9,} events  generate {generated:6.1f} s  build {built:6.1f} s  "
        f"test {tested:6.1f} s  fct_events {rows:,} rows  failures {len(failures)}  "
        f"slowest: " + ", ".join(f"{m.name} {m.seconds:.1f} s" for m in slowest)
    )
    for failure in failures:
        print("   FAIL", failure, failure.rows[:3])
    path.unlink(missing_ok=True)
    return {"generate": generated, "build": built, "test": tested}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--dir", type=Path, default=None, help="where the DuckDB files go")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or Path(tmp)
        for events in args.events:
            bench(events, folder, args.threads)


if __name__ == "__main__":
    main()
