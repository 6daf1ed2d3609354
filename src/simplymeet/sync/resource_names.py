"""The names of the sync's resources, importable without dlt (the CLI's help lists them)."""

from __future__ import annotations

RESOURCE_NAMES: tuple[str, ...] = (
    "events",
    "event_types",
    "event_type_tags",
    "users",
    "current_user",
    "user_event_type_tags",
    "polls",
    "acl_rules",
    "integrations",
    "cancellation_policies",
    "availability",
)
"""Every resource `simplymeet_source` builds, in the order it builds them."""
