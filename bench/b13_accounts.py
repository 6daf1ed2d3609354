"""B13 — several accounts in one command: three accounts of N events against one of 3N.

    .venv/bin/python bench/b13_accounts.py                       # 3 × 100,000 vs 300,000
    .venv/bin/python bench/b13_accounts.py --events 2000 --latency-ms 0

Four emulator processes: three of `--events` events (seeds 1, 2, 3: their ids overlap, as
two real accounts' do) and one of three times as many. Two contestants, each in its own
process, into a fresh DuckDB file, models off:

- one account: `simplymeet sync` of the big emulator (the baseline);
- three accounts: `simplymeet sync` with three `[[accounts]]` (`sync_accounts`: extracts side
  by side, loads one at a time, each account with its own pipeline).

Same rows land either way; the table shows wall time, CPU seconds, peak RSS and rows per
second, and the three-account run's ratio to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from common import (
    API_KEY,
    REPO,
    emulator_process,
    fmt,
    machine_line,
    print_header,
    print_table,
    ratio,
    run_child,
)

ACCOUNTS = ("north", "south", "east")


def run_three_accounts(workdir: str, base_urls: list[str], concurrency: int = 8) -> dict[str, Any]:
    """`simplymeet sync` over three configured accounts (models off); rows per account."""
    from simplymeet.config import load_settings
    from simplymeet.sync import SyncRequest, overall_exit_code, sync_accounts

    folder = Path(workdir)
    text = (REPO / "config.toml").read_text()
    for name, url in zip(ACCOUNTS, base_urls, strict=True):
        os.environ[f"BENCH_KEY_{name.upper()}"] = API_KEY
        text += (
            f'\n[[accounts]]\nname = "{name}"\napi_key_env = "BENCH_KEY_{name.upper()}"\n'
            f'base_url = "{url}"\n'
        )
    (folder / "config.toml").write_text(text)
    settings = load_settings(folder / "config.toml")
    settings = settings.with_overrides(
        "warehouse",
        duckdb_path=str(folder / "warehouse.duckdb"),
        pipelines_dir=str(folder / "pipelines"),
        pipeline_name="bench",
    )
    settings = settings.with_overrides("api", concurrency=concurrency)
    settings = settings.with_overrides("sync", build_models=False)
    outcomes = sync_accounts(settings, SyncRequest(build_models=False))
    code = overall_exit_code(outcomes)
    if code:
        raise RuntimeError(f"exit {code}: {[o.message for o in outcomes if o.exit_code]}")
    events = {
        o.account: next(t.rows_after for t in o.summary.tables if t.name == "events")
        for o in outcomes
        if o.summary is not None
    }
    return {"events": events}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events per small account")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(machine_line())
    print_header(
        f"emulators: 3 × {args.events:,} events and 1 × {3 * args.events:,}, "
        f"{args.latency_ms:g} ms per request"
    )
    with contextlib.ExitStack() as stack:
        small = [
            stack.enter_context(emulator_process(args.events, args.latency_ms, seed=seed))
            for seed in (1, 2, 3)
        ]
        big = stack.enter_context(emulator_process(3 * args.events, args.latency_ms, seed=4))
        one_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-b13-one-"))
        three_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-b13-three-"))
        timeout = 120 + args.events / 100
        one = run_child(
            "common:run_simplymeet_sync",
            timeout=timeout,
            workdir=one_dir,
            base_url=big.base_url,
            api_key=big.api_key,
            concurrency=args.concurrency,
        )
        three = run_child(
            "b13_accounts:run_three_accounts",
            timeout=timeout,
            workdir=three_dir,
            base_urls=[emu.base_url for emu in small],
            concurrency=args.concurrency,
        )
    one_rows = int(one.data["rows"]["events"])
    three_rows = sum(int(n) for n in three.data["events"].values())
    rows = [
        [
            f"1 account × {one_rows:,}",
            fmt(one.wall_s),
            fmt(one.cpu_s),
            fmt(one.peak_rss_mb, 0),
            f"{one_rows / one.wall_s:,.0f}",
            "1.00×",
        ],
        [
            f"3 accounts × {args.events:,} (one command)",
            fmt(three.wall_s),
            fmt(three.cpu_s),
            fmt(three.peak_rss_mb, 0),
            f"{three_rows / three.wall_s:,.0f}",
            ratio(three.wall_s, one.wall_s),
        ],
    ]
    print_table(
        "B13 accounts: three accounts in one command against one account of the same size",
        ["contestant", "wall s", "CPU s", "peak RSS MB", "events/s", "wall vs 1 account"],
        rows,
    )
    print(f"events per account (3 accounts): {three.data['events']}")
    print(machine_line("end"))


# Children of dlt's normalize and load may start worker processes: keep the guard.
if __name__ == "__main__":
    main()
