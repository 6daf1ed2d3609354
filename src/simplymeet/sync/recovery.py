"""Keeping the pipeline's state (the events cursor) in step with what the warehouse holds.

dlt keeps the state in the pipeline folder and loads a copy into the warehouse
(`_dlt_pipeline_state`) with every package. The local copy is advanced at extract time, so it
can run ahead of the warehouse, or be lost:

- the pipeline folder was deleted or the sync moved machines: there is no local state, and
  without it every event would be read again;
- pending load packages were dropped (`dlt pipeline … drop-pending-packages`, or the folder's
  `load/` emptied by hand): the local cursor already covers rows that never reached the
  warehouse, and they would never be read again;
- the warehouse was restored from a backup: it holds less than the local cursor says;
- the warehouse was lost (or a new dataset is used): it holds no state at all;
- an upgrade from a version before accounts left packages pending: their rows carry no
  account; they are dropped and read again (`pending_before_accounts`);
- the folder's state or schema file is damaged (emptied by a crash or a full disk as it was
  written): dlt cannot open the pipeline. The folder is moved aside, kept, and the run goes
  on as for a lost folder (`move_damaged_folder_aside`).

In each case the warehouse's own copy is the truth: it is the state loaded together with the
rows it describes. When no packages are pending and the local state's version differs from
the newest one the warehouse holds, the local state is replaced by the warehouse's (or
dropped, when the warehouse holds none), so the next extract resumes exactly from what was
loaded (re-reading rows is harmless: events merge on id).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import dlt
from dlt.common.schema.utils import has_table_seen_data

from simplymeet.landing_schema import ACCOUNT
from simplymeet.sync.lock import pipeline_lock_free

if TYPE_CHECKING:
    from dlt.common.destination.client import JobClientBase

log = logging.getLogger(__name__)

RESTORED_MISSING = "pipeline state restored from the warehouse (the pipeline folder was new)"
DROPPED = (
    "pipeline state dropped: the warehouse holds none (new or lost), so events are read in full"
)
REWOUND = (
    "pipeline state rewound to the warehouse's (local state was ahead of what was loaded: "
    "dropped packages or a restored backup); what it covered is read again"
)


class NoStateSync(Exception):
    """The destination keeps no pipeline state (dlt cannot restore from it)."""


def loaded_state_version(pipeline: dlt.Pipeline, client: JobClientBase | None = None) -> int | None:
    """The version of the newest pipeline state the warehouse holds; None if it holds none.

    `client`: an open job client of the pipeline's destination to ask (default: one is opened).
    Raises `NoStateSync` for a destination that cannot hold state at all.
    """
    from dlt.common.destination.client import WithStateSync
    from dlt.common.destination.exceptions import DestinationUndefinedEntity

    try:
        with pipeline.destination_client() if client is None else nullcontext(client) as opened:
            if not isinstance(opened, WithStateSync):
                raise NoStateSync(pipeline.destination.destination_name)
            stored = opened.get_stored_state(pipeline.pipeline_name)
    except DestinationUndefinedEntity:
        return None
    return int(stored.version) if stored else None


def align_state_with_warehouse(
    pipeline: dlt.Pipeline, client: JobClientBase | None = None
) -> tuple[dlt.Pipeline, str | None]:
    """Make the local state the warehouse's when they disagree; returns what was done, if any.

    Pending packages carry state the warehouse has not seen yet: they are loaded first by the
    runner, so nothing is done while any exist. `client` as in `loaded_state_version`.
    """
    if pipeline.has_pending_data:
        return pipeline, None
    try:
        loaded = loaded_state_version(pipeline, client)
    except NoStateSync:
        return pipeline, None
    if loaded is None:
        if pipeline.first_run:
            return pipeline, None
        # A cursor with no warehouse behind it (the file was deleted, or a new dataset):
        # keeping it would skip every event older than it.
        return pipeline.drop(), DROPPED
    local = int(pipeline.state.get("_state_version", 0))
    if pipeline.first_run or local < loaded:
        pipeline.sync_destination()
        return pipeline, RESTORED_MISSING
    if local > loaded:
        log.warning("local pipeline state v%s is ahead of the warehouse's v%s", local, loaded)
        pipeline = pipeline.drop()
        pipeline.sync_destination()
        return pipeline, REWOUND
    return pipeline, None


def pending_before_accounts(pipeline: dlt.Pipeline) -> bool:
    """Whether the packages pending were extracted by a version before accounts: their rows
    carry no `account`, so loaded into a migrated warehouse they would land beside the rows
    they update, under no account, where no merge key matches them. Such packages are
    dropped (`Pipeline.abort_packages`) and what they held is read again from the API."""
    if not pipeline.has_pending_data or not pipeline.default_schema_name:
        return False
    tables = pipeline.default_schema.tables
    # Judged by the events where they were synced: a table no run has loaded since (a
    # resource left out of `[sync] resources`, rows set aside before accounts) keeps its
    # old columns in dlt's schema, and would have every later package dropped.
    judged = [tables["events"]] if "events" in tables else list(tables.values())
    return any(
        ACCOUNT not in table.get("columns", {})
        for table in judged
        if not table["name"].startswith("_dlt") and has_table_seen_data(table)
    )


class DamagedPipelineFolder(Exception):
    """dlt could not read the pipeline folder's state or schema (a file that is not JSON)."""

    def __init__(self, folder: Path, cause: BaseException) -> None:
        super().__init__(
            f"the pipeline folder {folder} is damaged ({cause}); move it aside and run "
            "`simplymeet sync`: it restores the state from the warehouse"
        )
        self.folder = folder


@contextmanager
def undone_if_refused(pipelines_dir: Path, name: str) -> Iterator[None]:
    """Remove what of the pipelines folder, the pipeline's folder and its lock file the block
    created when it ends in a refusal of the configuration (exit code 2): README promises
    such a run wrote nothing, and a folder left behind would be taken for a pipeline's."""
    absolute = pipelines_dir.absolute()
    # With the folders above it not there yet (`.simplymeet/` of `.simplymeet/pipelines`).
    owned = [*reversed(absolute.parents), absolute, absolute / name, absolute / f"{name}.lock"]
    made = [path for path in owned if not path.exists()]
    # dlt rewrites an existing pipeline's state as it opens it for another destination
    # (one then refused for its missing credentials): the next run found the local state
    # ahead of the warehouse's. Its own files (not its load packages) are put back, unless
    # a run holds the pipeline's lock: what it saves meanwhile is its own.
    kept = _top_files(absolute / name) if _lock_free(absolute, name) else None
    try:
        yield
    except Exception as exc:
        from simplymeet.cli.errors import EXIT_USAGE, exit_code_for

        refused = exit_code_for(exc)[0] == EXIT_USAGE
        if kept is not None and refused and _lock_free(absolute, name):
            _put_back(absolute / name, kept)
        if made and refused:
            for path in reversed(made):
                if path == absolute / name:
                    shutil.rmtree(path, ignore_errors=True)
                elif path.is_dir():
                    with contextlib.suppress(OSError):  # not empty: another's files in it
                        path.rmdir()
                else:
                    path.unlink(missing_ok=True)
        raise


def _lock_free(pipelines_dir: Path, name: str) -> bool:
    """`pipeline_lock_free`, False where the folder cannot hold the lock (a file named as
    the pipelines folder: the run refuses it itself)."""
    try:
        return pipeline_lock_free(pipelines_dir, name)
    except OSError:
        return False


def _top_files(folder: Path) -> dict[Path, bytes] | None:
    """The files directly in `folder` and their bytes; None where it is no folder."""
    if not folder.is_dir():
        return None
    return {path: path.read_bytes() for path in folder.iterdir() if path.is_file()}


def _put_back(folder: Path, kept: dict[Path, bytes]) -> None:
    """`folder`'s own files as `_top_files` found them: changed ones rewritten, new ones
    removed."""
    for path in _top_files(folder) or {}:
        if path not in kept:
            path.unlink(missing_ok=True)
    for path, content in kept.items():
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)


def opened_pipeline(
    open_in: Callable[[Path], dlt.Pipeline], pipelines_dir: Path, name: str
) -> dlt.Pipeline:
    """`open_in(pipelines_dir)`, raising `DamagedPipelineFolder` where dlt cannot read a file
    of the pipeline's folder (a state or schema that is not JSON or not UTF-8, a state that is
    JSON but no dlt state (`{}`, `[]`, `null`), a version file emptied: dlt names none of
    them): the error is the folder's when the same pipeline opens in an empty pipelines
    folder."""
    try:
        pipeline = open_in(pipelines_dir)
        # dlt reads its packages' folders (and their version files) only when asked.
        _ = pipeline.has_pending_data
        return pipeline
    # JSON, UTF-8 and dlt's version checks raise a ValueError; a state of another shape a
    # KeyError (`{}`), a TypeError (`null`) or an AttributeError (`[]`).
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        folder = pipelines_dir / name
        if not folder.exists() or not _opens_elsewhere(open_in):
            raise
        raise DamagedPipelineFolder(folder, error) from error


def _opens_elsewhere(open_in: Callable[[Path], dlt.Pipeline]) -> bool:
    with tempfile.TemporaryDirectory() as empty:
        try:
            open_in(Path(empty))
        except Exception:
            return False
    return True


def move_damaged_folder_aside(damaged: DamagedPipelineFolder) -> Path:
    """Rename the damaged folder beside itself (kept for a look, never deleted); the caller
    holds the pipeline's lock, so no run is writing it."""
    aside = damaged.folder.with_name(f"{damaged.folder.name}.damaged-{int(time.time())}")
    damaged.folder.rename(aside)
    log.warning(
        "the pipeline folder %s could not be read; moved to %s, and its state is restored "
        "from the warehouse",
        damaged.folder,
        aside,
    )
    return aside


def dropped_tables(pipeline: dlt.Pipeline, existing: set[str], names: Iterable[str]) -> list[str]:
    """Of `names`, the tables dlt's schema says data was loaded into that the dataset no
    longer holds (dropped by hand): dlt, sure they exist, would create them again only for
    the rows of the next load, and an incremental read would leave out all the rest."""
    if not pipeline.default_schema_name:
        return []
    tables = pipeline.default_schema.tables
    return [
        name
        for name in names
        if name not in existing and name in tables and has_table_seen_data(tables[name])
    ]
