"""Small tables the runner writes into `analytics` before the models: vocabularies and config.

They keep one place for each fact: the state synonyms and cancelers come from the contract's
vocabulary, working hours from config.toml `[models]`. Once a build has run they exist in
the DuckDB file, so every model's SQL can be run by hand (`simplymeet sql`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simplymeet.config import ConfigError, Settings
from simplymeet.contract.vocab import CANCELERS, NORMALIZED_STATES, STATE_SYNONYMS
from simplymeet.models.connection import dialect_of, ensure_schema
from simplymeet.schemas import MODELS_SCHEMA

WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)

DEFAULT_WORKING_DAYS: tuple[str, ...] = WEEKDAYS[:5]
"""Working days when settings name none (the same defaults as config.toml ships)."""


@dataclass(frozen=True)
class WorkingHours:
    """Offered hours on days no availability snapshot covers, in each host's local time."""

    day_start: dt.time
    day_end: dt.time
    days: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkingHours:
        """Read `[models] working_day_start/_end/working_days`; raise ConfigError if invalid."""
        section = settings.section("models")
        try:
            start = dt.time.fromisoformat(str(section.get("working_day_start", "09:00")))
            end = dt.time.fromisoformat(str(section.get("working_day_end", "17:00")))
        except ValueError as exc:
            raise ConfigError(f"[models] working hours must be HH:MM: {exc}") from exc
        if end <= start:
            raise ConfigError(
                f"[models] working_day_end ({end:%H:%M}) must be after "
                f"working_day_start ({start:%H:%M})"
            )
        listed = section.get("working_days", DEFAULT_WORKING_DAYS)
        days = tuple(str(day).strip().lower() for day in listed)
        unknown = [day for day in days if day not in WEEKDAYS]
        if unknown:
            raise ConfigError(
                f"[models] working_days: unknown day(s) {unknown}; expected names from {WEEKDAYS}"
            )
        return cls(start, end, days)

    @property
    def minutes_per_day(self) -> int:
        start = self.day_start.hour * 60 + self.day_start.minute
        return self.day_end.hour * 60 + self.day_end.minute - start


@dataclass(frozen=True)
class SeedTable:
    """A seed's columns (name, SQL type) and rows.

    Plain rows rather than an Arrow table: building one from Python lists makes pyarrow
    import pandas, 0.23 s of a `simplymeet models build` that needs pandas nowhere else.
    """

    columns: tuple[tuple[str, str], ...]
    rows: list[tuple[Any, ...]]
    select: dict[str, str] | None = None
    """Per dialect, a select the engine fills the table from instead of `rows` (what only the
    engine knows, such as the time zones it can convert to)."""


def _event_states(_: Settings) -> SeedTable:
    raw = sorted(STATE_SYNONYMS)
    return SeedTable(
        (("state_raw", "text"), ("state", "text")),
        [(key, STATE_SYNONYMS[key]) for key in raw],
    )


def _normalized_states(_: Settings) -> SeedTable:
    return SeedTable((("state", "text"),), [(state,) for state in NORMALIZED_STATES])


def _cancelers(_: Settings) -> SeedTable:
    return SeedTable((("canceler", "text"),), [(canceler,) for canceler in CANCELERS])


def _working_hours(settings: Settings) -> SeedTable:
    hours = WorkingHours.from_settings(settings)
    columns = (
        ("iso_weekday", "integer"),
        ("weekday", "text"),
        ("start_time", "time"),
        ("end_time", "time"),
        ("working_minutes", "integer"),
    )
    rows = [
        (WEEKDAYS.index(day) + 1, day, hours.day_start, hours.day_end, hours.minutes_per_day)
        for day in WEEKDAYS
        if day in hours.days
    ]
    return SeedTable(columns, rows)


def _timezone_names(_: Settings) -> SeedTable:
    # Read once per build: the staging views of users and event types keep only the zones the
    # engine knows, and DuckDB lists them afresh (5 ms) for every query that reads the views.
    return SeedTable(
        (("name", "text"),),
        [],
        select={
            "duckdb": "select name from pg_timezone_names()",
            "postgres": "select name from pg_timezone_names",
        },
    )


SEEDS: dict[str, Callable[[Settings], SeedTable]] = {
    "seed_event_states": _event_states,
    "seed_normalized_states": _normalized_states,
    "seed_cancelers": _cancelers,
    "cfg_working_hours": _working_hours,
    "seed_timezone_names": _timezone_names,
}
"""Tables written to `analytics` before the models, by name, from the vocab or settings."""


def write_seeds(con: Any, settings: Settings, schema: str = MODELS_SCHEMA) -> list[str]:
    """Create or replace every seed table in `schema` (DuckDB or PostgreSQL); their names."""
    # One catalogue read for every seed, not one each (~2 ms apiece on DuckDB).
    kinds: dict[str, str] = {}
    for name, table_type in con.execute(
        "select table_name, table_type from information_schema.tables "
        f"where table_schema = ? and table_name in ({', '.join('?' for _ in SEEDS)})",
        [schema, *SEEDS],
    ).fetchall():
        kinds.setdefault(name, table_type)
    if not kinds:  # a seed found: its schema is there
        ensure_schema(con, schema)
    for name, build in SEEDS.items():
        _replace_table(con, schema, name, build(settings), kinds.get(name))
    return list(SEEDS)


def write_table(con: Any, schema: str, name: str, data: SeedTable) -> None:
    """Replace `schema.name` (a table or a view) with `data`, by DDL and one insert."""
    existing = con.execute(
        "select table_type from information_schema.tables "
        "where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    _replace_table(con, schema, name, data, existing[0] if existing else None)


def _replace_table(
    con: Any, schema: str, name: str, data: SeedTable, existing_type: str | None
) -> None:
    """`write_table`, told what `information_schema.tables` says `schema.name` is now."""
    relation = f'"{schema}"."{name}"'
    if existing_type:
        kind = "view" if existing_type == "VIEW" else "table"
        # PostgreSQL refuses to drop what a model's view reads without cascade; DuckDB
        # records no such dependency.
        cascade = "" if dialect_of(con) == "duckdb" else " cascade"
        con.execute(f"drop {kind} {relation}{cascade}")
    columns = ", ".join(f'"{column}" {sql_type}' for column, sql_type in data.columns)
    con.execute(f"create table {relation} ({columns})")
    if data.select is not None:
        names = ", ".join(f'"{column}"' for column, _ in data.columns)
        con.execute(f"insert into {relation} ({names}) {data.select[dialect_of(con)]}")
    elif data.rows:
        row = "(" + ", ".join("?" for _ in data.columns) + ")"
        con.execute(
            f"insert into {relation} values {', '.join(row for _ in data.rows)}",
            [value for values in data.rows for value in values],
        )
