"""Every endpoint of the SimplyMeet reference: method, path, parameters, request and response.

This table is the one place the paths live: the client builds its calls from it, the emulator
routes with it, and the tests walk it to prove every endpoint is served and callable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from simplymeet.contract import dtos

API_PREFIX = "/panel/api"
DEFAULT_BASE_URL = "https://secure.simplymeet.me"
API_KEY_HEADER = "X-API-KEY"

Method = Literal["GET", "POST", "PUT", "DELETE"]
Shape = Literal["object", "list", "page", "empty"]
"""Response shapes: one DTO, a plain JSON array, `{meta, items}`, or an empty body."""


@dataclass(frozen=True)
class Endpoint:
    """One operation of the API, as the reference documents it."""

    name: str
    method: Method
    path: str
    summary: str
    response: Shape
    response_dto: type[BaseModel] | None = None
    body: type[dtos.RequestDTO] | None = None
    query: type[dtos.RequestDTO] | None = None
    also: Method | None = None
    """A second method the reference shows for this path (its example request): a client
    answered 405 or 404 with `method` sends it once more with this one; the emulator serves
    both."""
    path_params: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_params", tuple(re.findall(r"{(\w+)}", self.path)))

    @property
    def method_text(self) -> str:
        """The method as help and summaries name it: `PUT`, or `PUT (or POST after a 405 or
        404)`."""
        if self.also is None:
            return self.method
        return f"{self.method} (or {self.also} after a 405 or 404)"

    @property
    def response_stated(self) -> bool:
        """Whether the reference names what this endpoint returns ("Retour"): an answer of
        nothing to a list it states is no list; to one it leaves unsaid ("Retour: -"), an
        answer of nothing may mean none."""
        return self.name not in UNSTATED_RESPONSES

    @property
    def mutating(self) -> bool:
        """True for every method that changes state on the server."""
        return self.method != "GET"

    def url_path(self, **params: object) -> str:
        """The path with its parameters filled in, e.g. `/panel/api/event/123`."""
        missing = [p for p in self.path_params if p not in params]
        if missing:
            raise ValueError(f"{self.name} needs path parameter(s) {', '.join(missing)}")
        path = self.path
        for name in self.path_params:
            value = params[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{self.name}: {name} must be a positive integer, got {value!r}")
            path = path.replace("{" + name + "}", str(value))
        return API_PREFIX + path


UNSTATED_RESPONSES = frozenset(
    {
        "acl_list",
        "event_type_tag_list",
        "event_type_availability",
        "organization_cancellation_policy_update",
        "user_cancellation_policy_update",
        "event_create",
        "poll_create",
        "single_use_link_create",
    }
)
"""Reads and writes whose response the reference leaves unsaid ("Retour: -") and that we
read as a list or a DTO: the shape is our reading."""


def _e(*args: object, **kwargs: object) -> Endpoint:
    return Endpoint(*args, **kwargs)  # type: ignore[arg-type]


ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in [
        _e("acl_list", "GET", "/acl", "Get list of ACL rules", "list", dtos.AclRuleDTO),
        _e(
            "availability_rule_save",
            "PUT",
            "/availability-rule",
            "Save availability rule",
            "empty",
            None,
            dtos.AvailabilityRuleRequestDTO,
        ),
        _e(
            "organization_cancellation_policy_get",
            "GET",
            "/organization-cancellation-policy",
            "Get organization cancellation policy",
            "object",
            dtos.CancellationPolicyDTO,
        ),
        _e(
            "organization_cancellation_policy_update",
            "PUT",
            "/organization-cancellation-policy",
            "Update organization cancellation policy",
            "object",
            dtos.CancellationPolicyDTO,
            dtos.CancellationPolicyRequestDTO,
        ),
        _e(
            "user_cancellation_policy_get",
            "GET",
            "/user-cancellation-policy",
            "Get user cancellation policy",
            "object",
            dtos.CancellationPolicyDTO,
        ),
        _e(
            "user_cancellation_policy_update",
            "PUT",
            "/user-cancellation-policy",
            "Update user cancellation policy",
            "object",
            dtos.CancellationPolicyDTO,
            dtos.CancellationPolicyRequestDTO,
        ),
        _e(
            "event_cancel",
            "PUT",
            "/event/cancel/{id}",
            "Cancel event",
            "empty",
            None,
            dtos.CancelEventRequestDTO,
            # The method table says put; the reference's one example request is a POST.
            also="POST",
        ),
        _e(
            "event_cancel_list",
            "PUT",
            "/event/cancel-list",
            "Cancel event list",
            "empty",
            None,
            dtos.CancelEventListRequestDTO,
        ),
        _e(
            "event_create",
            "POST",
            "/event",
            "Create event",
            "object",
            dtos.EventDTO,
            dtos.CreateEventRequestDTO,
        ),
        _e("event_get", "GET", "/event/{id}", "Get event", "object", dtos.EventDTO),
        _e(
            "event_edit",
            "PUT",
            "/event/{id}",
            "Edit event",
            "empty",
            None,
            dtos.EditEventRequestDTO,
        ),
        _e("event_delete", "DELETE", "/event/{id}", "Delete event", "empty"),
        _e(
            "event_delete_list",
            "DELETE",
            "/event/delete-list",
            "Delete event list",
            "empty",
            None,
            dtos.DeleteEventListRequestDTO,
        ),
        _e(
            "event_notes",
            "PUT",
            "/event/notes/{id}",
            "Edit event notes",
            "empty",
            None,
            dtos.EventEditNotesRequestDTO,
        ),
        _e(
            "event_invite_participants",
            "POST",
            "/event/invite-participants/{id}",
            "Invite participants to event",
            "empty",
            None,
            dtos.EventInviteParticipantsRequestDTO,
        ),
        _e(
            "event_list",
            "GET",
            "/event/",
            "Get list of events",
            "page",
            dtos.EventDTO,
            None,
            dtos.GetEventListRequestDTO,
        ),
        _e("event_no_show", "PUT", "/event/no-show/{id}", "No show event", "empty"),
        _e(
            "event_no_show_list",
            "PUT",
            "/event/no-show-list",
            "No show event list",
            "empty",
            None,
            dtos.NoShowEventListRequestDTO,
        ),
        _e(
            "event_reschedule",
            "PUT",
            "/event/reschedule/{id}",
            "Reschedule event",
            "empty",
            None,
            dtos.RescheduleEventRequestDTO,
        ),
        _e(
            "event_resend_notification",
            "PUT",
            "/event/resend-notification/{id}",
            "Resend event notification",
            "empty",
        ),
        _e(
            "event_type_list",
            "GET",
            "/event-type",
            "Get list of event types",
            "page",
            dtos.EventTypeDTO,
            None,
            dtos.GetEventTypeListRequestDTO,
        ),
        _e(
            "event_type_availability",
            "GET",
            "/event-type/availability/{id}",
            "Get event type availability",
            "list",
            dtos.EventTypeAvailabilityDTO,
            None,
            dtos.GetEventTypeAvailabilityRequestDTO,
        ),
        _e(
            "event_type_get",
            "GET",
            "/event-type/{id}",
            "Get event type",
            "object",
            dtos.EventTypeDTO,
        ),
        _e(
            "event_type_tag_add",
            "PUT",
            "/event-type-tag/{eventTypeId}/{tagId}",
            "Add event type tag to event type",
            "empty",
        ),
        _e(
            "event_type_tag_remove",
            "DELETE",
            "/event-type-tag/{eventTypeId}/{tagId}",
            "Remove event type tag",
            "empty",
        ),
        _e(
            "event_type_tag_list",
            "GET",
            "/event-type-tag/{eventTypeId}",
            "Get event type tag list",
            "list",
            dtos.EventTypeTagDTO,
        ),
        _e(
            "integration_list",
            "GET",
            "/integration",
            "Get list of integrations",
            "object",
            dtos.IntegrationListDTO,
        ),
        _e(
            "poll_result_create",
            "POST",
            "/poll/poll-result",
            "Create a poll result",
            "empty",
            None,
            dtos.PollResultRequestDTO,
        ),
        _e(
            "poll_list",
            "GET",
            "/poll",
            "Get list of polls",
            "list",
            dtos.PollDTO,
            None,
            dtos.GetPollListRequestDTO,
        ),
        _e(
            "poll_create",
            "POST",
            "/poll",
            "Create a new poll",
            "object",
            dtos.PollDTO,
            dtos.PollRequestDTO,
        ),
        _e("poll_get", "GET", "/poll/{id}", "Retrieve a poll by ID", "object", dtos.PollDTO),
        _e("poll_delete", "DELETE", "/poll/{id}", "Delete a poll", "empty"),
        _e(
            "single_use_link_create",
            "POST",
            "/single-use-link/{id}",
            "Create a single use link",
            "object",
            dtos.SingleUseLinkDTO,
        ),
        _e("current_user_get", "GET", "/current-user", "Get current user", "object", dtos.UserDTO),
        _e("user_list", "GET", "/user", "Get user list", "list", dtos.UserDTO),
        _e(
            "user_event_type_tag_list",
            "GET",
            "/user-event-type-tag",
            "Get user event type tag list",
            "list",
            dtos.UserEventTypeTagDTO,
        ),
        _e(
            "user_event_type_tag_create",
            "POST",
            "/user-event-type-tag",
            "Create user event type tag",
            "object",
            dtos.UserEventTypeTagDTO,
            dtos.UserEventTypeTagRequestDTO,
        ),
        _e(
            "user_event_type_tag_update",
            "PUT",
            "/user-event-type-tag/{id}",
            "Update user event type tag",
            "object",
            dtos.UserEventTypeTagDTO,
            dtos.UserEventTypeTagRequestDTO,
        ),
        _e(
            "user_event_type_tag_delete",
            "DELETE",
            "/user-event-type-tag/{id}",
            "Delete user event type tag",
            "empty",
        ),
    ]
}
"""All operations of the reference, keyed by a snake_case name used across the project."""


def match_route(method: str, path: str) -> tuple[Endpoint, dict[str, int]] | None:
    """Find the endpoint serving `method path`, and its integer path parameters.

    A trailing slash is optional both ways (the reference spells the event list `/event/`).
    Literal segments win over parameters, so `/event/cancel-list` never reads as `/event/{id}`.
    """
    if not path.startswith(API_PREFIX):
        return None
    rest = path[len(API_PREFIX) :].rstrip("/") or "/"
    for endpoint in _ROUTES:
        if method.upper() not in (endpoint.method, endpoint.also):
            continue
        match = _PATTERNS[endpoint.name].match(rest)
        if match:
            return endpoint, {k: int(v) for k, v in match.groupdict().items()}
    return None


def endpoints_at(path: str) -> list[Endpoint]:
    """Every endpoint whose path matches `path`, whatever its method (for a 405's `Allow`)."""
    if not path.startswith(API_PREFIX):
        return []
    rest = path[len(API_PREFIX) :].rstrip("/") or "/"
    return [e for e in _ROUTES if _PATTERNS[e.name].match(rest)]


def _pattern(path: str) -> re.Pattern[str]:
    body = re.sub(r"{(\w+)}", r"(?P<\1>\\d+)", path.rstrip("/") or "/")
    return re.compile("^" + body + "$")


_PATTERNS = {name: _pattern(e.path) for name, e in ENDPOINTS.items()}
# Literal paths first so `/event/cancel-list` is never captured by `/event/{id}`.
_ROUTES = sorted(ENDPOINTS.values(), key=lambda e: len(e.path_params))
