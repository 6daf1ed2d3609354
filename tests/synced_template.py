"""A warehouse that has had one full sync, without paying for the sync in every test.

`synced_copy(tmp_path, emulator, **sync_overrides)` gives the settings `settings_for` gives,
pointing at a private copy (warehouse file and dlt pipelines folder) of a template that one
full sync of an identical, untouched emulator wrote: same seed, event count, anchor and key,
same settings. The emulator is deterministic for those (`start_emulator`), so the copy is the
warehouse the test's own first sync would have written, and its next sync is an incremental
run against `emulator` as before. Use it only while `emulator` is untouched (in the fixture
that hands the test its `synced` settings) and for settings that only the sync reads.

Templates are built once per test run: the xdist workers share them through a folder beside
their own temp folders, behind a file lock (the first worker to need one builds it).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simplymeet.config import Settings
from simplymeet.emulator import RunningEmulator, start_emulator
from tests.sync_support import run_sync, settings_for

_DONE = "template-complete"


def synced_copy(
    factory: pytest.TempPathFactory,
    tmp_path: Path,
    emulator: RunningEmulator,
    *,
    api: dict[str, Any] | None = None,
    **sync_overrides: Any,
) -> Settings:
    """Settings of `tmp_path`, holding a copy of one full sync of `emulator` as seeded.

    `sync_overrides` go to the `[sync]` section and `api` to `[api]`, both for the template's
    sync and for the returned settings (as `settings_for(...).with_overrides(...)` would).
    """
    template = template_for(factory, emulator, api=api, **sync_overrides)
    copy_template(template, tmp_path)
    return _settings(tmp_path, emulator, api or {}, sync_overrides)


def copy_template(template: Path, destination: Path) -> None:
    """Copy the warehouse file and the pipelines folder of `template` into `destination`."""
    for source in template.iterdir():
        if source.name == _DONE:
            continue
        if source.is_dir():
            shutil.copytree(source, destination / source.name)
        else:
            shutil.copy2(source, destination / source.name)


def _settings(
    folder: Path, emulator: RunningEmulator, api: dict[str, Any], sync: dict[str, Any]
) -> Settings:
    settings = settings_for(folder, emulator, **sync)
    return settings.with_overrides("api", **api) if api else settings


def template_for(
    factory: pytest.TempPathFactory,
    emulator: RunningEmulator,
    *,
    api: dict[str, Any] | None = None,
    **sync: Any,
) -> Path:
    """The template folder for `emulator` as seeded (do not write to it); built if missing."""
    api = api or {}
    store = emulator.store
    key = {
        "seed": store.seed,
        "events": store.event_count,
        "anchor": store.anchor.isoformat(),
        "paid": store.paid,
        "api_key": emulator.api_key,
        "api": api,
        "sync": sync,
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()

    def build(root: Path) -> None:
        with start_emulator(
            seed=store.seed,
            events=store.event_count,
            anchor=store.anchor,
            paid=store.paid,
            api_key=emulator.api_key,
        ) as twin:
            run_sync(_settings(root, twin, api, sync), twin)

    return built_once(factory, f"synced-{digest[:16]}", build)


TESTED_EMULATOR = {"seed": 11, "events": 200}
"""The emulator `warehouse_tested_once` (and the `tested` fixture) is synced from."""


def warehouse_tested_once(
    factory: pytest.TempPathFactory, tmp_path: Path, emulator: RunningEmulator
) -> Settings:
    """Settings of a private warehouse: synced, built, and every data test passed once."""
    from simplymeet.models import build_models, test_models

    synced = template_for(factory, emulator, reconcile_every_hours=1000.0)

    def build_and_test(root: Path) -> None:
        copy_template(synced, root)
        settings = settings_for(root, emulator, reconcile_every_hours=1000.0)
        path = settings.get("warehouse", "duckdb_path")
        built = build_models(path, settings=settings)
        assert test_models(path, settings=settings, changes=built.changes) == []

    copy_template(built_once(factory, f"tested-{synced.name}", build_and_test), tmp_path)
    return settings_for(tmp_path, emulator, reconcile_every_hours=1000.0)


def demo_copy(factory: pytest.TempPathFactory, path: Path) -> Path:
    """A copy at `path` of `build_demo_warehouse`'s file (built once per test run)."""
    from simplymeet.models.sample import build_demo_warehouse

    template = built_once(factory, "demo", lambda root: build_demo_warehouse(root / "demo.duckdb"))
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(template / "demo.duckdb", path)
    return path


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Any]) -> Path:
    """The folder `name`, filled by `build(folder)` once per test run (do not write to it).

    The xdist workers share it: the first to need it builds it under a file lock, the others
    wait and reuse it. A folder a crashed worker left half built is built again.
    """
    root = _shared_root(factory) / name
    root.mkdir(parents=True, exist_ok=True)
    with (root.parent / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / _DONE).exists():
            for stale in root.iterdir():
                shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
            build(root)
            (root / _DONE).write_text(name)
    return root


def _shared_root(factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this run sees (the parent of the workers' temp roots)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
