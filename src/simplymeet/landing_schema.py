"""The landing schema: the raw tables the sync writes and the SQL models read.

One declaration per table: its columns (name, Arrow type, where the value sits in the DTO),
its primary key, the contract DTO its rows are cut from and, for child tables, the list in the
parent DTO it unnests. Declarations only: turning DTO dicts into Arrow tables is the sync's job
(`simplymeet.sync.landing`), creating empty tables the models runner's (`models.sources`); both
import this module, neither imports the other.

Conventions: snake_case names; ids BIGINT; timestamps TIMESTAMPTZ in UTC; money DECIMAL(38, 9),
exactly as served; free-form arrays and objects (question config, ACL attributes, integrations)
as JSON text.
Every table carries `account` (the configured account it came from: keys are (account, id…),
since two accounts' ids overlap) and `_synced_at`, the start of the sync run that wrote the
row (the same value as `_sync_runs.started_at`); every table cut from a DTO also carries
`_extra`, the fields the server sent that the reference does not know, as a JSON object (null
when there were none).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from simplymeet.contract import dtos as d

ID = pa.int64()
INT = pa.int64()
TEXT = pa.string()
BOOL = pa.bool_()
FLOAT = pa.float64()
TIMESTAMP = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(38, 9)
"""An amount exactly as served (the reference types it a bare `number`). Scale 9: more places
than any currency's minor unit (ISO 4217 goes to 3 for KWD, BHD, … and 4 for CLF; a satoshi is
8), so no price is rounded. Precision 38: the widest DECIMAL both DuckDB and PostgreSQL hold,
leaving 29 digits before the point, more than any amount a JSON number carries exactly (see
`sync.values.as_amount`)."""
JSON = pa.string()
DATE = pa.date32()

SYNCED_AT = "_synced_at"
ACCOUNT = "account"
"""Which configured account a row came from (`simplymeet.accounts`): first part of every key."""
EXTRA = "_extra"
DELETED_AT = "deleted_at"

Path = tuple[str, ...]


@dataclass(frozen=True)
class Col:
    """A warehouse column: its name, Arrow type and path(s) into the source DTO dict.

    `paths[0]` is the reference's spelling; any further path is another spelling a server may
    use where the reference is ambiguous (the first one present wins).
    """

    name: str
    type: pa.DataType
    paths: tuple[Path, ...] = ()
    json: bool = False

    @property
    def path(self) -> Path:
        """The reference's path to this column's value."""
        return self.paths[0]

    @property
    def attached(self) -> bool:
        """Whether the value is attached by the sync (`__…` keys) rather than read from the DTO."""
        return self.path[0].startswith("__")


def c(name: str, type_: pa.DataType, *path: str, json: bool = False, also: Path = ()) -> Col:
    """Column `name` read from `path` in the DTO (default: the camelCase of `name`).

    `also` is a second spelling of the same field, read when the first is absent.
    """
    paths: tuple[Path, ...] = (path or (_camel(name),),)
    if also:
        paths += (also,)
    return Col(name, type_, paths, json)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True)
class Table:
    """A warehouse table cut from one DTO, or from a list nested in it (a child table)."""

    name: str
    columns: tuple[Col, ...]
    primary_key: tuple[str, ...]
    children: tuple[Child, ...] = ()
    description: str = ""
    dto: type[d.ResponseDTO] | None = None
    """The contract DTO a row is cut from; None for rows the sync assembles itself."""
    by_reference: bool = False
    """Rows name objects by id (an event's hosts, with the names the row embeds): each
    object lands whole, unknown fields included, in its own table where its list serves it,
    so its unknown fields are not kept again here."""

    @property
    def has_extra(self) -> bool:
        """Whether the table keeps unknown fields in `_extra` (every table cut from a DTO)."""
        return self.dto is not None and not self.by_reference

    @property
    def schema(self) -> pa.Schema:
        fields = [
            pa.field(col.name, col.type, nullable=col.name not in self.primary_key)
            for col in self.columns
        ]
        if self.has_extra:
            fields.append(pa.field(EXTRA, JSON))
        return pa.schema([*fields, pa.field(SYNCED_AT, TIMESTAMP)])

    @property
    def landed_schema(self) -> pa.Schema:
        """`schema` as it lands: the sync appends the account the rows came from."""
        return self.schema.append(pa.field(ACCOUNT, TEXT, nullable=False))

    @property
    def landed_key(self) -> tuple[str, ...]:
        """The key rows merge on in the warehouse: ids are unique within an account only."""
        return (ACCOUNT, *self.primary_key)

    def column(self, name: str) -> Col:
        """The declared column `name`."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")


@dataclass(frozen=True)
class Child:
    """A list nested in a parent DTO that becomes its own table keyed to the parent."""

    table: Table
    list_path: Path
    parent_key: str
    wrap_scalars: str | None = None
    """The field a scalar item of the list is read as (`"id"`: a user served as its id)."""


def parent_col(name: str) -> Col:
    """The column of a child table holding its parent's key."""
    return Col(name, ID, (("__parent_id",),))


POSITION = Col("position_in_parent", INT, (("__position",),))


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

USERS = Table(
    "users", USER_COLUMNS, ("id",), description="UserDTO, one row per user", dto=d.UserDTO
)
CURRENT_USER = Table(
    "current_user",
    USER_COLUMNS,
    ("id",),
    description="UserDTO of the API key's owner",
    dto=d.UserDTO,
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
    dto=d.OrganizationDTO,
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
                dto=d.UserDTO,
                by_reference=True,
            ),
            ("users",),
            "event_type_id",
            wrap_scalars="id",  # a user served as its id (see `sync.values.getter`)
        ),
        Child(
            Table(
                "event_types__durations",
                (parent_col("event_type_id"), c("id", ID), c("duration", INT), POSITION),
                ("event_type_id", "id"),
                dto=d.EventTypeDurationDTO,
            ),
            ("eventTypeDurations",),
            "event_type_id",
        ),
        Child(
            Table(
                "event_types__request_location_types",
                (parent_col("event_type_id"), c("id", ID), c("location_type", TEXT), POSITION),
                ("event_type_id", "id"),
                dto=d.EventTypeRequestLocationTypeDTO,
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
                dto=d.QuestionDTO,
            ),
            ("questions",),
            "event_type_id",
        ),
    ),
    description="EventTypeDTO, one row per event type",
    dto=d.EventTypeDTO,
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
    dto=d.EventTypeTagDTO,
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
    dto=d.UserEventTypeTagDTO,
)

# --- events ---------------------------------------------------------------------------------

EVENTS = Table(
    "events",
    (
        c("id", ID),
        c("uuid", TEXT),
        c("user_id", ID, "user", "id"),
        c("user_timezone", TEXT, "user", "timezone"),
        # The owner's and the type's names as the booking embeds them: a host the user list
        # no longer serves, or a type deleted upstream, keeps its name on its bookings.
        c("user_full_name", TEXT, "user", "fullName"),
        c("user_email", TEXT, "user", "email"),
        c("event_type_id", ID, "eventType", "id"),
        c("event_type_name", TEXT, "eventType", "name"),
        c("event_type_kind", TEXT, "eventType", "type"),
        c("event_type_duration", INT, "eventType", "duration"),
        c("event_type_timezone", TEXT, "eventType", "timezone"),
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
        Col(DELETED_AT, TIMESTAMP, (("__deleted_at",),)),
    ),
    ("id",),
    children=(
        Child(
            Table(
                "events__participants",
                (parent_col("event_id"), c("id", ID), c("email", TEXT), c("created_at", TIMESTAMP)),
                ("event_id", "id"),
                dto=d.ParticipantDTO,
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
                dto=d.AnswerDTO,
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
                dto=d.ReschedulingDTO,
            ),
            ("rescheduling",),
            "event_id",
        ),
        Child(
            Table(
                "events__users",
                (
                    parent_col("event_id"),
                    c("user_id", ID, "id"),
                    c("full_name", TEXT, "fullName"),
                    c("email", TEXT, "email"),
                    POSITION,
                ),
                ("event_id", "user_id"),
                dto=d.UserDTO,
                by_reference=True,
            ),
            ("users",),
            "event_id",
            wrap_scalars="id",  # a user served as its id (see `sync.values.getter`)
        ),
    ),
    description="EventDTO, one row per booking; deleted_at is set when found deleted upstream",
    dto=d.EventDTO,
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
    # With the poll: slot ids may be numbered within each poll (a vote names its poll by
    # uuid), so a slot id alone does not name one slot.
    ("poll_id", "availability_id", "position_in_parent"),
    dto=d.PollResultDTO,
)

POLLS = Table(
    "polls",
    (
        c("id", ID),
        c("uuid", TEXT),
        c("user_id", ID, "user", "id"),
        c("user_timezone", TEXT, "user", "timezone"),
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
                dto=d.PollAvailabilityDTO,
            ),
            ("availability",),
            "poll_id",
        ),
    ),
    description="PollDTO; availability slots and their results are child tables",
    dto=d.PollDTO,
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
    dto=d.AclRuleDTO,
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
        c("overwrite_personal", BOOL, "overwrite_personal", also=("overwritePersonal",)),
        c("first_seen_at", TIMESTAMP, "__first_seen_at"),
    ),
    ("type", "version"),
    description="CancellationPolicyDTO; every version seen is kept (period in minutes)",
    dto=d.CancellationPolicyDTO,
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
    dto=d.EventTypeAvailabilityDTO,
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
    dto=d.EventTypeAvailabilityHoursDTO,
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


REJECTED_ROWS = Table(
    "_rejected_rows",
    (
        c("table_name", TEXT, "__table"),
        c("reason", TEXT, "__reason"),
        c("row_id", TEXT, "__row_id"),
        c("raw", JSON, "__raw"),
    ),
    (),
    description="Rows that break the contract, as served, with why: quarantined, not loaded",
)
"""Quarantine: one row per rejected DTO per run; `_synced_at` names the run."""

_VERSION_COLUMNS = (
    "id",
    "updated_at",
    "created_at",
    "state",
    "scheduled_at",
    "end_date",
    "duration",
    "user_id",
    "event_type_id",
    "canceled_at",
    "cancellation_canceler",
    "cancellation_reason",
)

EVENT_VERSIONS = Table(
    "event_versions",
    tuple(col for name in _VERSION_COLUMNS for col in EVENTS.columns if col.name == name),
    ("id", "updated_at"),
    description="EventDTO fields that make its history, one row per (id, updatedAt) seen",
)
"""Booking history: every version of an event the sync read (see `sync/history.py`)."""


def child_tables(table: Table) -> list[Table]:
    """Every table nested under `table`."""
    return [child.table for child in table.children]


def table_by_name(name: str) -> Table:
    """Look up a declared table (parents and children) by its warehouse name."""
    for table in (*ALL_TABLES, POLL_RESULTS, REJECTED_ROWS):
        if table.name == name:
            return table
        for child in table.children:
            if child.table.name == name:
                return child.table
    raise KeyError(name)


def written_table_names() -> frozenset[str]:
    """Every table a sync writes in its dataset (dlt's own `_dlt_*` aside): each declared
    table and its children, the booking history and the runs' record."""
    parents = (*ALL_TABLES, POLL_RESULTS, REJECTED_ROWS, EVENT_VERSIONS)
    return frozenset(
        [
            RUNS_TABLE,
            *(t.name for t in parents),
            *(c.table.name for t in parents for c in t.children),
        ]
    )


def sourced_paths(table: Table) -> dict[Path, Col]:
    """Every DTO path `table` reads, each spelling, with the column it lands in."""
    return {path: col for col in table.columns if not col.attached for path in col.paths}


RUNS_TABLE = "_sync_runs"
"""The runs of the sync, one row each: the audit trail, the reconcile cadence's clock, and
the moment the models judge past from (`events_current_at`). The runner writes it in plain
SQL, not through dlt."""

RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("started_at", "timestamp with time zone"),
    ("finished_at", "timestamp with time zone"),
    ("mode", "varchar"),
    ("reconciled", "boolean"),
    ("deleted_found", "bigint"),
    ("drift_detected", "boolean"),
    ("requests", "bigint"),
    ("rows_loaded", "bigint"),
    (ACCOUNT, "varchar"),
    ("served_count", "bigint"),
    ("held_count", "bigint"),
    ("unjudged_served_count", "bigint"),
    ("unjudged_held_count", "bigint"),
    ("events_current_at", "timestamp with time zone"),
)
"""`RUNS_TABLE`'s columns and their SQL types (DuckDB's and PostgreSQL's alike). A table an
earlier version made lacks the later ones: whoever writes or reads it adds them."""
