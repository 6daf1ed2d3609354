"""Reading targets: --ids, --ids-file (txt, csv, jsonl) and a read-only --sql."""

from __future__ import annotations

import datetime as dt
import re
import tracemalloc
from pathlib import Path

import duckdb
import pytest

from simplymeet.writeback.targets import TargetError, Targets, read_rows, snake
from simplymeet.writeback.warehouse import WarehouseError


def _rows(targets: Targets, key: str | None = "id", db: Path | None = None) -> list[dict]:
    return [row.values for row in read_rows(targets, key=key, db_path=db, dataset="raw")]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A tiny DuckDB file with a `raw.events` table."""
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    con.execute("create sequence raw.s")
    con.execute(
        "create table raw.events as select * from (values "
        "(1, 'active', timestamptz '2030-01-01 10:00:00+00'), "
        "(2, 'canceled', timestamptz '2030-01-02 11:30:00+00')) t(id, state, scheduled_at)"
    )
    con.close()
    return path


def test_ids_are_split_on_commas_and_spaces() -> None:
    assert _rows(Targets(ids=" 1, 2 3 ,4\n5 ")) == [{"id": t} for t in ("1", "2", "3", "4", "5")]


@pytest.mark.parametrize(("ids", "position"), [("1,,2", 2), ("1, ,2", 2), (",1", 1), ("1,2,", 3)])
def test_an_empty_item_in_ids_is_refused_naming_its_position(ids: str, position: int) -> None:
    # "1,$X,2" with $X empty: the id meant to be there is missing, not to be skipped.
    with pytest.raises(TargetError, match=f"^--ids item {position} is empty"):
        _rows(Targets(ids=ids))


@pytest.mark.parametrize("token", ["\uff11", "1\u0662", "abc", "0", "-3"])
def test_an_ids_item_that_is_not_a_positive_ascii_integer_is_refused(token: str) -> None:
    with pytest.raises(TargetError, match=f"^--ids item 2: '{token}' is not an id"):
        _rows(Targets(ids=f"5,{token}"))


def test_a_txt_file_gives_one_id_per_token_and_skips_comments(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("# to cancel\n10\n\n11, 12  # the rest\n")

    rows = read_rows(Targets(ids_file=path), key="id", db_path=None, dataset="raw")

    assert [r.values for r in rows] == [{"id": "10"}, {"id": "11"}, {"id": "12"}]
    assert [r.source for r in rows] == ["ids.txt line 2", "ids.txt line 4", "ids.txt line 4"]


def test_an_id_repeated_in_a_txt_file_is_folded_into_its_first_line_s_row(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("5\n6\n5\n5 6\n")

    rows = read_rows(Targets(ids_file=path), key="id", db_path=None, dataset="raw")

    assert [(r.values, r.source, r.repeats) for r in rows] == [
        ({"id": "5"}, "ids.txt line 1", 2),
        ({"id": "6"}, "ids.txt line 2", 1),
    ]


def test_a_txt_file_of_few_ids_repeated_costs_the_memory_of_those_ids(tmp_path: Path) -> None:
    path = tmp_path / "repeats.txt"
    with path.open("w") as handle:
        handle.writelines(f"{n % 3 + 1}\n" for n in range(200_000))

    tracemalloc.start()
    try:
        rows = read_rows(Targets(ids_file=path), key="id", db_path=None, dataset="raw")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert sum(1 + row.repeats for row in rows) == 200_000
    # A row kept per line was ~1.4 KB each by the time it was planned: 280 MB here.
    assert peak < 1_000_000, f"peak {peak:,} bytes"


@pytest.mark.parametrize("name", ["ids.txt", "ids.csv"])
def test_an_ids_file_that_is_a_pipe_is_read_as_a_file_is(tmp_path: Path, name: str) -> None:
    # `--ids-file <(simplymeet sql ...)` or /dev/stdin: no seeking back for a second pass.
    import os
    import threading

    pipe = tmp_path / name
    os.mkfifo(pipe)
    text = "id\n7\n9\n" if name.endswith(".csv") else "7 9\n"
    writer = threading.Thread(target=pipe.write_text, args=(text,), daemon=True)
    writer.start()

    rows = _rows(Targets(ids_file=pipe))

    writer.join(10)
    assert rows == [{"id": "7"}, {"id": "9"}]


def test_a_csv_id_column_is_the_key_wherever_it_is_and_headers_become_snake_case(
    tmp_path: Path,
) -> None:
    path = tmp_path / "moves.csv"
    path.write_text("New Start,ID\n2030-01-01 10:00:00,5\n")

    assert _rows(Targets(ids_file=path)) == [{"new_start": "2030-01-01 10:00:00", "id": "5"}]


@pytest.mark.parametrize("text", ["foo,bar\n1,2\n3,4\n", "user_id,notes\n1,a\n", "user_id\n7\n8\n"])
def test_a_csv_without_an_id_column_is_refused_naming_its_columns(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / "f.csv"
    path.write_text(text)

    with pytest.raises(TargetError, match=r"no column named 'id' \(columns: .*\); name the"):
        _rows(Targets(ids_file=path))


def test_id_column_names_the_column_that_holds_the_targets(tmp_path: Path) -> None:
    path = tmp_path / "moves.csv"
    path.write_text("eventId,start\n5,2030-01-01 10:00:00\n")

    rows = _rows(Targets(ids_file=path, id_column="eventId"))

    assert rows == [{"id": "5", "start": "2030-01-01 10:00:00"}]


def test_an_id_column_that_is_not_there_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "moves.csv"
    path.write_text("id,start\n5,2030-01-01 10:00:00\n")

    with pytest.raises(TargetError, match="no column named 'event_id'"):
        _rows(Targets(ids_file=path, id_column="event_id"))


def test_a_headerless_one_column_csv_is_a_list_of_ids(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("5\n6\n\n7\n")

    rows = read_rows(Targets(ids_file=path), key="id", db_path=None, dataset="raw")

    assert [r.values for r in rows] == [{"id": "5"}, {"id": "6"}, {"id": "7"}]
    assert [r.source for r in rows] == ["ids.csv line 1", "ids.csv line 2", "ids.csv line 4"]


@pytest.mark.parametrize(
    "token", ["1e30", "1.5", "-3", "0", "12345678901234567890", "abc", "1\uff12"]
)
def test_a_token_that_is_not_a_positive_integer_is_refused_naming_its_line(
    tmp_path: Path, token: str
) -> None:
    path = tmp_path / "ids.txt"
    path.write_text(f"10\n11\n{token}\n12\n")

    with pytest.raises(TargetError, match=f"ids.txt line 3: '{re.escape(token)}' is not an id"):
        _rows(Targets(ids_file=path))


def test_a_csv_id_that_is_not_a_positive_integer_is_refused_naming_its_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("id,notes\n10,a\n1e30,b\n")

    with pytest.raises(TargetError, match=re.escape("ids.csv line 3: '1e30' is not an id")):
        _rows(Targets(ids_file=path))


def test_a_large_ids_file_with_a_bad_line_at_the_end_stops_there_in_bounded_memory(
    tmp_path: Path,
) -> None:
    lines = 300_000
    path = tmp_path / "big.txt"
    with path.open("w") as handle:
        handle.writelines(f"{n}\n" for n in range(1, lines))
        handle.write("oops\n")
    size = path.stat().st_size

    tracemalloc.start()
    try:
        with pytest.raises(TargetError, match=f"big.txt line {lines}: 'oops' is not an id"):
            _rows(Targets(ids_file=path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Checked line by line before any row is kept: a few buffers, not the file (2 MB here)
    # nor its rows (~400 bytes each: 120 MB here when every row was built first).
    assert peak < 1_000_000, f"peak {peak:,} bytes for a {size:,}-byte file"


@pytest.mark.parametrize(
    ("name", "first"), [("ids.txt", "1"), ("ids.csv", "id"), ("rows.jsonl", '{"id": 1}')]
)
def test_a_line_longer_than_any_row_is_refused_without_reading_it_whole(
    tmp_path: Path, name: str, first: str
) -> None:
    # One endless line (a binary file, `/dev/zero`) would fill the memory before a check.
    path = tmp_path / name
    path.write_text(f"{first}\n" + "7" * (3 << 20) + "\n")

    with pytest.raises(TargetError, match=f"{name} line 2: longer than 1,048,576 characters"):
        _rows(Targets(ids_file=path))


def test_a_long_token_that_is_not_an_id_is_named_by_its_head_only(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("x" * 5000 + "\n")

    with pytest.raises(TargetError) as refused:
        _rows(Targets(ids_file=path))

    assert len(str(refused.value)) < 200 and "(5,000 characters)" in str(refused.value)


def test_a_csv_row_with_a_missing_cell_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,notes\n5,a\n6\n")

    with pytest.raises(TargetError, match="line 3: 1 cells, the header has 2"):
        _rows(Targets(ids_file=path))


def test_a_csv_quote_never_closed_is_refused_naming_the_line_it_opens_on(tmp_path: Path) -> None:
    # Read leniently, the rest of the file would become the first row's reason.
    path = tmp_path / "cancel.csv"
    path.write_text('id,reason\n90,"host is ill\n97,host is ill\n98,host is ill\n')

    with pytest.raises(TargetError, match=r"cancel.csv line 2: a quoted value opened on this"):
        _rows(Targets(ids_file=path))


def test_a_csv_with_text_after_a_closing_quote_is_refused_naming_its_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.csv"
    path.write_text('id,notes\n5,ok\n6,"said" twice\n')

    with pytest.raises(TargetError, match=r"notes.csv line 3: not valid CSV"):
        _rows(Targets(ids_file=path))


def test_a_csv_value_quoted_across_lines_is_one_value(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text('id,notes\n5,"first line\nsecond line"\n6,plain\n')

    assert _rows(Targets(ids_file=path)) == [
        {"id": "5", "notes": "first line\nsecond line"},
        {"id": "6", "notes": "plain"},
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"id": 90, "Id": 97}', r"keys 'id' and 'Id' are the same column \(id\)"),
        ('{"id": 90, "id": 97}', r"the key 'id' is given twice"),
    ],
    ids=["same-after-normalizing", "same-as-written"],
)
def test_a_jsonl_row_naming_a_column_twice_is_refused(
    tmp_path: Path, line: str, expected: str
) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(f'{{"id": 5}}\n{line}\n')

    with pytest.raises(TargetError, match=rf"rows.jsonl line 2: {expected}"):
        _rows(Targets(ids_file=path))


def test_a_jsonl_file_gives_one_row_per_line(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"name": "VIP", "color": "#fff"}\n\n{"name": "Key"}\n')

    assert _rows(Targets(ids_file=path), key=None) == [
        {"name": "VIP", "color": "#fff"},
        {"name": "Key"},
    ]


def test_sql_reads_the_dataset_unqualified_with_typed_values(warehouse: Path) -> None:
    sql = "select scheduled_at as start, id from events order by id"

    rows = _rows(Targets(sql=sql), db=warehouse)

    assert rows[0]["id"] == 1
    assert rows[1]["start"] == dt.datetime(2030, 1, 2, 11, 30, tzinfo=dt.UTC)


def test_a_one_column_query_is_the_targets_whatever_its_name(warehouse: Path) -> None:
    assert _rows(Targets(sql="select id as event_id from events order by 1"), db=warehouse) == [
        {"id": 1},
        {"id": 2},
    ]


def test_a_query_of_several_columns_without_an_id_is_refused(warehouse: Path) -> None:
    with pytest.raises(
        TargetError, match=re.escape("--sql: no column named 'id' (columns: event_id, state")
    ):
        _rows(Targets(sql="select id as event_id, state from events"), db=warehouse)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("update raw.events set state = 'x'", "must be a SELECT statement, got UPDATE"),
        ("select 1; select 2", "one SELECT statement, got 2"),
        ("select * from nowhere", "--sql failed"),
    ],
)
def test_sql_that_is_not_one_working_select_is_refused(
    warehouse: Path, sql: str, message: str
) -> None:
    with pytest.raises(WarehouseError, match=message):
        _rows(Targets(sql=sql), db=warehouse)


@pytest.mark.parametrize("sql", ["selec id from events", "select * from nowhere"])
def test_a_query_duckdb_refuses_is_named_in_one_line(warehouse: Path, sql: str) -> None:
    with pytest.raises(WarehouseError) as refused:
        _rows(Targets(sql=sql), db=warehouse)
    assert "\n" not in str(refused.value)


def test_the_target_query_cannot_change_the_warehouse(warehouse: Path) -> None:
    # Even a SELECT with side effects is refused by the read-only connection.
    with pytest.raises(WarehouseError, match="--sql failed while running"):
        _rows(Targets(sql="select nextval('raw.s') as id"), db=warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("select count(*) from raw.events").fetchone() == (2,)
    con.close()


@pytest.mark.parametrize(
    "source", ["/etc/passwd", "http://127.0.0.1:9/ids.csv", "s3://bucket/ids.parquet"]
)
def test_a_target_query_cannot_read_files_or_urls(warehouse: Path, source: str) -> None:
    reader = "read_parquet" if source.endswith(".parquet") else "read_csv"
    with pytest.raises(WarehouseError) as info:
        _rows(Targets(sql=f"select * from {reader}('{source}')"), db=warehouse)
    assert "disabled by configuration" in str(info.value)
    assert "root:" not in str(info.value)


def test_a_target_query_runs_sandboxed_with_its_configuration_locked(warehouse: Path) -> None:
    sql = (
        "select 1 as id, current_setting('enable_external_access') as external, "
        "current_setting('autoinstall_known_extensions') as install, "
        "current_setting('autoload_known_extensions') as load, "
        "current_setting('lock_configuration') as locked"
    )

    [row] = _rows(Targets(sql=sql), db=warehouse)

    assert row == {"id": 1, "external": False, "install": False, "load": False, "locked": True}


def test_a_query_that_fails_on_a_value_does_not_echo_the_value(warehouse: Path) -> None:
    with pytest.raises(WarehouseError) as info:
        _rows(Targets(sql="select cast(state as integer) as id from events"), db=warehouse)
    message = str(info.value)
    assert "Conversion error" in message and "details not shown" in message
    assert "active" not in message and "canceled" not in message


def test_only_one_target_option_may_be_given(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="give one of"):
        _rows(Targets(ids="1", sql="select 1"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [("scheduledAt", "scheduled_at"), ("Invitee E-mail", "invitee_e_mail"), ("id", "id")],
)
def test_column_names_are_normalized(name: str, expected: str) -> None:
    assert snake(name) == expected
