"""A command line click cannot read is one `error: ...` line and exit 2, like every other error.

A scheduler's log keeps the last line of a failed run; click's own form is three (the usage,
a hint to --help, the error), so the hint moves onto the error's line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from simplymeet.cli.errors import exit_code_for, without_secrets
from simplymeet.config import Settings
from simplymeet.sync.runner import make_pipeline
from tests.cli_support import run_cli
from tests.synced_template import demo_copy, synced_copy


@pytest.mark.parametrize(
    ("args", "where", "said"),
    [
        (("--bogus",), "", "No such option '--bogus'"),
        (("nosuchcommand",), "", "No such command 'nosuchcommand'"),
        (("sync", "--bogus"), " sync", "No such option '--bogus'"),
        (("event", "notes", "--ids", "1", "--yes"), " event notes", "No such option '--yes'"),
        (("models", "build", "--bogus"), " models build", "No such option '--bogus'"),
        (("sql",), " sql", "Missing argument 'QUERY'"),
        (("report", "--html", "."), " report", "Invalid value for '--html'"),
        (("emulator", "serve", "--port", "-1"), " emulator serve", "Invalid value for '--port'"),
        (
            ("emulator", "serve", "--latency-ms", "-1"),
            " emulator serve",
            "Invalid value for '--latency-ms'",
        ),
        (
            ("emulator", "serve", "--latency-ms", "nan"),
            " emulator serve",
            "Invalid value for '--latency-ms'",
        ),
        (("emulator", "serve", "--seed", "-1"), " emulator serve", "Invalid value for '--seed'"),
        (
            ("emulator", "serve", "--events", "99999999999999"),
            " emulator serve",
            "Invalid value for '--events'",
        ),
        (("sync", "--db", "a.duckdb", "--db", "b.duckdb"), " sync", "--db given more than once"),
        (
            ("models", "build", "--config", "a.toml", "--config=b.toml"),
            " models build",
            "--config given more than once",
        ),
        (("models", "test", "--limit", "-1"), " models test", "Invalid value for '--limit'"),
        (
            ("models", "test", "--limit", "99999999999999999999"),
            " models test",
            "Invalid value for '--limit'",
        ),
        (
            ("writeback", "jobs", "--limit", "99999999999999999999"),
            " writeback jobs",
            "Invalid value for '--limit'",
        ),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else None,
)
def test_a_usage_error_is_one_line_naming_the_help_to_read(args, where, said):
    result = run_cli(*args)

    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert line.startswith(f"error: {said}")
    assert line.endswith(f"(see cli{where} --help)")  # `cli`: CliRunner's name for the program


def test_the_installed_command_names_itself_in_the_hint(tmp_path):
    # The program's own name is the process's: `simplymeet`, as the user typed it.
    done = subprocess.run(
        [str(Path(sys.executable).with_name("simplymeet")), "sync", "--bogus"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "error: No such option '--bogus'. (see simplymeet sync --help)\n"


@pytest.mark.parametrize("args", [("--help",), ("sync", "--help"), ("models", "--help")])
def test_help_is_still_clicks_own(args):
    result = run_cli(*args)

    assert result.exit_code == 0
    assert result.output.startswith("Usage: cli")


def test_help_asked_for_beside_an_option_given_twice_is_shown():
    result = run_cli("sql", "--db", "a.duckdb", "--db", "b.duckdb", "--help")

    assert result.exit_code == 0
    assert result.output.startswith("Usage: cli sql")


def test_a_flag_given_both_ways_is_refused():
    result = run_cli("sync", "--reconcile", "--no-reconcile")

    assert result.exit_code == 2
    assert result.output.startswith("error: --reconcile/--no-reconcile given more than once")


def test_options_that_take_several_values_and_plain_flags_still_repeat(tmp_path):
    result = run_cli(
        "event", "cancel-list", "--ids", "1", "--account", "a", "--account", "b", "--yes", "-y",
        "--db", str(tmp_path / "none.duckdb"), "--dry-run",
    )  # fmt: skip

    assert "given more than once" not in result.output
    assert "unknown account 'a'" in result.output  # both --account read, checked after


def test_a_group_named_alone_still_shows_its_help():
    result = run_cli("models")

    assert result.exit_code == 2
    assert result.output.startswith("Usage: cli models")
    assert "build" in result.output


def test_a_setting_given_the_api_key_by_mistake_is_named_without_echoing_it() -> None:
    key = "sk-live-pasted-in-the-wrong-place"

    result = run_cli("sync", env={"SIMPLYMEET_API_KEY": key, "SIMPLYMEET_API__PAGE_SIZE": key})

    assert result.exit_code == 2 and "page_size" in result.stderr
    assert key not in result.output + result.stderr


def test_a_password_a_dsn_in_an_error_quotes_is_blanked() -> None:
    line = 'connection to "postgresql://loader:hunter2@db.example:5432/wh" failed'

    assert without_secrets(line) == (
        'connection to "postgresql://loader:***@db.example:5432/wh" failed'
    )


ACCOUNT_KEY = "sk_live_ACME_0123456789abcdef"


def test_an_account_s_key_from_its_variable_is_masked_where_an_error_quotes_it(
    tmp_path, monkeypatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[accounts]]\nname = "acme"\napi_key_env = "ACME_KEY"\n')
    monkeypatch.setenv("SIMPLYMEET_CONFIG", str(config))
    monkeypatch.setenv("ACME_KEY", ACCOUNT_KEY)

    assert without_secrets(f"dataset must be lowercase (got {ACCOUNT_KEY!r})") == (
        "dataset must be lowercase (got '***')"
    )


def test_an_account_s_key_named_by_a_config_given_with_config_is_masked(tmp_path) -> None:
    config = tmp_path / "other.toml"
    config.write_text('[[accounts]]\nname = "acme"\napi_key_env = "ACME_TOKEN"\n')

    result = run_cli(
        "sync", "--config", str(config), "--account", ACCOUNT_KEY,
        env={"ACME_TOKEN": ACCOUNT_KEY,
             "SIMPLYMEET_WAREHOUSE__PIPELINES_DIR": str(tmp_path / "pipelines"),
             "SIMPLYMEET_WAREHOUSE__DUCKDB_PATH": str(tmp_path / "w.duckdb")},
    )  # fmt: skip

    assert result.exit_code == 2, result.output
    assert ACCOUNT_KEY not in result.output
    assert "unknown account '***'" in result.stderr


def test_an_account_s_key_in_the_secrets_file_is_masked_where_an_error_quotes_it(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".simplymeet").mkdir()
    (tmp_path / ".simplymeet" / "secrets.toml").write_text(f'acme_key = "{ACCOUNT_KEY}"\n')

    assert without_secrets(f"unknown account {ACCOUNT_KEY!r}") == "unknown account '***'"


def test_a_key_a_header_cannot_carry_is_masked_not_a_crash(monkeypatch) -> None:
    pasted = "\u201csk_live_0123456789abcdef\u201d"  # typographic quotes around it
    monkeypatch.setenv("SIMPLYMEET_API_KEY", pasted)

    assert without_secrets(f"got {pasted}") == "got ***"


def test_the_exit_code_s_message_masks_the_key_on_every_route(monkeypatch) -> None:
    # The pipeline script and the Dagster route print exit_code_for's message as it is.
    monkeypatch.setenv("SIMPLYMEET_API_KEY", ACCOUNT_KEY)

    code, message = exit_code_for(ValueError(f"page_size must be an integer (got {ACCOUNT_KEY!r})"))

    assert (code, message) == (2, "page_size must be an integer (got '***')")


@pytest.mark.parametrize(
    "command", [("sync",), ("models", "build"), ("report",)], ids=lambda c: " ".join(c)
)
def test_a_destination_named_without_its_credentials_is_a_setting_to_fix_exit_2(tmp_path, command):
    result = run_cli(
        *command, "--destination", "postgres",
        env={"SIMPLYMEET_WAREHOUSE__PIPELINES_DIR": str(tmp_path / "pipelines"),
             "SIMPLYMEET_API_KEY": "k", "DESTINATION__POSTGRES__CREDENTIALS": ""},
    )  # fmt: skip

    assert result.exit_code == 2, result.output
    assert "credentials" in result.stderr


def test_a_sync_refused_for_the_destination_s_credentials_leaves_no_pipeline_folder(tmp_path):
    result = run_cli(
        "sync", "--destination", "postgres",
        env={"SIMPLYMEET_WAREHOUSE__PIPELINES_DIR": str(tmp_path / ".simplymeet" / "pipelines"),
             "SIMPLYMEET_API_KEY": "k", "DESTINATION__POSTGRES__CREDENTIALS": ""},
    )  # fmt: skip

    assert result.exit_code == 2, result.output
    assert list(tmp_path.iterdir()) == []


def test_a_sync_refused_for_the_destination_s_credentials_leaves_the_pipeline_s_state_as_it_was(
    tmp_path,
):
    # Opened for another destination, dlt rewrote the state: the next run found it ahead of
    # the warehouse's.
    warehouse = {"pipelines_dir": str(tmp_path / "pipelines"), "duckdb_path": str(tmp_path / "w")}
    folder = (
        tmp_path / "pipelines" / make_pipeline(Settings({"warehouse": warehouse})).pipeline_name
    )
    env = {f"SIMPLYMEET_WAREHOUSE__{key.upper()}": value for key, value in warehouse.items()}
    env["SIMPLYMEET_API_KEY"] = "k"
    before = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}
    assert "state.json" in before

    result = run_cli(
        "sync", "--destination", "postgres", env={**env, "DESTINATION__POSTGRES__CREDENTIALS": ""}
    )

    assert result.exit_code == 2, result.output
    assert {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()} == before


@pytest.mark.parametrize("command", [("sync",), ("models", "build")])
def test_a_dataset_name_dlt_would_rename_is_refused_and_nothing_is_written(tmp_path, command):
    result = run_cli(
        *command, "--dataset", "Bad Name",
        env={"SIMPLYMEET_WAREHOUSE__DUCKDB_PATH": str(tmp_path / "w.duckdb"),
             "SIMPLYMEET_WAREHOUSE__PIPELINES_DIR": str(tmp_path / "pipelines")},
    )  # fmt: skip

    assert result.exit_code == 2
    assert "'Bad Name': use lowercase letters" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("dataset", ["analytics", "writeback"])
def test_a_sync_into_the_models_or_journal_schema_is_refused_and_nothing_is_written(
    tmp_path, dataset
):
    result = run_cli(
        "sync", "--dataset", dataset,
        env={"SIMPLYMEET_WAREHOUSE__DUCKDB_PATH": str(tmp_path / "w.duckdb"),
             "SIMPLYMEET_WAREHOUSE__PIPELINES_DIR": str(tmp_path / "pipelines")},
    )  # fmt: skip

    assert result.exit_code == 2
    assert "the models and the write-back journal have that schema" in result.output
    assert list(tmp_path.iterdir()) == []


def test_models_built_from_a_dataset_holding_nothing_are_refused_and_kept(
    tmp_path, tmp_path_factory
):
    db = demo_copy(tmp_path_factory, tmp_path / "w.duckdb")
    before = _fct_events(db)

    result = run_cli("models", "build", "--db", str(db), "--dataset", "nope")

    assert result.exit_code == 2
    assert "dataset 'nope' holds no tables" in result.output
    assert _fct_events(db) == before > 0


def _fct_events(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute("select count(*) from analytics.fct_events").fetchone()[0])


def test_an_unknown_resource_is_refused_before_anything_is_written(tmp_path):
    result = run_cli(
        "sync", "--resources", "events,nosuch",
        env={"SIMPLYMEET_WAREHOUSE__DUCKDB_PATH": str(tmp_path / "w.duckdb"),
             "SIMPLYMEET_WAREHOUSE__PIPELINES_DIR": str(tmp_path / "pipelines"),
             "SIMPLYMEET_API_KEY": "k"},
    )  # fmt: skip

    assert result.exit_code == 2
    assert "unknown resource(s) nosuch" in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["raw", "analytics"])
def test_a_warehouse_file_named_like_a_schema_in_it_is_refused_and_nothing_is_written(
    tmp_path, name
):
    # DuckDB names the database by its file: `raw.events` would name both.
    result = run_cli(
        "sync",
        env={"SIMPLYMEET_WAREHOUSE__DUCKDB_PATH": str(tmp_path / f"{name}.duckdb"),
             "SIMPLYMEET_WAREHOUSE__PIPELINES_DIR": str(tmp_path / "pipelines"),
             "SIMPLYMEET_API_KEY": "k"},
    )  # fmt: skip

    assert result.exit_code == 2, result.output
    assert f"like the schema '{name}'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_models_test_of_a_model_no_file_defines_exits_2_naming_the_closest(tmp_path):
    # A misspelt selection tested nothing and passed (exit 0), in CI too.
    result = run_cli("models", "test", "--select", "fct_event", "--db", str(tmp_path / "w.duckdb"))

    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "error: --select fct_event: no model has that name (did you mean fct_events?)"
    ]


def test_models_test_before_any_build_says_to_build_them_with_exit_2(
    tmp_path_factory, tmp_path, emulator
):
    # A warehouse a sync wrote without building the models (the shared synced template).
    settings = synced_copy(tmp_path_factory, tmp_path, emulator)

    result = run_cli("models", "test", "--db", settings.get("warehouse", "duckdb_path"))

    assert result.exit_code == 2, result.output
    assert "run `simplymeet models build`" in result.stderr


def test_a_usage_error_quoting_terminal_controls_writes_them_out():
    result = run_cli("sql", "--format", "\x1b[2J", "select 1")

    assert result.exit_code == 2
    assert "\x1b" not in result.output
    assert "'\\x1b[2J' is not one of" in result.output
