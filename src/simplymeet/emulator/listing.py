"""Reading list requests: paging, ordering and filters from a query string, validated.

Query strings are decoded with the contract's `decode_query`, so every spelling it accepts works
here (`filter[ids][]=1`, `filter[ids][0]=1`, `filter[ids]=1,2`, top-level `state=canceled`).
The normalized parameters are validated with the contract's request DTOs; a failure is a 422
whose field paths are the DTO's (`onPage`, `filter.ids.0`). Unknown top-level parameters are
ignored, as a PHP backend would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError

from simplymeet.contract import dtos
from simplymeet.contract.query import as_bool, as_list, decode_query
from simplymeet.contract.vocab import EVENT_STATES, EVENT_TYPE_KINDS, PAYMENT_STATUSES
from simplymeet.emulator.api_errors import Unprocessable, field_errors

DEFAULT_PAGE = 1
DEFAULT_ON_PAGE = 20
"""onPage when a request gives none (the reference sets no default; 20 is a common one)."""

_PAGING_FIELDS = ("page", "onPage", "orderField", "orderDirection", "skipPagination", "groupBy")


@dataclass(frozen=True)
class Paging:
    """Validated paging and ordering of a list request."""

    page: int
    on_page: int
    order_field: str | None
    descending: bool
    skip_pagination: bool
    explicit: bool  # page or onPage was given (plain-array lists page only then)

    def bounds(self, total: int) -> tuple[int, int]:
        """Slice [start, stop) of the ordered results this request asks for."""
        if self.skip_pagination:
            return 0, total
        start = (self.page - 1) * self.on_page
        return min(start, total), min(start + self.on_page, total)

    def meta(self, total: int) -> dict[str, int]:
        """The MetaDataDTO of a page."""
        if self.skip_pagination:
            return {"pagesCount": 1, "itemsPerPage": total, "itemsCount": total, "currentPage": 1}
        return {
            "pagesCount": -(-total // self.on_page),
            "itemsPerPage": self.on_page,
            "itemsCount": total,
            "currentPage": self.page,
        }


@dataclass(frozen=True)
class EventFilter:
    """GetEventListFilterDTO, normalized into hashable values (it keys the result cache)."""

    ids: tuple[int, ...] | None = None
    event_type_type: str | None = None
    state: str | None = None
    payment_status: str | None = None
    invitee: str | None = None
    uuid: str | None = None
    event_type_list: tuple[int, ...] | None = None
    user_list: tuple[int, ...] | None = None
    organization_tag_list: tuple[int, ...] | None = None
    scheduled_from: dt.date | None = None
    scheduled_to: dt.date | None = None
    invitee_case_sensitive: bool = False
    """`invitee` as asked, matched case for case (`readings.invitee_filter`); else lowercase."""


@dataclass(frozen=True)
class EventTypeFilter:
    """GetEventTypeListFilterDTO, normalized."""

    ids: tuple[int, ...] | None = None
    for_current_user: bool | None = None
    manage_round_robin: bool | None = None
    type: str | None = None


def parse_query_string(raw: str) -> dict[str, Any]:
    """Decode a raw query string into nested params (see `contract.query.decode_query`)."""
    return decode_query(parse_qsl(raw, keep_blank_values=True))


def _validate(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Unprocessable(field_errors(exc)) from None


def _scalar(value: Any) -> Any:
    """A repeated scalar parameter keeps its last value, as PHP does."""
    return value[-1] if isinstance(value, list) and value else value


def _normalize(
    params: dict[str, Any],
    list_fields: tuple[str, ...],
    bool_fields: tuple[str, ...],
    filter_fields: tuple[str, ...],
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for name in _PAGING_FIELDS:
        if name in params and params[name] != "":
            out[name] = _scalar(params[name])
    if "skipPagination" in out:
        try:
            out["skipPagination"] = as_bool(out["skipPagination"])
        except ValueError as exc:
            errors["skipPagination"] = [str(exc)]
    raw_filter = params.get("filter")
    merged: dict[str, Any] = {k: params[k] for k in filter_fields if k in params}
    if isinstance(raw_filter, dict):
        merged.update(raw_filter)
    elif raw_filter not in (None, ""):
        errors["filter"] = ["expected filter[field]=value parameters"]
    flt: dict[str, Any] = {}
    for key, value in merged.items():
        if key in list_fields:
            items = as_list(value)
            if items:
                flt[key] = items
        elif key in bool_fields:
            try:
                parsed = as_bool(_scalar(value))
            except ValueError as exc:
                errors[f"filter.{key}"] = [str(exc)]
                continue
            if parsed is not None:
                flt[key] = parsed
        elif value not in ("", None, []):
            flt[key] = _scalar(value)
    if flt:
        out["filter"] = flt
    if errors:
        raise Unprocessable(errors)
    return out


def parse_paging(
    params: dict[str, Any], dto: type[dtos.ListRequestDTO], order_fields: set[str] | None
) -> tuple[Paging, Any]:
    """Validate a list request with its DTO and return (paging, validated DTO)."""
    filter_dto: type[Any] | None
    if dto is dtos.GetEventListRequestDTO:
        filter_dto = dtos.GetEventListFilterDTO
    elif dto is dtos.GetEventTypeListRequestDTO:
        filter_dto = dtos.GetEventTypeListFilterDTO
    else:
        filter_dto = None
    filter_fields = tuple(filter_dto.model_fields) if filter_dto else ()
    list_fields = tuple(
        name
        for name, f in (filter_dto.model_fields.items() if filter_dto else ())
        if "list" in str(f.annotation)
    )
    bool_fields = tuple(
        name
        for name, f in (filter_dto.model_fields.items() if filter_dto else ())
        if "bool" in str(f.annotation)
    )
    normalized = _normalize(params, list_fields, bool_fields, filter_fields)
    request = _validate(dto, normalized)
    if order_fields is not None and request.orderField and request.orderField not in order_fields:
        allowed = ", ".join(sorted(order_fields))
        raise Unprocessable.one("orderField", f"unknown order field; use one of: {allowed}")
    paging = Paging(
        page=request.page or DEFAULT_PAGE,
        on_page=request.onPage or DEFAULT_ON_PAGE,
        order_field=request.orderField,
        descending=request.orderDirection == "desc",
        skip_pagination=bool(request.skipPagination),
        explicit=request.page is not None or request.onPage is not None,
    )
    return paging, request


def _one_of(field: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise Unprocessable.one(field, f"must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _date(field: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise Unprocessable.one(field, f"not a valid Y-m-d date: {value!r}") from None


def _ids(values: list[int] | None) -> tuple[int, ...] | None:
    return tuple(values) if values is not None else None


def event_filter(
    request: dtos.GetEventListRequestDTO, *, case_sensitive: bool = False
) -> EventFilter:
    """The normalized event filter of a validated request."""
    f = request.filter or dtos.GetEventListFilterDTO()
    needle = f.invitee.strip() if f.invitee and f.invitee.strip() else None
    return EventFilter(
        ids=_ids(f.ids),
        event_type_type=_one_of("filter.eventTypeType", f.eventTypeType, EVENT_TYPE_KINDS),
        state=_one_of("filter.state", f.state, EVENT_STATES),
        payment_status=_one_of("filter.paymentStatus", f.paymentStatus, PAYMENT_STATUSES),
        invitee=needle if needle is None or case_sensitive else needle.lower(),
        invitee_case_sensitive=case_sensitive,
        uuid=f.uuid.strip() if f.uuid else None,
        event_type_list=_ids(f.eventTypeList),
        user_list=_ids(f.userList),
        organization_tag_list=_ids(f.organizationTagList),
        scheduled_from=_date("filter.scheduledAtFrom", f.scheduledAtFrom),
        scheduled_to=_date("filter.scheduledAtTo", f.scheduledAtTo),
    )


def event_type_filter(request: dtos.GetEventTypeListRequestDTO) -> EventTypeFilter:
    """The normalized event type filter of a validated request."""
    f = request.filter or dtos.GetEventTypeListFilterDTO()
    return EventTypeFilter(
        ids=_ids(f.ids),
        for_current_user=f.forCurrentUser,
        manage_round_robin=f.manageRoundRobin,
        type=_one_of("filter.type", f.type, EVENT_TYPE_KINDS),
    )
