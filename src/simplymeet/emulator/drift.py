"""Drift: a background writer that books, changes and deletes events while clients read.

A `DriftSpec` is built in Python or parsed from `rate=50,insert=0.3,update=0.6,delete=0.1,seed=3`:
`rate` writes per second, split between inserts (new bookings), updates (cancel, notes or
reschedule of a random live event) and deletes by the given weights. The writer runs as a task
on the server's event loop and takes the store lock for each write, like a request would.

`stamp_future` gives one event an `updatedAt` ahead of the server's clock (a skewed clock on
one backend node, a bad import): what a sync's cursor must not follow.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass

from simplymeet.contract import dtos
from simplymeet.contract.dates import REQUEST_DATETIME_FORMAT
from simplymeet.contract.vocab import STATE_CANCELED
from simplymeet.emulator import event_writes, pools
from simplymeet.emulator.api_errors import ApiError
from simplymeet.emulator.seed import STATE_CODE
from simplymeet.emulator.store import Store


@dataclass(frozen=True)
class DriftSpec:
    """How fast and how the background writer changes events."""

    rate: float = 10.0
    insert: float = 0.3
    update: float = 0.6
    delete: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("drift rate must be positive (writes per second)")
        if min(self.insert, self.update, self.delete) < 0 or not (
            self.insert + self.update + self.delete
        ):
            raise ValueError("drift weights must be non-negative and not all zero")

    @classmethod
    def parse(cls, text: str) -> DriftSpec:
        """Build a spec from `rate=50,insert=0.3,update=0.6,delete=0.1,seed=3`."""
        values: dict[str, float | int] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, raw = part.partition("=")
            key = key.strip().lower()
            if not sep or key not in ("rate", "insert", "update", "delete", "seed"):
                raise ValueError(
                    f"bad drift setting {part!r}; expected rate=, insert=, update=, delete=, seed="
                )
            values[key] = int(raw) if key == "seed" else float(raw)
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def coerce(cls, value: DriftSpec | str | None) -> DriftSpec | None:
        if value is None or isinstance(value, DriftSpec):
            return value
        return cls.parse(value) if value.strip() else None


def stamp_future(store: Store, event_id: int, ahead_seconds: float) -> int:
    """Set one live event's `updatedAt` `ahead_seconds` past now; returns the new epoch second.

    The store clock is not moved: later writes are stamped with the real time again, so they
    sort below this event in `updatedAt` order, as they would on the server being imitated.
    """
    with store.lock:
        if not store.has_event(event_id):
            raise KeyError(f"no live event {event_id}")
        stamp_us = int((time.time() + ahead_seconds) * 1_000_000)
        store.cols.set("updated_us", event_id, stamp_us)
        store.generation += 1
    return stamp_us // 1_000_000


def stamp_together(store: Store, event_ids: list[int], at_seconds: int) -> None:
    """Give events one `updatedAt` second (a bulk change): equal stamps as clients see them.

    The store still orders them by microseconds (in the order given), as a server with a
    hidden tie-breaker would; the responses show whole seconds, so clients see a tie.
    """
    with store.lock:
        for offset, event_id in enumerate(event_ids):
            if not store.has_event(event_id):
                raise KeyError(f"no live event {event_id}")
            store.cols.set("updated_us", event_id, at_seconds * 1_000_000 + 999_999 - offset)
        store.generation += 1


class DriftWriter:
    """Applies seeded random writes to a store, on demand (`step`) or at a rate (`run`)."""

    def __init__(self, store: Store, spec: DriftSpec) -> None:
        self.store = store
        self.spec = spec
        self.rng = random.Random(spec.seed * 1_000_003 + store.seed)
        self.stats: Counter[str] = Counter()

    async def run(self) -> None:
        """Write at `spec.rate` per second until cancelled."""
        started = time.monotonic()
        done = 0
        while True:
            due = int((time.monotonic() - started) * self.spec.rate) - done
            for _ in range(max(due, 0)):
                self.step()
                done += 1
            await asyncio.sleep(min(0.05, 1 / self.spec.rate))

    def step(self) -> str:
        """One write; returns what it did (insert, cancel, notes, reschedule, delete, skip)."""
        spec = self.spec
        with self.store.lock:
            kind = self.rng.choices(
                ("insert", "update", "delete"), weights=(spec.insert, spec.update, spec.delete)
            )[0]
            try:
                if kind == "insert":
                    done = self._insert()
                else:
                    event_id = self._random_live_event()
                    if event_id is None:
                        done = self._insert()
                    elif kind == "delete":
                        event_writes.delete_event(self.store, event_id)
                        done = "delete"
                    else:
                        done = self._update(event_id)
            except ApiError:
                done = "skip"
        self.stats[done] += 1
        return done

    def _random_live_event(self) -> int | None:
        n = self.store.cols.n
        for _ in range(50):
            if n == 0:
                return None
            event_id = self.rng.randint(1, n)
            if self.store.has_event(event_id):
                return event_id
        return None

    def _insert(self) -> str:
        store, rng = self.store, self.rng
        live = [et for et in store.ref.event_types if et.id not in store.deleted_event_types]
        enabled = [et for et in live if et.is_enabled] or live or store.ref.event_types
        et = rng.choice(enabled)
        now = store.clock.now_s()
        start = now - now % 1800 + rng.randint(2, 60 * 48) * 1800
        first, first_ascii = rng.choice(pools.FIRST_NAMES)
        last, last_ascii = rng.choice(pools.LAST_NAMES)
        request = dtos.CreateEventRequestDTO(
            scheduledAt=time.strftime(REQUEST_DATETIME_FORMAT, time.gmtime(start)),
            eventType=et.id,
            invitee=dtos.InviteeRequestDTO(
                fullName=f"{first} {last}",
                email=f"{first_ascii}.{last_ascii}@{rng.choice(pools.EMAIL_DOMAINS)}",
            ),
        )
        event_writes.create_events(store, request)
        return "insert"

    def _update(self, event_id: int) -> str:
        store, rng = self.store, self.rng
        canceled = store.cols.get("state", event_id) == STATE_CODE[STATE_CANCELED]
        action = "notes" if canceled else rng.choice(("cancel", "notes", "reschedule"))
        if action == "cancel":
            canceler = rng.choice(("invitee", "host"))
            event_writes.cancel_event(store, event_id, rng.choice(pools.CANCEL_REASONS), canceler)
        elif action == "notes":
            event_writes.set_notes(store, event_id, rng.choice(pools.NOTES))
        else:
            scheduled = store.cols.get("scheduled", event_id) + rng.randint(1, 96) * 1800
            minutes = store.cols.get("duration", event_id)
            request = dtos.RescheduleEventRequestDTO(
                start=time.strftime(REQUEST_DATETIME_FORMAT, time.gmtime(scheduled)),
                end=time.strftime(REQUEST_DATETIME_FORMAT, time.gmtime(scheduled + minutes * 60)),
                eventTypeId=store.cols.get("event_type_id", event_id),
            )
            event_writes.reschedule_event(store, event_id, request, rescheduler="invitee")
        return action
