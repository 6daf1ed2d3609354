"""Options spelled the same in every command, and the objects they build."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from simplymeet.config import ConfigError, Settings, load_settings, read_api_key

if TYPE_CHECKING:
    from simplymeet.client import SimplyMeetClient

F = Callable[..., Any]


def config_option(func: F) -> F:
    """`--config PATH`: the settings file (default ./config.toml or $SIMPLYMEET_CONFIG)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Settings file (default: ./config.toml, or $SIMPLYMEET_CONFIG).",
    )(func)


def db_option(func: F) -> F:
    """`--db PATH`: the DuckDB file (default from config.toml [warehouse] duckdb_path)."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="DuckDB file (default: [warehouse] duckdb_path in config.toml).",
    )(func)


def base_url_option(func: F) -> F:
    """`--base-url URL`: the API's base URL (default from config.toml [api] base_url)."""
    return click.option(
        "--base-url", default=None, help="API base URL (default: [api] base_url in config.toml)."
    )(func)


def settings_from(
    config_path: str | None, db_path: str | None = None, base_url: str | None = None
) -> Settings:
    """Settings with the command-line overrides applied."""
    settings = load_settings(config_path)
    settings = settings.with_overrides("warehouse", duckdb_path=db_path)
    return settings.with_overrides("api", base_url=base_url)


def make_client(settings: Settings) -> SimplyMeetClient:
    """The API client configured from settings; the key from env or the secrets file."""
    from simplymeet.client import SimplyMeetClient

    key = read_api_key()
    if not key:
        raise ConfigError(
            "no API key: set SIMPLYMEET_API_KEY or write api_key to .simplymeet/secrets.toml"
        )
    api = settings.section("api")
    rate = float(api["rate_limit"]) or None
    return SimplyMeetClient(
        base_url=api["base_url"],
        api_key=key,
        timeout=float(api["timeout_seconds"]),
        max_retries=int(api["max_retries"]),
        rate_limit=rate,
        concurrency=int(api["concurrency"]),
    )
