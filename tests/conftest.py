"""Shared fixtures. Each fixture is named for the state it gives."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

import httpx
import pytest

from simplymeet.config import Settings
from simplymeet.emulator import RunningEmulator, start_emulator
from tests.emulator_support import api_http
from tests.postgres_server import unavailable_reason
from tests.synced_template import TESTED_EMULATOR, warehouse_tested_once
from tests.temp_root import use_ram_for_test_folders


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """A fresh emulator with 2,000 seeded events (seed 1), serving on 127.0.0.1."""
    with start_emulator(seed=1, events=2000) as emu:
        yield emu


@pytest.fixture(scope="module")
def tested_emulator() -> Iterator[RunningEmulator]:
    """The emulator `tested` warehouses are synced from (seed 11, 200 events), per module."""
    with start_emulator(**TESTED_EMULATOR) as emu:
        yield emu


@pytest.fixture
def tested(tmp_path_factory, tmp_path, tested_emulator: RunningEmulator) -> Settings:
    """A private warehouse synced from `tested_emulator`, built, and every data test passed
    once (a copy of a template made once per run)."""
    return warehouse_tested_once(tmp_path_factory, tmp_path, tested_emulator)


@pytest.fixture
def emulator_http(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """A plain httpx client for `emulator`: base URL `…/panel/api`, API key set, 10 s timeout."""
    with api_http(emulator) as client:
        yield client


@pytest.fixture(scope="session")
def postgres_available() -> None:
    """Skips the tests that use it where no PostgreSQL server can be started here (asked when
    the first of them runs: `.ci/run` may still be installing Debian's binaries)."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(f"no PostgreSQL: {reason}")


def pytest_configure(config: pytest.Config) -> None:
    """`tmp_path` in RAM where the machine has room (`tests/temp_root.py`). Decided once, by
    the process xdist's workers take their folders from."""
    if not hasattr(config, "workerinput") and config.option.basetemp is None:
        use_ram_for_test_folders()


@pytest.hookimpl(optionalhook=True)  # defined by xdist: `-p no:xdist` must still run
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: three workers per core this process may run on (many tests wait on
    loopback HTTP or a child process). On two cores, six workers kept the cores busy all along
    where four left them ~12% idle: 320 against 344 s for the whole suite, the same CPU."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 3 * (cores or 1)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`-n N` (`--dist load`, or `loadgroup`): the scheduler of `tests/xdist_schedule.py`."""
    if config.getvalue("dist") not in ("load", "loadgroup"):
        return None
    from tests.xdist_schedule import ModuleFixtureScheduling

    return ModuleFixtureScheduling(config, log)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection imported (dlt, pandas, the emulator...) lives as long as the process:
    it is moved out of the collector's reach, so each full collection walks only what the
    tests made since (measured: full collections cost each worker ~10 of its ~140 CPU-s).
    The young generation is collected every 10,000 allocations instead of 700: most of a
    test's objects are freed by reference counting before a collection would walk them."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest modules first (`tests/xdist_schedule.py`), each module's order kept."""
    from tests.xdist_schedule import slow_first

    slow_first(items)
