"""Helpers of the sync tests: settings pointing at a temp warehouse, and the emulator's truth.

The expected warehouse is computed from what the emulator serves (every live event as its
list endpoint renders them, `store.list_dtos`), never from what our sync read, so a comparison
can fail.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import httpx

from simplymeet.client import SimplyMeetClient
from simplymeet.config import Settings, load_settings
from simplymeet.emulator import RunningEmulator
from simplymeet.emulator.render_batch import items_values
from simplymeet.sync import SyncRequest, SyncSummary, arrow_pages, sync
from simplymeet.sync import tables as t

REPO = Path(__file__).resolve().parents[1]
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

EVENTS_ONLY = ("events",)
"""`resources` of a sync whose test looks only at the event tables: the other resources would
double the sync's fixed cost (their tables loaded too) and prove nothing there."""


def settings_for(tmp_path: Path, emulator: RunningEmulator, **sync_overrides: Any) -> Settings:
    """Settings that sync `emulator` into `tmp_path/warehouse.duckdb`."""
    settings = load_settings(REPO / "config.toml")
    settings = settings.with_overrides(
        "warehouse",
        duckdb_path=str(tmp_path / "warehouse.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
        pipeline_name="test_sync",
    )
    settings = settings.with_overrides("api", base_url=emulator.base_url, concurrency=4)
    return settings.with_overrides("sync", build_models=False, **sync_overrides)


def run_sync(settings: Settings, emulator: RunningEmulator, **request: Any) -> SyncSummary:
    """One sync through a fresh client, the way `simplymeet sync` runs it."""
    request.setdefault("build_models", False)
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key, concurrency=4) as client:
        return sync(settings, client, SyncRequest(**request))


def client_for(emulator: RunningEmulator) -> SimplyMeetClient:
    """A client of `emulator`, for making changes upstream."""
    return SimplyMeetClient(emulator.base_url, api_key=emulator.api_key, concurrency=4)


def book_events(emulator: RunningEmulator, count: int, month: int = 3) -> list[int]:
    """Book `count` events through the API (event type 1, one invitee each, in 2031 `month`);
    their ids."""
    with client_for(emulator) as client:
        return [
            client.event_create(
                {
                    "eventType": 1,
                    "scheduledAt": f"2031-{month:02}-{1 + n % 28:02} {8 + n % 10:02}:00:00",
                    "invitee": {"fullName": "New Invitee", "email": f"new{n}@example.com"},
                }
            )[0].id
            for n in range(count)
        ]


def landed_count(settings: Settings, ids: list[int]) -> int:
    """How many of these event ids the warehouse holds."""
    wanted = ", ".join(map(str, ids))
    [(landed,)] = query(settings, f"select count(*) from raw.events where id in ({wanted})")
    return int(landed)


def create_poll(emulator: RunningEmulator, name: str = "Kick-off") -> None:
    """Create a poll upstream on the first event type: a change to a replaced list."""
    event_type = emulator.store.list_dtos("event_types")[0]["id"]
    with client_for(emulator) as client:
        client.poll_create(
            {
                "eventTypeId": event_type,
                "name": name,
                "availability": [{"date": "2030-01-07 10:00:00"}],
            }
        )


def query(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    """Run `sql` on the warehouse through a read-only connection."""
    with read_only(settings) as con:
        return con.execute(sql).fetchall()


@contextmanager
def read_only(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """One read-only connection to the warehouse, for a test that asks it many things at once:
    opening one costs ~25 ms of CPU (`query` opens one per call)."""
    con = _read_only(settings)
    try:
        yield con
    finally:
        con.close()


def _read_only(settings: Settings) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(settings.get("warehouse", "duckdb_path"), read_only=True)


def warehouse_rows(settings: Settings, table: t.Table, where: str = "") -> set[tuple[Any, ...]]:
    """Every row of `table` as a tuple of its declared columns (without `_synced_at`)."""
    con = _read_only(settings)
    try:
        return _landed_rows(con, table, where)
    finally:
        con.close()


def _landed_rows(
    con: duckdb.DuckDBPyConnection, table: t.Table, where: str = ""
) -> set[tuple[Any, ...]]:
    columns = ", ".join(f'"{c.name}"' for c in table.columns)
    sql = f"select {columns} from raw.{table.name} {where}"
    return {_normalize(row) for row in con.execute(sql).fetchall()}


def expected_rows(table: t.Table, dtos: list[dict[str, Any]], child: str | None = None) -> set:
    """The rows `table` (or its child table `child`) should hold for these served DTOs."""
    return _rows_of_cut(t.flatten(table, dtos, EPOCH), child or table.name)


def _rows_of_cut(cut: dict[str, Any], name: str) -> set[tuple[Any, ...]]:
    """The rows of table `name` in `cut` (what `t.flatten` made of the served DTOs)."""
    names = [c.name for c in t.table_by_name(name).columns]
    return {_normalize(tuple(r[n] for n in names)) for r in cut[name].to_pylist()}


def live_event_dtos(emulator: RunningEmulator) -> list[dict[str, Any]]:
    """Every event the emulator serves, as served (read-only: events of one host or event
    type share its embedded DTO).

    One batch render of every live event (`render_batch.items_values`: what the emulator's
    exact `loads` reads of the text the list endpoint serves, `items_json`, held equal to it
    and to `store.event_dto`'s per-event text by tests/test_emulator_render_batch.py), without
    the text: this runs after most syncs of the suite.
    """
    store = emulator.store
    with store.lock:
        return items_values(store.render, store.all_event_ids())


def assert_events_match(settings: Settings, emulator: RunningEmulator) -> None:
    """The warehouse's live events and their children equal what the emulator serves."""
    # One cut of the served events, compared with each table inside DuckDB through one
    # connection: this runs after most syncs of the suite, and a set of Python tuples of each
    # side cost more CPU than the sync it checks.
    cut = t.flatten(t.EVENTS, live_event_dtos(emulator), EPOCH)
    live = "where deleted_at is null"
    con = _read_only(settings)
    try:
        _assert_table_is(con, t.EVENTS, cut[t.EVENTS.name], live)
        for child in t.EVENTS.children:
            where = f"where event_id in (select id from raw.events {live})"
            _assert_table_is(con, child.table, cut[child.table.name], where)
    finally:
        con.close()


def _assert_table_is(
    con: duckdb.DuckDBPyConnection, table: t.Table, served: Any, where: str
) -> None:
    """`raw.<table> <where>` holds the rows of the Arrow table `served`, as sets of rows
    (`_landed_rows` and `_rows_of_cut` read alike), saying which rows differ."""
    columns = ", ".join(f'"{c.name}"' for c in table.columns)
    landed = f"select {columns} from raw.{table.name} {where}"
    con.register("served_rows", served)
    try:
        missing = con.execute(f"select {columns} from served_rows except {landed}").fetchall()
        extra = con.execute(f"{landed} except select {columns} from served_rows").fetchall()
    finally:
        con.unregister("served_rows")
    if missing or extra:
        _assert_same_rows(
            table.name, {_normalize(row) for row in extra}, {_normalize(r) for r in missing}
        )


def _assert_same_rows(
    table: str, landed: set[tuple[Any, ...]], served: set[tuple[Any, ...]]
) -> None:
    """`landed == served`, saying which rows differ (pytest does not rewrite this module)."""
    if landed == served:
        return
    missing, extra = sorted(served - landed, key=repr), sorted(landed - served, key=repr)
    raise AssertionError(
        f"{table}: {len(missing)} served rows not landed, {len(extra)} landed rows not served;"
        f" first served {missing[:3]}, first landed {extra[:3]}"
    )


def _normalize(row: tuple[Any, ...]) -> tuple[Any, ...]:
    out = []
    for value in row:
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC)
        out.append(value)
    return tuple(out)


def event_page_body(emulator: RunningEmulator, page: int = 1) -> bytes:
    """Page `page` of 100 events by id, as the server sends it (over HTTP, no client)."""
    response = httpx.get(
        f"{emulator.base_url}/panel/api/event/",
        params={"page": page, "onPage": 100, "orderField": "id", "orderDirection": "asc"},
        headers={"X-API-KEY": emulator.api_key},
        timeout=30,
    )
    response.raise_for_status()
    return response.content


def checked_page(body: bytes) -> arrow_pages.CheckedPage:
    """`body` through the Arrow path's key check, which must pass it."""
    checked = arrow_pages.check_event_page(body)
    assert isinstance(checked, arrow_pages.CheckedPage)
    return checked


KILLED_EXIT = 137
"""The exit code `sync_killed_before_loading`'s process dies with."""

_KILLED_RUN = """
import os, sys, json
from simplymeet.client import SimplyMeetClient
from simplymeet.config import load_settings
from simplymeet.sync import SyncApi, SyncRequest, run_sync

args = json.loads(sys.argv[1])
settings = load_settings(args["config"])
for section, values in args["overrides"].items():
    settings = settings.with_overrides(section, **values)

def die_before(stage):
    if stage == args["stage"]:
        os._exit({killed})

with SimplyMeetClient(args["base_url"], api_key=args["api_key"]) as client:
    request = SyncRequest(resources=args["resources"], reconcile=False, build_models=False)
    run_sync(settings, SyncApi(client), request, on_stage=die_before)
"""


def sync_killed_before_loading(
    settings: Settings,
    emulator: RunningEmulator,
    stage: str = "loading",
    resources: tuple[str, ...] = ("events",),
) -> None:
    """A real sync in its own process, killed after extract and normalize, before the load
    (or as `stage` begins).

    A process of its own because the kill is the behaviour: `os._exit` runs no `finally` and
    no dlt cleanup, as a crash would. It syncs `resources` (the events by default).
    """
    wh = settings.section("warehouse")
    overrides = {
        "warehouse": {key: wh[key] for key in ("duckdb_path", "pipelines_dir", "pipeline_name")},
        "api": {"base_url": emulator.base_url},
        "sync": {"build_models": False},
    }
    args = {
        "config": str(REPO / "config.toml"),
        "overrides": overrides,
        "base_url": emulator.base_url,
        "api_key": emulator.api_key,
        "stage": stage,
        "resources": list(resources),
    }
    code = textwrap.dedent(_KILLED_RUN).replace("{killed}", str(KILLED_EXIT))
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == KILLED_EXIT, done.stderr[-2000:]
