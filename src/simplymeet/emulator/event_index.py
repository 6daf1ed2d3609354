"""Filtering and ordering events with numpy, cached until the next write.

A list request is answered in three steps: an order of all rows for (orderField, direction),
a boolean mask for the filter, and the ordered ids that pass the mask. The ordered ids are
cached per (order, filter) and tagged with the store's generation, so paging through an
unchanged store costs one slice per page instead of a sort. Ties always break by id, in the
same direction as the order, so `desc` is exactly the reverse of `asc`.

Invitee names and e-mails of seeded events are a function of four small integer columns; the
`invitee` filter matches the distinct names and e-mails once per request and gathers the result
by row, then checks the few invitees created or edited through the API one by one.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
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
        self._parts: _InviteeParts | None = None

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

    # --- filtering ---------------------------------------------------------------------------

    def _mask(self, flt: EventFilter) -> np.ndarray:
        store = self.store
        cols = store.cols
        if store.readings.deleted_events == "listed":
            mask = np.ones(cols.n, dtype=bool)
        else:
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
            # A soft-deleted event listed (`deleted_events=listed`) is in no state asked for.
            mask &= (cols.col("state") == STATE_CODE[flt.state]) & ~cols.col("deleted")
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
            mask &= self._invitee_mask(flt.invitee, flt.invitee_case_sensitive)
        return mask

    def _invitee_mask(self, needle: str, case_sensitive: bool = False) -> np.ndarray:
        """Rows whose invitee name or e-mail contains `needle` (lowercase, unless matched
        case for case)."""
        parts = self._invitee_parts()
        names = parts.names if case_sensitive else parts.names_lower
        name_hit = np.strings.find(names, needle) >= 0
        email_hit = np.strings.find(parts.emails, needle) >= 0
        n = self.store.cols.n
        mask = np.zeros(n, dtype=bool)
        seeded = parts.rows
        mask[:seeded] = name_hit[parts.name_key] | email_hit[parts.email_key]

        def fold(text: str) -> str:
            return text if case_sensitive else text.lower()

        for event_id, name, email in self._invitee_overrides():
            mask[event_id - 1] = needle in fold(name) or needle in fold(email)
        return mask

    def _invitee_overrides(self) -> list[tuple[int, str, str]]:
        """(id, name, email) of invitees created or edited through the API."""
        return [
            (event_id, *self.store.invitee_of(event_id))
            for event_id, overlay in self.store.overlays.items()
            if overlay.invitee is not None
        ]

    def _invitee_parts(self) -> _InviteeParts:
        """Seeded names and e-mails as small tables of distinct strings plus a key per row.

        Names come from 64 x 64 first/last pairs and e-mails repeat too, so matching or sorting
        the distinct strings and gathering by key is much cheaper than a string per row. Built
        once: seeded name columns never change (API edits live in the overlay).
        """
        if self._parts is None:
            cols = self.store.cols
            rows = cols.n
            first, last = cols.col("first_name"), cols.col("last_name")
            n_last = len(pools.LAST_NAMES)
            names = np.array(
                [f"{f} {la}" for f, _ in pools.FIRST_NAMES for la, _ in pools.LAST_NAMES]
            )
            name_key = first.astype(np.int64) * n_last + last
            email_code = (name_key * 1000 + cols.col("email_number")) * len(
                pools.EMAIL_DOMAINS
            ) + cols.col("email_domain")
            distinct, email_key = np.unique(email_code, return_inverse=True)
            emails = []
            for code in distinct.tolist():
                rest, domain = divmod(code, len(pools.EMAIL_DOMAINS))
                pair, number = divmod(rest, 1000)
                f, la = divmod(pair, n_last)
                emails.append(
                    f"{pools.FIRST_NAMES[f][1]}.{pools.LAST_NAMES[la][1]}{number or ''}"
                    f"@{pools.EMAIL_DOMAINS[domain]}"
                )
            self._parts = _InviteeParts(
                rows=rows,
                names=names,
                names_lower=np.strings.lower(names),
                name_key=name_key,
                emails=np.array(emails, dtype=str),
                email_key=email_key.astype(np.int32),
            )
        return self._parts

    def invitee_texts(self) -> tuple[np.ndarray, np.ndarray]:
        """Full names and e-mails of all rows (str arrays), API edits and creations included."""
        parts = self._invitee_parts()
        n = self.store.cols.n
        names = np.full(n, "", dtype=parts.names.dtype)
        emails = np.full(n, "", dtype=parts.emails.dtype)
        names[: parts.rows] = parts.names[parts.name_key]
        emails[: parts.rows] = parts.emails[parts.email_key]
        overrides = self._invitee_overrides()
        if overrides:
            width = max(len(name) for _, name, _ in overrides)
            names = names.astype(f"U{max(width, names.dtype.itemsize // 4, 1)}")
            width = max(len(email) for _, _, email in overrides)
            emails = emails.astype(f"U{max(width, emails.dtype.itemsize // 4, 1)}")
            for event_id, name, email in overrides:
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

    def _updated_keys(self) -> np.ndarray:
        """`updatedAt` as sort keys; rows served without one sort below every stamp, or
        above with `nulls_sort_high`."""
        keys = self.store.cols.col("updated_us")
        nulls = [i - 1 for i in self.store.sorted_as_null if 1 <= i <= self.store.cols.n]
        if not nulls:
            return keys
        keys = keys.astype(np.int64, copy=True)
        bound = np.iinfo(np.int64)
        keys[nulls] = bound.max if self.store.nulls_sort_high else bound.min
        return keys

    def _sort_keys(self, field: str) -> list[np.ndarray]:
        cols = self.store.cols
        columns: dict[str, Callable[[], np.ndarray]] = {
            "createdAt": lambda: cols.col("created"),
            "updatedAt": self._updated_keys,
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


@dataclass(frozen=True)
class _InviteeParts:
    rows: int  # seeded rows covered (created events are all overrides)
    names: np.ndarray
    names_lower: np.ndarray
    name_key: np.ndarray
    emails: np.ndarray
    email_key: np.ndarray


def _day_start(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
