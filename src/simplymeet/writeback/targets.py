"""Where a bulk job's rows come from: `--ids`, `--ids-file` (txt, csv, jsonl) or `--sql`.

Every source yields `Row`s: the target key plus any per-row values (a CSV's or a query's other
columns, e.g. `start` for a reschedule or `notes`). Column names are normalized to snake_case,
so `scheduledAt`, `Scheduled At` and `scheduled_at` are the same column. Values are kept as
they came (strings from text, typed values from DuckDB) and read by the plan, which reports
bad ones per row.

Which column holds the targets is never guessed from its position: it is the column named
after the operation's key (`id`, or `event_type_id` for event-type writes), or the one named
by `--id-column`; only an input with a single column (a headerless one-column file, a
one-column query) needs no name. Anything else is refused before a request is sent: a
`user_id` column is not a list of event ids.

Files are read line by line, and target keys are checked as they are read: a file of two
million ids with a bad line near the end stops there, naming the line, without holding the
file in memory.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import sys
import weakref
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from simplymeet.writeback.warehouse import run_select, sandboxed

_SPLIT = re.compile(r"[,\s]+")
_IDS_SPLIT = re.compile(r"\s*,\s*|\s+")
"""--ids items: a comma (spaces around it allowed) or spaces; `1,,2` leaves an empty item."""
# ASCII digits only: Python's int() reads a full-width "１" as 1, which nobody types as an id.
_ID = re.compile(r"^\+?0*[1-9]\d{0,18}$", re.ASCII)
"""A positive integer of at most 19 digits (ids are 64-bit); `1e30`, `1.5`, `-3` are not."""
_ID_LINE = re.compile(
    rf"[\s,]*(?:{_ID.pattern[1:-1]}(?:[\s,]+{_ID.pattern[1:-1]})*)?[\s,]*(?:#.*)?\s*",
    re.S | re.ASCII,
)
"""A whole line of an ids file that holds only ids (and maybe a comment): the fast check."""


class TargetError(ValueError):
    """The target options are unusable as given (none, several, unreadable file)."""


@dataclass(frozen=True)
class Row:
    """One input row: where it came from (for error messages) and its values by column."""

    source: str
    """Human locator: `--ids item 3`, `ids.csv line 4`, `--sql row 2`."""
    values: dict[str, Any]
    held: frozenset[str] = frozenset()
    """Of a `--sql` row, the columns named like a column the warehouse holds (a `select *`
    brings many): not taken for a misspelled option, as a column the query named is."""
    repeats: int = 0
    """Later lines of an ids file holding this row's id again, as written: folded into it
    while reading, so a file of many repeats costs the memory of its distinct ids."""


@dataclass(frozen=True)
class Targets:
    """How to select a job's rows; at most one of ids, ids_file, sql, rows."""

    ids: str | Sequence[int] | None = None
    ids_file: str | Path | None = None
    sql: str | None = None
    rows: Sequence[dict[str, Any]] | None = None
    """Rows given directly (library callers, e.g. a DataFrame's records)."""
    id_column: str | None = None
    """The column (of --ids-file, --sql or rows) that holds the targets, when not named after
    the operation's key."""
    held: frozenset[str] = frozenset()
    """Of `rows` read by a `--sql` query, the columns the warehouse holds (`Row.held`)."""

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

    `key` is the field the targets fill (`id`); None for operations whose rows carry
    everything (creates). See the module docstring for which column is taken as the key.
    """
    given = targets.given()
    if len(given) > 1:
        raise TargetError(f"give one of --ids, --ids-file, --sql (got {', '.join(given)})")
    if targets.id_column is not None and key is None:
        raise TargetError("--id-column: this command takes rows, not a list of targets")
    pick = _KeyColumn(key, snake(targets.id_column) if targets.id_column else None)
    if targets.ids is not None:
        if targets.id_column is not None:
            raise TargetError("--id-column applies to --ids-file and --sql, not to --ids")
        return _from_ids(targets.ids, key)
    if targets.ids_file is not None:
        try:
            return _from_file(_file_or_stdin(targets.ids_file), pick)
        except TargetError as exc:
            if key is None:  # a command that creates reads it as `--rows-file`
                raise TargetError(str(exc).replace("--ids-file", "--rows-file")) from None
            raise
    if targets.sql is not None:
        if db_path is None:
            raise TargetError("--sql needs the warehouse: pass --db or set [warehouse] duckdb_path")
        return _from_sql(targets.sql, pick, db_path, dataset)
    if targets.rows is not None:
        out = []
        for n, row in enumerate(targets.rows, 1):
            values = _by_column(dict(row), f"row {n}")
            out.append(Row(f"row {n}", pick.keyed(values, f"row {n}"), targets.held))
        return out
    return []


@dataclass(frozen=True)
class _KeyColumn:
    """Which input column holds the targets: the key's own name, or `--id-column`."""

    key: str | None
    named: str | None

    @property
    def wanted(self) -> str | None:
        return self.named or self.key

    def choose(self, columns: Sequence[str], where: str, *, query: bool = False) -> str | None:
        """The column of `columns` to read as the key, or a TargetError saying what to do.

        A one-column query's column is the targets whatever its name (the query says what it
        selects); a file's header must name them: a `user_id` column is not event ids.
        """
        wanted = self.wanted
        if wanted is None or wanted in columns:
            return wanted
        if query and self.named is None and len(columns) == 1:
            return columns[0]
        hint = (
            f"name the column holding the targets `{self.key}`, or pass --id-column"
            if self.named is None
            else "pick one of its columns"
        )
        shown = ", ".join(columns) or "none"
        raise TargetError(f"{where}: no column named {wanted!r} (columns: {shown}); {hint}")

    def keyed(self, values: dict[str, Any], where: str) -> dict[str, Any]:
        """`values` with the chosen column moved to the key's name."""
        column = self.choose(list(values), where)
        if column is None or column == self.key:
            return values
        out = dict(values)
        out[self.key] = out.pop(column)  # type: ignore[index]
        return out


def _check_id(where: str, token: str) -> None:
    """Refuse a target key that is not a positive integer, naming where it was read (and at
    most the first 40 characters of it: the error is one line)."""
    if not _ID.match(token):
        shown = repr(token) if len(token) <= 40 else f"{token[:40]!r}… ({len(token):,} characters)"
        raise TargetError(f"{where}: {shown} is not an id (a positive integer)")


MAX_LINE = 1 << 20
"""The longest line an input file may hold (characters): a row is a few hundred; a file of
one endless line (`/dev/zero`, a binary file) would fill the memory before a check saw it."""


def _lines(path: Path, handle: TextIO) -> Iterator[str]:
    """`handle`'s lines, each at most `MAX_LINE` characters, else TargetError naming it."""
    for number in itertools.count(1):
        line = handle.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) > MAX_LINE:
            raise TargetError(
                f"--ids-file {path.name} line {number}: longer than {MAX_LINE:,} characters"
            )
        yield line


def _from_ids(ids: str | Sequence[int], key: str | None) -> list[Row]:
    name = key or "id"
    tokens = _id_tokens(ids) if isinstance(ids, str) else list(ids)
    if not tokens:
        raise TargetError("--ids is empty")
    return [Row(f"--ids item {n}", {name: token}) for n, token in enumerate(tokens, 1)]


def _id_tokens(text: str) -> list[str]:
    """The ids of an --ids string, each checked; an empty item is refused, not skipped."""
    tokens = _IDS_SPLIT.split(text.strip()) if text.strip() else []
    for n, token in enumerate(tokens, 1):
        if not token:
            # "1,$X,2" with $X unset: an id meant to be there is missing, and the job would
            # quietly leave it out.
            raise TargetError(
                f"--ids item {n} is empty (two commas in a row, or a comma at an end; "
                "an empty shell variable?)"
            )
        _check_id(f"--ids item {n}", token)
    return tokens


STDIN = Path("<stdin>")
"""What `--ids-file -` reads: standard input, as a .txt of ids (lines named `<stdin> line N`)."""


def _file_or_stdin(name: str | Path) -> Path:
    return STDIN if str(name) == "-" else Path(name)


_STDIN_TEXT: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
"""Standard input's text once read, by stream: a command reads its targets more than once
(the account check, then the plan), and a stream is read once."""


def _stdin_text() -> str:
    stream = sys.stdin
    if stream not in _STDIN_TEXT:
        try:
            _STDIN_TEXT[stream] = stream.buffer.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TargetError(f"--ids-file -: not UTF-8 text ({exc.reason})") from None
    return _STDIN_TEXT[stream]


def _open(path: Path) -> TextIO:
    if path is STDIN:
        return io.StringIO(_stdin_text(), newline="")
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise TargetError(f"--ids-file {path}: {exc.strerror or exc}") from None
    if handle.seekable():
        return handle
    # A pipe (`--ids-file <(...)`, /dev/stdin): the file is read twice (checked, then kept),
    # so its text is held here.
    with handle:
        try:
            return io.StringIO(handle.read(), newline="")
        except UnicodeDecodeError as exc:
            raise TargetError(f"--ids-file {path}: not UTF-8 text ({exc.reason})") from None


def _from_file(path: Path, pick: _KeyColumn) -> list[Row]:
    suffix = path.suffix.lower()
    with _open(path) as handle:
        try:
            if suffix in (".csv", ".tsv"):
                return _from_csv(path, handle, pick, "\t" if suffix == ".tsv" else ",")
            if suffix in (".jsonl", ".ndjson"):
                return _from_jsonl(path, handle, pick)
            return _from_txt(path, handle, pick)
        except UnicodeDecodeError as exc:
            raise TargetError(f"--ids-file {path}: not UTF-8 text ({exc.reason})") from None


def _from_txt(path: Path, handle: TextIO, pick: _KeyColumn) -> list[Row]:
    """One id per token (commas and spaces separate them); `#` starts a comment."""
    if pick.named is not None:
        raise TargetError(f"--ids-file {path}: --id-column needs a .csv, .tsv or .jsonl file")
    # First pass: every line checked, nothing kept, so a bad line costs no memory.
    for line_number, line in enumerate(_lines(path, handle), 1):
        if _ID_LINE.fullmatch(line) is None:
            # Name the bad token: the per-token check raises on this line.
            deque(_txt_tokens(path, [line], first=line_number), maxlen=0)
    handle.seek(0)
    name = pick.key or "id"
    first: dict[str, Row] = {}
    repeats: Counter[str] = Counter()
    for where, token in _txt_tokens(path, _lines(path, handle)):
        if token in first:
            repeats[token] += 1
        else:
            first[token] = Row(where, {name: token})
    if not first:
        raise TargetError(f"--ids-file {path}: no ids in the file")
    return [replace(row, repeats=repeats[token]) for token, row in first.items()]


def _txt_tokens(path: Path, lines: Iterable[str], *, first: int = 1) -> Iterator[tuple[str, str]]:
    """(where, token) for each id of a text file, each checked as it is read."""
    for line_number, line in enumerate(lines, first):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        where = f"{path.name} line {line_number}"
        for token in (t for t in _SPLIT.split(content) if t):
            _check_id(f"--ids-file {where}", token)
            yield where, token


def _from_csv(path: Path, handle: TextIO, pick: _KeyColumn, delimiter: str) -> list[Row]:
    # First pass: shape and keys checked line by line, nothing kept; then the rows are built.
    deque(_csv_rows(path, handle, pick, delimiter), maxlen=0)
    handle.seek(0)
    rows = list(_csv_rows(path, handle, pick, delimiter))
    if not rows:
        raise TargetError(f"--ids-file {path}: no rows below the header")
    return rows


def _csv_rows(path: Path, handle: TextIO, pick: _KeyColumn, delimiter: str) -> Iterator[Row]:
    records = _csv_records(path, handle, delimiter)
    first = next(records, None)
    while first is not None and not any(c.strip() for c in first[1]):
        first = next(records, None)
    if first is None:
        raise TargetError(f"--ids-file {path}: the file is empty")
    cells = first[1]
    headerless = len(cells) == 1 and bool(_ID.match(cells[0].strip())) and pick.named is None
    lines: Iterator[tuple[int, list[str]]]
    if headerless:
        # A one-column file of ids: its first line is an id, not a column name.
        columns = [pick.key or "id"]
        lines = itertools.chain([first], records)
    else:
        columns = [snake(h) for h in cells]
        if not all(columns) or len(set(columns)) != len(columns):
            raise TargetError(f"--ids-file {path}: the header must name each column once")
        lines = records
    column = pick.choose(columns, f"--ids-file {path}")
    for line_number, cells in lines:
        if not any(c.strip() for c in cells):
            continue
        where = f"{path.name} line {line_number}"
        if len(cells) != len(columns):
            raise TargetError(
                f"--ids-file {where}: {len(cells)} cells, the header has {len(columns)}"
            )
        values = dict(zip(columns, cells, strict=True))
        if column is not None:
            _check_id(f"--ids-file {where}", values[column].strip())
        yield Row(where, pick.keyed(values, f"--ids-file {path}"))


def _csv_records(path: Path, handle: TextIO, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each CSV record; malformed CSV is refused naming its line.

    Strict: read leniently, a quote never closed swallows the rest of the file into one
    cell (the next rows' ids become a cancellation reason sent to an invitee)."""
    reader = csv.reader(_lines(path, handle), delimiter=delimiter, strict=True)
    while True:
        begins = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                problem = "a quoted value opened on this line is never closed"
            else:
                problem = f"not valid CSV ({exc})"
            raise TargetError(f"--ids-file {path.name} line {begins}: {problem}") from None
        # Rows are named by the line they end on, as before multi-line values were checked.
        yield reader.line_num, cells


def _from_jsonl(path: Path, handle: TextIO, pick: _KeyColumn) -> list[Row]:
    rows: list[Row] = []
    for line_number, line in enumerate(_lines(path, handle), 1):
        if not line.strip():
            continue
        where = f"--ids-file {path.name} line {line_number}"
        try:
            pairs = json.loads(line, object_pairs_hook=_no_repeated_key, parse_constant=_no_number)
        except json.JSONDecodeError as exc:
            raise TargetError(f"{where}: {exc.msg}") from None
        except _NotJson as exc:
            raise TargetError(f"{where}: {exc} is no JSON value") from None
        except _RepeatedKey as exc:
            raise TargetError(f"{where}: the key {exc.key!r} is given twice") from None
        if not isinstance(pairs, dict):
            raise TargetError(f"{where}: expected a JSON object")
        values = _by_column(pairs, where)
        rows.append(Row(f"{path.name} line {line_number}", pick.keyed(values, where)))
    if not rows:
        raise TargetError(f"--ids-file {path}: no rows in the file")
    return rows


def _by_column(values: dict[str, Any], where: str) -> dict[str, Any]:
    """`values` keyed by normalized column; two keys naming one column are refused."""
    out: dict[str, Any] = {}
    named: dict[str, str] = {}
    for key, value in values.items():
        column = snake(key)
        if column in named:
            # As a CSV header naming a column twice: which value is meant cannot be told.
            raise TargetError(
                f"{where}: keys {named[column]!r} and {key!r} are the same column "
                f"({column}); give each once"
            )
        named[column] = key
        out[column] = value
    return out


class _NotJson(ValueError):
    """A word Python's json reads (`NaN`, `Infinity`) that JSON has not."""


def _no_number(word: str) -> Any:
    raise _NotJson(word)


class _RepeatedKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_repeated_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict, refusing a key given twice (json keeps the last)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _RepeatedKey(key)
        out[key] = value
    return out


def _from_sql(sql: str, pick: _KeyColumn, db_path: str | Path, dataset: str) -> list[Row]:
    with sandboxed(db_path, dataset) as con:
        names, records = run_select(con, sql)
        stored = {snake(name) for (name,) in con.execute(_STORED_COLUMNS).fetchall()}
    columns = [snake(n) for n in names]
    if len(set(columns)) != len(columns):
        raise TargetError("--sql: name each column once (use `as` to rename)")
    held = frozenset(columns) & stored
    column = pick.choose(columns, "--sql", query=True)
    rows = []
    for n, record in enumerate(records, 1):
        values = dict(zip(columns, record, strict=True))
        if column is not None and column != pick.key:
            values[pick.key] = values.pop(column)  # type: ignore[index]
        rows.append(Row(f"--sql row {n}", values, held))
    return rows


_STORED_COLUMNS = "select distinct column_name from duckdb_columns() where not internal"
"""Every column name of the warehouse's tables and views (not DuckDB's own catalog's)."""
