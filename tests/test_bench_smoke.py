"""The benchmarks in bench/ still run: each one end to end at a tiny size.

Not a performance test: no figure is checked (benchmarks are not pytest thresholds, see
bench/README.md), only that each script starts its emulator, runs every contestant and prints
its table. Sizes are the smallest that still exercise every code path, and every contestant
runs once.

A tiny contestant's cost is mostly its process importing dlt, DuckDB and pyarrow, so the
contestants and emulators are forked from one process that imported them once, shared by the
benchmarks a worker runs (`BENCH_FORK_CHILDREN`, `BENCH_FORK_SERVER`: bench/common.py),
except in FRESH_PROCESSES: those still start a fresh interpreter per process, the way the
figures in bench/README.md are taken, so that path stays covered. The scripts themselves
always run as typed, in their own process.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"

CASES: dict[str, tuple[list[str], str]] = {
    "b1_full_sync.py": (
        ["--events", "200", "--latency-ms", "0"],
        "B1 full sync throughput",
    ),
    "b2_incremental.py": (
        ["--events", "300", "--changes", "5", "--latency-ms", "0"],
        "B2 incremental sync",
    ),
    "b3_landing_cpu.py": (
        [
            *("--events", "150", "--default-path-events", "150", "--rounds", "1"),
            *("--no-tuned", "--no-reference"),
        ],
        "B3 CPU cost of landing events",
    ),
    "b4_memory.py": (["--sizes", "200"], "B4 memory of a full sync"),
    "bench_models.py": (["--events", "1000"], "fct_events"),
    "b8_continuous_writes.py": (
        ["--events", "300", "--latency-ms", "0", "--rate", "20", "--runs", "1"],
        "B8 syncs under continuous writes",
    ),
    "b6_writeback.py": (
        ["--events", "400", "--cancel", "50", "--naive-sample", "5", "--latency-ms", "0"],
        "B6 bulk cancel by SQL",
    ),
    "b7_history.py": (
        ["--events", "200", "--rounds", "1", "--scaled-events", "1000"],
        "B7 booking history",
    ),
    "b9_reconcile.py": (
        ["--events", "400", "--deletes", "2", "--latency-ms", "0"],
        "B9 reconcile",
    ),
    "b10_process_start.py": (["--runs", "1", "--warm-ups", "0"], "B10 process start"),
    "b12_postgres_scale.py": (["--events", "200"], "B12-PG scale on PostgreSQL"),
    "b14_growth.py": (["--sizes", "200", "--changes", "3"], "B14 growth"),
    "b11_emulator_throughput.py": (
        ["--events", "300", "--passes", "2", "--concurrency", "2"],
        "B11 emulator throughput",
    ),
    "b13_accounts.py": (["--events", "100", "--latency-ms", "0"], "B13 accounts"),
    "b12_whole_run.py": (["--events", "200", "--latency-ms", "0"], "B12 the whole run"),
}

FRESH_PROCESSES = {"b4_memory.py"}
"""Run without BENCH_FORK_CHILDREN: B4's figure is the peak RSS of a fresh process."""


@cache
def bench_common() -> ModuleType:
    """bench/common.py, imported as the module `bench_common`."""
    spec = importlib.util.spec_from_file_location("bench_common", BENCH / "common.py")
    assert spec is not None and spec.loader is not None
    common = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = common  # its dataclasses look their module up there
    spec.loader.exec_module(common)
    return common


@pytest.fixture(scope="session")
def fork_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The socket of one fork server for the benchmarks this worker runs.

    Session-scoped, not module-scoped: the cases still spread over the workers (a module
    fixture would put them all on one, tests/README.md), and each worker pays for the imports
    once. Its processes' CPU time reaches this worker's counters when it stops.
    """
    common = bench_common()
    address = str(tmp_path_factory.mktemp("fork") / "socket")
    server = common.start_fork_server(address)
    yield address
    common.stop_fork_server(server)


def test_every_benchmark_has_a_smoke_case() -> None:
    scripts = {path.name for path in BENCH.glob("b*.py")}
    assert scripts == set(CASES), "add the new benchmark to CASES with a tiny size"


@pytest.mark.parametrize("script", list(CASES))
def test_benchmark_runs_at_a_tiny_size(script: str, request: pytest.FixtureRequest) -> None:
    args, expected = CASES[script]
    if script == "b12_postgres_scale.py":
        request.getfixturevalue("postgres_available")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIMPLYMEET_", "BENCH_"))}
    if script not in FRESH_PROCESSES:
        env.update(
            BENCH_FORK_CHILDREN="1", BENCH_FORK_SERVER=request.getfixturevalue("fork_server")
        )
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        # A bound, not a threshold: B3 runs several processes and needs ~15 s of CPU, which a
        # machine shared with other jobs can stretch past two minutes of wall.
        timeout=240,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert expected in done.stdout, output[-4000:]


def test_a_benchmark_emulator_that_inherited_sigint_ignored_stops_when_stopped() -> None:
    # Shells start background jobs (a CI step, `cmd &`) with SIGINT ignored; every process
    # started from them inherits that.
    common = bench_common()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with common.emulator_process(20) as emulator:
            pass
    finally:
        signal.signal(signal.SIGINT, previous)
    assert emulator.process.returncode == -signal.SIGTERM  # stopped, not killed after 10 s
