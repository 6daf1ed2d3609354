"""Other readings of the reference: answers a server written from the same text may give.

The reference leaves several answers loosely specified (no response shape for the ACL,
integration and availability reads, no word on what an empty or a missing policy returns, no
list of `orderField` values). A `ReadingSpec` makes the emulator answer the other way; built in
Python or parsed from a string such as

    integrations=array,acl=by_resource,availability=by_date,policies=404,empty_tags=404,
    disabled_availability=400,order_fields=scheduledAt|createdAt,forbidden=acl_list

- `integrations=array`: the integration list as one JSON array of every integration (`[]`
  when there are none) instead of `IntegrationListDTO`'s `{user, organization}`;
  `integrations=wrapped`: as a one-item array holding that `IntegrationListDTO` ("Returns
  list of integrations");
- `acl=by_resource`: the ACL rules as an object keyed by resource, each value the rule
  without its `resource`;
- `availability=by_date`: an event type's availability as an object keyed by date;
  `availability=paged`: as `{meta, items}` pages of at most two days, asked for or not;
  `availability=capped`: a plain array of at most two days from `startDate`, whatever
  `endDate` asks (a server with a range limit of its own that does not say so);
- `availability_hours=unpadded`: an availability hour's `start` spelled without a leading
  zero (`9:00`, PHP's `G:i`; EventTypeAvailabilityHoursDTO gives it no format);
- `availability_params=required`: the availability of a flexible event type (one with
  `eventTypeDurations`) asked without `durationId` answers 422 (GetEventTypeAvailabilityRequestDTO
  lists it, and does not call it optional);
- `policies=404`: both cancellation policies answer 404 ("no cancellation policy");
- `empty_tags=404`: the tag list of an event type without tags answers 404, and so do the
  organization's poll and user tag lists when they hold none;
- `disabled_availability=400` (or `404`): the availability of a disabled event type
  (`isEnabled` false) answers that status;
- `order_fields`: the only `orderField` values the event list accepts; any other answers 400;
- `ignored_order=id`: the event list ignores those `orderField` values and their direction,
  answering in its default order (by id, ascending) as if none was asked;
- `default_order=id_desc`: the event list's own order, asked for none or for one it ignores,
  is newest id first (a newest-bookings-first listing) instead of oldest id first;
- `ignored_direction=asked`: an `orderField` the list ignores (`ignored_order`) keeps the
  direction asked: the list sorted by id in that direction (a server that checks the field
  against a list of its own and falls back to its key, the direction as given);
- `forbidden=acl_list|integration_list`: endpoints (contract names) closed to the key: 403,
  while every other endpoint accepts it (a permission the key's user lacks);
- `cancel_method=put` (or `post`): an event's cancel served on that method only, the other
  answering 405 (the method table says put, the example request posts; default `both`);
- `wrong_method=404`: a method a known path does not serve answers 404, as a router matching
  method and path together does, instead of 405 with `Allow`;
- `poll_refs=ids`: a poll's `user` and `eventType` served as their ids (PollDTO types them
  `user` and `eventType`, not UserDTO and EventTypeDTO);
- `poll_slot_ids=per_poll`: a poll's availability slots numbered 1, 2, … within each poll
  (a vote names its poll by uuid, so slot ids need not be unique across polls), in what is
  served and in what a vote names; `poll_slot_ids=poll`: every slot's id is its poll's id
  (PollAvailabilityDTO's `id` is described "Poll ID"), so a vote names its slot by position
  (1, 2, …);
- `policy_version=constant` (or `absent`): a cancellation policy served with `version`
  always 1, or without it (the reference types it an int and says no more: nothing says it
  counts the policy's changes);
- `meta=count_only`: a `{meta, items}` page's meta holds `itemsCount` alone (MetaDataDTO's
  other fields left out: the page size and the page count are the client's to work out);
  `meta=last_own_length`: the last page states its own length as `itemsPerPage` (100, 100,
  then 37 for 237 items); `meta=no_page_size`: every meta leaves `itemsPerPage` out (the
  page size is the first page's length); `meta=none`: a page is `{items}` alone, no meta
  at all (a server whose serializer leaves out what it does not know; the client then
  knows neither the count nor the page size, and a page shorter than `onPage` may be the
  server's own page size, with more to come);
- `tie_order=random`: events listed by `updatedAt` with equal served stamps (the same second)
  in a new random order on every request, as SQL gives rows that tie under `ORDER BY ...
  LIMIT/OFFSET` (the emulator's own order breaks ties by id); pages are then never kept;
- `invitee_filter=case_sensitive`: the event list's `filter[invitee]` ("email or name")
  matched case for case, and the e-mail of a booking made through the API kept in lower case
  (a `LIKE` on a case-sensitive collation): `Ana.Test@Example.com` finds nothing;
- `list_writes=partial`: a cancel, no-show or delete of a list of ids acts on the first half
  of them and answers success as for all (nothing in the reference says a list write is
  all or nothing); `list_writes=existing`: it acts on the ids that exist and answers
  success, leaving out, without a word, ids deleted or never there;
- `refusals=200`: a write whose success answer the reference says is empty, refused, answers
  200 with `{"success": false, "message": ...}` instead of a 4xx;
- `past_last_page=400` (or `404`, `422`): a list (a plain array, or the events) asked for a
  page past its last answers that status instead of an empty page (a server checking `page`
  against its own count);
- `multiple_starts=first_only`: a booking of several starts (`multipleScheduledAt`) books
  only the first and answers 200 with it, as a list of one (as a server that does not
  implement "Allow clients to book multiple event slots" on the API might);
- `canceled_listed=when_asked`: the event list leaves canceled events out (of its items and
  its count) unless `filter[state]` asks for a state, while a GET of one serves it (the
  reference's list filters by state and says nothing of what it lists without one);
- `deleted_events=410`: an event that was deleted answers 410 Gone wherever it is named by id
  (a GET, a write), where the emulator answers 404 as for an id it never had;
  `deleted_events=soft`: a GET of a deleted event answers 200 with it, its `state` "deleted"
  (a soft delete: the lists leave it out, the reference says nothing of what a GET answers);
  `deleted_events=listed`: a delete is an update to the state "deleted", kept in the event
  list and its count, and served so by a GET (a soft delete a server still lists);
- `event_type_list=summary`: the event type list serves SimpleEventTypeDTOs (the reference
  defines that summary and says nothing of what the list returns, "Retour: -"), while
  `GET /event-type/{id}` still serves the whole EventTypeDTO;
- `poll_list=summary`: the poll list serves each poll without its `availability` (its slots
  and their votes), while `GET /poll/{id}` serves the whole PollDTO (a list that leaves out
  what is costly to join, as the event type list's summary does);
- `type_tags=user`: the tags on an event type are the user's event type tags (the only tags
  the API can create): `tagId` names a user event type tag, an event type's tag list serves
  the user tags linked to it (as EventTypeTagDTOs, enabled), so a user tag renamed is renamed
  there too and one deleted leaves every event type;
- `flexible_duration=null`: a flexible event type (one with `eventTypeDurations`) served with
  `duration: null` (it has no length of its own; its durations are the choices);
- `paging_params=400`: a plain-array list the reference does not page (users, user tags, an
  event type's tags, the ACL rules) answers 400 when asked with `page` or `onPage` (a server
  refusing parameters it does not know).

Like the anomalies, a spec can be swapped at any time (`RunningEmulator.set_readings`); the
default (`ReadingSpec()`) is the emulator's own reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simplymeet.contract.endpoints import Endpoint
from simplymeet.emulator import spec_text

_CHOICES: dict[str, tuple[str, ...]] = {
    "integrations": ("object", "array", "wrapped"),
    "acl": ("list", "by_resource"),
    "availability": ("list", "by_date", "paged", "capped"),
    "policies": ("200", "404"),
    "empty_tags": ("200", "404"),
    "disabled_availability": ("200", "400", "404"),
    "cancel_method": ("both", "put", "post"),
    "wrong_method": ("405", "404"),
    "poll_refs": ("objects", "ids"),
    "poll_slot_ids": ("global", "per_poll", "poll"),
    "policy_version": ("counted", "constant", "absent"),
    "meta": ("full", "count_only", "last_own_length", "no_page_size", "none"),
    "tie_order": ("by_id", "random"),
    "invitee_filter": ("any_case", "case_sensitive"),
    "list_writes": ("whole", "partial", "existing"),
    "refusals": ("4xx", "200"),
    "past_last_page": ("empty", "400", "404", "422"),
    "paging_params": ("ignored", "400"),
    "deleted_events": ("404", "410", "soft", "listed"),
    "canceled_listed": ("always", "when_asked"),
    "multiple_starts": ("all", "first_only"),
    "availability_hours": ("padded", "unpadded"),
    "availability_params": ("optional", "required"),
    "default_order": ("id_asc", "id_desc"),
    "ignored_direction": ("default", "asked"),
    "event_type_list": ("whole", "summary"),
    "poll_list": ("whole", "summary"),
    "type_tags": ("own", "user"),
    "flexible_duration": ("own", "null"),
}


@dataclass(frozen=True)
class ReadingSpec:
    """Which loosely specified answers to give the other way. See the module docstring."""

    integrations: str = "object"
    acl: str = "list"
    availability: str = "list"
    policies: str = "200"
    empty_tags: str = "200"
    disabled_availability: str = "200"
    cancel_method: str = "both"
    wrong_method: str = "405"
    poll_refs: str = "objects"
    poll_slot_ids: str = "global"
    policy_version: str = "counted"
    meta: str = "full"
    tie_order: str = "by_id"
    invitee_filter: str = "any_case"
    list_writes: str = "whole"
    refusals: str = "4xx"
    past_last_page: str = "empty"
    paging_params: str = "ignored"
    deleted_events: str = "404"
    canceled_listed: str = "always"
    multiple_starts: str = "all"
    availability_hours: str = "padded"
    availability_params: str = "optional"
    default_order: str = "id_asc"
    ignored_direction: str = "default"
    event_type_list: str = "whole"
    poll_list: str = "whole"
    type_tags: str = "own"
    flexible_duration: str = "own"
    order_fields: frozenset[str] | None = None
    """None: every field the emulator can order by."""
    ignored_order: frozenset[str] = frozenset()
    """`orderField` values the event list ignores, with their direction: the default order."""
    forbidden: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        from simplymeet.contract.endpoints import ENDPOINTS

        unknown = sorted(self.forbidden - set(ENDPOINTS))
        if unknown:
            raise ValueError(f"unknown endpoint name(s) in forbidden: {', '.join(unknown)}")
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"reading {name}={value!r}; choose from {', '.join(allowed)}")

    def methods(self, endpoint: Endpoint) -> list[str]:
        """The methods `endpoint` is served on under this reading."""
        if endpoint.also is None or self.cancel_method == "both":
            return [m for m in (endpoint.method, endpoint.also) if m]
        return [self.cancel_method.upper()]

    def served_meta(self, meta: dict[str, int], length: int | None = None) -> dict[str, int] | None:
        """A page's MetaDataDTO as served under this reading (`length`: the page's items);
        None: the page is served without one."""
        if self.meta == "none":
            return None
        if self.meta == "count_only":
            return {"itemsCount": meta["itemsCount"]}
        if self.meta == "no_page_size":
            return {k: v for k, v in meta.items() if k != "itemsPerPage"}
        last = meta.get("currentPage") == meta.get("pagesCount")
        if self.meta == "last_own_length" and last and length:
            return {**meta, "itemsPerPage": length}
        return meta

    @classmethod
    def parse(cls, text: str) -> ReadingSpec:
        """Build a spec from `key=value,…` (`order_fields` and `forbidden` `|`-separated)."""
        values: dict[str, Any] = {}
        for key, raw in spec_text.pairs(text, "reading"):
            if key in ("order_fields", "forbidden", "ignored_order"):
                values[key] = frozenset(spec_text.items(raw))
            elif key in _CHOICES:
                values[key] = raw
            else:
                known = ", ".join([*_CHOICES, "order_fields", "forbidden", "ignored_order"])
                raise ValueError(f"unknown reading {key!r}; known: {known}")
        return cls(**values)

    @classmethod
    def coerce(cls, value: ReadingSpec | str | None) -> ReadingSpec:
        """Accept a spec, its string form, or None (the emulator's own reading)."""
        if isinstance(value, ReadingSpec):
            return value
        return cls.parse(value) if value and value.strip() else cls()

    def __str__(self) -> str:
        return spec_text.render(self, "default")
