"""B14 — growth: full-sync cost per event and the cost of 100 changes, at 10k, 100k and 1M.

    .venv/bin/python bench/b14_growth.py                          # 10k, 100k, 1M events
    .venv/bin/python bench/b14_growth.py --sizes 2000 20000 --changes 20

For each size, one emulator process (zero latency) and, each in a fresh process: a full sync
of every resource then `models build` (every model built whole: the baseline of the model
refresh); then `--changes` events get new notes through the API and an incremental sync of
every resource runs, then `models build` again (incremental models refresh only what
changed). Then `--changes` other events change and `simplymeet sync` runs as a user types
it (its own process, from start to exit: imports, the sync, the model build and the data
tests). Targets (issue 13, 4 and 5): CPU per event of the full sync flat across sizes
(largest ≤ 1.25× smallest); the incremental run (sync + models) flat in table size (largest
≤ 1.5× smallest); at 1M, the incremental sync with the model refresh ≤ 3 s wall, judged on
the command as typed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from b2_incremental import change_upstream, pick_ids
from common import (
    ChildResult,
    config_file,
    emulator_process,
    fmt,
    machine_line,
    print_header,
    print_table,
    ratio,
    run_child,
    run_simplymeet_sync,
    sync_settings,
)

FLAT_PER_EVENT = 1.25
FLAT_INCREMENTAL = 1.5
INCREMENTAL_AT_1M_S = 3.0


def sync_then_build(workdir: str, base_url: str, api_key: str, concurrency: int = 8) -> dict:
    """`simplymeet sync` of every resource, then the models built; both timed."""
    from simplymeet.models import build_models

    started, cpu = time.perf_counter(), time.process_time()
    figures: dict[str, Any] = run_simplymeet_sync(
        workdir, base_url, api_key, concurrency=concurrency
    )
    figures["sync_s"] = time.perf_counter() - started
    # The sync starts no worker processes (B4): its own process time is all of its CPU.
    figures["sync_cpu_s"] = time.process_time() - cpu
    settings = sync_settings(workdir, base_url, concurrency=concurrency)
    started = time.perf_counter()
    built = build_models(settings.get("warehouse", "duckdb_path"), settings=settings)
    figures["build_s"] = time.perf_counter() - started
    figures["incremental_models"] = [m.name for m in built.models if m.incremental]
    return figures


def sync_as_typed(workdir: Path, base_url: str, api_key: str, concurrency: int) -> float:
    """Seconds of `simplymeet sync` in its own process, as typed, on `workdir`'s warehouse
    (the settings `sync_settings` gives, with the models built and tested as shipped)."""
    config = config_file(
        workdir,
        base_url,
        concurrency=concurrency,
        duckdb_path=str(workdir / "warehouse.duckdb"),
        pipelines_dir=str(workdir / "pipelines"),
        pipeline_name="bench",
    )
    command = [str(Path(sys.executable).with_name("simplymeet")), "sync", "--config", str(config)]
    env = {**os.environ, "SIMPLYMEET_API_KEY": api_key}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"simplymeet sync exited {done.returncode}:\n{done.stderr[-2000:]}")
    return seconds


def measure(
    size: int, changes: int, concurrency: int
) -> tuple[ChildResult, ChildResult, int, float, float]:
    """At one size: the full and the incremental run, how many events were changed, and the
    seconds of `simplymeet sync` as typed after as many other changes: first on models
    built by `models build` (its data tests read every row), then as the next scheduled run
    (its tests read only the bookings changed since the last run's passed)."""
    timeout = 300.0 + size * 2e-3
    with (
        emulator_process(size) as emu,
        tempfile.TemporaryDirectory(prefix="bench-b14-") as tmp,
    ):
        where = {"base_url": emu.base_url, "api_key": emu.api_key, "concurrency": concurrency}
        print_header(f"{size:,} events: full sync + models build")
        full = run_child("b14_growth:sync_then_build", timeout=timeout, workdir=tmp, **where)
        picked = pick_ids(Path(tmp) / "warehouse.duckdb", 3 * changes)
        ids, before, others = (picked[i * changes : (i + 1) * changes] for i in range(3))
        change_upstream(emu.base_url, emu.api_key, ids, concurrency)
        print_header(f"{size:,} events: {len(ids)} changed; incremental sync + models build")
        inc = run_child("b14_growth:sync_then_build", timeout=timeout, workdir=tmp, **where)
        change_upstream(emu.base_url, emu.api_key, before, concurrency)
        print_header(f"{size:,} events: {len(before)} others changed; simplymeet sync as typed")
        first = sync_as_typed(Path(tmp), emu.base_url, emu.api_key, concurrency)
        change_upstream(emu.base_url, emu.api_key, others, concurrency)
        print_header(f"{size:,} events: {len(others)} others changed; the next simplymeet sync")
        typed = sync_as_typed(Path(tmp), emu.base_url, emu.api_key, concurrency)
    return full, inc, len(ids), first, typed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(machine_line())
    runs = {size: measure(size, args.changes, args.concurrency) for size in args.sizes}

    def per_1k(r: ChildResult, size: int) -> float:
        return float(r.data["sync_cpu_s"]) * 1000.0 / size * 1000.0

    smallest, largest = min(runs), max(runs)
    rows = []
    for size, (full, inc, changed, first_typed, typed) in sorted(runs.items()):
        total = inc.data["sync_s"] + inc.data["build_s"]
        first = runs[smallest][1].data
        rows.append(
            [
                fmt(size, 0),
                fmt(full.data["sync_s"], 1),
                fmt(per_1k(full, size), 0),
                ratio(per_1k(full, size), per_1k(runs[smallest][0], smallest)),
                fmt(full.data["build_s"], 2),
                fmt(changed, 0),
                fmt(inc.data["sync_s"], 2),
                fmt(inc.data["requests"], 0),
                fmt(inc.data["build_s"], 2),
                ratio(inc.data["build_s"], full.data["build_s"]),
                fmt(total, 2),
                ratio(total, first["sync_s"] + first["build_s"]),
                fmt(len(inc.data["incremental_models"]), 0),
                fmt(first_typed, 2),
                fmt(typed, 2),
                ratio(typed, runs[smallest][4]),
            ]
        )
    full_flat = per_1k(runs[largest][0], largest) / per_1k(runs[smallest][0], smallest)

    def inc_total(size: int) -> float:
        data = runs[size][1].data
        return float(data["sync_s"] + data["build_s"])

    inc_flat = inc_total(largest) / inc_total(smallest)
    notes = [
        f"zero latency, concurrency {args.concurrency}; 'CPU ms/1k' is the full sync's CPU "
        "(models not included) per 1,000 events. 'models' is the full build at that size "
        "(every model whole, the baseline); "
        "'incr build' the build after the changes, in which the incremental models (last "
        "column) refresh only the changed bookings.",
        f"target, full sync per event flat: {largest:,} at {full_flat:.2f}× {smallest:,}'s CPU "
        f"per event ({'met' if full_flat <= FLAT_PER_EVENT else 'NOT met'} ≤ {FLAT_PER_EVENT}×)",
        f"target, incremental run flat in table size: {largest:,} at {inc_flat:.2f}× "
        f"{smallest:,}'s ({'met' if inc_flat <= FLAT_INCREMENTAL else 'NOT met'} "
        f"≤ {FLAT_INCREMENTAL}×)",
    ]
    notes.append(
        "'as typed' is `simplymeet sync` in its own process after as many other changes: "
        "imports, the sync, the model build and the data tests, start to exit. 'first' is the "
        "first after `models build` (its data tests read every row); 'as typed' the next, as "
        "a schedule runs it (its tests read only the bookings changed since the last passed)."
    )
    if 1_000_000 in runs:
        typed_1m = runs[1_000_000][4]
        notes.append(
            f"target, incremental sync + model refresh at 1M ≤ {INCREMENTAL_AT_1M_S:g} s, as "
            f"typed: {typed_1m:.2f} s ({'met' if typed_1m <= INCREMENTAL_AT_1M_S else 'NOT met'}"
            f"; in-process sync + build {inc_total(1_000_000):.2f} s, full build alone "
            f"{runs[1_000_000][0].data['build_s']:.2f} s in this run)"
        )
    notes.append(machine_line("end"))
    print_table(
        "B14 growth",
        [
            "events",
            "full sync s",
            "CPU ms/1k",
            "vs smallest",
            "models s",
            "changes",
            "incr sync s",
            "incr requests",
            "incr build s",
            "vs models",
            "incr total s",
            "vs smallest",
            "incremental models",
            "first as typed s",
            "as typed s",
            "vs smallest",
        ],
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
