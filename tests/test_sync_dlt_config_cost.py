"""What a sync pays dlt for resolving its configuration, and that paying less changes nothing.

dlt's `is_secret_hint` is answered once per type hint (`sync/dlt_secret_hints.py`,
bench/README.md, session 19), its per-table specs are resolved once per run and key
(`sync/dlt_table_configs.py`, session 24), and its stored schema is read again only when its
file changed (`sync/dlt_live_schema.py`, session 45). A sync with them lands what one without
them lands;
the cache answers as dlt does; settings from the environment still take effect; the memo tells
sections, passed values and injected contexts apart and is gone after the run; and the names
patched in dlt are still there to patch.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import types
import typing
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Final, Optional

import dlt
import pytest
from dlt.common.configuration import configspec, resolve_configuration, with_config
from dlt.common.configuration.container import Container
from dlt.common.configuration.resolve import inject_section
from dlt.common.configuration.specs import (
    BaseConfiguration,
    ConfigSectionContext,
    ConnectionStringCredentials,
    CredentialsConfiguration,
)
from dlt.common.configuration.specs.base_configuration import SecretSentinel
from dlt.common.destination.configuration import ParquetFormatConfiguration
from dlt.common.typing import TSecretStrValue, TSecretValue
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from simplymeet.emulator import start_emulator
from simplymeet.sync import dlt_live_schema, dlt_table_configs, runner
from simplymeet.sync.dlt_secret_hints import (
    PATCHED_MODULE,
    PATCHED_NAME,
    cache_secret_hint_checks,
    uncached_is_secret_hint,
)
from simplymeet.sync.dlt_table_configs import memo_size, table_configs_resolved_once
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


def _resolve_configuration_now() -> Any:
    inject = importlib.import_module(dlt_table_configs.PATCHED_MODULE)
    return getattr(inject, dlt_table_configs.PATCHED_NAME)


def _unmemoized() -> Any:
    return dlt_table_configs.unmemoized_resolve_configuration()


def _dlts_own_configuration_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """dlt's own `is_secret_hint` everywhere and its own `resolve_configuration` for
    `with_config`, until the test ends; `make_pipeline` and `run_sync` leave them."""
    inject = importlib.import_module(dlt_table_configs.PATCHED_MODULE)
    monkeypatch.setattr(
        inject,
        dlt_table_configs.PATCHED_NAME,
        dlt_table_configs.unmemoized_resolve_configuration(),
    )
    monkeypatch.setattr(dlt_table_configs, "_install", lambda: False)
    original = uncached_is_secret_hint()
    for name, module in list(sys.modules.items()):
        current = getattr(module, "__dict__", {}).get(PATCHED_NAME)
        if name.startswith("dlt") and current is not None and current is not original:
            monkeypatch.setattr(module, PATCHED_NAME, original)
    monkeypatch.setattr(runner, "cache_secret_hint_checks", lambda: None)
    # And dlt's own reading of its stored schema on every access (`dlt_live_schema`).
    storage = importlib.import_module(dlt_live_schema.PATCHED_MODULE)
    monkeypatch.setattr(
        getattr(storage, dlt_live_schema.PATCHED_CLASS),
        "__getitem__",
        dlt_live_schema.unpatched_getitem(),
    )
    monkeypatch.setattr(dlt_live_schema, "_install", lambda: False)


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
    """Warehouses synced with the cache and the memo and without them, each first sync and
    each incremental one after the same change upstream, one right after the other."""
    cut = settings_for(tmp_path / "cut", emulator)
    reference = settings_for(tmp_path / "reference", emulator)

    def sync_both() -> None:
        run_sync(cut, emulator)
        with monkeypatch.context() as plain:
            _dlts_own_configuration_path(plain)
            run_sync(reference, emulator)
            assert _is_secret_hint_now() is uncached_is_secret_hint()
            assert _resolve_configuration_now() is _unmemoized()
        assert _is_secret_hint_now() is not uncached_is_secret_hint()
        assert _resolve_configuration_now() is not _unmemoized()

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


# --- the per-table specs, resolved once per run -------------------------------------------


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def test_dlt_still_resolves_its_per_table_specs_through_the_patched_name():
    """Fails after a dlt upgrade that moves these: the memo would then hold nothing, and each
    writer opened and each table loaded would pay a resolution again."""
    names = {spec.__name__ for spec in dlt_table_configs.memoized_specs()}
    assert names >= {
        "BufferedDataWriterConfiguration",
        "ParquetFormatConfiguration",
        "PrepareLoadTableConfiguration",
        "ResolveMergeStrategyConfiguration",
    }
    inject = importlib.import_module(dlt_table_configs.PATCHED_MODULE)
    resolving = [
        code
        for code in _code_objects(inject.with_config.__code__)
        if dlt_table_configs.PATCHED_NAME in code.co_names
    ]
    assert [code.co_name for code in resolving] == ["resolve_config"]


def _writer_spec() -> type:
    from dlt.common.configuration.inject import get_fun_spec
    from dlt.common.data_writers.buffered import BufferedDataWriter

    return get_fun_spec(BufferedDataWriter.__init__.__wrapped__)


@pytest.fixture
def writer_settings() -> Any:
    """A function dlt resolves the buffered writer's spec for, as it does per writer opened."""

    @with_config(spec=_writer_spec())
    def settings(
        *,
        buffer_max_items: int = 5000,
        file_max_items: int | None = None,
        file_max_bytes: int | None = None,
        disable_compression: bool = False,
        _caps: Any = None,
    ) -> tuple[int, int | None, Any]:
        return buffer_max_items, file_max_items, _caps

    return settings


def test_a_per_table_spec_is_resolved_once_within_a_run(writer_settings, monkeypatch):
    monkeypatch.setenv("DATA_WRITER__BUFFER_MAX_ITEMS", "7")
    with table_configs_resolved_once():
        assert writer_settings()[0] == 7
        monkeypatch.setenv("DATA_WRITER__BUFFER_MAX_ITEMS", "8")
        assert writer_settings()[0] == 7
        assert memo_size() == 1


def test_a_setting_changed_between_runs_is_read_by_the_next(writer_settings, monkeypatch):
    for value in (7, 8):
        monkeypatch.setenv("DATA_WRITER__BUFFER_MAX_ITEMS", str(value))
        with table_configs_resolved_once():
            assert writer_settings()[0] == value
        assert memo_size() == 0


def test_the_memo_is_gone_after_a_run_that_raised(writer_settings):
    with pytest.raises(RuntimeError), table_configs_resolved_once():
        writer_settings()
        assert memo_size() == 1
        raise RuntimeError("the run failed")
    assert memo_size() == 0


def test_each_config_section_gets_its_own_resolution(writer_settings, monkeypatch):
    monkeypatch.setenv("DATA_WRITER__BUFFER_MAX_ITEMS", "7")
    monkeypatch.setenv("NORMALIZE__DATA_WRITER__BUFFER_MAX_ITEMS", "9")
    with table_configs_resolved_once():
        assert writer_settings()[0] == 7
        with inject_section(ConfigSectionContext(pipeline_name="p", sections=("normalize",))):
            assert writer_settings()[0] == 9
        assert writer_settings()[0] == 7


def test_values_the_caller_passes_are_part_of_the_key(writer_settings):
    with table_configs_resolved_once():
        assert writer_settings(file_max_items=3)[1] == 3
        assert writer_settings(file_max_items=4)[1] == 4
        assert writer_settings()[1] is None


@pytest.mark.parametrize(
    "asked", [{}, {"_caps": dlt.config.value}], ids=["not passed", "passed as dlt.config.value"]
)
def test_an_injected_context_is_part_of_the_key(writer_settings, asked):
    from dlt.common.destination import DestinationCapabilitiesContext

    first, second = (DestinationCapabilitiesContext.generic_capabilities() for _ in range(2))
    container = Container()
    with table_configs_resolved_once():
        with container.injectable_context(first):
            assert writer_settings(**asked)[2] is first
        with container.injectable_context(second):
            assert writer_settings(**asked)[2] is second


def test_a_config_the_caller_passes_is_resolved_in_place_as_dlt_does():
    # ParquetFormatConfiguration is imported at module level: dlt finds the spec argument by
    # its annotation, resolved in this module's namespace.
    @with_config(spec=ParquetFormatConfiguration)
    def writer(*, version: str = "2.4", _format: ParquetFormatConfiguration = None) -> Any:
        return _format

    passed = ParquetFormatConfiguration()
    passed.version = "1.0"
    with table_configs_resolved_once():
        writer()
        resolved = writer(_format=passed)
    assert resolved is passed
    assert resolved.version == "1.0"


def test_a_run_starting_beside_another_reads_settings_changed_since(writer_settings, monkeypatch):
    with table_configs_resolved_once():
        for value in (7, 8):
            monkeypatch.setenv("DATA_WRITER__BUFFER_MAX_ITEMS", str(value))
            with table_configs_resolved_once():
                assert writer_settings()[0] == value
    assert memo_size() == 0


def test_outside_a_run_dlt_resolves_every_time(writer_settings, monkeypatch):
    for value in (7, 8):
        monkeypatch.setenv("DATA_WRITER__BUFFER_MAX_ITEMS", str(value))
        assert writer_settings()[0] == value
        assert memo_size() == 0


def test_a_sync_resolves_each_per_table_spec_a_few_times_not_per_table(
    tmp_path, emulator, monkeypatch
):
    resolved: Counter[str] = Counter()
    dlts = _unmemoized()

    def counting(config: Any, **kwargs: Any) -> Any:
        resolved[type(config).__name__] += 1
        return dlts(config, **kwargs)

    # Under the memo, which run_sync installs again around it.
    monkeypatch.setattr(
        importlib.import_module(dlt_table_configs.PATCHED_MODULE),
        dlt_table_configs.PATCHED_NAME,
        counting,
    )
    settings = settings_for(tmp_path, emulator)
    run_sync(settings, emulator)
    [(tables,)] = query(
        settings,
        "select count(*) from information_schema.tables where table_schema = 'raw' "
        "and table_name not like '_dlt%'",
    )
    assert tables > 20
    # One per section the writers open in (the extract's and the normalizer's).
    assert 1 <= resolved["ParquetFormatConfiguration"] <= 2
    assert 2 <= resolved["BufferedDataWriterConfiguration"] <= 4
