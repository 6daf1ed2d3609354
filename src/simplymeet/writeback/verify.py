"""Asking the server whether writes took effect, when their answer was lost or ambiguous.

Used when a run died with requests in flight (journal rows left `pending`), when a request
failed in a way that may hide an applied write (5xx, dropped connection, a 4xx after a retry),
and when a list request was refused so the items already in the target state can be told from
the ones to send again. Reads only; a failed read leaves the item's fate unknown (None), and
so does, for a write that reaches invitees, a target that changed but not as asked.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from simplymeet.client import (
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    SimplyMeetError,
    TransportError,
)
from simplymeet.contract.dates import parse_api_datetime
from simplymeet.contract.refs import ref_id
from simplymeet.contract.vocab import MAX_ON_PAGE, served_as_deleted
from simplymeet.sync.api import SyncApi
from simplymeet.sync.checks import IncompleteScanError
from simplymeet.sync.ids import as_id
from simplymeet.writeback.baseline import (
    asked_starts,
    event_unchanged,
    new_bookings,
    new_polls,
    no_new_booking,
)
from simplymeet.writeback.plan import Item
from simplymeet.writeback.spec import OperationSpec

if TYPE_CHECKING:
    from simplymeet.client import ApiClient

log = logging.getLogger("simplymeet.writeback")


UNPROVEN = {
    "": ("the target changed, but not as asked", "this write may have done it"),
    "event": ("the event changed, but not as asked", "this write may have done it"),
    "events_by_invitee": (
        "a new booking of this invitee and event type, but not as asked",
        "this write may have made it",
    ),
}
"""What the server shows of an item whose read-back is neither the requested state nor the
state before, and what that means, by what was read ("": any other): `_unproven`."""


class Verdicts(dict[str, bool | None]):
    """Item key -> True (took effect), False (did not), None (cannot tell); `why` explains
    the None verdicts that are not simply an unreadable server."""

    def __init__(self, keys: Sequence[str]) -> None:
        super().__init__(dict.fromkeys(keys))
        self.why: dict[str, str] = {}
        self.elsewhere: set[str] = set()
        """Items among the None verdicts whose move or booking the server shows at another
        start than asked: answered done or not, not the write asked."""
        self.claimed: dict[str, list[int]] = {}
        """For a creation found made: the ids of what was found for it (no other item may
        take them as its own)."""
        self.error: Exception | None = None
        """What kept the read from happening at all (every verdict is then None)."""
        self.gone: set[str] = set()
        """Items whose event the server shows gone (a GET answered 404 or 410, or it serves
        it deleted)."""

    @property
    def outage(self) -> str | None:
        """Why nothing could be read, when the server was out of reach or failing."""
        return str(self.error) if isinstance(self.error, OUTAGES) else None


OUTAGES = (TransportError, ServerError, RateLimitedError, ProtocolError)
"""Errors that say the server is out of reach or failing after the client's retries (or
answering what is no API answer): an outage to retry (exit 5), not a refusal."""


def check_applied(spec: OperationSpec, client: ApiClient, items: Sequence[Item]) -> Verdicts:
    """Whether each item's write took effect, read from the server.

    For a write that reaches invitees (`Verification.reaches_invitees`), "did not" is only
    said when the server's record is still what it was before the write (`item.baseline`, see
    `baseline.py`): a record changed into something else than asked is unknown, never False.
    """
    out = Verdicts([item.key for item in items])
    if spec.verify is None or not items:
        return out
    verify = spec.verify
    try:
        fetched = _fetch(verify.fetch, client, items)
    except (SimplyMeetError, IncompleteScanError) as exc:
        # A list whose pages never add up (a busy account) proves nothing: the items'
        # fate stays unknown, and none is sent again.
        log.warning("could not check %d item(s) on the server: %s", len(items), exc)
        out.error = exc
        return out
    taken: set[int] = set()
    for item in items:
        if item.key not in fetched:
            continue
        found = fetched[item.key]
        if verify.fetch == "event" and found is None:
            out.gone.add(item.key)
        if verify.fetch in CREATIONS:
            # One object made is one item's proof: two rows of a job asking for polls of one
            # name (or bookings of one invitee) are not both made by one of them.
            found = [f for f in found if _object_id(f) not in taken]
        verdict = verify.applied(item.values, found)
        if verdict is True and verify.fetch in CREATIONS:
            mine = _claimed(verify, item.values, found)
            out.claimed[item.key] = mine
            taken.update(mine)
        if (
            verdict is False
            and verify.reaches_invitees
            and not _not_applied(verify.fetch, item, found)
        ):
            elsewhere = _elsewhere(verify.fetch, item, found)
            if elsewhere:
                out.elsewhere.add(item.key)
            out.why[item.key] = _unproven(verify.fetch, elsewhere)
            continue
        out[item.key] = None if verdict is None else bool(verdict)
    return out


def own_tags(client: ApiClient, tags: list[Any]) -> list[Any]:
    """The user tags of the API key's user (and those served without a user): a create made
    its tag there, and a colleague's of the same name and color is no proof of it. All of
    them where the key's user cannot be read."""
    try:
        body = client.call("current_user_get", raw=True)
    except SimplyMeetError:
        return tags
    me = as_id(ref_id(body[0] if isinstance(body, list) and len(body) == 1 else body))
    if me is None:
        return tags
    return [
        tag
        for tag in tags
        if not isinstance(tag, dict)
        or (owner := as_id(ref_id(tag.get("user")))) is None
        or owner == me
    ]


CREATIONS = ("polls", "events_by_invitee")
"""Read-backs of writes that create: what they read is the candidates made since the plan."""


def _object_id(found: Any) -> int | None:
    value = found.get("id") if isinstance(found, dict) else None
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _claimed(verify: Any, values: Any, found: list[Any]) -> list[int]:
    """The fewest of `found` that prove the creation: the first poll that matches, or for a
    booking one event per start asked."""
    if verify.fetch == "polls":
        starts: list[dict[str, Any]] = [values]
    else:
        starts = [
            {**values, "scheduled_at": start, "multiple_scheduled_at": None}
            for start in asked_starts(values)
        ]
    out: list[int] = []
    for one in starts:
        for candidate in found:
            object_id = _object_id(candidate)
            if object_id is not None and object_id not in out and verify.applied(one, [candidate]):
                out.append(object_id)
                break
    return out


def _unproven(kind: str, elsewhere: str) -> str:
    """Why an item is unknown whose target changed, but not as asked, with `elsewhere`
    (`_elsewhere`): where the server holds it, when at another start than asked."""
    shown, meaning = UNPROVEN.get(kind, UNPROVEN[""])
    return f"the server shows {shown}{elsewhere}: {meaning}"


def _elsewhere(kind: str, item: Item, fetched: Any) -> str:
    """` (it starts at X, not at Y UTC as asked)` when every event read for a move or a
    booking starts at another instant than asked, "" otherwise: a server that read the
    `Y-m-d H:i:s` start (the reference gives no zone) in another timezone placed it there."""
    asked = item.values.get("start") or item.values.get("scheduled_at")
    if not asked or kind not in ("event", "events_by_invitee"):
        return ""
    events = fetched if isinstance(fetched, list) else [fetched]
    held = [
        str(event.get("scheduledAt"))
        for event in events
        if isinstance(event, Mapping) and not _same_instant(event.get("scheduledAt"), asked)
    ]
    if not held or len(held) < len(events):
        return ""
    return f" (it starts at {', '.join(held)}, not at {asked} UTC as asked)"


def _same_instant(served: Any, asked: Any) -> bool:
    if not isinstance(served, str):
        return False
    try:
        left, right = parse_api_datetime(served), parse_api_datetime(str(asked))
    except ValueError:
        return False
    return left is not None and left == right


def _not_applied(kind: str, item: Item, fetched: Any) -> bool:
    """Whether the read-back proves the write did not happen: the target is as before it."""
    if kind == "event":
        return event_unchanged(item.baseline, fetched)
    if kind == "events_by_invitee":
        return no_new_booking(item.baseline, item.values, fetched)
    return False


def _days_around(values: Any) -> tuple[str, str] | None:
    """The day before the item's first start and the day after its last (days as the server
    reads them may be another zone's), or None without a start."""
    days = sorted(start[:10] for start in asked_starts(values))
    if not days:
        return None
    first = dt.date.fromisoformat(days[0]) - dt.timedelta(days=1)
    last = dt.date.fromisoformat(days[-1]) + dt.timedelta(days=1)
    return first.isoformat(), last.isoformat()


def _bookings_around(client: ApiClient, event_type: Any, days: tuple[str, str]) -> list[Any]:
    """Every booking of `event_type` scheduled within `days` (`_days_around`)."""
    first, last = days
    query = {
        "filter": {
            "eventTypeList": [event_type],
            "scheduledAtFrom": first,
            "scheduledAtTo": last,
        }
    }
    return SyncApi(client).list_all("event_list", MAX_ON_PAGE, query=query)


def _fetch(kind: str, client: ApiClient, items: Sequence[Item]) -> dict[str, Any]:
    """What each item's predicate reads, by item key; a missing key means "could not read"."""
    if kind == "event":
        ids = sorted({int(i.target_id) for i in items if i.target_id is not None})
        events: dict[int, Any] = {}
        for rows in SyncApi(client).events_by_ids(ids, MAX_ON_PAGE, canceled_asked=False):
            for row in rows:
                events[int(row["id"])] = row
        # A list that leaves an event out is no proof it is gone (a server may list canceled
        # events only when `filter[state]` asks): as for the sync's deletions, only a GET of
        # the event answering 404 (or 410), or serving it with a deleted state, is, and then
        # the predicate gets None. An event whose GET fails otherwise stays unread: its
        # item's fate is unknown.
        missing = [i for i in ids if i not in events]
        there, unsure = SyncApi(client).still_there(missing) if missing else ({}, {})
        events.update(there)
        gone = {i for i, row in events.items() if served_as_deleted(row)}
        return {
            i.key: None if int(i.target_id) in gone else events.get(int(i.target_id))
            for i in items
            if i.target_id is not None and int(i.target_id) not in unsure
        }
    if kind == "events_by_invitee":
        out = {}
        # One read per invitee and event type. Not one list for all: a list that holds other
        # invitees' bookings may be a filter matching names or parts of e-mails, not every
        # event, and another item's booking missing from it would read as "not made".
        read: dict[tuple[str, str], list[Any]] = {}
        around: dict[tuple[str, tuple[str, str]], list[Any]] = {}
        for item in items:
            email = str(item.values.get("invitee_email") or "")
            event_type = item.values.get("event_type")
            pair = (email.casefold(), str(event_type))
            if pair not in read:
                query = {"filter": {"invitee": email, "eventTypeList": [event_type]}}
                # Every page, checked against its count: a booking beyond the first page (an
                # invitee with many bookings, or a server that ignores the filter and lists
                # every event) must not read as "not made", or it would be sent twice.
                read[pair] = SyncApi(client).list_all("event_list", MAX_ON_PAGE, query=query)
            found = new_bookings(item.baseline, item.values, read[pair])
            if not found:
                # "Email or name" says nothing of case or form: a server that keeps e-mails
                # in lower case and matches case for case finds nothing for the address as
                # typed. Before "not made", read the type's bookings around its start.
                days = _days_around(item.values)
                window = (str(event_type), days) if days is not None else None
                if window is not None and window not in around:
                    around[window] = _bookings_around(client, event_type, window[1])
                found = new_bookings(item.baseline, item.values, around.get(window, []))
            out[item.key] = found
        return out
    if kind == "event_type_tags":
        cache: dict[int, list[Any]] = {}
        out = {}
        for item in items:
            type_id = int(item.values["event_type_id"])
            if type_id not in cache:
                # Every page, as the sync reads it: a tag on a later page is still there; a
                # 404 is no tags, as the sync reads it (the type's last tag was removed).
                cache[type_id] = SyncApi(client).event_type_tags(type_id, MAX_ON_PAGE) or []
            out[item.key] = cache[type_id]
        return out
    if kind in ("user_tags", "own_user_tags"):
        tags = SyncApi(client).list_all("user_event_type_tag_list", MAX_ON_PAGE)
        if kind == "own_user_tags":
            tags = own_tags(client, tags)
        return {item.key: tags for item in items}
    if kind == "polls":
        polls = SyncApi(client).list_all("poll_list", MAX_ON_PAGE)
        return {item.key: new_polls(item.baseline, polls) for item in items}
    if kind == "poll_votes":
        # Every poll: a vote goes into one that exists, and many voters share a poll.
        polls = SyncApi(client).list_all("poll_list", MAX_ON_PAGE)
        return {item.key: polls for item in items}
    if kind == "poll":
        out = {}
        for item in items:
            try:
                out[item.key] = client.call("poll_get", path_params={"id": item.target_id})
            except NotFoundError:
                out[item.key] = None
        return out
    if kind in ("organization_policy", "user_policy"):
        policy = client.call(f"{kind.removesuffix('_policy')}_cancellation_policy_get", raw=True)
        return {item.key: policy for item in items}
    raise ValueError(f"unknown verification {kind!r}")
