"""`simplymeet sql`: the analyst's query route, read-only, as a table, csv or json."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys

import duckdb
import pytest
from click.testing import CliRunner

from simplymeet.cli.sql_cmd import sql_command
from tests.cli_support import run_cli
from tests.synced_template import demo_copy

KPI_QUERY = "select metric, value from analytics.kpi_summary order by metric_order"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """The demo organization with its models built, shared read-only by this module."""
    return demo_copy(tmp_path_factory, tmp_path_factory.mktemp("sql") / "demo.duckdb")


def _kpis(path) -> list[tuple[str, float]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(KPI_QUERY).fetchall()


def run(*args: str):
    return CliRunner().invoke(sql_command, list(args), terminal_width=80)


def test_table_format_prints_every_metric_and_the_row_count(demo_db):
    result = run("--db", str(demo_db), KPI_QUERY)

    assert result.exit_code == 0, result.output
    expected = _kpis(demo_db)
    for metric, _value in expected:
        assert metric in result.output
    assert f"{len(expected)} rows" in result.output


def test_table_format_shows_null_as_null(demo_db):
    result = run("--db", str(demo_db), "select 1 as a, null as b")

    assert result.exit_code == 0, result.output
    assert "NULL" in result.output
    assert "1 row" in result.output


def test_table_format_writes_out_a_value_s_terminal_controls(demo_db):
    result = run("--db", str(demo_db), "select 'Eve' || chr(27) || '[2J' || chr(8238) as name")

    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "Eve\\x1b[2J\\u202e" in result.output


def test_a_value_s_written_out_controls_keep_the_table_s_columns_in_line(demo_db):
    query = "select * from (values ('Eve' || chr(27) || '[2J', 1), ('Bob', 22)) as t(name, n)"
    result = run("--db", str(demo_db), query)

    assert result.exit_code == 0, result.output
    table = [line for line in result.output.splitlines() if line.strip()][:-1]
    assert len({len(line.rstrip()) for line in table if "│" in line}) == 1, result.output


def test_table_format_stops_at_max_rows_and_says_so(demo_db):
    result = run("--db", str(demo_db), "--max-rows", "3", "select * from range(10)")

    assert result.exit_code == 0, result.output
    assert "10 rows (first 3 shown" in result.output


def test_csv_format_prints_a_header_and_every_row(demo_db):
    result = run("--db", str(demo_db), "--format", "csv", KPI_QUERY)

    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["metric", "value"]
    assert [(m, float(v) if v else None) for m, v in rows[1:]] == _kpis(demo_db)


def test_json_format_prints_one_object_per_row(demo_db):
    result = run("--db", str(demo_db), "--format", "json", KPI_QUERY)

    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert [(r["metric"], r["value"]) for r in records] == _kpis(demo_db)


def test_json_format_keeps_every_column_of_one_name(demo_db):
    result = run("--db", str(demo_db), "--format", "json", "select 1 as id, 2 as id, 3 as id_2")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"id": 1, "id_3": 2, "id_2": 3}]


def test_json_format_prints_an_infinite_number_as_null_which_strict_parsers_read(demo_db):
    result = run("--db", str(demo_db), "--format", "json", "select 'inf'::double as x")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output, parse_constant=_refused) == [{"x": None}]


def _refused(word: str) -> None:
    raise ValueError(f"{word} is no JSON")


def test_more_than_one_statement_is_refused_with_exit_2(demo_db):
    # DuckDB runs each and returns the last one's rows: the first would be silently lost.
    result = run("--db", str(demo_db), "select 1 as a; select 2 as b")

    assert result.exit_code == 2
    assert "give one SQL statement" in result.output


def test_one_statement_ending_in_a_semicolon_or_holding_one_runs(demo_db):
    result = run("--db", str(demo_db), "select ';' as a;")

    assert result.exit_code == 0, result.output
    assert "1 row" in result.output


def test_a_write_is_refused_with_exit_2_and_changes_nothing(demo_db):
    result = run("--db", str(demo_db), "delete from analytics.kpi_summary")

    assert result.exit_code == 2
    assert "read-only" in result.output
    assert _kpis(demo_db)


@pytest.mark.parametrize(
    "query",
    [
        "copy (select * from raw.events) to '{out}/events.csv'",
        "export database '{out}/everything'",
        "select * from read_text('{out}/../secrets.toml')",
    ],
    ids=["copy-to", "export-database", "read-a-file"],
)
def test_a_query_touching_files_beside_the_warehouse_is_refused_with_exit_2(
    demo_db, tmp_path, query
):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "secrets.toml").write_text('api_key = "k"\n')

    result = run("--db", str(demo_db), query.format(out=out))

    assert result.exit_code == 2, result.output
    assert "Permission Error" in result.output
    assert list(out.rglob("*")) == []


def test_an_extension_is_neither_installed_nor_loaded(demo_db):
    result = run("--db", str(demo_db), "install httpfs")

    assert result.exit_code == 2, result.output


def test_an_empty_query_exits_2_in_one_line(demo_db):
    result = run("--db", str(demo_db), "  ")

    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "no query given" in result.output


def test_a_missing_warehouse_exits_2_naming_the_file(tmp_path):
    missing = tmp_path / "nowhere.duckdb"

    result = run("--db", str(missing), "select 1")

    assert result.exit_code == 2
    assert str(missing) in result.output
    assert not missing.exists()


def test_a_syntax_error_exits_2_in_one_line(demo_db):
    result = run("--db", str(demo_db), "selec 1")

    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "syntax error" in result.output


def test_a_result_too_wide_for_the_terminal_prints_one_block_per_row(demo_db):
    result = run("--db", str(demo_db), "select * from analytics.kpi_summary")

    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80 or "│" in result.output
    assert result.output.count("-[ row ") == len(_kpis(demo_db))
    assert any(line.startswith("definition ") for line in result.output.splitlines())


@pytest.mark.parametrize("output_format", ["table", "csv", "json"])
def test_output_read_only_in_part_stops_quietly_as_sigpipe_does(demo_db, output_format):
    # `simplymeet sql ... | head -1`: the reader goes away with rows still to write.
    argv = [
        "sql",
        "--db",
        str(demo_db),
        "--format",
        output_format,
        # More than a pipe holds (64 KB) in every format: written whole, the command could
        # end before the reader goes.
        "--max-rows",
        "15000",
        "select range from range(300000)",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "simplymeet.cli.main", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()
    proc.stdout.close()

    code = proc.wait(timeout=60)

    # Killed by SIGPIPE (a shell says 141), or exiting 141 itself.
    assert code in (-signal.SIGPIPE, 128 + signal.SIGPIPE)
    assert proc.stderr.read() == b""


def test_a_value_looking_like_markup_is_printed_as_it_is(demo_db):
    # Invitees name themselves: `[/x] Bob` or `[bold]Ann` is their name, not a style.
    result = run("--db", str(demo_db), "select '[/x] Bob' as \"[bold]name\", '[red]Ann' as b")

    assert result.exit_code == 0, result.output
    assert "[/x] Bob" in result.output and "[red]Ann" in result.output
    assert "[bold]name" in result.output


def test_a_report_whose_reader_went_away_stops_quietly_as_sigpipe_does(demo_db):
    # Rich's own answer to a broken pipe is a silent exit 1: a scheduler reads a failure.
    proc = subprocess.Popen(
        [sys.executable, "-m", "simplymeet.cli.main", "report", "--db", str(demo_db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader went away before the first line

    code = proc.wait(timeout=120)

    assert code in (-signal.SIGPIPE, 128 + signal.SIGPIPE)
    assert proc.stderr.read() == b""


def test_a_warehouse_another_process_holds_exits_3_naming_it(demo_db, tmp_path):
    held = tmp_path / "held.duckdb"
    held.write_bytes(demo_db.read_bytes())
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys, time; c = duckdb.connect({str(held)!r}); "
         "print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        result = run_cli("sql", "--db", str(held), "select 1")
    finally:
        holder.kill()
        holder.wait(timeout=30)

    assert result.exit_code == 3, result.output
    assert f"held by another process (pid {holder.pid})" in result.output


def test_a_db_flag_beside_a_settings_file_elsewhere_reads_that_file_without_a_warning(
    demo_db, tmp_path, monkeypatch
):
    # The file leaves the warehouse at its default, which the working directory holds: the
    # flag names the warehouse, so where the default would be read from is no question.
    app = tmp_path / "app"
    app.mkdir()
    (app / "config.toml").write_text("[sync]\nlag_seconds = 60\n")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "simplymeet.duckdb").write_bytes(b"")

    done = run_cli("sql", "--config", str(app / "config.toml"), "--db", str(demo_db), "select 1")

    assert done.exit_code == 0, done.output
    assert "working directory" not in done.stderr
