"""Measure the emulator at scale: startup time, memory, and request latencies.

    python -m simplymeet.emulator.benchmark --events 1000000

Runs the server in this process (background thread) and a client over loopback, then prints
one line per measurement. The figures in docs/emulator.md come from here.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import resource
import time
from collections.abc import Callable
from typing import Any

import httpx

from simplymeet.emulator.running import start_emulator


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB (Linux)."""
    current = peak = 0.0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return current, peak or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(label: str, fn: Callable[[], object], repeat: int = 1) -> None:
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    took = (time.perf_counter() - started) / repeat
    print(f"{label:<58} {took * 1000:9.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    before, _ = rss_mb()
    started = time.perf_counter()
    emu = start_emulator(seed=args.seed, events=args.events)
    client = httpx.Client(
        base_url=f"{emu.base_url}/panel/api", headers={"X-API-KEY": emu.api_key}, timeout=120
    )
    client.get("/event/", params={"onPage": 1}).raise_for_status()
    startup = time.perf_counter() - started
    current, peak = rss_mb()
    print(f"events {args.events:,}: first answer after {startup:.2f} s")
    print(f"RSS after startup {current:.0f} MB (python+libs before seeding {before:.0f} MB)")

    def page(**params: Any) -> Callable[[], object]:
        return lambda: client.get("/event/", params={"onPage": 100, **params}).raise_for_status()

    _timed("page 1, onPage=100, default order (id)", page(page=1), 10)
    _timed("page 500, onPage=100, default order", page(page=500), 10)
    _timed(
        "orderField=updatedAt desc, first request (sort)",
        page(orderField="updatedAt", orderDirection="desc"),
    )
    _timed(
        "orderField=updatedAt desc, cached",
        page(orderField="updatedAt", orderDirection="desc", page=3),
        10,
    )
    _timed("filter[state]=canceled (mask)", page(**{"filter[state]": "canceled"}))
    _timed(
        "filter[scheduledAtFrom/To] one month",
        page(**{"filter[scheduledAtFrom]": "2025-01-01", "filter[scheduledAtTo]": "2025-01-31"}),
    )
    _timed(
        "filter[invitee]=smith, first (builds search column)", page(**{"filter[invitee]": "smith"})
    )
    _timed("filter[invitee]=garcia, column cached", page(**{"filter[invitee]": "garcia"}))
    _timed(
        "GET /event/{id}", lambda: client.get(f"/event/{args.events // 2}").raise_for_status(), 20
    )
    _timed(
        "PUT /event/notes/{id} (write)",
        lambda: client.put("/event/notes/5", json={"notes": "x"}).raise_for_status(),
        5,
    )
    _timed(
        "page after a write (re-sort by updatedAt)",
        page(orderField="updatedAt", orderDirection="desc"),
    )
    if args.events <= 200_000:
        pages = -(-args.events // 100)
        started = time.perf_counter()
        for number in range(1, pages + 1):
            client.get("/event/", params={"page": number, "onPage": 100}).raise_for_status()
        took = time.perf_counter() - started
        print(f"all {pages} pages of 100, one connection, sequential: {took:.1f} s")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            started = time.perf_counter()
            for _ in pool.map(lambda n: page(page=n)(), range(1, pages + 1)):
                pass
        took = time.perf_counter() - started
        print(f"all {pages} pages of 100, 8 client threads: {took:.1f} s")
    current, peak = rss_mb()
    print(f"RSS at the end {current:.0f} MB, peak {peak:.0f} MB")
    client.close()
    emu.stop()


if __name__ == "__main__":
    main()
