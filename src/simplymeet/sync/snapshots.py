"""Replaced tables that a run leaves as they are when their endpoint answered what they hold.

Users, event types, polls, tags and the other small lists are read whole on every run and
replace the account's rows (`source.REPLACE`). Loading an unchanged list again costs dlt a
copy job and a merge job per table, most of an incremental run's load. So each list's content
is digested and kept in its resource's state (committed with the load that wrote it); a run
that reads the same content, and finds the warehouse still holding the rows of that load,
loads nothing for it and stamps the rows with the run's `_synced_at` instead
(`cleanup.confirm_unchanged`), as a reload would have.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dlt
import pyarrow as pa

from simplymeet import __version__

STATE_KEY = "snapshot_digests"


@dataclass
class Snapshots:
    """The run's judge of which replaced lists are unchanged since their last load.

    `before` is the account's row count of each table before the run (the runner's count);
    `reload` (a full refresh) loads every list whatever it finds. Resources run on several
    threads; each adds only its own tables to `unchanged`.
    """

    before: Mapping[str, int]
    reload: bool = False
    unchanged: set[str] = field(default_factory=set)

    def is_unchanged(
        self,
        name: str,
        rows: Sequence[dict[str, Any]],
        tables: Mapping[str, pa.Table],
        digests: MutableMapping[str, str],
        *,
        rejected: bool = False,
    ) -> bool:
        """Whether `rows` (read for table `name`, cut into `tables`) were loaded as they are
        and are still there, by the digests of the lists last loaded (`resource_digests()`),
        which it updates.

        A list with rows set aside is never unchanged, and its digest is forgotten: what such
        a run loads is not the list the digest describes, so the list's return must load.
        """
        if rejected:
            digests.pop(name, None)
            return False
        digest = _digest(rows, tables)
        same = (
            not self.reload
            and digests.get(name) == digest
            and all(self.before.get(table) == cut.num_rows for table, cut in tables.items())
        )
        digests[name] = digest
        if same:
            self.unchanged.update(tables)
        return same


def resource_digests() -> MutableMapping[str, str]:
    """The digests of the lists the running dlt resource last loaded, in its state."""
    digests: MutableMapping[str, str] = dlt.current.resource_state().setdefault(STATE_KEY, {})
    return digests


def _digest(rows: Sequence[dict[str, Any]], tables: Mapping[str, pa.Table]) -> str:
    # The columns and this version are in it: a release that lands the same answer
    # differently loads the lists once again.
    h = hashlib.blake2b(digest_size=16)
    h.update(__version__.encode())
    for name in sorted(tables):
        h.update(f"\0{name}\0{tables[name].schema}".encode())
    h.update(json.dumps(rows, sort_keys=True, separators=(",", ":"), default=str).encode())
    return h.hexdigest()
