"""What sqlglot says of each model, remembered between processes: the tables it reads, and
the SQL of an incremental model narrowed to its changed keys.

Finding them takes sqlglot's full parse of every model: about half a second of CPU for the
shipped models in a fresh process, paid by every `simplymeet sync` that builds the models and
every `simplymeet models build`. The answer depends only on the model's text, the dialect, the
version of our reading of the tree and sqlglot's version, so it is kept in a JSON file in the
user's cache folder, keyed by a hash of all of them: an edited model, another dialect or
another sqlglot misses and is parsed anew.

The file is an optimisation only. A folder that cannot be read or written, or a file that is
not this module's JSON, means parsing as before; nothing else is ever read from it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

CACHE_DIR_ENV = "SIMPLYMEET_CACHE_DIR"
"""The cache file's folder (default: `$XDG_CACHE_HOME/simplymeet`, else `~/.cache/simplymeet`)."""

FILE_NAME = "model-tables-read.json"
MAX_ENTRIES = 2_000
"""Oldest entries are dropped past this: every edit of a model adds one."""

_FORMAT = 1
"""Bumped when what an entry means changes (then every older entry misses)."""

TablesRead = dict[str, frozenset[str]]

_lock = threading.Lock()
_entries: dict[str, dict[str, list[str]]] | None = None
_unsaved = False


def cache_file() -> Path | None:
    """The cache file's path, or None when no folder can be named (no home, say)."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured) / FILE_NAME
    base = os.environ.get("XDG_CACHE_HOME")
    try:
        folder = Path(base) if base else Path.home() / ".cache"
    except RuntimeError:
        return None
    return folder / "simplymeet" / FILE_NAME


def tables_read(sql: str, kind: str, compute: Callable[[str], TablesRead]) -> TablesRead:
    """`compute(sql)`, or what it returned for the same text and `kind` in an earlier process.

    `kind` names everything else the answer depends on (the dialect, the version of `compute`).
    """
    found = _remembered(
        sql, kind, lambda text: {schema: sorted(names) for schema, names in compute(text).items()}
    )
    return {schema: frozenset(names) for schema, names in found.items()}


def derived_text(sql: str, kind: str, compute: Callable[[str], str]) -> str:
    """`compute(sql)`, a text (e.g. SQL rewritten by sqlglot), or what it returned for the same
    text and `kind` in an earlier process."""
    texts = _remembered(sql, kind, lambda text: {"text": [compute(text)]}).get("text")
    # A file edited by hand may hold the key without one text: computed afresh then.
    return texts[0] if texts else compute(sql)


def _remembered(
    sql: str, kind: str, compute: Callable[[str], dict[str, list[str]]]
) -> dict[str, list[str]]:
    key = _key(sql, kind)
    with _lock:
        found = _loaded().get(key)
    if found is not None:
        return found
    value = compute(sql)
    with _lock:
        global _unsaved
        _loaded()[key] = value
        _unsaved = True
    return value


def save() -> None:
    """Write what was computed since the file was read (no-op when nothing was)."""
    global _unsaved
    with _lock:
        if not _unsaved:
            return
        path = cache_file()
        entries = _loaded()
        kept = dict(list(entries.items())[-MAX_ENTRIES:])
        _unsaved = False
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        partial.write_text(json.dumps({"format": _FORMAT, "entries": kept}), encoding="utf-8")
        # Readers see the old file or the new one, never half of one; two writers at once each
        # write a whole file, and the last one's entries stay.
        os.replace(partial, path)
    except OSError as exc:
        log.debug("model parse cache not written to %s: %s", path, exc)


def forget() -> None:
    """Drop what this process read or computed (the file stays)."""
    global _entries, _unsaved
    with _lock:
        _entries = None
        _unsaved = False


def _key(sql: str, kind: str) -> str:
    import sqlglot

    text = f"{_FORMAT}\0{sqlglot.__version__}\0{kind}\0{sql}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _loaded() -> dict[str, dict[str, list[str]]]:
    """The file's entries, read once per process (called with `_lock` held)."""
    global _entries
    if _entries is None:
        _entries = _read(cache_file())
    return _entries


def _read(path: Path | None) -> dict[str, dict[str, list[str]]]:
    if path is None:
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.debug("model parse cache %s not read: %s", path, exc)
        return {}
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        return {}
    entries = document.get("entries")
    if not isinstance(entries, dict):
        return {}
    return {key: value for key, value in entries.items() if _well_formed(value)}


def _well_formed(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(schema, str)
        and isinstance(names, list)
        and all(isinstance(name, str) for name in names)
        for schema, names in value.items()
    )
