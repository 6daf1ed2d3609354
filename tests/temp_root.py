"""Where the suite's temporary folders go: RAM (`/dev/shm`) where the machine has room.

Every test writes warehouses, dlt's pipeline folders and load packages; on a disk, DuckDB's
and dlt's syncs wait for their writes to reach it. The whole suite with `tmp_path` in
`/dev/shm` (tmpfs): 668 CPU-s and 362 s against 691 CPU-s and 373 s on ext4, one machine,
one session (tests/README.md). A passing test's folder is removed as it ends
(`tmp_path_retention_policy`, pyproject.toml): at any moment the folders hold the tests running
and the session's shared templates, well under 1 GB; without that a full run left ~6 GB. RAM is
used only where both the folder and the machine's free memory leave plenty beside that.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

RAM_FOLDER = Path("/dev/shm")
_GIB = 1 << 30
# The running tests' folders, the templates and failing tests' kept folders, with room to spare.
MIN_FREE_ROOM = 4 * _GIB
MIN_FREE_MEMORY = 6 * _GIB
# Documented by pytest: the root under which `tmp_path` and `tmp_path_factory` make folders.
PYTEST_TEMP_ROOT = "PYTEST_DEBUG_TEMPROOT"


def has_room(
    folder: Path = RAM_FOLDER,
    meminfo: Path = Path("/proc/meminfo"),
    min_room: int = MIN_FREE_ROOM,
    min_memory: int = MIN_FREE_MEMORY,
) -> bool:
    """Whether `folder` exists, takes a file from this user, has `min_room` bytes free, and
    the machine has `min_memory` bytes available."""
    try:
        room = os.statvfs(folder)
        memory = _available_memory(meminfo)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return room.f_bavail * room.f_frsize >= min_room and memory >= min_memory


def _available_memory(meminfo: Path) -> int:
    """MemAvailable of /proc/meminfo, in bytes."""
    for line in meminfo.read_text().splitlines():
        name, _, value = line.partition(":")
        if name == "MemAvailable":
            return int(value.split()[0]) * 1024
    raise OSError(f"no MemAvailable in {meminfo}")


def use_ram_for_test_folders(folder: Path = RAM_FOLDER) -> bool:
    """Roots pytest's temporary folders in `folder` when `has_room(folder)`: in this process
    and every process it starts (xdist's workers, a child pytest). A root someone chose
    (`PYTEST_DEBUG_TEMPROOT`, `--basetemp`) is left as it is."""
    if PYTEST_TEMP_ROOT in os.environ or not has_room(folder):
        return False
    os.environ[PYTEST_TEMP_ROOT] = str(folder)
    return True
