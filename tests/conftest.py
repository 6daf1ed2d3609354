"""Shared fixtures. Each fixture is named for the state it gives."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simplymeet.emulator import RunningEmulator, start_emulator


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A fresh emulator with 2,000 seeded events (seed 1), serving on 127.0.0.1."""
    with start_emulator(seed=1, events=2000) as emu:
        yield emu
