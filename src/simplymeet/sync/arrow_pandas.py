"""Arrow conversions in a sync without importing pandas.

The first `pyarrow.array` of a Python list asks pyarrow's pandas shim whether the list is a
pandas object, and the shim imports pandas to find out: 0.25 s of every `simplymeet sync`
(bench/README.md, B14), for a library the sync never uses. The shim asks that question
without insisting, and remembers the answer only for such questions: anything that needs
pandas from pyarrow later (`Table.to_pandas`, `Table.from_pandas`) imports it then, as usual.
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
    """Settle pyarrow's pandas question before a sync converts rows, without importing pandas.

    Call it before threads that may import pandas start: while it runs, importing pandas fails.
    Once pandas is imported (by anyone) the question costs nothing and is left alone.
    """
    if "pandas" in sys.modules:
        return
    finder = _PandasHeldBack()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(finder)
