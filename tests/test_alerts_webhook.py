"""Webhook delivery to a listener on 127.0.0.1: Slack-compatible body, retries, no key."""

from __future__ import annotations

import datetime as dt

import pytest

from simplymeet.alerts import FiredAlert, WebhookError, deliver_webhook, slack_body
from simplymeet.config import ConfigError
from tests.alerts_support import webhook_listener

KEY = "sk-WEBHOOK-LEAKCHECK-91b2"


def alert(subject: str = "Ada") -> FiredAlert:
    return FiredAlert(
        rule="no-shows high",
        condition="above 0.2",
        metric="no_show",
        breakdown="host",
        subject=subject,
        subject_id=1,
        period="week",
        period_start=dt.date(2025, 6, 9),
        value=0.3,
        numerator=12,
        denominator=40,
        prior_value=0.1,
        change=0.2,
        change_z=2.4,
    )


def no_wait(_seconds: float) -> None:
    pass


def test_the_body_is_slack_compatible_text_and_blocks():
    body = slack_body([alert(), alert("Grace")])

    assert body["text"] == "simplymeet: 2 alerts firing"
    sections = [block for block in body["blocks"] if block["type"] == "section"]
    assert len(sections) == 2
    assert "Grace" in sections[1]["text"]["text"]
    assert "30.0%" in sections[0]["text"]["text"]


def test_delivery_posts_the_alerts_once_when_the_webhook_answers_200():
    with webhook_listener() as hook:
        attempts = deliver_webhook(hook.url, [alert()], sleep=no_wait)

    assert attempts == 1
    assert len(hook.bodies) == 1
    assert hook.json()["blocks"][1]["text"]["text"].startswith("*no-shows high*")
    assert hook.headers[0]["Content-Type"] == "application/json"


def test_delivery_retries_after_a_500_and_succeeds():
    waits: list[float] = []
    with webhook_listener(500) as hook:
        attempts = deliver_webhook(hook.url, [alert()], sleep=waits.append, backoff_seconds=0.5)

    assert attempts == 2
    assert len(hook.bodies) == 2
    assert hook.bodies[0] == hook.bodies[1]
    assert waits == [0.5]


def test_delivery_gives_up_after_the_bounded_number_of_attempts():
    waits: list[float] = []
    with (
        webhook_listener(503, 503, 503, 503, 503) as hook,
        pytest.raises(WebhookError, match="kept failing") as raised,
    ):
        deliver_webhook(hook.url, [alert()], attempts=3, sleep=waits.append)

    assert len(hook.bodies) == 3
    assert waits == [1.0, 2.0]
    assert "secret-token" not in str(raised.value)


@pytest.mark.parametrize("status", [404, 408, 425])
def test_a_4xx_answer_is_not_retried(status):
    with webhook_listener(status) as hook, pytest.raises(WebhookError, match="refused"):
        deliver_webhook(hook.url, [alert()], sleep=no_wait)

    assert len(hook.bodies) == 1


def test_a_name_served_by_the_api_is_shown_as_typed_not_as_a_mention_or_a_link():
    body = slack_body([alert("<!channel> Ops <https://evil.example|Log in> & co")])

    [section] = [block for block in body["blocks"] if block["type"] == "section"]
    text = section["text"]["text"]
    assert "&lt;!channel&gt; Ops &lt;https://evil.example|Log in&gt; &amp; co" in text
    assert "<" not in text.replace("&lt;", "")


def test_the_body_never_carries_the_api_key_even_when_a_name_holds_it():
    with webhook_listener() as hook:
        deliver_webhook(hook.url, [alert(subject=f"host {KEY}")], api_key=KEY, sleep=no_wait)

    assert KEY.encode() not in hook.bodies[0]
    assert all(KEY not in value for value in hook.headers[0].values())


def test_plain_http_to_a_remote_webhook_is_refused():
    with pytest.raises(ConfigError, match="https"):
        deliver_webhook("http://hooks.example.com/x", [alert()], sleep=no_wait)
