"""Checkpoints of the DuckDB warehouse run on a thread beside the next stage's work.

A checkpoint writes what the write-ahead log holds into the database file: after a sync's
load ~0.2 s, after a first build of 20,000 bookings ~0.3 s, each on one core while the other
sat idle (bench/README.md, session 53). DuckDB lets a checkpoint run while other
connections read, and while a write transaction that began after it goes on (only that
transaction's commit waits for it); a checkpoint asked while another write transaction is
open is refused, and the log is then checkpointed by a later one (at the latest as the
last connection closes). So a sync hands its connection over checkpointing as the model
build begins, and the build's own checkpoint runs beside the data tests.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from simplymeet.duckdb_threads import put_back_after

log = logging.getLogger(__name__)

DEFERRED_THRESHOLD = "1 TiB"
"""`checkpoint_threshold` while checkpoints are deferred: no commit checkpoints on its own."""


class Checkpointing:
    """A `CHECKPOINT` running on a cursor of `con`, on a thread of its own."""

    def __init__(self, con: Any) -> None:
        self._cursor = con.cursor()
        self.error: str | None = None
        asked = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(asked,), name="simplymeet-checkpoint", daemon=True
        )
        self._thread.start()
        # Asked before the caller goes on to write: a checkpoint asked after another write
        # transaction began is refused.
        asked.wait()

    def _run(self, asked: threading.Event) -> None:
        asked.set()
        try:
            self._cursor.execute("checkpoint")
        except Exception as exc:  # refused or failed: the log stays for a later checkpoint
            self.error = str(exc)
            log.debug("checkpoint beside the next stage not taken: %s", exc)

    def wait(self) -> None:
        """Return once the checkpoint has ended; a signal's exception raised meanwhile is
        raised after it, as the connection must not close under a running checkpoint."""
        pending: BaseException | None = None
        while self._thread.is_alive():
            try:
                self._thread.join()
            except BaseException as exc:
                pending = pending or exc
        self._cursor.close()
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
    con.execute(f"set checkpoint_threshold = '{DEFERRED_THRESHOLD}'")
    with put_back_after(con, f"set checkpoint_threshold = '{before}'"):
        yield


@contextmanager
def checkpoint_beside(con: Any) -> Iterator[None]:
    """Checkpoint `con`'s database on a thread while the block runs (reads, or writes that
    begin after it); the block ends once the checkpoint has. Nothing when `con` is None."""
    if con is None:
        yield
        return
    running = Checkpointing(con)
    try:
        yield
    finally:
        running.wait()


_handed_over: ContextVar[list[tuple[Any, Checkpointing]] | None] = ContextVar(
    "simplymeet_checkpoints_handed_over", default=None
)


@contextmanager
def hand_overs() -> Iterator[None]:
    """Within the block, `hand_over` keeps a connection open checkpointing instead of
    closing it; each is closed as the block ends, its checkpoint ended.

    Closing the last connection to a file checkpoints it there and then; kept open, the
    database stays this process's and the next stage's connection (the model build) reuses
    it while the checkpoint runs beside.
    """
    held: list[tuple[Any, Checkpointing]] = []
    token = _handed_over.set(held)
    try:
        yield
    finally:
        _handed_over.reset(token)
        _close_all(held)


def _close_all(held: list[tuple[Any, Checkpointing]]) -> None:
    pending: BaseException | None = None
    for con, running in held:
        try:
            running.wait()
        except BaseException as exc:
            pending = pending or exc
        con.close()
    if pending is not None:
        raise pending


def hand_over(con: Any) -> bool:
    """Keep `con` open checkpointing until `hand_overs`' block ends; False (nothing done)
    outside such a block, where the caller closes it."""
    held = _handed_over.get()
    if held is None:
        return False
    held.append((con, Checkpointing(con)))
    return True
