"""Arrow conversions in the `simplymeet sync` command without importing pandas.

The first `pyarrow.array` of Python values imports pandas twice over: pyarrow's C++ looks up
pandas' missing-value objects (`NA`, `NaT`) to recognise them among the values, and its pandas
shim asks whether the list is a pandas object. 0.25-0.45 s of every `simplymeet sync`
(bench/README.md), for a library the command never uses.

The C++ side remembers a failed lookup for the rest of the process: pyarrow then no longer
reads `pd.NA` or `NaT` among Python values (a pandas Series of a nullable dtype, say). So only
the command holds pandas back, in a process that ends after its sync and alerts; a sync run as
a library (a notebook, an orchestrator) leaves pyarrow as it found it. Whole tables still go
to and from pandas (`Table.to_pandas`, `Table.from_pandas`): the shim imports pandas then.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

import pyarrow as pa


class _PandasHeldBack:
    """An import finder that answers "not installed" for pandas alone, while it is on the path."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name == "pandas":
            raise ModuleNotFoundError("pandas is held back while pyarrow starts", name=name)
        return None


def convert_without_pandas() -> None:
    """Settle pyarrow's pandas questions before a sync converts rows, without importing pandas,
    for the rest of the process (see the module's docstring for what that gives up).

    Call it before threads that may import pandas start: while it runs, importing pandas fails.
    Once pandas is imported (by anyone) the questions cost nothing and are left alone.
    """
    if "pandas" in sys.modules:
        return
    finder = _PandasHeldBack()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(finder)
