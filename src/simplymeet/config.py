"""Settings: config.toml for everything but secrets; the API key from env or a git-ignored file.

Precedence, highest first: explicit arguments (CLI flags), environment variables
(`SIMPLYMEET_<SECTION>__<KEY>`, e.g. `SIMPLYMEET_API__BASE_URL`), config.toml, built-in defaults.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

API_KEY_ENV = "SIMPLYMEET_API_KEY"
CONFIG_ENV = "SIMPLYMEET_CONFIG"
DEFAULT_SECRETS_PATH = Path(".simplymeet/secrets.toml")

_DEFAULTS: dict[str, dict[str, Any]] = {
    "api": {
        "base_url": "https://secure.simplymeet.me",
        "timeout_seconds": 30.0,
        "max_retries": 6,
        "rate_limit": 0.0,
        "concurrency": 8,
        "page_size": 100,
    },
    "warehouse": {
        "destination": "duckdb",
        "duckdb_path": "simplymeet.duckdb",
        "dataset": "raw",
        "pipeline_name": "simplymeet",
        "pipelines_dir": ".simplymeet/pipelines",
        "duckdb_memory_limit": "512MB",
    },
    "sync": {
        # Empty means every resource the source has (simplymeet.sync.RESOURCE_NAMES).
        "resources": [],
        "lag_seconds": 120,
        "availability_horizon_days": 14,
        "reconcile_every_hours": 24.0,
        "build_models": True,
    },
    "models": {
        "working_day_start": "09:00",
        "working_day_end": "17:00",
        "working_days": ["monday", "tuesday", "wednesday", "thursday", "friday"],
    },
    "writeback": {"chunk_size": 100, "concurrency": 8},
}


class ConfigError(ValueError):
    """The configuration is unreadable or names something that does not exist."""


@dataclass
class Settings:
    """Every setting, by section, as read from defaults, config.toml and the environment."""

    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: Path | None = None

    def get(self, section: str, key: str) -> Any:
        """One setting; raises ConfigError for an unknown section or key."""
        try:
            return self.sections[section][key]
        except KeyError as exc:
            raise ConfigError(f"unknown setting [{section}] {key}") from exc

    def section(self, name: str) -> dict[str, Any]:
        """A whole section as a dict (a copy)."""
        return dict(self.sections.get(name, {}))

    def with_overrides(self, section: str, **values: Any) -> Settings:
        """A copy with some settings replaced; None values leave a setting as it is."""
        sections = {name: dict(values_) for name, values_ in self.sections.items()}
        for key, value in values.items():
            if value is not None:
                sections.setdefault(section, {})[key] = value
        return Settings(sections, self.source)


def load_settings(path: str | Path | None = None) -> Settings:
    """Read settings from `path`, else $SIMPLYMEET_CONFIG, else ./config.toml if present."""
    sections = {name: dict(values) for name, values in _DEFAULTS.items()}
    chosen = Path(path) if path else Path(os.environ.get(CONFIG_ENV, "config.toml"))
    source: Path | None = None
    if chosen.exists():
        try:
            data = tomllib.loads(chosen.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{chosen}: not valid TOML ({exc})") from exc
        if "api_key" in data.get("api", {}):
            raise ConfigError(
                f"{chosen}: the API key does not belong in config.toml; "
                f"set {API_KEY_ENV} or put it in {DEFAULT_SECRETS_PATH}"
            )
        for name, values in data.items():
            if isinstance(values, dict):
                sections.setdefault(name, {}).update(values)
        source = chosen
    elif path:
        raise ConfigError(f"config file not found: {chosen}")
    _apply_env(sections)
    return Settings(sections, source)


def _apply_env(sections: dict[str, dict[str, Any]]) -> None:
    prefix = "SIMPLYMEET_"
    for name, value in os.environ.items():
        if not name.startswith(prefix) or "__" not in name:
            continue
        section, _, key = name[len(prefix) :].lower().partition("__")
        if section in sections and key in sections[section]:
            sections[section][key] = _cast_like(sections[section][key], value)


def _cast_like(current: Any, raw: str) -> Any:
    if isinstance(current, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    if isinstance(current, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def read_api_key(secrets_path: str | Path | None = None) -> str | None:
    """The API key from $SIMPLYMEET_API_KEY or the git-ignored secrets file, else None."""
    value = os.environ.get(API_KEY_ENV)
    if value:
        return value.strip()
    path = Path(secrets_path) if secrets_path else DEFAULT_SECRETS_PATH
    if path.exists():
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML") from exc
        key = data.get("api_key") or data.get("api", {}).get("api_key")
        if isinstance(key, str) and key.strip():
            return key.strip()
    return None
