"""Hand-built raw warehouses: rows written with the sync's exact schemas, for tests and demos.

`SampleWarehouse` collects raw rows with sensible defaults (every column not given is null)
and writes them into `raw.*`; `build_demo_warehouse` makes a small, deterministic
organization to try the report and the notebooks on without an API key.

    >>> raw = SampleWarehouse(synced_at="2025-06-30T18:00:00Z")
    >>> raw.user(1, timezone="Europe/Paris")
    1
    >>> raw.event_type(10, owner=1, duration=30)
    10
    >>> raw.event(100, host=1, event_type=10, scheduled_at="2025-06-02T09:00:00Z")
    100
    >>> con = raw.build()  # raw tables and every model, in memory
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from simplymeet.config import Settings
from simplymeet.contract.dates import parse_api_datetime
from simplymeet.models.runner import build_models
from simplymeet.models.sources import ensure_source_tables, insert_rows

Timestamp = dt.datetime | str
DateLike = dt.date | str


def ts(value: Timestamp | None) -> dt.datetime | None:
    """An aware UTC datetime from a datetime or an API-style timestamp string."""
    if value is None or isinstance(value, dt.datetime):
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value
    return parse_api_datetime(value)


def day(value: DateLike) -> dt.date:
    """A date from a date or `YYYY-MM-DD`."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


class SampleWarehouse:
    """Raw rows for the `raw.*` tables, given column by column; `write` loads them."""

    def __init__(
        self, synced_at: Timestamp = "2025-06-30T18:00:00Z", *, account: str | None = None
    ) -> None:
        self.synced_at = ts(synced_at)
        self.account = account
        """Every row's `account` (None: the implicit `default`)."""
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._next_event_id = 1_000_000

    def include(self, other: SampleWarehouse) -> SampleWarehouse:
        """Add `other`'s rows to these (another account's, say); return self."""
        for table, rows in other.rows.items():
            self.rows[table].extend(rows)
        return self

    def _add(self, table: str, **columns: Any) -> dict[str, Any]:
        row = {"_synced_at": self.synced_at, **columns}
        if self.account is not None:
            row["account"] = self.account
        self.rows[table].append(row)
        return row

    def user(
        self,
        user_id: int,
        *,
        timezone: str | None = "UTC",
        full_name: str | None = None,
        email: str | None = None,
        current: bool = False,
        **columns: Any,
    ) -> int:
        """A user (a host); `current=True` also makes them the API key's owner."""
        values = {
            "id": user_id,
            "timezone": timezone,
            "full_name": full_name or f"User {user_id}",
            "email": email or f"user{user_id}@example.com",
            "is_enabled": True,
            **columns,
        }
        self._add("users", **values)
        if current:
            self._add("current_user", **values)
        return user_id

    def event_type(
        self,
        event_type_id: int,
        *,
        owner: int | None,
        duration: int | None = 30,
        name: str | None = None,
        kind: str = "regular",
        timezone: str | None = None,
        hosts: Iterable[int] = (),
        **columns: Any,
    ) -> int:
        """An event type owned by `owner`, with extra assigned `hosts`."""
        self._add(
            "event_types",
            id=event_type_id,
            user_id=owner,
            duration=duration,
            name=name or f"Event type {event_type_id}",
            type=kind,
            timezone=timezone,
            is_enabled=columns.pop("is_enabled", True),
            **columns,
        )
        for position, user_id in enumerate(hosts):
            self._add(
                "event_types__users",
                event_type_id=event_type_id,
                user_id=user_id,
                position_in_parent=position,
            )
        return event_type_id

    def event(
        self,
        event_id: int | None = None,
        *,
        host: int | None,
        event_type: int | None,
        scheduled_at: Timestamp,
        duration: int | None = 30,
        state: str | None = "active",
        created_at: Timestamp | None = None,
        canceled_at: Timestamp | None = None,
        canceler: str | None = None,
        reason: str | None = None,
        deleted_at: Timestamp | None = None,
        hosts: Iterable[int] = (),
        reschedules: Iterable[Timestamp] = (),
        participants: Iterable[str] = (),
        **columns: Any,
    ) -> int:
        """A booking; `reschedules` are the earlier start times it was moved from.

        `duration=None` gives it neither `endDate` nor `duration`, as the API may serve it.
        """
        if event_id is None:
            self._next_event_id += 1
            event_id = self._next_event_id
        start = ts(scheduled_at)
        assert start is not None
        self._add(
            "events",
            id=event_id,
            user_id=host,
            event_type_id=event_type,
            scheduled_at=start,
            end_date=None if duration is None else start + dt.timedelta(minutes=duration),
            duration=duration,
            state=state,
            created_at=ts(created_at) or start - dt.timedelta(days=7),
            updated_at=self.synced_at,
            canceled_at=ts(canceled_at),
            cancellation_id=event_id if canceled_at or canceler else None,
            cancellation_canceler=canceler,
            cancellation_reason=reason,
            deleted_at=ts(deleted_at),
            **columns,
        )
        for position, user_id in enumerate(hosts):
            self._add(
                "events__users", event_id=event_id, user_id=user_id, position_in_parent=position
            )
        for position, previous in enumerate(reschedules):
            self._add(
                "events__rescheduling",
                event_id=event_id,
                id=event_id * 100 + position,
                rescheduler="invitee",
                previously_scheduled_at=ts(previous),
                position_in_parent=position,
            )
        for position, email in enumerate(participants):
            self._add(
                "events__participants", event_id=event_id, id=event_id * 100 + position, email=email
            )
        return event_id

    def policy(
        self,
        policy_type: str,
        version: int,
        *,
        period: int | None,
        first_seen_at: Timestamp,
        enabled: bool = True,
        overwrite_personal: bool = False,
    ) -> None:
        """A cancellation policy version (`user` or `organization`), period in minutes."""
        self._add(
            "cancellation_policies",
            type=policy_type,
            version=version,
            period=period,
            enabled=enabled,
            overwrite_personal=overwrite_personal,
            label=f"{policy_type} v{version}",
            first_seen_at=ts(first_seen_at),
        )

    def availability_day(
        self,
        event_type: int,
        date: DateLike,
        *,
        snapshot_date: DateLike,
        available: bool = True,
        timezone: str = "UTC",
        synced_at: Timestamp | None = None,
    ) -> None:
        """A day as the availability endpoint showed it on `snapshot_date`.

        Taken at `synced_at`, by default the first moment of `snapshot_date` in `timezone`
        (the zone it was asked in): before any hour of the days it lists had passed.
        """
        taken = ts(synced_at) or dt.datetime.combine(
            day(snapshot_date), dt.time(), ZoneInfo(timezone)
        ).astimezone(dt.UTC)
        self._add(
            "event_type_availability_days",
            _synced_at=taken,
            snapshot_date=day(snapshot_date),
            event_type_id=event_type,
            date=day(date),
            available=available,
            timezone=timezone,
        )

    def slot(
        self,
        event_type: int,
        start_at: Timestamp,
        *,
        date: DateLike,
        start: str,
        snapshot_date: DateLike,
        duration_minutes: int = 30,
        available: bool = True,
        synced_at: Timestamp | None = None,
    ) -> None:
        """A start time the availability endpoint listed (`start` local, `start_at` UTC).

        Stamped `synced_at`, by default the first moment (UTC) of `snapshot_date`; the models
        read when a snapshot was taken from its days (`availability_day`).
        """
        taken = ts(synced_at) or dt.datetime.combine(day(snapshot_date), dt.time(), dt.UTC)
        self._add(
            "event_type_availability_slots",
            _synced_at=taken,
            snapshot_date=day(snapshot_date),
            event_type_id=event_type,
            date=day(date),
            start=start,
            start_at=ts(start_at),
            available=available,
            duration_minutes=duration_minutes,
        )

    def write(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create every raw table (empty where no rows were given) and insert the rows."""
        ensure_source_tables(con)
        for table, rows in self.rows.items():
            insert_rows(con, table, rows)

    def build(
        self,
        con: duckdb.DuckDBPyConnection | None = None,
        *,
        settings: Settings | None = None,
    ) -> duckdb.DuckDBPyConnection:
        """Write the rows and build every model; return the connection (in memory by default).

        `settings` defaults to the built-in defaults (working hours 09:00–17:00, Mon–Fri),
        not to whatever config.toml the current directory holds.
        """
        con = con if con is not None else duckdb.connect()
        self.write(con)
        build_models(con, settings=settings if settings is not None else Settings())
        return con


DEMO_AS_OF = dt.datetime(2025, 6, 30, 18, 0, tzinfo=dt.UTC)
_REASONS = ("Schedule conflict", "Feeling unwell", "No longer needed", None, "Travel")


def demo_sample(seed: int = 7) -> SampleWarehouse:
    """A small organization: four hosts in four time zones, twelve weeks of bookings.

    Deterministic for a given seed. Two event types have availability snapshots for the
    last two weeks; the others fall back to working hours. A user and an organization
    cancellation policy each have versions, so lateness depends on the date.
    """
    rng = random.Random(seed)
    raw = SampleWarehouse(synced_at=DEMO_AS_OF)
    raw.user(1, timezone="Europe/Paris", full_name="Ada Lovelace", current=True)
    raw.user(2, timezone="America/New_York", full_name="Grace Hopper")
    raw.user(3, timezone="Asia/Tokyo", full_name="Linus Torvalds")
    raw.user(4, timezone="Europe/London", full_name="Margaret Hamilton")
    types = {
        10: (1, 30, "Intro call", ()),
        11: (2, 60, "Consultation", ()),
        12: (1, 45, "Team demo", (1, 3)),
        13: (4, 30, "Support", ()),
        14: (3, 60, "Code review", ()),
    }
    zones = {1: "Europe/Paris", 2: "America/New_York", 3: "Asia/Tokyo", 4: "Europe/London"}
    for type_id, (owner, duration, name, hosts) in types.items():
        kind = "collective" if hosts else "regular"
        raw.event_type(type_id, owner=owner, duration=duration, name=name, kind=kind, hosts=hosts)
    raw.policy("user", 1, period=1440, first_seen_at="2025-03-01T00:00:00Z")
    raw.policy("user", 2, period=120, first_seen_at="2025-05-15T00:00:00Z")
    raw.policy("organization", 1, period=720, first_seen_at="2025-03-01T00:00:00Z")

    first_day = dt.date(2025, 4, 7)
    event_id = 10_000
    for offset in range(14 * 7):
        date = first_day + dt.timedelta(days=offset)
        if date.isoweekday() > 5 and rng.random() < 0.8:
            continue
        for type_id, (owner, duration, _, hosts) in types.items():
            zone = ZoneInfo(zones[owner])
            for _ in range(rng.randint(0, 4)):
                local = dt.datetime.combine(
                    date, dt.time(rng.randint(9, 16), rng.choice((0, 30))), zone
                )
                start = local.astimezone(dt.UTC)
                event_id += 1
                past = start + dt.timedelta(minutes=duration) <= DEMO_AS_OF
                roll = rng.random()
                state, canceled_at, canceler, reason = "active", None, None, None
                if roll < 0.14:
                    state = "canceled"
                    lead = dt.timedelta(minutes=rng.choice((-20, 30, 90, 300, 1500, 3000, 9000)))
                    canceled_at = min(start - lead, DEMO_AS_OF)
                    canceler = "invitee" if rng.random() < 0.7 else "host"
                    reason = rng.choice(_REASONS)
                elif past and roll < 0.14 + 0.09 * (1 + (owner == 2)):
                    state = rng.choice(("no_show", "no-show"))
                elif roll > 0.97:
                    state = "confirmed"
                reschedules = (
                    [start - dt.timedelta(days=rng.randint(1, 5))] if rng.random() < 0.08 else []
                )
                raw.event(
                    event_id,
                    host=owner,
                    event_type=type_id,
                    scheduled_at=start,
                    duration=duration,
                    state=state,
                    created_at=start - dt.timedelta(hours=rng.randint(2, 400)),
                    canceled_at=canceled_at,
                    canceler=canceler,
                    reason=reason,
                    hosts=hosts,
                    reschedules=reschedules,
                    deleted_at=DEMO_AS_OF if rng.random() < 0.01 else None,
                )
    snapshot_date = dt.date(2025, 6, 16)
    for type_id in (10, 11):
        owner, duration, _, _ = types[type_id]
        zone = ZoneInfo(zones[owner])
        for offset in range(28):
            date = snapshot_date + dt.timedelta(days=offset)
            working = date.isoweekday() <= 5
            raw.availability_day(
                type_id, date, snapshot_date=snapshot_date, available=working, timezone=zones[owner]
            )
            if not working:
                continue
            for minute in range(9 * 60, 17 * 60, duration):
                local = dt.datetime.combine(date, dt.time(minute // 60, minute % 60), zone)
                raw.slot(
                    type_id,
                    local.astimezone(dt.UTC),
                    date=date,
                    start=f"{minute // 60:02d}:{minute % 60:02d}",
                    snapshot_date=snapshot_date,
                    duration_minutes=duration,
                    available=rng.random() > 0.15,
                )
    return raw


def build_demo_warehouse(
    path: str | Path, *, seed: int = 7, settings: Settings | None = None
) -> Path:
    """Write the demo organization to a new DuckDB file at `path` and build the models."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists; the demo warehouse is only written to a new file")
    con = duckdb.connect(str(path))
    try:
        demo_sample(seed).build(con, settings=settings)
    finally:
        con.close()
    return path
