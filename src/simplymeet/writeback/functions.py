"""One Python function per mutating endpoint, named after it (`event_cancel_list`, ...).

Each takes the settings and a client, targets (`ids`, `ids_file`, `sql` or `rows`, as the
command-line flags) and the request's fields as keyword arguments (defaults for every row; a
row's column of the same name wins), and returns the run's `RunReport`. Run options pass
through to `api.run_operation`: `dry_run`, `job`, `chunk_size`, `concurrency`,
`retry_unknown`, `refresh`, `confirm`, `on_progress`.

    report = event_no_show_list(settings, client, ids=[101, 102, 103])
    report = event_reschedule(settings, client, rows=[{"id": 5, "start": "2026-12-01 10:00:00"}])

Generated code would hide the signatures from editors and type checkers, so they are spelled
out; `tests/test_writeback_api.py` checks they match the operation table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simplymeet.config import Settings
from simplymeet.writeback.api import run_operation
from simplymeet.writeback.execute import RunReport
from simplymeet.writeback.targets import Targets

if TYPE_CHECKING:
    from simplymeet.client import ApiClient

__all__ = [
    "availability_rule_save",
    "event_cancel",
    "event_cancel_list",
    "event_create",
    "event_delete",
    "event_delete_list",
    "event_edit",
    "event_invite_participants",
    "event_no_show",
    "event_no_show_list",
    "event_notes",
    "event_reschedule",
    "event_resend_notification",
    "event_type_tag_add",
    "event_type_tag_remove",
    "organization_cancellation_policy_update",
    "poll_create",
    "poll_delete",
    "poll_result_create",
    "single_use_link_create",
    "user_cancellation_policy_update",
    "user_event_type_tag_create",
    "user_event_type_tag_delete",
    "user_event_type_tag_update",
]

Ids = Sequence[int] | str | None
Rows = Sequence[dict[str, Any]] | None


def _run(
    name: str,
    settings: Settings,
    client: ApiClient,
    targets: Targets,
    values: dict[str, Any],
    run: dict[str, Any],
) -> RunReport:
    return run_operation(name, settings, client, targets, values, **run)


def event_create(
    settings: Settings,
    client: ApiClient,
    *,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    event_type: int | None = None,
    scheduled_at: str | dt.datetime | None = None,
    multiple_scheduled_at: Sequence[str | dt.datetime] | str | None = None,
    invitee_full_name: str | None = None,
    invitee_email: str | None = None,
    invitee_timezone: str | None = None,
    invitee_locale: str | None = None,
    invitee_phone_number: str | None = None,
    invitee_cancellation_policy: str | None = None,
    duration_id: int | None = None,
    answers: Any | None = None,
    participants: Sequence[str] | str | None = None,
    location_type: str | None = None,
    location: str | None = None,
    **run: Any,
) -> RunReport:
    """Book events, one per row (CSV/JSONL/--sql columns or options)."""
    return _run(
        "event_create",
        settings,
        client,
        Targets(None, ids_file, sql, rows),
        {
            "event_type": event_type,
            "scheduled_at": scheduled_at,
            "multiple_scheduled_at": multiple_scheduled_at,
            "invitee_full_name": invitee_full_name,
            "invitee_email": invitee_email,
            "invitee_timezone": invitee_timezone,
            "invitee_locale": invitee_locale,
            "invitee_phone_number": invitee_phone_number,
            "invitee_cancellation_policy": invitee_cancellation_policy,
            "duration_id": duration_id,
            "answers": answers,
            "participants": participants,
            "location_type": location_type,
            "location": location,
        },
        run,
    )


def event_edit(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    invitee_full_name: str | None = None,
    invitee_phone_number: str | None = None,
    answers: Any | None = None,
    **run: Any,
) -> RunReport:
    """Edit the invitee's name or phone and answers of events."""
    return _run(
        "event_edit",
        settings,
        client,
        Targets(ids, ids_file, sql, rows),
        {
            "invitee_full_name": invitee_full_name,
            "invitee_phone_number": invitee_phone_number,
            "answers": answers,
        },
        run,
    )


def event_cancel(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    reason: str | None = None,
    **run: Any,
) -> RunReport:
    """Cancel events one request each (per-row reasons allowed)."""
    return _run(
        "event_cancel", settings, client, Targets(ids, ids_file, sql, rows), {"reason": reason}, run
    )


def event_cancel_list(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    reason: str | None = None,
    **run: Any,
) -> RunReport:
    """Cancel events in chunks of --chunk-size ids per request."""
    return _run(
        "event_cancel_list",
        settings,
        client,
        Targets(ids, ids_file, sql, rows),
        {"reason": reason},
        run,
    )


def event_delete(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    **run: Any,
) -> RunReport:
    """Delete events one request each."""
    return _run("event_delete", settings, client, Targets(ids, ids_file, sql, rows), {}, run)


def event_delete_list(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    **run: Any,
) -> RunReport:
    """Delete events in chunks of --chunk-size ids per request."""
    return _run("event_delete_list", settings, client, Targets(ids, ids_file, sql, rows), {}, run)


def event_notes(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    notes: str | None = None,
    **run: Any,
) -> RunReport:
    """Replace events' notes (one text for all, or a notes column per row)."""
    return _run(
        "event_notes", settings, client, Targets(ids, ids_file, sql, rows), {"notes": notes}, run
    )


def event_invite_participants(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    emails: Sequence[str] | str | None = None,
    message: str | None = None,
    **run: Any,
) -> RunReport:
    """Invite participants by e-mail to events (a POST: never sent twice blindly)."""
    return _run(
        "event_invite_participants",
        settings,
        client,
        Targets(ids, ids_file, sql, rows),
        {"emails": emails, "message": message},
        run,
    )


def event_no_show(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    **run: Any,
) -> RunReport:
    """Mark events as no-shows, one request each."""
    return _run("event_no_show", settings, client, Targets(ids, ids_file, sql, rows), {}, run)


def event_no_show_list(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    **run: Any,
) -> RunReport:
    """Mark events as no-shows in chunks of --chunk-size ids per request."""
    return _run("event_no_show_list", settings, client, Targets(ids, ids_file, sql, rows), {}, run)


def event_reschedule(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    start: str | dt.datetime | None = None,
    end: str | dt.datetime | None = None,
    event_type_id: int | None = None,
    user_id: int | None = None,
    **run: Any,
) -> RunReport:
    """Move events to a new start (one for all, or a start column per row)."""
    return _run(
        "event_reschedule",
        settings,
        client,
        Targets(ids, ids_file, sql, rows),
        {"start": start, "end": end, "event_type_id": event_type_id, "user_id": user_id},
        run,
    )


def event_resend_notification(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    **run: Any,
) -> RunReport:
    """Send events' notifications again."""
    return _run(
        "event_resend_notification", settings, client, Targets(ids, ids_file, sql, rows), {}, run
    )


def availability_rule_save(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    availability_rules: Any | None = None,
    period_type: str | None = None,
    period_type_config: Any | None = None,
    availability_type: str | None = None,
    **run: Any,
) -> RunReport:
    """Save availability rules for event types (--chunk-size event types per request)."""
    return _run(
        "availability_rule_save",
        settings,
        client,
        Targets(ids, ids_file, sql, rows),
        {
            "availability_rules": availability_rules,
            "period_type": period_type,
            "period_type_config": period_type_config,
            "availability_type": availability_type,
        },
        run,
    )


def organization_cancellation_policy_update(
    settings: Settings,
    client: ApiClient,
    *,
    enabled: bool | None = None,
    period: int | None = None,
    label: str | None = None,
    text: str | None = None,
    overwrite_personal: bool | None = None,
    **run: Any,
) -> RunReport:
    """Update the organization's cancellation policy (a new version)."""
    return _run(
        "organization_cancellation_policy_update",
        settings,
        client,
        Targets(),
        {
            "enabled": enabled,
            "period": period,
            "label": label,
            "text": text,
            "overwrite_personal": overwrite_personal,
        },
        run,
    )


def user_cancellation_policy_update(
    settings: Settings,
    client: ApiClient,
    *,
    enabled: bool | None = None,
    period: int | None = None,
    label: str | None = None,
    text: str | None = None,
    overwrite_personal: bool | None = None,
    **run: Any,
) -> RunReport:
    """Update the user's cancellation policy (a new version)."""
    return _run(
        "user_cancellation_policy_update",
        settings,
        client,
        Targets(),
        {
            "enabled": enabled,
            "period": period,
            "label": label,
            "text": text,
            "overwrite_personal": overwrite_personal,
        },
        run,
    )


def event_type_tag_add(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    tag_id: int | None = None,
    **run: Any,
) -> RunReport:
    """Put a tag on event types."""
    return _run(
        "event_type_tag_add",
        settings,
        client,
        Targets(ids, ids_file, sql, rows),
        {"tag_id": tag_id},
        run,
    )


def event_type_tag_remove(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    tag_id: int | None = None,
    **run: Any,
) -> RunReport:
    """Take a tag off event types."""
    return _run(
        "event_type_tag_remove",
        settings,
        client,
        Targets(ids, ids_file, sql, rows),
        {"tag_id": tag_id},
        run,
    )


def user_event_type_tag_create(
    settings: Settings,
    client: ApiClient,
    *,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    name: str | None = None,
    color: str | None = None,
    position: int | None = None,
    **run: Any,
) -> RunReport:
    """Create user event type tags, one per row (a POST: never sent twice blindly)."""
    return _run(
        "user_event_type_tag_create",
        settings,
        client,
        Targets(None, ids_file, sql, rows),
        {"name": name, "color": color, "position": position},
        run,
    )


def user_event_type_tag_update(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    name: str | None = None,
    color: str | None = None,
    position: int | None = None,
    **run: Any,
) -> RunReport:
    """Rename, recolor or move user event type tags."""
    return _run(
        "user_event_type_tag_update",
        settings,
        client,
        Targets(ids, ids_file, sql, rows),
        {"name": name, "color": color, "position": position},
        run,
    )


def user_event_type_tag_delete(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    **run: Any,
) -> RunReport:
    """Delete user event type tags."""
    return _run(
        "user_event_type_tag_delete", settings, client, Targets(ids, ids_file, sql, rows), {}, run
    )


def poll_create(
    settings: Settings,
    client: ApiClient,
    *,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    event_type_id: int | None = None,
    name: str | None = None,
    duration: int | None = None,
    vote_visibility: bool | None = None,
    comment_visibility: bool | None = None,
    email_notification: bool | None = None,
    availability: Sequence[str | dt.datetime] | str | None = None,
    **run: Any,
) -> RunReport:
    """Create polls, one per row (a POST: never sent twice blindly)."""
    return _run(
        "poll_create",
        settings,
        client,
        Targets(None, ids_file, sql, rows),
        {
            "event_type_id": event_type_id,
            "name": name,
            "duration": duration,
            "vote_visibility": vote_visibility,
            "comment_visibility": comment_visibility,
            "email_notification": email_notification,
            "availability": availability,
        },
        run,
    )


def poll_delete(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    **run: Any,
) -> RunReport:
    """Delete polls."""
    return _run("poll_delete", settings, client, Targets(ids, ids_file, sql, rows), {}, run)


def poll_result_create(
    settings: Settings,
    client: ApiClient,
    *,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    uuid: str | None = None,
    availability: Sequence[int] | str | None = None,
    email: str | None = None,
    comment: str | None = None,
    **run: Any,
) -> RunReport:
    """Vote in polls: slots chosen by an e-mail (a POST: never sent twice blindly)."""
    return _run(
        "poll_result_create",
        settings,
        client,
        Targets(None, ids_file, sql, rows),
        {"uuid": uuid, "availability": availability, "email": email, "comment": comment},
        run,
    )


def single_use_link_create(
    settings: Settings,
    client: ApiClient,
    *,
    ids: Ids = None,
    ids_file: str | Path | None = None,
    sql: str | None = None,
    rows: Rows = None,
    **run: Any,
) -> RunReport:
    """Create a single-use booking link per event type (a POST: never sent twice blindly)."""
    return _run(
        "single_use_link_create", settings, client, Targets(ids, ids_file, sql, rows), {}, run
    )
