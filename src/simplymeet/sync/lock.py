"""Locks so two syncs of the same pipeline never overlap: a file lock per pipeline folder,
and on a server destination a lock the server holds."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simplymeet.config import ConfigError
from simplymeet.duckdb_files import refuse_another_kind_of_file

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection


class SyncLockedError(RuntimeError):
    """Another process holds the pipeline's lock."""


class WarehouseLockedError(SyncLockedError):
    """Another process (a notebook, a DuckDB shell, a stuck sync) holds the DuckDB file."""


# DuckDB's own words: `Conflicting lock is held in /usr/bin/python3 (PID 4080) by user ...`.
_DUCKDB_HOLDER = re.compile(r"Conflicting lock is held in .*?\(PID (\d+)\)")


def warehouse_holder(message: str) -> int | None:
    """The pid DuckDB names in a lock-conflict error message, else None."""
    match = _DUCKDB_HOLDER.search(message)
    return int(match.group(1)) if match else None


def check_warehouse_path(
    path: str | Path, *, create_folder: bool = False, schemas: Iterable[str] = ()
) -> None:
    """ConfigError unless `path` is a file or one can be made there; with `create_folder`,
    its folder is made as the pipelines folder is. DuckDB opens the file only when dlt
    loads, after the whole extract: a path it cannot open would fail the run then, with
    dlt's word for it (a connection error), every request already sent.

    Also refused: a file named as one of the warehouse's `schemas` (`raw.duckdb`). DuckDB
    names the database by the file, and `raw.events` then names a schema and a database
    alike: every load fails as ambiguous."""
    path = Path(path)
    choose = "choose another: --db or [warehouse] duckdb_path"
    clash = path.stem.casefold()
    if any(clash == schema.casefold() for schema in schemas):
        raise ConfigError(
            f"{path}: DuckDB would name this database {path.stem!r} like the schema "
            f"{path.stem!r} in it ({choose})"
        )
    if path.is_file():
        return
    if path.exists():
        raise ConfigError(f"{path} is not a file ({choose})")
    folder = path.parent
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"{path}: {existing} is not a folder ({choose})")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{path}: the folder {existing} cannot be written to ({choose})")
    if create_folder:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{path}: its folder cannot be made: {exc} ({choose})") from None
    _check_file_can_be_made(path, folder if folder.is_dir() else existing, choose)


def check_pipelines_dir(path: str | Path) -> None:
    """ConfigError unless `path` is a folder files can be made in, or one can be made there
    (nothing is made here). dlt would fail on it with an OSError naming a file inside it."""
    path = Path(path)
    choose = "choose another: [warehouse] pipelines_dir"
    what = f"[warehouse] pipelines_dir {path}"
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{what} is not a folder ({choose})")
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"{what}: {existing} is not a folder ({choose})")
    _check_file_can_be_made(what, existing, choose)


def _check_file_can_be_made(what: str | Path, folder: Path, choose: str) -> None:
    """ConfigError unless a file can be made in `folder`: `os.access` says yes to root
    everywhere, and /proc or a read-only mount refuse a file whatever the permissions."""
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise ConfigError(
            f"{what}: no file can be made in {folder} ({exc.strerror or exc}) ({choose})"
        ) from None


def check_warehouse_free(path: str | Path) -> None:
    """Raise WarehouseLockedError naming the holder's pid if another process has `path` open.

    Checked before the first request, so a held file costs no API traffic and no extract
    whose load could not land anyway.
    """
    path = Path(path)
    if path.is_file():
        _open_for_writing(path).close()


def _open_for_writing(path: Path) -> DuckDBPyConnection:
    """A read-write connection to `path`; WarehouseLockedError when another process holds it."""
    import duckdb

    refuse_another_kind_of_file(path)
    try:
        return duckdb.connect(str(path.resolve()))
    except duckdb.Error as exc:
        holder = warehouse_holder(str(exc))
        if holder is None and "not a valid DuckDB database file" in str(exc):
            # A wrong --db or duckdb_path is the user's input: exit 2, as for any setting.
            raise ConfigError(
                f"{path} is not a DuckDB file (choose another: --db or [warehouse] duckdb_path)"
            ) from None
        if holder is None:
            raise
        raise WarehouseLockedError(
            f"the warehouse {path} is held by another process (pid {holder}); "
            "close that process or wait for it, then run again"
        ) from None


@contextmanager
def warehouse_kept_open(
    path: str | Path | None, *, hand_over: bool = False
) -> Iterator[DuckDBPyConnection | None]:
    """Keep the DuckDB file at `path` open in this process for the block; yield the connection.

    Yields None when `path` is None (another destination) or no file is there yet. Opening it
    is also `check_warehouse_free`'s check: WarehouseLockedError when another process holds it.

    DuckDB keeps one database per file per process while any connection to it is open, so
    the ten or so connections dlt and the sync open and close in a block reuse it instead of
    reading the catalog on each open and checkpointing on each close (a third of a small
    sync's CPU). Held only around the blocks that write: while the extract waits on the API,
    an analyst's notebook or `simplymeet sql` can still open the file.

    `hand_over`: a block that ends well leaves the connection open inside
    `checkpoints.hand_overs`, the settings the block changed put back (the model build that
    follows reuses the database, and no checkpoint runs in between).
    """
    if path is None or not Path(path).is_file():
        yield None
        return
    from simplymeet import checkpoints

    con = _open_for_writing(Path(path))
    try:
        fresh = checkpoints.global_settings(con) if hand_over else {}
        yield con
    except BaseException:
        _close(con)
        raise
    try:
        kept = hand_over and checkpoints.hand_over(con, fresh)
    except BaseException:
        _close(con)
        raise
    if not kept:
        _close(con)


def _close(con: DuckDBPyConnection) -> None:
    """Close `con` once no checkpoint runs on a cursor of it (`checkpoints.settle`)."""
    from simplymeet import checkpoints

    try:
        checkpoints.settle()
    finally:
        con.close()


def _lock_path(directory: Path, pipeline_name: str) -> Path:
    return directory / f"{pipeline_name}.lock"


def pipeline_lock_free(directory: str | Path, pipeline_name: str) -> bool:
    """Whether no process holds `pipeline_lock` of this pipeline now (creates nothing)."""
    path = _lock_path(Path(directory), pipeline_name)
    try:
        handle = path.open("r")
    except FileNotFoundError:
        return True
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return True


LOCK_APPLICATION = "simplymeet sync lock"
"""The `application_name` of the connection holding `server_lock` (`pg_stat_activity`)."""


@contextmanager
def server_lock(pipeline: Any) -> Iterator[None]:
    """On PostgreSQL, hold a session advisory lock on the pipeline's dataset and name for the
    block; elsewhere nothing (a DuckDB file is the process's own).

    `pipeline_lock` keeps two syncs of one pipeline folder apart; two folders (two runners,
    two machines) syncing one pipeline into one server dataset each deleted, as a list's old
    rows, the rows the other had just loaded: one run ended 0 with the users, event types
    and polls empty. The server releases the lock when the holder's connection ends, killed
    or not (behind PgBouncer, only in session pooling). Told by the destination's type, so a
    PostgreSQL destination configured under a name of its own is locked too.
    """
    if pipeline.destination.destination_type != "dlt.destinations.postgres":
        yield
        return
    import psycopg2

    name = f"simplymeet sync {pipeline.dataset_name}.{pipeline.pipeline_name}"
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    credentials = pipeline.destination_client().config.credentials
    con = psycopg2.connect(
        credentials.to_native_representation(),
        # A runner that dies without closing its connection (its host lost) frees the lock
        # within about a minute: the server probes this session's peer, not after its
        # default two hours of TCP silence (and this side notices a server gone alike).
        options="-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3",
        keepalives=1,
        keepalives_idle=30,
        keepalives_interval=10,
        keepalives_count=3,
        application_name=LOCK_APPLICATION,
    )
    try:
        con.autocommit = True  # the lock is the session's: no transaction held open
        with con.cursor() as cursor:
            cursor.execute("select pg_try_advisory_lock(%s)", (key,))
            [taken] = cursor.fetchone() or (False,)
        if not taken:
            raise SyncLockedError(
                f"another sync of pipeline {pipeline.pipeline_name!r} into dataset "
                f"{pipeline.dataset_name!r} is running (it holds the server's lock; on "
                "another machine, or from another pipelines folder)"
            )
        yield
    finally:
        # Ending the session releases the lock: a connection the server or the network
        # dropped while the run went on must not fail a run that loaded.
        with contextlib.suppress(Exception):
            con.close()


@contextmanager
def pipeline_lock(directory: str | Path, pipeline_name: str) -> Iterator[Path]:
    """Hold an exclusive, non-blocking lock on `<directory>/<pipeline_name>.lock`.

    An OS file lock rather than a pid file: the kernel releases it when the holder dies, so a
    sync killed with SIGKILL never leaves a stale lock behind.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = _lock_path(directory, pipeline_name)
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
