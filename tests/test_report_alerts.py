"""The HTML report marks firing alerts and shows the latest periods against the prior ones."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from simplymeet.report import load_report, open_warehouse, render_html
from simplymeet.report.cli import report_command
from tests.alerts_support import rules
from tests.synced_template import demo_copy

HOST_RULE = {
    "name": "host no-shows above 10%",
    "metric": "no_show",
    "breakdown": "host",
    "period": "all",
    "above": 0.1,
    "min_sample_size": 20,
}


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    return demo_copy(tmp_path_factory, tmp_path_factory.mktemp("demo") / "demo.duckdb")


def html_for(demo_path, *specs: dict) -> str:
    con = open_warehouse(demo_path)
    try:
        return render_html(load_report(con, rules(*specs)))
    finally:
        con.close()


def test_firing_alerts_are_listed_at_the_top_of_the_report(demo_path):
    html = html_for(demo_path, HOST_RULE)

    banner = html[html.index('id="alerts"') : html.index('class="kpis"')]
    assert "alert(s) firing" in banner
    assert "host no-shows above 10%" in banner
    assert "Grace Hopper" in banner


def test_the_report_says_when_no_alert_fires(demo_path):
    html = html_for(demo_path, {**HOST_RULE, "above": 0.9})

    assert "No alert firing" in html
    assert "alert(s) firing" not in html


def test_without_rules_there_is_no_alerts_section(demo_path):
    assert 'id="alerts"' not in html_for(demo_path)


def test_the_period_over_period_table_shows_each_metric_for_week_and_month(demo_path):
    html = html_for(demo_path)

    table = html[html.index('id="period-over-period"') : html.index('class="two"')]
    for label in ("Bookings created", "Completion rate", "Cancellation rate", "No-show rate"):
        assert table.count(label) == 2
    assert "month of 2025-06-01" in table


def test_the_period_over_period_table_names_each_period_by_its_first_day(demo_path):
    html = html_for(demo_path)

    table = html[html.index('id="period-over-period"') : html.index('class="two"')]
    assert "<td>month of 2025-06-01</td>" in table
    assert "00:00:00" not in table


def test_report_command_marks_the_alerts_of_config_toml(demo_path, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        '[[alerts]]\nname = "host no-shows above 10%"\nmetric = "no_show"\n'
        'breakdown = "host"\nperiod = "all"\nabove = 0.1\nmin_sample_size = 20\n'
    )
    out = tmp_path / "report.html"

    done = CliRunner().invoke(
        report_command,
        ["--db", str(demo_path), "--config", str(config), "--html", str(out)],
    )

    assert done.exit_code == 0, done.output
    assert "host no-shows above 10%" in out.read_text()
