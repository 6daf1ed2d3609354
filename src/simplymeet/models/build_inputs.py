"""Whether a build would change anything: a fingerprint of everything the models are made of.

A scheduled sync of a quiet account loads nothing, yet rebuilt every model and ran every
data test (at 1M bookings such a run took 7.5 s; keeping the models, 2.6 s: bench/README.md).
The models are a function of their SQL, the seed tables and the raw tables they read, and of
nothing else: `as_of` is the last moment a sync found the events current (a quiet run too),
not the clock (except with no events at all, where it is `now()`, and no fingerprint is
taken). So a build that finds the fingerprint of
the last committed build may keep every model as it is.

Each model carries the fingerprint of the build that made it, as its comment: a model
replaced since by anything else (an analyst's `create or replace`, another version of this
program) has lost it, and the next build builds again.

The fingerprint of a raw table leaves its `_synced_at` out where a run stamps unchanged rows
again (the replaced lists a run confirms unchanged, `cleanup.confirm_unchanged`): their
content is hashed instead (with the stamp where the models read it: the availability days,
whose stamp says when the snapshot was taken). Booking tables are never stamped again
without being written, so their row count and the sum of their stamps (`_synced_at`,
`deleted_at`) say whether they changed, without hashing a million rows.
"""

from __future__ import annotations

import hashlib
from typing import Any

from simplymeet.landing_schema import AVAILABILITY_DAYS, EVENT_VERSIONS, EVENTS, RUNS_TABLE
from simplymeet.models.incremental import content_fingerprint, one_row_each
from simplymeet.models.project import Project
from simplymeet.models.seeds import MODELS_SCHEMA, SEEDS

_MARK = "simplymeet: built from inputs "
"""How a model's comment starts when a build made it; the fingerprint follows."""

_FORMAT = 3
"""Part of the fingerprint: bumped when what it covers changes."""

_STAMPED = "_synced_at"
_BOOKING_TABLES = frozenset(
    [EVENTS.name, EVENT_VERSIONS.name, *(child.table.name for child in EVENTS.children)]
)
"""Raw tables written only with a new `_synced_at` (or, for events, a new `deleted_at`)."""
_STAMP_READ = frozenset([AVAILABILITY_DAYS.name])
"""Raw tables whose `_synced_at` the models read (when a snapshot was taken decides which
local days it covers): hashed with it, so a snapshot read again unchanged builds again."""


def fingerprint(con: Any, project: Project, raw_schema: str) -> str | None:
    """The fingerprint of the models' inputs in `con` (DuckDB), after the seeds are written;
    None when no build may be skipped (no events: `as_of` is the clock)."""
    parts = [f"format {_FORMAT}", f"raw schema {raw_schema}"]
    parts += [
        f"{m.name}\n{m.materialization}\n{m.sql}\n{sorted(m.dialect_sql.items())}\n{m.incremental}"
        for m in project.models
    ]
    parts.append(content_fingerprint(con, tuple(sorted(SEEDS))))
    raw_tables = sorted({name for model in project.models for name in model.sources})
    columns = _columns(con, raw_schema)
    present = [name for name in raw_tables if name in columns]
    # One statement for every raw table (a union of one-row aggregates), not one each: ~20
    # statements of ~2 ms a build at 200 bookings, nearly all of it DuckDB planning them.
    selects: list[list[str]] = []
    for name in present:
        listed = columns[name]
        if name == RUNS_TABLE:
            # Every run adds a row; the models read only when the events were last current.
            selects.append(["epoch_us(max(events_current_at))"])
        elif name in _BOOKING_TABLES:
            # Every stamp, not the newest: a run whose clock is behind stamps below the newest.
            stamps = [f"sum(epoch_us({c}))" for c in (_STAMPED, "deleted_at") if c in listed]
            selects.append(["count(*)", *stamps])
        else:
            hashed = ", ".join(f'"{c}"' for c in listed if c != _STAMPED or name in _STAMP_READ)
            selects.append(["count(*)", f"sum(hash({hashed})::hugeint)"])
    rows = dict(zip(present, one_row_each(con, raw_schema, present, selects), strict=True))
    for name in raw_tables:
        if name not in columns:
            parts.append(f"{name}: absent")
            continue
        row = rows[name]
        if name == EVENTS.name and not row[0]:
            return None
        parts.append(f"{name}: {columns[name]} {row}")
    return hashlib.blake2b("\n\n".join(parts).encode(), digest_size=16).hexdigest()


def last_fingerprint(con: Any, project: Project) -> str | None:
    """The fingerprint every model of `project` carries from the build that made it; None
    when a model is missing, of another kind, or was made by anything else since."""
    found = {
        name: (kind, comment)
        for name, kind, comment in con.execute(
            "select table_name, 'table', comment from duckdb_tables() where schema_name = ? "
            "union all select view_name, 'view', comment from duckdb_views() "
            "where schema_name = ?",
            [MODELS_SCHEMA, MODELS_SCHEMA],
        ).fetchall()
    }
    marks = set()
    for model in project.models:
        kind, comment = found.get(model.name, (None, None))
        if kind != model.materialization or not str(comment or "").startswith(_MARK):
            return None
        marks.add(str(comment)[len(_MARK) :])
    return marks.pop() if len(marks) == 1 else None


def record(con: Any, project: Project, value: str | None) -> None:
    """Mark every model, in the build's transaction, with what it was made from (None: that
    it may not be kept)."""
    # A hex digest: safe as a literal (COMMENT ON takes no parameters).
    text = f"'{_MARK}{value}'" if value is not None else "null"
    for model in project.models:
        con.execute(f"comment on {model.materialization} {model.relation} is {text}")


def _columns(con: Any, schema: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for table, column in con.execute(
        "select table_name, column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? "
        "order by table_name, ordinal_position",
        [schema],
    ).fetchall():
        found.setdefault(table, []).append(column)
    return found
