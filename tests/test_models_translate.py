"""What the translation to PostgreSQL does to a model's plan, beyond keeping its meaning."""

from __future__ import annotations

from simplymeet.models.translate import translate

MODEL = """
with days as (select * from analytics.int_utilization_days),
booked as (select host_user_id, date_local from days where offered_minutes_source = 'snapshot')
select * from days join booked using (host_user_id, date_local)
"""


def test_an_import_cte_is_read_in_place_on_postgres_keeping_the_tables_statistics():
    sql = translate(MODEL, dialect="postgres")

    assert '"days" AS NOT MATERIALIZED (SELECT * FROM "analytics"."int_utilization_days")' in sql


def test_a_cte_that_computes_something_is_left_to_the_planner():
    sql = translate(MODEL, dialect="postgres")

    assert '"booked" AS (SELECT' in sql


def test_duckdb_sql_keeps_its_ctes_as_written():
    assert "MATERIALIZED" not in translate(MODEL).upper()
