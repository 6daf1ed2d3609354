"""Package attributes imported on first use, so `import simplymeet.x` stays cheap.

The packages re-export their public API (`from simplymeet.sync import run_sync`), but importing
what those names live in pulls in dlt, DuckDB, pyarrow or pandas: seconds of process start that
`simplymeet --help` and every light command would pay. A package lists its exports here instead;
each is imported by PEP 562 `__getattr__` the first time it is read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, str], star: tuple[str, ...] = ()
) -> Callable[[str], Any]:
    """The PEP 562 `__getattr__` of a package whose `exports` maps a name to its module
    (`"pkg.mod"`, or `"pkg.mod:other"` when the module calls it `other`).

    `star` names modules whose own `__all__` is re-exported too (`from m import *`); the
    package's `__all__` is then computed on first use, when `from package import *` asks.
    """
    namespace: dict[str, Any] = {}

    def names() -> list[str]:
        found = list(exports)
        for module in star:
            found.extend(importlib.import_module(module).__all__)
        return found

    def __getattr__(name: str) -> Any:
        if name == "__all__":
            return names()
        if name in namespace:
            return namespace[name]
        where = exports.get(name)
        if where is not None:
            module, _, attribute = where.partition(":")
            value = getattr(importlib.import_module(module), attribute or name)
        else:
            for candidate in star:
                loaded = importlib.import_module(candidate)
                if name in loaded.__all__:
                    value = getattr(loaded, name)
                    break
            else:
                raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    return __getattr__
