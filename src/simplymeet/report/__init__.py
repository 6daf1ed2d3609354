"""Reporting over the models: terminal tables, a self-contained HTML report, notebook helpers.

>>> from simplymeet.report import open_warehouse, load_report, no_show_trend_chart
>>> con = open_warehouse()  # $SIMPLYMEET_DB or ./simplymeet.duckdb  # doctest: +SKIP
>>> no_show_trend_chart(load_report(con).no_show_trend)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simplymeet.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from simplymeet.report.alerts_section import fired_alerts_frame, period_over_period
    from simplymeet.report.charts import Svg
    from simplymeet.report.data import (
        ReportData,
        alert_rules,
        cancellation_rates,
        cancellation_reasons,
        cancellations_by_lead_time,
        kpis,
        kpis_by_account,
        load_report,
        no_show_rates,
        no_show_trend,
        open_warehouse,
        utilization_by_host,
        utilization_heatmap,
    )
    from simplymeet.report.figures import (
        lead_time_chart,
        no_show_trend_chart,
        utilization_heatmap_chart,
    )
    from simplymeet.report.html import render_html, write_html_report
    from simplymeet.report.terminal import print_report

# DuckDB and pandas load on first use of a name, not on import of the package.
_EXPORTS = {
    "Svg": "simplymeet.report.charts",
    "fired_alerts_frame": "simplymeet.report.alerts_section",
    "period_over_period": "simplymeet.report.alerts_section",
    "ReportData": "simplymeet.report.data",
    "alert_rules": "simplymeet.report.data",
    "cancellation_rates": "simplymeet.report.data",
    "cancellation_reasons": "simplymeet.report.data",
    "cancellations_by_lead_time": "simplymeet.report.data",
    "kpis": "simplymeet.report.data",
    "kpis_by_account": "simplymeet.report.data",
    "load_report": "simplymeet.report.data",
    "no_show_rates": "simplymeet.report.data",
    "no_show_trend": "simplymeet.report.data",
    "open_warehouse": "simplymeet.report.data",
    "utilization_by_host": "simplymeet.report.data",
    "utilization_heatmap": "simplymeet.report.data",
    "lead_time_chart": "simplymeet.report.figures",
    "no_show_trend_chart": "simplymeet.report.figures",
    "utilization_heatmap_chart": "simplymeet.report.figures",
    "render_html": "simplymeet.report.html",
    "write_html_report": "simplymeet.report.html",
    "print_report": "simplymeet.report.terminal",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "ReportData",
    "Svg",
    "alert_rules",
    "cancellation_rates",
    "cancellation_reasons",
    "cancellations_by_lead_time",
    "fired_alerts_frame",
    "kpis",
    "kpis_by_account",
    "lead_time_chart",
    "load_report",
    "no_show_rates",
    "no_show_trend",
    "no_show_trend_chart",
    "open_warehouse",
    "period_over_period",
    "print_report",
    "render_html",
    "utilization_by_host",
    "utilization_heatmap",
    "utilization_heatmap_chart",
    "write_html_report",
]
