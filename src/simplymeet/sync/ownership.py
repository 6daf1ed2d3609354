"""One DuckDB file, one set of dlt pipelines (one per configured account): never another's.

Two pipelines in one file share its `raw` tables and `_dlt_pipeline_state`, so each one's
incremental cursors and deletes silently corrupt the other's rows (the demo and a real sync
run in the same folder did exactly that). A file names its writers in `_dlt_pipeline_state`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from simplymeet.config import ConfigError
from simplymeet.duckdb_files import refuse_another_kind_of_file

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection


def pipelines_in(path: str | Path) -> set[str]:
    """The dlt pipelines whose state is stored in the DuckDB file (empty if there is none)."""
    import duckdb

    path = Path(path)
    if not path.exists():
        return set()
    refuse_another_kind_of_file(path)
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException:
        # Held for writing by another process: the sync's own lock, or dlt, reports that.
        return set()
    except duckdb.Error as exc:
        raise ConfigError(f"{path} is not a DuckDB file: {exc}") from exc
    try:
        return pipelines_of(con)
    finally:
        con.close()


def pipelines_of(con: DuckDBPyConnection) -> set[str]:
    """The dlt pipelines whose state is stored in the database `con` is connected to."""
    schemas = con.execute(
        "select table_schema from information_schema.tables "
        "where table_name = '_dlt_pipeline_state'"
    ).fetchall()
    names: set[str] = set()
    for (schema,) in schemas:
        quoted = '"' + schema.replace('"', '""') + '"'
        rows = con.execute(
            f"select distinct pipeline_name from {quoted}._dlt_pipeline_state"
        ).fetchall()
        names.update(row[0] for row in rows if row[0])
    return names


def refuse_foreign_pipeline(
    path: str | Path,
    pipeline_names: str | Iterable[str],
    con: DuckDBPyConnection | None = None,
    found: set[str] | None = None,
) -> None:
    """Raise ConfigError (exit 2) when `path` holds data of a pipeline other than these.

    `pipeline_names` are the pipelines of every configured account (`simplymeet.accounts`):
    each account loads the shared dataset through its own, and they know of one another.
    `con`, a connection the caller already holds to `path`, or `found`, the pipelines the
    caller read there (`pipelines_in`), saves opening it again (~12 ms: DuckDB builds its
    catalog of functions for each database it opens).
    """
    ours = {pipeline_names} if isinstance(pipeline_names, str) else set(pipeline_names)
    if found is None:
        found = pipelines_in(path) if con is None else pipelines_of(con)
    foreign = sorted(found - ours)
    if foreign:
        named = " or ".join(repr(name) for name in sorted(ours))
        raise ConfigError(
            f"{path} holds data of pipeline {foreign[0]!r}; pipeline {named} will not "
            "load into it (choose another DuckDB file: --db or [warehouse] duckdb_path)"
        )
