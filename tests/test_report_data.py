"""What the report reads from the warehouse, independent of the engine that holds it."""

from __future__ import annotations

import duckdb

from simplymeet.report.data import cancellation_reasons


def _reasons_table(rows: list[tuple[str, str, int]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema analytics")
    con.execute(
        "create table analytics.cancellations_by_reason (account varchar default 'default', "
        "canceled_by varchar, cancellation_reason varchar, canceled_bookings bigint, "
        "share_of_cancellations double, late_cancellations bigint)"
    )
    con.executemany(
        "insert into analytics.cancellations_by_reason (canceled_by, cancellation_reason, "
        "canceled_bookings, share_of_cancellations, late_cancellations) values (?, ?, ?, 0.1, 0)",
        rows,
    )
    return con


def test_the_most_frequent_cancellation_reasons_come_first():
    con = _reasons_table([("host", "Emergency", 3), ("invitee", "Too busy", 7)])

    top = cancellation_reasons(con, top=1)

    assert top[["canceled_by", "cancellation_reason"]].values.tolist() == [["invitee", "Too busy"]]


def test_ties_at_the_cut_keep_who_canceled_then_the_reason_in_code_point_order():
    # PostgreSQL's collation puts 'No longer needed' before '(no reason given)'; the report
    # keeps the same rows on every engine.
    con = _reasons_table(
        [
            ("invitee", "(no reason given)", 2),
            ("host", "No longer needed", 2),
            ("host", "(no reason given)", 2),
            ("invitee", "Booked by mistake", 5),
        ]
    )

    top = cancellation_reasons(con, top=3)

    assert top[["canceled_by", "cancellation_reason"]].values.tolist() == [
        ["invitee", "Booked by mistake"],
        ["host", "(no reason given)"],
        ["host", "No longer needed"],
    ]
