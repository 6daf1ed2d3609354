"""Where a bulk job's rows come from: `--ids`, `--ids-file` (txt or csv) or `--sql`.

Every source yields `Row`s: the target key (the first column, or a column named after the
operation's key) plus any per-row values (a CSV's or a query's other columns, e.g. `start` for
a reschedule or `notes`). Column names are normalized to snake_case, so `scheduledAt`,
`Scheduled At` and `scheduled_at` are the same column. Values are kept as they came (strings
from text, typed values from DuckDB) and read by the plan, which reports bad ones per row.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simplymeet.writeback.warehouse import read_only, run_select

_SPLIT = re.compile(r"[,\s]+")


class TargetError(ValueError):
    """The target options are unusable as given (none, several, unreadable file)."""


@dataclass(frozen=True)
class Row:
    """One input row: where it came from (for error messages) and its values by column."""

    source: str
    """Human locator: `--ids item 3`, `ids.csv line 4`, `--sql row 2`."""
    values: dict[str, Any]


@dataclass(frozen=True)
class Targets:
    """How to select a job's rows; at most one of ids, ids_file, sql, rows."""

    ids: str | Sequence[int] | None = None
    ids_file: str | Path | None = None
    sql: str | None = None
    rows: Sequence[dict[str, Any]] | None = None
    """Rows given directly (library callers, e.g. a DataFrame's records)."""

    def given(self) -> list[str]:
        names = {"--ids": self.ids, "--ids-file": self.ids_file, "--sql": self.sql}
        names["rows"] = self.rows
        return [name for name, value in names.items() if value is not None]

    def describe(self) -> str:
        """A one-line description for the journal (never contains secrets: only selection)."""
        if self.sql is not None:
            return f"--sql {self.sql}"
        if self.ids_file is not None:
            return f"--ids-file {self.ids_file}"
        if self.ids is not None:
            return "--ids"
        if self.rows is not None:
            return "rows"
        return "options"


def snake(name: str) -> str:
    """Normalize a column name: `scheduledAt`, `Scheduled At`, `scheduled-at` -> `scheduled_at`."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name).strip())
    return re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()


def read_rows(
    targets: Targets, *, key: str | None, db_path: str | Path | None, dataset: str
) -> list[Row]:
    """The rows a job works on; [] when no target option was given.

    `key` names the column the first column stands for when no column is named after it
    (`select event_id from …` for an operation keyed on `id`).
    """
    given = targets.given()
    if len(given) > 1:
        raise TargetError(f"give one of --ids, --ids-file, --sql (got {', '.join(given)})")
    if targets.ids is not None:
        return _from_ids(targets.ids, key)
    if targets.ids_file is not None:
        return _from_file(Path(targets.ids_file), key)
    if targets.sql is not None:
        if db_path is None:
            raise TargetError("--sql needs the warehouse: pass --db or set [warehouse] duckdb_path")
        return _from_sql(targets.sql, key, db_path, dataset)
    if targets.rows is not None:
        return [
            Row(f"row {n}", _keyed({snake(k): v for k, v in row.items()}, key))
            for n, row in enumerate(targets.rows, 1)
        ]
    return []


def _from_ids(ids: str | Sequence[int], key: str | None) -> list[Row]:
    name = key or "id"
    tokens = [t for t in _SPLIT.split(ids) if t] if isinstance(ids, str) else list(ids)
    if not tokens:
        raise TargetError("--ids is empty")
    return [Row(f"--ids item {n}", {name: token}) for n, token in enumerate(tokens, 1)]


def _from_file(path: Path, key: str | None) -> list[Row]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise TargetError(f"--ids-file {path}: {exc.strerror or exc}") from None
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _from_csv(path, text, key, "\t" if suffix == ".tsv" else ",")
    if suffix in (".jsonl", ".ndjson"):
        return _from_jsonl(path, text, key)
    rows: list[Row] = []
    name = key or "id"
    for line_number, line in enumerate(text.splitlines(), 1):
        content = line.split("#", 1)[0].strip()
        for token in (t for t in _SPLIT.split(content) if t):
            rows.append(Row(f"{path.name} line {line_number}", {name: token}))
    if not rows:
        raise TargetError(f"--ids-file {path}: no ids in the file")
    return rows


def _from_csv(path: Path, text: str, key: str | None, delimiter: str) -> list[Row]:
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise TargetError(f"--ids-file {path}: the file is empty") from None
    columns = [snake(h) for h in header]
    if not any(columns) or len(set(columns)) != len(columns):
        raise TargetError(f"--ids-file {path}: the header must name each column once")
    rows: list[Row] = []
    for line_number, cells in enumerate(reader, 2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            raise TargetError(
                f"--ids-file {path} line {line_number}: {len(cells)} cells, "
                f"the header has {len(columns)}"
            )
        values = dict(zip(columns, cells, strict=True))
        rows.append(Row(f"{path.name} line {line_number}", _keyed(values, key, columns[0])))
    if not rows:
        raise TargetError(f"--ids-file {path}: no rows below the header")
    return rows


def _from_jsonl(path: Path, text: str, key: str | None) -> list[Row]:
    rows: list[Row] = []
    for line_number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TargetError(f"--ids-file {path} line {line_number}: {exc.msg}") from None
        if not isinstance(value, dict):
            raise TargetError(f"--ids-file {path} line {line_number}: expected a JSON object")
        values = {snake(k): v for k, v in value.items()}
        rows.append(Row(f"{path.name} line {line_number}", _keyed(values, key)))
    if not rows:
        raise TargetError(f"--ids-file {path}: no rows in the file")
    return rows


def _from_sql(sql: str, key: str | None, db_path: str | Path, dataset: str) -> list[Row]:
    with read_only(db_path) as con:
        names, records = run_select(con, sql, dataset)
    columns = [snake(n) for n in names]
    if len(set(columns)) != len(columns):
        raise TargetError("--sql: name each column once (use `as` to rename)")
    return [
        Row(f"--sql row {n}", _keyed(dict(zip(columns, record, strict=True)), key, columns[0]))
        for n, record in enumerate(records, 1)
    ]


def _keyed(values: dict[str, Any], key: str | None, first: str | None = None) -> dict[str, Any]:
    """Make the first column the key when no column carries the key's name."""
    if key is None or key in values or first is None:
        return values
    out = dict(values)
    out[key] = out.pop(first)
    return out
