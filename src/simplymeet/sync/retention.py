"""What the sync keeps on disk besides the warehouse: only what recovery needs.

dlt keeps every load package it has loaded under `<pipelines_dir>/<pipeline>/load/loaded`
(the rows themselves: invitee names and e-mails), and a run killed while extracting leaves
its half-written package under `normalize/<id>/`. Neither is needed once the rows are in the
warehouse (loaded) or never were committed (a dead extract: the next run re-reads it, since
the cursor only moves with a loaded package). Kept: packages that are extracted or
normalized but not yet loaded (`normalize/extracted`, `load/normalized`, `load/new`), which
the next run loads first, the schema, and dlt's state (cursors, no personal data).

One more leftover is not pending: a run killed after dlt's normalize moved a package to
`load/normalized` (one rename: whole) and before it deleted the extracted copy leaves the
package in both; dlt would normalize the copy again and fail to move it onto the first, on
every run (`drop_extracts_already_normalized`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dlt

# dlt's storage layout (dlt.common.storages): folders holding packages still to be loaded.
_LOADED = ("load", "loaded")
_NORMALIZED = ("load", "normalized")
_COMMITTED_EXTRACTS = "extracted"


@dataclass
class Pruned:
    """What one pass removed."""

    loaded_packages: int = 0
    dead_extracts: int = 0


def prune_pipeline_storage(pipeline: dlt.Pipeline) -> Pruned:
    """Delete completed load packages and dead extracts; leave pending packages alone.

    Call it only while holding the pipeline's lock: a running extract of the same pipeline
    writes to `normalize/<id>/` too.
    """
    root = Path(pipeline.working_dir)
    pruned = Pruned()
    loaded = root.joinpath(*_LOADED)
    for package in _subfolders(loaded):
        shutil.rmtree(package, ignore_errors=True)
        pruned.loaded_packages += 1
    for folder in _subfolders(root / "normalize"):
        if folder.name != _COMMITTED_EXTRACTS:
            shutil.rmtree(folder, ignore_errors=True)
            pruned.dead_extracts += 1
    return pruned


def drop_extracts_already_normalized(pipeline: dlt.Pipeline) -> int:
    """Delete extracted packages whose normalized package exists (normalized or loaded);
    return how many. Call it only while holding the pipeline's lock, before dlt normalizes."""
    root = Path(pipeline.working_dir)
    done = {p.name for stage in (_NORMALIZED, _LOADED) for p in _subfolders(root.joinpath(*stage))}
    dropped = 0
    for package in _subfolders(root / "normalize" / _COMMITTED_EXTRACTS):
        if package.name in done:
            shutil.rmtree(package, ignore_errors=True)
            dropped += 1
    return dropped


def has_pending_packages(folder: Path) -> bool:
    """Whether the pipeline folder `folder` holds a package extracted or normalized and not
    yet loaded (read from disk: no dlt import, no pipeline opened)."""
    stores = (folder / "normalize" / _COMMITTED_EXTRACTS, folder.joinpath(*_NORMALIZED))
    return any(_subfolders(store) for store in stores)


def _subfolders(path: Path) -> list[Path]:
    if not path.is_dir():
        return []
    return [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
