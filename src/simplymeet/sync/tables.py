"""The warehouse tables the sync writes, and how each is cut out of the API's DTOs.

One declaration per table: its columns (name, Arrow type, where the value sits in the DTO),
its primary key and, for child tables, the list in the parent DTO it unnests. The sync turns
pages of raw DTO dicts into Arrow tables with these exact schemas, so every field of the
reference has a typed column even when all its values are null, and the models in `sql/` can
rely on the names below.

Conventions: snake_case names; ids BIGINT; timestamps TIMESTAMPTZ in UTC; money DECIMAL(18, 2);
free-form arrays and objects (question config, ACL attributes, integrations) as JSON text.
Every table carries `_synced_at`, the start of the sync run that wrote the row.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from simplymeet.contract.dates import parse_api_datetime

ID = pa.int64()
INT = pa.int64()
TEXT = pa.string()
BOOL = pa.bool_()
FLOAT = pa.float64()
TIMESTAMP = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(18, 2)
JSON = pa.string()
DATE = pa.date32()

SYNCED_AT = "_synced_at"
DELETED_AT = "deleted_at"


@dataclass(frozen=True)
class Col:
    """A warehouse column: its name, Arrow type and path into the source DTO dict."""

    name: str
    type: pa.DataType
    path: tuple[str, ...] = ()
    json: bool = False

    def extract(self, row: dict[str, Any]) -> Any:
        """This column's value in one DTO, coerced to its type (the reference path)."""
        value: Any = row
        for key in self.path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        if value is None:
            return None
        if self.json:
            return json.dumps(value, separators=(",", ":"), sort_keys=True)
        return _coerce(value, self.type)

    def to_array(self, rows: Sequence[dict[str, Any]]) -> pa.Array:
        """This column over many DTOs as one typed Arrow array.

        The fast path hands the raw values to Arrow's C++ converters (and parses ISO 8601
        timestamps with Arrow's cast); any value they refuse, such as a `Y-m-d H:i:s`
        timestamp or an id sent as a string, sends the whole column down the reference path.
        Profiled on 100-event pages, this is where the sync spends most of its own CPU.
        """
        if self.json:
            return pa.array([self.extract(row) for row in rows], type=self.type)
        get = _getter(self.path)
        values = [get(row) for row in rows]
        try:
            if self.type == TIMESTAMP:
                return pa.array(values, type=TEXT).cast(TIMESTAMP)
            if self.type == MONEY:
                return pc.round(pa.array(values, type=FLOAT), 2).cast(MONEY)
            if self.type == BOOL and any(
                isinstance(v, int) and v is not True and v is not False for v in values
            ):
                raise TypeError("integers given for a boolean")
            return pa.array(values, type=self.type)
        except (
            pa.ArrowInvalid,
            pa.ArrowTypeError,
            pa.ArrowNotImplementedError,
            TypeError,
            OverflowError,
            ValueError,
        ):
            return pa.array(
                [None if v is None else _coerce(v, self.type) for v in values], type=self.type
            )


@functools.cache
def _getter(path: tuple[str, ...]) -> Callable[[dict[str, Any]], Any]:
    """A fast reader of `path` in a nested dict: None wherever the path breaks."""
    if len(path) == 1:
        (key,) = path
        return lambda row: row.get(key)
    if len(path) == 2:
        outer, inner = path

        def two(row: dict[str, Any]) -> Any:
            value = row.get(outer)
            return value.get(inner) if isinstance(value, dict) else None

        return two

    def deep(row: dict[str, Any]) -> Any:
        value: Any = row
        for key in path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return deep


def c(name: str, type_: pa.DataType, *path: str, json: bool = False) -> Col:
    """Column `name` read from `path` in the DTO (default: the camelCase of `name`)."""
    return Col(name, type_, path or (_camel(name),), json)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _coerce(value: Any, type_: pa.DataType) -> Any:
    if type_ == TIMESTAMP:
        return parse_api_datetime(value) if isinstance(value, str) else value
    if type_ == MONEY:
        try:
            return Decimal(str(value)).quantize(Decimal("0.01"))
        except InvalidOperation:
            return None
    if type_ in (ID, INT):
        if isinstance(value, bool):
            return int(value)
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if type_ == FLOAT:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if type_ == BOOL:
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)
    if type_ == TEXT:
        return (
            value
            if isinstance(value, str)
            else json.dumps(value)
            if isinstance(value, dict | list)
            else str(value)
        )
    if type_ == DATE:
        return dt.date.fromisoformat(str(value)[:10])
    return value


@dataclass(frozen=True)
class Table:
    """A warehouse table cut from one DTO, or from a list nested in it (a child table)."""

    name: str
    columns: tuple[Col, ...]
    primary_key: tuple[str, ...]
    children: tuple[Child, ...] = ()
    description: str = ""

    @property
    def schema(self) -> pa.Schema:
        return pa.schema(
            [
                pa.field(col.name, col.type, nullable=col.name not in self.primary_key)
                for col in self.columns
            ]
            + [pa.field(SYNCED_AT, TIMESTAMP)]
        )

    def to_arrow(self, rows: Sequence[dict[str, Any]], synced_at: dt.datetime) -> pa.Table:
        """Cut `rows` (raw DTO dicts) into an Arrow table with this table's exact schema."""
        arrays = [col.to_array(rows) for col in self.columns]
        arrays.append(pa.array([synced_at] * len(rows), type=TIMESTAMP))
        return pa.Table.from_arrays(arrays, schema=self.schema)


@dataclass(frozen=True)
class Child:
    """A list nested in a parent DTO that becomes its own table keyed to the parent."""

    table: Table
    list_path: tuple[str, ...]
    parent_key: str
    wrap_scalars: str | None = None

    def rows(self, parent: dict[str, Any], parent_id: Any) -> list[dict[str, Any]]:
        """The child's rows for one parent, each with the parent's key attached."""
        value: Any = parent
        for key in self.list_path:
            value = value.get(key) if isinstance(value, dict) else None
        out = []
        for position, item in enumerate(value or []):
            row = dict(item) if isinstance(item, dict) else {self.wrap_scalars or "value": item}
            row["__parent_id"] = parent_id
            row["__position"] = position
            out.append(row)
        return out


def parent_col(name: str) -> Col:
    return Col(name, ID, ("__parent_id",))


POSITION = Col("position_in_parent", INT, ("__position",))


# --- users and organization -----------------------------------------------------------------

USER_COLUMNS: tuple[Col, ...] = (
    c("id", ID),
    c("uuid", TEXT),
    c("email", TEXT),
    c("full_name", TEXT),
    c("slug", TEXT),
    c("subscription_users_limit", INT),
    c("is_second_factor_configured", BOOL),
    c("is_enabled", BOOL),
    c("date_format", TEXT),
    c("address", TEXT),
    c("state", TEXT),
    c("city", TEXT),
    c("zip", TEXT),
    c("country_id", TEXT),
    c("lat", FLOAT),
    c("lng", FLOAT),
    c("domain", TEXT),
    c("phone", TEXT),
    c("company_logo_name", TEXT),
    c("avatar_name", TEXT),
    c("organization_id", ID, "organization", "id"),
    c("created_at", TIMESTAMP),
    c("last_login", TIMESTAMP),
    c("connections", JSON, json=True),
    c("has_paid_subscription", BOOL),
    c("timezone", TEXT),
    c("time_format", TEXT),
    c("timezone_offset", TEXT),
)

USERS = Table("users", USER_COLUMNS, ("id",), description="UserDTO, one row per user")
CURRENT_USER = Table(
    "current_user", USER_COLUMNS, ("id",), description="UserDTO of the API key's owner"
)

ORGANIZATIONS = Table(
    "organizations",
    (
        c("id", ID),
        c("uuid", TEXT),
        c("slug", TEXT),
        c("name", TEXT),
        c("created_at", TIMESTAMP),
        c("locale", TEXT),
        c("rtl", BOOL),
        c("calendar_layout", TEXT),
        c("hide_unavailable_dates", BOOL),
        c("sunday_is_first_day", BOOL),
        c("email", TEXT),
        c("intro", TEXT),
        c("domain", TEXT),
        c("social_link_id", ID, "socialLink", "id"),
        c("social_link_facebook_url", TEXT, "socialLink", "facebookUrl"),
        c("social_link_twitter_url", TEXT, "socialLink", "twitterUrl"),
        c("social_link_instagram_url", TEXT, "socialLink", "instagramUrl"),
        c("social_link_linkedin_url", TEXT, "socialLink", "linkedinUrl"),
        c("social_link_whatsapp_url", TEXT, "socialLink", "whatsappUrl"),
    ),
    ("id",),
    description="OrganizationDTO, from the users' organization objects",
)

# --- event types ----------------------------------------------------------------------------

EVENT_TYPES = Table(
    "event_types",
    (
        c("id", ID),
        c("name", TEXT),
        c("color", TEXT),
        c("user_id", ID, "user", "id"),
        c("type", TEXT),
        c("duration", INT),
        c("slug", TEXT),
        c("amount", MONEY),
        c("currency", TEXT),
        c("location_type", TEXT),
        c("location", TEXT),
        c("is_enabled", BOOL),
        c("is_secret", BOOL),
        c("timezone", TEXT),
        c("is_localized", BOOL),
        c("duration_type", TEXT),
        c("position", INT),
        c("uuid", TEXT),
        c("is_allow_cancel", BOOL),
        c("is_allow_reschedule", BOOL),
        c("is_show_phone", BOOL),
        c("is_phone_field_required", BOOL),
        c("is_multiple_meeting", BOOL),
        c("location_label", TEXT),
        c("group_meeting_limit", INT),
        c("show_group_meeting_rest", BOOL),
    ),
    ("id",),
    children=(
        Child(
            Table(
                "event_types__users",
                (parent_col("event_type_id"), c("user_id", ID, "id"), POSITION),
                ("event_type_id", "user_id"),
            ),
            ("users",),
            "event_type_id",
        ),
        Child(
            Table(
                "event_types__durations",
                (parent_col("event_type_id"), c("id", ID), c("duration", INT), POSITION),
                ("event_type_id", "id"),
            ),
            ("eventTypeDurations",),
            "event_type_id",
        ),
        Child(
            Table(
                "event_types__request_location_types",
                (parent_col("event_type_id"), c("id", ID), c("location_type", TEXT), POSITION),
                ("event_type_id", "id"),
            ),
            ("eventTypeRequestLocationTypes",),
            "event_type_id",
        ),
        Child(
            Table(
                "event_types__questions",
                (
                    parent_col("event_type_id"),
                    c("uuid", TEXT),
                    c("label", TEXT),
                    c("type", TEXT),
                    c("required", BOOL),
                    c("config", JSON, json=True),
                    c("position", INT),
                    POSITION,
                ),
                ("event_type_id", "position_in_parent"),
            ),
            ("questions",),
            "event_type_id",
        ),
    ),
    description="EventTypeDTO, one row per event type",
)

EVENT_TYPE_TAGS = Table(
    "event_type_tags",
    (
        parent_col("event_type_id"),
        c("id", ID),
        c("name", TEXT),
        c("color", TEXT),
        c("position", INT),
        c("enabled", BOOL),
    ),
    ("event_type_id", "id"),
    description="EventTypeTagDTO per event type (the event-type-tag endpoint)",
)

USER_EVENT_TYPE_TAGS = Table(
    "user_event_type_tags",
    (
        c("id", ID),
        c("name", TEXT),
        c("color", TEXT),
        c("position", INT),
        c("user_id", ID, "user", "id"),
    ),
    ("id",),
    description="UserEventTypeTagDTO",
)

# --- events ---------------------------------------------------------------------------------

EVENTS = Table(
    "events",
    (
        c("id", ID),
        c("uuid", TEXT),
        c("user_id", ID, "user", "id"),
        c("event_type_id", ID, "eventType", "id"),
        c("invitee_id", ID, "invitee", "id"),
        c("invitee_email", TEXT, "invitee", "email"),
        c("invitee_full_name", TEXT, "invitee", "fullName"),
        c("invitee_timezone", TEXT, "invitee", "timezone"),
        c("invitee_phone_number", TEXT, "invitee", "phoneNumber"),
        c("invitee_locale", TEXT, "invitee", "locale"),
        c("invitee_cancellation_policy", TEXT, "invitee", "cancellationPolicy"),
        c("invitee_uuid", TEXT, "invitee", "uuid"),
        c("cancellation_id", ID, "cancellation", "id"),
        c("cancellation_canceler", TEXT, "cancellation", "canceler"),
        c("cancellation_reason", TEXT, "cancellation", "reason"),
        c("payment_provider", TEXT, "payment", "provider"),
        c("payment_amount", MONEY, "payment", "amount"),
        c("payment_currency", TEXT, "payment", "currency"),
        c("payment_status", TEXT, "payment", "status"),
        c("payment_system", TEXT, "payment", "system"),
        c("payment_reference_id", ID, "payment", "referenceId"),
        c("payment_overwrite_personal", BOOL, "payment", "overwritePersonal"),
        c("created_at", TIMESTAMP),
        c("updated_at", TIMESTAMP),
        c("scheduled_at", TIMESTAMP),
        c("end_date", TIMESTAMP),
        c("canceled_at", TIMESTAMP),
        c("state", TEXT),
        c("notes", TEXT),
        c("details", TEXT),
        c("location", TEXT),
        c("location_type", TEXT),
        c("online_event_id", TEXT),
        c("sent_email_reminder", INT),
        c("last_sent_invitee_email_reminder", INT),
        c("last_sent_invitee_email_follow_up", INT),
        c("duration", INT),
        c("related_event_ids", JSON, json=True),
        Col(DELETED_AT, TIMESTAMP, ("__deleted_at",)),
    ),
    ("id",),
    children=(
        Child(
            Table(
                "events__participants",
                (parent_col("event_id"), c("id", ID), c("email", TEXT), c("created_at", TIMESTAMP)),
                ("event_id", "id"),
            ),
            ("participants",),
            "event_id",
        ),
        Child(
            Table(
                "events__answers",
                (
                    parent_col("event_id"),
                    c("id", ID),
                    c("question_label", TEXT),
                    c("question_type", TEXT),
                    c("value", TEXT),
                    c("plain_value", TEXT),
                    c("question_uuid", TEXT),
                ),
                ("event_id", "id"),
            ),
            ("answers",),
            "event_id",
        ),
        Child(
            Table(
                "events__rescheduling",
                (
                    parent_col("event_id"),
                    c("id", ID),
                    c("rescheduler", TEXT),
                    c("reason", TEXT),
                    c("previously_scheduled_at", TIMESTAMP),
                    c("previous_user_id", ID, "previousUser", "id"),
                    POSITION,
                ),
                ("event_id", "id"),
            ),
            ("rescheduling",),
            "event_id",
        ),
        Child(
            Table(
                "events__users",
                (parent_col("event_id"), c("user_id", ID, "id"), POSITION),
                ("event_id", "user_id"),
            ),
            ("users",),
            "event_id",
        ),
    ),
    description="EventDTO, one row per booking; deleted_at is set when found deleted upstream",
)

# --- polls ----------------------------------------------------------------------------------

POLL_RESULTS = Table(
    "polls__availability__results",
    (
        c("poll_id", ID, "__poll_id"),
        parent_col("availability_id"),
        c("email", TEXT),
        c("comment", TEXT),
        POSITION,
    ),
    ("availability_id", "position_in_parent"),
)

POLLS = Table(
    "polls",
    (
        c("id", ID),
        c("uuid", TEXT),
        c("user_id", ID, "user", "id"),
        c("event_type_id", ID, "eventType", "id"),
        c("vote_visibility", BOOL),
        c("comment_visibility", BOOL),
        c("email_notification", BOOL),
        c("duration", INT),
        c("name", TEXT),
        c("created_at", TIMESTAMP),
    ),
    ("id",),
    children=(
        Child(
            Table(
                "polls__availability",
                (parent_col("poll_id"), c("id", ID), c("date", TIMESTAMP)),
                ("poll_id", "id"),
            ),
            ("availability",),
            "poll_id",
        ),
    ),
    description="PollDTO; availability slots and their results are child tables",
)

# --- configuration-like endpoints -----------------------------------------------------------

ACL_RULES = Table(
    "acl_rules",
    (
        c("resource", TEXT),
        c("attributes", JSON, json=True),
        c("allowed_attributes", JSON, json=True),
    ),
    ("resource",),
    description="AclRuleDTO",
)

INTEGRATIONS = Table(
    "integrations",
    (
        c("scope", TEXT, "__scope"),
        c("position_in_parent", INT, "__position"),
        c("name", TEXT, "__name"),
        c("data", JSON, "__item", json=True),
    ),
    ("scope", "position_in_parent"),
    description="IntegrationListDTO: one row per user or organization integration",
)

CANCELLATION_POLICIES = Table(
    "cancellation_policies",
    (
        c("type", TEXT),
        c("version", INT),
        c("enabled", BOOL),
        c("period", INT),
        c("label", TEXT),
        c("text", TEXT),
        c("overwrite_personal", BOOL),
        c("first_seen_at", TIMESTAMP, "__first_seen_at"),
    ),
    ("type", "version"),
    description="CancellationPolicyDTO; every version seen is kept (period in minutes)",
)

AVAILABILITY_DAYS = Table(
    "event_type_availability_days",
    (
        c("snapshot_date", DATE, "__snapshot_date"),
        c("event_type_id", ID, "__event_type_id"),
        c("date", DATE),
        c("available", BOOL),
        c("timezone", TEXT, "__timezone"),
    ),
    ("snapshot_date", "event_type_id", "date"),
    description="EventTypeAvailabilityDTO per day, as seen on snapshot_date",
)

AVAILABILITY_SLOTS = Table(
    "event_type_availability_slots",
    (
        c("snapshot_date", DATE, "__snapshot_date"),
        c("event_type_id", ID, "__event_type_id"),
        c("date", DATE, "__date"),
        c("start", TEXT),
        c("start_at", TIMESTAMP, "__start_at"),
        c("available", BOOL),
        c("duration_minutes", INT, "__duration"),
    ),
    ("snapshot_date", "event_type_id", "date", "start"),
    description="EventTypeAvailabilityHoursDTO: each start time offered, as seen on snapshot_date",
)

ALL_TABLES: tuple[Table, ...] = (
    EVENTS,
    EVENT_TYPES,
    EVENT_TYPE_TAGS,
    USERS,
    CURRENT_USER,
    ORGANIZATIONS,
    USER_EVENT_TYPE_TAGS,
    POLLS,
    ACL_RULES,
    INTEGRATIONS,
    CANCELLATION_POLICIES,
    AVAILABILITY_DAYS,
    AVAILABILITY_SLOTS,
)


def flatten(
    table: Table, dtos: Iterable[dict[str, Any]], synced_at: dt.datetime
) -> dict[str, pa.Table]:
    """Cut parent DTOs into Arrow tables for the table and each of its child tables.

    Tries the bulk C++ path first (`arrow_cut`); rows it cannot type go value by value.
    """
    from simplymeet.sync import arrow_cut

    parents = list(dtos)
    fast = arrow_cut.cut(table, parents, synced_at) if parents else None
    if fast is not None:
        return fast
    return flatten_by_value(table, parents, synced_at)


def flatten_by_value(
    table: Table, parents: Sequence[dict[str, Any]], synced_at: dt.datetime
) -> dict[str, pa.Table]:
    """The reference path of `flatten`: every value read and coerced in Python."""
    out = {table.name: table.to_arrow(parents, synced_at)}
    for child in table.children:
        _flatten_child(child, parents, table.primary_key[0], synced_at, out)
    return out


def _flatten_child(
    child: Child,
    parents: Sequence[dict[str, Any]],
    key: str,
    synced_at: dt.datetime,
    out: dict[str, pa.Table],
) -> None:
    rows: list[dict[str, Any]] = []
    for parent in parents:
        rows.extend(child.rows(parent, parent.get(key)))
    out[child.table.name] = child.table.to_arrow(rows, synced_at)


def child_tables(table: Table) -> list[Table]:
    """Every table nested under `table`."""
    return [child.table for child in table.children]


def table_by_name(name: str) -> Table:
    """Look up a declared table (parents and children) by its warehouse name."""
    for table in ALL_TABLES:
        if table.name == name:
            return table
        for child in table.children:
            if child.table.name == name:
                return child.table
    if name == POLL_RESULTS.name:
        return POLL_RESULTS
    raise KeyError(name)
