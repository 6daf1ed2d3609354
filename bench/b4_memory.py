"""B4 — memory: peak RSS of a full sync at 100,000 and at 1,000,000 events.

    .venv/bin/python bench/b4_memory.py                         # 100k and 1M, zero latency
    .venv/bin/python bench/b4_memory.py --sizes 1000 10000      # quick look
    .venv/bin/python bench/b4_memory.py --env \
        'DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG={"memory_limit": "256MB"}'

Each size gets its own emulator process (its memory is not counted) and a full
`simplymeet sync` (every resource, models off) in a fresh child process, whose peak RSS is
read from getrusage (ru_maxrss) when it ends. Streaming means the peak does not grow with the
organization: target, peak at the largest size under 1.5× the peak at the smallest. The
run's wall time at 1M shows whether a million events fit the 5-minute budget. The emulator's
CPU over the sync's wall time says whether the emulator bounded the sync (target 3: it must
not): near 100% it did, its one core serving as fast as it can. `--env` sets
configuration (e.g. dlt's) for the sync processes only, to try a remedy without editing code.
"""

from __future__ import annotations

import argparse
import tempfile
import time

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

BUDGET_S = 300.0
TARGET_1M_WALL_S = 60.0
"""Issue 13 target 3: a full sync of 1M events at zero latency within this wall time…"""
TARGET_1M_PEAK_MB = 700.0
"""…and this peak RSS."""
EMULATOR_BOUND = 0.9
"""Emulator CPU over the sync's wall time from which the emulator (one core) may be the bound."""


def busy(cpu_s: float, wall_s: float) -> float:
    """How busy a process was: its CPU seconds over the wall seconds (0 for no time)."""
    return cpu_s / wall_s if wall_s else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="give up on one sync after this many s"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment for the sync processes (repeatable), e.g. dlt configuration",
    )
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    print(machine_line())
    if env:
        print(f"sync processes run with {env}")
    results: list[tuple[int, ChildResult, float, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-b4-") as tmp:
        for size in args.sizes:
            print_header(f"emulator: {size:,} events, no latency")
            started = time.perf_counter()
            with emulator_process(size, 0) as emu:
                seeded = time.perf_counter() - started
                print_header(f"full sync of {size:,} events (every resource)")
                emulator_cpu = emu.cpu_s()
                result = run_child(
                    "common:run_simplymeet_sync",
                    timeout=args.timeout,
                    env=env,
                    workdir=f"{tmp}/{size}",
                    base_url=emu.base_url,
                    api_key=emu.api_key,
                    concurrency=args.concurrency,
                )
                emulator_cpu = emu.cpu_s() - emulator_cpu
                emulator_peak = emu.rss_mb()[1]
            results.append((size, result, seeded, emulator_peak, emulator_cpu))
            print_header(f"  {result.wall_s:.1f} s, peak RSS {result.peak_rss_mb:.0f} MB")

    first = results[0][1]
    rows = []
    for size, r, seeded, emulator_peak, emulator_cpu in results:
        stages = r.data.get("stages", {})
        rows.append(
            [
                fmt(size, 0),
                fmt(r.peak_rss_mb, 0),
                ratio(r.peak_rss_mb, first.peak_rss_mb),
                fmt(r.growth_mb, 0),
                ratio(r.growth_mb, first.growth_mb),
                fmt(r.children_peak_rss_mb, 0),
                fmt(r.wall_s, 1),
                fmt(r.cpu_s, 1),
                fmt(size / r.wall_s if r.wall_s else 0, 0),
                " / ".join(
                    fmt(stages.get(k, 0), 1) for k in ("extracting", "normalizing", "loading")
                ),
                fmt(r.data.get("rows", {}).get("events", 0), 0),
                f"{seeded:.1f} s / {emulator_peak:.0f} MB",
                f"{emulator_cpu:.1f} s / {busy(emulator_cpu, r.wall_s):.0%}",
            ]
        )
    last_size, last, _, _, last_emulator_cpu = results[-1]
    last_busy = busy(last_emulator_cpu, last.wall_s)
    peak_ratio = last.peak_rss_mb / first.peak_rss_mb if first.peak_rss_mb else 0.0
    notes = [
        "'peak RSS' is the sync process's ru_maxrss (interpreter and libraries included); "
        "'growth' is the peak minus the RSS measured once dlt, DuckDB, pyarrow and httpx were "
        "imported, i.e. what the sync itself needed. 'worker peak' is the largest child "
        "process the sync started (dlt workers; 0 when none).",
        f"target peak({last_size:,}) < 1.5× peak({results[0][0]:,}): {peak_ratio:.2f}× -> "
        f"{'met' if peak_ratio < 1.5 else 'NOT met'}",
        f"{last_size:,} events: sync {last.wall_s:.0f} s -> "
        f"{'fits' if last.wall_s <= BUDGET_S else 'does NOT fit'} the {BUDGET_S:.0f} s budget "
        "on its own (emulator start and the smaller size come on top).",
        f"issue 13 target 3 at {last_size:,} events: wall {last.wall_s:.0f} s <= "
        f"{TARGET_1M_WALL_S:.0f} s: {'met' if last.wall_s <= TARGET_1M_WALL_S else 'not met'}; "
        f"peak RSS {last.peak_rss_mb:.0f} MB <= {TARGET_1M_PEAK_MB:.0f} MB: "
        f"{'met' if last.peak_rss_mb <= TARGET_1M_PEAK_MB else 'not met'}"
        + ("" if last_size >= 1_000_000 else " (judged at 1,000,000 events; this run is smaller)"),
        f"the emulator during the {last_size:,}-event sync: {last_emulator_cpu:.1f} CPU-s over "
        f"{last.wall_s:.1f} s, {last_busy:.0%} busy -> "
        + (
            "it was not what bounded the sync"
            if last_busy < EMULATOR_BOUND
            else "it may have bounded the sync (one core, near full)"
        ),
        *([f"sync processes ran with {env}"] if env else []),
        machine_line("end"),
    ]
    print_table(
        "B4 memory of a full sync",
        [
            "events",
            "peak RSS MB",
            "ratio",
            "growth MB",
            "growth ratio",
            "worker peak MB",
            "wall s",
            "CPU s",
            "events/s",
            "extract / normalize / load s",
            "events landed",
            "emulator seed / peak",
        ],
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
