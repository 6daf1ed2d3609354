"""B1 — full sync throughput: the same event pages, three ways, at the same concurrency.

    .venv/bin/python bench/b1_full_sync.py                      # 20,000 events, 250 ms latency
    .venv/bin/python bench/b1_full_sync.py --all-resources      # also (c'), every resource
    .venv/bin/python bench/b1_full_sync.py --events 500 --latency-ms 0

Contestants, each in its own process against one emulator process:
  (a) floor: a plain concurrent httpx download of every event page, bodies read and discarded;
  (b) dlt's generic `rest_api` source (PageNumberPaginator, data selector `items`) merged on
      id into DuckDB through dlt's default dict path. rest_api pages one request at a time:
      its `parallelized` flag runs *resources* side by side, not the pages of one resource,
      so it cannot use the concurrency setting (it is on anyway; it changes nothing here);
  (c) `simplymeet.sync.sync(...)` of the events resource: the library call behind the CLI;
  (c') with --all-resources, the same with every resource (what a bare `simplymeet sync`
      does), for context: it reads more than the floor's pages, so it is not like for like.
Targets: (c) within 1.3× of (a); (b) at least 6× slower than (c). (b) takes most of the run
(~4 minutes at 20,000 events: dlt's insert_values load of the ~20 nested tables it infers).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from typing import Any

from common import (
    emulator_process,
    fmt,
    machine_line,
    print_header,
    print_table,
    ratio,
    run_child,
    run_simplymeet_sync,
)

ORDER = {"orderField": "id", "orderDirection": "asc"}
"""The order our backfill reads in; the floor and rest_api ask for the same pages."""


def run_floor(base_url: str, api_key: str, concurrency: int, on_page: int = 100) -> dict[str, Any]:
    """(a) Every event page with plain httpx, `concurrency` in flight, bodies discarded."""
    import httpx

    async def main() -> dict[str, Any]:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(
            base_url=f"{base_url}/panel/api",
            headers={"X-API-KEY": api_key},
            limits=limits,
            timeout=60,
        ) as http:
            slots = asyncio.Semaphore(concurrency)
            received = 0

            async def get(page: int) -> bytes:
                nonlocal received
                async with slots:
                    response = await http.get(
                        "/event/", params={"page": page, "onPage": on_page, **ORDER}
                    )
                    response.raise_for_status()
                    received += len(response.content)
                    return response.content

            first = httpx.Response(200, content=await get(1)).json()
            pages = int(first["meta"]["pagesCount"])
            await asyncio.gather(*(get(n) for n in range(2, pages + 1)))
            return {"requests": pages, "event_pages": pages, "bytes_received": received}

    return asyncio.run(main())


def run_rest_api(workdir: str, base_url: str, api_key: str, on_page: int = 100) -> dict[str, Any]:
    """(b) dlt's rest_api source, page-number paginator, default dict path into DuckDB."""
    from pathlib import Path

    import dlt
    import requests
    from dlt.sources.rest_api import rest_api_source

    class CountingSession(requests.Session):
        """Counts requests sent (dlt passes its own response hooks, which replace a session's)."""

        sent = 0

        def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            CountingSession.sent += 1
            return super().send(request, **kwargs)

    session = CountingSession()
    source = rest_api_source(
        {
            "client": {
                "base_url": f"{base_url}/panel/api/",
                "auth": {
                    "type": "api_key",
                    "name": "X-API-KEY",
                    "api_key": api_key,
                    "location": "header",
                },
                "paginator": {
                    "type": "page_number",
                    "base_page": 1,
                    "page_param": "page",
                    "total_path": "meta.pagesCount",
                },
                "session": session,
            },
            "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
            "resources": [
                {
                    "name": "events",
                    # rest_api pages a resource sequentially; this only parallelizes resources.
                    "parallelized": True,
                    "endpoint": {
                        "path": "event/",
                        "data_selector": "items",
                        "params": {"onPage": on_page, **ORDER},
                    },
                }
            ],
        }
    )
    folder = Path(workdir)
    pipeline = dlt.pipeline(
        pipeline_name="bench_rest_api",
        destination=dlt.destinations.duckdb(credentials=str(folder / "rest_api.duckdb")),
        dataset_name="raw",
        pipelines_dir=str(folder / "pipelines"),
    )
    info = pipeline.run(source)
    info.raise_on_failed_jobs()
    with pipeline.sql_client() as client:
        rows = client.execute_sql("select count(*) from events")[0][0]
    sent = CountingSession.sent
    return {"requests": sent, "event_pages": sent, "events": rows}


def run_sync_events(
    workdir: str, base_url: str, api_key: str, concurrency: int, all_resources: bool = False
) -> dict[str, Any]:
    """(c) `simplymeet sync` through the library call: events only, or every resource."""
    return run_simplymeet_sync(
        workdir,
        base_url,
        api_key,
        concurrency=concurrency,
        resources=None if all_resources else ["events"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--latency-ms", type=float, default=250.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--all-resources", action="store_true", help="also run (c'), a sync of every resource"
    )
    parser.add_argument("--no-rest-api", action="store_true", help="skip (b), the slowest")
    args = parser.parse_args()
    common = {"concurrency": args.concurrency}
    print(machine_line())
    print_header(f"emulator: {args.events:,} events, {args.latency_ms:g} ms per request")
    with (
        emulator_process(args.events, args.latency_ms) as emu,
        tempfile.TemporaryDirectory(prefix="bench-b1-") as tmp,
    ):
        where = {"base_url": emu.base_url, "api_key": emu.api_key}
        print_header("(a) floor: plain concurrent httpx download")
        floor = run_child("b1_full_sync:run_floor", **where, **common)
        print_header("(c) simplymeet sync, events")
        ours = run_child("b1_full_sync:run_sync_events", workdir=f"{tmp}/c", **where, **common)
        extra = None
        if args.all_resources:
            print_header("(c') simplymeet sync, every resource")
            extra = run_child(
                "b1_full_sync:run_sync_events",
                workdir=f"{tmp}/c_all",
                all_resources=True,
                **where,
                **common,
            )
        rest = None
        if not args.no_rest_api:
            print_header("(b) dlt rest_api source, default path (sequential pages)")
            rest = run_child("b1_full_sync:run_rest_api", workdir=f"{tmp}/b", **where)

    def events_landed(result: Any) -> str:
        data = result.data
        if "events" in data:
            return fmt(data["events"], 0)
        return fmt(data["rows"].get("events", 0), 0) if "rows" in data else "—"

    rows = [
        ["(a) floor: httpx, bodies discarded", floor],
        ["(c) simplymeet sync --resources events", ours],
    ]
    if extra is not None:
        rows.append(["(c') simplymeet sync (all resources)", extra])
    if rest is not None:
        rows.append(["(b) dlt rest_api, default dict path", rest])
    table = [
        [
            name,
            fmt(r.wall_s, 2),
            ratio(r.wall_s, floor.wall_s),
            ratio(r.wall_s, ours.wall_s),
            fmt(r.cpu_s, 1),
            fmt(r.peak_rss_mb, 0),
            fmt(r.data.get("requests", 0), 0),
            fmt(r.data.get("event_pages", 0), 0),
            events_landed(r),
        ]
        for name, r in rows
    ]
    notes = [
        f"{args.events:,} events, emulator latency {args.latency_ms:g} ms per request, "
        f"concurrency {args.concurrency} for (a) and (c); rest_api pages sequentially.",
        f"target (c) ≤ 1.3× (a): {ratio(ours.wall_s, floor.wall_s)} "
        f"-> {'met' if ours.wall_s <= 1.3 * floor.wall_s else 'NOT met'}",
    ]
    if rest is not None:
        notes.append(
            f"target (b) ≥ 6× (c): {ratio(rest.wall_s, ours.wall_s)} "
            f"-> {'met' if rest.wall_s >= 6 * ours.wall_s else 'NOT met'}"
        )
    notes.append(machine_line("end"))
    print_table(
        "B1 full sync throughput",
        [
            "contestant",
            "wall s",
            "vs (a)",
            "vs (c)",
            "CPU s",
            "peak RSS MB",
            "requests",
            "event pages",
            "events landed",
        ],
        table,
        notes,
    )


if __name__ == "__main__":
    main()
