"""Every DTO of the SimplyMeet reference, typed.

Response DTOs are lenient (every field optional, unknown fields kept) because a server may omit
fields or add new ones; request DTOs are strict so bad input is caught before a request is sent.
Field names are the wire names (camelCase) so a model dumps to exactly what the API expects.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from simplymeet.contract.dates import parse_request_datetime

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ResponseDTO(BaseModel):
    """Base of every response DTO: all fields optional, unknown fields preserved."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class RequestDTO(BaseModel):
    """Base of every request DTO: unknown fields rejected, so typos never reach the API."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    optional: ClassVar[frozenset[str]] = frozenset()
    """Fields the reference calls optional ("optional", "Ignore this field", "If not set...").
    Every other field it lists is one a server may read the body without: a PUT that replaces
    the resource nulls it, a strict one refuses the body (see `whole` and `missing_fields`)."""

    alternatives: ClassVar[frozenset[str]] = frozenset()
    """Fields of which a body gives one (a booking's one start or its several): the others go
    as null, never as an empty value a server could read as given."""

    path_echo: ClassVar[frozenset[str]] = frozenset()
    """Fields that repeat a path parameter of the same name. Sent with its value: a server
    that ignores them loses nothing, one that validates the body (or the query: the client
    fills a query DTO's in, `client.http.prepare`) finds them."""

    def payload(self, *, nulls: bool = False) -> dict[str, Any]:
        """The JSON body to send: set fields only, wire names. Null fields are left out unless
        `nulls`: then a field given as null is sent as null (a value known to be empty, which
        a server that replaces or refuses partial bodies must still see)."""
        if nulls:
            return self.model_dump(mode="json", exclude_unset=True, by_alias=True)
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)

    @classmethod
    def whole(cls) -> tuple[str, ...]:
        """The fields a body carries to be read the same by every server: all the reference
        lists for this DTO except those it calls optional."""
        return tuple(name for name in cls.model_fields if name not in cls.optional)


def missing_fields(request: RequestDTO, where: str = "") -> list[str]:
    """Dotted names of the fields `request` (as received) leaves out of its `whole` set,
    nested request objects included: what a strict server names in its 422."""
    missing = [f"{where}{name}" for name in request.whole() if name not in request.model_fields_set]
    for name in request.model_fields_set:
        value = getattr(request, name)
        if isinstance(value, RequestDTO):
            missing += missing_fields(value, f"{where}{name}.")
        elif isinstance(value, list):
            for k, item in enumerate(value):
                if isinstance(item, RequestDTO):
                    missing += missing_fields(item, f"{where}{name}.{k}.")
    return missing


def with_every_field(request: RequestDTO) -> RequestDTO:
    """`request` with every field of its `whole` set that it leaves out given as null, nested
    request objects too (changed in place): a server that refuses a body missing a field its
    DTO lists finds them all, and one that does not reads null as not given. A list is given
    as `[]`, which a server that also checks the field's type accepts, and which says "none"
    to every reading."""
    for name in request.whole():
        if name not in request.model_fields_set:
            annotation = type(request).model_fields[name].annotation
            listed = _is_list(annotation) and name not in request.alternatives
            setattr(request, name, [] if listed else None)
    for name in request.model_fields_set:
        value = getattr(request, name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, RequestDTO):
                with_every_field(item)
    return request


_UNIONS = (typing.Union, types.UnionType)


def _is_list(annotation: Any) -> bool:
    """Whether a field's annotation is a list (`list[X] | None` included)."""
    kinds = typing.get_args(annotation) if typing.get_origin(annotation) in _UNIONS else ()
    return any(typing.get_origin(kind) is list for kind in (annotation, *kinds))


def _check_request_datetime(value: str | None) -> str | None:
    if value is not None:
        parse_request_datetime(value)
    return value


def _check_email(value: str | None) -> str | None:
    if value is not None and not _EMAIL.match(value):
        raise ValueError(f"not an email address: {value!r}")
    return value


# --- shared -----------------------------------------------------------------------------------


class MetaDataDTO(ResponseDTO):
    pagesCount: int | None = None
    itemsPerPage: int | None = None
    itemsCount: int | None = None
    currentPage: int | None = None


class SocialLinkDTO(ResponseDTO):
    id: int | None = None
    facebookUrl: str | None = None
    twitterUrl: str | None = None
    instagramUrl: str | None = None
    linkedinUrl: str | None = None
    whatsappUrl: str | None = None


class OrganizationDTO(ResponseDTO):
    id: int | None = None
    uuid: str | None = None
    slug: str | None = None
    name: str | None = None
    createdAt: str | None = None
    locale: str | None = None
    rtl: bool | None = None
    calendarLayout: str | None = None
    hideUnavailableDates: bool | None = None
    sundayIsFirstDay: bool | None = None
    email: str | None = None
    intro: str | None = None
    domain: str | None = None
    socialLink: SocialLinkDTO | None = None


class UserDTO(ResponseDTO):
    id: int | None = None
    uuid: str | None = None
    email: str | None = None
    fullName: str | None = None
    slug: str | None = None
    subscriptionUsersLimit: int | None = None
    isSecondFactorConfigured: bool | None = None
    isEnabled: bool | None = None
    dateFormat: str | None = None
    address: str | None = None
    state: str | None = None
    city: str | None = None
    zip: str | None = None
    countryId: str | None = None
    lat: float | None = None
    lng: float | None = None
    domain: str | None = None
    phone: str | None = None
    companyLogoName: str | None = None
    avatarName: str | None = None
    organization: OrganizationDTO | None = None
    createdAt: str | None = None
    lastLogin: str | None = None
    connections: list[Any] | None = None
    hasPaidSubscription: bool | None = None
    timezone: str | None = None
    timeFormat: str | None = None
    timezoneOffset: str | None = None


class SimpleUserDTO(ResponseDTO):
    id: int | None = None
    email: str | None = None
    fullName: str | None = None


class SimpleEventTypeDTO(ResponseDTO):
    id: int | None = None
    slug: str | None = None
    name: str | None = None
    color: str | None = None
    locationType: str | None = None
    timezone: str | None = None
    userFullName: str | None = None
    localized: bool | None = None
    directUrl: str | None = None


# --- ACL, integrations ------------------------------------------------------------------------


class AclRuleDTO(ResponseDTO):
    resource: str | None = None
    attributes: list[Any] | None = None
    allowedAttributes: list[Any] | None = None


class IntegrationListDTO(ResponseDTO):
    user: list[Any] | None = None
    organization: list[Any] | None = None


# --- availability -----------------------------------------------------------------------------


class HourIntervalDTO(ResponseDTO):
    start: str | None = None
    end: str | None = None


class AvailabilityRuleDTO(ResponseDTO):
    type: str | None = None
    hourIntervals: list[HourIntervalDTO] | None = None
    config: dict[str, Any] | None = None


class EventTypeAvailabilityHoursDTO(ResponseDTO):
    start: str | None = None
    available: bool | None = None


class EventTypeAvailabilityDTO(ResponseDTO):
    date: str | None = None
    hours: list[EventTypeAvailabilityHoursDTO] | None = None
    available: bool | None = None


# --- cancellation policy ----------------------------------------------------------------------


class CancellationPolicyDTO(ResponseDTO):
    enabled: bool | None = None
    period: int | None = None
    label: str | None = None
    text: str | None = None
    version: int | None = None
    type: str | None = None
    overwrite_personal: bool | None = None


# --- event types ------------------------------------------------------------------------------


class EventTypeDurationDTO(ResponseDTO):
    id: int | None = None
    duration: int | None = None


class EventTypeRequestLocationTypeDTO(ResponseDTO):
    id: int | None = None
    locationType: str | None = None


class QuestionDTO(ResponseDTO):
    label: str | None = None
    type: str | None = None
    required: bool | None = None
    config: list[Any] | dict[str, Any] | None = None
    uuid: str | None = None
    position: int | None = None


class EventTypeDTO(ResponseDTO):
    id: int | None = None
    name: str | None = None
    color: str | None = None
    user: UserDTO | None = None
    type: str | None = None
    duration: int | None = None
    slug: str | None = None
    amount: float | None = None
    currency: str | None = None
    locationType: str | None = None
    location: str | None = None
    isEnabled: bool | None = None
    isSecret: bool | None = None
    users: list[UserDTO] | None = None
    timezone: str | None = None
    isLocalized: bool | None = None
    durationType: str | None = None
    eventTypeDurations: list[EventTypeDurationDTO] | None = None
    position: int | None = None
    eventTypeRequestLocationTypes: list[EventTypeRequestLocationTypeDTO] | None = None
    uuid: str | None = None
    isAllowCancel: bool | None = None
    isAllowReschedule: bool | None = None
    isShowPhone: bool | None = None
    isPhoneFieldRequired: bool | None = None
    questions: list[QuestionDTO] | None = None
    isMultipleMeeting: bool | None = None
    locationLabel: str | None = None
    groupMeetingLimit: int | None = None
    showGroupMeetingRest: bool | None = None


class EventTypeTagDTO(ResponseDTO):
    id: int | None = None
    name: str | None = None
    color: str | None = None
    position: int | None = None
    enabled: bool | None = None


class UserEventTypeTagDTO(ResponseDTO):
    id: int | None = None
    name: str | None = None
    color: str | None = None
    position: int | None = None
    user: UserDTO | None = None


class SingleUseLinkDTO(ResponseDTO):
    code: str | None = None
    url: str | None = None


# --- events -----------------------------------------------------------------------------------


class InviteeDTO(ResponseDTO):
    id: int | None = None
    email: str | None = None
    fullName: str | None = None
    timezone: str | None = None
    phoneNumber: str | None = None
    locale: str | None = None
    cancellationPolicy: str | None = None
    uuid: str | None = None


class CancellationDTO(ResponseDTO):
    id: int | None = None
    canceler: str | None = None
    reason: str | None = None


class ParticipantDTO(ResponseDTO):
    id: int | None = None
    email: str | None = None
    createdAt: str | None = None


class AnswerDTO(ResponseDTO):
    id: int | None = None
    questionLabel: str | None = None
    questionType: str | None = None
    value: str | None = None
    plainValue: str | None = None
    questionUuid: str | None = None


class ReschedulingDTO(ResponseDTO):
    id: int | None = None
    rescheduler: str | None = None
    reason: str | None = None
    previouslyScheduledAt: str | None = None
    previousUser: UserDTO | None = None


class EventPaymentDTO(ResponseDTO):
    provider: str | None = None
    amount: float | None = None
    currency: str | None = None
    status: str | None = None
    system: str | None = None
    referenceId: int | None = None
    overwritePersonal: bool | None = None


class EventDTO(ResponseDTO):
    id: int | None = None
    uuid: str | None = None
    user: UserDTO | None = None
    eventType: EventTypeDTO | None = None
    invitee: InviteeDTO | None = None
    cancellation: CancellationDTO | None = None
    participants: list[ParticipantDTO] | None = None
    answers: list[AnswerDTO] | None = None
    rescheduling: list[ReschedulingDTO] | None = None
    payment: EventPaymentDTO | None = None
    createdAt: str | None = None
    updatedAt: str | None = None
    scheduledAt: str | None = None
    endDate: str | None = None
    canceledAt: str | None = None
    state: str | None = None
    notes: str | None = None
    details: str | None = None
    location: str | None = None
    locationType: str | None = None
    onlineEventId: str | None = None
    sentEmailReminder: int | None = None
    lastSentInviteeEmailReminder: int | None = None
    lastSentInviteeEmailFollowUp: int | None = None
    duration: int | None = None
    users: list[UserDTO] | None = None
    relatedEventIds: list[Any] | None = None


# --- polls ------------------------------------------------------------------------------------


class PollResultDTO(ResponseDTO):
    """The reference names this DTO PollAvailabilityDTO a second time; its fields are a result's."""

    email: str | None = None
    comment: str | None = None


class PollAvailabilityDTO(ResponseDTO):
    id: int | None = None
    date: str | None = None
    results: list[PollResultDTO] | None = None


class PollDTO(ResponseDTO):
    id: int | None = None
    uuid: str | None = None
    user: UserDTO | SimpleUserDTO | None = None
    eventType: EventTypeDTO | SimpleEventTypeDTO | None = None
    voteVisibility: bool | None = None
    commentVisibility: bool | None = None
    emailNotification: bool | None = None
    duration: int | None = None
    name: str | None = None
    createdAt: str | None = None
    availability: list[PollAvailabilityDTO] | None = None


# --- request DTOs -----------------------------------------------------------------------------


class HourIntervalRequestDTO(RequestDTO):
    """HourIntervalDTO inside a request body (`RequestAvailabilityRuleDTO`)."""

    start: str | None = None
    end: str | None = None


class RequestAvailabilityRuleDTO(RequestDTO):
    """AvailabilityRuleDTO inside AvailabilityRuleRequestDTO. The reference reuses the response
    DTO there, but a lenient one would send a misspelled `hourIntervalz` as given, and the
    server would read the rule as having no hours (the event type's hours wiped). So in a
    request it is strict like any request DTO; `config` stays a free object (`{date: …}` or
    `{weekday: …}`)."""

    type: str | None = None
    hourIntervals: list[HourIntervalRequestDTO] | None = None
    config: dict[str, Any] | None = None


class AvailabilityRuleRequestDTO(RequestDTO):
    # availabilityType: "If not set, it will be saved for both types".
    optional = frozenset({"availabilityType"})
    eventTypeIds: list[int] = Field(min_length=1)
    availabilityRules: list[RequestAvailabilityRuleDTO]
    periodType: str | None = None
    periodTypeConfig: dict[str, Any] | None = None
    availabilityType: str | None = None


class CancellationPolicyRequestDTO(RequestDTO):
    enabled: bool | None = None
    period: int | None = Field(default=None, ge=0)
    label: str | None = None
    text: str | None = None
    overwritePersonal: bool | None = None


class CancelEventRequestDTO(RequestDTO):
    # Unlike the list endpoint's ("an optional reason"), this reason is not called optional.
    reason: str | None = None


class CancelEventListRequestDTO(RequestDTO):
    optional = frozenset({"reason"})
    ids: list[int] = Field(min_length=1)
    reason: str | None = None


class DeleteEventListRequestDTO(RequestDTO):
    ids: list[int] = Field(min_length=1)


class NoShowEventListRequestDTO(RequestDTO):
    ids: list[int] = Field(min_length=1)


class InviteeRequestDTO(RequestDTO):
    fullName: str | None = None
    email: str | None = None
    timezone: str | None = None
    locale: str | None = None
    phoneNumber: str | None = None
    cancellationPolicy: str | None = None

    _email = field_validator("email")(_check_email)


class AnswerRequestDTO(RequestDTO):
    value: str | None = None
    question: str | None = None


class ParticipantRequestDTO(RequestDTO):
    email: str

    _email = field_validator("email")(_check_email)


class CreateEventRequestDTO(RequestDTO):
    alternatives: ClassVar[frozenset[str]] = frozenset({"scheduledAt", "multipleScheduledAt"})

    scheduledAt: str | None = None
    multipleScheduledAt: list[str] | None = None
    eventType: int
    invitee: InviteeRequestDTO
    durationId: int | None = None
    answers: list[AnswerRequestDTO] | None = None
    participants: list[ParticipantRequestDTO] | None = None
    locationType: str | None = None
    location: str | None = None

    _scheduled = field_validator("scheduledAt")(_check_request_datetime)

    @field_validator("multipleScheduledAt")
    @classmethod
    def _check_many(cls, values: list[str] | None) -> list[str] | None:
        for value in values or []:
            parse_request_datetime(value)
        return values


class EditEventInviteeRequestDTO(RequestDTO):
    # EditEventRequestDTO types `invitee` `InviteeRequestDTO">EditEventInviteeRequestDTO`: a
    # link to InviteeRequestDTO shown as this DTO. Its other fields are the other reading's:
    # a server of this DTO's reading need not know them, one of the other may replace the
    # invitee with what the body holds (so an edit sends their current values).
    optional = frozenset({"email", "timezone", "locale", "cancellationPolicy"})
    fullName: str | None = None
    phoneNumber: str | None = None
    email: str | None = None
    timezone: str | None = None
    locale: str | None = None
    cancellationPolicy: str | None = None


class EditEventAnswerRequestDTO(RequestDTO):
    id: int
    value: str | None = None


class EditEventRequestDTO(RequestDTO):
    # id: "Event id. Ignore this field." (the path names the event).
    optional = frozenset({"id"})
    path_echo = frozenset({"id"})
    id: int | None = None
    invitee: EditEventInviteeRequestDTO | None = None
    answers: list[EditEventAnswerRequestDTO] | None = None


class EventEditNotesRequestDTO(RequestDTO):
    notes: str


class EventInviteParticipantsRequestDTO(RequestDTO):
    optional = frozenset({"message"})
    emails: list[str] = Field(min_length=1)
    message: str | None = None

    @field_validator("emails")
    @classmethod
    def _check_emails(cls, values: list[str]) -> list[str]:
        for value in values:
            _check_email(value)
        return values


class RescheduleEventRequestDTO(RequestDTO):
    """The reference lists start, end and eventTypeId, and calls only userId optional."""

    optional = frozenset({"userId"})

    start: str
    end: str
    eventTypeId: int
    userId: int | None = None

    _start = field_validator("start")(_check_request_datetime)
    _end = field_validator("end")(_check_request_datetime)


class PollAvailabilityRequestDTO(RequestDTO):
    date: str

    # The reference gives this date no format: it is read as every other request date is
    # (Y-m-d H:i:s), so a slot the server could not read fails before anything is sent.
    _date = field_validator("date")(_check_request_datetime)


class PollRequestDTO(RequestDTO):
    eventTypeId: int
    voteVisibility: bool | None = None
    commentVisibility: bool | None = None
    emailNotification: bool | None = None
    duration: int | None = Field(default=None, gt=0)
    name: str
    availability: list[PollAvailabilityRequestDTO] = Field(min_length=1)


class PollResultRequestDTO(RequestDTO):
    uuid: str
    availability: list[int] = Field(min_length=1)
    email: str
    comment: str | None = None

    _email = field_validator("email")(_check_email)


class UserEventTypeTagRequestDTO(RequestDTO):
    position: int | None = None
    name: str = Field(min_length=1)
    color: str | None = None


# --- list query DTOs --------------------------------------------------------------------------


class ListRequestDTO(RequestDTO):
    """Paging and ordering parameters shared by every list endpoint."""

    page: int | None = Field(default=None, ge=1)
    onPage: int | None = Field(default=None, ge=1, le=100)
    orderField: str | None = None
    orderDirection: str | None = Field(default=None, pattern="^(asc|desc)$")
    skipPagination: bool | None = None
    groupBy: str | None = None


class GetEventListFilterDTO(RequestDTO):
    ids: list[int] | None = None
    eventTypeType: str | None = None
    state: str | None = None
    paymentStatus: str | None = None
    invitee: str | None = None
    uuid: str | None = None
    eventTypeList: list[int] | None = None
    userList: list[int] | None = None
    organizationTagList: list[int] | None = None
    scheduledAtFrom: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}")
    scheduledAtTo: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}")


class GetEventListRequestDTO(ListRequestDTO):
    filter: GetEventListFilterDTO | None = None


class GetEventTypeListFilterDTO(RequestDTO):
    ids: list[int] | None = None
    forCurrentUser: bool | None = None
    manageRoundRobin: bool | None = None
    type: str | None = None


class GetEventTypeListRequestDTO(ListRequestDTO):
    filter: GetEventTypeListFilterDTO | None = None


class GetPollListRequestDTO(ListRequestDTO):
    pass


class GetEventTypeAvailabilityRequestDTO(RequestDTO):
    # id: "The id of the event type", the one the path names; listed, not called optional.
    path_echo = frozenset({"id"})
    id: int | None = None
    startDate: str | None = None
    endDate: str | None = None
    timezone: str | None = None
    durationId: int | None = None
    userId: int | None = None
