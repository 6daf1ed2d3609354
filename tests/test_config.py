"""Settings: every setting's default, its environment override and its error, plus the file's.

The per-setting tests are parametrized over the settings model's fields (`SECTIONS`), so a
setting added to the model is covered without touching this file; `_sample_values` fails for
a field type it does not know, which is the cue to add one.
"""

from __future__ import annotations

import os
import re
import tomllib
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic.fields import FieldInfo

from simplymeet.config import (
    API_KEY_ENV,
    SECTIONS,
    ConfigError,
    Settings,
    check_base_url,
    load_settings,
    read_api_key,
)
from simplymeet.limits import MAX_CONCURRENCY
from tests.cli_support import run_cli

REPO = Path(__file__).resolve().parents[1]
FIELDS = [
    pytest.param(section, key, field, id=f"{section}.{key}")
    for section, model in SECTIONS.items()
    for key, field in model.model_fields.items()
]

# Strings whose valid values have a shape; every other string setting takes any non-empty text.
_SHAPED_STRINGS = {
    ("api", "base_url"): ("https://api.example.test", "http://192.0.2.2:8080"),
    ("models", "working_day_start"): ("08:30", "half past eight"),
    ("models", "working_day_end"): ("18:00", "6pm"),
    ("warehouse", "duckdb_memory_limit"): ("1GB", "lots"),
    ("warehouse", "dataset"): ("other_raw", "a b;drop"),
}
# Settings whose every string spells a valid value.
_NO_INVALID_ENV_VALUE: set[tuple[str, str]] = set()


def _sample_values(section: str, key: str, field: FieldInfo) -> tuple[str, Any, str | None]:
    """(a valid environment value, what it parses to, an invalid environment value)."""
    kind = typing.get_origin(field.annotation) or field.annotation
    if (section, key) == ("sync", "resources"):
        # Unset means every resource; a value naming none is refused (an unknown name is
        # refused by the sync, see test_sync_cli).
        return "events,users", ["events", "users"], " , "
    if (section, key) in _SHAPED_STRINGS:
        good, bad = _SHAPED_STRINGS[(section, key)]
        return good, good, bad
    if kind is bool:
        return str(not field.default).lower(), not field.default, "perhaps"
    if kind is int:
        return "1", 1, "lots"
    if kind is float:
        return "0.5", 0.5, "fast"
    if kind is str:
        return "other", "other", ""
    if kind is list:
        [item] = typing.get_args(field.annotation)
        if typing.get_origin(item) is typing.Literal:  # a vocabulary (working_days)
            names = typing.get_args(item)
            return f"{names[-1]},{names[-2]}", [names[-1], names[-2]], "someday"
        return "events,users", ["events", "users"], None
    raise AssertionError(f"test_config knows no sample value for [{section}] {key}: add one")


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No SIMPLYMEET_* variables, and a working directory without a config.toml."""
    for name in list(os.environ):
        if name.upper().startswith("SIMPLYMEET_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def _env_name(section: str, key: str) -> str:
    return f"SIMPLYMEET_{section.upper()}__{key.upper()}"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    return path


# --- every setting ----------------------------------------------------------------------------


@pytest.mark.parametrize(("section", "key", "field"), FIELDS)
def test_setting_has_its_documented_default(clean_env, section, key, field):
    expected = field.get_default(call_default_factory=True)
    if key == "base_url":
        expected = expected.rstrip("/")

    assert load_settings().get(section, key) == expected


@pytest.mark.parametrize(("section", "key", "field"), FIELDS)
def test_shipped_config_toml_states_each_default_or_leaves_it_unset(
    clean_env, monkeypatch, section, key, field
):
    monkeypatch.chdir(REPO)  # its relative paths are read from its folder
    shipped = tomllib.loads((REPO / "config.toml").read_text())

    from_file = load_settings(REPO / "config.toml").get(section, key)

    assert from_file == field.get_default(call_default_factory=True)
    if key == "resources":
        # Commented out so the source's own list is the one default.
        assert key not in shipped.get(section, {})


@pytest.mark.parametrize(("section", "key", "field"), FIELDS)
def test_environment_overrides_the_file(clean_env, tmp_path, section, key, field):
    raw, parsed, _bad = _sample_values(section, key, field)
    path = _write(tmp_path, "")
    clean_env.setenv(_env_name(section, key), raw)

    assert load_settings(path).get(section, key) == parsed


@pytest.mark.parametrize(("section", "key", "field"), FIELDS)
def test_a_setting_spelt_with_one_underscore_after_its_section_is_refused_naming_the_right_one(
    clean_env, section, key, field
):
    raw, _parsed, _bad = _sample_values(section, key, field)
    clean_env.setenv(f"SIMPLYMEET_{section.upper()}_{key.upper()}", raw)

    with pytest.raises(ConfigError, match=re.escape(_env_name(section, key))):
        load_settings()


@pytest.mark.parametrize("name", ["SIMPLYMEET_API_KEY", "SIMPLYMEET_CONFIG", "SIMPLYMEET_DB"])
def test_the_variables_spelt_with_one_underscore_are_not_taken_for_settings(clean_env, name):
    clean_env.setenv(name, "config.toml" if name == "SIMPLYMEET_CONFIG" else "x")
    (Path.cwd() / "config.toml").write_text("")

    load_settings()


@pytest.mark.parametrize("value", ["yes", '{"page_siz": 5}'])
def test_a_variable_named_as_a_whole_section_is_refused_naming_it_and_the_way(clean_env, value):
    clean_env.setenv("SIMPLYMEET_API", value)

    with pytest.raises(ConfigError, match=r"\$SIMPLYMEET_API: .*SIMPLYMEET_API__<KEY>"):
        load_settings()


@pytest.mark.parametrize(
    "url", ["https://secure.simply meet.me", "https://secure.simplymeet.me/pa nel"]
)
def test_a_base_url_holding_a_space_is_refused(clean_env, url):
    clean_env.setenv("SIMPLYMEET_API__BASE_URL", url)

    with pytest.raises(ConfigError, match="spaces"):
        load_settings()


def test_a_settings_file_beginning_with_a_byte_order_mark_is_read(clean_env, tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf[api]\npage_size = 50\n")

    assert load_settings(path).api.page_size == 50


def test_a_config_variable_set_but_empty_is_taken_as_unset(clean_env):
    clean_env.setenv("SIMPLYMEET_CONFIG", "")

    assert load_settings().api.page_size == 100


@pytest.mark.parametrize(("section", "key", "field"), FIELDS)
def test_invalid_environment_value_is_refused_naming_the_variable(clean_env, section, key, field):
    _raw, _parsed, bad = _sample_values(section, key, field)
    if bad is None:
        assert (section, key) in _NO_INVALID_ENV_VALUE
        return
    clean_env.setenv(_env_name(section, key), bad)

    with pytest.raises(ConfigError) as error:
        load_settings()

    message = str(error.value)
    assert _env_name(section, key) in message
    assert key in message
    assert len(message.splitlines()) == 1


@pytest.mark.parametrize(("section", "key", "field"), FIELDS)
def test_wrong_type_in_the_file_is_refused_naming_the_key_and_the_file(
    clean_env, tmp_path, section, key, field
):
    # A number where text or a list is expected, text where a number or flag is.
    wrong = '"lots"' if field.annotation in (bool, int, float) else "5"
    path = _write(tmp_path, f"[{section}]\n{key} = {wrong}\n")

    with pytest.raises(ConfigError) as error:
        load_settings(path)

    message = str(error.value)
    assert str(path) in message
    assert f"[{section}] {key}" in message


@pytest.mark.parametrize(
    ("section", "key", "field"),
    [f for f in FIELDS if f.values[2].annotation in (int, float)],
)
def test_true_or_false_for_a_number_is_refused_naming_the_key(
    clean_env, tmp_path, section, key, field
):
    # pydantic reads `true` as 1: `page_size = true` would page one row at a time.
    path = _write(tmp_path, f"[{section}]\n{key} = true\n")

    with pytest.raises(ConfigError, match=rf"\[{section}\] {key}: expected a number"):
        load_settings(path)


@pytest.mark.parametrize(
    ("section", "key", "field"), [f for f in FIELDS if f.values[2].annotation is bool]
)
@pytest.mark.parametrize("word", ['"yes"', '"on"', '"1"', '"true"', "1"])
def test_a_flag_given_as_a_word_or_number_in_the_file_is_refused_naming_the_key(
    clean_env, tmp_path, section, key, field, word
):
    # pydantic reads "yes", "on" and 1 as true: a quoted safeguard would switch on unseen.
    path = _write(tmp_path, f"[{section}]\n{key} = {word}\n")

    with pytest.raises(ConfigError, match=rf"\[{section}\] {key} must be true or false"):
        load_settings(path)


@pytest.mark.parametrize(("section", "key", "field"), FIELDS)
def test_misspelt_key_is_refused_naming_the_closest_one(clean_env, tmp_path, section, key, field):
    path = _write(tmp_path, f"[{section}]\n{key}x = 1\n")

    with pytest.raises(ConfigError, match=rf"unknown setting \[{section}\] {key}x") as error:
        load_settings(path)

    assert f"did you mean '{key}'" in str(error.value)


@pytest.mark.parametrize(("section", "key", "field"), FIELDS)
def test_misspelt_environment_variable_is_refused_naming_it(clean_env, section, key, field):
    clean_env.setenv(_env_name(section, key) + "X", "1")

    with pytest.raises(ConfigError, match=_env_name(section, key) + "X") as error:
        load_settings()

    assert f"did you mean '{key}'" in str(error.value)


# --- the file as a whole ----------------------------------------------------------------------


def test_base_url_typo_does_not_fall_back_to_the_production_host(clean_env, tmp_path):
    path = _write(tmp_path, '[api]\nbase_urll = "http://127.0.0.1:18001"\n')

    with pytest.raises(ConfigError) as error:
        load_settings(path)

    assert "base_urll" in str(error.value)
    assert "did you mean 'base_url'" in str(error.value)


def test_page_size_that_is_not_a_number_names_key_file_and_value(clean_env, tmp_path):
    path = _write(tmp_path, '[api]\npage_size = "lots"\n')

    with pytest.raises(ConfigError) as error:
        load_settings(path)

    assert str(error.value).startswith(f"{path}: [api] page_size:")
    assert "'lots'" in str(error.value)


@pytest.mark.parametrize("size", ["lots", "12345", "1KB", "150%"])
def test_a_duckdb_memory_limit_duckdb_would_refuse_is_refused_before_any_request(
    clean_env, tmp_path, size
):
    path = _write(tmp_path, f'[warehouse]\nduckdb_memory_limit = "{size}"\n')

    with pytest.raises(ConfigError, match=r"\[warehouse\] duckdb_memory_limit:"):
        load_settings(path)


@pytest.mark.parametrize("section", ["api", "writeback"])
def test_a_concurrency_past_the_most_requests_in_flight_is_refused_naming_it(
    clean_env, tmp_path, section
):
    # A million threads would not fail: the run would seem to hang while they start.
    path = _write(tmp_path, f"[{section}]\nconcurrency = {MAX_CONCURRENCY + 1}\n")

    with pytest.raises(ConfigError, match=rf"\[{section}\] concurrency: .*{MAX_CONCURRENCY}"):
        load_settings(path)


@pytest.mark.parametrize("size", ["256MB", "2G", "1.5 GiB", "40000000 bytes", "2gigabytes", "50%"])
def test_a_duckdb_memory_limit_in_any_spelling_duckdb_reads_is_kept(clean_env, tmp_path, size):
    path = _write(tmp_path, f'[warehouse]\nduckdb_memory_limit = "{size}"\n')

    assert load_settings(path).get("warehouse", "duckdb_memory_limit") == size


def test_page_size_above_the_references_limit_is_refused(clean_env, tmp_path):
    path = _write(tmp_path, "[api]\npage_size = 101\n")

    with pytest.raises(ConfigError, match="page_size"):
        load_settings(path)


@pytest.mark.parametrize("value", ["inf", "nan", "1e10", "86401"])
def test_a_timeout_no_wait_can_last_is_refused_naming_it(clean_env, value):
    # Past ~9.2e9 s a thread's wait cannot be expressed: the run died mid-extract.
    clean_env.setenv("SIMPLYMEET_API__TIMEOUT_SECONDS", value)

    with pytest.raises(ConfigError, match="SIMPLYMEET_API__TIMEOUT_SECONDS"):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SIMPLYMEET_API__RATE_LIMIT", "inf"),
        ("SIMPLYMEET_SYNC__RECONCILE_EVERY_HOURS", "nan"),
        ("SIMPLYMEET_WRITEBACK__SETTLE_SECONDS", "inf"),
    ],
)
def test_a_duration_or_rate_that_is_not_a_finite_number_is_refused(clean_env, variable, value):
    clean_env.setenv(variable, value)

    with pytest.raises(ConfigError, match=variable):
        load_settings()


def test_unknown_section_is_refused_listing_the_valid_ones(clean_env, tmp_path):
    path = _write(tmp_path, "[bogus]\nx = 1\n")

    with pytest.raises(ConfigError, match=r"unknown section \[bogus\].*api, warehouse"):
        load_settings(path)


def test_section_that_is_not_a_table_says_so(clean_env, tmp_path):
    path = _write(tmp_path, "api = 5\n")

    with pytest.raises(ConfigError, match=r"\[api\] must be a table of settings"):
        load_settings(path)


def test_api_key_in_the_config_file_is_refused(clean_env, tmp_path):
    path = _write(tmp_path, '[api]\napi_key = "sk-123"\n')

    with pytest.raises(ConfigError, match=API_KEY_ENV) as error:
        load_settings(path)

    assert "sk-123" not in str(error.value)


def test_file_that_is_not_toml_is_refused_naming_it(clean_env, tmp_path):
    path = _write(tmp_path, "[api\n")

    with pytest.raises(ConfigError, match=f"{path}: not valid TOML"):
        load_settings(path)


def test_named_config_file_that_does_not_exist_is_refused(clean_env, tmp_path):
    clean_env.setenv("SIMPLYMEET_CONFIG", str(tmp_path / "missing.toml"))

    with pytest.raises(ConfigError, match="config file not found"):
        load_settings()


def test_without_a_file_the_defaults_apply(clean_env):
    settings = load_settings()

    assert settings.source is None
    assert settings == Settings()


def test_working_day_end_before_start_is_refused(clean_env, tmp_path):
    path = _write(tmp_path, '[models]\nworking_day_start = "17:00"\nworking_day_end = "09:00"\n')

    with pytest.raises(ConfigError, match="working_day_end must be after working_day_start"):
        load_settings(path)


@pytest.mark.parametrize("hour", ["24:30", "09:60", "24:00"])
def test_working_hours_outside_a_day_are_refused_when_the_settings_are_read(
    clean_env, tmp_path, hour
):
    # Read first by the model build, they stopped a sync after it had loaded.
    path = _write(tmp_path, f'[models]\nworking_day_end = "{hour}"\n')

    with pytest.raises(ConfigError, match=r"\[models\] working_day_end: no time of day"):
        load_settings(path)


def test_an_availability_horizon_beyond_a_year_is_refused(clean_env, tmp_path):
    # Three million days ran the end date past the calendar after the first requests.
    path = _write(tmp_path, "[sync]\navailability_horizon_days = 3000000\n")

    with pytest.raises(ConfigError, match=r"\[sync\] availability_horizon_days"):
        load_settings(path)


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("sync", "lag_seconds"),
        ("sync", "reconcile_every_hours"),
        ("sync", "per_event_type_refresh_hours"),
        ("writeback", "settle_seconds"),
        ("api", "max_retries"),
    ],
)
def test_a_period_or_retry_count_past_any_use_is_refused_when_the_settings_are_read(
    clean_env, tmp_path, section, key
):
    # 99999999999 hours overflowed a date after the first requests were sent: exit 1.
    path = _write(tmp_path, f"[{section}]\n{key} = 99999999999\n")

    with pytest.raises(ConfigError, match=rf"\[{section}\] {key}"):
        load_settings(path)


def test_relative_paths_in_a_settings_file_are_read_from_its_folder(clean_env, tmp_path):
    # A scheduler running `--config /app/config.toml` from another folder built a second
    # warehouse there and left the one the file names stale.
    app = tmp_path / "app"
    app.mkdir()
    path = app / "config.toml"
    path.write_text('[warehouse]\nduckdb_path = "data/sm.duckdb"\npipelines_dir = "/abs/p"\n')
    (tmp_path / "elsewhere").mkdir()
    clean_env.chdir(tmp_path / "elsewhere")

    settings = load_settings(path)

    assert Path(settings.get("warehouse", "duckdb_path")).resolve() == app / "data" / "sm.duckdb"
    assert settings.get("warehouse", "pipelines_dir") == "/abs/p"


def test_warehouse_paths_a_settings_file_leaves_at_their_defaults_are_read_from_its_folder(
    clean_env, tmp_path
):
    # The warehouse and its pipeline folder stay together, whichever folder the run is in.
    app = tmp_path / "app"
    app.mkdir()

    settings = load_settings(_write(app, "[sync]\nlag_seconds = 60\n"))

    assert Path(settings.get("warehouse", "duckdb_path")) == app / "simplymeet.duckdb"
    assert Path(settings.get("warehouse", "pipelines_dir")) == app / ".simplymeet" / "pipelines"


def test_a_warehouse_the_working_directory_holds_and_the_settings_folder_does_not_stays_in_use(
    clean_env, tmp_path, caplog
):
    # Run from its data folder before, a deployment would quietly start a new warehouse.
    app = tmp_path / "app"
    app.mkdir()
    (tmp_path / "simplymeet.duckdb").write_bytes(b"")

    settings = load_settings(_write(app, '[warehouse]\nduckdb_path = "simplymeet.duckdb"\n'))

    assert settings.get("warehouse", "duckdb_path") == "simplymeet.duckdb"
    assert "give its absolute path in the file" in caplog.text


def test_a_warehouse_path_a_variable_sets_is_not_judged_by_the_settings_files_folder(
    clean_env, tmp_path, caplog
):
    app = tmp_path / "app"
    app.mkdir()
    (tmp_path / "simplymeet.duckdb").write_bytes(b"")
    clean_env.setenv("SIMPLYMEET_WAREHOUSE__DUCKDB_PATH", "/data/sm.duckdb")

    settings = load_settings(_write(app, "[sync]\nlag_seconds = 60\n"))

    assert settings.get("warehouse", "duckdb_path") == "/data/sm.duckdb"
    assert "duckdb_path" not in caplog.text


def test_a_relative_path_given_in_the_environment_is_read_from_the_working_directory(
    clean_env, tmp_path
):
    app = tmp_path / "app"
    app.mkdir()
    clean_env.setenv("SIMPLYMEET_WAREHOUSE__DUCKDB_PATH", "here.duckdb")

    settings = load_settings(_write(app, '[warehouse]\nduckdb_path = "there.duckdb"\n'))

    assert settings.get("warehouse", "duckdb_path") == "here.duckdb"


def test_weekday_names_are_case_insensitive(clean_env, tmp_path):
    path = _write(tmp_path, '[models]\nworking_days = ["Monday", "TUESDAY"]\n')

    assert load_settings(path).models.working_days == ["monday", "tuesday"]


# --- overrides (command-line flags) -----------------------------------------------------------


def test_override_replaces_one_setting_and_keeps_the_rest(clean_env, tmp_path):
    path = _write(tmp_path, "[api]\npage_size = 50\n")
    settings = load_settings(path)

    changed = settings.with_overrides("warehouse", duckdb_path="other.duckdb", dataset=None)

    assert changed.warehouse.duckdb_path == "other.duckdb"
    assert changed.warehouse.dataset == "raw"
    assert changed.api.page_size == 50
    assert changed.source == path


def test_override_with_an_invalid_value_is_refused(clean_env):
    with pytest.raises(ConfigError, match=r"\[api\] concurrency"):
        load_settings().with_overrides("api", concurrency=0)


def test_override_of_an_unknown_setting_is_refused(clean_env):
    with pytest.raises(ConfigError, match="did you mean 'base_url'"):
        load_settings().with_overrides("api", base_urll="https://x.example")


# --- the base URL: where the key may go -------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://secure.simplymeet.me",
        "http://127.0.0.1:8080",
        "http://127.8.9.10:8080",
        "http://[::1]:8080",
        "http://localhost:8080/",
    ],
)
def test_key_may_go_over_https_or_to_loopback(url):
    assert check_base_url(url) == url


@pytest.mark.parametrize(
    "url", ["http://192.0.2.2:8080", "http://api.example.test", "http://10.0.0.1"]
)
def test_plain_http_to_another_host_is_refused(url):
    with pytest.raises(ConfigError, match="allow_insecure_http"):
        check_base_url(url)


def test_plain_http_to_another_host_is_allowed_when_said_explicitly(clean_env, tmp_path):
    path = _write(
        tmp_path, '[api]\nbase_url = "http://192.0.2.2:8080"\nallow_insecure_http = true\n'
    )

    assert load_settings(path).api.base_url == "http://192.0.2.2:8080"


@pytest.mark.parametrize(
    "url",
    [
        "http://alice:hunter2@127.0.0.1:8080",
        "https://alice:hunter2@api.example.test",
        "https://alice@x.test",
    ],
)
def test_credentials_in_the_url_are_refused_without_echoing_them(clean_env, tmp_path, url):
    path = _write(tmp_path, f'[api]\nbase_url = "{url}"\n')

    with pytest.raises(ConfigError, match="must not carry credentials") as error:
        load_settings(path)

    assert "hunter2" not in str(error.value)
    assert "alice" not in str(error.value)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:notaport", "http://127.0.0.1:99999", "https://api.example.test:0"]
)
def test_base_url_with_a_port_no_server_can_have_is_refused(url):
    with pytest.raises(ConfigError, match=r"the port must be a number from 1 to 65535$"):
        check_base_url(url)


def test_base_url_port_is_refused_from_the_command_line_before_anything_is_sent(clean_env):
    result = run_cli("sync", "--base-url", "http://127.0.0.1:99999", "--no-models")

    assert result.exit_code == 2
    assert result.output == (
        "error: command line: [api] base_url: the port must be a number from 1 to 65535\n"
    )


@pytest.mark.parametrize(
    "url", ["https://api.example.test/?token=s3cret", "https://api.example.test/#s3cret"]
)
def test_base_url_with_a_query_or_a_fragment_is_refused_without_echoing_it(url):
    # The API's paths would land after the query or in the fragment: every request misses.
    with pytest.raises(ConfigError, match="must not carry a query") as error:
        check_base_url(url)

    assert "s3cret" not in str(error.value)


@pytest.mark.parametrize("url", ["ftp://x.example", "secure.simplymeet.me", "https://"])
def test_base_url_that_is_not_a_web_address_is_refused(url):
    with pytest.raises(ConfigError, match="must be an https:// URL"):
        check_base_url(url)


# --- the secrets file ----------------------------------------------------------------------------


def _secrets(folder: Path, text: str) -> Path:
    (folder / ".simplymeet").mkdir()
    path = folder / ".simplymeet" / "secrets.toml"
    path.write_text(text)
    return path


def test_secrets_file_whose_api_is_no_table_is_refused_without_echoing_it(clean_env, tmp_path):
    _secrets(tmp_path, 'api = "sk-pasted-key"\n')

    with pytest.raises(ConfigError, match="api must be a table") as error:
        read_api_key()

    assert "sk-pasted-key" not in str(error.value)


@pytest.mark.parametrize("text", ["api_key = 1234567890\n", "[api]\napi_key = true\n"])
def test_a_key_in_the_secrets_file_that_is_not_text_is_refused_without_echoing_it(
    clean_env, tmp_path, text
):
    _secrets(tmp_path, text)

    with pytest.raises(ConfigError, match=r'api_key must be quoted text \(api_key = "..."\)') as e:
        read_api_key()

    assert "1234567890" not in str(e.value)


def test_secrets_file_that_is_a_folder_is_refused_naming_it(clean_env, tmp_path):
    (tmp_path / ".simplymeet" / "secrets.toml").mkdir(parents=True)

    with pytest.raises(ConfigError, match=r"secrets.toml: cannot be read \(Is a directory\)"):
        read_api_key()


@pytest.mark.parametrize("text", ['api = "sk-pasted-key"\n', None], ids=["api-value", "folder"])
def test_a_sync_with_an_unusable_secrets_file_exits_2_in_one_line(clean_env, tmp_path, text):
    if text is None:
        (tmp_path / ".simplymeet" / "secrets.toml").mkdir(parents=True)
    else:
        _secrets(tmp_path, text)

    result = run_cli("sync", "--base-url", "http://127.0.0.1:1", "--no-models")

    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert line.startswith("error: .simplymeet/secrets.toml: ")
    assert "sk-pasted-key" not in line


def test_the_key_is_read_from_the_secrets_files_api_table(clean_env, tmp_path):
    _secrets(tmp_path, '[api]\napi_key = "sk-from-table"\n')

    assert read_api_key() == "sk-from-table"


# --- the dataset: a name dlt keeps ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["a b;drop", "Raw", "raw__x", "raw_", "1raw", "rå"])
def test_a_dataset_name_dlt_would_rename_is_refused_naming_the_setting(clean_env, tmp_path, name):
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    assert NamingConvention().normalize_identifier(name) != name  # what dlt would load into
    path = _write(tmp_path, f'[warehouse]\ndataset = "{name}"\n')

    with pytest.raises(ConfigError, match=r"\[warehouse\] dataset: use lowercase letters"):
        load_settings(path)


@pytest.mark.parametrize("name", ["analytics", "writeback"])
def test_a_dataset_named_as_the_models_or_journal_schema_is_refused_naming_the_setting(
    clean_env, tmp_path, name
):
    # Synced there, the account column would land in the models' or the journal's tables.
    path = _write(tmp_path, f'[warehouse]\ndataset = "{name}"\n')

    with pytest.raises(ConfigError, match=r"\[warehouse\] dataset: the models and the write"):
        load_settings(path)


@pytest.mark.parametrize("name", ["raw", "raw_2", "_staging", "simplymeet_raw"])
def test_a_dataset_name_dlt_keeps_is_accepted(clean_env, tmp_path, name):
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    path = _write(tmp_path, f'[warehouse]\ndataset = "{name}"\n')

    assert load_settings(path).warehouse.dataset == name
    assert NamingConvention().normalize_identifier(name) == name


def test_resources_given_as_an_empty_list_are_refused(clean_env, tmp_path):
    path = _write(tmp_path, "[sync]\nresources = []\n")

    with pytest.raises(ConfigError, match=r"\[sync\] resources: names no resource \(leave"):
        load_settings(path)


def test_resources_left_unset_mean_every_resource(clean_env, tmp_path):
    assert load_settings(_write(tmp_path, "")).sync.resources is None


def test_a_settings_file_nested_too_deep_is_refused_naming_it(clean_env, tmp_path):
    path = _write(tmp_path, "x = " + "[" * 5000 + "]" * 5000 + "\n")

    with pytest.raises(ConfigError, match="not valid TOML \\(nested too deeply\\)") as error:
        load_settings(path)

    assert str(path) in str(error.value)


def test_a_settings_file_larger_than_any_settings_is_refused_without_reading_it_all(
    clean_env,
):
    with pytest.raises(ConfigError, match="/dev/zero: larger than 1 MiB: not a settings file"):
        load_settings("/dev/zero")
