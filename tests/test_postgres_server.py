"""The throwaway PostgreSQL server the destination tests start (`tests/postgres_server.py`)."""

from __future__ import annotations

import socket

import pytest

from tests import postgres_server
from tests.postgres_server import postgres_url

pytestmark = pytest.mark.usefixtures("postgres_available")


def test_a_port_taken_before_the_server_binds_it_is_traded_for_another(monkeypatch):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    ports = [taken.getsockname()[1]]
    free = postgres_server._free_port
    monkeypatch.setattr(postgres_server, "_free_port", lambda: ports.pop() if ports else free())
    try:
        with postgres_url() as url:
            assert url.startswith("postgresql://") and f":{taken.getsockname()[1]}/" not in url
    finally:
        taken.close()
