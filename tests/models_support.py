"""Building only the models a test reads, on hand-built raw rows.

A test of one mart on a `SampleWarehouse` reads that mart; `raw.build()` builds all ~50
models, and parsing and building the ones the test never reads is two thirds of its CPU.
`build_only(raw, models=["fct_events"])` writes the same raw rows and builds the same SQL with the
same runner (`build_models`), from a project folder holding only those models and every model
they read (their `.sql`, `.toml` and dialect files, copied from `sql/`). Every model still
builds on real data elsewhere: the demo warehouse (`test_models_datatests`) and every sync
with models on.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import duckdb

from simplymeet.config import Settings
from simplymeet.models import build_models, load_project
from simplymeet.models.project import default_sql_dir
from simplymeet.models.sample import SampleWarehouse


def build_only(
    raw: SampleWarehouse,
    con: duckdb.DuckDBPyConnection | None = None,
    *,
    models: Iterable[str],
    settings: Settings | None = None,
) -> duckdb.DuckDBPyConnection:
    """`raw.build(con, settings=settings)`, building only `models` and the models they read.

    A module binds its models once: `build = partial(build_only, models=["fct_events"])`.
    """
    con = con if con is not None else duckdb.connect()
    raw.write(con)
    sql_dir = project_of(tuple(sorted(models)))
    build_models(con, sql_dir=sql_dir, settings=settings if settings is not None else Settings())
    return con


@functools.cache
def project_of(models: tuple[str, ...]) -> Path:
    """A folder (removed at exit) with `models`, the models they read, and nothing else."""
    root = default_sql_dir()
    by_name = {model.name: model for model in load_project(root).models}
    unknown = set(models) - by_name.keys()
    assert not unknown, f"no such models: {sorted(unknown)}"
    needed: set[str] = set()
    pending = list(models)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending.extend(ref for ref in by_name[name].refs if ref in by_name)
    folder = Path(tempfile.mkdtemp(prefix="models-subset-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for name in needed:
        source = by_name[name].path
        # The model's .sql, its .toml (grain, incremental) and any <name>.<dialect>.sql.
        for path in source.parent.glob(f"{name}.*"):
            target = folder / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return folder
