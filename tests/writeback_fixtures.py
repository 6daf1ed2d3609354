"""Fixtures of the write-back tests: an emulator and a warehouse that has synced it.

Import `synced_fixture` and `synced_template_fixture` into a test module to use the `synced`
fixture. Syncing takes seconds, so one template warehouse is synced per test run (shared by the
xdist workers) and copied into each test's tmp_path; every test gets a fresh emulator with the
same seed and anchor, whose state is exactly what the template holds. Tests therefore never see
each other's writes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner, Result

from simplymeet.cli.main import cli
from simplymeet.client import SimplyMeetClient
from simplymeet.config import Settings
from simplymeet.contract.endpoints import match_route
from simplymeet.emulator import RunningEmulator, start_emulator
from tests.sync_support import live_event_dtos, settings_for
from tests.synced_template import copy_template, template_for

SEED = 1
EVENTS = 2000
ANCHOR = dt.datetime.now(dt.UTC).date()
"""One anchor for the session, so the template and every test's emulator hold the same data."""
SHORT_TIMEOUT = 1.0
"""A client timeout for tests whose writes are answered 5xx or dropped before they are applied:
before sending such a write again, the write-back waits that long (and a margin) for a server
that may still be applying it."""
SHORT_SETTLE = 1.0
"""`[writeback] settle_seconds` of the tests (900 by default): shorter than the wait for a
write's in-flight window, so a write that e-mails people and was refused before it was applied
is sent again within the run, as a short-settling deployment would; the tests of the settle
period itself set a longer one."""


@dataclass
class Synced:
    """A running emulator and settings of a warehouse holding a full sync of it."""

    emulator: RunningEmulator
    settings: Settings
    root: Path
    api_timeout_seconds: float = 30.0
    """`[api] timeout_seconds` of the commands' config (a re-run waits that long for requests
    an interrupted run left with the server)."""
    settle_seconds: float = SHORT_SETTLE
    """`[writeback] settle_seconds` of the commands' config."""

    @property
    def db(self) -> Path:
        return Path(self.settings.get("warehouse", "duckdb_path"))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of `sql` on the warehouse, read-only; synced tables can be named unqualified."""
        con = duckdb.connect(str(self.db), read_only=True)
        try:
            con.execute(f"set search_path = '{self.settings.get('warehouse', 'dataset')},main'")
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def scalar(self, sql: str) -> Any:
        return self.query(sql)[0][0]

    def client(self, **options: Any) -> SimplyMeetClient:
        """A client of the emulator; fast retries so fault tests stay quick."""
        from simplymeet.client import RetryPolicy

        options.setdefault("retry", RetryPolicy(max_retries=3, backoff_base=0.01, max_delay=0.05))
        return SimplyMeetClient(
            self.emulator.base_url, api_key=self.emulator.api_key, concurrency=4, **options
        )

    def event(self, event_id: int) -> dict[str, Any] | None:
        """The event as the emulator serves it now (None once deleted)."""
        return self.emulator.store.event_dto(event_id)

    def until(self, done: Callable[[], bool], what: str, within: float = 15.0) -> None:
        """Wait, bounded, until `done()` (a write the emulator applies late has landed)."""
        deadline = time.monotonic() + within
        while not done():
            assert time.monotonic() < deadline, f"{what} did not happen within {within} s"
            time.sleep(0.1)

    def invitee_events(self, email: str) -> list[int]:
        """Ids of the live events the emulator serves with this invitee e-mail (one batch
        render of every event, not one `event` call per id)."""
        return [
            dto["id"]
            for dto in live_event_dtos(self.emulator)
            if dto.get("invitee", {}).get("email") == email
        ]

    def invitee_events_of(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Ids of the live events of each row's invitee (`invitee_email`), in row order."""
        emails = [str(row["invitee_email"]) for row in rows]
        by_email: dict[str, list[int]] = {}
        for dto in live_event_dtos(self.emulator):
            email = dto.get("invitee", {}).get("email")
            if email in emails:
                by_email.setdefault(email, []).append(dto["id"])
        return [i for email in emails for i in by_email.get(email, [])]

    def writes(self, *endpoints: str) -> list[tuple[str, dict[str, Any] | None]]:
        """(endpoint, JSON body) of each logged request to `endpoints`, answered or not."""
        out = []
        for record in self.emulator.requests:
            found = match_route(record.method, record.path)
            if found is not None and found[0].name in endpoints:
                out.append((found[0].name, json.loads(record.body) if record.body else None))
        return out

    def writes_per_event(self, *endpoints: str) -> Counter[int]:
        """How many write requests to `endpoints` named each event (path id or body `ids`)."""
        counts: Counter[int] = Counter()
        for record in self.emulator.requests:
            found = match_route(record.method, record.path)
            if found is None or found[0].name not in endpoints:
                continue
            params = found[1]
            if "id" in params:
                counts[params["id"]] += 1
            else:
                counts.update(json.loads(record.body)["ids"])
        return counts

    def upcoming(self, limit: int) -> list[int]:
        """Active events that have not started: what a cancel or a reschedule acts on without
        --include-past."""
        return self.ids("state = 'active' and scheduled_at > now()", limit)

    def ids(self, where: str, limit: int) -> list[int]:
        """Event ids from the warehouse, ascending."""
        rows = self.query(f"select id from raw.events where {where} order by id limit {limit}")
        return [int(r[0]) for r in rows]

    def config_file(self) -> Path:
        """A config.toml pointing the commands at this warehouse and emulator."""
        wh = self.settings.section("warehouse")
        path = self.root / "config.toml"
        path.write_text(
            "[api]\n"
            f'base_url = "{self.emulator.base_url}"\n'
            "max_retries = 3\n"
            "concurrency = 4\n"
            f"timeout_seconds = {self.api_timeout_seconds}\n"
            "[warehouse]\n"
            f'duckdb_path = "{wh["duckdb_path"]}"\n'
            f'pipelines_dir = "{wh["pipelines_dir"]}"\n'
            f'pipeline_name = "{wh["pipeline_name"]}"\n'
            "[sync]\nbuild_models = false\n"
            f"[writeback]\nsettle_seconds = {self.settle_seconds}\n"
        )
        return path

    def env(self) -> dict[str, str]:
        """Environment of a command run: the key, and nothing inherited that could redirect it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPLYMEET_")}
        env["SIMPLYMEET_API_KEY"] = self.emulator.api_key
        env["SIMPLYMEET_CONFIG"] = str(self.config_file())
        return env

    def cli(self, *args: str, input: str | None = None) -> Result:
        """Run `simplymeet ARGS` in-process against this warehouse and emulator."""
        runner = CliRunner()
        return runner.invoke(cli, list(args), env=self.env(), input=input, catch_exceptions=False)


@pytest.fixture(scope="session", name="synced_template")
def synced_template_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse directory after one full sync of the seeded emulator (do not write to it)."""
    # Built once per test run, shared by the xdist workers (tests/synced_template.py).
    with start_emulator(seed=SEED, events=EVENTS, anchor=ANCHOR) as emu:
        return template_for(tmp_path_factory, emu)


@pytest.fixture(name="synced")
def synced_fixture(synced_template: Path, tmp_path: Path) -> Iterator[Synced]:
    """A fresh emulator and a private copy of the synced warehouse."""
    copy_template(synced_template, tmp_path)
    with start_emulator(seed=SEED, events=EVENTS, anchor=ANCHOR) as emu:
        settings = settings_for(tmp_path, emu).with_overrides(
            "writeback", chunk_size=100, concurrency=4, settle_seconds=SHORT_SETTLE
        )
        yield Synced(emu, settings, tmp_path)


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    """A small CSV file for --ids-file."""
    import csv

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path
