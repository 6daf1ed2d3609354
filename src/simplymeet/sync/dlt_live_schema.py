"""dlt's live schema, read again from its file only when the file changed.

Every `pipeline.default_schema` asks `LiveSchemaStorage.__getitem__`, which loads the stored
schema whenever the live one is committed: it reads the JSON, verifies its hash, builds a
`Schema` and copies it into the live one, in case another process changed the file. A quiet
sync asks 14 times, for 7-8% of its CPU (bench/README.md, session 45).

A committed live schema is its file's content; the file changes only when it is written (by
dlt's save, or by another process). So while a sync runs, an access that finds the file
holding the very bytes the live schema was last loaded from returns the live schema; any
other access (the file written since, the live schema modified, an import schema path
configured, no run going on) is dlt's own.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

PATCHED_MODULE = "dlt.common.storages.live_schema_storage"
PATCHED_CLASS = "LiveSchemaStorage"
_MARK = "__simplymeet_live_schema__"

P = ParamSpec("P")
R = TypeVar("R")

_lock = threading.Lock()
_runs = 0
_LOADED = "_simplymeet_loaded_bytes"
"""A storage's attribute: per schema name, the bytes of the file its live schema was last
loaded from (on the storage itself: dlt's storages are not hashable, and each pipeline
opened makes its own)."""


def _stored_bytes(storage: Any, name: str) -> bytes | None:
    """The stored schema file's bytes as they are now; None when there is none."""
    path = storage.storage.make_full_path(storage._file_name_in_store(name, "json"))
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError:
        return None


def _reading_when_changed(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def __getitem__(self: Any, name: str) -> Any:
        if not _runs or self.config.import_schema_path:
            return original(self, name)
        live = self.live_schemas.get(name)
        if live is not None and not live.is_modified:
            seen = self.__dict__.get(_LOADED, {}).get(name)
            if seen is not None and _stored_bytes(self, name) == seen:
                return live
        before = _stored_bytes(self, name)
        schema = original(self, name)
        # Kept only when the file did not change while dlt read it: the bytes are then those
        # the live schema was loaded from.
        if before is not None and _stored_bytes(self, name) == before:
            with _lock:
                self.__dict__.setdefault(_LOADED, {})[name] = before
        return schema

    setattr(__getitem__, _MARK, True)
    return __getitem__


def _install() -> bool:
    try:
        cls = getattr(importlib.import_module(PATCHED_MODULE), PATCHED_CLASS)
    except (ImportError, AttributeError):
        return False
    current = cls.__dict__.get("__getitem__")
    if current is None:
        return False
    if not getattr(current, _MARK, False):
        cls.__getitem__ = _reading_when_changed(current)
    return True


@contextmanager
def live_schemas_read_when_changed() -> Iterator[None]:
    """Within this block (one sync), dlt reads a stored schema again only when its file
    changed since the live schema was loaded from it."""
    global _runs
    _install()
    with _lock:
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1


def reading_live_schemas_when_changed(run: Callable[P, R]) -> Callable[P, R]:
    """Decorate a sync so that it runs under `live_schemas_read_when_changed`."""

    @functools.wraps(run)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        with live_schemas_read_when_changed():
            return run(*args, **kwargs)

    return wrapped


def unpatched_getitem() -> Callable[..., Any]:
    """dlt's own `LiveSchemaStorage.__getitem__`, patched or not."""
    cls = getattr(importlib.import_module(PATCHED_MODULE), PATCHED_CLASS)
    current = cls.__dict__["__getitem__"]
    return getattr(current, "__wrapped__", current)
