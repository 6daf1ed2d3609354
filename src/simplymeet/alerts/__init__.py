"""Metric alerts: `[[alerts]]` rules evaluated over `analytics.kpi_period_over_period`.

from simplymeet.alerts import evaluate_alerts, deliver_webhook
fired = evaluate_alerts(con, settings.alerts)
"""

from __future__ import annotations

from simplymeet.alerts.delivery import WebhookError, deliver_webhook, slack_body
from simplymeet.alerts.evaluate import AlertsUnavailableError, FiredAlert, evaluate_alerts

__all__ = [
    "AlertsUnavailableError",
    "FiredAlert",
    "WebhookError",
    "deliver_webhook",
    "evaluate_alerts",
    "slack_body",
]
