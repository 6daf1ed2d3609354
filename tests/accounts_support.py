"""Two accounts on two emulators seeded alike (same ids), different keys, one warehouse."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from simplymeet.config import Settings, load_settings
from simplymeet.emulator import RunningEmulator, start_emulator
from tests.sync_support import REPO

KEY_ENVS = {"north": "SM_TEST_KEY_NORTH", "south": "SM_TEST_KEY_SOUTH"}
EVENTS = {"north": 300, "south": 200}
"""Seed 1 for both: the ids of south's events are all ids of north's too."""
ANCHOR = dt.datetime.now(dt.UTC).date()
"""One day for the test run: a module's template and its tests' emulators, seeded apart, must
hold the same bookings even when the run crosses midnight UTC."""


@contextmanager
def two_emulators() -> Iterator[dict[str, RunningEmulator]]:
    """north and south, each with its own key, their keys exported where config says."""
    with (
        start_emulator(seed=1, events=EVENTS["north"], anchor=ANCHOR, api_key="key-north") as north,
        start_emulator(seed=1, events=EVENTS["south"], anchor=ANCHOR, api_key="key-south") as south,
    ):
        emulators = {"north": north, "south": south}
        saved = {env: os.environ.get(env) for env in KEY_ENVS.values()}
        for name, env in KEY_ENVS.items():
            os.environ[env] = emulators[name].api_key
        try:
            yield emulators
        finally:
            for env, value in saved.items():
                if value is None:
                    os.environ.pop(env, None)
                else:
                    os.environ[env] = value


def accounts_config(emulators: dict[str, RunningEmulator]) -> str:
    """config.toml's text with an [[accounts]] block per emulator (north first: primary)."""
    text = (REPO / "config.toml").read_text()
    for name, emu in emulators.items():
        text += (
            f'\n[[accounts]]\nname = "{name}"\napi_key_env = "{KEY_ENVS[name]}"\n'
            f'base_url = "{emu.base_url}"\n'
        )
    return text


def accounts_settings(
    tmp_path: Path, emulators: dict[str, RunningEmulator], **sync_overrides: object
) -> Settings:
    """Settings syncing every emulator as its own account into `tmp_path/warehouse.duckdb`."""
    path = tmp_path / "config.toml"
    path.write_text(accounts_config(emulators))
    settings = load_settings(path)
    settings = settings.with_overrides(
        "warehouse",
        duckdb_path=str(tmp_path / "warehouse.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
        pipeline_name="test_sync",
    )
    settings = settings.with_overrides("api", concurrency=4)
    return settings.with_overrides("sync", **{"build_models": False, **sync_overrides})
