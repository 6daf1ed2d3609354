"""One Python function per mutating endpoint, named after it (`event_cancel_list`, ...).

Each takes the settings and a client, targets (`ids`, `ids_file`, `sql` or `rows`, as the
command-line flags, and `id_column`) and the request's fields as keyword arguments (defaults
for every row; a row's column of the same name wins), and returns the run's `RunReport`. Run
options pass through to `api.run_operation`: `dry_run`, `job`, `chunk_size`, `concurrency`,
`retry_unknown`, `resend`, `refresh`, `include_past`, `include_future`, `confirm`,
`on_progress`.

    report = event_no_show_list(settings, client, ids=[101, 102, 103])
    report = event_reschedule(settings, client, rows=[{"id": 5, "start": "2027-12-01 10:00:00"}])

The functions are made from the operation table (`operations.py`), the one place an
operation's fields are declared, like the commands: each carries a real signature
(`help(event_cancel_list)` and editors that read `__signature__` show every field) and a
docstring with its endpoint and an example. A field added to the table is a keyword here
without a second edit, which the hand-written functions this replaces needed.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from simplymeet.config import Settings
from simplymeet.contract.endpoints import API_PREFIX
from simplymeet.writeback.api import run_operation
from simplymeet.writeback.execute import RunReport
from simplymeet.writeback.operations import OPERATIONS
from simplymeet.writeback.spec import FieldKind, OperationSpec
from simplymeet.writeback.targets import Targets

Ids = Sequence[int] | str | None
Rows = Sequence[dict[str, Any]] | None

_KIND_TYPES: dict[FieldKind, Any] = {
    "str": str | None,
    "int": int | None,
    "bool": bool | None,
    "datetime": str | dt.datetime | None,
    "json": Any,
    "int_list": Sequence[int] | str | None,
    "str_list": Sequence[str] | str | None,
    "datetime_list": Sequence[str | dt.datetime] | str | None,
}

_TARGET_NAMES = ("ids", "ids_file", "sql", "rows", "id_column")


def _keyword(name: str, annotation: Any) -> inspect.Parameter:
    kind = inspect.Parameter.KEYWORD_ONLY
    return inspect.Parameter(name, kind, default=None, annotation=annotation)


def _signature(spec: OperationSpec) -> inspect.Signature:
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [
        inspect.Parameter("settings", positional, annotation=Settings),
        inspect.Parameter("client", positional, annotation=Any),
    ]
    if not spec.single:
        if spec.key is not None:
            params.append(_keyword("ids", Ids))
        params += [
            _keyword("ids_file", str | Path | None),
            _keyword("sql", str | None),
            _keyword("rows", Rows),
        ]
        if spec.key is not None:
            params.append(_keyword("id_column", str | None))
    params += [
        _keyword(f.name, _KIND_TYPES[f.kind])
        for f in spec.fields
        if f.name != spec.key and not f.filled
    ]
    params.append(inspect.Parameter("run", inspect.Parameter.VAR_KEYWORD, annotation=Any))
    return inspect.Signature(params, return_annotation=RunReport)


def _function(spec: OperationSpec) -> Callable[..., RunReport]:
    signature = _signature(spec)
    fields = spec.field_names() - {spec.key}

    def function(*args: Any, **kwargs: Any) -> RunReport:
        bound = signature.bind(*args, **kwargs)
        given = dict(bound.arguments)
        run = given.pop("run", {})
        targets = Targets(**{n: given.pop(n) for n in _TARGET_NAMES if n in given})
        values = {n: given.pop(n) for n in fields if n in given}
        return run_operation(spec, given["settings"], given["client"], targets, values, **run)

    endpoint = spec.contract
    function.__name__ = function.__qualname__ = spec.endpoint
    function.__module__ = __name__
    function.__doc__ = (
        f"{spec.summary}\n\nSends {endpoint.method_text} {API_PREFIX}{endpoint.path}; the command "
        f"is `simplymeet {spec.cli_name}`.\n\nExample (the command): {spec.example}"
    )
    function.__signature__ = signature  # type: ignore[attr-defined]
    return function


__all__ = sorted(OPERATIONS)
globals().update({name: _function(spec) for name, spec in OPERATIONS.items()})
