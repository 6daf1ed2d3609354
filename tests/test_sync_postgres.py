"""Other dlt destinations work by configuration: the same sync into PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from simplymeet.emulator import start_emulator
from simplymeet.sync import build_and_test_models
from simplymeet.sync import tables as t
from tests.postgres_server import postgres_url
from tests.sync_support import client_for, live_event_dtos, run_sync, settings_for

pytestmark = pytest.mark.usefixtures("postgres_available")


@pytest.fixture(scope="module")
def postgres(tmp_path_factory):
    with postgres_url() as url:
        yield url


def _query(url: str, sql: str, parameters: tuple = ()) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(url) as con, con.cursor() as cur:
        cur.execute(sql, parameters or None)
        return cur.fetchall()


def test_sync_to_postgres_lands_every_event_and_marks_deletes(tmp_path, postgres, monkeypatch):
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres)
    with start_emulator(seed=5, events=400) as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, destination="postgres")
        victim = emulator.store.all_event_ids()[3]
        with client_for(emulator) as client:
            client.event_delete(victim)
        run_sync(settings, emulator, destination="postgres", reconcile=True)
        served = {row["id"] for row in live_event_dtos(emulator)}
    live = _query(postgres, "select id from raw.events where deleted_at is null")
    assert {row[0] for row in live} == served
    assert _query(postgres, f"select count(*) from raw.events where id = {victim}") == [(1,)]


def test_postgres_columns_are_typed_like_duckdb(tmp_path, postgres, monkeypatch):
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres)
    with start_emulator(seed=5, events=50) as emulator:
        run_sync(
            settings_for(tmp_path, emulator), emulator, destination="postgres", dataset="typed"
        )
    types = dict(
        _query(
            postgres,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'typed' and table_name = 'events'",
        )
    )
    assert types["updated_at"] == "timestamp with time zone"
    assert types["payment_amount"] == "numeric"
    assert types["id"] == "bigint"
    assert all(col.name in types for col in t.EVENTS.columns)


def test_stale_child_rows_are_pruned_in_postgres(tmp_path, postgres, monkeypatch):
    import psycopg2

    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres)
    with start_emulator(seed=6, events=50) as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, destination="postgres", dataset="pruned")
        event_id = emulator.store.all_event_ids()[0]
        with psycopg2.connect(postgres) as con, con.cursor() as cur:
            cur.execute(
                "insert into pruned.events__participants "
                "(account, event_id, id, email, _synced_at) "
                "values ('default', %s, 999999999, 'gone@example.com', '2020-01-01')",
                (event_id,),
            )
        with client_for(emulator) as client:
            client.event_notes(event_id, notes="re-sync me")
        run_sync(settings, emulator, destination="postgres", dataset="pruned")
    rows = _query(postgres, "select count(*) from pruned.events__participants where id = 999999999")
    assert rows == [(0,)]


def test_postgres_amounts_of_an_older_warehouse_are_widened_under_the_model_views(
    tmp_path, postgres, monkeypatch
):
    # An older warehouse: amounts DECIMAL(18, 2), model views built over them (PostgreSQL
    # refuses to alter a column a view reads).
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres)
    # History ending a day ago: seeded stamps at today's midnight sit in the cursor's edge
    # for the first minutes of a UTC day, and the second sync loaded every row again then.
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    with start_emulator(seed=5, events=60, anchor=yesterday) as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, destination="postgres", dataset="cents")
        for table, column in (("events", "payment_amount"), ("event_types", "amount")):
            _execute(
                postgres, f"alter table cents.{table} alter column {column} type numeric(18, 2)"
            )
        build_and_test_models(settings, "postgres", "cents")
        before = _query(postgres, "select id, payment_amount from cents.events order by id")
        [(first_synced_at,)] = _query(postgres, "select max(_synced_at) from cents.events")
        emulator.set_anomalies("amount_decimals=3,endpoints=event_list|event_get|event_type_list")
        summary = run_sync(
            settings, emulator, destination="postgres", dataset="cents", build_models=True
        )
    assert summary.widened_tables == ["event_types", "events"]
    assert summary.models_built and summary.model_test_failures == []
    scales = _query(
        postgres,
        "select distinct numeric_precision, numeric_scale from information_schema.columns "
        "where table_schema = 'cents' and column_name in ('amount', 'payment_amount')",
    )
    assert scales == [(38, 9)]
    # Every row the second sync did not load again (the cursor's edge may be read again, and
    # served with three decimals then it differs) keeps its amount as it was.
    kept = _query(
        postgres,
        "select id, payment_amount from cents.events where _synced_at <= %s order by id",
        (first_synced_at,),
    )
    assert kept and set(kept) <= set(before)
    amounts = _query(postgres, "select amount from cents.event_types where amount is not null")
    assert amounts and {amount % 1 for (amount,) in amounts} == {Decimal("0.005")}


def _execute(url: str, sql: str) -> None:
    import psycopg2

    with psycopg2.connect(url) as con, con.cursor() as cur:
        cur.execute(sql)


def test_an_empty_string_lands_on_postgres_as_an_empty_string_not_null(
    tmp_path, postgres, monkeypatch
):
    # dlt's CSV load into PostgreSQL reads every empty field of a nullable column as NULL.
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres)
    with start_emulator(seed=5, events=30) as emulator:
        emptied = emulator.store.all_event_ids()[:3]
        with client_for(emulator) as client:
            for event_id in emptied:
                client.event_notes(event_id, notes="")
        run_sync(
            settings_for(tmp_path, emulator), emulator, destination="postgres", dataset="empty"
        )

    rows = _query(postgres, "select id from empty.events where notes = '' order by id")
    assert [row[0] for row in rows] == sorted(emptied)


def test_a_role_given_its_schemas_but_no_create_on_the_database_syncs_and_builds(
    tmp_path, postgres, monkeypatch
):
    # A DBA's least privilege: the schemas are the role's, the database is not.
    import psycopg2

    server, _ = postgres.rsplit("/", 1)
    con = psycopg2.connect(postgres)
    con.autocommit = True  # a database is created outside a transaction
    with con.cursor() as cur:
        cur.execute("create role least_privilege login")
        cur.execute("create database least_privilege")
    con.close()
    with psycopg2.connect(f"{server}/least_privilege") as con, con.cursor() as cur:
        cur.execute("revoke create on database least_privilege from public")
        cur.execute("revoke create on schema public from public")
        for schema in ("raw", "raw_staging", "analytics"):
            cur.execute(f"create schema {schema} authorization least_privilege")
    url = server.replace("//postgres:", "//least_privilege:") + "/least_privilege"
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", url)
    with start_emulator(seed=5, events=50) as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, destination="postgres")

    built, failed = build_and_test_models(settings, "postgres", "raw")

    assert built and not failed


def test_a_sync_of_a_pipeline_another_folder_is_syncing_into_the_dataset_exits_3(
    tmp_path, postgres, monkeypatch
):
    # Two runners with pipeline folders of their own, one server dataset.
    from simplymeet.cli.errors import exit_code_for
    from simplymeet.sync.lock import server_lock
    from simplymeet.sync.runner import make_pipeline

    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres)
    with start_emulator(seed=5, events=20) as emulator:
        elsewhere = settings_for(tmp_path / "runner_a", emulator)
        here = settings_for(tmp_path / "runner_b", emulator)
        with server_lock(make_pipeline(elsewhere, "postgres", "locked")):
            with pytest.raises(Exception) as refused:
                run_sync(here, emulator, destination="postgres", dataset="locked")
            assert emulator.count("event_list") == 0
        run_sync(here, emulator, destination="postgres", dataset="locked")

    assert exit_code_for(refused.value)[0] == 3
    assert "another sync of pipeline" in str(refused.value)


def test_the_server_lock_lives_in_a_session_of_its_own_that_ends_with_the_run(
    tmp_path, postgres, monkeypatch
):
    from simplymeet.sync.lock import LOCK_APPLICATION, server_lock
    from simplymeet.sync.runner import make_pipeline

    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres)
    sessions = "select count(*) from pg_stat_activity where application_name = %s"
    with start_emulator(seed=5, events=5) as emulator:
        pipeline = make_pipeline(settings_for(tmp_path, emulator), "postgres", "sessions")
        with server_lock(pipeline):
            held = _query(postgres, sessions, (LOCK_APPLICATION,))
        after = _query(postgres, sessions, (LOCK_APPLICATION,))

    assert held == [(1,)]
    assert after == [(0,)]
