"""Handlers of everything but events: event types, tags, users, polls, policies, links, ACL.

Lists of event types answer `{meta, items}`; the other lists are plain JSON arrays (see
docs/api-notes.md) that honor page/onPage/orderField only when a request gives them.
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any

from pydantic import BaseModel

from simplymeet.contract import dtos
from simplymeet.contract.dates import parse_api_datetime
from simplymeet.contract.endpoints import DEFAULT_BASE_URL
from simplymeet.emulator.api_errors import ApiError, NotFound, Unprocessable
from simplymeet.emulator.app import Call, handles, put_value
from simplymeet.emulator.availability import event_type_availability
from simplymeet.emulator.entities import (
    AvailabilityRule,
    CancellationPolicy,
    EventType,
    Poll,
    PollResult,
    PollSlot,
    SingleUseLink,
    UserEventTypeTag,
)
from simplymeet.emulator.identifiers import seeded_uuid
from simplymeet.emulator.listing import Paging, event_type_filter, parse_paging
from simplymeet.emulator.render_batch import page_body
from simplymeet.emulator.seed import WEEKDAYS

# --- helpers ---------------------------------------------------------------------------------


def _sort_key(field: str) -> Any:
    def key(item: dict[str, Any]) -> tuple:
        value = item.get(field)
        if isinstance(value, dict):
            value = value.get("id")
        return (value is not None, value if value is not None else 0)

    return key


def _order_and_page(
    items: list[dict[str, Any]], paging: Paging, *, always_page: bool
) -> list[dict]:
    """Order by the requested field (ties by id, same direction), then slice the page."""
    items = sorted(items, key=lambda i: i.get("id") or 0, reverse=paging.descending)
    if paging.order_field:
        items = sorted(items, key=_sort_key(paging.order_field), reverse=paging.descending)
    if always_page or paging.explicit:
        start, stop = paging.bounds(len(items))
        items = items[start:stop]
    return items


def _scalar_fields(dto: type[BaseModel]) -> set[str]:
    """Fields of a response DTO that hold one value (what a list can be ordered by)."""
    nested = ("DTO", "list[")
    return {
        name
        for name, f in dto.model_fields.items()
        if not any(marker in str(f.annotation) for marker in nested)
    } | {"user", "eventType"} & set(dto.model_fields)


def _plain_list(call: Call, items: list[dict[str, Any]], dto: type) -> list[dict[str, Any]]:
    readings = call.store.readings
    query = call.endpoint.query
    paged = query is not None and "onPage" in query.model_fields
    if not paged and readings.paging_params == "400" and {"page", "onPage"} & set(call.query):
        raise ApiError(400, f"unknown query parameter(s) for {call.endpoint.path}: page, onPage")
    paging, _ = parse_paging(call.query, dtos.GetPollListRequestDTO, _scalar_fields(dto))
    served = _order_and_page(items, paging, always_page=False)
    if not served and paging.explicit and paging.page > 1 and readings.past_last_page != "empty":
        raise ApiError(int(readings.past_last_page), f"page {paging.page} is out of range")
    return served


def _event_type(call: Call, key: str = "id") -> EventType:
    et = call.store.event_type_by_id(call.params[key])
    if et is None or et.id in call.store.deleted_event_types:
        raise NotFound(f"event type {call.params[key]}")
    return et


# --- event types -----------------------------------------------------------------------------


@handles("event_type_list")
def event_type_list(call: Call) -> dict[str, Any]:
    paging, request = parse_paging(
        call.query, dtos.GetEventTypeListRequestDTO, _scalar_fields(dtos.EventTypeDTO)
    )
    flt = event_type_filter(request)
    store = call.store
    me = store.current_user().id
    chosen = []
    for et in store.ref.event_types:
        if et.id in store.deleted_event_types:
            continue
        if flt.ids is not None and et.id not in flt.ids:
            continue
        if flt.type is not None and et.kind != flt.type:
            continue
        if flt.for_current_user and me not in et.user_ids and et.owner_id != me:
            continue
        # The API key's user administers the organization: it may edit every round-robin type.
        if flt.manage_round_robin and et.kind != "round-robin":
            continue
        chosen.append(store.render.event_type(et))
    items = _order_and_page(chosen, paging, always_page=True)
    if store.readings.event_type_list == "summary":
        items = [_summary(item) for item in items]
    return page_body(store.readings.served_meta(paging.meta(len(chosen))), items)


def _summary(event_type: dict[str, Any]) -> dict[str, Any]:
    """The SimpleEventTypeDTO of an EventTypeDTO."""
    owner = event_type.get("user") or {}
    return {
        "id": event_type["id"],
        "slug": event_type["slug"],
        "name": event_type["name"],
        "color": event_type["color"],
        "locationType": event_type["locationType"],
        "timezone": event_type["timezone"],
        "userFullName": owner.get("fullName"),
        "localized": event_type["isLocalized"],
        "directUrl": f"{DEFAULT_BASE_URL}/{owner.get('slug') or 'user'}/{event_type['slug']}",
    }


@handles("event_type_get")
def event_type_get(call: Call) -> dict[str, Any]:
    return call.store.render.event_type(_event_type(call))


@handles("event_type_availability")
def event_type_availability_get(call: Call) -> list[dict[str, Any]] | dict[str, Any]:
    et = _event_type(call)
    q = call.query
    reading = call.store.readings
    if not et.is_enabled and reading.disabled_availability != "200":
        raise ApiError(int(reading.disabled_availability), f"event type {et.id} is disabled")

    def opt_int(name: str) -> int | None:
        value = q.get(name)
        if value in (None, ""):
            return None
        try:
            return int(value if not isinstance(value, list) else value[-1])
        except ValueError:
            raise Unprocessable.one(name, f"expected an integer, got {value!r}") from None

    def opt_str(name: str) -> str | None:
        value = q.get(name)
        return value[-1] if isinstance(value, list) else value

    days = event_type_availability(
        call.store,
        et,
        start_date=opt_str("startDate"),
        end_date=opt_str("endDate"),
        timezone=opt_str("timezone"),
        duration_id=opt_int("durationId"),
        user_id=opt_int("userId"),
    )
    if reading.availability == "by_date":
        return {day["date"]: day for day in days}
    if reading.availability == "paged":
        # Pages of at most two days whatever is asked, and said so in the meta.
        page = opt_int("page") or 1
        on_page = min(opt_int("onPage") or PAGED_AVAILABILITY_DAYS, PAGED_AVAILABILITY_DAYS)
        meta = {
            "pagesCount": max(1, -(-len(days) // on_page)),
            "itemsPerPage": on_page,
            "itemsCount": len(days),
            "currentPage": page,
        }
        return {"meta": meta, "items": days[(page - 1) * on_page : page * on_page]}
    if reading.availability == "capped":
        return days[:PAGED_AVAILABILITY_DAYS]
    return days


PAGED_AVAILABILITY_DAYS = 2
"""The page size of `readings=availability=paged`, and the days `availability=capped` serves."""


@handles("availability_rule_save")
def availability_rule_save(call: Call) -> None:
    """Replace the rules of the given kind (weekday, date, or both) on each event type."""
    request: dtos.AvailabilityRuleRequestDTO = call.body
    store = call.store
    errors: dict[str, list[str]] = {}
    for k, et_id in enumerate(request.eventTypeIds):
        if store.event_type_by_id(et_id) is None:
            errors[f"eventTypeIds.{k}"] = [f"unknown event type {et_id}"]
    if request.availabilityType not in (None, "weekday", "date"):
        errors["availabilityType"] = ["must be 'weekday' or 'date'"]
    rules: list[AvailabilityRule] = []
    for k, rule in enumerate(request.availabilityRules):
        parsed = _rule(rule, f"availabilityRules.{k}", errors)
        if parsed is not None:
            rules.append(parsed)
    if errors:
        raise Unprocessable(errors)
    kinds = {request.availabilityType} if request.availabilityType else {"weekday", "date"}
    for et_id in request.eventTypeIds:
        kept = [r for r in store.ref.availability.get(et_id, []) if r.type not in kinds]
        store.ref.availability[et_id] = kept + [r for r in rules if r.type in kinds]


def _rule(
    rule: dtos.RequestAvailabilityRuleDTO, where: str, errors: dict[str, list[str]]
) -> AvailabilityRule | None:
    config = {str(k): str(v) for k, v in (rule.config or {}).items()}
    kind = rule.type or ("date" if "date" in config else "weekday")
    if kind == "weekday":
        if config.get("weekday", "").lower() not in WEEKDAYS:
            errors[f"{where}.config.weekday"] = [f"must be one of {', '.join(WEEKDAYS)}"]
            return None
        config["weekday"] = config["weekday"].lower()
    elif kind == "date":
        try:
            dt.date.fromisoformat(config.get("date", ""))
        except ValueError:
            errors[f"{where}.config.date"] = ["must be a Y-m-d date"]
            return None
    else:
        errors[f"{where}.type"] = ["must be 'weekday' or 'date'"]
        return None
    intervals = []
    for k, interval in enumerate(rule.hourIntervals or []):
        start, end = interval.start or "", interval.end or ""
        if not (_hhmm_ok(start) and _hhmm_ok(end)) or end <= start:
            errors[f"{where}.hourIntervals.{k}"] = ["needs start and end as HH:MM, start < end"]
            return None
        intervals.append((start, end))
    return AvailabilityRule(kind, intervals, config)


def _hhmm_ok(text: str) -> bool:
    if len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isdigit():
        return False
    return int(text[:2]) <= 24 and int(text[3:]) < 60 and text <= "24:00"


@handles("single_use_link_create")
def single_use_link_create(call: Call) -> dict[str, str]:
    store = call.store
    et = _event_type(call)
    owner = store.host_by_id(et.owner_id)
    alphabet = string.ascii_letters + string.digits
    code = "".join(store.rng.choice(alphabet) for _ in range(16))
    url = f"{DEFAULT_BASE_URL}/{owner.slug if owner else 'user'}/{et.slug}?code={code}"
    store.single_use_links.append(SingleUseLink(code, url, et.id, store.clock.now_s()))
    return {"code": code, "url": url}


# --- event type tags -------------------------------------------------------------------------


def _tag_id(call: Call) -> int:
    tag_id = call.params["tagId"]
    user_tags = call.store.readings.type_tags == "user"
    tags = call.store.ref.user_event_type_tags if user_tags else call.store.ref.event_type_tags
    if not any(t.id == tag_id for t in tags):
        raise NotFound(f"event type tag {tag_id}")
    return tag_id


@handles("event_type_tag_list")
def event_type_tag_list(call: Call) -> list[dict[str, Any]]:
    et = _event_type(call, "eventTypeId")
    tags = call.store.tags_of_event_type(et.id)
    if not tags and call.store.readings.empty_tags == "404":
        raise NotFound(f"tags of event type {et.id}")
    return _plain_list(call, tags, dtos.EventTypeTagDTO)


@handles("event_type_tag_add")
def event_type_tag_add(call: Call) -> None:
    et = _event_type(call, "eventTypeId")
    tag_id = _tag_id(call)
    call.store.ref.event_type_tag_links.setdefault(et.id, set()).add(tag_id)
    call.store.changed(events=True)  # the organizationTagList filter reads the links


@handles("event_type_tag_remove")
def event_type_tag_remove(call: Call) -> None:
    et = _event_type(call, "eventTypeId")
    tag_id = _tag_id(call)
    links = call.store.ref.event_type_tag_links.setdefault(et.id, set())
    if tag_id not in links:
        raise NotFound(f"tag {tag_id} on event type {et.id}")
    links.discard(tag_id)
    call.store.changed(events=True)


# --- user event type tags --------------------------------------------------------------------


def _user_tag(call: Call) -> UserEventTypeTag:
    tag = next((t for t in call.store.ref.user_event_type_tags if t.id == call.params["id"]), None)
    if tag is None:
        raise NotFound(f"user event type tag {call.params['id']}")
    return tag


@handles("user_event_type_tag_list")
def user_event_type_tag_list(call: Call) -> list[dict[str, Any]]:
    items = [call.store.user_tag_dto(t) for t in call.store.ref.user_event_type_tags]
    if not items and call.store.readings.empty_tags == "404":
        raise NotFound("user event type tags")
    return _plain_list(call, items, dtos.UserEventTypeTagDTO)


@handles("user_event_type_tag_create")
def user_event_type_tag_create(call: Call) -> dict[str, Any]:
    request: dtos.UserEventTypeTagRequestDTO = call.body
    ref = call.store.ref
    ref.counters["user_event_type_tag"] += 1
    me = call.store.current_user().id
    mine = [t for t in ref.user_event_type_tags if t.user_id == me]
    tag = UserEventTypeTag(
        id=ref.counters["user_event_type_tag"],
        name=request.name,
        color=request.color or "#1e88e5",
        position=request.position if request.position is not None else len(mine) + 1,
        user_id=me,
    )
    ref.user_event_type_tags.append(tag)
    return call.store.user_tag_dto(tag)


@handles("user_event_type_tag_update")
def user_event_type_tag_update(call: Call) -> dict[str, Any]:
    request: dtos.UserEventTypeTagRequestDTO = call.body
    tag = _user_tag(call)
    tag.name = request.name
    tag.color = put_value(call.store, request, "color", tag.color)
    tag.position = put_value(call.store, request, "position", tag.position)
    return call.store.user_tag_dto(tag)


@handles("user_event_type_tag_delete")
def user_event_type_tag_delete(call: Call) -> None:
    tag = _user_tag(call)
    call.store.ref.user_event_type_tags.remove(tag)
    if call.store.readings.type_tags == "user":
        for links in call.store.ref.event_type_tag_links.values():
            links.discard(tag.id)
        call.store.changed(events=True)


# --- users, ACL, integrations ----------------------------------------------------------------


@handles("current_user_get")
def current_user_get(call: Call) -> dict[str, Any]:
    return call.store.render.user(call.store.current_user())


@handles("user_list")
def user_list(call: Call) -> list[dict[str, Any]]:
    removed = call.store.removed_hosts
    items = [call.store.render.user(h) for h in call.store.ref.hosts if h.id not in removed]
    return _plain_list(call, items, dtos.UserDTO)


@handles("acl_list")
def acl_list(call: Call) -> list[dict[str, Any]] | dict[str, Any]:
    rules = _plain_list(call, [dict(rule) for rule in call.store.ref.acl], dtos.AclRuleDTO)
    if call.store.readings.acl == "by_resource":
        return {rule.pop("resource"): rule for rule in rules}
    return rules


@handles("integration_list")
def integration_list(call: Call) -> dict[str, Any] | list[dict[str, Any]]:
    body = call.store.list_dtos("integrations")[0]
    if call.store.readings.integrations == "array":
        return [*body.get("user", []), *body.get("organization", [])]
    if call.store.readings.integrations == "wrapped":
        return [body]
    return body


# --- cancellation policies -------------------------------------------------------------------


def _policy_get(call: Call, kind: str) -> dict[str, Any]:
    if call.store.readings.policies == "404" or kind in call.store.removed_policies:
        raise NotFound(f"{kind} cancellation policy")
    return _served_policy(call, call.store.policy(kind))


def _served_policy(call: Call, policy: CancellationPolicy) -> dict[str, Any]:
    """A CancellationPolicyDTO as served: its version counted, always 1, or left out
    (`policy_version`)."""
    dto = call.store.render.policy(policy)
    if call.store.readings.policy_version == "constant":
        dto["version"] = 1
    elif call.store.readings.policy_version == "absent":
        del dto["version"]
    return dto


@handles("organization_cancellation_policy_get")
def organization_policy_get(call: Call) -> dict[str, Any]:
    return _policy_get(call, "organization")


@handles("user_cancellation_policy_get")
def user_policy_get(call: Call) -> dict[str, Any]:
    return _policy_get(call, "user")


def _update_policy(call: Call, kind: str) -> dict[str, Any]:
    """A new version: unset fields keep their value (see `put_value`), version + 1, in force
    from now."""
    request: dtos.CancellationPolicyRequestDTO = call.body
    store = call.store
    current = store.policy(kind)
    new = CancellationPolicy(
        type=kind,
        version=current.version + 1,
        enabled=put_value(store, request, "enabled", current.enabled),
        period=put_value(store, request, "period", current.period),
        label=put_value(store, request, "label", current.label),
        text=put_value(store, request, "text", current.text),
        overwrite_personal=put_value(
            store, request, "overwritePersonal", current.overwrite_personal
        ),
        valid_from=store.clock.now_s(),
    )
    store.ref.policies[kind].append(new)
    # A policy removed is set again by a PUT: from the last version's values, as the merge
    # of a PUT reads them.
    store.removed_policies.discard(kind)
    return _served_policy(call, new)


@handles("organization_cancellation_policy_update")
def organization_policy_update(call: Call) -> dict[str, Any]:
    return _update_policy(call, "organization")


@handles("user_cancellation_policy_update")
def user_policy_update(call: Call) -> dict[str, Any]:
    return _update_policy(call, "user")


# --- polls -----------------------------------------------------------------------------------


def _poll(call: Call) -> Poll:
    poll = call.store.poll_by_id(call.params["id"])
    if poll is None:
        raise NotFound(f"poll {call.params['id']}")
    return poll


@handles("poll_list")
def poll_list(call: Call) -> list[dict[str, Any]]:
    items = [_served_poll(call, p) for p in call.store.ref.polls]
    if not items and call.store.readings.empty_tags == "404":
        raise NotFound("polls")
    if call.store.readings.poll_list == "summary":
        items = [{k: v for k, v in item.items() if k != "availability"} for item in items]
    return _plain_list(call, items, dtos.PollDTO)


@handles("poll_get")
def poll_get(call: Call) -> dict[str, Any]:
    return _served_poll(call, _poll(call))


def _served_poll(call: Call, poll: Any) -> dict[str, Any]:
    """A PollDTO as served: its owner and event type as objects, or as ids (`poll_refs`);
    its slots numbered across polls, within the poll, or all given the poll's id
    (`poll_slot_ids`)."""
    dto = call.store.render.poll(poll)
    if call.store.readings.poll_refs == "ids":
        for key in ("user", "eventType"):
            if isinstance(dto.get(key), dict):
                dto[key] = dto[key].get("id")
    if call.store.readings.poll_slot_ids == "per_poll":
        for number, slot in enumerate(dto["availability"], start=1):
            slot["id"] = number
    elif call.store.readings.poll_slot_ids == "poll":
        for slot in dto["availability"]:
            slot["id"] = dto["id"]
    return dto


@handles("poll_delete")
def poll_delete(call: Call) -> None:
    call.store.ref.polls.remove(_poll(call))


@handles("poll_create")
def poll_create(call: Call) -> dict[str, Any]:
    request: dtos.PollRequestDTO = call.body
    store = call.store
    et = store.event_type_by_id(request.eventTypeId)
    errors: dict[str, list[str]] = {}
    if et is None:
        errors["eventTypeId"] = [f"unknown event type {request.eventTypeId}"]
    dates: list[int] = []
    for k, slot in enumerate(request.availability):
        try:
            parsed = parse_api_datetime(slot.date)
        except ValueError as exc:
            errors[f"availability.{k}.date"] = [str(exc)]
            continue
        dates.append(int(parsed.timestamp()) if parsed else 0)
    if errors or et is None:
        raise Unprocessable(errors)
    ref = store.ref
    slots = []
    for when in dates:
        ref.counters["poll_slot"] += 1
        slots.append(PollSlot(ref.counters["poll_slot"], when))
    ref.counters["poll"] += 1
    poll = Poll(
        id=ref.counters["poll"],
        uuid=seeded_uuid(store.rng),
        user_id=store.current_user().id,
        event_type_id=et.id,
        vote_visibility=bool(request.voteVisibility),
        comment_visibility=bool(request.commentVisibility),
        email_notification=bool(request.emailNotification),
        duration=request.duration or et.duration,
        name=request.name,
        created_at=store.clock.now_s(),
        slots=slots,
    )
    ref.polls.append(poll)
    return store.render.poll(poll)


@handles("poll_result_create")
def poll_result_create(call: Call) -> None:
    """Record a vote: the result is appended to each availability slot named."""
    request: dtos.PollResultRequestDTO = call.body
    poll = next((p for p in call.store.ref.polls if p.uuid == request.uuid), None)
    if poll is None:
        raise Unprocessable.one("uuid", f"no poll with uuid {request.uuid!r}")
    if call.store.readings.poll_slot_ids in ("per_poll", "poll"):
        slots = {number: s for number, s in enumerate(poll.slots, start=1)}
    else:
        slots = {s.id: s for s in poll.slots}
    unknown = {
        f"availability.{k}": [f"poll {poll.id} has no availability {slot_id}"]
        for k, slot_id in enumerate(request.availability)
        if slot_id not in slots
    }
    if unknown:
        raise Unprocessable(unknown)
    for slot_id in dict.fromkeys(request.availability):
        slots[slot_id].results.append(PollResult(request.email, request.comment))
