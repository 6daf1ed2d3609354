"""Helpers of the alert tests: rules from TOML text, and a webhook listener on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from simplymeet.config import AlertRule, Settings
from tests.loopback import QuietHandler, serving


def rules(*specs: dict[str, Any]) -> list[AlertRule]:
    """`[[alerts]]` rules, validated by the settings model exactly as config.toml is."""
    return Settings({"alerts": list(specs)}).alerts


@dataclass
class Webhook:
    """What the listener received, and the statuses it answers with (then 200)."""

    url: str
    statuses: list[int]
    bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def json(self, index: int = -1) -> dict[str, Any]:
        return json.loads(self.bodies[index])


@contextmanager
def webhook_listener(*statuses: int) -> Iterator[Webhook]:
    """An HTTP server on 127.0.0.1 (random port) answering POSTs with `statuses`, then 200."""
    hook = Webhook(url="", statuses=list(statuses))

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            hook.bodies.append(self.rfile.read(length))
            hook.headers.append(dict(self.headers.items()))
            self.reply(hook.statuses.pop(0) if hook.statuses else 200, b"ok")

    with serving(Handler) as base_url:
        hook.url = f"{base_url}/hooks/T000/B000/secret-token"
        yield hook
