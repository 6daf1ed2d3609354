"""Garbage collection of the `simplymeet` program: what a command imported is never collected,
and nothing is freed one object at a time when the program ends."""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
from typing import NoReturn

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


def exit_process(code: object) -> NoReturn:
    """End the program's own process as `SystemExit(code)` would, without the teardown.

    Exit handlers run and the output is flushed; then the process ends without the
    interpreter freeing each of the million objects dlt, DuckDB and pyarrow left (0.2 s of
    every `simplymeet sync`, measured from process start to exit). The warehouse needs
    nothing from that teardown: every write is committed, every connection closed, by the
    time a command returns. While another non-daemon thread runs, the interpreter's own exit
    waits for it instead.
    """
    others = [
        thread
        for thread in threading.enumerate()
        if thread is not threading.current_thread() and not thread.daemon
    ]
    if others:
        raise SystemExit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()  # logging's shutdown among them
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            status = status or 1  # a closed pipe: what the interpreter's own flush would say
    os._exit(status)
