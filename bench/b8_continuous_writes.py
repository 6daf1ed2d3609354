"""B8 — syncs while the organization keeps writing: does each run cost what changed, and converge?

    .venv/bin/python bench/b8_continuous_writes.py                  # 100,000 events, 250 ms, 5/s
    .venv/bin/python bench/b8_continuous_writes.py --events 2000 --latency-ms 0 --rate 20

One emulator process. A writer in this process sends `--rate` writes a second through the API
for as long as the syncs run: 30% bookings created, 60% notes changed, 10% events deleted
(issue 10's "5 changes/s, updates, creates and deletes"). Under those writes: a first sync
(everything, `--resources events`), then `--runs` incremental syncs, each its own process with
its requests counted on the wire. Then the writes stop, one sync with `--reconcile` runs, and
the warehouse is compared with the server, event by event (id and updatedAt, live or deleted).

Printed per run: event pages requested, the pages (or id lookups) re-read to close gaps that
deletes opened, the window the scan asked for, and the writes made since the run before.
Targets: the first sync completes; each incremental run requests event pages in proportion
to the writes since the run before (not the whole table); after the writes stop, the
warehouse equals the server.
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import threading
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
    run_child,
)


class Writer:
    """Writes `rate` changes a second through the API until stopped; counts what it did."""

    def __init__(self, base_url: str, api_key: str, rate: float, events: int, seed: int) -> None:
        from simplymeet.client import SimplyMeetClient

        self.client = SimplyMeetClient(base_url, api_key=api_key, concurrency=8, max_retries=2)
        self.rate = rate
        self.high_id = events
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.done = {"insert": 0, "update": 0, "delete": 0, "failed": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="b8-writer", daemon=True)
        self._event_type: int | None = None

    def start(self) -> None:
        """Look up an event type to book, then start writing."""
        types = self.client.call("event_type_list", query={"page": 1, "onPage": 100})
        items = types["items"] if isinstance(types, dict) else types
        self._event_type = int(items[0]["id"])
        self._thread.start()

    def total(self) -> int:
        """Writes made so far."""
        with self.lock:
            return sum(v for k, v in self.done.items() if k != "failed")

    def stop(self) -> dict[str, int]:
        """Stop writing, wait for writes in flight, and return the counts."""
        self._stop.set()
        self._thread.join(timeout=60)
        self.client.close()
        return dict(self.done)

    def _run(self) -> None:
        started, sent = time.monotonic(), 0
        with ThreadPoolExecutor(8, thread_name_prefix="b8-write") as pool:
            while not self._stop.is_set():
                due = int((time.monotonic() - started) * self.rate) - sent
                for _ in range(max(due, 0)):
                    kind = self.rng.choices(("insert", "update", "delete"), (0.3, 0.6, 0.1))[0]
                    pool.submit(self._write, kind, self.rng.randint(1, self.high_id))
                    sent += 1
                self._stop.wait(min(0.05, 1 / self.rate))

    def _write(self, kind: str, event_id: int) -> None:
        try:
            if kind == "insert":
                start = time.strftime("%Y-%m-%d %H:00:00", time.gmtime(time.time() + 86_400 * 3))
                self.client.call(
                    "event_create",
                    body={
                        "eventType": self._event_type,
                        "scheduledAt": start,
                        "invitee": {"fullName": "B8 Writer", "email": "b8@example.com"},
                    },
                )
            elif kind == "update":
                notes = {"notes": f"b8 {time.time()}"}
                self.client.call("event_notes", {"id": event_id}, body=notes)
            else:
                self.client.call("event_delete", {"id": event_id})
        except Exception:  # an event already deleted (404) or a write that failed: not counted
            with self.lock:
                self.done["failed"] += 1
            return
        with self.lock:
            self.done[kind] += 1


def run_sync_events(workdir: str, base_url: str, api_key: str, **options: Any) -> dict[str, Any]:
    """One events-only sync (common.run_simplymeet_sync); exit 8 is a result, not a crash."""
    from common import run_simplymeet_sync

    from simplymeet.sync.checks import IncompleteScanError

    try:
        return run_simplymeet_sync(workdir, base_url, api_key, resources=["events"], **options)
    except IncompleteScanError as exc:
        return {"incomplete": str(exc)}


def compare_with_server(base_url: str, api_key: str, db: Path) -> dict[str, int]:
    """Events whose (id, updatedAt) differ between the server and the warehouse's live rows."""
    import duckdb

    from simplymeet.client import SimplyMeetClient
    from simplymeet.contract.dates import parse_api_datetime

    served: dict[int, Any] = {}
    with SimplyMeetClient(base_url, api_key=api_key, concurrency=8) as client:
        query = {"orderField": "id", "orderDirection": "asc"}
        for page in client.iter_pages("event_list", query, on_page=100):
            for row in page.items:
                served[int(row["id"])] = parse_api_datetime(row.get("updatedAt"))
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select id, updated_at from raw.events where deleted_at is null"
        ).fetchall()
    finally:
        con.close()
    held = {int(i): u for i, u in rows}
    return {
        "server": len(served),
        "warehouse": len(held),
        "missing": len(served.keys() - held.keys()),
        "not deleted": len(held.keys() - served.keys()),
        "stale": sum(1 for i in served.keys() & held.keys() if served[i] != held[i]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=250.0)
    parser.add_argument("--rate", type=float, default=5.0, help="writes per second")
    parser.add_argument("--runs", type=int, default=2, help="incremental runs under writes")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(machine_line())
    print_header(
        f"emulator: {args.events:,} events, {args.latency_ms:g} ms per request, "
        f"{args.rate:g} writes/s"
    )
    results: list[tuple[str, ChildResult, int]] = []
    with (
        emulator_process(args.events, args.latency_ms) as emu,
        tempfile.TemporaryDirectory(prefix="bench-b8-") as tmp,
    ):
        where = {"base_url": emu.base_url, "api_key": emu.api_key, "concurrency": args.concurrency}
        writer = Writer(emu.base_url, emu.api_key, args.rate, args.events, seed=8)
        writer.start()
        try:
            before = writer.total()
            for number in range(args.runs + 1):
                name = "first sync" if number == 0 else f"incremental {number}"
                print_header(f"{name}, under writes")
                result = run_child(
                    "b8_continuous_writes:run_sync_events", workdir=tmp, timeout=1800, **where
                )
                results.append((name, result, writer.total() - before))
                before = writer.total()
        finally:
            writes = writer.stop()
        print_header("writes stopped; one sync with --reconcile")
        final = run_child(
            "b8_continuous_writes:run_sync_events",
            workdir=tmp,
            timeout=1800,
            reconcile=True,
            **where,
        )
        results.append(("after writes stop, --reconcile", final, writer.total() - before))
        print_header("comparing the warehouse with the server")
        diff = compare_with_server(emu.base_url, emu.api_key, Path(tmp) / "warehouse.duckdb")

    full_pages = math.ceil(args.events / 100)
    rows = []
    notes = [
        f"{args.events:,} events, emulator latency {args.latency_ms:g} ms, writes "
        f"{args.rate:g}/s through the API (made: {writes['insert']} created, "
        f"{writes['update']} notes changed, {writes['delete']} deleted, {writes['failed']} "
        f"failed or hit a deleted event); concurrency {args.concurrency}. A full read is "
        f"{full_pages:,} event pages.",
        "'event pages' are event-list requests for rows, on the wire; 're-read' are the pages "
        "and id lookups among them read again to close gaps deletes opened; 'window from' is "
        "the oldest updatedAt the scan asked for (— for a read of everything).",
    ]
    for name, r, writes_since in results:
        data = r.data
        incomplete = data.get("incomplete")
        rows.append(
            [
                name,
                fmt(r.wall_s, 1),
                fmt(data.get("event_pages", 0), 0),
                fmt(data.get("event_probes", 0), 0),
                fmt(data.get("event_pages_reread", 0), 0),
                str(data.get("scan_window_from") or "—")[:19],
                fmt(writes_since, 0),
                fmt(data.get("loaded", {}).get("events", 0), 0),
                "8" if incomplete else "0",
            ]
        )
        if incomplete:
            notes.append(f"{name}: exit 8: {incomplete[:300]}")
    increments = [(r.data.get("event_pages", 0), w) for n, r, w in results[1:-1]]
    proportional = all(
        pages <= 2 * math.ceil(w / 100) + 10 and pages < full_pages / 2 for pages, w in increments
    )
    first_ok = not results[0][1].data.get("incomplete")
    equal = diff["missing"] == diff["not deleted"] == diff["stale"] == 0
    notes.append(
        f"targets: first sync completes: {'met' if first_ok else 'NOT met'}; incremental runs "
        f"in proportion to writes (≤ 2 pages per 100 writes + 10, < half a full read): "
        f"{'met' if proportional else 'NOT met'}; warehouse equals the server after the "
        f"writes stop: {'met' if equal else 'NOT met'} (server {diff['server']:,} live, "
        f"warehouse {diff['warehouse']:,}; missing {diff['missing']}, not marked deleted "
        f"{diff['not deleted']}, stale {diff['stale']})"
    )
    notes.append(machine_line("end"))
    print_table(
        "B8 syncs under continuous writes",
        [
            "run",
            "wall s",
            "event pages",
            "probes",
            "re-read",
            "window from",
            "writes since last",
            "events loaded",
            "exit",
        ],
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
