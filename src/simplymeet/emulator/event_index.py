"""Filtering and ordering events with numpy, cached until the next write.

A list request is answered in three steps: an order of all rows for (orderField, direction),
a boolean mask for the filter, and the ordered ids that pass the mask. The ordered ids are
cached per (order, filter) and tagged with the store's generation, so paging through an
unchanged store costs one slice per page instead of a sort. Ties always break by id, in the
same direction as the order, so `desc` is exactly the reverse of `asc`.

Invitee names and e-mails of seeded events are a function of four small integer columns; the
`invitee` filter materializes them once into a bytes column (lowercase UTF-8), then patches
single rows when an invitee is edited or an event is created.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from simplymeet.contract.vocab import EVENT_STATES, LOCATION_TYPES, PAYMENT_STATUSES
from simplymeet.emulator import pools
from simplymeet.emulator.identifiers import event_id_from_uuid, event_uuid_sort_keys
from simplymeet.emulator.listing import EventFilter
from simplymeet.emulator.seed import STATE_CODE

if TYPE_CHECKING:
    from simplymeet.emulator.store import Store

_CACHE_SIZE = 32


def _rank_of(names: tuple[str, ...]) -> np.ndarray:
    """Map a vocabulary code to its alphabetical rank, so ordering by code orders by name."""
    return np.argsort(np.argsort(np.array(names))).astype(np.int16)


_STATE_RANK = _rank_of(EVENT_STATES)
_LOCATION_RANK = _rank_of(LOCATION_TYPES)
_PAYMENT_RANK = np.concatenate([[-1], _rank_of(PAYMENT_STATUSES)]).astype(np.int16)

ORDER_FIELDS: tuple[str, ...] = (
    "id",
    "uuid",
    "createdAt",
    "updatedAt",
    "scheduledAt",
    "endDate",
    "canceledAt",
    "state",
    "notes",
    "details",
    "location",
    "locationType",
    "onlineEventId",
    "sentEmailReminder",
    "lastSentInviteeEmailReminder",
    "lastSentInviteeEmailFollowUp",
    "duration",
    "user",
    "user.id",
    "eventType",
    "eventType.id",
    "invitee.email",
    "invitee.fullName",
    "payment.status",
)
"""Every scalar field of EventDTO, plus the ids and invitee fields of its nested objects."""


class EventIndex:
    """Answers "which event ids, in which order" for list requests."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._results: OrderedDict[tuple, tuple[int, np.ndarray]] = OrderedDict()
        self._orders: OrderedDict[tuple, tuple[int, np.ndarray]] = OrderedDict()
        self._search: np.ndarray | None = None

    # --- public ------------------------------------------------------------------------------

    def select(self, flt: EventFilter, order_field: str | None, descending: bool) -> np.ndarray:
        """Ids of live events passing `flt`, ordered; cached until the store changes."""
        key = (order_field or "id", descending, flt)
        generation = self.store.generation
        hit = self._results.get(key)
        if hit is not None and hit[0] == generation:
            self._results.move_to_end(key)
            return hit[1]
        mask = self._mask(flt)
        order = self._order(order_field or "id", descending)
        ids = order[mask[order]] + 1
        self._results[key] = (generation, ids)
        while len(self._results) > _CACHE_SIZE:
            self._results.popitem(last=False)
        return ids

    def invitee_changed(self, event_id: int) -> None:
        """Patch the search column after an invitee edit or a new event."""
        if self._search is None:
            return
        while len(self._search) < event_id:  # a created event: append its row (and any gap)
            missing = range(len(self._search) + 1, self.store.cols.n + 1)
            tail = np.array([self._search_text(i) for i in missing], dtype=bytes)
            width = max(self._search.dtype.itemsize, tail.dtype.itemsize)
            self._search = np.concatenate(
                [self._search.astype(f"S{width}"), tail.astype(f"S{width}")]
            )
        text = self._search_text(event_id)
        if len(text) > self._search.dtype.itemsize:
            self._search = self._search.astype(f"S{len(text) + 16}")
        self._search[event_id - 1] = text

    # --- filtering ---------------------------------------------------------------------------

    def _mask(self, flt: EventFilter) -> np.ndarray:
        store = self.store
        cols = store.cols
        mask = ~cols.col("deleted")
        et_col = cols.col("event_type_id")
        if flt.ids is not None:
            by_id = np.zeros(cols.n, dtype=bool)
            wanted = np.array([i for i in flt.ids if 1 <= i <= cols.n], dtype=np.int64)
            by_id[wanted - 1] = True
            mask &= by_id
        if flt.uuid is not None:
            found = event_id_from_uuid(store.seed, flt.uuid)
            by_uuid = np.zeros(cols.n, dtype=bool)
            if found is not None and found <= cols.n:
                by_uuid[found - 1] = True
            mask &= by_uuid
        if flt.event_type_type is not None:
            kinds = [et.id for et in store.ref.event_types if et.kind == flt.event_type_type]
            mask &= np.isin(et_col, kinds)
        if flt.state is not None:
            mask &= cols.col("state") == STATE_CODE[flt.state]
        if flt.payment_status is not None:
            mask &= cols.col("pay_status") == PAYMENT_STATUSES.index(flt.payment_status)
        if flt.event_type_list is not None:
            mask &= np.isin(et_col, flt.event_type_list)
        if flt.user_list is not None:
            # A collective event belongs to every member of its event type, not only its owner.
            shared = [
                et.id
                for et in store.ref.event_types
                if et.kind == "collective" and set(et.user_ids) & set(flt.user_list)
            ]
            mask &= np.isin(cols.col("user_id"), flt.user_list) | np.isin(et_col, shared)
        if flt.organization_tag_list is not None:
            wanted_tags = set(flt.organization_tag_list)
            tagged = [
                et_id
                for et_id, tags in store.ref.event_type_tag_links.items()
                if tags & wanted_tags
            ]
            mask &= np.isin(et_col, tagged)
        if flt.scheduled_from is not None:
            mask &= cols.col("scheduled") >= _day_start(flt.scheduled_from)
        if flt.scheduled_to is not None:
            mask &= cols.col("scheduled") < _day_start(flt.scheduled_to) + 86_400
        if flt.invitee is not None:
            needle = flt.invitee.encode("utf-8")
            mask &= np.strings.find(self._search_column(), needle) >= 0
        return mask

    def _search_column(self) -> np.ndarray:
        if self._search is None or len(self._search) != self.store.cols.n:
            names, emails = self.invitee_texts()
            combined = np.strings.lower(np.strings.add(np.strings.add(names, " "), emails))
            self._search = np.strings.encode(combined, "utf-8")
        return self._search

    def _search_text(self, event_id: int) -> bytes:
        invitee = self.store.invitee_of(event_id)
        return f"{invitee[0]} {invitee[1]}".lower().encode("utf-8")

    def invitee_texts(self) -> tuple[np.ndarray, np.ndarray]:
        """Full names and e-mails of all rows (str arrays), API edits and creations included."""
        cols = self.store.cols
        first = np.array([f for f, _ in pools.FIRST_NAMES])[cols.col("first_name")]
        first_ascii = np.array([a for _, a in pools.FIRST_NAMES])[cols.col("first_name")]
        last = np.array([f for f, _ in pools.LAST_NAMES])[cols.col("last_name")]
        last_ascii = np.array([a for _, a in pools.LAST_NAMES])[cols.col("last_name")]
        number = cols.col("email_number")
        digits = np.where(number > 0, number.astype(str), "")
        domain = np.array(pools.EMAIL_DOMAINS)[cols.col("email_domain")]
        names = np.strings.add(np.strings.add(first, " "), last)
        emails = np.strings.add(np.strings.add(first_ascii, "."), last_ascii)
        emails = np.strings.add(np.strings.add(np.strings.add(emails, digits), "@"), domain)
        patched = [
            (event_id, *self.store.invitee_of(event_id))
            for event_id, overlay in self.store.overlays.items()
            if overlay.invitee is not None
        ]
        if patched:
            width = max(len(n) for _, n, _ in patched)
            names = names.astype(f"U{max(width, names.dtype.itemsize // 4)}")
            width = max(len(e) for _, _, e in patched)
            emails = emails.astype(f"U{max(width, emails.dtype.itemsize // 4)}")
            for event_id, name, email in patched:
                names[event_id - 1] = name
                emails[event_id - 1] = email
        return names, emails

    # --- ordering ----------------------------------------------------------------------------

    def _order(self, field: str, descending: bool) -> np.ndarray:
        key = (field, descending)
        generation = self.store.generation
        hit = self._orders.get(key)
        if hit is not None and hit[0] == generation:
            return hit[1]
        n = self.store.cols.n
        if field == "id":
            order = np.arange(n, dtype=np.int64)
        else:
            keys = self._sort_keys(field)
            # lexsort sorts by the last key first; the row number (= id - 1) breaks ties.
            order = np.lexsort((np.arange(n), *reversed(keys)))
        if descending:
            order = order[::-1].copy()
        self._orders[key] = (generation, order)
        while len(self._orders) > 8:
            self._orders.popitem(last=False)
        return order

    def _sort_keys(self, field: str) -> list[np.ndarray]:
        cols = self.store.cols
        columns: dict[str, Callable[[], np.ndarray]] = {
            "createdAt": lambda: cols.col("created"),
            "updatedAt": lambda: cols.col("updated_us"),
            "scheduledAt": lambda: cols.col("scheduled"),
            "endDate": lambda: cols.col("end"),
            "canceledAt": lambda: cols.col("canceled"),
            "state": lambda: _STATE_RANK[cols.col("state")],
            "locationType": lambda: _LOCATION_RANK[cols.col("location_type")],
            "duration": lambda: cols.col("duration"),
            "sentEmailReminder": lambda: cols.col("reminders"),
            "lastSentInviteeEmailReminder": lambda: cols.col("reminders") > 0,
            "lastSentInviteeEmailFollowUp": lambda: (
                (cols.col("state") == STATE_CODE["active"])
                & (cols.col("end") < self.store.anchor_s)
            ),
            "user": lambda: cols.col("user_id"),
            "user.id": lambda: cols.col("user_id"),
            "eventType": lambda: cols.col("event_type_id"),
            "eventType.id": lambda: cols.col("event_type_id"),
            "payment.status": lambda: _PAYMENT_RANK[cols.col("pay_status") + 1],
            "invitee.fullName": lambda: self.invitee_texts()[0],
            "invitee.email": lambda: self.invitee_texts()[1],
        }
        if field in columns:
            return [columns[field]()]
        if field == "uuid":
            high, low = event_uuid_sort_keys(self.store.seed, np.arange(1, cols.n + 1))
            return [high, low]
        # notes, details, location, onlineEventId: rarely ordered by, rendered one by one.
        values = [
            self.store.scalar_field(field, event_id) or "" for event_id in range(1, cols.n + 1)
        ]
        return [np.array(values, dtype=str)]


def _day_start(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
