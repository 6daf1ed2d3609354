"""Which account each write-back target belongs to, so that a write goes to its own account.

Ids are unique within an account only: booking 123 may exist in two accounts, each a
different booking. Each target's account is, in order: the `account` column of its row (a
`--sql` selection returns it: `select account, id from events where …`; a CSV may carry it),
else `--account`, else the only configured account, else the one account whose synced rows
hold that id. An id held by several accounts is refused (exit 2) rather than guessed: the
command names it and asks for `--account` or an account column. The targets are then split
per account, and each part runs as its own job with that account's key and base URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simplymeet.accounts import ACCOUNT_COLUMN, Account, configured_accounts, select_accounts
from simplymeet.config import ConfigError, Settings
from simplymeet.writeback.spec import OperationSpec
from simplymeet.writeback.targets import Row, TargetError, Targets, read_rows
from simplymeet.writeback.warehouse import read_only

# The raw table whose ids a target key names, for looking an id's account up.
_KEY_TABLES = {
    ("event", "id"): "events",
    ("poll", "id"): "polls",
    ("user-event-type-tag", "id"): "user_event_type_tags",
    ("availability-rule", "event_type_id"): "event_types",
    ("event-type-tag", "event_type_id"): "event_types",
    ("single-use-link", "event_type_id"): "event_types",
}


def accounts_in_use(settings: Settings) -> bool:
    """Whether config.toml names `[[accounts]]` (the implicit single account does not count)."""
    return bool(settings.accounts)


def split_by_account(
    settings: Settings,
    spec: OperationSpec,
    targets: Targets,
    account_names: Sequence[str] = (),
) -> list[tuple[Account, Targets]]:
    """`targets` split per account, in configured order; TargetError/ConfigError (exit 2)
    when a target's account cannot be told or is not configured. Reads the targets (and, for
    ids without an account, the warehouse) but sends nothing."""
    accounts = configured_accounts(settings)
    chosen = select_accounts(accounts, account_names) if account_names else []
    if len(accounts) == 1 and not chosen:
        _refuse_other_accounts(settings, spec, targets, accounts[0])
        return [(accounts[0], targets)]
    if len(chosen) > 1:
        raise TargetError("--account: name one account (each write goes to one account)")
    only = chosen[0] if chosen else None
    if spec.key is None or spec.single or not targets.given():
        if only is None:
            raise TargetError(
                f"{spec.cli_name}: several accounts are configured; pass --account "
                f"({', '.join(a.name for a in accounts)})"
            )
        return [(only, targets)]
    db = Path(settings.warehouse.duckdb_path)
    rows = read_rows(targets, key=spec.key, db_path=db, dataset=settings.warehouse.dataset)
    known = {account.name: account for account in accounts}
    by_account: dict[str, list[dict[str, Any]]] = {}
    unresolved: list[tuple[Row, dict[str, Any]]] = []
    # Each repeat of an ids file's line again, so the plans count the duplicates they ignore.
    rows = [copy for row in rows for copy in [row] * (1 + row.repeats)]
    for row in rows:
        values = dict(row.values)
        named = values.pop(ACCOUNT_COLUMN, None)
        if named is not None:
            named = str(named)
            if named not in known:
                raise ConfigError(f"{row.source}: unknown account {named!r}")
            if only is not None and named != only.name:
                raise TargetError(f"{row.source}: account {named!r} but --account {only.name}")
            by_account.setdefault(named, []).append(values)
        elif only is not None:
            by_account.setdefault(only.name, []).append(values)
        else:
            unresolved.append((row, values))
    if unresolved:
        owners = _owners(settings, spec, [values.get(spec.key) for _, values in unresolved])
        for row, values in unresolved:
            target = values.get(spec.key)
            number = _as_int(target)
            holding = owners.get(number, []) if number is not None else []
            if len(holding) != 1:
                where = f"in accounts {', '.join(holding)}" if holding else "in no account"
                raise TargetError(
                    f"{row.source}: {spec.key} {target} is {where} of the warehouse; pass "
                    "--account, or select the account column (--sql 'select account, id …')"
                )
            by_account.setdefault(holding[0], []).append(values)
    held = frozenset().union(*(row.held for row in rows))
    return [
        (account, Targets(rows=by_account[account.name], held=held))
        for account in accounts
        if account.name in by_account
    ]


def _refuse_other_accounts(
    settings: Settings, spec: OperationSpec, targets: Targets, account: Account
) -> None:
    """ConfigError (exit 2) naming the first row whose account column names an account other
    than the only one configured: its id is another account's booking, and sent here it would
    act on this account's booking of the same id (a row that creates would book in the wrong
    account). The rows are read again by the plan; an empty cell names no account."""
    if spec.single or not targets.given():
        return
    db = Path(settings.warehouse.duckdb_path)
    for row in read_rows(targets, key=spec.key, db_path=db, dataset=settings.warehouse.dataset):
        named = row.values.get(ACCOUNT_COLUMN)
        if named is not None and str(named).strip() not in ("", account.name):
            raise ConfigError(
                f"{row.source}: account {str(named)!r} is not the configured account "
                f"{account.name!r}; nothing was sent"
            )


def _owners(settings: Settings, spec: OperationSpec, keys: list[Any]) -> dict[int, list[str]]:
    """Each id -> the accounts whose synced rows hold it."""
    table = _KEY_TABLES.get((spec.group, str(spec.key)))
    if table is None:
        raise TargetError(
            f"{spec.cli_name}: several accounts are configured and these targets cannot be "
            "looked up in the warehouse; pass --account or an account column"
        )
    ids = sorted({i for i in (_as_int(key) for key in keys) if i is not None})
    dataset = '"' + settings.warehouse.dataset.replace('"', '""') + '"'
    with read_only(Path(settings.warehouse.duckdb_path)) as con:
        rows = con.execute(
            f"select id, list(distinct {ACCOUNT_COLUMN} order by {ACCOUNT_COLUMN}) "
            f"from {dataset}.{table} where id in (select unnest(?)) group by id",
            [ids],
        ).fetchall()
    return {int(row[0]): list(row[1]) for row in rows}


def _as_int(value: Any) -> int | None:
    try:
        return int(str(value).strip().lstrip("+"))
    except (TypeError, ValueError):
        return None
