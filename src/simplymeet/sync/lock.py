"""A per-pipeline lock so two syncs of the same pipeline never overlap."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SyncLockedError(RuntimeError):
    """Another process holds the pipeline's lock."""


@contextmanager
def pipeline_lock(directory: str | Path, pipeline_name: str) -> Iterator[Path]:
    """Hold an exclusive, non-blocking lock on `<directory>/<pipeline_name>.lock`.

    An OS file lock rather than a pid file: the kernel releases it when the holder dies, so a
    sync killed with SIGKILL never leaves a stale lock behind.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{pipeline_name}.lock"
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise SyncLockedError(
                f"another sync of pipeline {pipeline_name!r} is running (pid {holder})"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield path
    finally:
        handle.close()
