"""Every version of an event the sync has seen, landed beside the events themselves.

`raw.events` is merged on id, so it holds each booking's latest state only. The events
resource also writes `raw.event_versions`, cut from the same Arrow batch (a column selection,
no second pass over the dicts), merged `insert-only` on (id, updated_at): a version read again
(the lag window, a full refresh, a run resumed after a kill) is not inserted twice, and the
`_synced_at` kept is the first sync that saw it, which is what makes "as known on date X"
reproducible. Chosen over dlt's `scd2` merge, which costs about the same to land (B7 in
bench/README.md) but treats each load as a full snapshot (our incremental runs would retire
every event they did not re-read), needs a content hash we would compute for Arrow rows, and
dates versions by load time rather than by the API's `updatedAt`.

Resolution is the API's: a version is an `updatedAt` a sync read. Two changes between syncs
are seen as their end state only, and two changes within the same second of `updatedAt`
share a key, so the first one read is kept.

An event served with `updatedAt` null (docs/api-notes.md: a server may leave the stamp empty
until the first update) is keyed by its `createdAt`: never updated, it has been as it is since
it was created, and its first real stamp later is a version of its own after it. Changes
served without a stamp all share that key, as changes within one second share theirs (the
first read is kept here; `stg_event_versions` places the booking's latest one, see there).
An event with neither stamp has no version to key.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from simplymeet.landing_schema import EVENT_VERSIONS
from simplymeet.sync import tables as t

__all__ = ["EVENT_VERSIONS", "versions"]


def versions(events: pa.Table) -> pa.Table:
    """The rows of `events` (an Arrow table cut as `raw.events`) as `raw.event_versions`.

    A row without `updatedAt` is keyed (its `updated_at`) by its `createdAt`; a row with
    neither, or without an id, is left out (the event itself still lands). A batch that holds
    one version twice keeps it once.
    """
    names = [col.name for col in EVENT_VERSIONS.columns] + [t.SYNCED_AT]
    cut = events.select(names)
    stamp = pc.coalesce(cut["updated_at"], cut["created_at"])
    cut = cut.set_column(cut.schema.get_field_index("updated_at"), "updated_at", stamp)
    cut = cut.filter(pc.and_(pc.is_valid(cut["id"]), pc.is_valid(cut["updated_at"])))
    if cut.num_rows > 1:
        keys = pc.binary_join_element_wise(
            pc.cast(cut["id"], pa.string()),
            pc.cast(pc.cast(cut["updated_at"], pa.int64()), pa.string()),
            "|",
        )
        unique = pc.unique(keys)
        if len(unique) < cut.num_rows:
            first = pc.index_in(unique, value_set=keys)
            cut = cut.take(first)
    return cut.cast(EVENT_VERSIONS.schema)
