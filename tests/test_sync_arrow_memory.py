"""A sync's Arrow buffers come from the C library's allocator (bench/README.md, B4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from simplymeet.emulator import start_emulator
from simplymeet.sync.arrow_memory import POOL_VARIABLE, use_system_allocator
from tests.sync_support import EVENTS_ONLY, assert_events_match, run_sync, settings_for


@pytest.fixture
def mimalloc_default(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """pyarrow's bundled allocator as the default pool, as a fresh process has it."""
    monkeypatch.delenv(POOL_VARIABLE, raising=False)
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.mimalloc_memory_pool())
    yield
    pa.set_memory_pool(previous)


@pytest.mark.usefixtures("mimalloc_default")
def test_a_sync_leaves_arrow_allocating_from_the_system_pool(tmp_path: Path) -> None:
    with start_emulator(seed=3, events=30) as emulator:
        settings = settings_for(tmp_path, emulator)
        run_sync(settings, emulator, resources=EVENTS_ONLY)
        assert_events_match(settings, emulator)
    assert pa.default_memory_pool().backend_name == "system"


@pytest.mark.usefixtures("mimalloc_default")
def test_a_pool_chosen_in_arrows_own_variable_is_left_as_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(POOL_VARIABLE, "mimalloc")
    use_system_allocator()
    assert pa.default_memory_pool().backend_name == "mimalloc"
