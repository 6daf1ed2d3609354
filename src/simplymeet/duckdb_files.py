"""A DuckDB database file told from any other before DuckDB opens it.

DuckDB opens more than its own files: handed a SQLite database it loads (and, with network,
downloads and installs) its `sqlite_scanner` extension and reads or writes that file. A path a
user gave as the warehouse is checked here first, so another kind of file is refused as the
wrong input it is.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from simplymeet.config import ConfigError

_MAGIC_AT = 8
_MAGIC = b"DUCK"
"""A DuckDB database file's magic bytes, after the 8-byte checksum of its main header."""


def is_duckdb_file(path: str | Path) -> bool:
    """Whether the file at `path` is a DuckDB database (False when it cannot be read)."""
    try:
        with Path(path).open("rb") as handle:
            head = handle.read(_MAGIC_AT + len(_MAGIC))
    except OSError:
        return False
    return head[_MAGIC_AT:] == _MAGIC


def another_kind_of_file(path: str | Path) -> bool:
    """Whether `path` is something other than a DuckDB database: a file with other content, or
    a pipe, a device or a socket (DuckDB would wait on reading one for ever). An empty or a
    missing file is not (DuckDB makes a database there), nor a folder (each command names
    that mistake in its own words)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    if stat.S_ISDIR(mode):
        return False
    if not stat.S_ISREG(mode):
        return True
    return os.path.getsize(path) > 0 and not is_duckdb_file(path)


def is_empty_file(path: str | Path) -> bool:
    """Whether `path` is a regular file holding no byte: DuckDB makes a database in one it
    opens to write, and cannot open one to read."""
    path = Path(path)
    return path.is_file() and path.stat().st_size == 0


class NotADuckDBFile(ConfigError):
    """A warehouse path naming a file that is no DuckDB database: the user's input (exit 2)."""


def refuse_another_kind_of_file(path: str | Path) -> None:
    """Raise NotADuckDBFile when `path` is a file with content that is no DuckDB database."""
    if another_kind_of_file(path):
        raise NotADuckDBFile(
            f"{path} is not a DuckDB file (choose another: --db or [warehouse] duckdb_path)"
        )
