"""The HTML report: self-contained, with its three charts and the KPI figures."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from html import escape

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from simplymeet.models.sample import SampleWarehouse
from simplymeet.report import load_report, open_warehouse, render_html
from simplymeet.report.charts import EMPTY, HEAT, heat_colour, percent, stacked_bars
from simplymeet.report.cli import report_command
from simplymeet.report.figures import lead_time_chart
from tests.synced_template import demo_copy


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    return demo_copy(tmp_path_factory, tmp_path_factory.mktemp("demo") / "demo.duckdb")


@pytest.fixture(scope="module")
def html(demo_path) -> str:
    con = open_warehouse(demo_path)
    try:
        return render_html(load_report(con))
    finally:
        con.close()


def test_html_report_fetches_nothing(html):
    assert "<script" not in html
    assert "<link" not in html
    assert not re.search(r"""(src|href)\s*=""", html)
    assert not re.search(r"url\(", html)
    # the only URL is the SVG namespace, which is an identifier, not a request
    assert set(re.findall(r"https?://[^\s\"')]+", html)) == {"http://www.w3.org/2000/svg"}


def test_html_report_has_the_three_charts(html):
    for label in (
        "Weekly no-show rate with 95% confidence band",
        "Cancellations by lead time, by who canceled",
        "Utilization by host and weekday",
    ):
        assert f'aria-label="{label}"' in html
    assert html.count("<svg") == 3


def test_html_report_shows_kpis_with_their_definitions(html, demo_path):
    con = open_warehouse(demo_path)
    (value, numerator, denominator) = con.execute(
        "select value, numerator, denominator from analytics.kpi_summary "
        "where metric = 'no_show_rate'"
    ).fetchone()
    con.close()

    assert f"{value * 100:.1f}%" in html
    assert f"{numerator:,.0f} / {denominator:,.0f}" in html
    assert "No-shows / past bookings not canceled" in html


def test_report_command_writes_the_html_file(demo_path, tmp_path):
    out = tmp_path / "report.html"

    result = CliRunner().invoke(report_command, ["--db", str(demo_path), "--html", str(out)])

    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_an_html_report_named_dash_is_the_page_alone_on_standard_output(
    demo_path, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(report_command, ["--db", str(demo_path), "--html", "-"])

    assert result.exit_code == 0, result.output
    assert result.stdout.lstrip().lower().startswith("<!doctype html")
    assert result.stdout.rstrip().endswith("</html>")
    assert list(tmp_path.iterdir()) == []


def test_a_report_the_disk_cannot_hold_leaves_the_earlier_one_whole(demo_path, tmp_path):
    out = tmp_path / "report.html"
    out.write_text("<!DOCTYPE html> yesterday's report")

    def small_files_only() -> None:
        # As a full disk would: the report (~50 KB) cannot be written, a few KB can.
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, resource.RLIM_INFINITY))

    command = ["report", "--db", str(demo_path), "--html", str(out)]
    # A process of its own: the file size limit is the process's, not the test run's.
    done = subprocess.run(
        [sys.executable, "-m", "simplymeet.cli.main", *command],
        capture_output=True,
        text=True,
        preexec_fn=small_files_only,
        env={**os.environ, "COLUMNS": "120"},
        timeout=120,
    )

    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line == (
        f"error: cannot write the report to {out}: File too large; any earlier one is kept"
    )
    assert out.read_text() == "<!DOCTYPE html> yesterday's report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


@pytest.mark.parametrize("device", ["/dev/full", "/dev/null"])
def test_a_report_path_that_is_no_regular_file_is_refused(demo_path, device):
    before = os.stat(device)

    result = CliRunner().invoke(report_command, ["--db", str(demo_path), "--html", device])

    assert result.exit_code == 2
    assert f"{device} is not a regular file" in result.output
    after = os.stat(device)
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)


def test_a_report_in_a_folder_where_no_file_can_be_made_is_refused_naming_it(demo_path):
    out = "/proc/report.html"
    result = CliRunner().invoke(report_command, ["--db", str(demo_path), "--html", out])

    assert result.exit_code == 2
    assert f"cannot write the report to {out}" in result.output


def test_a_report_named_as_the_warehouse_it_reads_is_refused_and_the_warehouse_kept(demo_path):
    before = demo_path.read_bytes()

    result = CliRunner().invoke(report_command, ["--db", str(demo_path), "--html", str(demo_path)])

    assert result.exit_code == 2
    assert f"{demo_path} holds something other than an HTML page (a DuckDB database)" in (
        result.output
    )
    assert demo_path.read_bytes() == before


def test_a_report_over_a_file_holding_no_html_page_is_refused_and_the_file_kept(
    demo_path, tmp_path
):
    settings = tmp_path / "config.toml"
    settings.write_text('[warehouse]\nduckdb_path = "simplymeet.duckdb"\n')

    result = CliRunner().invoke(report_command, ["--db", str(demo_path), "--html", str(settings)])

    assert result.exit_code == 2
    assert "holds something other than an HTML page: name another file" in result.output
    assert settings.read_text().startswith("[warehouse]")
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]


def test_an_html_path_naming_no_file_is_refused(demo_path):
    result = CliRunner().invoke(report_command, ["--db", str(demo_path), "--html", ""])

    assert result.exit_code == 2
    assert "--html names no file" in result.output


def test_a_report_written_through_a_link_keeps_the_link_and_the_file_mode(demo_path, tmp_path):
    real = tmp_path / "real.html"
    real.write_text("<p>old</p>")
    real.chmod(0o640)
    link = tmp_path / "report.html"
    link.symlink_to(real)

    result = CliRunner().invoke(report_command, ["--db", str(demo_path), "--html", str(link)])

    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert real.read_text().startswith("<!DOCTYPE html>")
    assert real.stat().st_mode & 0o777 == 0o640


def test_heatmap_colours_step_with_utilization():
    assert heat_colour(0) == HEAT[0]
    assert heat_colour(0.5) == HEAT[4]
    assert heat_colour(1.0) == HEAT[-1]
    assert heat_colour(None) == EMPTY
    assert percent(0.256) == "26%"
    assert percent(None) == "–"


def test_no_show_trend_says_how_many_weeks_it_shows(html, demo_path):
    con = open_warehouse(demo_path)
    (weeks,) = con.execute(
        "select least(count(*), 26) from analytics.no_show_rates where breakdown = 'week'"
    ).fetchone()
    con.close()

    assert f"No-show rate by week, last {weeks} weeks" in html


def test_event_types_sharing_a_name_are_told_apart_by_id_and_owner(tmp_path):
    raw = SampleWarehouse(synced_at="2025-06-30T18:00:00Z")
    raw.user(1, full_name="Ada Lovelace", current=True)
    raw.user(2, full_name="Grace Hopper")
    raw.event_type(10, owner=1, name="Intro call")
    raw.event_type(20, owner=2, name="Intro call")
    for host, event_type in ((1, 10), (2, 20)):
        raw.event(host=host, event_type=event_type, scheduled_at="2025-06-02T10:00:00Z")
    con = raw.build(duckdb.connect(str(tmp_path / "warehouse.duckdb")))
    try:
        html = render_html(load_report(con))
    finally:
        con.close()

    assert escape("Intro call · #10 · Ada Lovelace") in html
    assert escape("Intro call · #20 · Grace Hopper") in html


def test_html_report_shows_time_to_cancel_and_reschedules(html, demo_path):
    con = open_warehouse(demo_path)
    buckets = con.execute(
        "select lead_time_bucket_label, canceled_bookings from analytics.time_to_cancel"
    ).fetchall()
    [(moved_once,)] = con.execute(
        "select count(*) from analytics.reschedules_per_booking where reschedules = 1"
    ).fetchall()
    con.close()
    section = html[html.index('id="history"') :]
    assert sum(count for _, count in buckets) > 0
    for label, count in buckets:
        assert f"<td>{escape(label)}</td><td>{count:,}</td>" in section
    assert moved_once > 0
    assert f"<td>1</td><td>{moved_once:,}</td>" in section


@pytest.mark.parametrize(
    ("peak", "labels"),
    [
        (1, ["0", "1", "2", "3", "4"]),
        (2, ["0", "1", "2", "3", "4"]),
        (13, ["0", "5", "10", "15", "20"]),
        (1537, ["0", "500", "1,000", "1,500", "2,000"]),
        (20_001, ["0", "10,000", "20,000", "30,000", "40,000"]),
    ],
)
def test_a_bar_chart_s_gridlines_are_labelled_each_with_a_round_whole_count(peak, labels):
    svg = stacked_bars(["< 1 h", "1-24 h"], [("by invitee", "#000", [peak, 1])])._repr_svg_()

    assert re.findall(r'text-anchor="end"[^>]*>([\d,]+)<', svg) == labels


def test_a_lead_time_bar_s_late_count_is_written_with_thousands_separators():
    buckets = pd.DataFrame(
        {
            "lead_time_bucket_label": ["1–24 h"],
            "late_cancellations": [1537],
            "canceled_bookings": [1537],
            "canceled_by_invitee": [1084],
            "canceled_by_host": [453],
            "canceled_by_unknown": [0],
        }
    )

    assert ">1,537 late<" in lead_time_chart(buckets)._repr_svg_()


def test_a_confidence_interval_is_never_broken_across_two_lines(html):
    intervals = re.findall(r'<td class="ci">(\[[^<]*\])</td>', html)

    assert intervals
    assert re.search(r"td\.ci\s*\{\s*white-space:\s*nowrap", html)


def test_a_database_whose_first_byte_reads_as_markup_is_never_replaced(demo_path, tmp_path):
    # A DuckDB file opens with a checksum: any first byte, `<` among them.
    other = tmp_path / "other.duckdb"
    other.write_bytes(b"<" + demo_path.read_bytes()[1:])

    result = CliRunner().invoke(report_command, ["--db", str(demo_path), "--html", str(other)])

    assert result.exit_code == 2
    assert "(a DuckDB database)" in result.output
    assert other.read_bytes()[:1] == b"<"
