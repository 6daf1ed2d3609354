"""DuckDB settings for a block (one thread), each put back after."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def put_back_after(con: Any, statement: str) -> Iterator[None]:
    """Run `statement` (a `SET` restoring a setting) on `con` once the block ends.

    When the block raised, a failure of `statement` is not raised over it: a fatal error (a
    full disk) invalidates the database, and every statement after it fails with "database
    has been invalidated", which would hide what broke it.
    """
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            con.execute(statement)
        raise
    con.execute(statement)


@contextmanager
def one_thread(con: Any) -> Iterator[None]:
    """Run the block with `SET threads = 1` on `con` (a DuckDB connection; the setting is the
    database's, so every connection to the same file in this process shares it), and put the
    value it had back afterwards, whatever the block raised."""
    [(before,)] = con.execute("select current_setting('threads')").fetchall()
    con.execute("set threads = 1")
    with put_back_after(con, f"set threads = {int(before)}"):
        yield
