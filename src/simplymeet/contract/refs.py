"""References between DTOs, read either way the reference allows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def ref_id(value: Any) -> Any:
    """The id of a reference served as an object (`{"id": 5, …}`) or as the id itself."""
    return value.get("id") if isinstance(value, Mapping) else value
