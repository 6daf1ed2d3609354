"""Helpers of the alert tests: rules from TOML text, and a webhook listener on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from simplymeet.config import AlertRule, Settings
from tests.loopback import serving


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

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            hook.bodies.append(self.rfile.read(length))
            hook.headers.append(dict(self.headers.items()))
            status = hook.statuses.pop(0) if hook.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    with serving(Handler) as base_url:
        hook.url = f"{base_url}/hooks/T000/B000/secret-token"
        yield hook
