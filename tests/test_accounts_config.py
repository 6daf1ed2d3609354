"""`[[accounts]]` in config.toml: several accounts by name, one implicit account by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from simplymeet.accounts import DEFAULT_ACCOUNT, configured_accounts, select_accounts
from simplymeet.client import AuthError, SimplyMeetClient
from simplymeet.config import API_KEY_ENV, ConfigError, load_settings
from simplymeet.emulator import start_emulator


def _settings(tmp_path: Path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_settings(path)


TWO = """
[warehouse]
pipeline_name = "sm"

[[accounts]]
name = "acme"
api_key_env = "ACME_KEY"

[[accounts]]
name = "globex"
api_key_secret = "globex_api_key"
base_url = "http://127.0.0.1:9999"
"""


def test_no_accounts_configured_gives_one_implicit_default_account(tmp_path):
    [account] = configured_accounts(_settings(tmp_path, "[warehouse]\npipeline_name = 'sm'\n"))
    assert account.name == DEFAULT_ACCOUNT
    assert account.pipeline_name == "sm"
    assert account.primary


def test_implicit_account_reads_the_usual_key(tmp_path, monkeypatch):
    monkeypatch.setenv(API_KEY_ENV, "k-default")
    [account] = configured_accounts(_settings(tmp_path, ""))
    assert account.api_key() == "k-default"


def test_first_account_keeps_the_pipeline_name_others_get_their_own(tmp_path):
    acme, globex = configured_accounts(_settings(tmp_path, TWO))
    assert (acme.name, acme.pipeline_name, acme.primary) == ("acme", "sm", True)
    assert (globex.name, globex.pipeline_name, globex.primary) == ("globex", "sm_globex", False)


def test_account_base_url_overrides_the_api_section(tmp_path):
    acme, globex = configured_accounts(_settings(tmp_path, TWO))
    assert acme.base_url == "https://secure.simplymeet.me"
    assert globex.base_url == "http://127.0.0.1:9999"
    assert globex.settings(_settings(tmp_path, TWO)).api.base_url == "http://127.0.0.1:9999"


def test_each_account_reads_its_key_from_where_it_says(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_KEY", "k-acme")
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('globex_api_key = "k-globex"\n')
    acme, globex = configured_accounts(_settings(tmp_path, TWO))
    assert acme.api_key(secrets) == "k-acme"
    assert globex.api_key(secrets) == "k-globex"


def test_missing_key_names_the_account_and_where_it_was_looked_for(tmp_path, monkeypatch):
    monkeypatch.delenv("ACME_KEY", raising=False)
    acme, _ = configured_accounts(_settings(tmp_path, TWO))
    with pytest.raises(
        ConfigError, match=r"account 'acme': no API key: set the environment variable its api_k"
    ):
        acme.api_key(tmp_path / "none.toml")


CANARY = "sk-LEAKCANARY-1234567890abcdef"


def test_a_key_written_in_an_account_block_is_refused_without_being_echoed(tmp_path):
    text = f'[[accounts]]\nname = "a"\napi_key = "{CANARY}"\n'
    with pytest.raises(ConfigError, match=r"does not belong in config\.toml") as caught:
        _settings(tmp_path, text)
    assert "LEAKCANARY" not in str(caught.value)


@pytest.mark.parametrize("setting", ["api_key_env", "api_key_secret"])
def test_a_key_pasted_where_its_name_belongs_is_refused_without_being_echoed(tmp_path, setting):
    text = f'[[accounts]]\nname = "a"\n{setting} = "{CANARY} "\n'
    with pytest.raises(ConfigError, match=setting) as caught:
        _settings(tmp_path, text)
    assert "LEAKCANARY" not in str(caught.value)


def test_a_missing_key_does_not_print_the_name_given_for_it(tmp_path, monkeypatch):
    # A key pasted as the variable's name would be printed with it.
    monkeypatch.delenv("LEAKCANARY1234567890abcdef", raising=False)
    text = '[[accounts]]\nname = "a"\napi_key_env = "LEAKCANARY1234567890abcdef"\n'
    [account] = configured_accounts(_settings(tmp_path, text))
    with pytest.raises(ConfigError) as caught:
        account.api_key(tmp_path / "none.toml")
    assert "LEAKCANARY" not in str(caught.value)


def test_an_account_secrets_file_that_is_a_folder_is_refused_naming_it(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.mkdir()
    _, globex = configured_accounts(_settings(tmp_path, TWO))
    with pytest.raises(ConfigError, match=r"secrets.toml: cannot be read \(Is a directory\)"):
        globex.api_key(secrets)


def test_an_account_key_in_the_secrets_file_that_is_not_text_is_refused_naming_it(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("globex_api_key = 1234567890\n")
    _, globex = configured_accounts(_settings(tmp_path, TWO))

    with pytest.raises(ConfigError, match="globex_api_key must be quoted text") as caught:
        globex.api_key(secrets)

    assert "1234567890" not in str(caught.value)


def test_account_never_holds_its_key(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_KEY", "k-secret-acme")
    acme, _ = configured_accounts(_settings(tmp_path, TWO))
    assert "k-secret-acme" not in repr(acme)


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ('name = "a"\napi_key_env = "K"\ncolour = "red"', r"\[\[accounts\]\] #1 colour"),
        ('name = "Bad Name"\napi_key_env = "K"', r"\[\[accounts\]\] #1 name"),
        ('name = "a"', r"api_key_env or api_key_secret"),
        ('name = "a"\napi_key_env = "K"\napi_key_secret = "k"', r"exactly one"),
        ('name = "a"\napi_key_env = "K"\nbase_url = "ftp://x"', r"base_url must be"),
    ],
    ids=["unknown-key", "bad-name", "no-key-source", "two-key-sources", "bad-base-url"],
)
def test_bad_account_block_is_one_line_config_error(tmp_path, block, expected):
    with pytest.raises(ConfigError, match=expected) as caught:
        _settings(tmp_path, f"[[accounts]]\n{block}\n")
    assert "\n" not in str(caught.value)


def test_an_account_base_url_with_credentials_is_named_as_that_accounts_setting(tmp_path):
    block = '[[accounts]]\nname = "acme"\napi_key_env = "K"\nbase_url = "https://u:pw@x.example"\n'
    with pytest.raises(ConfigError) as caught:
        _settings(tmp_path, block)
    assert "[[accounts]] 'acme' base_url must not carry credentials" in str(caught.value)
    assert "[api]" not in str(caught.value) and "pw" not in str(caught.value)


def test_duplicate_account_names_are_refused(tmp_path):
    text = '[[accounts]]\nname = "a"\napi_key_env = "K"\n' * 2
    with pytest.raises(ConfigError, match="two \\[\\[accounts\\]\\] are named 'a'"):
        _settings(tmp_path, text)


def test_plain_http_account_url_is_refused_off_loopback(tmp_path):
    text = '[[accounts]]\nname = "a"\napi_key_env = "K"\nbase_url = "http://192.0.2.2"\n'
    with pytest.raises(ConfigError, match=r"^\[\[accounts\]\] 'a' base_url: refusing to send"):
        configured_accounts(_settings(tmp_path, text))


def test_selecting_an_unknown_account_names_the_configured_ones(tmp_path):
    accounts = configured_accounts(_settings(tmp_path, TWO))
    assert [a.name for a in select_accounts(accounts, ["globex"])] == ["globex"]
    with pytest.raises(ConfigError, match="unknown account 'nope' \\(configured: acme, globex\\)"):
        select_accounts(accounts, ["nope"])


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ('api_key_env = "ACME_KEY"', "the variable that api_key_env of account 'acme' names"),
        ('api_key_secret = "acme_key"', "the key that api_key_secret of account 'acme' names"),
    ],
    ids=["env", "secret"],
)
def test_a_refused_account_key_is_said_to_be_checked_where_that_account_reads_it(
    tmp_path, monkeypatch, setting, named
):
    monkeypatch.setenv("ACME_KEY", "not-the-key")
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('acme_key = "not-the-key"\n')
    with start_emulator(seed=1, events=5) as emulator:
        text = f'[[accounts]]\nname = "acme"\n{setting}\nbase_url = "{emulator.base_url}"\n'
        settings = _settings(tmp_path, text)
        [acme] = configured_accounts(settings)
        with (
            SimplyMeetClient.from_settings(
                acme.settings(settings), api_key=acme.key(secrets)
            ) as client,
            pytest.raises(AuthError) as refused,
        ):
            client.current_user_get()

    assert named in str(refused.value) and API_KEY_ENV not in str(refused.value)
