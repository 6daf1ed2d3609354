"""A DuckDB setting changed for a block is put back after it, and a block's own error is never
hidden by putting it back (a full disk invalidates the database, and every statement after it
fails with "database has been invalidated", which once replaced the cause in the message)."""

from __future__ import annotations

import duckdb
import pytest

from simplymeet.duckdb_threads import one_thread


def test_one_thread_puts_the_thread_count_back():
    con = duckdb.connect()
    [(before,)] = con.execute("select current_setting('threads')").fetchall()
    with one_thread(con):
        assert con.execute("select current_setting('threads')").fetchall() == [(1,)]
    assert con.execute("select current_setting('threads')").fetchall() == [(before,)]


def test_an_error_in_the_block_is_raised_even_when_the_setting_cannot_be_put_back():
    con = duckdb.connect()
    with pytest.raises(RuntimeError, match="what broke it"), one_thread(con):
        con.close()  # every later statement on it fails, as on an invalidated database
        raise RuntimeError("what broke it")
