"""Read-only queries spread over a DuckDB connection and cursors of it, on threads.

The data tests are ~50 small queries, each mostly planning and single-threaded operators:
one after another they leave the second core idle (B12, 20,000 events: 0.35 s run one at a
time, 0.22 s over two connections). DuckDB releases the GIL while a query runs, and a cursor
is a second connection to the same database, seeing what is committed, not `con`'s own
temporary tables: a query that reads those (the scoped tests' narrowed rows) is *pinned*
to `con` itself.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

Job = Callable[[Any], T]
"""A query (or a few) run with the connection it is handed."""


def read_workers() -> int:
    """Connections the reads are spread over: one per core, at most two (beyond two the
    small queries gained nothing measurable, and each cursor costs a connection)."""
    # The cores this process may run on (a container's CPU set), not the machine's.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(2, cores or 1))


def run_spread(
    con: Any, jobs: Sequence[Job[T]], *, pinned: Collection[int] = (), workers: int = 1
) -> list[T]:
    """Each job's result, in the order of `jobs`; jobs whose index is in `pinned` run on
    `con`, the others on `con` or one of `workers - 1` cursors of it, whichever is free.

    The first error raised by a job is raised here once every thread has stopped.
    """
    cursor_of = getattr(con, "cursor", None)
    if workers <= 1 or len(jobs) < 2 or cursor_of is None:
        return [job(con) for job in jobs]
    own = deque(i for i in range(len(jobs)) if i in pinned)
    free = deque(i for i in range(len(jobs)) if i not in pinned)
    results: dict[int, T] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def next_job(may_pin: bool) -> int | None:
        with lock:
            if errors:
                return None
            if may_pin and own:
                return own.popleft()
            return free.popleft() if free else None

    def work(connection: Any, may_pin: bool) -> None:
        while (index := next_job(may_pin)) is not None:
            try:
                results[index] = jobs[index](connection)
            except BaseException as error:
                with lock:
                    errors.append(error)
                return

    helpers = []
    for _ in range(min(workers - 1, len(free))):
        cursor = cursor_of()
        thread = threading.Thread(
            target=_closing_after, args=(work, cursor), name="simplymeet-reads", daemon=True
        )
        helpers.append(thread)
        thread.start()
    work(con, True)
    for thread in helpers:
        thread.join()
    if errors:
        raise errors[0]
    return [results[i] for i in range(len(jobs))]


def _closing_after(work: Callable[[Any, bool], None], cursor: Any) -> None:
    try:
        work(cursor, False)
    finally:
        cursor.close()
