"""One typed method per endpoint, written once as a Call builder.

Each method below builds a `Call` (path parameters, query, body, and the result type) from
typed arguments, validating bodies through the contract's request DTOs before anything is
sent. The `operation` descriptor binds it to the client, which runs it and returns the
result. The attribute name is the ENDPOINTS key, which is how the method finds its path and
method (never written here).

    client.event_cancel(123, reason="double booking")
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, ParamSpec, TypeVar, overload

from simplymeet.client.pages import Page
from simplymeet.contract import dtos
from simplymeet.contract.dates import REQUEST_DATE_FORMAT, format_request_datetime
from simplymeet.contract.endpoints import ENDPOINTS

T = TypeVar("T")
P = ParamSpec("P")
D = TypeVar("D", bound=dtos.RequestDTO)

Result = Literal["shape", "models"]


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request to make, before the endpoint's path and method are applied.

    `result` is "shape" to read the body by the endpoint's documented response shape, or
    "models" to read one object or an array of them as a list (event_create answers either).
    """

    path_params: Mapping[str, int] = field(default_factory=dict)
    query: Mapping[str, Any] | dtos.RequestDTO | None = None
    body: Mapping[str, Any] | dtos.RequestDTO | None = None
    result: Result = "shape"


class SyncCaller(ABC):
    """A client that runs a Call and returns its result."""

    @abstractmethod
    def _run(self, endpoint: str, call: Call[T]) -> T: ...


class operation(Generic[P, T]):
    """Turn a Call builder into a client method named after its ENDPOINTS key."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self.build = build
        self.name = build.__name__
        functools.update_wrapper(self, build)  # type: ignore[arg-type]  # a descriptor, not a function
        # help(client.event_get) should show what the call returns, not the Call it builds.
        signature = inspect.signature(build)
        returns = signature.return_annotation
        if isinstance(returns, str) and returns.startswith("Call[") and returns.endswith("]"):
            returns = returns[len("Call[") : -1]
        self.__signature__ = signature.replace(return_annotation=returns)

    def __set_name__(self, owner: type, name: str) -> None:
        if name not in ENDPOINTS:
            raise TypeError(f"{owner.__name__}.{name}: not an endpoint of the contract")
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> operation[P, T]: ...
    @overload
    def __get__(self, obj: SyncCaller, owner: type) -> Callable[P, T]: ...
    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        build, name, run = self.build, self.name, obj._run

        @functools.wraps(build)
        def run_sync(*args: P.args, **kwargs: P.kwargs) -> T:
            return run(name, build(*args, **kwargs))

        run_sync.__signature__ = self.__signature__  # type: ignore[attr-defined]
        return run_sync


def _dto(cls: type[D], value: D | Mapping[str, Any]) -> D:
    """A request DTO from a DTO or a mapping of wire names (validated here, before sending)."""
    return value if isinstance(value, cls) else cls.model_validate(value)


def _date(value: str | dt.date | None) -> str | None:
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.strftime(REQUEST_DATE_FORMAT) if isinstance(value, dt.date) else value


def _datetime(value: str | dt.datetime | None) -> str | None:
    return format_request_datetime(value) if isinstance(value, dt.datetime) else value


def _list_query(
    cls: type[D],
    *,
    page: int | None,
    on_page: int | None,
    order_field: str | None,
    order_direction: str | None,
    skip_pagination: bool | None,
    group_by: str | None,
    **extra: Any,
) -> D:
    # The paging fields are declared by each list DTO, not by the RequestDTO bound of D.
    return cls(  # type: ignore[call-arg]
        page=page,
        onPage=on_page,
        orderField=order_field,
        orderDirection=order_direction,
        skipPagination=skip_pagination,
        groupBy=group_by,
        **{k: v for k, v in extra.items() if v is not None},
    )


_IdList = Sequence[int]


class Operations:
    """The 39 endpoint methods; see each method's docstring."""

    # --- ACL, availability, integrations ------------------------------------------------------

    @operation
    def acl_list() -> Call[list[dtos.AclRuleDTO]]:
        """The ACL rules of the current user."""
        return Call()

    @operation
    def availability_rule_save(
        rule: dtos.AvailabilityRuleRequestDTO | Mapping[str, Any],
    ) -> Call[None]:
        """Save availability rules for event types.

        client.availability_rule_save({"eventTypeIds": [5], "availabilityRules": [
            {"type": "weekday", "config": {"weekday": "monday"},
             "hourIntervals": [{"start": "09:00", "end": "17:00"}]}]})
        """
        return Call(body=_dto(dtos.AvailabilityRuleRequestDTO, rule))

    @operation
    def integration_list() -> Call[dtos.IntegrationListDTO]:
        """The user's and the organization's integrations."""
        return Call()

    # --- cancellation policies ----------------------------------------------------------------

    @operation
    def organization_cancellation_policy_get() -> Call[dtos.CancellationPolicyDTO]:
        """The organization's cancellation policy."""
        return Call()

    @operation
    def organization_cancellation_policy_update(
        *,
        enabled: bool | None = None,
        period: int | None = None,
        label: str | None = None,
        text: str | None = None,
        overwrite_personal: bool | None = None,
    ) -> Call[dtos.CancellationPolicyDTO | None]:
        """Update the organization's policy; returns the new version (None if the body is empty).

        client.organization_cancellation_policy_update(enabled=True, period=1440)
        """
        return Call(
            body=dtos.CancellationPolicyRequestDTO(
                enabled=enabled,
                period=period,
                label=label,
                text=text,
                overwritePersonal=overwrite_personal,
            )
        )

    @operation
    def user_cancellation_policy_get() -> Call[dtos.CancellationPolicyDTO]:
        """The current user's cancellation policy."""
        return Call()

    @operation
    def user_cancellation_policy_update(
        *,
        enabled: bool | None = None,
        period: int | None = None,
        label: str | None = None,
        text: str | None = None,
        overwrite_personal: bool | None = None,
    ) -> Call[dtos.CancellationPolicyDTO | None]:
        """Update the user's policy; returns the new version (None if the body is empty)."""
        return Call(
            body=dtos.CancellationPolicyRequestDTO(
                enabled=enabled,
                period=period,
                label=label,
                text=text,
                overwritePersonal=overwrite_personal,
            )
        )

    # --- events -------------------------------------------------------------------------------

    @operation
    def event_list(
        *,
        page: int | None = 1,
        on_page: int | None = 100,
        order_field: str | None = None,
        order_direction: Literal["asc", "desc"] | None = None,
        filter: dtos.GetEventListFilterDTO | Mapping[str, Any] | None = None,
        skip_pagination: bool | None = None,
        group_by: str | None = None,
    ) -> Call[Page[dtos.EventDTO]]:
        """One page of events (use `iter_pages("event_list", ...)` to walk them all).

        client.event_list(page=2, order_field="updatedAt", order_direction="desc",
                          filter={"state": "canceled", "scheduledAtFrom": "2026-01-01"})
        """
        query = _list_query(
            dtos.GetEventListRequestDTO,
            page=page,
            on_page=on_page,
            order_field=order_field,
            order_direction=order_direction,
            skip_pagination=skip_pagination,
            group_by=group_by,
            filter=None if filter is None else _dto(dtos.GetEventListFilterDTO, filter),
        )
        return Call(query=query)

    @operation
    def event_get(id: int) -> Call[dtos.EventDTO]:
        """One event by id."""
        return Call({"id": id})

    @operation
    def event_create(
        event: dtos.CreateEventRequestDTO | Mapping[str, Any],
    ) -> Call[list[dtos.EventDTO]]:
        """Book an event; returns the created events (several with `multipleScheduledAt`).

        Never retried once the request may have reached the server (see client.retry).

        client.event_create({"eventType": 5, "scheduledAt": "2026-12-01 10:00:00",
                             "invitee": {"fullName": "Ada", "email": "ada@example.com"}})
        """
        return Call(body=_dto(dtos.CreateEventRequestDTO, event), result="models")

    @operation
    def event_edit(id: int, edit: dtos.EditEventRequestDTO | Mapping[str, Any]) -> Call[None]:
        """Edit an event's invitee and answers.

        client.event_edit(123, {"invitee": {"fullName": "Ada L."}})
        """
        return Call({"id": id}, body=_dto(dtos.EditEventRequestDTO, edit))

    @operation
    def event_delete(id: int) -> Call[None]:
        """Delete one event."""
        return Call({"id": id})

    @operation
    def event_delete_list(ids: _IdList) -> Call[None]:
        """Delete several events by id."""
        return Call(body=dtos.DeleteEventListRequestDTO(ids=list(ids)))

    @operation
    def event_cancel(id: int, reason: str | None = None) -> Call[None]:
        """Cancel one event, with an optional reason."""
        return Call({"id": id}, body=dtos.CancelEventRequestDTO(reason=reason))

    @operation
    def event_cancel_list(ids: _IdList, reason: str | None = None) -> Call[None]:
        """Cancel several events by id, with an optional reason."""
        return Call(body=dtos.CancelEventListRequestDTO(ids=list(ids), reason=reason))

    @operation
    def event_notes(id: int, notes: str) -> Call[None]:
        """Replace an event's notes."""
        return Call({"id": id}, body=dtos.EventEditNotesRequestDTO(notes=notes))

    @operation
    def event_invite_participants(
        id: int, emails: Sequence[str], message: str | None = None
    ) -> Call[None]:
        """Invite participants by email (a POST: not retried once it may have been applied)."""
        body = dtos.EventInviteParticipantsRequestDTO(emails=list(emails), message=message)
        return Call({"id": id}, body=body)

    @operation
    def event_no_show(id: int) -> Call[None]:
        """Mark one event as a no-show."""
        return Call({"id": id})

    @operation
    def event_no_show_list(ids: _IdList) -> Call[None]:
        """Mark several events as no-shows."""
        return Call(body=dtos.NoShowEventListRequestDTO(ids=list(ids)))

    @operation
    def event_reschedule(
        id: int,
        start: str | dt.datetime,
        end: str | dt.datetime,
        event_type_id: int,
        user_id: int | None = None,
    ) -> Call[None]:
        """Move an event; datetimes are sent as `Y-m-d H:i:s` in UTC.

        The reference requires the end and the event type as well as the start (only the
        user is optional): pass the event's own type to keep it.

        client.event_reschedule(123, datetime(2026, 12, 1, 10, tzinfo=UTC),
                                datetime(2026, 12, 1, 10, 30, tzinfo=UTC), event_type_id=5)
        """
        body = dtos.RescheduleEventRequestDTO(
            start=_datetime(start),  # type: ignore[arg-type]
            end=_datetime(end),  # type: ignore[arg-type]
            eventTypeId=event_type_id,
            userId=user_id,
        )
        return Call({"id": id}, body=body)

    @operation
    def event_resend_notification(id: int) -> Call[None]:
        """Send an event's notification again."""
        return Call({"id": id})

    # --- event types --------------------------------------------------------------------------

    @operation
    def event_type_list(
        *,
        page: int | None = 1,
        on_page: int | None = 100,
        order_field: str | None = None,
        order_direction: Literal["asc", "desc"] | None = None,
        filter: dtos.GetEventTypeListFilterDTO | Mapping[str, Any] | None = None,
        skip_pagination: bool | None = None,
        group_by: str | None = None,
    ) -> Call[Page[dtos.EventTypeDTO]]:
        """One page of event types."""
        query = _list_query(
            dtos.GetEventTypeListRequestDTO,
            page=page,
            on_page=on_page,
            order_field=order_field,
            order_direction=order_direction,
            skip_pagination=skip_pagination,
            group_by=group_by,
            filter=None if filter is None else _dto(dtos.GetEventTypeListFilterDTO, filter),
        )
        return Call(query=query)

    @operation
    def event_type_get(id: int) -> Call[dtos.EventTypeDTO]:
        """One event type by id."""
        return Call({"id": id})

    @operation
    def event_type_availability(
        id: int,
        *,
        start_date: str | dt.date | None = None,
        end_date: str | dt.date | None = None,
        timezone: str | None = None,
        duration_id: int | None = None,
        user_id: int | None = None,
    ) -> Call[list[dtos.EventTypeAvailabilityDTO]]:
        """Bookable days and hours of an event type; dates as `Y-m-d` or `date`.

        client.event_type_availability(5, start_date=date(2026, 12, 1), end_date="2026-12-07")
        """
        query = dtos.GetEventTypeAvailabilityRequestDTO(
            startDate=_date(start_date),
            endDate=_date(end_date),
            timezone=timezone,
            durationId=duration_id,
            userId=user_id,
        )
        return Call({"id": id}, query=query)

    @operation
    def event_type_tag_list(event_type_id: int) -> Call[list[dtos.EventTypeTagDTO]]:
        """The tags of an event type."""
        return Call({"eventTypeId": event_type_id})

    @operation
    def event_type_tag_add(event_type_id: int, tag_id: int) -> Call[None]:
        """Put a tag on an event type."""
        return Call({"eventTypeId": event_type_id, "tagId": tag_id})

    @operation
    def event_type_tag_remove(event_type_id: int, tag_id: int) -> Call[None]:
        """Take a tag off an event type."""
        return Call({"eventTypeId": event_type_id, "tagId": tag_id})

    @operation
    def single_use_link_create(id: int) -> Call[dtos.SingleUseLinkDTO | None]:
        """A single-use booking link for event type `id` (a POST: never blindly retried)."""
        return Call({"id": id})

    # --- polls --------------------------------------------------------------------------------

    @operation
    def poll_list(
        *,
        page: int | None = None,
        on_page: int | None = None,
        order_field: str | None = None,
        order_direction: Literal["asc", "desc"] | None = None,
        skip_pagination: bool | None = None,
        group_by: str | None = None,
    ) -> Call[list[dtos.PollDTO]]:
        """Polls (a plain array; pass page/on_page to page through, or use `iter_pages`)."""
        query = _list_query(
            dtos.GetPollListRequestDTO,
            page=page,
            on_page=on_page,
            order_field=order_field,
            order_direction=order_direction,
            skip_pagination=skip_pagination,
            group_by=group_by,
        )
        return Call(query=query)

    @operation
    def poll_get(id: int) -> Call[dtos.PollDTO]:
        """One poll by id."""
        return Call({"id": id})

    @operation
    def poll_create(poll: dtos.PollRequestDTO | Mapping[str, Any]) -> Call[dtos.PollDTO | None]:
        """Create a poll (a POST: never blindly retried).

        client.poll_create({"eventTypeId": 5, "name": "Kick-off", "duration": 30,
                            "availability": [{"date": "2026-12-01 10:00:00"}]})
        """
        return Call(body=_dto(dtos.PollRequestDTO, poll))

    @operation
    def poll_delete(id: int) -> Call[None]:
        """Delete a poll."""
        return Call({"id": id})

    @operation
    def poll_result_create(
        uuid: str, availability: Sequence[int], email: str, comment: str | None = None
    ) -> Call[None]:
        """Vote in a poll: the availability ids chosen by `email` (a POST)."""
        body = dtos.PollResultRequestDTO(
            uuid=uuid, availability=list(availability), email=email, comment=comment
        )
        return Call(body=body)

    # --- users and tags -----------------------------------------------------------------------

    @operation
    def current_user_get() -> Call[dtos.UserDTO]:
        """The user the API key belongs to (a cheap way to check the key and the plan)."""
        return Call()

    @operation
    def user_list() -> Call[list[dtos.UserDTO]]:
        """The users of the organization."""
        return Call()

    @operation
    def user_event_type_tag_list() -> Call[list[dtos.UserEventTypeTagDTO]]:
        """The user's event type tags."""
        return Call()

    @operation
    def user_event_type_tag_create(
        name: str, color: str | None = None, position: int | None = None
    ) -> Call[dtos.UserEventTypeTagDTO | None]:
        """Create a tag (a POST: never blindly retried)."""
        body = dtos.UserEventTypeTagRequestDTO(name=name, color=color, position=position)
        return Call(body=body)

    @operation
    def user_event_type_tag_update(
        id: int, name: str, color: str | None = None, position: int | None = None
    ) -> Call[dtos.UserEventTypeTagDTO | None]:
        """Rename, recolor or move a tag."""
        body = dtos.UserEventTypeTagRequestDTO(name=name, color=color, position=position)
        return Call({"id": id}, body=body)

    @operation
    def user_event_type_tag_delete(id: int) -> Call[None]:
        """Delete a tag."""
        return Call({"id": id})
