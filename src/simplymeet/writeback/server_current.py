"""The current values a PUT body is completed with, read from the server just before sending.

A plan completes each PUT body from the warehouse (`OperationSpec.complete`), so a dry run
needs no key and shows the whole body. But the warehouse is as old as its last sync: a value
changed upstream since (an invitee renamed, a policy's text, a tag's color) would be put back
by the write. So before the first request the bodies are completed again from what the server
holds now, through the same hooks, with `ServerCurrent` standing in for the warehouse.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from simplymeet.client import NotFoundError, SimplyMeetError
from simplymeet.contract.dates import parse_api_datetime
from simplymeet.contract.refs import ref_id
from simplymeet.contract.vocab import MAX_ON_PAGE, normalize_event_state
from simplymeet.sync.api import SyncApi, one_policy
from simplymeet.sync.checks import IncompleteScanError
from simplymeet.sync.values import as_id
from simplymeet.writeback.baseline import event_baseline, poll_ids_before, polls_baseline
from simplymeet.writeback.existing_bookings import bookings_held
from simplymeet.writeback.operations import repeated_votes, voted_slots
from simplymeet.writeback.plan import (
    DETAIL,
    GONE_ALREADY,
    GONE_UPSTREAM,
    Item,
    Plan,
    Skipped,
    skip_reason,
    tags_named,
    wrong_side_of,
)
from simplymeet.writeback.spec import FieldError, build_request
from simplymeet.writeback.verify import check_applied, own_tags

if TYPE_CHECKING:
    from simplymeet.client import ApiClient

log = logging.getLogger("simplymeet.writeback")

_EVENT_COLUMNS = {
    "invitee_full_name": "fullName",
    "invitee_phone_number": "phoneNumber",
    "invitee_email": "email",
    "invitee_timezone": "timezone",
    "invitee_locale": "locale",
    "invitee_cancellation_policy": "cancellationPolicy",
}
"""Warehouse column -> InviteeDTO field: the event values an edit's body is completed with."""


class ServerCurrent:
    """The `WarehouseView` reads a `complete` hook makes, answered by the server."""

    dataset = "the server's"

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self._events: dict[int, Mapping[str, Any]] = {}

    def latest_policy(self, kind: str) -> dict[str, Any] | None:
        """The organization's or user's cancellation policy in force, as the server has it."""
        endpoint = f"{kind}_cancellation_policy_get"
        try:
            body = self.client.call(endpoint, raw=True)
        except NotFoundError:
            return None
        policy = one_policy(endpoint, body)
        if policy is None:
            return None
        return {
            "enabled": policy.get("enabled"),
            "period": policy.get("period"),
            "label": policy.get("label"),
            "text": policy.get("text"),
            "overwrite_personal": policy.get("overwritePersonal", policy.get("overwrite_personal")),
            "version": policy.get("version"),
        }

    def rows_by(
        self, table: str, column: str, values: Iterable[Any], columns: Sequence[str]
    ) -> dict[Any, dict[str, Any]]:
        """Events by id with their invitee's fields (the only read a hook makes)."""
        if table != "events" or column != "id" or not set(columns) <= set(_EVENT_COLUMNS):
            raise ValueError(f"no server read for {table}.{column} -> {', '.join(columns)}")
        events = self._read_events(values)
        return {
            event_id: {
                name: (event.get("invitee") or {}).get(_EVENT_COLUMNS[name]) for name in columns
            }
            for event_id, event in events.items()
        }

    def event_answers(self, ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
        """Each event's answers ({id, value}, by answer id), as the server has them."""
        out: dict[int, list[dict[str, Any]]] = {}
        for event_id, event in self._read_events(ids).items():
            answers = [
                {"id": int(a["id"]), "value": a.get("value")}
                for a in event.get("answers") or []
                if isinstance(a, Mapping) and a.get("id") is not None
            ]
            if answers:
                out[event_id] = sorted(answers, key=lambda a: a["id"])
        return out

    def user_tags(self, *, own: bool = False) -> dict[int, dict[str, Any]]:
        """User event type tags by id, as the server has them; with `own`, the API key's
        user's only (`verify.own_tags`)."""
        tags = SyncApi(self.client).list_all("user_event_type_tag_list", MAX_ON_PAGE)
        if own:
            tags = own_tags(self.client, tags)
        return {int(tag["id"]): dict(tag) for tag in tags if tag.get("id") is not None}

    def _read_events(self, ids: Iterable[Any]) -> dict[int, Mapping[str, Any]]:
        wanted = sorted({int(i) for i in ids} - set(self._events))
        for rows in SyncApi(self.client).events_by_ids(wanted, MAX_ON_PAGE):
            for row in rows:
                self._events[int(row["id"])] = row
        return {int(i): self._events[int(i)] for i in ids if int(i) in self._events}


def event_state(event: Mapping[str, Any]) -> dict[str, Any]:
    """An EventDTO as served, in the shape of the warehouse row the skip rules, fills and
    baselines read (`WarehouseView.event_rows`)."""

    def time(name: str) -> Any:
        value = event.get(name)
        try:
            return parse_api_datetime(str(value)) if value else None
        except ValueError:
            return None

    kind = event.get("eventType")
    row = {
        "state": event.get("state"),
        "updated_at": time("updatedAt"),
        "canceled_at": time("canceledAt"),
        "deleted_at": time("deletedAt"),
        "notes": event.get("notes"),
        "scheduled_at": time("scheduledAt"),
        "end_date": time("endDate"),
        "duration": kind.get("duration") if isinstance(kind, Mapping) else None,
        "event_type_id": as_id(ref_id(kind)),
        "user_id": as_id(ref_id(event.get("user"))),
    }
    row["normalized_state"] = normalize_event_state(row["state"], canceled_at=row["canceled_at"])
    return row


class _OneEvent:
    """The view a `fill` reads an event through when it is read again from the server: the
    event as served; nothing else (a row naming another event type keeps what was planned)."""

    dataset = "the server's"

    def __init__(self, event_id: int, state: dict[str, Any]) -> None:
        self._rows = {event_id: state}

    def event_rows(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        return self._rows

    def rows_by(self, *_: Any) -> dict[Any, dict[str, Any]]:
        return {}


@dataclasses.dataclass(frozen=True)
class Refused:
    """An item not to send as the server has its target now, and why."""

    item: Item
    reason: str


def judged_on_server(
    plan: Plan,
    items: Sequence[Item],
    client: ApiClient,
    now: dt.datetime,
    *,
    skip_gone: bool = False,
) -> list[Item | Skipped | Refused]:
    """`items` of `plan` about to be sent, for a write to bookings that e-mails people (a
    cancel, a no-show, a reschedule), judged again on the bookings as the server has them:
    each item to send, skipped (nothing to do) or refused (not to be sent). Bookings to make
    are judged on the invitees' bookings the server holds (`_not_booked_yet`), votes on
    the polls (one the voter cast since the last sync is skipped), and a poll creation's
    baseline takes in the server's polls of its name (`_with_polls_on_server`); other writes
    pass as they are.

    The plan judged them on the warehouse, as old as its last sync: a booking the invitee
    canceled since would be rescheduled or marked a no-show (and its invitee e-mailed), and a
    reschedule that keeps the event's type, host and length would put back the ones of the
    last sync. So each target is read (a page of ids a request): one the server shows needing
    no request is skipped, the values a `fill` took from the warehouse are taken from the
    server, and the baseline a lost answer is judged by is the event as served. One the
    server shows on the wrong side of `now` (a past booking moved into the future) is
    refused, as the plan refuses it, unless the plan's options allowed that, and so is one
    that cannot be read. A target the server answers 404 for keeps its plan (the write meets
    the server's own answer), or with `skip_gone` is skipped as gone upstream."""
    spec = plan.spec
    verify = spec.verify
    if verify is not None and verify.fetch == "events_by_invitee" and items:
        return _not_booked_yet(items, client)
    if verify is not None and verify.fetch == "poll_votes" and items:
        return _not_voted_yet(items, client)
    if spec.endpoint == "poll_create" and items:
        return list(_with_polls_on_server(items, client))
    ids = [item.target_id for item in items if item.target_id is not None]
    if spec.state != "event" or verify is None or not verify.reaches_invitees or not ids:
        return list(items)
    try:
        served = dict(ServerCurrent(client)._read_events(ids))
    except NotFoundError:  # a server answering an empty match 404: each is read by itself
        served = {}
    # A list may leave a booking out that exists (a server filtering canceled ones out of
    # lists, one serving fewer rows a page than it says): each is read by itself.
    there, unsure = SyncApi(client).still_there(sorted({i for i in ids if i not in served}))
    served.update(there)
    out: list[Item | Skipped | Refused] = []
    for item in items:
        if item.target_id in unsure:
            error = unsure[item.target_id]
            out.append(Refused(item, f"not sent: it could not be read to check it first ({error})"))
            continue
        event = served.get(item.target_id) if item.target_id is not None else None
        if event is None and skip_gone:
            out.append(Skipped(item, GONE_UPSTREAM))
            continue
        if event is None:  # answered 404: the write meets the server's own answer
            out.append(item)
            continue
        state = event_state(event)
        item = _refilled(plan, item, state)
        reason = skip_reason(spec, item, state)
        side = wrong_side_of(plan, item, state, now)
        if reason is not None:
            out.append(Skipped(item, f"{reason} (on the server, since the last sync)"))
        elif side is not None:
            out.append(Refused(item, f"not sent: {side} (moved on the server since the last sync)"))
        else:
            out.append(dataclasses.replace(item, baseline=event_baseline(state)))
    return out


def _server_polls(client: ApiClient) -> list[Any]:
    """Every poll as the server has it; a list that never adds up proves nothing."""
    try:
        return list(SyncApi(client).list_all("poll_list", MAX_ON_PAGE))
    except IncompleteScanError as exc:
        raise SimplyMeetError(f"the polls did not add up: {exc}") from exc


def _with_polls_on_server(items: Sequence[Item], client: ApiClient) -> list[Item]:
    """Poll creations whose baseline (the polls of their name and event type before them,
    from the warehouse) holds those the server has too: one made since the last sync by
    another hand is no sign of this one, should a lost answer or a kill leave it to be read
    back (it would be taken as made, and this one never sent)."""
    found: dict[tuple[str, Any], set[int]] = {}
    for poll in _server_polls(client):
        poll_id = as_id(poll.get("id")) if isinstance(poll, Mapping) else None
        if poll_id is not None:
            key = (str(poll.get("name")), as_id(ref_id(poll.get("eventType"))))
            found.setdefault(key, set()).add(poll_id)
    out = []
    for item in items:
        key = (str(item.values.get("name")), as_id(item.values.get("event_type_id")))
        before = poll_ids_before(item.baseline)
        out.append(
            dataclasses.replace(item, baseline=polls_baseline(before | found.get(key, set())))
        )
    return out


def _not_voted_yet(items: Sequence[Item], client: ApiClient) -> list[Item | Skipped | Refused]:
    """Vote rows judged on the polls as the server has them: a vote cast since the last sync
    (the plan's skip read the warehouse) cast again is a second vote, and a poll that
    notifies by e-mail sends a second e-mail. One whose voter voted for every slot it names
    is skipped, one for some of them refused (sent, those would count twice)."""
    polls = _server_polls(client)
    out: list[Item | Skipped | Refused] = []
    for item in items:
        wanted, voted = voted_slots(item.values, polls)
        if wanted and wanted <= voted:
            out.append(Skipped(item, "already voted (on the server, since the last sync)"))
        elif wanted & voted:
            reason = repeated_votes(wanted & voted)
            out.append(Refused(item, f"not sent: {reason} (voted on the server since the sync)"))
        else:
            out.append(item)
    return out


def _not_booked_yet(items: Sequence[Item], client: ApiClient) -> list[Item | Skipped | Refused]:
    """Booking rows judged on the invitees' bookings as the server has them
    (`existing_bookings`): one booked at every start it asks is skipped, one booked at some
    of them is refused (sent, it would book those again), the others are sent."""
    try:
        held = bookings_held(client, items)
    except IncompleteScanError as exc:  # a list that never adds up proves nothing
        raise SimplyMeetError(f"the bookings around their starts did not add up: {exc}") from exc
    out: list[Item | Skipped | Refused] = []
    for item in items:
        booked = held[item.key]
        found = ", ".join(f"event {event_id}" for event_id in booked.found.values())
        if booked.found and not booked.missing:
            out.append(Skipped(item, f"already booked (on the server){DETAIL}{found}"))
        elif booked.found:
            starts = ", ".join(booked.found)
            out.append(
                Refused(
                    item,
                    f"not sent: the invitee already has this booking at {starts} ({found}); "
                    "sent, it would be booked twice: leave those starts out",
                )
            )
        else:
            out.append(item)
    return out


def refilled_from_server(plan: Plan, items: Sequence[Item], client: ApiClient) -> list[Item]:
    """`items` with the values their operation's `fill` took from the warehouse taken from
    the bookings as the server has them (`_refilled`), where any was: what an earlier run of
    the job sent was filled so, and is read back against that, not against a warehouse the
    server has moved on from. Unchanged where the bookings cannot be read."""
    wanted = [i.target_id for i in items if i.filled and i.target_id is not None]
    if plan.spec.fill is None or not wanted:
        return list(items)
    try:
        served = ServerCurrent(client)._read_events(wanted)
    except SimplyMeetError:
        return list(items)
    return [
        _refilled(plan, item, event_state(served[item.target_id]))
        if item.target_id in served
        else item
        for item in items
    ]


def _refilled(plan: Plan, item: Item, state: dict[str, Any]) -> Item:
    """`item` with the values its operation's `fill` took from the warehouse taken from the
    event as served (`state`), its body built again from them."""
    spec = plan.spec
    if not item.filled or spec.fill is None or item.target_id is None:
        return item
    given = {k: v for k, v in item.values.items() if k not in item.filled}
    [values] = spec.fill([given], _OneEvent(item.target_id, state))
    if isinstance(values, FieldError) or values == item.values:
        return item
    try:
        body = build_request(spec, values).body
    except FieldError:
        return item
    log.info("%s: %s taken from the server", item.target, ", ".join(sorted(item.filled)))
    return dataclasses.replace(item, values=values, body=body)


def complete_from_server(plan: Plan, client: ApiClient) -> Plan:
    """`plan` with each PUT body completed from the server's current values instead of the
    warehouse's. An item the server cannot complete (its target gone there, say) keeps the
    body it was planned with: the write then meets the server's own answer. Items skipped
    because the warehouse showed them already done are sent after all where the server
    holds other values now (`sent_where_changed`)."""
    plan = sent_where_changed(plan, client)
    spec = plan.spec
    if spec.complete is None or not plan.items:
        return plan
    wholes = spec.complete([dict(item.values) for item in plan.items], ServerCurrent(client))
    items = []
    refreshed = 0
    for item, whole in zip(plan.items, wholes, strict=True):
        if isinstance(whole, FieldError):
            items.append(item)
            continue
        body = build_request(spec, whole, nulls=True).body
        if body != item.body:
            refreshed += 1
        items.append(dataclasses.replace(item, body=body))
    if refreshed:
        log.info(
            "%d body(ies) completed with values changed on the server since the last sync",
            refreshed,
        )
    return dataclasses.replace(plan, items=items)


def skips_the_server_may_undo(plan: Plan) -> bool:
    """Whether `plan` skips items on what the warehouse shows and `sent_where_changed` can
    ask the server about."""
    spec = plan.spec
    if spec.skip is None or spec.state is None:
        return False
    askable = spec.state in (*_POLICY_STATES, _BY_NAME) or (
        spec.state in _READ_BACK_STATES and spec.verify is not None
    )
    return askable and any(_undoable(skipped) for skipped in plan.skipped)


def sent_where_changed(plan: Plan, client: ApiClient) -> Plan:
    """`plan` with its items skipped as already done by the warehouse moved to the items to
    send where the server shows otherwise now: a policy, a tag's name, a type's tags or an
    event's notes changed upstream since the last sync would otherwise keep their new
    values, and the run report nothing to do. So would a booking moved, or put back,
    upstream: a reschedule to the start the warehouse showed is sent where the server has
    the booking elsewhere now, judged on it as every such send is (`judged_on_server`)."""
    spec = plan.spec
    if not skips_the_server_may_undo(plan) or spec.skip is None or spec.state is None:
        return plan
    asked = [skipped for skipped in plan.skipped if _undoable(skipped)]
    if spec.state in _POLICY_STATES:
        current = ServerCurrent(client).latest_policy(spec.state.removesuffix("_policy"))
        undone = {s.item.key for s in asked if spec.skip(s.item.values, current) is None}
    elif spec.state == _BY_NAME:
        # A tag of that name deleted or renamed upstream since the last sync: made after all.
        named = tags_named(ServerCurrent(client).user_tags(own=True), [s.item for s in asked])
        undone = {
            s.item.key
            for s, tag in zip(asked, named, strict=True)
            if spec.skip(s.item.values, tag) is None
        }
    elif spec.verify is not None and spec.verify.reaches_invitees:
        # Not by a read-back: a write that e-mails people is "not done" there only where the
        # target is as before it, never so for a skip the warehouse made on that record. Only
        # bookings with an id are asked: `judged_on_server` hands anything else back unjudged,
        # which is no sign the skip was wrong.
        booked = [s.item for s in asked if spec.state == "event" and s.item.target_id]
        try:
            judged = judged_on_server(plan, booked, client, dt.datetime.now(dt.UTC), skip_gone=True)
        except SimplyMeetError as exc:
            log.warning("the skipped bookings could not be read to check them: %s", exc)
            return plan
        undone = {j.key for j in judged if isinstance(j, Item)}
    else:
        verdicts = check_applied(spec, client, [s.item for s in asked])
        undone = {s.item.key for s in asked if verdicts[s.item.key] is False}
    if not undone:
        return plan
    log.info(
        "%d item(s) the warehouse showed already done are sent: the server holds other values",
        len(undone),
    )
    sent = [s.item for s in plan.skipped if s.item.key in undone]
    kept = [s for s in plan.skipped if s.item.key not in undone]
    return dataclasses.replace(plan, items=[*plan.items, *sent], skipped=kept)


def _undoable(skipped: Skipped) -> bool:
    return skipped.reason not in (GONE_ALREADY, GONE_UPSTREAM)


_POLICY_STATES = ("organization_policy", "user_policy")
"""Plan states `ServerCurrent` can read from the server (`latest_policy`)."""

_BY_NAME = "user_tag_by_name"
"""The plan state of a creation skipped where the warehouse holds one of its name: asked of
the server by reading what it holds under that name (`tags_named`)."""

_READ_BACK_STATES = ("event", "tag_link", "user_tag")
"""Plan states of writes to a target that exists, whose read-back (`check_applied`) tells
whether the server holds what is asked; not of creations, whose read-back of an object of
the same name is no proof the skip was wrong."""
