"""The names of the sync's resources, importable without dlt (the CLI's help lists them)."""

from __future__ import annotations

from collections.abc import Iterable

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


def check_resources(resources: Iterable[str]) -> None:
    """Raise ValueError (exit 2) naming any of `resources` no resource is called: before
    anything is written (the warehouse file, dlt's pipeline folder)."""
    unknown = sorted(set(resources) - set(RESOURCE_NAMES))
    if unknown:
        raise ValueError(
            f"unknown resource(s) {', '.join(unknown)}; choose from {', '.join(RESOURCE_NAMES)}"
        )
