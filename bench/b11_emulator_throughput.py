"""B11 — the emulator's throughput: events/s served at zero latency to a plain concurrent client.

    .venv/bin/python bench/b11_emulator_throughput.py                  # 100,000 events
    .venv/bin/python bench/b11_emulator_throughput.py --events 2000 --passes 2

The emulator runs in its own process, seeded with `--events`, zero latency; the client (this
process) reads every page of `GET /event/` (onPage `--page-size`, ordered by id) with
`--concurrency` threads of one httpx client and only counts the bytes. Each pass reads every
page once; the later passes read the same pages again, as a second sync or a re-read does.
Run twice in the same run: with the page cache (the default) and with `--no-page-cache` (the
path before the cache, every page rendered afresh). Figures: events/s (wall) and the
emulator's own CPU (user + system, from /proc) per 1,000 events served, which a loaded
machine does not inflate the way it inflates wall time. Issue 13's target: ≥ 50,000 events/s.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from common import API_KEY, emulator_process, fmt, machine_line, print_header, print_table, ratio

TARGET_EVENTS_PER_S = 50_000


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def read_all_pages(api_url: str, pages: int, page_size: int, concurrency: int) -> int:
    """Read pages 1..pages concurrently; the number of events received (counted, not parsed)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(
        base_url=api_url, headers={"X-API-KEY": API_KEY}, timeout=120, limits=limits
    ) as http:

        def one(page: int) -> int:
            response = http.get(
                "/event/",
                params={"page": page, "onPage": page_size, "orderField": "id"},
            )
            response.raise_for_status()
            return response.content.count(b'"relatedEventIds":')

        with ThreadPoolExecutor(concurrency) as pool:
            return sum(pool.map(one, range(1, pages + 1)))


def measure(args: argparse.Namespace, cached: bool) -> list[tuple[float, float, int]]:
    """(wall s, emulator CPU s, events) of each pass against a fresh emulator."""
    extra = () if cached else ("--no-page-cache",)
    pages = -(-args.events // args.page_size)
    results = []
    with emulator_process(args.events, 0, extra_args=extra) as emu:
        for _ in range(args.passes):
            cpu_before = process_cpu_seconds(emu.process.pid)
            started = time.perf_counter()
            events = read_all_pages(emu.api_url, pages, args.page_size, args.concurrency)
            wall = time.perf_counter() - started
            cpu = process_cpu_seconds(emu.process.pid) - cpu_before
            if events != args.events:
                raise SystemExit(f"read {events} events, the emulator has {args.events}")
            results.append((wall, cpu, events))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=100, help="onPage (the sync's default).")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--passes", type=int, default=3, help="Reads of every page, per mode.")
    args = parser.parse_args()

    before = machine_line("start")
    print_header(f"B11: {args.events:,} events, {args.passes} passes, without the page cache")
    baseline = measure(args, cached=False)
    print_header(f"B11: {args.events:,} events, {args.passes} passes, with the page cache")
    cached = measure(args, cached=True)

    base_rate = baseline[0][2] / baseline[0][0]
    rows = []
    verdicts = []
    for label, results in (("no page cache (before)", baseline), ("page cache", cached)):
        for index, (wall, cpu, events) in enumerate(results, start=1):
            rate = events / wall
            kind = "first read" if index == 1 else "read again"
            rows.append(
                [
                    f"{label}, pass {index} ({kind})",
                    fmt(rate, 0),
                    ratio(rate, base_rate),
                    fmt(cpu / events * 1e6, 0),
                    fmt(wall, 2),
                ]
            )
            verdicts.append(
                f"{label}, pass {index}: "
                f"{'met' if rate >= TARGET_EVENTS_PER_S else 'not met'} ({rate:,.0f} events/s)"
            )
    print_table(
        "B11 emulator throughput, zero latency",
        ["contestant", "events/s", "× before pass 1", "emulator CPU µs/event", "wall s"],
        rows,
        [
            f"target ≥ {TARGET_EVENTS_PER_S:,} events/s: " + "; ".join(verdicts),
            f"{args.events:,} events, onPage {args.page_size}, client concurrency "
            f"{args.concurrency}, emulator and client on the same machine",
            before,
            machine_line("end"),
        ],
    )


if __name__ == "__main__":
    main()
