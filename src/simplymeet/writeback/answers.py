"""Whether a 2xx answer is the success the reference promises for its endpoint.

A 2xx is not proof by its status alone: a front end may answer 200 `{"success": false,
"message": ...}`, and a server may book one start of three and answer for it. Each answer is
read against the response the reference gives the endpoint (`contract.endpoints`):

- "Returns empty response when the operation is successful": an empty body (or one that says
  `"success": true`, the other reading of "Successful operation");
- a DTO (a created poll, tag, link, booking; an updated policy or tag): an object carrying the
  DTO's own fields (its `id` where it has one); a booking of several starts may be answered by
  the list of its events (the emulator's reading) or by one of them (the other reading), so
  an answer naming fewer bookings than starts asked proves only those, and one naming a
  booking at another start than asked (a start read in another timezone) is not the booking
  asked. Where the reference leaves the return unsaid ("Retour: -": a booking, a poll, a link,
  a policy update), an empty answer is the other reading of success (`empty_where_unsaid`):
  proof enough for a write that cannot be read back (a link), read back where it can be.

`answer_problem` says what is wrong with one, or None; `execute` then reads the items back
where it can, and leaves them unknown (or failed, when the body says it failed) where not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from simplymeet.contract.dates import parse_api_datetime
from simplymeet.contract.endpoints import ENDPOINTS
from simplymeet.writeback.baseline import asked_starts

EMPTY: tuple[Any, ...] = (None, "", b"", {}, [])
"""Bodies that are the empty response the reference promises on success."""


def says_failed(body: Any) -> str | None:
    """The failure a 2xx body states (`{"success": false, "message": ...}`), or None."""
    if not isinstance(body, Mapping):
        return None
    success = body.get("success")
    if success is False or (isinstance(success, str) and success.lower() == "false"):
        message = body.get("message") or body.get("error")
        return (
            f"the server answered 2xx saying it failed: {message}"
            if message
            else ("the server answered 2xx saying it failed")
        )
    return None


def answer_problem(endpoint: str, body: Any, values: Sequence[Mapping[str, Any]]) -> str | None:
    """Why `body`, answered 2xx to a write of `values` (its items' values), is not the success
    the reference promises for `endpoint`; None when it is."""
    failed = says_failed(body)
    if failed is not None:
        return failed
    spec = ENDPOINTS[endpoint]
    if spec.response == "empty":
        if body in EMPTY or body is True:
            return None
        if isinstance(body, Mapping) and body.get("success") is True:
            return None
        return "the server answered 2xx with a body where the reference promises an empty one"
    dto = spec.response_dto
    if spec.response != "object" or dto is None:
        return None
    objects = body if isinstance(body, list) and endpoint == "event_create" else [body]
    if not objects or not all(_is_dto(obj, dto.model_fields) for obj in objects):
        return f"the server answered 2xx with a body that is no {dto.__name__}"
    if endpoint == "event_create":
        asked = max((_starts(v) for v in values), default=1)
        if len(objects) < asked:
            return f"the server answered for {len(objects)} booking(s) of the {asked} starts asked"
        return _booked_elsewhere(objects, values)
    return None


def empty_where_unsaid(endpoint: str, body: Any) -> bool:
    """Whether `body` is an empty answer from an endpoint whose return the reference leaves
    unsaid: success in the reading where "Retour: -" means nothing is returned."""
    return not ENDPOINTS[endpoint].response_stated and (body in EMPTY or body is True)


def _is_dto(obj: Any, fields: Mapping[str, Any]) -> bool:
    if not isinstance(obj, Mapping):
        return False
    if "id" in fields:
        return obj.get("id") is not None
    return any(obj.get(name) is not None for name in fields)


def _booked_elsewhere(objects: Sequence[Any], values: Sequence[Mapping[str, Any]]) -> str | None:
    """Why a booking's answer is not the booking asked: an event it names starts at none of
    the starts asked (a server that read the `Y-m-d H:i:s` start, whose zone the reference
    does not give, in the event type's or the host's timezone); None when every one does."""
    asked = [
        start
        for v in values
        for start in [v.get("scheduled_at"), *(v.get("multiple_scheduled_at") or [])]
        if start
    ]
    wanted = {_instant(start) for start in asked} - {None}
    for obj in objects:
        served = obj.get("scheduledAt") if isinstance(obj, Mapping) else None
        if wanted and _instant(served) not in wanted:
            return (
                f"the server answered with a booking at {served}, not at "
                f"{' or '.join(map(str, asked))} UTC as asked"
            )
    return None


def _instant(value: Any) -> dt.datetime | None:
    """A start as an instant (a request's `Y-m-d H:i:s` is UTC), or None when unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return parse_api_datetime(value)
    except ValueError:
        return None


def _starts(values: Mapping[str, Any]) -> int:
    return max(1, len(asked_starts(values)))
