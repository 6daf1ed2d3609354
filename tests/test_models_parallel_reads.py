"""Read-only queries spread over a DuckDB connection and its cursors give what running them
one after another on the connection gives."""

from __future__ import annotations

import threading

import duckdb
import pytest

from simplymeet.models.parallel_reads import run_spread


@pytest.fixture
def con(tmp_path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    connection.execute("create table numbers as select range as n from range(1000)")
    yield connection
    connection.close()


def _sum_below(limit: int):
    return lambda c: c.execute(f"select sum(n) from numbers where n < {limit}").fetchone()[0]


def test_results_come_back_in_the_order_of_the_jobs(con):
    jobs = [_sum_below(limit) for limit in range(1, 40)]

    spread = run_spread(con, jobs, workers=2)

    assert spread == [job(con) for job in jobs]


def test_jobs_run_on_more_than_one_connection(con):
    seen: set[int] = set()
    lock = threading.Lock()
    both = threading.Barrier(2, timeout=10)

    def job(c):
        with lock:
            seen.add(id(c))
        both.wait()  # each of two jobs waits for the other: only two connections finish
        return 1

    assert run_spread(con, [job, job], workers=2) == [1, 1]
    assert len(seen) == 2


def test_a_pinned_job_reads_the_connections_own_temporary_tables(con):
    con.execute("create temp table narrowed as select 7 as n")
    reads_temp = lambda c: c.execute("select n from temp.main.narrowed").fetchone()[0]  # noqa: E731
    jobs = [_sum_below(10), reads_temp, _sum_below(20), reads_temp]

    assert run_spread(con, jobs, pinned={1, 3}, workers=2) == [45, 7, 190, 7]


def test_a_cursor_does_not_see_the_connections_temporary_tables(con):
    """Why jobs reading them are pinned."""
    con.execute("create temp table narrowed as select 7 as n")
    cursor = con.cursor()

    with pytest.raises(duckdb.CatalogException):
        cursor.execute("select n from temp.main.narrowed")


def test_an_error_in_a_job_is_raised_once_every_thread_has_stopped(con):
    failing = lambda c: c.execute("select * from no_such_table")  # noqa: E731
    jobs = [_sum_below(5), failing, _sum_below(6), _sum_below(7)]

    with pytest.raises(duckdb.CatalogException):
        run_spread(con, jobs, workers=2)
    assert not any(t.name == "simplymeet-reads" for t in threading.enumerate())


def test_one_worker_runs_every_job_on_the_connection_itself(con):
    used: list[object] = []

    def job(c):
        used.append(c)
        return 0

    run_spread(con, [job, job, job], workers=1)

    assert used == [con, con, con]
