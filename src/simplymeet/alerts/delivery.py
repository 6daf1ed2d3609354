"""Deliver fired alerts to a webhook as a Slack-compatible JSON body, retried with backoff.

The body is built from the alerts alone, never from settings or headers, and is checked
against the API key before it leaves: a key that somehow reached a host name or a rule name
is masked, not posted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from simplymeet.alerts.evaluate import FiredAlert
from simplymeet.config import ConfigError, _is_loopback

MAX_BLOCKS = 40
"""Slack refuses a message with more than 50 blocks; the rest are summarized in one line."""
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Never a 4xx twice but a rate limit: a 408 or 425 from a receiver that took the post all
the same would show the channel every alert twice."""


class WebhookError(RuntimeError):
    """The webhook refused the alerts or kept failing after every retry."""


def slack_body(alerts: Sequence[FiredAlert]) -> dict[str, Any]:
    """`{"text": ..., "blocks": [...]}`: a summary line, then one section per alert."""
    text = f"simplymeet: {len(alerts)} alert{'s' if len(alerts) != 1 else ''} firing"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": text}}
    ]
    for alert in alerts[:MAX_BLOCKS]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _line(alert)}})
    if len(alerts) > MAX_BLOCKS:
        more = f"…and {len(alerts) - MAX_BLOCKS} more (run `simplymeet alerts check`)"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return {"text": text, "blocks": blocks}


def _line(alert: FiredAlert) -> str:
    value = _shown(alert.metric, alert.value)
    period = f" {alert.period} of {alert.period_start}" if alert.period_start else ""
    rule, subject = _escaped(alert.rule), _escaped(alert.subject)
    line = f"*{rule}*: {alert.metric} {value} for {subject}{period}"
    if alert.denominator is not None:
        line += f" ({alert.numerator}/{alert.denominator})"
    if alert.prior_value is not None:
        line += f", prior {_shown(alert.metric, alert.prior_value)}"
    return f"{line} — {alert.condition}"


def _escaped(text: str) -> str:
    """`text` as mrkdwn shows it as typed: a name the API serves (a host, an event type) or a
    rule's is no `<!channel>` mention and no `<url|label>` link (Slack's three escapes)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _shown(metric: str, value: float) -> str:
    return f"{value:,.0f}" if metric == "created" else f"{value:.1%}"


def check_webhook_url(url: str) -> str:
    """`url` if alerts may be posted to it: https, or http to loopback only."""
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError("the alerts webhook URL must be an https:// URL with a host name")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError("the alerts webhook URL must use https (http only to loopback)")
    return url.strip()


def deliver_webhook(
    url: str,
    alerts: Sequence[FiredAlert],
    *,
    api_key: str | None = None,
    attempts: int = 4,
    backoff_seconds: float = 1.0,
    timeout_seconds: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """POST the alerts to `url`; return the number of attempts it took.

    Retries connection errors, timeouts, 429 and 5xx up to `attempts` times in all, waiting
    `backoff_seconds` × 2ⁿ between them (a Retry-After up to 60 s is honoured). A webhook
    post is idempotent enough to retry: at worst a channel sees the same alerts twice.
    Raises WebhookError (naming the host, never the URL: it usually embeds a token).
    """
    check_webhook_url(url)
    body = json.dumps(slack_body(alerts), ensure_ascii=False, default=str)
    if api_key and api_key in body:
        body = body.replace(api_key, "***")
    host = urlsplit(url).hostname
    last = ""
    with httpx.Client(timeout=timeout_seconds) as client:
        for attempt in range(1, attempts + 1):
            wait = backoff_seconds * 2 ** (attempt - 1)
            try:
                response = client.post(
                    url, content=body.encode(), headers={"Content-Type": "application/json"}
                )
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            else:
                if response.is_success:
                    return attempt
                last = f"HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    raise WebhookError(f"the alerts webhook at {host} refused the alerts ({last})")
                wait = max(wait, _retry_after(response))
            if attempt < attempts:
                sleep(wait)
    raise WebhookError(f"the alerts webhook at {host} kept failing ({last}, {attempts} attempts)")


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(60.0, max(0.0, float(response.headers.get("Retry-After", 0))))
    except ValueError:
        return 0.0
