"""Metric alerts: `[[alerts]]` rules evaluated over `analytics.kpi_period_over_period`.

from simplymeet.alerts import evaluate_alerts, deliver_webhook
fired = evaluate_alerts(con, settings.alerts)
"""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use: `simplymeet --help` imports the CLI module of this package, and must
# not pull DuckDB in with it.
_EXPORTS = {
    "AlertsUnavailableError": "simplymeet.alerts.evaluate",
    "FiredAlert": "simplymeet.alerts.evaluate",
    "evaluate_alerts": "simplymeet.alerts.evaluate",
    "WebhookError": "simplymeet.alerts.delivery",
    "deliver_webhook": "simplymeet.alerts.delivery",
    "slack_body": "simplymeet.alerts.delivery",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'simplymeet.alerts' has no attribute {name!r}")
