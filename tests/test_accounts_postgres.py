"""Two accounts (ids shared, keys different) synced side by side into one PostgreSQL database."""

from __future__ import annotations

import pytest

from simplymeet.models import build_models, test_models
from simplymeet.models.connection import PostgresWarehouse
from simplymeet.sync import SyncRequest, overall_exit_code, sync_accounts
from tests.accounts_support import EVENTS, accounts_settings, two_emulators
from tests.postgres_server import postgres_url

pytestmark = pytest.mark.usefixtures("postgres_available")

DATASET = "accounts_raw"


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """Both accounts synced into PostgreSQL (dataset `accounts_raw`), the models built there."""
    tmp_path = tmp_path_factory.mktemp("pg-accounts")
    with postgres_url() as url, pytest.MonkeyPatch.context() as mp, two_emulators() as emus:
        mp.setenv("DESTINATION__POSTGRES__CREDENTIALS", url)
        settings = accounts_settings(tmp_path, emus)
        request = SyncRequest(destination="postgres", dataset=DATASET, build_models=False)
        outcomes = sync_accounts(settings, request)
        assert overall_exit_code(outcomes) == 0, outcomes
        pg = PostgresWarehouse(url)
        build_models(pg, settings=settings, dataset=DATASET)
        yield url, settings, pg


def _rows(url: str, sql: str) -> list[tuple]:
    import psycopg2

    with psycopg2.connect(url) as con, con.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_each_account_lands_its_own_events_in_postgres(synced):
    url, _, _ = synced
    counts = dict(_rows(url, f"select account, count(*) from {DATASET}.events group by 1"))
    assert counts == EVENTS


def test_models_on_postgres_keep_accounts_apart(synced):
    url, settings, pg = synced
    assert test_models(pg, settings=settings, dataset=DATASET) == []
    bookings = dict(
        _rows(url, "select account, value from analytics.kpi_summary where metric = 'bookings'")
    )
    assert bookings == EVENTS
