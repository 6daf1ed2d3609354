"""The emulator's state: seeded reference data, columnar events, and what API writes changed.

One `Store` is one organization. The HTTP handlers, the drift writer and test code all go
through it while holding `store.lock` (an RLock: the server runs in its own thread while a test
reads the state from another).

Other test suites read the canonical state as the API serves it through `event_dto`,
`all_event_ids` and `list_dtos`; those return exactly what the endpoints render.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

from simplymeet.emulator.clock import StoreClock
from simplymeet.emulator.columns import EventColumns
from simplymeet.emulator.entities import (
    CancellationPolicy,
    EventOverlay,
    EventType,
    Host,
    Poll,
    SingleUseLink,
)
from simplymeet.emulator.event_index import EventIndex
from simplymeet.emulator.identifiers import event_uuid
from simplymeet.emulator.page_cache import PageCache
from simplymeet.emulator.readings import ReadingSpec
from simplymeet.emulator.render import Renderer, iso, loads
from simplymeet.emulator.seed import (
    anchor_epoch,
    default_anchor,
    generate_events,
    generate_reference,
)

LIST_KINDS: tuple[str, ...] = (
    "event_types",
    "users",
    "current_user",
    "polls",
    "event_type_tags",
    "event_type_tag_links",
    "user_event_type_tags",
    "acl",
    "integrations",
    "cancellation_policies",
    "availability_rules",
    "single_use_links",
)
"""What `Store.list_dtos` can list."""

RequestTimes = Literal["utc", "event_type", "host"]
"""How a write reads request datetimes (`Store.request_times`)."""

PutMode = Literal["merge", "replace", "strict"]
"""How a PUT reads a body that leaves out a field its request DTO lists (the reference does not
say): `merge` keeps the current value (the default), `replace` sets it to null (the resource is
replaced by the body), `strict` refuses the body with a 422 naming each missing field (a POST
body too: a new record has no value to keep)."""

FIRST_NEW_SUB_ID = 10**12
"""Ids of participants, reschedulings, cancellations and answers created through the API start
here, far above the seeded ones (event id × 16 + k)."""


class Store:
    """All the state of one emulated organization."""

    def __init__(
        self,
        *,
        seed: int = 1,
        events: int = 2000,
        anchor: dt.date | None = None,
        paid: bool = True,
        page_cache: bool = True,
        put_mode: PutMode = "merge",
    ) -> None:
        self.seed = seed
        self.put_mode: PutMode = put_mode
        """How PUT bodies that leave fields out are read (`PutMode`); may change at any time."""
        self.anchor = anchor or default_anchor()
        self.anchor_s = anchor_epoch(self.anchor)
        self.paid = paid
        self.lock = threading.RLock()
        self.ref = generate_reference(seed, self.anchor_s)
        self.cols = (
            EventColumns.from_arrays(generate_events(seed, events, self.anchor_s, self.ref))
            if events
            else EventColumns()
        )
        self.overlays: dict[int, EventOverlay] = {}
        latest = int(self.cols.col("updated_us").max()) // 1_000_000 if self.cols.n else 0
        self.clock = StoreClock(floor_s=max(self.anchor_s, latest) + 1)
        self.generation = 0
        """Bumped by every change to events or to what event filters read (tags)."""
        self.ref_generation = 0
        """Bumped by every change to data rendered inside events (users, event types)."""
        self.sorted_as_null: frozenset[int] = frozenset()
        """Events the list ordered by `updatedAt` sorts as NULL (the `null_updated` anomaly)."""
        self.nulls_sort_high = False
        """NULL sorts above every stamp (PostgreSQL's default), not below (SQLite's, MySQL's)."""
        self.rng = random.Random(seed * 31 + 7)
        """Source of codes and UUIDs of things created through the API."""
        self.single_use_links: list[SingleUseLink] = []
        self.deleted_event_types: set[int] = set()
        self.removed_hosts: set[int] = set()
        """Users removed from the organization (`remove_host`): unlisted by the user list."""
        """Event types deleted (`delete_event_type`): unlisted, and 404 where named by id."""
        self.removed_policies: set[str] = set()
        """Cancellation policies removed (`remove_policy`): their GET answers 404."""
        self._next_sub_id = FIRST_NEW_SUB_ID
        self._round_robin_turn: dict[int, int] = {}
        self.render = Renderer(self)
        self.index = EventIndex(self)
        self.pages = PageCache(self, enabled=page_cache)
        self.availability_clock: Callable[[], float] = time.time
        """Epoch seconds that availability is answered for (a slot that has begun is not
        offered): the wall clock; a test that syncs twice fixes it so both read the same."""
        self.request_times: RequestTimes = "utc"
        """How writes read a request's `Y-m-d H:i:s` (create scheduledAt, reschedule start/end):
        as UTC, as the reference's DTOs are read here, or as wall time in the event type's or
        the host's timezone, as another server may (the reference gives no timezone)."""
        self.readings = ReadingSpec()
        """How the loosely specified answers are given (see `readings.py`)."""

    # --- lookups -----------------------------------------------------------------------------

    def event_type_by_id(self, event_type_id: int) -> EventType | None:
        """An event type, or None."""
        types = self.ref.event_types
        if 1 <= event_type_id <= len(types) and types[event_type_id - 1].id == event_type_id:
            return types[event_type_id - 1]
        return next((t for t in types if t.id == event_type_id), None)

    def host_by_id(self, user_id: int) -> Host | None:
        """A user (host), or None."""
        hosts = self.ref.hosts
        return hosts[user_id - 1] if 1 <= user_id <= len(hosts) else None

    def poll_by_id(self, poll_id: int) -> Poll | None:
        """A poll, or None (deleted polls are gone)."""
        return next((p for p in self.ref.polls if p.id == poll_id), None)

    def current_user(self) -> Host:
        """The user the API key belongs to (the organization's owner)."""
        return self.ref.hosts[self.ref.current_user_id - 1]

    def policy(self, kind: str) -> CancellationPolicy:
        """The cancellation policy in force now ('organization' or 'user')."""
        return self.ref.policies[kind][-1]

    def delete_event_type(self, event_type_id: int) -> None:
        """Delete an event type, as the organization's admin may in the app (the reference has
        no endpoint for it): it leaves the event type list, and its get, availability and tags
        answer 404. Bookings already made keep naming it, as a server keeps their history."""
        with self.lock:
            if self.event_type_by_id(event_type_id) is None:
                raise KeyError(f"no event type {event_type_id}")
            self.deleted_event_types.add(event_type_id)
            self.changed(rendered=True)

    def remove_host(self, user_id: int) -> None:
        """Remove a user from the organization, as its admin may in the app (the reference has
        no endpoint for it): they leave the user list, and their bookings keep embedding them,
        as a server keeps their history."""
        with self.lock:
            if not any(h.id == user_id for h in self.ref.hosts):
                raise KeyError(f"no user {user_id}")
            self.removed_hosts.add(user_id)

    def restore_event(self, event_id: int) -> None:
        """Serve a deleted event again, its `updatedAt` as before its delete, as a server may
        that restores a booking from its trash or commits late one whose id it reserved below
        the newest (the reference has no endpoint for either): listed, counted and served by
        id again, where no cursor on `updatedAt` and no read above the newest id finds it."""
        with self.lock:
            if not 1 <= event_id <= self.cols.n or not self.cols.col("deleted")[event_id - 1]:
                raise KeyError(f"no deleted event {event_id}")
            self.cols.set("deleted", event_id, False)
            self.generation += 1

    def remove_policy(self, kind: str) -> None:
        """Remove the 'organization' or 'user' cancellation policy, as the app may (the
        reference has no endpoint for it): its GET answers 404 ("no cancellation policy")
        until a PUT sets one again. The versions it had stay in `list_dtos`."""
        with self.lock:
            if kind not in self.ref.policies:
                raise KeyError(f"no {kind!r} cancellation policy")
            self.removed_policies.add(kind)

    def has_event(self, event_id: int) -> bool:
        """True for an event that exists and is not deleted."""
        return self.cols.has(event_id)

    def invitee_of(self, event_id: int) -> tuple[str, str]:
        """(fullName, email) of an event's invitee, as served."""
        overlay = self.overlays.get(event_id)
        if self.cols.col("created_by_api")[event_id - 1]:
            invitee = overlay.invitee if overlay and overlay.invitee else {}
            return invitee.get("fullName") or "", invitee.get("email") or ""
        name, email = self.render.invitee_name_email(event_id)
        if overlay and overlay.invitee:
            name = overlay.invitee.get("fullName", name)
            email = overlay.invitee.get("email", email)
        return name or "", email or ""

    def scalar_field(self, field: str, event_id: int) -> Any:
        """One scalar field of an event as served (used to order by the text fields)."""
        if field == "notes":
            return self.render.notes(event_id)
        if field in ("location", "onlineEventId"):
            location, online_id = self.render.location_of(event_id)
            return location if field == "location" else online_id
        if field == "details":
            return None
        return loads(self.render.event_json(event_id)).get(field)

    def overlay(self, event_id: int) -> EventOverlay:
        """The overlay of an event, created on first write."""
        found = self.overlays.get(event_id)
        if found is None:
            found = self.overlays[event_id] = EventOverlay()
        return found

    def next_sub_id(self) -> int:
        """A fresh id for a participant, rescheduling, cancellation or answer."""
        self._next_sub_id += 1
        return self._next_sub_id

    def round_robin_pick(self, et: EventType) -> int:
        """The next member of a round-robin event type, in turn."""
        turn = self._round_robin_turn.get(et.id, 0)
        self._round_robin_turn[et.id] = turn + 1
        return et.user_ids[turn % len(et.user_ids)]

    # --- writes bookkeeping ------------------------------------------------------------------

    def touch(self, event_id: int) -> int:
        """Record a write to an event: a new updatedAt (µs) and a new generation."""
        now = self.clock.now_us()
        self.cols.set("updated_us", event_id, now)
        self.generation += 1
        return now

    def changed(self, *, events: bool = True, rendered: bool = False) -> None:
        """Record a write that is not to one event's columns (tags, event types, users)."""
        if events:
            self.generation += 1
        if rendered:
            self.ref_generation += 1

    # --- canonical state for other test suites ------------------------------------------------

    @property
    def event_count(self) -> int:
        """Number of live (not deleted) events."""
        with self.lock:
            return int(self.cols.n - self.cols.col("deleted").sum())

    def event_dto(self, event_id: int) -> dict[str, Any] | None:
        """The EventDTO the API serves for an id, or None when unknown or deleted."""
        with self.lock:
            if not self.has_event(event_id):
                return None
            return loads(self.render.event_json(event_id))

    def event_json(self, event_id: int) -> str | None:
        """The EventDTO as the exact JSON text the API serves."""
        with self.lock:
            return self.render.event_json(event_id) if self.has_event(event_id) else None

    def all_event_ids(self, include_deleted: bool = False) -> list[int]:
        """Every event id, ascending; deleted ones only when asked."""
        with self.lock:
            deleted = self.cols.col("deleted")
            rows = range(self.cols.n) if include_deleted else (~deleted).nonzero()[0]
            return [int(r) + 1 for r in rows]

    def deleted_event_ids(self) -> list[int]:
        """Ids of events deleted through the API or by drift."""
        with self.lock:
            return [int(r) + 1 for r in self.cols.col("deleted").nonzero()[0]]

    def list_dtos(self, kind: str) -> list[dict[str, Any]]:
        """Reference data as the API serves it; `kind` is one of LIST_KINDS.

        `event_type_tag_links` gives [{eventTypeId, tags: [EventTypeTagDTO]}],
        `cancellation_policies` every version of both policies (with `validFrom`),
        `availability_rules` [{eventTypeId, rules: [AvailabilityRuleDTO]}].
        """
        with self.lock:
            return self._list_dtos(kind)

    def _list_dtos(self, kind: str) -> list[dict[str, Any]]:
        ref, render = self.ref, self.render
        if kind == "event_types":
            return [
                render.event_type(et)
                for et in ref.event_types
                if et.id not in self.deleted_event_types
            ]
        if kind == "users":
            return [render.user(h) for h in ref.hosts if h.id not in self.removed_hosts]
        if kind == "current_user":
            return [render.user(self.current_user())]
        if kind == "polls":
            return [render.poll(p) for p in ref.polls]
        if kind == "event_type_tags":
            return [tag_dto(t) for t in ref.event_type_tags]
        if kind == "event_type_tag_links":
            return [
                {"eventTypeId": et.id, "tags": self.tags_of_event_type(et.id)}
                for et in ref.event_types
                if et.id not in self.deleted_event_types
            ]
        if kind == "user_event_type_tags":
            return [self.user_tag_dto(t) for t in ref.user_event_type_tags]
        if kind == "acl":
            return [dict(rule) for rule in ref.acl]
        if kind == "integrations":
            return [json.loads(json.dumps(ref.integrations))]
        if kind == "cancellation_policies":
            return [
                {**render.policy(p), "validFrom": iso(p.valid_from)}
                for kind_ in ("organization", "user")
                for p in ref.policies[kind_]
            ]
        if kind == "availability_rules":
            return [
                {"eventTypeId": et_id, "rules": [rule_dto(r) for r in rules]}
                for et_id, rules in sorted(ref.availability.items())
            ]
        if kind == "single_use_links":
            return [
                {"code": link.code, "url": link.url, "eventTypeId": link.event_type_id}
                for link in self.single_use_links
            ]
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(LIST_KINDS)}")

    def tags_of_event_type(self, event_type_id: int) -> list[dict[str, Any]]:
        """EventTypeTagDTOs on one event type, by position."""
        linked = self.ref.event_type_tag_links.get(event_type_id, set())
        if self.readings.type_tags == "user":
            mine = sorted(
                (t for t in self.ref.user_event_type_tags if t.id in linked),
                key=lambda t: (t.position is None, t.position or 0, t.id),
            )
            return [{**tag_dto_fields(t), "enabled": True} for t in mine]
        tags = sorted(
            (t for t in self.ref.event_type_tags if t.id in linked), key=lambda t: t.position
        )
        return [tag_dto(t) for t in tags]

    def user_tag_dto(self, tag: Any) -> dict[str, Any]:
        return {
            "id": tag.id,
            "name": tag.name,
            "color": tag.color,
            "position": tag.position,
            "user": self.render.user_dict(tag.user_id),
        }

    def event_uuid(self, event_id: int) -> str:
        """The UUID of an event (a function of seed and id)."""
        return event_uuid(self.seed, event_id)


def tag_dto(tag: Any) -> dict[str, Any]:
    """An EventTypeTagDTO."""
    return {**tag_dto_fields(tag), "enabled": tag.enabled}


def tag_dto_fields(tag: Any) -> dict[str, Any]:
    """The fields an EventTypeTagDTO shares with a UserEventTypeTagDTO."""
    return {"id": tag.id, "name": tag.name, "color": tag.color, "position": tag.position}


def rule_dto(rule: Any) -> dict[str, Any]:
    """An AvailabilityRuleDTO."""
    return {
        "type": rule.type,
        "hourIntervals": [{"start": s, "end": e} for s, e in rule.intervals],
        "config": dict(rule.config),
    }
