"""B3 — CPU cost of landing data: 100,000 nested events from the emulator, zero latency.

    .venv/bin/python bench/b3_landing_cpu.py                 # 100k (ours), 10k (dlt default)
    .venv/bin/python bench/b3_landing_cpu.py --profile       # plus a CPU profile (yappi)
    .venv/bin/python bench/b3_landing_cpu.py --events 1000 --default-path-events 500
    .venv/bin/python bench/b3_landing_cpu.py --rounds 5           # (a') and (b) five times each

Contestants, each in its own process, the emulator in another (its CPU is not counted):
  (a) download + JSON parse only: every page fetched (concurrency 8) and parsed with orjson,
      then dropped: the transport's share of any landing path;
  (a') the floor of issue 13 target 2: every page downloaded the same way and its body parsed
      straight into Arrow (`pyarrow.json`, the landed fields' shape, other fields skipped),
      eight bodies to a call as (b) reads them;
  (b) `simplymeet sync --resources events`: pages read into Arrow, cut in Arrow, merged on id;
  (b0) the same sync on the reference path (`SyncApi.arrow_pages = False`: every page parsed
      into dicts by orjson, cut by `pa.array`): what (b) was before; its warehouse must be
      identical to (b)'s, which is checked here;
  (b') the same with dlt tuned through its own configuration (more normalize workers, larger
      writer buffers): kept only if the warehouse is identical, which is checked here;
  (c) dlt's default path: the same raw page dicts yielded into a dlt resource, merge on id,
      dlt's nested-table normalizer and `insert_values` load files for DuckDB;
  (d) the same dicts with `loader_file_format="parquet"`, dlt's cheaper dict path.
(a') and (b) run `--rounds` times each (default 3), alternated on one emulator, and issue 13's
target 2 is judged on each one's median run: one run of each moved the ratio from 1.48 to
1.66 within one hour on this machine.
(c) needs ~7 GB and ~3 minutes for 20k of these events (far more nested tables than the
events FACTS.md measured), so it runs at `--default-path-events` (10,000) to keep the whole
benchmark within 5 minutes; (b) runs at that size too, so one ratio is like for like, and
per-event figures (CPU ms per 1,000 events) compare across sizes. CPU is user + system
seconds of the child and of any worker process it started (resource.getrusage).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from common import (
    ChildResult,
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
TARGET_CPU_MS_PER_1K = 60.0
"""Issue 13 target 2: CPU ms per 1,000 events of (b), end to end."""
TARGET_VS_FLOOR = 1.5
"""Issue 13 target 2: (b)'s CPU at most this times (a')'s, measured in the same run."""
TUNED_ENV = {"NORMALIZE__WORKERS": "2", "DATA_WRITER__BUFFER_MAX_ITEMS": "50000"}
"""dlt's own knobs tried for (b'): parallel normalize, fewer and larger intermediate files."""


def run_download(base_url: str, api_key: str, concurrency: int) -> dict[str, Any]:
    """(a) Every event page through our client's raw path (httpx + orjson), then dropped."""
    from simplymeet.client import SimplyMeetClient

    events = 0
    with SimplyMeetClient(base_url, api_key=api_key, concurrency=concurrency) as client:
        for page in client.iter_pages("event_list", ORDER, on_page=100, raw=True):
            events += len(page.items)
        requests = client.stats.requests
    return {"events": events, "rows": events, "requests": requests}


def run_arrow_floor(base_url: str, api_key: str, concurrency: int) -> dict[str, Any]:
    """(a') Every event page downloaded as in (a), the bodies parsed straight into Arrow,
    eight to a `pyarrow.json` call as (b) reads them (its fixed cost is ~0.4 ms a call)."""
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.json as pj

    from simplymeet.client import SimplyMeetClient
    from simplymeet.sync.arrow_pages import EVENT_SHAPE
    from simplymeet.sync.page_groups import GROUP_PAGES

    schema = pa.schema([("items", pa.list_(EVENT_SHAPE))])
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")

    def parse(bodies: list[bytes]) -> int:
        data = b"\n".join(bodies)  # the emulator's bodies are one line each
        read = pj.ReadOptions(use_threads=False, block_size=len(data) + 1)
        table = pj.read_json(pa.BufferReader(data), read_options=read, parse_options=options)
        return int(pc.sum(pc.list_value_length(table.column("items"))).as_py() or 0)

    with SimplyMeetClient(base_url, api_key=api_key, concurrency=concurrency) as client:

        def page(numbers: list[int]) -> int:
            bodies = [
                client.call(
                    "event_list",
                    query={**ORDER, "page": number, "onPage": 100},
                    read_body=lambda content: content,
                )
                for number in numbers
            ]
            return parse(bodies)

        first = client.call("event_list", query={**ORDER, "page": 1, "onPage": 100})
        pages = int(first["meta"]["pagesCount"])
        groups = [
            list(range(start, min(start + GROUP_PAGES, pages + 1)))
            for start in range(1, pages + 1, GROUP_PAGES)
        ]
        with ThreadPoolExecutor(concurrency) as pool:
            events = sum(pool.map(page, groups))
        requests = client.stats.requests
    return {"events": events, "rows": events, "requests": requests}


def run_ours(
    workdir: str, base_url: str, api_key: str, concurrency: int, reference: bool = False
) -> dict[str, Any]:
    """(b) `simplymeet sync --resources events`, and a fingerprint of what it landed; with
    `reference`, (b0): every event page parsed into dicts, the path before Arrow pages."""
    from simplymeet.sync.api import SyncApi

    SyncApi.arrow_pages = not reference  # this child process only
    data = run_simplymeet_sync(
        workdir, base_url, api_key, concurrency=concurrency, resources=["events"]
    )
    db = Path(workdir) / "warehouse.duckdb"
    data["fingerprint"] = warehouse_fingerprint(db, exclude=("_synced_at",))
    data["events"] = data["rows"].get("events", 0)
    data["total_rows"] = sum(data["rows"].values())
    return data


def run_dlt_dicts(
    workdir: str,
    base_url: str,
    api_key: str,
    concurrency: int,
    loader_file_format: str | None = None,
) -> dict[str, Any]:
    """(c)/(d) Raw page dicts into a dlt resource merged on id: dlt normalizes and loads."""
    import time

    import dlt

    from simplymeet.client import SimplyMeetClient

    folder = Path(workdir)
    stages: dict[str, float] = {}
    with SimplyMeetClient(base_url, api_key=api_key, concurrency=concurrency) as client:

        @dlt.resource(name="events", primary_key="id", write_disposition="merge")
        def events() -> Any:
            for page in client.iter_pages("event_list", ORDER, on_page=100, raw=True):
                yield page.items

        pipeline = dlt.pipeline(
            pipeline_name="bench_dlt_dicts",
            destination=dlt.destinations.duckdb(credentials=str(folder / "dicts.duckdb")),
            dataset_name="raw",
            pipelines_dir=str(folder / "pipelines"),
        )
        started = time.perf_counter()
        pipeline.extract(events(), loader_file_format=loader_file_format)  # type: ignore[arg-type]
        stages["extracting"] = time.perf_counter() - started
        started = time.perf_counter()
        pipeline.normalize()
        stages["normalizing"] = time.perf_counter() - started
        started = time.perf_counter()
        pipeline.load().raise_on_failed_jobs()
        stages["loading"] = time.perf_counter() - started
    with pipeline.sql_client() as sql:
        tables = [
            row[0]
            for row in sql.execute_sql(
                "select table_name from information_schema.tables "
                "where table_schema = 'raw' and table_name not like '_dlt%'"
            )
        ]
        counts = {
            name: sql.execute_sql(f'select count(*) from raw."{name}"')[0][0] for name in tables
        }
    return {
        "events": counts.get("events", 0),
        "total_rows": sum(counts.values()),
        "tables": len(counts),
        "stages": stages,
    }


def warehouse_fingerprint(db: Path, exclude: tuple[str, ...] = ()) -> dict[str, list[Any]]:
    """Per table of `raw`: row count and an order-independent hash of every row's values."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'raw' and table_name not like '\\_%' escape '\\' "
                "order by table_name"
            ).fetchall()
        ]
        out: dict[str, list[Any]] = {}
        for name in tables:
            columns = [
                row[0]
                for row in con.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = 'raw' and table_name = ? order by ordinal_position",
                    [name],
                ).fetchall()
                if row[0] not in exclude and not row[0].startswith("_dlt")
            ]
            quoted = ", ".join(f'"{c}"' for c in columns)
            count, digest = con.execute(
                f'select count(*), coalesce(sum(hash(struct_pack({quoted}))), 0) from raw."{name}"'
            ).fetchone()  # type: ignore[misc]
            out[name] = [int(count), str(digest)]
        return out
    finally:
        con.close()


def profile_ours(
    workdir: str, base_url: str, api_key: str, concurrency: int, top: int = 30
) -> dict[str, Any]:
    """(b) under yappi's CPU clock, every thread (pages are fetched and flattened off-main).

    yappi is a development tool, not a dependency: `.venv/bin/pip install yappi`.
    """
    try:
        import yappi
    except ImportError:
        return {"profile": "yappi is not installed: .venv/bin/pip install yappi"}
    yappi.set_clock_type("cpu")
    yappi.start(builtins=True)
    try:
        run_simplymeet_sync(
            workdir, base_url, api_key, concurrency=concurrency, resources=["events"]
        )
    finally:
        yappi.stop()
    lines = ["CPU seconds by thread (yappi, cpu clock; the profiler itself slows Python code):"]
    threads = sorted(yappi.get_thread_stats(), key=lambda t: -t.ttot)
    for thread in threads[:8]:
        lines.append(f"  {thread.ttot:8.2f}  {thread.name} ({thread.sched_count} switches)")
    stats = list(yappi.get_func_stats())
    total = sum(t.ttot for t in threads) or 1.0
    for key, label in (("tsub", "self"), ("ttot", "inclusive")):
        lines.append(f"\nTop {top} functions by {label} CPU seconds, all threads:")
        lines.append(f"  {'self s':>8} {'incl. s':>8} {'share':>6} {'calls':>10}  function")
        for stat in sorted(stats, key=lambda f: -getattr(f, key))[:top]:
            where = f"{Path(stat.module).name}:{stat.lineno}" if stat.module else ""
            lines.append(
                f"  {stat.tsub:8.2f} {stat.ttot:8.2f} {getattr(stat, key) / total:6.1%} "
                f"{stat.ncall:>10,}  {stat.name} ({where})"
            )
    yappi.clear_stats()
    return {"profile": "\n".join(lines)}


def median_run(runs: list[ChildResult]) -> ChildResult:
    """The run whose CPU is the median of `runs`; of an even number, the upper of the two
    middle runs (of two runs, the costlier)."""
    return sorted(runs, key=lambda run: run.cpu_s)[len(runs) // 2]


def run_dict_paths(tmp: str, where: dict[str, Any]) -> tuple[ChildResult, ChildResult]:
    """(d) and (c), the dlt dict paths, against the emulator `where` points at."""
    print_header("(d) dlt dicts, parquet load files")
    parquet = run_child(
        "b3_landing_cpu:run_dlt_dicts", workdir=f"{tmp}/d", loader_file_format="parquet", **where
    )
    print_header("(c) dlt default path: dicts, insert_values")
    default = run_child("b3_landing_cpu:run_dlt_dicts", workdir=f"{tmp}/c", **where)
    return parquet, default


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument(
        "--default-path-events",
        type=int,
        default=10_000,
        help="size of (c), (d) and the small (b); equal to --events, (b) runs once, one emulator",
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--profile", action="store_true", help="also profile (b) with yappi and print it"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="runs of (a') and (b), alternated; the targets are judged on each one's median",
    )
    parser.add_argument("--no-tuned", action="store_true", help="skip (b'), the dlt-tuned run")
    parser.add_argument(
        "--no-reference", action="store_true", help="skip (b0), the sync on dict pages"
    )
    args = parser.parse_args()
    small, big = args.default_path_events, args.events
    print(machine_line())
    results: list[tuple[str, int, ChildResult]] = []
    profile_text = ""
    with tempfile.TemporaryDirectory(prefix="bench-b3-") as tmp:
        with emulator_process(big, 0) as emu:
            where: dict[str, Any] = {
                "base_url": emu.base_url,
                "api_key": emu.api_key,
                "concurrency": args.concurrency,
            }
            print_header(f"emulator: {big:,} events, no latency")
            print_header("(a) download + JSON parse only")
            download = run_child("b3_landing_cpu:run_download", **where)
            results.append(("(a) download + JSON parse only", big, download))
            floors: list[ChildResult] = []
            ours_runs: list[ChildResult] = []
            for turn in range(max(args.rounds, 1)):
                # Alternated (a'), (b), (b), (a'), ...: the machine's speed moves by tens of
                # percent within minutes, and both should meet the same minutes.
                for contestant in ("floor", "ours") if turn % 2 == 0 else ("ours", "floor"):
                    if contestant == "floor":
                        print_header(f"(a') download + parse into Arrow (the floor), {turn + 1}")
                        floors.append(run_child("b3_landing_cpu:run_arrow_floor", **where))
                    else:
                        print_header(f"(b) simplymeet sync --resources events, {turn + 1}")
                        ours_runs.append(
                            run_child(
                                "b3_landing_cpu:run_ours", workdir=f"{tmp}/ours{turn}", **where
                            )
                        )
            floor, ours = median_run(floors), median_run(ours_runs)
            rounds_agree = all(
                run.data["fingerprint"] == ours.data["fingerprint"] for run in ours_runs
            )
            results.append(("(a') download + parse into Arrow", big, floor))
            results.append(("(b) simplymeet sync (Arrow pages)", big, ours))
            before: ChildResult | None = None
            if not args.no_reference:
                print_header("(b0) the same on the reference path (dict pages)")
                before = run_child(
                    "b3_landing_cpu:run_ours", workdir=f"{tmp}/b0", reference=True, **where
                )
                same_as_reference = before.data["fingerprint"] == ours.data["fingerprint"]
                results.append(
                    (
                        "(b0) reference path: dict pages"
                        + ("" if same_as_reference else " — warehouse DIFFERS"),
                        big,
                        before,
                    )
                )
            if not args.no_tuned:
                print_header(f"(b') the same with {TUNED_ENV}")
                tuned = run_child(
                    "b3_landing_cpu:run_ours", workdir=f"{tmp}/b2", env=TUNED_ENV, **where
                )
                same = tuned.data["fingerprint"] == ours.data["fingerprint"]
                label = "(b') same, dlt tuned" + ("" if same else " — warehouse DIFFERS")
                results.append((label, big, tuned))
            if args.profile:
                print_header("(b) again under a CPU profiler (yappi, every thread)")
                profiled = run_child("b3_landing_cpu:profile_ours", workdir=f"{tmp}/p", **where)
                profile_text = profiled.data["profile"]
            if small == big:
                # (b) at the small size would be the (b) above again: same emulator, same events.
                ours_small = ours
                parquet, default = run_dict_paths(tmp, where)
        if small != big:
            with emulator_process(small, 0) as emu:
                where = {
                    "base_url": emu.base_url,
                    "api_key": emu.api_key,
                    "concurrency": args.concurrency,
                }
                print_header(f"emulator: {small:,} events, no latency")
                print_header("(b) simplymeet sync --resources events, small")
                ours_small = run_child("b3_landing_cpu:run_ours", workdir=f"{tmp}/bs", **where)
                parquet, default = run_dict_paths(tmp, where)
    results.append(("(b) simplymeet sync (Arrow pages)", small, ours_small))
    results.append(("(d) dlt dicts, parquet files", small, parquet))
    results.append(("(c) dlt default: dicts, insert_values", small, default))

    per_k = {id(r): 1e6 * r.cpu_s / max(n, 1) for _, n, r in results}  # CPU ms per 1,000 events
    ours_per_k = 1e6 * ours.cpu_s / big
    ours_small_per_k = 1e6 * ours_small.cpu_s / small
    rows = []
    for name, n, r in results:
        stages = r.data.get("stages", {})
        base = ours_small_per_k if n == small else ours_per_k
        rows.append(
            [
                name,
                fmt(n, 0),
                fmt(r.wall_s, 1),
                fmt(r.cpu_s, 1),
                fmt(n / r.wall_s if r.wall_s else 0, 0),
                fmt(per_k[id(r)], 0),
                ratio(per_k[id(r)], base),
                fmt(r.peak_rss_mb, 0),
                " / ".join(
                    fmt(stages.get(k, 0), 1) for k in ("extracting", "normalizing", "loading")
                )
                if stages
                else "—",
                fmt(r.data.get("total_rows", r.data.get("rows", 0)), 0),
            ]
        )
    floor_per_k = 1e6 * floor.cpu_s / big
    vs_floor = ours_per_k / floor_per_k if floor_per_k else float("inf")
    met_cpu = "met" if ours_per_k <= TARGET_CPU_MS_PER_1K else "not met"
    met_floor = "met" if vs_floor <= TARGET_VS_FLOOR else "not met"
    reference_note = (
        f"; the reference path (b0) {fmt(1e6 * before.cpu_s / big, 0)}" if before else ""
    )
    notes = [
        f"(a') and (b) ran {len(floors)} times each, alternated; their rows are each one's "
        f"median run by CPU, on which the targets are judged. CPU ms per 1,000 events, in "
        f"order: (a') {', '.join(fmt(1e6 * r.cpu_s / big, 0) for r in floors)}; "
        f"(b) {', '.join(fmt(1e6 * r.cpu_s / big, 0) for r in ours_runs)}.",
        f"target (b) <= {TARGET_CPU_MS_PER_1K:.0f} CPU ms per 1,000 events: {met_cpu} "
        f"({fmt(ours_per_k, 0)}{reference_note}).",
        f"target (b) <= {TARGET_VS_FLOOR}x the floor (a') in this run: {met_floor} "
        f"({vs_floor:.2f}x: {fmt(ours_per_k, 0)} vs {fmt(floor_per_k, 0)} CPU ms per 1,000).",
    ]
    if not rounds_agree:
        notes.append("(b)'s runs landed DIFFERENT warehouses: a defect.")
    if before is not None:
        notes.append(
            "(b0) warehouse fingerprint "
            + ("identical to (b)." if same_as_reference else "DIFFERS from (b): a defect.")
        )
    notes += [
        "'CPU ms/1k' is CPU per 1,000 events; 'vs (b)' compares it with (b) at the same size. "
        "'rows' counts every table's rows (events and their child tables).",
        "(a)'s CPU is the transport's part of every other row: HTTP, and orjson building dicts.",
        f"(b) at {big:,} vs (c) at {small:,} per event: "
        f"{ratio(per_k[id(default)], ours_per_k)} the CPU; "
        f"peak RSS {fmt(default.peak_rss_mb, 0)} MB at {small:,} vs "
        f"{fmt(ours.peak_rss_mb, 0)} MB at {big:,}.",
    ]
    if not args.no_tuned:
        notes.append(
            "(b') warehouse fingerprint (row counts and row hashes of every raw table) "
            + ("identical to (b)." if same else "DIFFERS from (b): not a valid path.")
        )
    notes.append(machine_line("end"))
    print_table(
        "B3 CPU cost of landing events (zero latency)",
        [
            "contestant",
            "events",
            "wall s",
            "CPU s",
            "events/s",
            "CPU ms/1k",
            "vs (b)",
            "peak RSS MB",
            "extract / normalize / load s",
            "rows",
        ],
        rows,
        notes,
    )
    if profile_text:
        print("\nProfile of (b):")
        print(profile_text)


if __name__ == "__main__":
    main()
