"""`simplymeet sql "select …"`: query the warehouse from the terminal, read-only.

The `duckdb` command-line tool is not installed by `pip install`, and the one on PyPI
(duckdb-cli) trails the `duckdb` module by a major version; this command opens the file with
the very module that wrote it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import signal
import stat
import sys
from typing import Any

import click

from simplymeet.cli.errors import EXIT_USAGE
from simplymeet.cli.options import OnceOptionsCommand, config_option, db_option, settings_from

FORMATS = ("table", "csv", "json")


class QueryError(click.ClickException):
    """The query or the file was rejected: bad input, exit 2, nothing written."""

    exit_code = EXIT_USAGE


@click.command("sql", cls=OnceOptionsCommand)
@click.argument("query")
@db_option
@config_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people, csv or json (one array of objects) for other programs.",
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Rows shown as a table (csv and json print every row).",
)
def sql_command(
    query: str, db_path: str | None, config_path: str | None, output_format: str, max_rows: int
) -> None:
    """Run one SQL query on the DuckDB warehouse (read-only) and print its result.

    Example: simplymeet sql "select * from analytics.kpi_summary"
    """
    import duckdb

    from simplymeet.models.connection import connect
    from simplymeet.models.errors import ModelError
    from simplymeet.sync.lock import WarehouseLockedError, warehouse_holder
    from simplymeet.writeback.warehouse import SANDBOX

    if not query.strip():
        raise QueryError('no query given: pass one SQL statement, e.g. "select 1"')
    path = settings_from(config_path, db_path).get("warehouse", "duckdb_path")
    try:
        with connect(path, read_only=True) as con:
            # Read-only for files and the network too (`copy … to`, `read_text`, extensions),
            # and locked so the query cannot lift it.
            for name, value in SANDBOX.items():
                con.execute(f"set {name} = {str(value).lower()}")
            con.execute("set lock_configuration = true")
            if len(con.extract_statements(query)) > 1:
                # DuckDB runs each and shows only the last one's result.
                raise QueryError("give one SQL statement: only the last one's result would show")
            cursor = con.execute(query)
            columns = [d[0] for d in cursor.description] if cursor.description else []
            rows = cursor.fetchall() if columns else []
    except ModelError as exc:
        raise QueryError(str(exc)) from exc
    except duckdb.Error as exc:
        if (holder := warehouse_holder(str(exc))) is not None:
            # Exit 3 and the holder, as every command names a warehouse held for writing.
            raise WarehouseLockedError(
                f"the warehouse {path} is held by another process (pid {holder}); close that "
                "process or wait for it, then run again"
            ) from None
        raise QueryError(_first_line(exc)) from exc
    end_quietly_when_the_reader_goes()
    if output_format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(["" if value is None else value for value in row] for row in rows)
    elif output_format == "json":
        keys = _unique(columns)
        records = [{k: _json_value(v) for k, v in zip(keys, row, strict=True)} for row in rows]
        click.echo(json.dumps(records, default=str, ensure_ascii=False, indent=1))
    else:
        print_rows(columns, rows, max_rows=max_rows)


def _unique(columns: list[str]) -> list[str]:
    """Column names as JSON keys: a name repeated (`select *` over a join) gets `_2`, `_3`...
    where a record keyed by it would keep only its last value."""
    named, taken = set(columns), set()
    keys = []
    for name in columns:
        key, n = name, 1
        while key in taken or (key != name and key in named):
            n += 1
            key = f"{name}_{n}"
        taken.add(key)
        keys.append(key)
    return keys


def _json_value(value: Any) -> Any:
    """A value as JSON holds it: an infinite or NaN number is null (JSON has none; Python's
    `Infinity` is no JSON a strict parser reads)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def end_quietly_when_the_reader_goes() -> None:
    """Writing to a pipe whose reader left (`… | head`) ends this process as SIGPIPE ends any
    filter (exit 141, no word), whichever writer meets it: rich's table exits 1 on its own,
    click's echo swallowed it (exit 0). Only where stdout is a pipe, so never in a process
    that also talks to sockets through it (a test runner's): a write to a closed socket
    would then end that process too. This command talks to no socket."""
    try:
        piped = stat.S_ISFIFO(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError, io.UnsupportedOperation):
        return
    if piped and hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def print_rows(columns: list[str], rows: list[tuple[Any, ...]], *, max_rows: int) -> None:
    """Rows as a table, or one block per row when a table would not fit the terminal's width.

    Numbers are right-aligned, NULL is spelled out; a count line closes the output.
    """
    from rich.measure import Measurement
    from rich.table import Table

    from simplymeet.cli.console import make_console

    console = make_console(highlight=False)
    shown = rows[:max_rows]
    cells = [["NULL" if value is None else str(value) for value in row] for row in shown]
    table = Table(show_edge=False, pad_edge=False)
    for i, name in enumerate(columns):
        numeric = bool(shown) and all(isinstance(row[i], int | float | None) for row in shown)
        table.add_column(name, justify="right" if numeric else "left", overflow="fold")
    for row in cells:
        table.add_row(*row)
    natural = Measurement.get(console, console.options.update_width(10**6), table).maximum
    if columns and natural <= console.width:
        console.print(table)
    elif columns:
        # Like psql's expanded display: `select *` on a wide model stays readable.
        width = max(len(name) for name in columns)
        for number, row in enumerate(cells, start=1):
            console.print(f"-[ row {number} ]" + "-" * max(width - 6, 0), style="dim")
            for name, text in zip(columns, row, strict=True):
                console.print(f"{name.ljust(width)} │ {text}", soft_wrap=True)
    more = f" (first {len(shown)} shown; --format csv prints all)" if len(rows) > len(shown) else ""
    console.print(f"{len(rows):,} row{'s' if len(rows) != 1 else ''}{more}", style="dim")


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else exc.__class__.__name__
