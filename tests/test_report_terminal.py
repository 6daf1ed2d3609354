"""`simplymeet report` in the terminal, on a hand-built warehouse with known figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from simplymeet.models.sample import SampleWarehouse
from simplymeet.report.cli import report_command


@pytest.fixture
def warehouse(tmp_path) -> Path:
    """Twelve past bookings of Ada's, three no-shows; one canceled 2 h ahead under a 24 h policy."""
    raw = SampleWarehouse(synced_at="2025-06-30T18:00:00Z")
    raw.user(1, full_name="Ada Lovelace-Byron King", current=True)
    raw.event_type(10, owner=1, name="Intro call")
    raw.policy("user", 1, period=1440, first_seen_at="2025-01-01T00:00:00Z")
    for day in range(12):
        raw.event(
            host=1,
            event_type=10,
            scheduled_at=dt.datetime(2025, 6, 2 + day, 10, tzinfo=dt.UTC),
            state="no_show" if day < 3 else "active",
        )
    raw.event(
        host=1,
        event_type=10,
        scheduled_at="2025-06-20T10:00:00Z",
        state="canceled",
        canceled_at="2025-06-20T08:00:00Z",
        canceler="invitee",
    )
    path = tmp_path / "warehouse.duckdb"
    raw.build(duckdb.connect(str(path))).close()
    return path


def test_report_prints_headline_metrics_with_numerator_denominator_and_interval(warehouse):
    result = CliRunner(env={"COLUMNS": "140"}).invoke(report_command, ["--db", str(warehouse)])

    assert result.exit_code == 0, result.output
    assert "data as of 2025-06-30 18:00 UTC" in result.output
    no_show = next(line for line in result.output.splitlines() if "No-show rate " in line)
    assert "25.0%" in no_show and "3 / 12" in no_show and "[8.9%, 53.2%]" in no_show
    late = next(line for line in result.output.splitlines() if "Late cancellations" in line)
    assert "100.0%" in late and "1 / 1" in late


def test_the_data_s_time_is_printed_in_utc_on_a_machine_in_another_zone(warehouse, monkeypatch):
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        result = CliRunner(env={"COLUMNS": "140"}).invoke(report_command, ["--db", str(warehouse)])
    finally:
        monkeypatch.undo()
        time.tzset()

    assert result.exit_code == 0, result.output
    assert "data as of 2025-06-30 18:00 UTC" in result.output


def test_report_prints_breakdowns_by_host_lead_time_and_utilization(warehouse):
    result = CliRunner(env={"COLUMNS": "140"}).invoke(report_command, ["--db", str(warehouse)])

    assert "No-show rate by host" in result.output
    assert "Cancellations by lead time" in result.output
    assert "Utilization by host" in result.output
    assert "hours 28" in result.output  # days whose offered minutes came from working hours


def test_report_without_a_warehouse_says_what_to_do(tmp_path):
    result = CliRunner().invoke(report_command, ["--db", str(tmp_path / "missing.duckdb")])

    assert result.exit_code == 2
    assert "simplymeet sync" in result.output


def test_report_on_a_warehouse_without_models_says_to_build_them(tmp_path):
    duckdb.connect(str(tmp_path / "raw.duckdb")).close()

    result = CliRunner().invoke(report_command, ["--db", str(tmp_path / "raw.duckdb")])

    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert "simplymeet models build" in line and "Catalog Error" not in line


def test_report_command_has_help_with_an_example():
    assert "Example: simplymeet report" in (report_command.help or "")


def test_report_fits_80_columns_with_one_line_per_host(warehouse):
    result = CliRunner(env={"COLUMNS": "80"}).invoke(report_command, ["--db", str(warehouse)])

    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    utilization = result.output.split("Utilization by host")[1]
    [row] = [line for line in utilization.splitlines() if "Ada Lovelace" in line]
    assert "%" in row and "hours" in row


def test_a_host_name_holding_terminal_controls_is_printed_with_them_written_out(tmp_path):
    raw = SampleWarehouse(synced_at="2025-06-30T18:00:00Z")
    raw.user(1, full_name="Eve\x1b[8m\x1b[2J\nOps", current=True)
    raw.event_type(10, owner=1, name="Intro call")
    raw.event(host=1, event_type=10, scheduled_at="2025-06-02T10:00:00Z", state="no_show")
    path = tmp_path / "warehouse.duckdb"
    raw.build(duckdb.connect(str(path))).close()

    result = CliRunner(env={"COLUMNS": "140"}).invoke(report_command, ["--db", str(path)])

    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output
    assert "Eve\\x1b[8m\\x1b[2J Ops" in result.output


def test_a_host_table_cut_to_its_first_ten_says_so_under_it(tmp_path):
    raw = SampleWarehouse(synced_at="2025-06-30T18:00:00Z")
    for host in range(1, 13):
        raw.user(host, full_name=f"Host {host}", current=host == 1)
        raw.event_type(10 + host, owner=host)
        for day in range(host):  # host 12 has the most bookings, host 1 the fewest
            raw.event(
                host=host,
                event_type=10 + host,
                scheduled_at=dt.datetime(2025, 6, 2 + day, 10, tzinfo=dt.UTC),
            )
    path = tmp_path / "warehouse.duckdb"
    raw.build(duckdb.connect(str(path))).close()

    result = CliRunner(env={"COLUMNS": "200"}).invoke(report_command, ["--db", str(path)])

    assert result.exit_code == 0, result.output
    hosts = result.output.split("No-show rate by host")[1].split("Cancellations")[0]
    utilization = result.output.split("Utilization by host")[1]
    assert "10 of 12 hosts shown, the most bookings first; --html lists all" in hosts
    assert "10 of 12 hosts shown, the most offered time first; --html lists all" in utilization
    assert "Host 12" in hosts and "Host 1 " not in hosts
