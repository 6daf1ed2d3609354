"""B6 — bulk write-back: cancel 10,000 bookings selected by SQL, against a naive loop.

    .venv/bin/python bench/b6_writeback.py                      # 10,000 cancels, 250 ms latency
    .venv/bin/python bench/b6_writeback.py --events 600 --cancel 200 --naive-sample 10 \
        --latency-ms 0

One emulator process (`--events` bookings, enough active ones for both contestants); an
events sync lands them first so SQL can select them. Then, each in its own process:
  (a) `simplymeet.writeback.event_cancel_list(settings, client, sql=..., reason=...)`: the
      library call behind `simplymeet event cancel-list --sql ...`: validated against the
      warehouse, chunked list requests (chunk_size and concurrency from config.toml),
      journaled, then the touched rows re-read into the warehouse;
  (b) the naive loop a user would write over the same client:
      `for id in ids: client.event_cancel(id, reason=...)`, one request after another. At
      250 ms a request, 10,000 of them take 42 minutes, so the loop runs on `--naive-sample`
      other active bookings and its figures are scaled to `--cancel` (each request waits for
      the previous one, so the time is linear in the count; the scaled row says so).
Requests are counted on the wire, by method. Both contestants' cancels are checked upstream.
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

BULK_REASON = "b6 bulk"
NAIVE_REASON = "b6 naive"


def bulk_sql(count: int) -> str:
    """The selection (a) cancels: the first `count` active bookings by id."""
    return f"select id from events where state = 'active' order by id limit {int(count)}"


def run_bulk(
    workdir: str, base_url: str, api_key: str, count: int, concurrency: int
) -> dict[str, Any]:
    """(a) The write-back library's bulk cancel by SQL, refresh included."""
    from simplymeet.client import SimplyMeetClient
    from simplymeet.writeback import event_cancel_list

    settings = sync_settings(workdir, base_url, concurrency=concurrency)
    transport = CountingTransport(concurrency)
    with SimplyMeetClient(
        base_url,
        api_key=api_key,
        concurrency=concurrency,
        transport=transport,
    ) as client:
        # The seeded bookings are mostly past ones: the past guard is lifted, as a user would.
        report = event_cancel_list(
            settings, client, sql=bulk_sql(count), reason=BULK_REASON, include_past=True
        )
    return {
        "counts": report.counts(),
        "ok": report.ok,
        "refreshed": report.refreshed,
        "refresh_error": report.refresh_error,
        "write_seconds": report.duration_seconds,
        "requests": transport.requests,
        "by_method": transport.by_method,
        "write_requests": transport.requests - transport.by_method.get("GET", 0),
    }


def run_naive(base_url: str, api_key: str, ids: list[int], concurrency: int) -> dict[str, Any]:
    """(b) One `event_cancel` after another over the same client class."""
    from simplymeet.client import SimplyMeetClient

    transport = CountingTransport(concurrency)
    failed = 0
    with SimplyMeetClient(
        base_url,
        api_key=api_key,
        concurrency=concurrency,
        transport=transport,
    ) as client:
        for event_id in ids:
            try:
                client.event_cancel(event_id, reason=NAIVE_REASON)
            except Exception:
                failed += 1
    return {
        "succeeded": len(ids) - failed,
        "failed": failed,
        "requests": transport.requests,
        "by_method": transport.by_method,
        "write_requests": transport.requests - transport.by_method.get("GET", 0),
    }


def select_ids(db: Path, sql: str) -> list[int]:
    """Ids a read-only query picks from the synced warehouse."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("set search_path = 'raw,main'")
        return [int(row[0]) for row in con.execute(sql).fetchall()]
    finally:
        con.close()


def canceled_upstream(base_url: str, api_key: str, reason: str, expected: int) -> int:
    """How many events the emulator serves as canceled with `reason` (list filter + scan)."""
    from simplymeet.client import SimplyMeetClient

    found = 0
    with SimplyMeetClient(base_url, api_key=api_key, concurrency=8) as client:
        query = {"filter": {"state": "canceled"}, "orderField": "id", "orderDirection": "asc"}
        for page in client.iter_pages("event_list", query, on_page=100, raw=True):
            found += sum(
                1 for row in page.items if (row.get("cancellation") or {}).get("reason") == reason
            )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--cancel", type=int, default=10_000)
    parser.add_argument("--naive-sample", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=250.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(machine_line())
    print_header(f"emulator: {args.events:,} events, {args.latency_ms:g} ms per request")
    with (
        emulator_process(args.events, args.latency_ms) as emu,
        tempfile.TemporaryDirectory(prefix="bench-b6-") as tmp,
    ):
        where = {"base_url": emu.base_url, "api_key": emu.api_key, "concurrency": args.concurrency}
        print_header("syncing events so SQL can select them")
        setup = run_child("common:run_simplymeet_sync", workdir=tmp, resources=["events"], **where)
        print_header(f"  synced in {setup.wall_s:.1f} s")
        db = Path(tmp) / "warehouse.duckdb"
        chosen = select_ids(db, bulk_sql(args.cancel))
        others = select_ids(
            db,
            f"select id from events where state = 'active' and id > {max(chosen, default=0)} "
            f"order by id limit {int(args.naive_sample)}",
        )
        if len(chosen) < args.cancel or len(others) < args.naive_sample:
            raise SystemExit(
                f"not enough active bookings in {args.events:,} events for {args.cancel:,} + "
                f"{args.naive_sample:,} cancels: raise --events"
            )
        print_header(f"(a) bulk cancel of {args.cancel:,} selected by SQL (write-back library)")
        bulk = run_child("b6_writeback:run_bulk", workdir=tmp, count=args.cancel, **where)
        print_header(f"(b) naive loop of single cancels, {len(others):,} of them")
        naive = run_child("b6_writeback:run_naive", ids=others, **where)
        print_header("checking upstream")
        started = time.perf_counter()
        upstream_bulk = canceled_upstream(emu.base_url, emu.api_key, BULK_REASON, args.cancel)
        upstream_naive = canceled_upstream(emu.base_url, emu.api_key, NAIVE_REASON, len(others))
        print_header(f"  checked in {time.perf_counter() - started:.1f} s")

    scale = args.cancel / len(others)
    naive_wall = naive.wall_s * scale
    counts = bulk.data["counts"]
    rows = [
        [
            f"(a) event_cancel_list --sql, {args.cancel:,}",
            fmt(bulk.wall_s, 1),
            "1.00×",
            fmt(bulk.data["write_requests"], 0),
            fmt(bulk.data["by_method"].get("GET", 0), 0),
            fmt(bulk.data["write_seconds"], 1),
            fmt(bulk.cpu_s, 1),
            f"{counts.get('succeeded', 0):,} ok / {upstream_bulk:,} upstream",
        ],
        [
            f"(b) naive loop, measured on {len(others):,}",
            fmt(naive.wall_s, 1),
            ratio(naive.wall_s, bulk.wall_s),
            fmt(naive.data["write_requests"], 0),
            fmt(naive.data["by_method"].get("GET", 0), 0),
            fmt(naive.wall_s, 1),
            fmt(naive.cpu_s, 1),
            f"{naive.data['succeeded']:,} ok / {upstream_naive:,} upstream",
        ],
        [
            f"(b) naive loop, scaled to {args.cancel:,} (×{scale:g})",
            fmt(naive_wall, 1),
            ratio(naive_wall, bulk.wall_s),
            fmt(naive.data["write_requests"] * scale, 0),
            "0",
            fmt(naive_wall, 1),
            fmt(naive.cpu_s * scale, 1),
            "scaled, not run",
        ],
    ]
    notes = [
        f"emulator latency {args.latency_ms:g} ms per request; write-back chunk size and "
        f"concurrency from config.toml; client concurrency {args.concurrency}.",
        "(a)'s wall time covers planning (SQL, validation against the warehouse), the writes, "
        "the journal and the refresh of the touched rows into the warehouse; 'write s' is the "
        "sending phase alone. 'GET' are the refresh's reads (events by id, 100 a request).",
        f"(b) per request: {1000 * naive.wall_s / max(len(others), 1):.0f} ms; it does not "
        "validate, journal or refresh the warehouse.",
        f"(a) skipped {counts.get('skipped', 0)}, failed {counts.get('failed', 0)}, unknown "
        f"{counts.get('unknown', 0)}; refreshed: {bulk.data['refreshed']}"
        + (f" ({bulk.data['refresh_error']})" if bulk.data["refresh_error"] else ""),
        machine_line("end"),
    ]
    print_table(
        "B6 bulk cancel by SQL",
        [
            "contestant",
            "wall s",
            "vs (a)",
            "write requests",
            "GET",
            "write s",
            "CPU s",
            "canceled",
        ],
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
