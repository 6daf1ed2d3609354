"""Fewer checkpoints of the DuckDB warehouse alone on the critical path of a sync.

A checkpoint writes what the write-ahead log holds into the database file: after a sync's
load ~0.2 s (as its connection closed, the last one to the file), after a first build of
20,000 bookings ~0.3 s (inside its commit), each on one core while the other idled
(bench/README.md, session 53). On DuckDB 2.0 a checkpoint runs beside reads on other
connections, but a write (a `create table`) waits for it to end; so the checkpoint is put
where only reads follow: the data tests.

`sync()` keeps the load's connection open (`hand_overs`, `hand_over`): the database stays
this process's, the model build's connection reuses it and no checkpoint runs between them.
The build then commits without a checkpoint (`checkpoints_deferred`), and one checkpoint,
of the load's rows and the models' alike, runs beside the data tests (`checkpoint_beside`).
Every setting dlt changed for the load (`SET GLOBAL memory_limit`, `checkpoint_threshold`,
`TimeZone`) is put back first: the build runs as on a database opened afresh.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from simplymeet.duckdb_threads import put_back_after

log = logging.getLogger(__name__)

DEFERRED_THRESHOLD = "1 TiB"
"""`checkpoint_threshold` while checkpoints are deferred: no commit checkpoints on its own."""

Settings = dict[str, str | None]
"""A database's global settings by name, as `duckdb_settings()` states them."""


def global_settings(con: Any) -> Settings:
    """`con`'s database's global settings, as they are now."""
    rows = con.execute("select name, value from duckdb_settings() where scope = 'GLOBAL'")
    return dict(rows.fetchall())


def put_settings_back(con: Any, before: Settings) -> bool:
    """Put every global setting of `con`'s database that changed since `before` back as it
    was then; False (some left changed) when DuckDB refuses one.

    Reset to DuckDB's default first: `before` is what a database opened without options
    has, and a size stated rounded (`18.8 GiB`) would not set back the exact bytes."""
    now = global_settings(con)
    changed = [name for name, value in before.items() if now.get(name, value) != value]
    for name in changed:
        quoted = '"' + name.replace('"', '""') + '"'
        try:
            con.execute(f"reset global {quoted}")
            value = before[name]
            if value is not None and global_settings(con).get(name) != value:
                con.execute(f"set global {quoted} = '{value.replace(chr(39), chr(39) * 2)}'")
        except Exception as exc:  # a setting fixed at start: the caller closes instead
            log.debug("setting %s not put back (%s)", name, exc)
            return False
    return True


_running: set[Checkpointing] = set()
_running_lock = threading.Lock()


class Checkpointing:
    """A `CHECKPOINT` running on a cursor of `con`, on a thread of its own.

    A connection must not close while a checkpoint runs on its cursor (DuckDB refuses: "the
    connection is busy"): whoever closes one first calls `settle`, which waits for every
    checkpoint still running, however the code that started it was interrupted.
    """

    def __init__(self, con: Any) -> None:
        self._cursor = con.cursor()
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="simplymeet-checkpoint", daemon=True)
        with _running_lock:
            _running.add(self)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._cursor.execute("checkpoint")
        except Exception as exc:  # refused or failed: the log stays for a later checkpoint
            self.error = str(exc)
            log.debug("checkpoint beside the data tests not taken: %s", exc)

    def wait(self) -> None:
        """Return once the checkpoint has ended (its cursor closed); a signal's exception
        raised meanwhile is raised after it."""
        pending: list[BaseException] = []
        while True:
            try:
                while self._thread.is_alive():
                    try:
                        self._thread.join()
                    except BaseException as exc:
                        pending.append(exc)
                break
            except BaseException as exc:  # a second signal inside the handler above
                pending.append(exc)
        with _running_lock:
            if self in _running:
                _running.discard(self)
                self._cursor.close()
        if pending:
            raise pending[0]


def settle() -> None:
    """Wait for every checkpoint still running on a thread (before a connection closes)."""
    with _running_lock:
        running = list(_running)
    _each_then_raise([checkpoint.wait for checkpoint in running])


def _each_then_raise(steps: list[Callable[[], None]]) -> None:
    """Run every step, also those after one that raised; then raise the first exception."""
    pending: BaseException | None = None
    for step in steps:
        try:
            step()
        except BaseException as exc:
            pending = pending or exc
    if pending is not None:
        raise pending


@contextmanager
def checkpoints_deferred(con: Any) -> Iterator[None]:
    """While the block runs, no commit on `con`'s database checkpoints on its own (the
    setting is the database's); the value it had is put back afterwards."""
    if con is None:
        yield
        return
    [(before,)] = con.execute("select current_setting('checkpoint_threshold')").fetchall()
    con.execute(f"set global checkpoint_threshold = '{DEFERRED_THRESHOLD}'")
    with put_back_after(con, f"set global checkpoint_threshold = '{before}'"):
        yield


@contextmanager
def checkpoint_beside(con: Any) -> Iterator[None]:
    """Checkpoint `con`'s database on a thread while the block reads; the block ends once the
    checkpoint has (a write in it waits for the checkpoint). Nothing when `con` is None."""
    if con is None:
        yield
        return
    running = Checkpointing(con)
    try:
        yield
    finally:
        running.wait()


_handed_over: ContextVar[list[Any] | None] = ContextVar(
    "simplymeet_connections_handed_over", default=None
)


@contextmanager
def hand_overs() -> Iterator[None]:
    """Within the block, `hand_over` keeps a connection open instead of closing it; each is
    closed as the block ends (the last one to its file checkpoints what is left)."""
    held: list[Any] = []
    token = _handed_over.set(held)
    try:
        yield
    finally:
        _handed_over.reset(token)
        _each_then_raise([settle, *(con.close for con in held)])


def hand_over(con: Any, settings: Settings) -> bool:
    """Keep `con` open until `hand_overs`' block ends, its database's global settings put
    back to `settings` (what a fresh open had); False (nothing kept) outside such a block or
    where a setting cannot be put back: the caller closes it."""
    held = _handed_over.get()
    if held is None:
        return False
    try:
        if not put_settings_back(con, settings):
            return False
    except Exception as exc:  # the settings unreadable: closed as without a hand-over
        log.debug("connection not handed over: %s", exc)
        return False
    held.append(con)
    return True
