"""Garbage collection of the `simplymeet` program: what a command imported is never collected."""

from __future__ import annotations

import gc

_OWN_PROCESS = [False]


def own_process() -> None:
    """Say this process is the `simplymeet` program itself (its entry point, `main`, does)."""
    _OWN_PROCESS[0] = True


def freeze_imported() -> None:
    """Exempt every object alive now from garbage collection, in the program's own process.

    A command calls it once its heavy imports are done. dlt, DuckDB, pyarrow and pandas leave
    ~a million objects that live until exit, and every full collection walked them all again:
    `simplymeet sync` (2,000 events, models built) spent 5.8 CPU-s with them in reach and 5.1
    with them frozen (bench/README.md). Only there: a command invoked in someone else's
    process (a test's `CliRunner`, an orchestrator) must leave that process's collection
    alone, or whatever garbage it held at that moment would never be freed.
    """
    if _OWN_PROCESS[0]:
        gc.freeze()
