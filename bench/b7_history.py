"""B7 — what booking history costs: landing CPU with history off, on, and as dlt's scd2; bytes.

    .venv/bin/python bench/b7_history.py                  # 20,000 events, 2 rounds
    .venv/bin/python bench/b7_history.py --events 2000 --rounds 1

Contestants, each a fresh `simplymeet sync --resources events` into a new warehouse, in its
own process, against one emulator (zero latency) in another:
  (off)  `[sync] event_history = false`: events merged on id, nothing else;
  (on)   the shipped path: the same Arrow batch also lands `raw.event_versions`, a column
         selection merged insert-only on (id, updated_at);
  (scd2) instead of (on), the same columns as a table variant with dlt's `scd2` merge.
Rounds alternate the contestants, and the least CPU of each is kept (the machine is shared).
Storage: the warehouse file of (on) minus that of (off), after a checkpoint, per version
landed; then measured at scale: (on)'s versions replicated to a million events with three
versions each (ids and times shifted per copy, every other column as landed) in a fresh
DuckDB file, checkpointed, its bytes counted.
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

HISTORY_OFF = {"SIMPLYMEET_SYNC__EVENT_HISTORY": "false"}


def _measure(workdir: str, data: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    db = Path(workdir) / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    try:
        con.execute("checkpoint")
        tables = {
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
        versions = 0
        for name in ("event_versions", "event_versions_scd2"):
            if name in tables:
                versions = con.execute(f"select count(*) from raw.{name}").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    data["versions"] = int(versions)
    data["bytes"] = db.stat().st_size
    data["events"] = data["rows"].get("events", 0)
    return data


def scaled_storage(source: Path, events: int, versions: int) -> tuple[int, int]:
    """Rows and bytes of `raw.event_versions` replicated to `events` × `versions` rows."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="bench-b7-scaled-") as tmp:
        target = Path(tmp) / "scaled.duckdb"
        con = duckdb.connect(str(target))
        try:
            con.execute(f"attach '{source}' as landed (read_only)")
            landed = con.execute("select count(*) from landed.raw.event_versions").fetchone()
            copies = -(-events // max(int(landed[0]), 1))  # type: ignore[index]
            con.execute("create schema raw")
            # one copy per block of ids, its times a minute apart from the last copy's (so
            # values stay as distinct as a real account's); a version an hour after the last
            con.execute(
                f"""
                create table raw.event_versions as
                select * replace (
                    id + copy.i * 100000000 as id,
                    updated_at + to_minutes(copy.i) + to_hours(version.i) as updated_at,
                    created_at + to_minutes(copy.i) as created_at,
                    scheduled_at + to_minutes(copy.i) as scheduled_at,
                    end_date + to_minutes(copy.i) as end_date,
                    canceled_at + to_minutes(copy.i) as canceled_at
                )
                from landed.raw.event_versions, range({copies}) as copy(i),
                    range({versions}) as version(i)
                order by id, updated_at
                limit {events * versions}
                """
            )
            con.execute("detach landed")
            con.execute("checkpoint")
            rows = con.execute("select count(*) from raw.event_versions").fetchone()
        finally:
            con.close()
        return int(rows[0]), target.stat().st_size  # type: ignore[index]


def run_sync(workdir: str, base_url: str, api_key: str, concurrency: int) -> dict[str, Any]:
    """(off) or (on), as the environment sets `[sync] event_history`."""
    data = run_simplymeet_sync(
        workdir, base_url, api_key, concurrency=concurrency, resources=["events"]
    )
    return _measure(workdir, data)


def run_scd2(workdir: str, base_url: str, api_key: str, concurrency: int) -> dict[str, Any]:
    """(scd2): history off, plus the version columns of each batch merged with dlt's scd2."""
    import dlt
    import pandas as pd
    import pyarrow as pa

    from simplymeet.sync import history, source

    original_resource, original_emit = source.events_resource, source._emit_events

    def emit_with_scd2(rows: Any, synced_at: Any, hold: Any, _history: bool) -> Any:
        for item in original_emit(rows, synced_at, hold, False):
            yield item
            if item.meta.table_name == "events":
                cut = history.versions(item.data).drop_columns(["_synced_at"])
                # dlt gives Arrow rows random `_dlt_id`s, not content hashes: scd2 needs ours
                digest = pd.util.hash_pandas_object(cut.to_pandas(), index=False)
                cut = cut.append_column("row_hash", pa.array(digest.to_numpy().astype("int64")))
                yield dlt.mark.with_table_name(cut, "event_versions_scd2")

    def events_with_scd2(*args: Any, **kwargs: Any) -> Any:
        resource = original_resource(*args, **{**kwargs, "history": False})
        resource.apply_hints(
            table_name="event_versions_scd2",
            write_disposition={
                "disposition": "merge",
                "strategy": "scd2",
                "row_version_column_name": "row_hash",
            },
            create_table_variant=True,
        )
        return resource

    # measurement only: (on)'s insert-only table swapped for an scd2 one, same columns
    source.events_resource, source._emit_events = events_with_scd2, emit_with_scd2
    try:
        data = run_simplymeet_sync(
            workdir, base_url, api_key, concurrency=concurrency, resources=["events"]
        )
    finally:
        source.events_resource, source._emit_events = original_resource, original_emit
    return _measure(workdir, data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--scaled-events", type=int, default=1_000_000)
    parser.add_argument("--scaled-versions", type=int, default=3)
    args = parser.parse_args()
    print(machine_line())
    contestants = {
        "(off) history off": ("b7_history:run_sync", HISTORY_OFF),
        "(on) event_versions, insert-only": ("b7_history:run_sync", None),
        "(scd2) dlt scd2 variant": ("b7_history:run_scd2", None),
    }
    best: dict[str, ChildResult] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-b7-") as tmp,
        emulator_process(args.events, 0) as emu,
    ):
        print_header(f"emulator: {args.events:,} events, no latency")
        for round_number in range(args.rounds):
            for index, (name, (target, env)) in enumerate(contestants.items()):
                print_header(f"round {round_number + 1}: {name}")
                result = run_child(
                    target,
                    env=env,
                    workdir=f"{tmp}/{round_number}-{index}",
                    base_url=emu.base_url,
                    api_key=emu.api_key,
                    concurrency=args.concurrency,
                )
                if name not in best or result.cpu_s < best[name].cpu_s:
                    best[name] = result
        print_header(
            f"storage at scale: {args.scaled_events:,} events × {args.scaled_versions} versions"
        )
        scaled_rows, scaled_bytes = scaled_storage(
            Path(f"{tmp}/0-1/warehouse.duckdb"), args.scaled_events, args.scaled_versions
        )
    off = best["(off) history off"]
    on = best["(on) event_versions, insert-only"]
    per_k = {name: 1e6 * r.cpu_s / max(r.data["events"], 1) for name, r in best.items()}
    rows = []
    for name, r in best.items():
        stages = r.data.get("stages", {})
        rows.append(
            [
                name,
                fmt(r.data["events"], 0),
                fmt(r.data["versions"], 0),
                fmt(r.wall_s, 1),
                fmt(r.cpu_s, 2),
                fmt(per_k[name], 0),
                ratio(per_k[name], per_k["(off) history off"]),
                " / ".join(fmt(stages.get(k, 0), 2) for k in ("extracting", "loading")),
                fmt(r.data["bytes"] / 1e6, 1),
            ]
        )
    versions = max(on.data["versions"], 1)
    per_version = (on.data["bytes"] - off.data["bytes"]) / versions
    notes = [
        f"least CPU of {args.rounds} round(s) each; 'CPU ms/1k' per 1,000 events; "
        "'vs off' compares it with history off.",
        f"storage: (on) − (off) warehouse bytes = {fmt(per_version, 0)} bytes per version "
        f"→ {fmt(per_version, 0)} MB per million versions "
        f"(1M events with 3 versions each: {fmt(3 * per_version, 0)} MB).",
        f"storage measured at scale: {fmt(scaled_rows, 0)} versions "
        f"({fmt(args.scaled_events, 0)} events × {args.scaled_versions}) in "
        f"{fmt(scaled_bytes / 1e6, 1)} MB = {fmt(scaled_bytes / max(scaled_rows, 1), 0)} "
        "bytes per version (the table alone, after a checkpoint).",
        machine_line("end"),
    ]
    print_table(
        "B7 booking history: landing cost and storage",
        [
            "contestant",
            "events",
            "versions",
            "wall s",
            "CPU s",
            "CPU ms/1k",
            "vs off",
            "extract / load s",
            "warehouse MB",
        ],
        rows,
        notes,
    )


if __name__ == "__main__":
    main()
