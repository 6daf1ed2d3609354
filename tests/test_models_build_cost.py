"""A model build's fixed cost: the statements it issues besides the models' own.

At 200 bookings a build was ~250 statements, ~100 of them bookkeeping of ~1-4 ms each (DuckDB
planning them): each incremental model read and wrote its own state row and asked the
catalogue about itself, and every raw table and seed was fingerprinted by its own query. Each
test here holds one of the cuts to what it replaced: the same models, state and fingerprints
as the reference path, and fewer statements.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest

from simplymeet.config import Settings
from simplymeet.landing_schema import EVENT_VERSIONS, EVENTS, RUNS_TABLE
from simplymeet.models import build_inputs, project, runner
from simplymeet.models.incremental import STATE_TABLE, content_fingerprint
from simplymeet.models.project import load_project, model_spec
from simplymeet.models.sample import demo_sample
from simplymeet.models.seeds import MODELS_SCHEMA, SEEDS, write_seeds


class _Counting:
    """A DuckDB connection that keeps the text of every statement it runs."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.statements: list[str] = []

    def execute(self, query: str, parameters: Any = None) -> Any:
        self.statements.append(query)
        if parameters is None:
            return self._con.execute(query)
        return self._con.execute(query, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


@contextmanager
def _counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The statements `build_models` runs in the block (its own connection, counted)."""
    seen: list[str] = []
    opened = runner.connect

    @contextmanager
    def connect(con_or_path: Any, **options: Any) -> Iterator[Any]:
        with opened(con_or_path, **options) as con:
            counting = _Counting(con)
            yield counting
            seen.extend(counting.statements)

    with monkeypatch.context() as patch:
        patch.setattr(runner, "connect", connect)
        yield seen


def _demo(path: Path) -> str:
    con = duckdb.connect(str(path))
    demo_sample().write(con)
    con.close()
    return str(path)


def _change_raw(path: str) -> None:
    """A sync's worth of changes to a few bookings: notes, a move to the next day, a cancel."""
    con = duckdb.connect(path)
    ids = [
        row[0] for row in con.execute("select id from raw.events order by id limit 4").fetchall()
    ]
    stamp = "(select max(_synced_at) from raw.events) + interval 1 hour"
    con.execute(
        f"update raw.events set notes = 'moved', scheduled_at = scheduled_at + interval 1 day, "
        f"end_date = end_date + interval 1 day, _synced_at = {stamp} where id in (?, ?, ?)",
        ids[:3],
    )
    con.execute(
        f"update raw.events set state = 'canceled', _synced_at = {stamp} where id = ?", [ids[3]]
    )
    con.close()


def _reference_build(path: str, monkeypatch: pytest.MonkeyPatch) -> runner.BuildResult:
    """`build_models` as before the shared session: each incremental model reads its state
    and the catalogue itself and writes its state row at once."""
    incremental = runner.build_incremental

    def alone(*args: Any, session: Any = None, **options: Any) -> Any:
        return incremental(*args, **options)

    with monkeypatch.context() as patch:
        patch.setattr(runner, "build_incremental", alone)
        return runner.build_models(path, settings=Settings())


def _differences(path: str, reference: str) -> dict[str, tuple[int, int]]:
    """Per relation of `analytics` in either warehouse: rows only in `path`'s, only in the
    reference's (and a model comment that differs, as (-1, -1))."""
    con = duckdb.connect(path)
    con.execute(f"attach '{reference}' as reference (read_only)")
    found: dict[str, tuple[int, int]] = {}
    listed = (
        "select table_name, comment from duckdb_tables() where database_name = ? "
        "and schema_name = ? union all select view_name, comment from duckdb_views() "
        "where database_name = ? and schema_name = ?"
    )
    (here_db,) = con.execute("select current_database()").fetchone() or ("",)
    mine = dict(con.execute(listed, [here_db, MODELS_SCHEMA] * 2).fetchall())
    theirs = dict(con.execute(listed, ["reference", MODELS_SCHEMA] * 2).fetchall())
    for name in sorted(mine.keys() | theirs.keys()):
        if name not in mine or name not in theirs or mine[name] != theirs[name]:
            found[name] = (-1, -1)
            continue
        here, there = f"{MODELS_SCHEMA}.{name}", f"reference.{MODELS_SCHEMA}.{name}"
        only_here = con.execute(
            f"select count(*) from (from {here} except all from {there})"
        ).fetchone()
        only_there = con.execute(
            f"select count(*) from (from {there} except all from {here})"
        ).fetchone()
        counts = (only_here[0] if only_here else -1, only_there[0] if only_there else -1)
        if counts != (0, 0):
            found[name] = counts
    con.close()
    return found


def test_a_build_and_an_incremental_build_equal_the_reference_path(tmp_path, monkeypatch):
    fast, reference = _demo(tmp_path / "fast.duckdb"), _demo(tmp_path / "reference.duckdb")

    first = runner.build_models(fast, settings=Settings())
    reference_first = _reference_build(reference, monkeypatch)
    assert _differences(fast, reference) == {}
    assert [(m.name, m.rows) for m in first.models] == [
        (m.name, m.rows) for m in reference_first.models
    ]
    for path in (fast, reference):
        _change_raw(path)
    again = runner.build_models(fast, settings=Settings())
    reference_again = _reference_build(reference, monkeypatch)

    assert _differences(fast, reference) == {}
    assert not first["fct_events"].incremental
    assert again["fct_events"].incremental and reference_again["fct_events"].incremental
    assert [(m.name, m.rows, m.incremental) for m in again.models] == [
        (m.name, m.rows, m.incremental) for m in reference_again.models
    ]


def test_an_incremental_build_reads_and_writes_the_incremental_state_once(tmp_path, monkeypatch):
    path = _demo(tmp_path / "w.duckdb")
    runner.build_models(path, settings=Settings())
    _change_raw(path)

    with _counted(monkeypatch) as statements:
        built = runner.build_models(path, settings=Settings())

    incremental = [m.name for m in load_project().models if m.incremental is not None]
    assert len(incremental) > 3 and built["fct_events"].incremental
    # create if missing, read every row, write every row: not three per incremental model
    assert len([s for s in statements if STATE_TABLE in s]) == 3
    # the catalogue's base tables once, not once per model and once per digests table
    asked = [s for s in statements if "duckdb_tables()" in s and "estimated_size" not in s]
    assert len(asked) == 1


def test_a_full_build_counts_no_incremental_model_again(tmp_path, monkeypatch):
    path = _demo(tmp_path / "w.duckdb")

    with _counted(monkeypatch) as statements:
        built = runner.build_models(path, settings=Settings())

    incremental = {m.name for m in load_project().models if m.incremental is not None}
    counted = {
        name for name in incremental if f"select count(*) from {MODELS_SCHEMA}.{name}" in statements
    }
    assert counted == set()
    assert all(built[name].rows is not None for name in incremental)


def _fingerprint_as_before(con: duckdb.DuckDBPyConnection, project_: Any, raw: str) -> str | None:
    """`build_inputs.fingerprint` as it was written before its one statement: a query per
    raw table and per seed (the reference its value must equal)."""
    parts = [f"format {build_inputs._FORMAT}", f"raw schema {raw}"]
    parts += [
        f"{m.name}\n{m.materialization}\n{m.sql}\n{sorted(m.dialect_sql.items())}\n{m.incremental}"
        for m in project_.models
    ]
    parts.append(_content_fingerprint_as_before(con, tuple(sorted(SEEDS))))
    raw_tables = sorted({name for model in project_.models for name in model.sources})
    columns = build_inputs._columns(con, raw)
    for name in raw_tables:
        if name not in columns:
            parts.append(f"{name}: absent")
            continue
        relation = f'"{raw}"."{name}"'
        listed = columns[name]
        if name == RUNS_TABLE:
            row = con.execute(f"select epoch_us(max(events_current_at)) from {relation}").fetchone()
        elif name in build_inputs._BOOKING_TABLES:
            stamps = [f"sum(epoch_us({c}))" for c in ("_synced_at", "deleted_at") if c in listed]
            row = con.execute(f"select count(*), {', '.join(stamps)} from {relation}").fetchone()
            if name == EVENTS.name and row is not None and not row[0]:
                return None
        else:
            hashed = ", ".join(
                f'"{c}"' for c in listed if c != "_synced_at" or name in build_inputs._STAMP_READ
            )
            row = con.execute(
                f"select count(*), sum(hash({hashed})::hugeint) from {relation}"
            ).fetchone()
        parts.append(f"{name}: {listed} {row}")
    return hashlib.blake2b("\n\n".join(parts).encode(), digest_size=16).hexdigest()


def _content_fingerprint_as_before(
    con: duckdb.DuckDBPyConnection, relations: tuple[str, ...]
) -> str:
    parts = []
    for relation in relations:
        columns = [
            row[0]
            for row in con.execute(
                "select column_name from duckdb_columns() where database_name = "
                "current_database() and schema_name = ? and table_name = ? order by column_index",
                [MODELS_SCHEMA, relation],
            ).fetchall()
            if row[0] not in ("synced_at", "_synced_at")
        ]
        listed = ", ".join(f'"{c}"' for c in columns)
        row = con.execute(
            f"select count(*), bit_xor(hash({listed})) from {MODELS_SCHEMA}.{relation}"
        ).fetchone()
        parts.append(f"{relation}:{row}")
    return hashlib.blake2b("|".join(parts).encode(), digest_size=8).hexdigest()


def test_the_inputs_fingerprint_is_the_one_a_query_per_table_made_in_one_statement(tmp_path):
    con = duckdb.connect(_demo(tmp_path / "w.duckdb"))
    write_seeds(con, Settings())
    project_ = load_project()
    # an empty table, and a stamped booking table with a null stamp: nulls and zeros too
    con.execute("delete from raw.polls")
    con.execute(f"update raw.{EVENT_VERSIONS.name} set _synced_at = null where rowid % 7 = 0")
    counting = _Counting(con)

    found = build_inputs.fingerprint(counting, project_, "raw")

    assert found is not None and found == _fingerprint_as_before(con, project_, "raw")
    assert len([s for s in counting.statements if '"raw".' in s]) == 1


def test_the_inputs_fingerprint_of_a_warehouse_without_events_is_none(tmp_path):
    con = duckdb.connect(_demo(tmp_path / "w.duckdb"))
    write_seeds(con, Settings())
    con.execute("delete from raw.events")

    assert build_inputs.fingerprint(con, load_project(), "raw") is None


def test_content_fingerprint_of_many_relations_is_two_statements_and_the_same_digest():
    con = duckdb.connect()
    write_seeds(con, Settings())
    con.execute(f"create table {MODELS_SCHEMA}.empty (x integer, synced_at timestamp)")
    con.execute(f"create view {MODELS_SCHEMA}.v as select 1 as a, 'x' as b")
    relations = (*sorted(SEEDS), "empty", "v", "cfg_working_hours")
    counting = _Counting(con)

    found = content_fingerprint(counting, relations)

    assert found == _content_fingerprint_as_before(con, relations)
    assert len(counting.statements) == 2


def test_the_seeds_are_looked_up_in_the_catalogue_once(monkeypatch):
    con = duckdb.connect()
    write_seeds(con, Settings())
    # a seed someone replaced by a view is dropped as a view
    con.execute(f"drop table {MODELS_SCHEMA}.seed_cancelers")
    con.execute(f"create view {MODELS_SCHEMA}.seed_cancelers as select 'x' as canceler")
    counting = _Counting(con)

    write_seeds(counting, Settings())

    assert len([s for s in counting.statements if "information_schema" in s]) == 1
    kind = con.execute(
        "select table_type from information_schema.tables where table_name = 'seed_cancelers'"
    ).fetchone()
    rows = con.execute(f"select canceler from {MODELS_SCHEMA}.seed_cancelers").fetchall()
    assert (kind, rows) == (("BASE TABLE",), SEEDS["seed_cancelers"](Settings()).rows)


def test_a_model_toml_is_parsed_once_per_text_and_handed_out_as_a_copy(tmp_path, monkeypatch):
    model = tmp_path / "m.sql"
    model.write_text("select 1 as x\n", encoding="utf-8")
    spec = tmp_path / "m.toml"
    spec.write_text('key = ["x"]\n[columns]\nx = ["unique"]\n', encoding="utf-8")
    parsed: list[str] = []
    loads = project.tomllib.loads

    def counting_loads(text: str) -> dict[str, Any]:
        parsed.append(text)
        return loads(text)

    monkeypatch.setattr(project.tomllib, "loads", counting_loads)
    project._parsed_toml.cache_clear()

    first = model_spec(model)
    first["columns"]["x"].append("not_null")
    second = model_spec(model)
    spec.write_text('key = ["x"]\n', encoding="utf-8")
    edited = model_spec(model)

    assert second == {"key": ["x"], "columns": {"x": ["unique"]}}
    assert edited == {"key": ["x"]}
    assert len(parsed) == 2
