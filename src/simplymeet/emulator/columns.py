"""Columnar event storage: one growable numpy array per field, row = event id - 1."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

NO_TIME = 0
"""Epoch value standing for null (canceledAt of a live event); every real time is later."""


class EventColumns:
    """The scalar state of every event, one numpy array per field.

    Ids are dense and never reused (row = id - 1), so a lookup is an index and a created event
    is an append. Arrays are over-allocated and doubled on growth; `col(name)` gives the live
    slice. Times are epoch seconds except `updated_us` (microseconds, see StoreClock).
    """

    SPEC: ClassVar[dict[str, type]] = {
        "user_id": np.int32,  # host the event is assigned to now
        "event_type_id": np.int32,  # event type now
        "seed_user_id": np.int32,  # host at booking time: seeds rendered history
        "seed_event_type_id": np.int32,  # event type at booking time: seeds answers
        "created": np.int64,
        "updated_us": np.int64,
        "scheduled": np.int64,
        "end": np.int64,
        "canceled": np.int64,
        "duration": np.int16,
        "state": np.int8,  # index into vocab.EVENT_STATES
        "pay_status": np.int8,  # index into vocab.PAYMENT_STATUSES, -1 without payment
        "location_type": np.int8,  # index into vocab.LOCATION_TYPES
        "reminders": np.int16,  # sentEmailReminder
        "n_participants": np.int8,  # seeded participants (API-added ones live in the overlay)
        "n_reschedules": np.int8,  # seeded reschedulings
        "first_name": np.int16,  # index into the invitee name pools
        "last_name": np.int16,
        "email_domain": np.int16,
        "email_number": np.int32,
        "deleted": np.bool_,
        "created_by_api": np.bool_,  # details live in the overlay, nothing is derived
    }

    def __init__(self, capacity: int = 0) -> None:
        self.n = 0
        self._data: dict[str, np.ndarray] = {
            name: np.zeros(max(capacity, 16), dtype=dtype) for name, dtype in self.SPEC.items()
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> EventColumns:
        """Adopt freshly generated arrays (all the same length) without copying twice."""
        n = len(next(iter(arrays.values())))
        cols = cls(capacity=0)
        spare = max(16, n // 8)
        for name, dtype in cls.SPEC.items():
            data: np.ndarray = np.zeros(n + spare, dtype=dtype)
            if name in arrays:
                data[:n] = arrays[name]
            cols._data[name] = data
        cols.n = n
        return cols

    def col(self, name: str) -> np.ndarray:
        """The live part of a column (a view: writes go to the store)."""
        return self._data[name][: self.n]

    def raw(self, name: str) -> np.ndarray:
        """The whole allocated array (rows past `n` are unused): cheapest single-row reads."""
        return self._data[name]

    def append(self, values: dict[str, int | bool]) -> int:
        """Append one row and return its event id."""
        if self.n == len(self._data["created"]):
            for name, data in self._data.items():
                grown = np.zeros(len(data) * 2, dtype=data.dtype)
                grown[: self.n] = data[: self.n]
                self._data[name] = grown
        row = self.n
        for name, data in self._data.items():
            data[row] = values.get(name, 0)
        self.n += 1
        return row + 1

    def get(self, name: str, event_id: int) -> int:
        """One value as a Python int."""
        return int(self._data[name][event_id - 1])

    def set(self, name: str, event_id: int, value: int | bool) -> None:
        """Write one value."""
        self._data[name][event_id - 1] = value

    def has(self, event_id: int) -> bool:
        """True when the id names an event that exists and is not deleted."""
        return 1 <= event_id <= self.n and not self._data["deleted"][event_id - 1]

    def nbytes(self) -> int:
        """Memory held by the arrays (allocated, not only used)."""
        return sum(data.nbytes for data in self._data.values())
