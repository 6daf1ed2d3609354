"""Open the warehouse: accept a DuckDB connection or a path to the DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from simplymeet.models.errors import ModelError

Warehouse = duckdb.DuckDBPyConnection | str | Path
"""A DuckDB connection, or the path of a DuckDB file."""


@contextmanager
def connect(
    con_or_path: Warehouse, *, read_only: bool = False, must_exist: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection: the one given, or a new one to the file (closed afterwards)."""
    if isinstance(con_or_path, duckdb.DuckDBPyConnection):
        yield con_or_path
        return
    path = Path(con_or_path)
    if must_exist and str(path) != ":memory:" and not path.exists():
        raise ModelError(f"no DuckDB warehouse at {path} (run `simplymeet sync` first)")
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()
