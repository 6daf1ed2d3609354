"""B12-PG — scale on PostgreSQL (issue 12's B7 figures): 1M events synced and modelled there.

    .venv/bin/python bench/b12_postgres_scale.py                  # 1,000,000 events
    .venv/bin/python bench/b12_postgres_scale.py --events 2000    # a quick look

One emulator process (zero latency) and one private PostgreSQL cluster started from
/usr/lib/postgresql/*/bin (the test suite's helper, tests/postgres_server.py; or the server
in $SIMPLYMEET_TEST_POSTGRES). Two contestants, each a fresh process: a full sync of every
resource into DuckDB then `models build` there (the baseline), and the same into PostgreSQL
then `models build` on the server. Wall time, CPU, peak RSS and events/s for the sync and the
build separately, and the rows of fct_events on each side (they must be equal).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    REPO,
    ChildResult,
    emulator_process,
    fmt,
    machine_line,
    print_header,
    print_table,
    ratio,
    run_child,
    sync_settings,
)

sys.path.insert(0, str(REPO))
from tests.postgres_server import postgres_url, unavailable_reason

TARGET_SYNC_RATIO = 2.0
"""PostgreSQL sync wall at most this multiple of DuckDB's (the load goes over a socket)."""


def sync_and_build(
    workdir: str, base_url: str, api_key: str, destination: str, concurrency: int = 8
) -> dict[str, Any]:
    """A full sync of every resource into `destination`, then the models built there."""
    from simplymeet.client import SimplyMeetClient
    from simplymeet.models import build_models
    from simplymeet.models.connection import connect, warehouse_for
    from simplymeet.sync import SyncApi, SyncRequest, run_sync

    settings = sync_settings(workdir, base_url, concurrency=concurrency)
    started = time.perf_counter()
    with SimplyMeetClient(base_url, api_key=api_key, concurrency=concurrency) as client:
        api = SyncApi(client, concurrency=concurrency)
        request = SyncRequest(destination=destination, build_models=False)
        summary = run_sync(settings, api, request)
    synced = time.perf_counter() - started
    warehouse = warehouse_for(destination, settings.get("warehouse", "duckdb_path"))
    started = time.perf_counter()
    build_models(warehouse, settings=settings)
    built = time.perf_counter() - started
    with connect(warehouse) as con:
        row = con.execute("select count(*) from analytics.fct_events").fetchone()
    return {
        "sync_s": synced,
        "build_s": built,
        "events": next((t.rows_after for t in summary.tables if t.name == "events"), 0),
        "fct_events": int(row[0]) if row else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    reason = unavailable_reason()
    if reason:
        raise SystemExit(f"b12: no PostgreSQL here: {reason}")
    print(machine_line())
    timeout = 300.0 + args.events * 2e-3
    print_header(f"emulator: {args.events:,} events, 0 ms per request")
    with (
        emulator_process(args.events) as emu,
        postgres_url() as url,
        tempfile.TemporaryDirectory(prefix="bench-b12-") as tmp,
    ):
        where = {"base_url": emu.base_url, "api_key": emu.api_key, "concurrency": args.concurrency}
        results: dict[str, ChildResult] = {}
        for destination in ("duckdb", "postgres"):
            print_header(f"full sync + models build into {destination}")
            results[destination] = run_child(
                "b12_postgres_scale:sync_and_build",
                timeout=timeout,
                env={"DESTINATION__POSTGRES__CREDENTIALS": url},
                workdir=str(Path(tmp) / destination),
                destination=destination,
                **where,
            )
    duck, pg = results["duckdb"], results["postgres"]

    def row(name: str, r: ChildResult) -> list[Any]:
        d = r.data
        events = d["events"]
        return [
            name,
            fmt(events, 0),
            fmt(d["sync_s"], 1),
            ratio(d["sync_s"], duck.data["sync_s"]),
            fmt(events / d["sync_s"] if d["sync_s"] else 0, 0),
            fmt(d["build_s"], 1),
            ratio(d["build_s"], duck.data["build_s"]),
            fmt(d["fct_events"] / d["build_s"] if d["build_s"] else 0, 0),
            fmt(r.wall_s, 1),
            fmt(r.cpu_s, 1),
            fmt(r.peak_rss_mb, 0),
            fmt(d["fct_events"], 0),
        ]

    sync_ratio = pg.data["sync_s"] / duck.data["sync_s"] if duck.data["sync_s"] else 0.0
    same = duck.data["fct_events"] == pg.data["fct_events"]
    print_table(
        "B12-PG scale on PostgreSQL",
        [
            "destination",
            "events",
            "sync s",
            "vs duckdb",
            "events/s",
            "build s",
            "vs duckdb",
            "fct rows/s",
            "wall s",
            "CPU s",
            "peak RSS MB",
            "fct_events rows",
        ],
        [row("duckdb (baseline)", duck), row("postgres", pg)],
        [
            f"{args.events:,} events, zero latency, concurrency {args.concurrency}; every "
            "resource, then every model (CPU and peak RSS are the sync's process: the "
            "PostgreSQL server's own CPU and memory are not in them).",
            f"target: PostgreSQL sync ≤ {TARGET_SYNC_RATIO:g}× DuckDB's: {sync_ratio:.2f}× "
            f"({'met' if sync_ratio <= TARGET_SYNC_RATIO else 'NOT met'}); fct_events rows "
            f"equal on both: {'yes' if same else 'NO'}",
            machine_line("end"),
        ],
    )


if __name__ == "__main__":
    main()
