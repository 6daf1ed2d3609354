"""dlt's "is this type hint a secret?" test, answered once per hint.

dlt resolves its configuration field by field, and its environment-variable provider asks
`is_secret_hint(hint)` for every field in every config section it tries (a small sync of
every resource: ~5,000 lookups, ~7,600 calls with the recursion, 42% of dlt's configuration
resolution, itself about a sixth of the sync's CPU: bench/README.md, session 19). The answer
depends on the hint alone: whether it is `Annotated` with dlt's secret marker, or wraps a
credentials class (`Optional[...]`, `Final[...]`, ...). Classes do not change their bases, so
one answer per hint holds for the life of the process, whatever the environment or the
settings of a run; values, sections and providers are still looked up every time.

The answer decides where a value may come from (a secret is also read from
`/run/secrets`) and that it is masked in dlt's traces, so it must stay dlt's own answer: the
cache wraps dlt's function and never computes one itself.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

PATCHED_MODULE = "dlt.common.configuration.specs.base_configuration"
PATCHED_NAME = "is_secret_hint"
_MARK = "__simplymeet_cached__"

# Hints are the fields' types of dlt's and our config specs: a few hundred in a process.
_CACHE_SIZE = 4096


def cache_secret_hint_checks() -> None:
    """Have dlt answer `is_secret_hint` once per hint, for the rest of the process.

    Every dlt module that imported the function by name gets the cached one (the provider that
    asks most, and dlt's own recursion into `Optional[...]`); modules imported later take it
    from those. Calling again does nothing.
    """
    import importlib

    try:
        module = importlib.import_module(PATCHED_MODULE)
    except ImportError:
        return
    original: Callable[[Any], bool] | None = getattr(module, PATCHED_NAME, None)
    if original is None or getattr(original, _MARK, False):
        # A dlt that moved or renamed it is left as it is: slower, never wrong
        # (tests/test_sync_dlt_config_cost.py fails to say so).
        return
    cached = functools.lru_cache(maxsize=_CACHE_SIZE)(original)

    @functools.wraps(original)
    def is_secret_hint(hint: Any) -> bool:
        try:
            return cached(hint)
        except TypeError:
            # An unhashable hint (`Annotated` with a dict, say) cannot be a cache key.
            return original(hint)

    setattr(is_secret_hint, _MARK, True)
    for name, loaded in list(sys.modules.items()):
        # The module's own namespace, not getattr: some of dlt's modules answer unknown names
        # by importing (or failing to import) optional packages.
        namespace = getattr(loaded, "__dict__", {})
        if (name == "dlt" or name.startswith("dlt.")) and namespace.get(PATCHED_NAME) is original:
            setattr(loaded, PATCHED_NAME, is_secret_hint)


def uncached_is_secret_hint() -> Callable[[Any], bool]:
    """dlt's own `is_secret_hint`, whether or not the cache is in place (for comparisons)."""
    import importlib

    current = getattr(importlib.import_module(PATCHED_MODULE), PATCHED_NAME)
    return getattr(current, "__wrapped__", current)
