"""Settings: config.toml for everything but secrets; the API key from env or a git-ignored file.

One typed, validated object (`Settings`, pydantic-settings), read once per command by
`load_settings`. Precedence, highest first: explicit arguments (CLI flags, applied with
`with_overrides`), environment variables (`SIMPLYMEET_<SECTION>__<KEY>`, e.g.
`SIMPLYMEET_API__BASE_URL`), config.toml, built-in defaults.

Anything the model does not know is an error, not a silent default: `[api] base_urll` would
otherwise send the key to the production host.

    settings = load_settings("config.toml")
    settings.api.page_size                 # 100
    settings.get("warehouse", "dataset")   # 'raw'
"""

from __future__ import annotations

import contextvars
import datetime as dt
import difflib
import ipaddress
import logging
import os
import re
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import SplitResult, urlsplit

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from simplymeet.contract.endpoints import DEFAULT_BASE_URL
from simplymeet.limits import MAX_CONCURRENCY, MAX_PERIOD_SECONDS
from simplymeet.schemas import OWN_SCHEMAS

log = logging.getLogger(__name__)

API_KEY_ENV = "SIMPLYMEET_API_KEY"
"""The environment variable holding the API key: the one name every part of the project reads."""
CONFIG_ENV = "SIMPLYMEET_CONFIG"
"""The environment variable naming the settings file (default ./config.toml)."""
ENV_PREFIX = "SIMPLYMEET_"
ENV_NESTED_DELIMITER = "__"
DEFAULT_SECRETS_PATH = Path(".simplymeet/secrets.toml")
MAX_PAGE_SIZE = 100
"""The reference: onPage "should be greater than 0 and less than or equal to 100"."""

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DEFAULT_WORKING_DAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")


class ConfigError(ValueError):
    """The configuration is unreadable or names something that does not exist."""


def check_base_url(
    url: str, *, allow_insecure_http: bool = False, setting: str = "[api] base_url"
) -> str:
    """`url` if the API key may be sent to it; raise ConfigError (without echoing it) if not.
    Messages name `setting`, where the URL was given.

    https is required, except on loopback (127.0.0.0/8, ::1, localhost) where emulators run,
    or when `allow_insecure_http` says so explicitly. Credentials in the URL are refused:
    they would be logged with it, and the key travels in a header anyway.

    >>> check_base_url("http://127.0.0.1:8080")
    'http://127.0.0.1:8080'
    """
    parts = urlsplit(str(url).strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"{setting} must be an https:// URL with a host name")
    if any(ch.isspace() for ch in str(url).strip()):
        # A paste that took a space or a line break along: no request would reach the API.
        raise ConfigError(f"{setting} must not hold spaces or line breaks")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            f"{setting} must not carry credentials (user:password@); "
            f"the key comes from {API_KEY_ENV} or {DEFAULT_SECRETS_PATH}"
        )
    if not _has_valid_port(parts):
        # Caught here, not by a connection that fails after every retry (exit 5).
        raise ConfigError(f"{setting}: the port must be a number from 1 to 65535")
    if parts.query or parts.fragment or "?" in str(url) or "#" in str(url):
        # The API's paths would go after the query or into the fragment, every request
        # would miss them (exit 5 after every retry); and a token there would be echoed.
        raise ConfigError(
            f"{setting} must not carry a query (?...) or a fragment (#...): "
            "give the scheme, host, port and path only"
        )
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"{setting}: refusing to send the API key over plain http to {parts.hostname}; "
            "use https, or set [api] allow_insecure_http = true"
        )
    return str(url).strip()


def _has_valid_port(parts: SplitResult) -> bool:
    """No port, or one from 1 to 65535 (`urlsplit` raises for text or past 65535)."""
    try:
        port = parts.port
    except ValueError:
        return False
    return port is None or port > 0


def _is_loopback(host: str) -> bool:
    if host.lower() in {"localhost", "localhost."}:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Section(BaseModel):
    """A `[section]` of config.toml: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_flag_for_a_number(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic reads `true` as 1: `page_size = true` would page by one row.
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, bool) and field is not None and field.annotation in (int, float):
            raise ValueError("expected a number, not true or false")
        return value


class ApiSettings(_Section):
    """`[api]`: where the API is and how hard the client may use it."""

    base_url: str = DEFAULT_BASE_URL
    allow_insecure_http: bool = False
    """Allow http:// to a non-loopback host (the key then crosses the network in clear)."""
    # A day at most: a longer wait is a typo, and beyond ~9e9 s the thread waits cannot be
    # expressed at all (a traceback mid-run).
    timeout_seconds: float = Field(default=30.0, gt=0, le=86_400, allow_inf_nan=False)
    max_retries: int = Field(default=6, ge=0, le=100)
    rate_limit: float = Field(default=0.0, ge=0, allow_inf_nan=False)
    """Client-side requests per second; 0 disables it."""
    concurrency: int = Field(default=8, ge=1, le=MAX_CONCURRENCY)
    page_size: int = Field(default=100, ge=1, le=MAX_PAGE_SIZE)

    @model_validator(mode="after")
    def _safe_base_url(self) -> ApiSettings:
        check_base_url(self.base_url, allow_insecure_http=self.allow_insecure_http)
        self.base_url = self.base_url.strip().rstrip("/")
        return self


_MEMORY_SIZE = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>%|[a-z]+)", re.IGNORECASE)
_MEMORY_UNITS = {
    **{name: 1 for name in ("b", "byte", "bytes")},
    **{
        f"{short}{infix}b": (1024 if infix else 1000) ** power
        for power, short in enumerate("kmgt", start=1)
        for infix in ("", "i")
    },
    **{short: 1000**power for power, short in enumerate("kmgt", start=1)},
    **{
        f"{word}bytes"[: len(word) + suffix]: 1000**power
        for power, word in enumerate(("kilo", "mega", "giga", "tera"), start=1)
        for suffix in (4, 5)
    },
}
"""Every unit DuckDB reads a `memory_limit` in, lower case, as bytes."""
_LEAST_MEMORY = 16 * 1000**2
"""Below this DuckDB cannot open a warehouse (it fails its first allocation)."""


class WarehouseSettings(_Section):
    """`[warehouse]`: the dlt destination, the DuckDB file and where dlt keeps its state."""

    destination: str = Field(default="duckdb", min_length=1)
    duckdb_path: str = Field(default="simplymeet.duckdb", min_length=1)
    dataset: str = Field(default="raw", min_length=1)
    pipeline_name: str = Field(default="simplymeet", min_length=1)
    pipelines_dir: str = Field(default=".simplymeet/pipelines", min_length=1)
    duckdb_memory_limit: str = Field(default="256MB", min_length=1)
    """DuckDB's `memory_limit`: a size such as `256MB` or `2GiB`, or a share of RAM (`50%`)."""

    @field_validator("duckdb_memory_limit")
    @classmethod
    def _memory_size(cls, value: str) -> str:
        # DuckDB reads it only when dlt opens the warehouse, after the whole extract.
        found = _MEMORY_SIZE.fullmatch(value.strip())
        if found is None:
            raise ValueError(f"{value!r} is not a memory size such as 256MB, 2GiB or 50%")
        number, unit = float(found["number"]), found["unit"].lower()
        if unit == "%":
            if not 0 < number <= 100:
                raise ValueError(f"{value!r}: a share of memory is between 0% and 100%")
        elif unit not in _MEMORY_UNITS:
            raise ValueError(f"{value!r} is not a memory size such as 256MB, 2GiB or 50%")
        elif number * _MEMORY_UNITS[unit] < _LEAST_MEMORY:
            raise ValueError(f"{value!r} is too little for DuckDB to work in (16MB at least)")
        return value.strip()

    @field_validator("dataset")
    @classmethod
    def _kept_by_dlt(cls, value: str) -> str:
        return checked_dataset(value)


_DATASET_NAME = re.compile(r"_?[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
"""A schema name dlt's snake_case naming keeps as it is."""


def checked_dataset(value: str) -> str:
    """`value` as a dataset name, or ValueError: dlt would rename any other (`a b;drop` ->
    `a_b_drop`) and load into a schema beside the one named, where the models and
    `simplymeet sql` do not look."""
    if not _DATASET_NAME.fullmatch(value):
        raise ValueError(
            "use lowercase letters, digits and single underscores, starting with a letter "
            "and not ending with an underscore (dlt renames any other name)"
        )
    if value in OWN_SCHEMAS:
        raise ValueError(
            "the models and the write-back journal have that schema: name the sync's "
            "dataset otherwise (default raw)"
        )
    return value


class SyncSettings(_Section):
    """`[sync]`: what a sync reads and what it does after loading."""

    resources: Annotated[list[str] | None, NoDecode] = None
    """Unset means every resource the source has (simplymeet.sync.RESOURCE_NAMES); a list
    given names at least one."""
    lag_seconds: int = Field(default=120, ge=0, le=MAX_PERIOD_SECONDS)
    availability_horizon_days: int = Field(default=14, ge=0, le=366)
    """A year ahead at most: millions of days ran the end date past the calendar after the
    first requests were sent."""
    reconcile_every_hours: float = Field(
        default=24.0, ge=0, le=MAX_PERIOD_SECONDS / 3600, allow_inf_nan=False
    )
    per_event_type_refresh_hours: float = Field(
        default=24.0, ge=0, le=MAX_PERIOD_SECONDS / 3600, allow_inf_nan=False
    )
    """Read an event type's tags and availability again after this long (0: every run)."""
    build_models: bool = True
    test_models: bool = True
    """Run the models' data tests after building them (the sync exits 10 when one fails)."""
    event_history: bool = True
    """Keep every version of an event the sync reads in `raw.event_versions`."""
    check_alerts: bool = False
    """Evaluate the `[[alerts]]` rules after the models are built (exit 7 when one fires)."""

    @field_validator("resources", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        # The environment spells a list as `events,users`.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("resources")
    @classmethod
    def _names_some(cls, value: list[str] | None) -> list[str] | None:
        # `resources = []` (or an empty variable) reads as "sync nothing", and would sync
        # everything.
        if value is not None and not value:
            raise ValueError("names no resource (leave the setting out to sync every one)")
        return value


class ModelsSettings(_Section):
    """`[models]`: working hours for offered minutes on days no availability snapshot covers."""

    working_day_start: str = Field(default="09:00", pattern=r"^\d{2}:\d{2}$")
    working_day_end: str = Field(default="17:00", pattern=r"^\d{2}:\d{2}$")
    working_days: Annotated[list[Weekday], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_WORKING_DAYS)
    )

    @field_validator("working_days", mode="before")
    @classmethod
    def _lowercase_days(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list):
            return [str(day).strip().lower() for day in value if str(day).strip()]
        return value

    @field_validator("working_day_start", "working_day_end")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        # Checked with the settings, before anything is sent: read first by the build, after
        # the sync had loaded, `24:30` stopped the command with exit 2 once it had written.
        try:
            dt.time.fromisoformat(value)
        except ValueError:
            raise ValueError("no time of day (00:00 to 23:59)") from None
        return value

    @model_validator(mode="after")
    def _end_after_start(self) -> ModelsSettings:
        if self.working_day_end <= self.working_day_start:
            raise ValueError("working_day_end must be after working_day_start")
        return self


class WritebackSettings(_Section):
    """`[writeback]`: how bulk changes are sent."""

    chunk_size: int = Field(default=100, ge=1)
    """Ids per list request (cancel-list, delete-list, no-show-list)."""
    concurrency: int = Field(default=8, ge=1, le=MAX_CONCURRENCY)
    settle_seconds: float = Field(default=900.0, ge=0, le=MAX_PERIOD_SECONDS, allow_inf_nan=False)
    """How long after an ambiguous send (a timeout, a 5xx, a dropped connection; a run killed
    mid-request) of a write that e-mails people the server may still be applying it: a target
    read back as not applied is sent again only once this long has passed since that send
    with the read-back no longer changing (a re-run checks it then)."""


AlertMetric = Literal["created", "completed", "rescheduled", "canceled", "no_show"]
"""The metrics of `analytics.kpi_period_over_period`; `created` is a count, the others rates."""
ALERT_RATE_METRICS: tuple[AlertMetric, ...] = ("completed", "rescheduled", "canceled", "no_show")


class AlertRule(_Section):
    """One `[[alerts]]` rule: a metric crossing a threshold, or changing beyond chance.

    Exactly one condition: `above`/`below` (a rate in [0, 1], or a count for `created`), or
    `significant_change` ("up", "down", "any": the two-proportion z-test of the latest period
    against the one before). No group with fewer than `min_sample_size` bookings in the rate's
    denominator fires, so a host with three bookings cannot raise an alert by chance.

        [[alerts]]
        name = "no-show rate above 20%"
        metric = "no_show"
        breakdown = "host"
        period = "week"
        above = 0.20
        min_sample_size = 20
    """

    name: str = Field(min_length=1)
    metric: AlertMetric
    breakdown: Literal["overall", "host", "event_type"] = "overall"
    period: Literal["week", "month", "all"] = "week"
    above: float | None = None
    below: float | None = None
    significant_change: Literal["up", "down", "any"] | None = None
    min_sample_size: int = Field(default=30, ge=1)

    @model_validator(mode="after")
    def _one_condition(self) -> AlertRule:
        given = [self.above is not None or self.below is not None, self.significant_change]
        if sum(bool(part) for part in given) != 1:
            raise ValueError(
                f"alert {self.name!r}: give a threshold (above/below) "
                "or significant_change, exactly one"
            )
        if self.above is not None and self.below is not None and self.below >= self.above:
            # Both are a band: fire outside [below, above]. Overlapping, every value fires.
            raise ValueError(
                f"alert {self.name!r}: below ({self.below:g}) must be less than above "
                f"({self.above:g}): together they fire outside that band, and these fire on "
                "every value"
            )
        is_rate = self.metric in ALERT_RATE_METRICS
        for bound in (self.above, self.below):
            if bound is not None and is_rate and not 0 <= bound <= 1:
                raise ValueError(f"alert {self.name!r}: a rate threshold is within [0, 1]")
        if self.significant_change and (not is_rate or self.period == "all"):
            raise ValueError(
                f"alert {self.name!r}: significant_change needs a rate metric "
                "and period week or month"
            )
        return self


ACCOUNT_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
"""An account name: it lands in every row's `account` column and in its dlt pipeline name."""


def account_base_url_setting(name: str) -> str:
    """How an account's base URL is named in messages."""
    return f"[[accounts]] {name!r} base_url"


class AccountSettings(_Section):
    """One `[[accounts]]` block: a SimplyMeet account synced into the shared warehouse.

    The key is named, never written here: `api_key_env` (an environment variable) or
    `api_key_secret` (a key in .simplymeet/secrets.toml), exactly one. `base_url` overrides
    `[api] base_url` for this account only.

        [[accounts]]
        name = "acme"
        api_key_env = "SIMPLYMEET_API_KEY_ACME"
    """

    name: str = Field(pattern=ACCOUNT_NAME_PATTERN)
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """The name of an environment variable: letters, digits and underscores."""
    api_key_secret: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]+$")
    """A bare key of .simplymeet/secrets.toml."""
    base_url: str | None = None

    @model_validator(mode="after")
    def _one_key_source(self) -> AccountSettings:
        if (self.api_key_env is None) == (self.api_key_secret is None):
            raise ValueError(
                f"account {self.name!r}: name where its key comes from, "
                "api_key_env or api_key_secret (exactly one)"
            )
        if self.base_url is not None:
            # allow_insecure_http is [api]'s: checked again against it in configured_accounts.
            self.base_url = check_base_url(
                self.base_url, allow_insecure_http=True, setting=account_base_url_setting(self.name)
            ).rstrip("/")
        return self


# The file's contents for the one `Settings` being built (see `_TomlSource`).
_FILE_DATA: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "simplymeet_config_file", default=None
)


class _TomlSource(PydanticBaseSettingsSource):
    """config.toml, already read and checked by `load_settings`, below the environment."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return (_FILE_DATA.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_FILE_DATA.get() or {})


class Settings(BaseSettings):
    """Every setting, by section; `Settings()` gives the defaults with the environment applied.

    The sections are typed attributes (`settings.api.page_size`); `get(section, key)` and
    `section(name)` serve code that names them as strings.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        case_sensitive=False,
        extra="forbid",
        validate_default=True,
    )

    api: ApiSettings = Field(default_factory=ApiSettings)
    warehouse: WarehouseSettings = Field(default_factory=WarehouseSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    models: ModelsSettings = Field(default_factory=ModelsSettings)
    writeback: WritebackSettings = Field(default_factory=WritebackSettings)
    alerts: list[AlertRule] = Field(default_factory=list)
    """`[[alerts]]` rules (`simplymeet alerts check`); a list, not a section."""
    accounts: list[AccountSettings] = Field(default_factory=list)
    """`[[accounts]]` synced into one warehouse; empty means one implicit account."""

    @model_validator(mode="after")
    def _unique_account_names(self) -> Settings:
        seen: set[str] = set()
        for account in self.accounts:
            if account.name in seen:
                raise ValueError(f"two [[accounts]] are named {account.name!r}")
            seen.add(account.name)
        return self

    @model_validator(mode="after")
    def _unique_alert_names(self) -> Settings:
        # A fired alert is told by its name (the table, the webhook): two would be one.
        seen: set[str] = set()
        for rule in self.alerts:
            if rule.name in seen:
                raise ValueError(f"two [[alerts]] are named {rule.name!r}")
            seen.add(rule.name)
        return self

    _source: Path | None = PrivateAttr(default=None)

    def __init__(self, sections: Mapping[str, Any] | None = None, /, **values: Any) -> None:
        super().__init__(**{**dict(sections or {}), **values})

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @property
    def source(self) -> Path | None:
        """The settings file read, or None when only defaults and the environment apply."""
        return self._source

    @property
    def sections(self) -> dict[str, dict[str, Any]]:
        """Every section as a dict."""
        return self.model_dump()

    def get(self, section: str, key: str) -> Any:
        """One setting; raises ConfigError for an unknown section or key."""
        if section not in SECTIONS or key not in SECTIONS[section].model_fields:
            raise ConfigError(f"unknown setting [{section}] {key}")
        return getattr(getattr(self, section), key)

    def section(self, name: str) -> dict[str, Any]:
        """A whole section as a dict (a copy)."""
        if name not in SECTIONS:
            raise ConfigError(f"unknown settings section [{name}]")
        return getattr(self, name).model_dump()

    def with_overrides(self, section: str, **values: Any) -> Settings:
        """A validated copy with some settings replaced; None values leave a setting as it is.

        Raises ConfigError naming the setting when a value is unknown or invalid (e.g.
        `--base-url http://192.0.2.2` is refused here, before any request).
        """
        given = {key: value for key, value in values.items() if value is not None}
        _check_names({section: given}, "command line")
        data = self.model_dump()
        data[section].update(given)
        copy = _validate(data, where=lambda _loc: "command line")
        copy._source = self._source
        return copy


SECTIONS: dict[str, type[_Section]] = {
    name: field.annotation
    for name, field in Settings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, _Section)
}
"""Section name -> its model, for checks and tests that walk every setting."""


_KEY_VARIABLES: set[str] = set()
"""The variables a settings file read by this process names as holding accounts' keys."""


def key_variables() -> frozenset[str]:
    """The environment variables a settings file names as holding an account's key
    (`[[accounts]] api_key_env`): every file this process read (before it was judged: an
    error about it may quote a key), and the file it would read, as best it can be read
    (`cli.errors.known_secrets`)."""
    names = set(_KEY_VARIABLES)
    try:
        _remember_key_variables(_read_file(Path(os.environ.get(CONFIG_ENV, "config.toml"))))
        names |= _KEY_VARIABLES
    except Exception:  # absent or unreadable: its own error says so where it is read
        pass
    return frozenset(names)


def _remember_key_variables(data: dict[str, Any]) -> None:
    accounts = data.get("accounts")
    for block in accounts if isinstance(accounts, list) else []:
        if isinstance(block, dict) and isinstance(block.get("api_key_env"), str):
            _KEY_VARIABLES.add(block["api_key_env"])


def load_settings(
    path: str | Path | None = None, flags: Collection[tuple[str, str]] = ()
) -> Settings:
    """Read settings from `path`, else $SIMPLYMEET_CONFIG, else ./config.toml if present.

    `flags`: the (section, key) a command-line flag sets after this (`with_overrides`): a
    relative path the file gives there is not judged against its folder.

    Raises ConfigError with one line naming the file, the key and (for a typo) the closest
    valid key, for an unknown section or key, a wrong type, or an unsafe base URL.
    """
    # Set but empty (a CI template's blank) is unset: "." is no settings file.
    chosen = Path(path) if path else Path(os.environ.get(CONFIG_ENV) or "config.toml")
    data: dict[str, Any] = {}
    source: Path | None = None
    if chosen.exists():
        data = _read_file(chosen)
        source = chosen
        _remember_key_variables(data)
    elif path or os.environ.get(CONFIG_ENV):
        raise ConfigError(f"config file not found: {chosen}")
    _check_names(data, str(chosen))
    _check_flags(data, str(chosen))
    _check_single_underscores()
    env = _environment_settings()
    for section, keys in env.items():
        for key in keys:
            _check_names({section: {key: None}}, _env_name(section, key))
    where_env = {(section, key) for section, keys in env.items() for key in keys}
    if source is not None:
        _paths_from_the_files_folder(data, source, where_env | set(flags))

    def where(loc: tuple[str, str]) -> str:
        return _env_name(*loc) if loc in where_env else str(chosen)

    token = _FILE_DATA.set(data)
    try:
        settings = _build(where)
    finally:
        _FILE_DATA.reset(token)
    settings._source = source
    return settings


WAREHOUSE_PATHS = ("duckdb_path", "pipelines_dir")
"""`[warehouse]` settings naming a file or folder: relative in a settings file (or left at
their defaults by one), they are read from its folder (as from the project's folder: the
notebook's reading too)."""


def _paths_from_the_files_folder(
    data: dict[str, Any], chosen: Path, set_elsewhere: set[tuple[str, str]]
) -> None:
    """Relative `WAREHOUSE_PATHS` of `data` (read from `chosen`, or their defaults; not those a
    variable or a flag sets) made relative to `chosen`'s folder where that is not the working
    directory: `--config /app/config.toml` run by a scheduler from another folder built a
    second warehouse there, and the one the file names stayed stale (exit 0).

    Where the file's folder has nothing at such a path and the working directory has (a
    deployment that ran from its data folder before), the path stays where it was read
    until now, with a warning: moved, the sync would start a new warehouse as quietly."""
    folder = chosen.parent
    if folder.resolve() == Path.cwd().resolve():
        return
    table = data.setdefault("warehouse", {})
    if not isinstance(table, dict):
        return  # refused by the settings' own checks, naming the file
    for key in WAREHOUSE_PATHS:
        if ("warehouse", key) in set_elsewhere:
            continue
        value = table.get(key, WarehouseSettings.model_fields[key].default)
        if not isinstance(value, str) or not value or Path(value).expanduser().is_absolute():
            continue
        there = folder / value
        if not there.exists() and Path(value).exists():
            log.warning(
                "%s: [warehouse] %s %r is read from the working directory, where it is, not "
                "from the settings file's folder (%s): give its absolute path in the file",
                chosen,
                key,
                value,
                there,
            )
            continue
        table[key] = str(there)


SETTINGS_FILE_BYTES = 1 << 20
"""The most a settings or secrets file may hold: a few kilobytes are; more is another file
(`--config /dev/zero` would fill the memory before a parser saw an error)."""


def _toml_text(path: Path) -> dict[str, Any]:
    """A settings or secrets file's table. Raises OSError, UnicodeDecodeError,
    tomllib.TOMLDecodeError, or ConfigError for a file too large or nested too deep."""
    with path.open("rb") as handle:
        raw = handle.read(SETTINGS_FILE_BYTES + 1)
    if len(raw) > SETTINGS_FILE_BYTES:
        raise ConfigError(
            f"{path}: larger than {SETTINGS_FILE_BYTES >> 20} MiB: not a settings file"
        )
    # A BOM (Windows editors write one) is no TOML statement.
    text = raw.decode("utf-8-sig")
    try:
        if _nesting_beyond(text, MAX_TOML_NESTING):
            # Refused before the parser recurses that deep: near the interpreter's limit,
            # any finalizer that runs meanwhile fails too ("unraisable" errors).
            raise RecursionError
        return tomllib.loads(text)
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML (nested too deeply)") from None


MAX_TOML_NESTING = 100
"""Arrays and inline tables inside each other, at most: no settings file comes near."""


def _nesting_beyond(text: str, limit: int) -> bool:
    """Whether `text`'s brackets and braces nest deeper than `limit`, counted as if none
    were quoted (so at least as deep as the TOML's own nesting)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth = max(0, depth - 1)
    return False


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = _toml_text(path)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from exc
    api = data.get("api")
    if isinstance(api, dict) and "api_key" in api:
        raise ConfigError(
            f"{path}: the API key does not belong in config.toml; "
            f"set {API_KEY_ENV} or put it in {DEFAULT_SECRETS_PATH}"
        )
    accounts = data.get("accounts")
    for index, block in enumerate(accounts if isinstance(accounts, list) else []):
        if isinstance(block, dict) and "api_key" in block:
            raise ConfigError(
                f"{path}: [[accounts]] #{index + 1}: the API key does not belong in "
                "config.toml; name where it is kept with api_key_env (an environment "
                f"variable) or api_key_secret (a key in {DEFAULT_SECRETS_PATH})"
            )
    return data


def _check_names(data: Mapping[str, Any], where: str) -> None:
    """Every section and key in `data` exists; else ConfigError naming the closest one."""
    for section, values in data.items():
        if section in {"alerts", "accounts"} and isinstance(values, list):
            continue  # [[alerts]], [[accounts]]: each key is checked by its own model
        if section not in SECTIONS:
            raise ConfigError(
                f"{where}: unknown section [{section}]{_closest(section, list(SECTIONS))}"
            )
        if not isinstance(values, Mapping):
            raise ConfigError(
                f"{where}: [{section}] must be a table of settings "
                f"(e.g. [{section}] on its own line, then key = value lines), "
                f"got {type(values).__name__}"
            )
        known = list(SECTIONS[section].model_fields)
        for key in values:
            if key not in known:
                raise ConfigError(
                    f"{where}: unknown setting [{section}] {key}{_closest(key, known)}"
                )


def _check_flags(data: Mapping[str, Any], where: str) -> None:
    """Every true-or-false setting in the file is a TOML boolean; else ConfigError."""
    # pydantic reads the strings "yes", "on" and "1" as true: `allow_insecure_http = "no "`
    # with a stray space, or a quoted "yes" meant as a question, must not switch a safeguard.
    # The environment can only give strings: it keeps pydantic's reading.
    for section, values in data.items():
        model = SECTIONS.get(section)
        if model is None or not isinstance(values, Mapping):
            continue
        for key, value in values.items():
            field = model.model_fields.get(key)
            if field is not None and field.annotation is bool and not isinstance(value, bool):
                raise ConfigError(
                    f"{where}: [{section}] {key} must be true or false (unquoted), not {value!r}"
                )


def _closest(name: str, choices: list[str]) -> str:
    match = difflib.get_close_matches(name, choices, n=1)
    if match:
        return f" (did you mean {match[0]!r}?)"
    return f" (valid: {', '.join(choices)})"


def _environment_settings() -> dict[str, dict[str, str]]:
    """`SIMPLYMEET_<SECTION>__<KEY>` variables, by section; others (the key, CONFIG) skipped."""
    found: dict[str, dict[str, str]] = {}
    for name, value in os.environ.items():
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or ENV_NESTED_DELIMITER not in upper:
            continue
        section, _, key = upper[len(ENV_PREFIX) :].lower().partition(ENV_NESTED_DELIMITER)
        found.setdefault(section, {})[key] = value
    return found


def _check_single_underscores() -> None:
    """Refuse `SIMPLYMEET_WAREHOUSE_DUCKDB_PATH` (one underscore where two belong): read as
    nothing at all, a scheduled sync would write the default file and say nothing."""
    fields = {name: info.annotation for name, info in Settings.model_fields.items()}
    for name in os.environ:
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or ENV_NESTED_DELIMITER in upper:
            continue
        rest = upper[len(ENV_PREFIX) :].lower()
        if rest in fields and hasattr(fields[rest], "model_fields"):
            # pydantic-settings would read it as the whole section in JSON, and its error
            # names neither the variable nor the file that holds it.
            raise ConfigError(
                f"${name}: a section's settings are set one by one, "
                f"{ENV_PREFIX}{rest.upper()}{ENV_NESTED_DELIMITER}<KEY>"
            )
        for section, model in fields.items():
            keys = getattr(model, "model_fields", {})
            key = rest.removeprefix(f"{section}_")
            if key != rest and key in keys:
                raise ConfigError(
                    f"${name} is not read: settings take two underscores after the section, "
                    f"{_env_name(section, key)}"
                )


def _env_name(section: str, key: str) -> str:
    return f"${ENV_PREFIX}{section.upper()}{ENV_NESTED_DELIMITER}{key.upper()}"


def _build(where: Any) -> Settings:
    try:
        return Settings()
    except pydantic.ValidationError as exc:
        raise _config_error(exc, where) from None


def _validate(data: Mapping[str, Any], where: Any) -> Settings:
    try:
        return Settings.model_validate(data)
    except pydantic.ValidationError as exc:
        raise _config_error(exc, where) from None


_SECRET_WORDS = ("key", "secret", "token", "password", "webhook")
"""Parts of a setting's name whose value a config error never echoes."""


def _config_error(exc: pydantic.ValidationError, where: Any) -> ConfigError:
    """One line: where the value came from, the setting, what was wrong (and what was given)."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(str(part) for part in first["loc"])
    section = loc[0] if loc else "?"
    key = loc[1] if len(loc) > 1 else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    if not loc:
        # A check across sections or blocks (two [[accounts]] of one name) words itself.
        text = f"{where(('', ''))}: {message}"
    elif message.startswith(("[api] base_url", "[[accounts]]")):
        # check_base_url's own words, already naming the setting; never echo the URL.
        text = f"{where((section, 'base_url'))}: {message}"
    else:
        given = first.get("input")
        # A value given under a name that says secret may be the secret itself (a key pasted
        # where its variable's name belongs): never echoed.
        secret = any(word in part.lower() for part in loc for word in _SECRET_WORDS)
        hidden = secret or key == "base_url" or isinstance(given, dict)
        shown = "" if hidden else f" (got {given!r})"
        setting = f"[{section}] {key}".strip()
        if section in {"alerts", "accounts"} and key.isdigit():
            # [[alerts]] is a list: name the rule by its position, then the key.
            setting = f"[[{section}]] #{int(key) + 1} {' '.join(loc[2:])}".strip()
        text = f"{where((section, key))}: {setting}: {message}{shown}"
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more)"
    return ConfigError(text)


WEBHOOK_URL_ENV = "SIMPLYMEET_ALERTS_WEBHOOK_URL"
"""The environment variable holding the alerts webhook URL (it often embeds a token)."""


def read_webhook_url(secrets_path: str | Path | None = None) -> str | None:
    """The alerts webhook URL from $SIMPLYMEET_ALERTS_WEBHOOK_URL or the secrets file, else None.

    In `.simplymeet/secrets.toml`: `alerts_webhook_url = "https://hooks.slack.com/..."`.
    """
    value = os.environ.get(WEBHOOK_URL_ENV)
    if value and value.strip():
        return value.strip()
    data = read_secrets(Path(secrets_path) if secrets_path else DEFAULT_SECRETS_PATH)
    url = data.get("alerts_webhook_url")
    if isinstance(url, str) and url.strip():
        return url.strip()
    return None


def read_api_key(secrets_path: str | Path | None = None) -> str | None:
    """The API key from $SIMPLYMEET_API_KEY or the git-ignored secrets file, else None."""
    value = os.environ.get(API_KEY_ENV)
    if value:
        return value.strip()
    path = Path(secrets_path) if secrets_path else DEFAULT_SECRETS_PATH
    data = read_secrets(path)
    api = data.get("api", {})
    if not isinstance(api, dict):
        # `api = "..."` may hold the key itself: named, never echoed.
        raise ConfigError(
            f'{path}: api must be a table ([api] then api_key = "..."); '
            'or write api_key = "..." at the top'
        )
    key = data.get("api_key") or api.get("api_key")
    return secret_text(path, "api_key", key)


def secret_text(path: Path, name: str, value: Any) -> str | None:
    """A secret read from `path` as text, None when absent or blank. A value of another
    type (`api_key = 12345`, unquoted) is named, never echoed: read as no key, it was
    reported missing. Raises ConfigError."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f'{path}: {name} must be quoted text ({name} = "...")')
    return value.strip() or None


def read_secrets(path: Path) -> dict[str, Any]:
    """The secrets file as a table, {} when there is none; no error quotes its content."""
    if not path.exists():
        return {}
    try:
        return _toml_text(path)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML") from exc
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:  # a folder, no permission
        raise ConfigError(
            f"{path}: cannot be read ({exc.strerror or type(exc).__name__})"
        ) from None
