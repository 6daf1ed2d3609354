"""B2 — incremental sync: what a run costs after 100 of 100,000 events changed upstream.

    .venv/bin/python bench/b2_incremental.py                    # 100,000 events, 250 ms latency
    .venv/bin/python bench/b2_incremental.py --events 2000 --changes 20 --latency-ms 0

One emulator process. A full `simplymeet sync` (every resource) lands everything; its
warehouse and pipeline folder are copied, so an events-only run can start from the same state.
Then `--changes` events get new notes through the API (PUT /event/notes/{id}), and two
incremental runs follow: every resource (what a scheduled `simplymeet sync` does) and
`--resources events`. Each run is its own process; requests are counted on the wire.
Targets: at most 3 event pages requested, and an incremental run at most 5% of the full sync's
wall time. The changed notes are checked in both warehouses afterwards.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from common import (
    ChildResult,
    emulator_process,
    fmt,
    machine_line,
    print_header,
    print_table,
    ratio,
    run_child,
)

MARKER = "b2 change"


def pick_ids(db: Path, count: int) -> list[int]:
    """`count` live events of the warehouse, spread over the id range (deterministic)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select id from raw.events where deleted_at is null order by hash(id) limit ?",
            [count],
        ).fetchall()
    finally:
        con.close()
    return [int(row[0]) for row in rows]


def change_upstream(base_url: str, api_key: str, ids: list[int], concurrency: int) -> float:
    """Give each event new notes through the API; returns the seconds it took."""
    from simplymeet.client import SimplyMeetClient

    started = time.perf_counter()
    with SimplyMeetClient(base_url, api_key=api_key, concurrency=concurrency) as client:

        def edit(event_id: int) -> None:
            client.call("event_notes", {"id": event_id}, body={"notes": f"{MARKER} {event_id}"})

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(edit, ids))
    return time.perf_counter() - started


def changed_in_warehouse(db: Path) -> int:
    """How many events in the warehouse carry the notes this benchmark wrote."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            "select count(*) from raw.events where notes like ?", [f"{MARKER} %"]
        ).fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=250.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(machine_line())
    print_header(f"emulator: {args.events:,} events, {args.latency_ms:g} ms per request")
    with (
        emulator_process(args.events, args.latency_ms) as emu,
        tempfile.TemporaryDirectory(prefix="bench-b2-") as tmp,
    ):
        where = {
            "base_url": emu.base_url,
            "api_key": emu.api_key,
            "concurrency": args.concurrency,
        }
        all_dir, events_dir = Path(tmp) / "all", Path(tmp) / "events"
        print_header("full sync, every resource")
        full = run_child("common:run_simplymeet_sync", workdir=str(all_dir), **where)
        shutil.copytree(all_dir, events_dir)
        ids = pick_ids(all_dir / "warehouse.duckdb", args.changes)
        print_header(f"changing {len(ids)} events upstream (PUT notes)")
        took = change_upstream(emu.base_url, emu.api_key, ids, args.concurrency)
        print_header(f"  done in {took:.1f} s; incremental sync, every resource")
        inc_all = run_child("common:run_simplymeet_sync", workdir=str(all_dir), **where)
        print_header("incremental sync, --resources events")
        inc_events = run_child(
            "common:run_simplymeet_sync", workdir=str(events_dir), resources=["events"], **where
        )
        found = {
            "all": changed_in_warehouse(all_dir / "warehouse.duckdb"),
            "events": changed_in_warehouse(events_dir / "warehouse.duckdb"),
        }

    def row(name: str, r: ChildResult, landed: str) -> list[Any]:
        stages = r.data.get("stages", {})
        return [
            name,
            fmt(r.wall_s, 2),
            ratio(r.wall_s, full.wall_s),
            fmt(r.data.get("requests", 0), 0),
            fmt(r.data.get("event_pages", 0), 0),
            fmt(r.data.get("event_probes", 0), 0),
            fmt(stages.get("extracting", 0), 2),
            fmt(stages.get("normalizing", 0), 2),
            fmt(stages.get("loading", 0), 2),
            fmt(r.data.get("loaded", {}).get("events", 0), 0),
            landed,
        ]

    rows = [
        row("full sync (every resource)", full, "—"),
        row("incremental, every resource", inc_all, f"{found['all']}/{len(ids)}"),
        row("incremental, --resources events", inc_events, f"{found['events']}/{len(ids)}"),
    ]
    notes = [
        f"{args.events:,} events, {len(ids)} changed upstream, emulator latency "
        f"{args.latency_ms:g} ms, concurrency {args.concurrency}. 'event pages' are event-list "
        "requests for rows (onPage=100); 'probes' are the one-row requests (onPage=1) the sync "
        "makes before and after its scan to detect writes while paging.",
        "'load+tidy' runs from the load to the end of the run: the load, child-table pruning, "
        f"row counts and the _sync_runs row (that alone: "
        f"{inc_all.data.get('stages', {}).get('record run', 0):.2f} s in the incremental run).",
    ]
    for name, r in (("every resource", inc_all), ("events only", inc_events)):
        pages = r.data.get("event_pages", 0)
        fraction = r.wall_s / full.wall_s if full.wall_s else 0.0
        notes.append(
            f"targets, incremental {name}: event pages {pages} "
            f"({'met' if pages <= 3 else 'NOT met'} ≤ 3; "
            f"{r.data.get('event_list_requests', 0)} event-list requests with probes), "
            f"wall {fraction:.1%} of full ({'met' if fraction <= 0.05 else 'NOT met'} ≤ 5%)"
        )
    notes.append(machine_line("end"))
    print_table(
        "B2 incremental sync",
        [
            "run",
            "wall s",
            "vs full",
            "requests",
            "event pages",
            "probes",
            "extract s",
            "normalize s",
            "load+tidy s",
            "events loaded",
            "changes landed",
        ],
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
