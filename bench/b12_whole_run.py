"""B12 — the whole run as typed (issue 13 target 1): `simplymeet sync`, process start to exit.

    .venv/bin/python bench/b12_whole_run.py                      # 20,000 events, 250 ms
    .venv/bin/python bench/b12_whole_run.py --events 300 --latency-ms 0
    .venv/bin/python bench/b12_whole_run.py --rounds 5                # medians of 5

B1 times the library call with dlt and DuckDB already imported; a user waits for the process.
Here every contestant is a fresh process, timed by this script from spawn to exit, against
one emulator process with latency:
  (r) untimed: `simplymeet -vv sync` once into a scratch warehouse, to learn the requests a
      sync makes (its debug log names each) and to warm the emulator's page cache for both
      timed runs;
  (a) the floor: a fresh `python` that downloads exactly those requests with httpx, as many
      in flight as the sync's concurrency, bodies discarded (its imports included);
  (s) `simplymeet sync` as a user types it: every resource, models built, into a fresh
      warehouse. (r)'s log lines are timestamped as they arrive, which splits its wall time
      into before the first request, the requests, and after the last one (load, models).
With `--rounds N`, (a) and (s) alternate N times and the medians are compared.
Target: (s) ≤ 1.3× (a), measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    API_KEY,
    REPO,
    config_file,
    emulator_process,
    fmt,
    machine_line,
    print_header,
    print_table,
)

TARGET = 1.3
_REQUEST = re.compile(r"DEBUG: simplymeet\.client: GET (\S+) -> (\d+)")

_FLOOR = """
import asyncio, sys, time
import httpx
urls, concurrency, key = sys.argv[1].split(), int(sys.argv[2]), sys.argv[3]
async def main():
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers={"X-API-KEY": key}, limits=limits, timeout=60) as http:
        slots = asyncio.Semaphore(concurrency)
        async def get(url):
            async with slots:
                response = await http.get(url)
                await response.aread()
                return response.status_code
        codes = await asyncio.gather(*(get(url) for url in urls))
    assert all(code == 200 for code in codes), codes
asyncio.run(main())
"""


def write_config(workdir: Path, base_url: str, concurrency: int) -> Path:
    """config.toml as shipped, pointed at the emulator, everything else in `workdir`."""
    return config_file(workdir, base_url, concurrency=concurrency)


def _simplymeet(verbose: bool) -> list[str]:
    return [
        str(Path(sys.executable).with_name("simplymeet")),
        *(["-vv"] if verbose else []),
        "sync",
    ]


def run_cli(workdir: Path, config: Path, *, verbose: bool) -> dict[str, Any]:
    """`simplymeet sync` in `workdir`: wall time, CPU, exit code; with `verbose` (-vv), also
    the requests it made and when, from its debug log."""
    env = {**os.environ, "SIMPLYMEET_API_KEY": API_KEY, "SIMPLYMEET_CONFIG": str(config)}
    before = os.times()
    started = time.perf_counter()
    process = subprocess.Popen(
        [*_simplymeet(verbose), "--config", str(config)],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    urls: list[str] = []
    first = last = None
    tail: list[str] = []
    for line in process.stderr:
        found = _REQUEST.search(line)
        if found:
            now = time.perf_counter() - started
            first = now if first is None else first
            last = now
            urls.append(found.group(1))
        else:
            tail = [*tail[-20:], line]
    code = process.wait()
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    if code != 0:
        raise SystemExit(f"simplymeet sync exited {code}:\n{''.join(tail)}")
    return {"wall": wall, "cpu": cpu, "urls": urls, "first": first or 0.0, "last": last or 0.0}


def run_floor(urls: list[str], concurrency: int) -> dict[str, Any]:
    """The same requests from a fresh `python`, start to exit."""
    before = os.times()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", _FLOOR, " ".join(urls), str(concurrency), API_KEY],
        check=True,
        cwd=REPO,
    )
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return {"wall": wall, "cpu": cpu}


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall time (the lower middle one of an even count)."""
    ordered = sorted(runs, key=lambda run: run["wall"])
    return ordered[(len(ordered) - 1) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=float, default=250.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="(a) and (s) alternately this many times; medians reported (a shared machine "
        "moves single runs by several tenths of a second)",
    )
    args = parser.parse_args()
    print(machine_line())
    with (
        tempfile.TemporaryDirectory(prefix="bench-b12-") as tmp,
        emulator_process(args.events, args.latency_ms) as emu,
    ):
        print_header(f"emulator: {args.events:,} events, {args.latency_ms:g} ms per request")
        print_header("(r) recording run: the requests a sync makes")
        config = write_config(Path(tmp) / "r", emu.base_url, args.concurrency)
        recorded = run_cli(Path(tmp) / "r", config, verbose=True)
        urls = recorded["urls"]
        floors, runs = [], []
        for round_ in range(1, max(1, args.rounds) + 1):
            print_header(f"(a) floor: the same {len(urls)} requests from a fresh python")
            floors.append(run_floor(urls, args.concurrency))
            print_header("(s) simplymeet sync, as typed")
            workdir = Path(tmp) / f"s{round_}"
            config = write_config(workdir, emu.base_url, args.concurrency)
            runs.append(run_cli(workdir, config, verbose=False))
    floor, ours = _median_run(floors), _median_run(runs)
    ratio = ours["wall"] / floor["wall"]
    verdict = "met" if ratio <= TARGET else "not met"
    rows = [
        ["(a) floor: same requests, fresh python", fmt(floor["wall"], 2), "1.00×",
         fmt(floor["cpu"], 1), str(len(urls)), "—", "—", "—"],
        ["(s) simplymeet sync (all resources, models)", fmt(ours["wall"], 2), f"{ratio:.2f}×",
         fmt(ours["cpu"], 1), "—", "—", "—", "—"],
        ["(r) the same with -vv (debug log: timeline)", fmt(recorded["wall"], 2),
         f"{recorded['wall'] / floor['wall']:.2f}×", fmt(recorded["cpu"], 1), str(len(urls)),
         fmt(recorded["first"], 2), fmt(recorded["last"] - recorded["first"], 2),
         fmt(recorded["wall"] - recorded["last"], 2)],
    ]  # fmt: skip
    print_table(
        "B12 the whole run as typed",
        [
            "process",
            "wall s",
            "vs (a)",
            "CPU s",
            "requests",
            "before 1st request s",
            "requests s",
            "after last s",
        ],
        rows,
        [
            f"target (s) <= {TARGET}x (a), process start to exit: {verdict} ({ratio:.2f}x).",
            "(r) ran first, at debug level (-vv), on a cold emulator page cache: its request "
            "log times the phases; (a) requests exactly the URLs (r) logged, at the same "
            "concurrency; (s) is the timed run as a user types it.",
            *(
                [
                    f"medians of {len(runs)} alternating rounds; (a) "
                    + ", ".join(fmt(f["wall"], 2) for f in floors)
                    + "; (s) "
                    + ", ".join(fmt(r["wall"], 2) for r in runs)
                ]
                if len(runs) > 1
                else []
            ),
            machine_line("end"),
        ],
    )


if __name__ == "__main__":
    main()
