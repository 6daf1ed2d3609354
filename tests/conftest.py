"""Shared fixtures. Each fixture is named for the state it gives."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simplymeet.emulator import RunningEmulator, start_emulator


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A fresh emulator with 2,000 seeded events (seed 1), serving on 127.0.0.1."""
    with start_emulator(seed=1, events=2000) as emu:
        yield emu


@pytest.fixture
def emulator_http(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """A plain httpx client for `emulator`: base URL `…/panel/api`, API key set, 10 s timeout."""
    with httpx.Client(
        base_url=f"{emulator.base_url}/panel/api",
        headers={"X-API-KEY": emulator.api_key},
        timeout=10,
    ) as client:
        yield client
