"""B10 — process start: `simplymeet --help` and `simplymeet sync --help`, start to exit.

    .venv/bin/python bench/b10_process_start.py              # 10 runs of each
    .venv/bin/python bench/b10_process_start.py --runs 3

Each contestant is a fresh process, timed from spawn to exit (wall) and charged its own
user + system CPU (os.wait4), median of `--runs`, runs interleaved so that load changes hit
every contestant alike. The floor is `python -c pass` in the same run; the ceiling is the
old start, a process importing dlt, DuckDB, pyarrow and pandas (what every command paid
before they were imported only where a command needs them). Issue 13's target is
`simplymeet --help` under 0.3 s wall on an idle machine: the table says met or not met for
the machine as it is, and prints the load average, since wall time on a loaded machine
measures the queue for a core more than the program; CPU time does not.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import REPO, fmt, machine_line, print_header, print_table, ratio

TARGET_WALL_S = 0.3


def _simplymeet() -> list[str]:
    """The installed `simplymeet` command beside this interpreter (as a user types it)."""
    script = Path(sys.executable).with_name("simplymeet")
    return [str(script)] if script.exists() else [sys.executable, "-m", "simplymeet.cli.main"]


def contestants() -> dict[str, list[str]]:
    """Name -> argv of every process measured, the floor first."""
    cli = _simplymeet()
    return {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "simplymeet --help": [*cli, "--help"],
        "simplymeet sync --help": [*cli, "sync", "--help"],
        "import dlt, duckdb, pyarrow, pandas (old start)": [
            sys.executable,
            "-c",
            "import dlt, duckdb, pyarrow, pandas",
        ],
    }


def run_once(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one process, spawn to exit; its output is discarded."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read() if process.stderr else b""
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {process.returncode}: {stderr.decode()}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="Runs of each contestant.")
    parser.add_argument(
        "--warm-ups", type=int, default=1, help="Untimed runs of each contestant first."
    )
    args = parser.parse_args()

    before = machine_line("start")
    runs = contestants()
    walls: dict[str, list[float]] = {name: [] for name in runs}
    cpus: dict[str, list[float]] = {name: [] for name in runs}
    print_header(f"B10: {len(runs)} contestants × {args.runs} runs, interleaved")
    for _ in range(args.warm_ups):  # the page cache, not the program
        for argv in runs.values():
            run_once(argv)
    for _ in range(args.runs):
        for name, argv in runs.items():
            wall, cpu = run_once(argv)
            walls[name].append(wall)
            cpus[name].append(cpu)

    floor = next(iter(runs))
    floor_wall, floor_cpu = statistics.median(walls[floor]), statistics.median(cpus[floor])
    rows = []
    for name in runs:
        wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
        rows.append(
            [
                name,
                fmt(wall * 1000, 0),
                ratio(wall, floor_wall),
                fmt(cpu * 1000, 0),
                ratio(cpu, floor_cpu),
            ]
        )
    help_wall = statistics.median(walls["simplymeet --help"])
    help_cpu = statistics.median(cpus["simplymeet --help"])
    verdict = "met" if help_wall < TARGET_WALL_S else "not met"
    print_table(
        "B10 process start (median of runs, spawn to exit)",
        ["process", "wall ms", "× floor", "CPU ms (user+sys)", "CPU × floor"],
        rows,
        [
            f"target simplymeet --help < {TARGET_WALL_S * 1000:.0f} ms wall: {verdict} "
            f"({help_wall * 1000:.0f} ms wall, {help_cpu * 1000:.0f} ms CPU on this machine)",
            before,
            machine_line("end"),
        ],
    )


if __name__ == "__main__":
    main()
