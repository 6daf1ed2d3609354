"""A plain HTTP client of an emulator's API, for the tests that look at raw responses."""

from __future__ import annotations

import httpx

from simplymeet.client.client import tls_context
from simplymeet.contract.endpoints import API_PREFIX
from simplymeet.emulator import RunningEmulator


def api_http(emulator: RunningEmulator, *, timeout: float = 10) -> httpx.Client:
    """An httpx client of `emulator`: base URL `…/panel/api`, its API key set; close it after."""
    return httpx.Client(
        base_url=f"{emulator.base_url}{API_PREFIX}",
        headers={"X-API-KEY": emulator.api_key},
        timeout=timeout,
        # The process's one TLS context: httpx's default loads every CA certificate again
        # (~30 ms of CPU per client; hundreds of clients in the suite).
        verify=tls_context(),
    )
