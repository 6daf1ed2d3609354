"""B9 — reconcile: finding 10 deleted events among 100,000, by counts and by asking every id.

    .venv/bin/python bench/b9_reconcile.py                     # 100,000 events, 250 ms latency
    .venv/bin/python bench/b9_reconcile.py --events 2000 --deletes 3 --latency-ms 0

One emulator process. An events-only `simplymeet sync` lands every event; `--deletes` events
spread over the calendar are then deleted through the API (DELETE /event/{id}). Two
contestants, each in its own process, reconcile the same warehouse against the same server:
the full id pass (every live id through `filter[ids]`, a page of 100 ids per request: what
reconcile did before the count pass) and the count pass (`filter[scheduledAtFrom/To]` counts
per range, bisecting only ranges that differ). Neither writes: both report what they found.
Requests are counted on the wire; both must find exactly the deleted ids.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    CountingTransport,
    emulator_process,
    fmt,
    machine_line,
    print_header,
    print_table,
    ratio,
    run_child,
    sync_settings,
)


def pick_spread(db: Path, count: int) -> list[int]:
    """`count` live events whose start days are spread evenly over the warehouse's calendar."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select id from (select id, ntile(?) over (order by scheduled_at, id) as bucket, "
            "row_number() over (partition by 1 order by scheduled_at, id) as n "
            "from raw.events where deleted_at is null and scheduled_at is not null) "
            "qualify row_number() over (partition by bucket order by n) = 1 order by id",
            [count],
        ).fetchall()
    finally:
        con.close()
    return [int(row[0]) for row in rows]


def delete_upstream(base_url: str, api_key: str, ids: list[int]) -> None:
    """Delete each event through the API."""
    from simplymeet.client import SimplyMeetClient

    with SimplyMeetClient(base_url, api_key=api_key, concurrency=1) as client:
        for event_id in ids:
            client.event_delete(event_id)


def run_pass(
    workdir: str, base_url: str, api_key: str, method: str, concurrency: int = 8
) -> dict[str, Any]:
    """One reconcile pass (`ids` or `counts`) over the warehouse in `workdir`; read-only."""
    from simplymeet.client import SimplyMeetClient
    from simplymeet.sync import tables as t
    from simplymeet.sync.api import SyncApi
    from simplymeet.sync.reconcile import WarehouseEvents, reconcile, reconcile_events
    from simplymeet.sync.runner import make_pipeline

    settings = sync_settings(workdir, base_url, concurrency=concurrency)
    page_size = int(settings.get("api", "page_size"))
    transport = CountingTransport(concurrency)
    with (
        SimplyMeetClient(
            base_url, api_key=api_key, concurrency=concurrency, transport=transport
        ) as client,
        make_pipeline(settings).sql_client() as sql,
    ):
        api = SyncApi(client, concurrency=concurrency)
        live = WarehouseEvents(sql, t.EVENTS.name, "scheduled_at", t.DELETED_AT)
        started = time.perf_counter()
        if method == "ids":
            found = reconcile(api, live.all_versions(), page_size)
        else:
            found = reconcile_events(api, live, page_size)
        took = time.perf_counter() - started
    return {
        "requests": transport.requests,
        "deleted": found.deleted_ids,
        "changed": len(found.changed_ids),
        "method": found.method,
        "fallback": found.fallback_reason,
        "pass_s": took,
        "checked": found.checked,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--deletes", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=250.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(machine_line())
    print_header(f"emulator: {args.events:,} events, {args.latency_ms:g} ms per request")
    with (
        emulator_process(args.events, args.latency_ms) as emu,
        tempfile.TemporaryDirectory(prefix="bench-b9-") as tmp,
    ):
        where = {"base_url": emu.base_url, "api_key": emu.api_key}
        print_header("full sync, events")
        run_child(
            "common:run_simplymeet_sync",
            workdir=tmp,
            resources=["events"],
            concurrency=args.concurrency,
            timeout=3600,
            **where,
        )
        victims = pick_spread(Path(tmp) / "warehouse.duckdb", args.deletes)
        print_header(f"deleting {len(victims)} events upstream")
        delete_upstream(emu.base_url, emu.api_key, victims)
        results = {}
        for method in ("ids", "counts"):
            print_header(f"reconcile: {method} pass")
            results[method] = run_child(
                "b9_reconcile:run_pass",
                workdir=tmp,
                method=method,
                concurrency=args.concurrency,
                timeout=3600,
                **where,
            )

    base = results["ids"]
    rows = []
    for name, method in (("full id pass (before)", "ids"), ("count pass", "counts")):
        r = results[method]
        exact = sorted(r.data["deleted"]) == sorted(victims)
        rows.append(
            [
                name,
                fmt(r.data["requests"], 0),
                ratio(r.data["requests"], base.data["requests"]),
                fmt(r.wall_s, 2),
                ratio(r.wall_s, base.wall_s),
                fmt(r.cpu_s, 2),
                f"{len(r.data['deleted'])}/{len(victims)}" + ("" if exact else " WRONG"),
                r.data["method"]
                + (f" (fell back: {r.data['fallback']})" if r.data["fallback"] else ""),
            ]
        )
    notes = [
        f"{args.events:,} events, {len(victims)} deleted upstream, emulator latency "
        f"{args.latency_ms:g} ms, concurrency {args.concurrency}, pages of 100. Requests are "
        "counted on the wire; wall time is the whole pass (warehouse queries included).",
        machine_line("end"),
    ]
    print_table(
        "B9 reconcile",
        ["pass", "requests", "vs ids", "wall s", "vs ids", "CPU s", "deletes found", "method"],
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
