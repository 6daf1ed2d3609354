"""DuckDB on one thread for a block, its own setting put back after."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def one_thread(con: Any) -> Iterator[None]:
    """Run the block with `SET threads = 1` on `con` (a DuckDB connection; the setting is the
    database's, so every connection to the same file in this process shares it), and put the
    value it had back afterwards, whatever the block raised."""
    [(before,)] = con.execute("select current_setting('threads')").fetchall()
    con.execute("set threads = 1")
    try:
        yield
    finally:
        con.execute(f"set threads = {int(before)}")
