"""Amounts land exactly as served, on both landing paths, or are set aside and said so.

The reference types `EventTypeDTO.amount` and `EventPaymentDTO.amount` a bare `number`: a
price in a three-decimal currency (KWD), a number served as text, a number no reading takes
exactly. The emulator serves each (`emulator/anomalies.py`: `amount_decimals`, `amount_text`,
`bad_amount`); the sync runs over real HTTP into a real DuckDB file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest

from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.emulator.anomalies import UNREADABLE_AMOUNT
from simplymeet.sync import arrow_pages
from simplymeet.sync.api import SyncApi
from simplymeet.sync.values import as_amount
from tests.sync_support import (
    EVENTS_ONLY,
    event_page_body,
    live_event_dtos,
    query,
    run_sync,
    settings_for,
)

AMOUNT_ENDPOINTS = "endpoints=event_list|event_get|event_type_list"
CENTS = Path(__file__).parent / "data" / "cents_warehouse"
SYNCED_AT = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with start_emulator(seed=5, events=200) as emu:
        yield emu


@pytest.fixture
def kwd(emulator: RunningEmulator) -> Iterator[RunningEmulator]:
    """Every amount served with three decimals (25 -> 25.005)."""
    emulator.set_anomalies(f"amount_decimals=3,{AMOUNT_ENDPOINTS}")
    try:
        yield emulator
    finally:
        emulator.set_anomalies(None)


def _event_amounts(settings: Any) -> list[Decimal]:
    rows = query(settings, "select payment_amount from raw.events where payment_amount is not null")
    return [amount for (amount,) in rows]


def _fractions(amounts: list[Decimal]) -> set[Decimal]:
    return {amount % 1 for amount in amounts}


def _paid_event(emulator: RunningEmulator) -> int:
    return next(dto["id"] for dto in live_event_dtos(emulator) if dto.get("payment"))


# --- the value read ----------------------------------------------------------------------


def test_a_numeric_string_is_read_as_its_number():
    assert as_amount("7.999") == Decimal("7.999")


def test_a_decimal_comma_before_one_or_two_digits_is_read_as_a_point():
    assert (as_amount("49,50"), as_amount("49,5")) == (Decimal("49.50"), Decimal("49.5"))


def test_a_comma_before_three_digits_is_no_amount():
    # "1,234" groups thousands as often as it marks decimals: neither reading is sure.
    assert as_amount("1,234") is None


@pytest.mark.parametrize("value", ["abc", "", " 7.5", "NaN", True, "1.234,50"])
def test_a_value_that_is_no_number_is_no_amount(value):
    assert as_amount(value) is None


@pytest.mark.parametrize("value", ["1e30", 10**30, -(10**29)])
def test_an_amount_with_more_whole_digits_than_the_column_holds_is_no_amount(value):
    assert as_amount(value) is None


@pytest.mark.parametrize(
    ("value", "landed"),
    [
        (0.1 + 0.2, "0.300000000"),  # a double's noise, as PHP serves it
        (12.3456789012, "12.345678901"),
        ("7.0000000005", "7.000000000"),  # half to even
    ],
)
def test_decimals_past_the_ninth_are_rounded_off(value, landed):
    assert as_amount(value) == Decimal(landed)


def test_a_page_with_an_amount_a_double_cannot_hold_is_cut_the_per_row_way(emulator):
    items = orjson.loads(event_page_body(emulator))["items"]
    paid = next(i for i, item in enumerate(items) if item.get("payment"))
    items[paid]["payment"]["amount"] = "12345678901234567.5"
    read = arrow_pages.read_event_page(orjson.dumps({"items": items}))
    assert read is not None
    assert arrow_pages.cut_events([read.rows], SYNCED_AT) is None


# --- landed ------------------------------------------------------------------------------


def test_amounts_with_three_decimals_land_as_served_from_pages_read_into_arrow(tmp_path, kwd):
    settings = settings_for(tmp_path, kwd)
    run_sync(settings, kwd, resources=EVENTS_ONLY)
    amounts = _event_amounts(settings)
    assert amounts and _fractions(amounts) == {Decimal("0.005")}


def test_amounts_with_three_decimals_land_as_served_value_by_value(tmp_path, kwd, monkeypatch):
    monkeypatch.setattr(SyncApi, "arrow_pages", False)
    settings = settings_for(tmp_path, kwd)
    run_sync(settings, kwd, resources=EVENTS_ONLY)
    amounts = _event_amounts(settings)
    assert amounts and _fractions(amounts) == {Decimal("0.005")}


def test_an_event_types_amount_with_three_decimals_lands_as_served(tmp_path, kwd):
    settings = settings_for(tmp_path, kwd)
    run_sync(settings, kwd, resources=("event_types",))
    rows = query(settings, "select amount from raw.event_types where amount is not null")
    assert rows and _fractions([amount for (amount,) in rows]) == {Decimal("0.005")}


def _synced_with(tmp_path: Path, emulator: RunningEmulator, anomalies: str) -> tuple[Any, int]:
    """A first sync of the events served with `anomalies`: (settings, rows set aside)."""
    emulator.set_anomalies(anomalies)
    try:
        settings = settings_for(tmp_path, emulator)
        summary = run_sync(settings, emulator, resources=EVENTS_ONLY)
    finally:
        emulator.set_anomalies(None)
    return settings, summary.rejected_rows


def test_amounts_with_more_decimals_than_any_currency_land_rounded_to_nine(tmp_path, emulator):
    # 25.00000000005: a double's noise past the 9th decimal, rounded half to even.
    settings, set_aside = _synced_with(tmp_path, emulator, "amount_decimals=11")
    amounts = _event_amounts(settings)
    assert set_aside == 0
    assert amounts and _fractions(amounts) == {Decimal(0)}


def test_amounts_served_as_numeric_strings_land_as_their_numbers(tmp_path, emulator):
    settings, set_aside = _synced_with(tmp_path, emulator, "amount_decimals=3,amount_text=point")
    amounts = _event_amounts(settings)
    assert set_aside == 0
    assert amounts and _fractions(amounts) == {Decimal("0.005")}


def test_an_unreadable_amount_sets_its_event_aside_and_the_run_says_so(tmp_path, emulator):
    paid = _paid_event(emulator)
    emulator.set_anomalies(f"bad_amount={paid}")
    try:
        settings = settings_for(tmp_path, emulator)
        summary = run_sync(settings, emulator, resources=EVENTS_ONLY)
    finally:
        emulator.set_anomalies(None)
    assert summary.rejected_rows == 1  # exit 9 on the command line
    [(reason, row_id, raw)] = query(
        settings, "select reason, row_id, raw from raw._rejected_rows where table_name = 'events'"
    )
    assert row_id == str(paid)
    assert reason == f'payment.amount "{UNREADABLE_AMOUNT}" is not an amount read exactly'
    assert json.loads(raw)["payment"]["amount"] == UNREADABLE_AMOUNT
    assert query(settings, f"select count(*) from raw.events where id = {paid}") == [(0,)]
    assert query(settings, "select count(*) from raw.events") == [(199,)]


def test_an_event_set_aside_for_its_amount_lands_once_served_readable(tmp_path, emulator):
    paid = _paid_event(emulator)
    settings = settings_for(tmp_path, emulator)
    emulator.set_anomalies(f"bad_amount={paid}")
    try:
        run_sync(settings, emulator, resources=EVENTS_ONLY)
    finally:
        emulator.set_anomalies(None)
    summary = run_sync(settings, emulator, resources=EVENTS_ONLY)
    assert summary.rejected_rows == 0
    landed = query(settings, f"select payment_amount from raw.events where id = {paid}")
    assert len(landed) == 1 and landed[0][0] is not None


# --- a warehouse written when amounts were DECIMAL(18, 2) --------------------------------


@pytest.fixture(scope="module")
def cents_served() -> Iterator[RunningEmulator]:
    """The emulator `tests/data/cents_warehouse` was synced from, serving prices in KWD."""
    with start_emulator(seed=7, events=40, anchor=dt.date(2026, 11, 1)) as emu:
        emu.set_anomalies(f"amount_decimals=3,{AMOUNT_ENDPOINTS}")
        yield emu


def _cents_settings(tmp_path: Path, emulator: RunningEmulator) -> Any:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"import database '{CENTS}'")
    con.close()
    return settings_for(tmp_path, emulator).with_overrides("warehouse", pipeline_name="simplymeet")


def _amount_types(settings: Any) -> set[str]:
    rows = query(
        settings,
        "select data_type from information_schema.columns where table_schema = 'raw' "
        "and column_name in ('amount', 'payment_amount')",
    )
    return {data_type for (data_type,) in rows}


def test_the_cents_warehouse_holds_amounts_as_decimal_18_2(tmp_path, cents_served):
    # The premise: without it the tests below prove nothing.
    assert _amount_types(_cents_settings(tmp_path, cents_served)) == {"DECIMAL(18,2)"}


def test_an_old_warehouses_amounts_are_widened_at_its_next_sync(tmp_path, cents_served):
    settings = _cents_settings(tmp_path, cents_served)
    summary = run_sync(settings, cents_served)
    assert summary.widened_tables == ["event_types", "events"]
    assert _amount_types(settings) == {"DECIMAL(38,9)"}


def test_widening_keeps_every_row_and_value_landed_before(tmp_path, cents_served):
    # The migration alone: the sync after it reads this warehouse's events again (they were
    # landed without columns declared since), which lands their amounts as served.
    from simplymeet.sync.migrate import widen_amounts
    from simplymeet.sync.runner import make_pipeline

    settings = _cents_settings(tmp_path, cents_served)
    before = query(settings, "select id, payment_amount from raw.events order by id")
    with make_pipeline(settings).sql_client() as client:
        widen_amounts(client)
    assert _amount_types(settings) == {"DECIMAL(38,9)"}
    assert query(settings, "select id, payment_amount from raw.events order by id") == before


def test_amounts_loaded_after_widening_land_as_served(tmp_path, cents_served):
    settings = _cents_settings(tmp_path, cents_served)
    run_sync(settings, cents_served)
    rows = query(settings, "select amount from raw.event_types where amount is not null")
    assert rows and _fractions([amount for (amount,) in rows]) == {Decimal("0.005")}


def test_the_models_build_and_pass_their_tests_on_a_widened_warehouse(tmp_path, cents_served):
    settings = _cents_settings(tmp_path, cents_served)
    summary = run_sync(settings, cents_served, build_models=True, full_refresh=True)
    assert summary.widened_tables
    assert summary.models_built and summary.model_test_failures == []
    [(total,)] = query(settings, "select sum(payment_amount) from analytics.stg_events")
    assert total is not None and total % 1 != 0  # three-decimal prices, unrounded
