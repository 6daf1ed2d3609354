"""`SimplyMeetClient.from_settings`: the one way the CLI, the demo and scripts build a client."""

from __future__ import annotations

import pytest

from simplymeet.client import SimplyMeetClient
from simplymeet.config import API_KEY_ENV, ConfigError, Settings


@pytest.fixture
def no_key(monkeypatch, tmp_path):
    """No key in the environment and no secrets file in the working directory."""
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_client_takes_every_api_setting(emulator):
    settings = Settings(
        {
            "api": {
                "base_url": emulator.base_url,
                "timeout_seconds": 7,
                "max_retries": 2,
                "rate_limit": 50,
                "concurrency": 3,
            }
        }
    )

    with SimplyMeetClient.from_settings(settings, api_key=emulator.api_key) as client:
        assert client.current_user_get().id is not None
        assert (client.base_url, client.timeout) == (emulator.base_url, 7.0)
        assert (client.retry.max_retries, client.rate_limit, client.concurrency) == (2, 50.0, 3)


def test_key_comes_from_the_environment(emulator, no_key, monkeypatch):
    monkeypatch.setenv(API_KEY_ENV, emulator.api_key)
    settings = Settings({"api": {"base_url": emulator.base_url}})

    with SimplyMeetClient.from_settings(settings) as client:
        assert client.current_user_get().id is not None


def test_key_comes_from_the_secrets_file(emulator, no_key):
    (no_key / ".simplymeet").mkdir()
    (no_key / ".simplymeet" / "secrets.toml").write_text(f'api_key = "{emulator.api_key}"\n')
    settings = Settings({"api": {"base_url": emulator.base_url}})

    with SimplyMeetClient.from_settings(settings) as client:
        assert client.current_user_get().id is not None


def test_missing_key_is_a_configuration_error_naming_where_to_put_it(no_key):
    with pytest.raises(ConfigError, match=API_KEY_ENV):
        SimplyMeetClient.from_settings(Settings())
