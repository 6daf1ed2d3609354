"""`simplymeet sync` as an operator or a scheduler sees it: exit codes, one-line errors, no key.

Most tests run the command in-process (`tests/cli_support.py`): its output and exit code are
the same, without ~1-3 s of CPU per test to import and start a process. A subprocess stays
where the process is the behaviour: the installed command's exit code, the logs a real process
writes, and the pipeline script run as a script.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from click.testing import Result

from simplymeet.emulator import start_emulator
from tests.cli_support import run_cli, sync_env
from tests.sync_support import REPO, settings_for
from tests.synced_template import synced_copy
from tests.test_sync_resilience import cli_env, simplymeet

SECRET = "sk-LEAKCHECK-7f3a9c2e5d"


def _run(settings, key: str, *args: str, **env: str) -> Result:
    """`simplymeet sync *args` in-process, configured as `cli_env` configures a subprocess."""
    return run_cli("sync", *args, env=sync_env(settings, key, **env))


def _run_process(settings, key: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`simplymeet sync *args` as a process of its own."""
    environment = cli_env(settings, key)
    environment.update(env)
    return subprocess.run(
        simplymeet("sync", *args),
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_sync_prints_a_summary_and_exits_0(tmp_path):
    with start_emulator(seed=1, events=300) as emulator:
        done = _run(settings_for(tmp_path, emulator), emulator.api_key, "--no-models")
    assert done.exit_code == 0, done.stderr
    assert "events" in done.stdout
    assert "requests" in done.stdout


def test_the_summary_s_closing_line_is_one_line_on_a_narrow_terminal(tmp_path):
    with start_emulator(seed=1, events=30) as emulator:
        settings = settings_for(tmp_path, emulator)
        done = _run(
            settings, emulator.api_key, "--no-models", "--resources", "events", COLUMNS="40"
        )

    assert done.exit_code == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if " requests (" in line]
    assert f"warehouse duckdb:{settings.get('warehouse', 'duckdb_path')} dataset raw" in line


def test_wrong_key_exits_4_with_one_line_saying_so(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        done = _run(settings_for(tmp_path, emulator), "not-the-key")
    assert done.exit_code == 4
    [line] = done.stderr.strip().splitlines()
    assert "key" in line.lower()


def test_key_without_paid_plan_exits_4_naming_the_plan(tmp_path):
    with start_emulator(seed=1, events=10, paid=False) as emulator:
        done = _run(settings_for(tmp_path, emulator), emulator.api_key)
    assert done.exit_code == 4
    assert "plan" in done.stderr.lower()


def test_unknown_resource_exits_2_and_sends_nothing(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        done = _run(settings_for(tmp_path, emulator), emulator.api_key, "--resources", "eventz")
        assert emulator.count() == 0
    assert done.exit_code == 2
    assert "eventz" in done.stderr


def test_resources_naming_none_exits_2_and_sends_nothing(tmp_path):
    # `--resources "$RESOURCES"` with the variable unset: not a wish to sync everything.
    with start_emulator(seed=1, events=10) as emulator:
        done = _run(settings_for(tmp_path, emulator), emulator.api_key, "--resources", " , ")
        assert emulator.count() == 0
    assert done.exit_code == 2
    assert "--resources: names no resource" in done.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--resources", "events,,users"), "--resources: item 2 is empty"),
        (("--since", "2099-01-01"), "--since: 2099-01-01 is in the future"),
    ],
    ids=["an-empty-resource-item", "a-since-in-the-future"],
)
def test_an_option_that_cannot_mean_what_was_meant_exits_2_and_sends_nothing(tmp_path, args, said):
    with start_emulator(seed=1, events=10) as emulator:
        done = _run(settings_for(tmp_path, emulator), emulator.api_key, *args)
        assert emulator.count() == 0
    assert done.exit_code == 2
    assert said in done.stderr


def test_missing_key_exits_2(tmp_path):
    # A process: the code a scheduler gets from the installed command itself (it exits
    # before dlt loads, so this process is cheap).
    with start_emulator(seed=1, events=10) as emulator:
        done = _run_process(settings_for(tmp_path, emulator), "", HOME=str(tmp_path))
    assert done.returncode == 2
    assert "SIMPLYMEET_API_KEY" in done.stderr


def _sync_unreachable(tmp_path, retries: int) -> Result:
    """`simplymeet sync` of an emulator stopped before it: its port refuses connections."""
    with start_emulator(seed=1, events=10) as emulator:
        settings = settings_for(tmp_path, emulator)
    return _run(settings, "k", SIMPLYMEET_API__MAX_RETRIES=str(retries))


def test_unreachable_api_exits_5(tmp_path):
    done = _sync_unreachable(tmp_path, retries=1)
    assert done.exit_code == 5
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "could not connect" in errors[0]


def test_an_unreachable_api_is_said_in_a_warning_or_two_and_the_error(tmp_path):
    # Every request fails alike: the retries after the first and the resources failing after
    # the first are details (-v), not a page of warnings before the one error line.
    done = _sync_unreachable(tmp_path, retries=3)

    assert done.exit_code == 5
    warnings = [line for line in done.stderr.splitlines() if line.startswith("WARNING")]
    loggers = [w.split(": ")[1] for w in warnings]
    # The sync's one: the first resource that failed on its own (none when the events did).
    assert loggers.count("simplymeet.client") == 1 and loggers.count("simplymeet.sync") <= 1


def test_api_key_never_reaches_warehouse_pipeline_folder_or_logs(tmp_path):
    with start_emulator(seed=1, events=300, api_key=SECRET) as emulator:
        settings = settings_for(tmp_path, emulator)
        # A process: every log line a real run writes, at debug level, reaches its stderr.
        done = _run_process(settings, SECRET, RUNTIME__LOG_LEVEL="DEBUG")
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    for path in Path(tmp_path).rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


# --- refused input: exit 2, one line, 0 requests ----------------------------------------------


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    return str(path)


def _errors(done: Result | subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.strip()]


def test_misspelt_base_url_exits_2_naming_it_and_sends_nothing(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        settings = settings_for(tmp_path, emulator)
        config = _config(tmp_path, f'[api]\nbase_urll = "{emulator.base_url}"\n')
        done = _run(
            settings, emulator.api_key, SIMPLYMEET_CONFIG=config, SIMPLYMEET_API__BASE_URL=""
        )
        assert emulator.count() == 0
    assert done.exit_code == 2
    [line] = _errors(done)
    assert "base_urll" in line
    assert "did you mean 'base_url'" in line


def test_page_size_that_is_not_a_number_exits_2_naming_key_and_file(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        config = _config(tmp_path, '[api]\npage_size = "lots"\n')
        done = _run(settings_for(tmp_path, emulator), emulator.api_key, SIMPLYMEET_CONFIG=config)
        assert emulator.count() == 0
    assert done.exit_code == 2
    [line] = _errors(done)
    assert config in line
    assert "[api] page_size" in line


def test_section_that_is_not_a_table_exits_2_saying_so(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        config = _config(tmp_path, "api = 5\n")
        done = _run(settings_for(tmp_path, emulator), emulator.api_key, SIMPLYMEET_CONFIG=config)
        assert emulator.count() == 0
    assert done.exit_code == 2
    [line] = _errors(done)
    assert "[api] must be a table of settings" in line


def test_plain_http_to_a_non_loopback_host_exits_2_before_connecting(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        settings = settings_for(tmp_path, emulator)
    done = _run(settings, "k", "--base-url", "http://192.0.2.2:9")
    assert done.exit_code == 2
    [line] = _errors(done)
    assert "plain http" in line
    assert "allow_insecure_http" in line


def test_credentials_in_the_base_url_exit_2_without_echoing_them(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        url = emulator.base_url.replace("http://", "http://alice:hunter2@")
        done = _run(settings_for(tmp_path, emulator), emulator.api_key, "--base-url", url)
        assert emulator.count() == 0
    assert done.exit_code == 2
    assert "must not carry credentials" in done.stderr
    assert "hunter2" not in done.stdout + done.stderr


def test_the_api_key_pasted_into_the_base_urls_path_exits_2_without_echoing_it(tmp_path):
    # Each warning, dlt's trace and a failed write's journaled error would print the URL.
    with start_emulator(seed=1, events=10) as emulator:
        url = f"{emulator.base_url}/{emulator.api_key}"
        done = _run(settings_for(tmp_path, emulator), emulator.api_key, "--base-url", url)
        assert emulator.count() == 0
    assert done.exit_code == 2
    [line] = _errors(done)
    assert "base_url holds the API key" in line
    assert emulator.api_key not in done.stdout + done.stderr


def test_unknown_destination_exits_2_and_sends_nothing(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        done = _run(
            settings_for(tmp_path, emulator), emulator.api_key, "--destination", "nosuchdest"
        )
        assert emulator.count() == 0
    assert done.exit_code == 2
    [line] = _errors(done)
    assert "unknown destination 'nosuchdest'" in line


@pytest.mark.parametrize(
    ("destination", "lacking"),
    [("filesystem", "delete-insert"), ("athena", "delete-insert"), ("sqlalchemy", "insert-only")],
)
def test_a_destination_that_cannot_merge_as_a_sync_does_exits_2_and_writes_nothing(
    tmp_path, destination, lacking
):
    bucket, sqlite = tmp_path / "bucket", tmp_path / "other.db"
    with start_emulator(seed=1, events=10) as emulator:
        done = _run(
            settings_for(tmp_path, emulator),
            emulator.api_key,
            "--destination",
            destination,
            DESTINATION__FILESYSTEM__BUCKET_URL=bucket.as_uri(),
            DESTINATION__SQLALCHEMY__CREDENTIALS=f"sqlite:///{sqlite}",
        )
        assert emulator.count() == 0
    assert done.exit_code == 2
    [line] = _errors(done)
    assert f"destination {destination!r} cannot hold a sync exactly" in line
    assert lacking in line
    assert not bucket.exists()
    assert not sqlite.exists()
    assert not (tmp_path / "pipelines").exists()


def test_a_dataset_holding_another_application_s_tables_exits_2_and_leaves_them(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        settings = settings_for(tmp_path, emulator)
        con = duckdb.connect(settings.get("warehouse", "duckdb_path"))
        con.execute("create schema crm")
        con.execute("create table crm.users (id bigint, name varchar)")
        con.execute("insert into crm.users values (1, 'own row')")
        con.execute("create table crm.notes (id bigint, body varchar)")
        con.close()
        done = _run(settings, emulator.api_key, "--dataset", "crm")
    assert done.exit_code == 2
    [line] = _errors(done)
    assert "dataset 'crm' holds tables a sync never writes (notes)" in line
    con = duckdb.connect(settings.get("warehouse", "duckdb_path"), read_only=True)
    assert con.execute("select * from crm.users").fetchall() == [(1, "own row")]
    assert [c[0] for c in con.execute("describe crm.notes").fetchall()] == ["id", "body"]
    con.close()


def test_a_table_added_beside_the_synced_ones_is_kept_as_it_is(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        settings = settings_for(tmp_path, emulator)
        assert _run(settings, emulator.api_key, "--no-models").exit_code == 0
        con = duckdb.connect(settings.get("warehouse", "duckdb_path"))
        con.execute("create table raw.kept_notes as select 1 as id, 'mine' as note")
        con.close()
        done = _run(settings, emulator.api_key, "--no-models")
    assert done.exit_code == 0, done.stderr
    con = duckdb.connect(settings.get("warehouse", "duckdb_path"), read_only=True)
    assert con.execute("select * from raw.kept_notes").fetchall() == [(1, "mine")]
    con.close()


def test_a_dataset_whose_staging_schema_is_another_sync_s_dataset_exits_2_and_keeps_it(
    tmp_path,
):
    # dlt merges `raw` through `raw_staging`, and empties that schema's tables as it loads.
    with start_emulator(seed=1, events=10) as emulator:
        settings = settings_for(tmp_path, emulator)
        staged = _run(settings, emulator.api_key, "--no-models", "--dataset", "raw_staging")
        assert staged.exit_code == 0, staged.stderr
        done = _run(settings, emulator.api_key, "--no-models")
    assert done.exit_code == 2
    [line] = _errors(done)
    assert "dataset 'raw_staging' is a dataset of its own" in line
    con = duckdb.connect(settings.get("warehouse", "duckdb_path"), read_only=True)
    assert con.execute("select count(*) from raw_staging.events").fetchone() == (10,)
    con.close()


# --- failures at the edges: the right code and the whole cause --------------------------------


def test_refused_key_costs_one_request(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        done = _run(settings_for(tmp_path, emulator), "not-the-key")
        assert emulator.count() == 1
    assert done.exit_code == 4


def test_api_failing_under_parallel_resources_exits_5_not_2(tmp_path):
    # Every request is slow, so other resources are mid-request when current_user fails: dlt
    # then closes running generators ("generator already executing") around our error.
    faults = "500=1,endpoints=current_user_get"
    with start_emulator(seed=1, events=300, latency_ms=300, faults=faults) as emulator:
        done = _run(
            settings_for(tmp_path, emulator), emulator.api_key, SIMPLYMEET_API__MAX_RETRIES="0"
        )
    assert done.exit_code == 5, done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert "HTTP 500" in error


def test_warehouse_held_by_another_process_exits_3_naming_its_pid(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        settings = settings_for(tmp_path, emulator)
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', "
                "flush=True); time.sleep(120)",
                settings.get("warehouse", "duckdb_path"),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            done = _run(settings, emulator.api_key)
        finally:
            holder.kill()
            holder.wait(timeout=30)
        assert emulator.count() == 0
    assert done.exit_code == 3
    [line] = _errors(done)
    assert f"pid {holder.pid}" in line


def test_warehouse_path_that_is_a_folder_exits_2_naming_it_and_sends_nothing(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    warehouse.mkdir()  # not a file DuckDB can open
    with start_emulator(seed=1, events=50) as emulator:
        done = _run(settings_for(tmp_path, emulator), emulator.api_key)
        requests = emulator.count()
    assert done.exit_code == 2
    [error] = _errors(done)
    assert "warehouse.duckdb is not a file" in error
    assert requests == 0


def test_read_only_warehouse_exits_1_with_the_whole_cause_and_sends_nothing(
    tmp_path_factory, tmp_path, emulator
):
    # A warehouse a sync wrote: a copy of the shared synced template (tests/README.md).
    settings = synced_copy(tmp_path_factory, tmp_path, emulator)
    warehouse = settings.get("warehouse", "duckdb_path")
    # chmod does not stop root; the immutable flag stops everyone.
    if subprocess.run(["chattr", "+i", warehouse], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        done = _run(settings, emulator.api_key)
        assert emulator.count() == 0
    finally:
        subprocess.run(["chattr", "-i", warehouse], check=True)
    assert done.exit_code == 1
    [error] = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert warehouse in error
    assert "not permitted" in error.lower() or "permission denied" in error.lower()


# --- the pipeline script ----------------------------------------------------------------------


def _pipeline_script(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "pipelines" / "simplymeet_pipeline.py")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_pipeline_script_syncs_with_the_same_settings_and_exits_0(tmp_path):
    with start_emulator(seed=1, events=100) as emulator:
        done = _pipeline_script(cli_env(settings_for(tmp_path, emulator), emulator.api_key))
    assert done.returncode == 0, done.stderr
    assert "events: 100 rows" in done.stdout


def test_pipeline_script_checks_the_alerts_and_exits_7_when_one_fires(
    tmp_path_factory, tmp_path, emulator, monkeypatch, capsys
):
    # As `simplymeet sync` does with `[sync] check_alerts = true`: README's schedulers run
    # this script.
    import runpy

    settings = synced_copy(tmp_path_factory, tmp_path, emulator)
    built = run_cli("models", "build", "--db", settings.get("warehouse", "duckdb_path"))
    assert built.exit_code == 0, built.output
    config = tmp_path / "config.toml"
    config.write_text(
        '[sync]\ncheck_alerts = true\nbuild_models = true\nresources = ["events"]\n\n'
        '[[alerts]]\nname = "any booking made"\nmetric = "created"\nperiod = "all"\n'
        "above = 0\n"
    )
    for name, value in sync_env(settings, emulator.api_key, SIMPLYMEET_CONFIG=str(config)).items():
        monkeypatch.setenv(name, value)
    script = runpy.run_path(str(REPO / "pipelines" / "simplymeet_pipeline.py"))

    code = script["main"]([])

    assert code == 7
    assert "any booking made" in capsys.readouterr().out


def test_pipeline_script_refuses_an_argument_with_exit_2(tmp_path):
    done = subprocess.run(
        [sys.executable, str(REPO / "pipelines" / "simplymeet_pipeline.py"), "--bogus"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: unrecognized arguments: --bogus (see simplymeet_pipeline.py --help)"
    ]


@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_pipeline_script_sent_one_signal_mid_extract_stops_with_128_plus_it(tmp_path, sent):
    # As `simplymeet sync` does: a scheduler's stop is not recorded as a failure (exit 1).
    with start_emulator(seed=4, events=800, latency_ms=150) as emulator:
        settings = settings_for(tmp_path, emulator).with_overrides("api", concurrency=2)
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "pipelines" / "simplymeet_pipeline.py")],
            env=cli_env(settings, emulator.api_key),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while emulator.received("event_list") < 3:
            assert proc.poll() is None, proc.stderr.read()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the script never got going"
            time.sleep(0.01)
        proc.send_signal(sent)

        assert proc.wait(timeout=60) == 128 + sent
    assert "interrupted: what was loaded is kept" in proc.stderr.read()  # type: ignore[union-attr]


def test_pipeline_script_with_a_malformed_config_exits_2_in_one_line(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        environment = cli_env(settings_for(tmp_path, emulator), emulator.api_key)
        environment["SIMPLYMEET_CONFIG"] = _config(tmp_path, "[api]\npage_sise = 10\n")
        done = _pipeline_script(environment)
        assert emulator.count() == 0
    assert done.returncode == 2
    [line] = _errors(done)
    assert "did you mean 'page_size'" in line
    assert "Traceback" not in done.stderr


def test_warehouse_that_is_not_a_duckdb_file_exits_2_naming_it_and_sends_nothing(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        settings = settings_for(tmp_path, emulator)
        Path(settings.get("warehouse", "duckdb_path")).write_text("not a database\n")
        done = _run(settings, emulator.api_key)
        assert emulator.count() == 0
    assert done.exit_code == 2
    [line] = _errors(done)
    assert "warehouse.duckdb is not a DuckDB file" in line


def test_warehouse_under_a_file_exits_2_naming_it_and_sends_nothing(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        settings = settings_for(tmp_path, emulator)
        (tmp_path / "notes.txt").write_text("not a folder\n")
        inside = tmp_path / "notes.txt" / "warehouse.duckdb"
        settings = settings.with_overrides("warehouse", duckdb_path=str(inside))
        done = _run(settings, emulator.api_key)
        assert emulator.count() == 0
    assert done.exit_code == 2
    [line] = _errors(done)
    assert "notes.txt is not a folder" in line
    assert not Path(settings.get("warehouse", "pipelines_dir")).exists()


def test_warehouse_in_a_folder_not_made_yet_is_made_and_synced(tmp_path):
    with start_emulator(seed=1, events=10) as emulator:
        settings = settings_for(tmp_path, emulator)
        missing = tmp_path / "new folder" / "warehouse.duckdb"
        settings = settings.with_overrides("warehouse", duckdb_path=str(missing))
        done = _run(settings, emulator.api_key, "--no-models")
    assert done.exit_code == 0, done.stderr
    assert missing.is_file()


def test_warehouse_in_a_folder_that_can_hold_no_file_exits_2_naming_it_and_sends_nothing(
    tmp_path,
):
    # /proc refuses a new file even to root, whom `os.access` says yes to.
    with start_emulator(seed=1, events=10) as emulator:
        settings = settings_for(tmp_path, emulator)
        settings = settings.with_overrides("warehouse", duckdb_path="/proc/warehouse.duckdb")
        done = _run(settings, emulator.api_key)
        assert emulator.count() == 0
    assert done.exit_code == 2
    [line] = _errors(done)
    assert "/proc/warehouse.duckdb: no file can be made in /proc" in line


@pytest.mark.parametrize("where", ["notes.txt", "notes.txt/pipelines"])
def test_pipelines_dir_that_is_or_lies_under_a_file_exits_2_naming_it_and_sends_nothing(
    tmp_path, where
):
    with start_emulator(seed=1, events=10) as emulator:
        settings = settings_for(tmp_path, emulator)
        (tmp_path / "notes.txt").write_text("not a folder\n")
        pipelines = tmp_path / where
        settings = settings.with_overrides("warehouse", pipelines_dir=str(pipelines))
        done = _run(settings, emulator.api_key)
        assert emulator.count() == 0
    assert done.exit_code == 2
    [line] = _errors(done)
    assert f"[warehouse] pipelines_dir {pipelines}" in line and "is not a folder" in line
    assert not Path(settings.get("warehouse", "duckdb_path")).exists()
