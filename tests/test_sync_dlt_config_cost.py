"""What a sync pays dlt for resolving its configuration, and that paying less changes nothing.

dlt's `is_secret_hint` is answered once per type hint (`sync/dlt_secret_hints.py`,
bench/README.md, session 19). A sync with the cache lands what one without it lands; the cache
answers as dlt does; settings from the environment still take effect; and the name patched in
dlt is still there to patch.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import typing
from pathlib import Path
from typing import Annotated, Any, Final, Optional

import pytest
from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.specs import (
    BaseConfiguration,
    ConnectionStringCredentials,
    CredentialsConfiguration,
)
from dlt.common.configuration.specs.base_configuration import SecretSentinel
from dlt.common.typing import TSecretStrValue, TSecretValue
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from simplymeet.emulator import start_emulator
from simplymeet.sync import runner
from simplymeet.sync.dlt_secret_hints import (
    PATCHED_MODULE,
    PATCHED_NAME,
    cache_secret_hint_checks,
    uncached_is_secret_hint,
)
from tests.sync_support import client_for, query, run_sync, settings_for

EVENTS = 120

# Modules that look the name up in their own namespace on every call: the patch must reach them.
_ASKING_MODULES = (
    PATCHED_MODULE,
    "dlt.common.configuration.providers.environ",
    "dlt.common.configuration.resolve",
)


def _is_secret_hint_now() -> Any:
    return getattr(importlib.import_module(PATCHED_MODULE), PATCHED_NAME)


def _without_hint_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """dlt's own `is_secret_hint` everywhere, until the test ends; `make_pipeline` leaves it."""
    original = uncached_is_secret_hint()
    for name, module in list(sys.modules.items()):
        current = getattr(module, "__dict__", {}).get(PATCHED_NAME)
        if name.startswith("dlt") and current is not None and current is not original:
            monkeypatch.setattr(module, PATCHED_NAME, original)
    monkeypatch.setattr(runner, "cache_secret_hint_checks", lambda: None)


# --- the patched name ---------------------------------------------------------------------


def test_dlt_still_defines_the_patched_function_and_its_provider_asks_it_by_name():
    """Fails after a dlt upgrade that renames or moves `is_secret_hint`: the cache would then
    patch nothing (or miss the provider that asks it most) and the sync pay full price."""
    for name in _ASKING_MODULES:
        module = importlib.import_module(name)
        assert callable(vars(module).get(PATCHED_NAME)), f"{name}.{PATCHED_NAME}"


def test_make_pipeline_puts_the_cache_where_dlt_asks(tmp_path, monkeypatch):
    original = uncached_is_secret_hint()
    for name in _ASKING_MODULES:
        monkeypatch.setattr(importlib.import_module(name), PATCHED_NAME, original)
    runner.make_pipeline(_settings(tmp_path))
    for name in _ASKING_MODULES:
        patched = vars(importlib.import_module(name))[PATCHED_NAME]
        assert patched is not original, name
        assert patched.__wrapped__ is original, name


def _settings(tmp_path: Path) -> Any:
    from simplymeet.config import load_settings
    from tests.sync_support import REPO

    return load_settings(REPO / "config.toml").with_overrides(
        "warehouse",
        duckdb_path=str(tmp_path / "warehouse.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
        pipeline_name="hints",
    )


# --- the answers --------------------------------------------------------------------------


class _Credentials(CredentialsConfiguration):
    pass


def _hints_dlt_asks_about() -> list[Any]:
    """Every field hint of every config spec loaded (dlt's and ours), and hints built to hit
    each branch of dlt's test: the secret marker, wrapped or not, and credentials classes."""
    importlib.import_module("dlt.destinations.impl.duckdb.configuration")
    importlib.import_module("dlt.destinations.impl.postgres.configuration")
    # typing's spellings on purpose (dlt's own specs use them), and the `|` ones.
    hints: list[Any] = [
        TSecretValue,
        TSecretStrValue,
        Optional[TSecretStrValue],  # noqa: UP045
        TSecretStrValue | None,
        Final[TSecretStrValue],
        Annotated[str, SecretSentinel],
        Annotated[str | None, "doc", SecretSentinel],
        _Credentials,
        Optional[_Credentials],  # noqa: UP045
        _Credentials | None,
        typing.Union[_Credentials, str],  # noqa: UP007
        ConnectionStringCredentials,
        DuckDbCredentials | None,
        str,
        int | None,
        Any,
    ]
    pending: list[type] = [BaseConfiguration]
    while pending:
        spec = pending.pop()
        pending.extend(spec.__subclasses__())
        try:
            hints.extend(spec.get_resolvable_fields().values())
        except Exception:  # a spec whose hints name a module not installed
            continue
    return hints


def test_the_cache_answers_as_dlt_does_for_every_hint():
    cache_secret_hint_checks()
    cached, original = _is_secret_hint_now(), uncached_is_secret_hint()
    assert cached is not original
    hints = _hints_dlt_asks_about()
    assert len(hints) > 100
    # Twice: the second answer comes from the cache.
    for _ in range(2):
        assert [cached(hint) for hint in hints] == [original(hint) for hint in hints]
    assert cached(TSecretStrValue) and cached(_Credentials | None) and cached(TSecretValue)
    assert not cached(str) and not cached(int | None)


def test_an_unhashable_hint_is_answered_by_dlt():
    cache_secret_hint_checks()
    unhashable = Annotated[str, {"doc": "a dict cannot be a cache key"}, SecretSentinel]
    with pytest.raises(TypeError):
        hash(unhashable)
    assert _is_secret_hint_now()(unhashable) is uncached_is_secret_hint()(unhashable) is True


@configspec
class _ServiceConfiguration(BaseConfiguration):
    host: str = None
    password: TSecretStrValue = None


def test_settings_from_the_environment_still_take_effect_each_time(monkeypatch):
    cache_secret_hint_checks()
    for host, password in (("a.example", "first secret"), ("b.example", "second secret")):
        monkeypatch.setenv("HINTS_SERVICE__HOST", host)
        monkeypatch.setenv("HINTS_SERVICE__PASSWORD", password)
        config = resolve_configuration(_ServiceConfiguration(), sections=("hints_service",))
        assert (config.host, config.password) == (host, password)


# --- the warehouse ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator() -> Any:
    with start_emulator(seed=19, events=EVENTS) as emu:
        yield emu


def _warehouse(settings: Any) -> dict[str, Any]:
    """Every table of the raw dataset without what the run's clock put in it, and the table
    schemas dlt recorded."""
    stamps = {"_synced_at", "first_seen_at", "_dlt_load_id", "_dlt_id"}
    tables = [
        name
        for (name,) in query(
            settings,
            "select table_name from information_schema.tables where table_schema = 'raw' "
            "order by 1",
        )
    ]
    landed: dict[str, Any] = {}
    for name in tables:
        if name.startswith("_dlt_") or name == runner.RUNS_TABLE:
            continue
        columns = query(
            settings,
            "select column_name, data_type from information_schema.columns "
            f"where table_schema = 'raw' and table_name = '{name}' order by ordinal_position",
        )
        kept = ", ".join(f'"{column}"' for column, _ in columns if column not in stamps)
        landed[name] = (columns, query(settings, f"select {kept} from raw.{name} order by all"))
    [(schema,)] = query(
        settings, "select schema from raw._dlt_version order by inserted_at desc limit 1"
    )
    landed["dlt schema"] = json.loads(schema)["tables"]
    return landed


def _synced_by_both(
    tmp_path: Path, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Warehouses synced with the cache and without, each first sync and each incremental one
    after the same change upstream, one right after the other."""
    cut = settings_for(tmp_path / "cut", emulator)
    reference = settings_for(tmp_path / "reference", emulator)

    def sync_both() -> None:
        run_sync(cut, emulator)
        with monkeypatch.context() as plain:
            _without_hint_cache(plain)
            run_sync(reference, emulator)
            assert _is_secret_hint_now() is uncached_is_secret_hint()
        assert _is_secret_hint_now() is not uncached_is_secret_hint()

    sync_both()
    [(event_id,)] = query(cut, "select min(id) from raw.events")
    with client_for(emulator) as client:
        client.call("event_notes", {"id": event_id}, body={"notes": "moved to Thursday"})
    sync_both()
    return _warehouse(cut), _warehouse(reference)


def test_a_sync_lands_what_dlt_s_own_configuration_path_lands(tmp_path, emulator, monkeypatch):
    # Free slots are those not yet begun: both syncs read them for the same instant.
    frozen = time.time()
    monkeypatch.setattr(emulator.store, "availability_clock", lambda: frozen)
    cut, reference = _synced_by_both(tmp_path, emulator, monkeypatch)
    assert cut.keys() == reference.keys()
    assert len(cut["events"][1]) == EVENTS
    assert any("moved to Thursday" in row for row in cut["events"][1])
    assert cut["event_type_availability_slots"][1]
    for name in cut:
        assert cut[name] == reference[name], name
