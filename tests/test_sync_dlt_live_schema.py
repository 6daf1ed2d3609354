"""dlt's stored schema is read again within a sync only when its file changed.

`sync/dlt_live_schema.py`: a committed live schema whose file still holds the bytes it was
loaded from is returned as it is. That a sync so lands what dlt's own reading lands is
tests/test_sync_dlt_config_cost.py's `test_a_sync_lands_what_dlt_s_own_configuration_path_lands`.
"""

from __future__ import annotations

import importlib
from collections import Counter
from typing import Any

import pytest
from dlt.common.storages.schema_storage import SchemaStorage

from simplymeet.emulator import RunningEmulator, start_emulator
from simplymeet.sync import dlt_live_schema
from simplymeet.sync.runner import make_pipeline
from tests.sync_support import run_sync, settings_for


@pytest.fixture(scope="module")
def small_emulator():
    with start_emulator(seed=2, events=50) as emu:
        yield emu


@pytest.fixture
def synced(tmp_path, small_emulator: RunningEmulator):
    settings = settings_for(tmp_path, small_emulator)
    run_sync(settings, small_emulator)
    return settings


@pytest.fixture
def loads(monkeypatch) -> Counter[str]:
    """How often each stored schema is read from its file."""
    counted: Counter[str] = Counter()
    original = SchemaStorage.load_schema

    def load_schema(self: Any, name: str) -> Any:
        counted[name] += 1
        return original(self, name)

    monkeypatch.setattr(SchemaStorage, "load_schema", load_schema)
    return counted


def test_dlt_still_defines_the_method_patched():
    storage = importlib.import_module(dlt_live_schema.PATCHED_MODULE)
    cls = getattr(storage, dlt_live_schema.PATCHED_CLASS)

    assert dlt_live_schema._install()
    assert getattr(cls.__dict__["__getitem__"], "__wrapped__", None) is not None


def test_within_a_run_an_unchanged_schema_file_is_read_once(synced, loads):
    pipeline = make_pipeline(synced)
    loads.clear()

    with dlt_live_schema.live_schemas_read_when_changed():
        names = [pipeline.default_schema.name for _ in range(5)]

    assert sum(loads.values()) == 1 and set(loads) == set(names)


def test_outside_a_run_dlt_reads_the_schema_file_on_every_access(synced, loads):
    pipeline = make_pipeline(synced)
    dlt_live_schema._install()
    loads.clear()

    for _ in range(5):
        pipeline.default_schema  # noqa: B018

    assert sum(loads.values()) == 5


def test_a_schema_file_another_pipeline_saved_is_read_again(synced):
    mine, other = make_pipeline(synced), make_pipeline(synced)

    with dlt_live_schema.live_schemas_read_when_changed():
        before = mine.default_schema.version
        changed = other.default_schema
        changed.tables["events"]["description"] = "changed by another process"
        changed._bump_version()
        other._schema_storage.save_schema(changed)
        after = mine.default_schema

    assert after.version == before + 1
    assert after.tables["events"]["description"] == "changed by another process"


def test_a_quiet_sync_reads_its_schema_file_a_fraction_of_the_times_dlt_reads_it(
    synced, small_emulator, loads, monkeypatch
):
    run_sync(synced, small_emulator)
    read_when_changed = loads.total()
    loads.clear()
    with monkeypatch.context() as own:
        storage = importlib.import_module(dlt_live_schema.PATCHED_MODULE)
        cls = getattr(storage, dlt_live_schema.PATCHED_CLASS)
        own.setattr(cls, "__getitem__", dlt_live_schema.unpatched_getitem())
        own.setattr(dlt_live_schema, "_install", lambda: False)
        run_sync(synced, small_emulator)

    assert 0 < read_when_changed * 4 <= loads.total()
