"""Small tables the runner writes into `analytics` before the models: vocabularies and config.

They keep one place for each fact: the state synonyms and cancelers come from the contract's
vocabulary, working hours from config.toml `[models]`. Once a build has run they exist in
the DuckDB file, so every model's SQL can be run by hand (`simplymeet sql`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from simplymeet.config import ConfigError, Settings
from simplymeet.contract.vocab import CANCELERS, NORMALIZED_STATES, STATE_SYNONYMS

MODELS_SCHEMA = "analytics"
"""Schema the models (and these seed tables) are written to."""

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


def _event_states(_: Settings) -> pa.Table:
    raw = sorted(STATE_SYNONYMS)
    return pa.table(
        {
            "state_raw": pa.array(raw, pa.string()),
            "state": pa.array([STATE_SYNONYMS[key] for key in raw], pa.string()),
        }
    )


def _normalized_states(_: Settings) -> pa.Table:
    return pa.table({"state": pa.array(list(NORMALIZED_STATES), pa.string())})


def _cancelers(_: Settings) -> pa.Table:
    return pa.table({"canceler": pa.array(list(CANCELERS), pa.string())})


def _working_hours(settings: Settings) -> pa.Table:
    hours = WorkingHours.from_settings(settings)
    days = [day for day in WEEKDAYS if day in hours.days]
    return pa.table(
        {
            "iso_weekday": pa.array([WEEKDAYS.index(day) + 1 for day in days], pa.int32()),
            "weekday": pa.array(days, pa.string()),
            "start_time": pa.array([hours.day_start] * len(days), pa.time64("us")),
            "end_time": pa.array([hours.day_end] * len(days), pa.time64("us")),
            "working_minutes": pa.array([hours.minutes_per_day] * len(days), pa.int32()),
        }
    )


SEEDS: dict[str, Callable[[Settings], pa.Table]] = {
    "seed_event_states": _event_states,
    "seed_normalized_states": _normalized_states,
    "seed_cancelers": _cancelers,
    "cfg_working_hours": _working_hours,
}
"""Tables written to `analytics` before the models, by name, from the vocab or settings."""


def write_seeds(
    con: duckdb.DuckDBPyConnection, settings: Settings, schema: str = MODELS_SCHEMA
) -> list[str]:
    """Create or replace every seed table in `schema`; return their names."""
    con.execute(f'create schema if not exists "{schema}"')
    for name, build in SEEDS.items():
        con.register("__simplymeet_seed", build(settings))
        try:
            existing = con.execute(
                "select table_type from information_schema.tables "
                "where table_schema = ? and table_name = ?",
                [schema, name],
            ).fetchone()
            if existing and existing[0] == "VIEW":
                con.execute(f'drop view "{schema}"."{name}"')
            con.execute(
                f'create or replace table "{schema}"."{name}" as select * from __simplymeet_seed'
            )
        finally:
            con.unregister("__simplymeet_seed")
    return list(SEEDS)
