"""dlt's per-table settings, resolved once per sync instead of once per table.

dlt resolves a configuration spec every time it opens a file writer (the buffered writer's
`BufferedDataWriterConfiguration` and the file format's, e.g. `ParquetFormatConfiguration`),
prepares a table for the load (`PrepareLoadTableConfiguration`) or asks a table's merge
strategy (`ResolveMergeStrategyConfiguration`): each field is looked up in every provider under
every config section. A 300-event first sync of every resource made 450 such resolutions, now
60, 4-7% of its CPU (bench/README.md, session 24).

A run reads these settings once per key: the spec, the config sections and pipeline in force,
the providers, the injected contexts (destination capabilities) and the values the caller
passed. A setting changed while a run goes on (the environment, `dlt.config`) is read by the
next run, which starts with an empty memo. A config object the caller passes to be resolved
in place, any other spec, and any resolution outside a run are dlt's own, untouched. Another
dlt pipeline of the same process (an orchestrator's) shares the memo while a sync runs, under
its own pipeline name and sections.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

PATCHED_MODULE = "dlt.common.configuration.inject"
PATCHED_NAME = "resolve_configuration"
_MARK = "__simplymeet_table_configs__"

P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_runs = 0
_generation = 0
_memo: dict[Hashable, tuple[Any, tuple[Any, ...]]] = {}


def memoized_specs() -> tuple[type, ...]:
    """The specs resolved per table: those of dlt's functions that resolve one for each call."""
    from dlt.common.configuration.inject import get_fun_spec
    from dlt.common.data_writers import writers
    from dlt.common.data_writers.buffered import BufferedDataWriter
    from dlt.common.destination import utils

    decorated: list[Callable[..., Any]] = [
        BufferedDataWriter.__init__,
        utils.prepare_load_table,
        utils.resolve_merge_strategy,
        *(
            vars(cls)["__init__"]
            for cls in vars(writers).values()
            if isinstance(cls, type) and "__init__" in vars(cls)
        ),
    ]
    specs = {get_fun_spec(getattr(f, "__wrapped__", f)) for f in decorated}
    return tuple(spec for spec in specs if spec is not None)


@functools.cache
def _specs() -> frozenset[type]:
    try:
        return frozenset(memoized_specs())
    except (ImportError, AttributeError):
        # A dlt that moved these is resolved as dlt does: slower, never wrong
        # (tests/test_sync_dlt_config_cost.py fails to say so).
        return frozenset()


@functools.cache
def _context_fields(spec: type) -> tuple[tuple[str, type], ...]:
    """The fields of `spec` that dlt fills from an injected context, not from a provider."""
    from dlt.common.configuration.specs.base_configuration import (
        extract_inner_hint,
        is_context_inner_hint,
    )

    fields = spec.get_resolvable_fields()  # type: ignore[attr-defined]
    inner = {name: extract_inner_hint(hint) for name, hint in fields.items()}
    return tuple((name, hint) for name, hint in inner.items() if is_context_inner_hint(hint))


@functools.cache
def _defaults(spec: type) -> dict[str, Any]:
    return dict(spec())


def _pristine(config: Any) -> bool:
    """Whether `config` is the spec's fresh instance `with_config` makes, not one a caller
    passed to be resolved in place (dlt returns that very object, filled)."""
    spec: Any = type(config)
    return dict(config) == _defaults(spec)


def _given(value: Any) -> bool:
    """Whether a caller passed `value`: `dlt.config.value` asks dlt to look it up."""
    from dlt.common.typing import ConfigValueSentinel

    return value is not None and not isinstance(value, ConfigValueSentinel)


def _identity(value: Any) -> Hashable:
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return ("value", type(value), value)


def _key(config: Any, explicit_value: Any, accept_partial: bool) -> tuple[Hashable, tuple]:
    """What the resolution depends on, and the objects whose identity is part of it.

    The objects are held with the memo entry, so an id in the key cannot be reused by a
    different object while the entry lives.
    """
    from dlt.common.configuration.container import Container
    from dlt.common.configuration.specs import ConfigSectionContext, PluggableRunContext

    container = Container()
    section = container[ConfigSectionContext]
    providers = container[PluggableRunContext].providers
    held: list[Any] = [providers]
    explicit: list[Hashable] = []
    if isinstance(explicit_value, dict):
        fields = config.get_resolvable_fields()
        for name in sorted(fields):
            if name in explicit_value:
                value = explicit_value[name]
                held.append(value)
                explicit.append((name, _identity(value)))
    elif explicit_value is not None:
        held.append(explicit_value)
        explicit.append(("", _identity(explicit_value)))
    injected: list[Hashable] = []
    spec: Any = type(config)
    for name, hint in _context_fields(spec):
        if not (isinstance(explicit_value, dict) and _given(explicit_value.get(name))):
            current: Any = None
            # What dlt's context provider answers: the injected one, or its default.
            with contextlib.suppress(KeyError, TypeError):
                current = container[hint]
            held.append(current)
            injected.append((name, id(current)))
    key = (
        type(config),
        section.pipeline_name,
        section.sections,
        section.source_state_key,
        id(providers),
        tuple(explicit),
        tuple(injected),
        accept_partial,
    )
    return key, tuple(held)


def _memoizing(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def resolve_configuration(config: Any, **kwargs: Any) -> Any:
        if (
            not _runs
            or type(config) not in _specs()
            or kwargs.get("sections")
            or not _pristine(config)
        ):
            return original(config, **kwargs)
        generation = _generation
        key, held = _key(config, kwargs.get("explicit_value"), kwargs.get("accept_partial", False))
        entry = _memo.get(key)
        if entry is None:
            resolved = original(config, **kwargs)
            with _lock:
                # Not into the memo of a run that started since: it reads settings afresh.
                if _runs and _generation == generation:
                    _memo[key] = (resolved, held)
            return resolved
        # A copy: dlt keeps the resolved config as the function's last one.
        return copy.copy(entry[0])

    setattr(resolve_configuration, _MARK, True)
    return resolve_configuration


def _install() -> bool:
    try:
        module = importlib.import_module(PATCHED_MODULE)
    except ImportError:
        return False
    current = getattr(module, PATCHED_NAME, None)
    if current is None:
        return False
    if not getattr(current, _MARK, False):
        setattr(module, PATCHED_NAME, _memoizing(current))
    return True


@contextmanager
def table_configs_resolved_once() -> Iterator[None]:
    """Within this block (one sync), dlt resolves each per-table spec once per distinct key.

    Each run starts with an empty memo, so it reads settings changed before it started; runs
    that overlap (several accounts in one process) share it from then on (its keys tell their
    pipelines and sections apart), and a run starting empties it for those still going: they
    pay a resolution again, never read an older one.
    """
    global _runs, _generation
    _install()
    with _lock:
        _runs += 1
        _generation += 1
        _memo.clear()
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if not _runs:
                _memo.clear()


def resolving_table_configs_once(run: Callable[P, R]) -> Callable[P, R]:
    """Decorate a sync so that it runs under `table_configs_resolved_once`."""

    @functools.wraps(run)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        with table_configs_resolved_once():
            return run(*args, **kwargs)

    return wrapped


def memo_size() -> int:
    """How many resolutions the memo holds now (0 outside a run)."""
    return len(_memo)


def unmemoized_resolve_configuration() -> Callable[..., Any]:
    """dlt's own `resolve_configuration` as `with_config` calls it, memo or not."""
    current = getattr(importlib.import_module(PATCHED_MODULE), PATCHED_NAME)
    return getattr(current, "__wrapped__", current)
