"""The SimplyMeet accounts synced into one warehouse, as `config.toml` names them.

No `[[accounts]]` block means one implicit account named `default`: `[api] base_url`, the key
from $SIMPLYMEET_API_KEY or .simplymeet/secrets.toml, `[warehouse] pipeline_name` (today's
behaviour, zero configuration). With blocks, the first one is the *primary* account: it keeps
`[warehouse] pipeline_name`, so its dlt state, lock and cursor are the ones a single-account
warehouse already has, and the rows such a warehouse holds are migrated into it. Every other
account gets its own pipeline, `<pipeline_name>_<account>`, loading into the same dataset.

Light on purpose (no dlt, DuckDB or httpx import): the CLI, the Dagster definitions and the
write-back read the list through `configured_accounts`.

    for account in configured_accounts(load_settings()):
        print(account.name, account.pipeline_name, account.base_url)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from simplymeet.config import (
    API_KEY_ENV,
    DEFAULT_SECRETS_PATH,
    ConfigError,
    Settings,
    account_base_url_setting,
    check_base_url,
    read_api_key,
    read_secrets,
    secret_text,
)

if TYPE_CHECKING:
    from simplymeet.client.secret import ApiKey

DEFAULT_ACCOUNT = "default"
"""The implicit account's name, when config.toml names none."""
ACCOUNT_COLUMN = "account"
"""The column every raw table and every model carries: which account a row belongs to."""


@dataclass(frozen=True)
class Account:
    """One account: its name, where its key comes from, its API and its dlt pipeline.

    Holds where the key is, never the key itself (`api_key()` reads it when a client needs
    it), so an Account can be printed, logged and passed to other processes.
    """

    name: str
    base_url: str
    pipeline_name: str
    key_env: str | None = None
    """The environment variable holding the key (the implicit account: $SIMPLYMEET_API_KEY)."""
    key_secret: str | None = None
    """The key's name in .simplymeet/secrets.toml."""
    primary: bool = True
    """The first account: it keeps `[warehouse] pipeline_name` and a legacy warehouse's rows."""

    def api_key(self, secrets_path: str | Path | None = None) -> str:
        """This account's API key; ConfigError (exit 2) naming where it was looked for."""
        if self.key_env is None and self.key_secret is None:
            key = read_api_key(secrets_path)
            where = f"{API_KEY_ENV} or api_key in {DEFAULT_SECRETS_PATH}"
        elif self.key_env is not None:
            key = (os.environ.get(self.key_env) or "").strip() or None
            # Not the variable's name: a key pasted there by mistake would be printed.
            where = "the environment variable its api_key_env names"
        else:
            key = _secret(Path(secrets_path or DEFAULT_SECRETS_PATH), str(self.key_secret))
            where = f"the key its api_key_secret names in {secrets_path or DEFAULT_SECRETS_PATH}"
        if not key:
            raise ConfigError(f"account {self.name!r}: no API key: set {where}")
        return key

    def key(self, secrets_path: str | Path | None = None) -> ApiKey:
        """`api_key()` as the client takes it, saying where it was read: a refusal names this
        account's setting, not $SIMPLYMEET_API_KEY."""
        from simplymeet.client.secret import DEFAULT_SOURCE, ApiKey

        if self.key_env is None and self.key_secret is None:
            source = DEFAULT_SOURCE
        elif self.key_env is not None:
            source = f"the variable that api_key_env of account {self.name!r} names"
        else:
            path = secrets_path or DEFAULT_SECRETS_PATH
            source = f"the key that api_key_secret of account {self.name!r} names in {path}"
        return ApiKey(self.api_key(secrets_path), source)

    def settings(self, settings: Settings) -> Settings:
        """`settings` as this account's sync sees them: its base URL and pipeline name."""
        copy = settings.with_overrides("api", base_url=self.base_url)
        return copy.with_overrides("warehouse", pipeline_name=self.pipeline_name)


def configured_accounts(settings: Settings) -> list[Account]:
    """Every account `settings` names, the primary first; one implicit `default` when none.

    Raises ConfigError (exit 2) when an account's base_url may not receive a key under
    `[api] allow_insecure_http`.

        configured_accounts(Settings())  # [Account(name='default', ...)]
    """
    api, base_pipeline = settings.api, settings.warehouse.pipeline_name
    if not settings.accounts:
        return [Account(DEFAULT_ACCOUNT, api.base_url, base_pipeline)]
    accounts = []
    for index, block in enumerate(settings.accounts):
        base_url = api.base_url
        if block.base_url is not None:
            base_url = check_base_url(
                block.base_url,
                allow_insecure_http=api.allow_insecure_http,
                setting=account_base_url_setting(block.name),
            ).rstrip("/")
        accounts.append(
            Account(
                name=block.name,
                base_url=base_url,
                pipeline_name=base_pipeline if index == 0 else f"{base_pipeline}_{block.name}",
                key_env=block.api_key_env,
                key_secret=block.api_key_secret,
                primary=index == 0,
            )
        )
    return accounts


def select_accounts(accounts: list[Account], names: Iterable[str] | None) -> list[Account]:
    """The accounts named (all when `names` is empty or None); ConfigError for an unknown one."""
    wanted = [name for name in names or () if name]
    if not wanted:
        return accounts
    known = {account.name: account for account in accounts}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ConfigError(
            f"unknown account {unknown[0]!r} (configured: {', '.join(known) or 'none'})"
        )
    return [account for account in accounts if account.name in wanted]


def primary_account(settings: Settings) -> Account:
    """The account that owns a single-account warehouse's rows (the first configured)."""
    return configured_accounts(settings)[0]


def _secret(path: Path, name: str) -> str | None:
    return secret_text(path, name, read_secrets(path).get(name))
