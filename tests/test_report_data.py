"""What the report reads from the warehouse, independent of the engine that holds it."""

from __future__ import annotations

import duckdb

from simplymeet.report.data import cancellation_reasons, no_show_rates, utilization_by_host


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


def _host_days(rows: list[tuple[int | None, str | None, int, int]]) -> duckdb.DuckDBPyConnection:
    """analytics.utilization_host_daily of past days: (host id, name, booked, booked in
    offered) each over 480 offered minutes."""
    con = duckdb.connect()
    con.execute("create schema analytics")
    con.execute(
        "create table analytics.utilization_host_daily (account varchar default 'default', "
        "host_user_id bigint, host_full_name varchar, booked_minutes double, "
        "booked_in_offered_minutes double, booked_outside_offered_minutes double, "
        "offered_minutes double, offered_minutes_source varchar, is_past_day boolean)"
    )
    # One account: what the report asks to know whether to label rows by account.
    con.execute("create table analytics.fct_events as select 'default' as account")
    con.executemany(
        "insert into analytics.utilization_host_daily (host_user_id, host_full_name, "
        "booked_minutes, booked_in_offered_minutes, booked_outside_offered_minutes, "
        "offered_minutes, offered_minutes_source, is_past_day) "
        "values (?, ?, ?, ?, ?, 480, 'working_hours', true)",
        [(host, name, booked, inside, booked - inside) for host, name, booked, inside in rows],
    )
    return con


def test_a_host_without_a_name_is_named_by_id_and_bookings_of_no_host_as_such():
    con = _host_days([(4, None, 60, 60), (None, None, 30, 30), (7, "Ada", 90, 90)])

    names = set(utilization_by_host(con)["host_full_name"])

    assert names == {"user 4", "(no host)", "Ada"}


def test_utilization_by_host_carries_every_booked_minute_beside_those_inside_offered_time():
    con = _host_days([(7, "Bob", 360, 30)])

    [row] = utilization_by_host(con).itertuples(index=False)

    assert (row.booked_minutes, row.booked_in_offered_minutes) == (360, 30)
    assert row.utilization == 30 / 480


def _event_type_rates(
    rows: list[tuple[int | None, str | None, str | None]],
) -> duckdb.DuckDBPyConnection:
    """analytics.no_show_rates by event type: (type id, its name, its owner's name), each with
    one no-show of four bookings."""
    con = duckdb.connect()
    con.execute("create schema analytics")
    con.execute(
        "create table analytics.no_show_rates (account varchar default 'default', "
        "breakdown varchar default 'event_type', host_user_id bigint, host_full_name varchar, "
        "event_type_id bigint, event_type_name varchar, event_type_owner_user_id bigint, "
        "event_type_owner_full_name varchar, week_start_local date, month_start_local date, "
        "eligible_bookings bigint default 4, no_shows bigint default 1, "
        "no_show_rate double default 0.25, no_show_rate_ci_low double default 0.05, "
        "no_show_rate_ci_high double default 0.7, past_bookings bigint default 4, "
        "canceled_bookings bigint default 0)"
    )
    con.execute("create table analytics.fct_events as select 'default' as account")
    con.executemany(
        "insert into analytics.no_show_rates (event_type_id, event_type_name, "
        "event_type_owner_full_name) values (?, ?, ?)",
        rows,
    )
    return con


def test_an_event_type_without_a_name_or_no_event_type_is_labelled_not_left_blank():
    con = _event_type_rates([(3, "Intro", "Ada"), (14, None, None), (None, None, None)])

    labels = set(no_show_rates(con, "event_type")["event_type_label"])

    assert labels == {"Intro · #3 · Ada", "event type #14", "(no event type)"}
