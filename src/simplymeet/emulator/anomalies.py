"""Rows that break the contract, served on demand: what a buggy or newer server sends.

An `AnomalySpec` is built in Python or parsed from a string such as

    null_id=17|18,text_id=19,bad_timestamp=20,timestamp_field=scheduledAt,
    extra=loyaltyTier|invitee.pronouns,endpoints=event_list|event_get

- `null_id`: rows with these ids are served with `"id": null`;
- `text_id`: … with a non-integer id (`"id": "x19"`);
- `bad_timestamp`: … with `timestamp_field` (default `updatedAt`) set to an unparseable text;
- `extra`: every row served gets these fields the reference does not know (a dotted name
  goes inside that nested object), each valued `"<name>-<row id>"`;
- `omit`: every row served leaves out these fields (a dotted name: inside that nested
  object), as a server that sends only what is set (`omit=color|position,endpoints=
  user_event_type_tag_list`);
- `state_words`: `state` values served as another word, e.g. `no_show:absent|canceled:
  canceled_by_host` (a server whose vocabulary is not ours);
- `string_ids`: every row's `id`, `eventType.id` and `user.id` served as digit strings
  (`"201"`), which the reference types as int;
- `null_updated`: rows with these ids are served with `"updatedAt": null` (never updated, on
  a server that leaves the stamp empty until then), and the event list ordered by `updatedAt`
  sorts them as SQLite and MySQL sort NULL: after every stamp when descending.
- `unlisted`: rows with these ids are left out of every list answer (`filter[ids]` pages
  too) while its `meta` still counts them, and a single get serves them: a list query that
  counts rows before a join drops them.

Rows are chosen by their real id, so the same row is broken in every response that carries it
(list pages, `filter[ids]` pages, single gets). Scope: `endpoints` (contract endpoint names,
default `event_list|event_get`); answers outside it, errors and streamed answers are left alone.
Like faults, a spec can be swapped at any time (`RunningEmulator.set_anomalies`); None serves
every row as the store has it, which is how a test plays "fixed upstream".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simplymeet.emulator import spec_text
from simplymeet.emulator.render import dumps, loads

DEFAULT_ENDPOINTS = frozenset({"event_list", "event_get"})
UNPARSEABLE = "not-a-timestamp"
"""The value `bad_timestamp` serves: no reading of the reference parses it."""


@dataclass(frozen=True)
class AnomalySpec:
    """Which rows to break and how. See the module docstring for the syntax."""

    null_id: frozenset[int] = frozenset()
    text_id: frozenset[int] = frozenset()
    bad_timestamp: frozenset[int] = frozenset()
    timestamp_field: str = "updatedAt"
    extra: tuple[str, ...] = ()
    omit: tuple[str, ...] = ()
    state_words: tuple[tuple[str, str], ...] = ()
    string_ids: bool = False
    null_updated: frozenset[int] = frozenset()
    unlisted: frozenset[int] = frozenset()
    endpoints: frozenset[str] = DEFAULT_ENDPOINTS

    def __post_init__(self) -> None:
        from simplymeet.contract.endpoints import ENDPOINTS

        unknown = sorted(set(self.endpoints) - set(ENDPOINTS))
        if unknown:
            raise ValueError(f"unknown endpoint name(s) in anomaly scope: {', '.join(unknown)}")

    @classmethod
    def parse(cls, text: str) -> AnomalySpec:
        """Build a spec from `key=value,…` (lists `|`-separated)."""
        values: dict[str, Any] = {}
        for key, raw in spec_text.pairs(text, "anomaly"):
            items = spec_text.items(raw)
            if key in ("null_id", "text_id", "bad_timestamp", "null_updated", "unlisted"):
                try:
                    values[key] = frozenset(int(x) for x in items)
                except ValueError:
                    raise ValueError(f"{key} takes row ids, got {raw!r}") from None
            elif key == "timestamp_field":
                values[key] = raw.strip()
            elif key in ("extra", "omit"):
                values[key] = tuple(items)
            elif key == "state_words":
                pairs = [tuple(x.split(":", 1)) for x in items]
                if any(len(p) != 2 for p in pairs):
                    raise ValueError(f"state_words takes ours:theirs pairs, got {raw!r}")
                values[key] = tuple(pairs)
            elif key == "string_ids":
                values[key] = raw.strip().lower() in ("1", "true", "yes")
            elif key == "endpoints":
                values[key] = frozenset(items)
            else:
                known = (
                    "null_id, text_id, bad_timestamp, timestamp_field, extra, omit, "
                    "state_words, string_ids, null_updated, unlisted, endpoints"
                )
                raise ValueError(f"unknown anomaly setting {key!r}; known: {known}")
        return cls(**values)

    @classmethod
    def coerce(cls, value: AnomalySpec | str | None) -> AnomalySpec | None:
        """Accept a spec, its string form, or None (no anomalies)."""
        if value is None or isinstance(value, AnomalySpec):
            return value
        return cls.parse(value) if value.strip() else None

    def applies_to(self, endpoint: str | None) -> bool:
        return endpoint in self.endpoints

    def apply(self, body: bytes) -> bytes:
        """The JSON body with its rows broken as specified (either list shape, or one object)."""
        data = loads(body)
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            rows = data["items"] = self._listed(data["items"])
        elif isinstance(data, list):
            rows = data = self._listed(data)
        else:
            rows = [data]
        for row in rows:
            if isinstance(row, dict):
                self._break(row)
        return dumps(data).encode("utf-8")

    def _listed(self, rows: list[Any]) -> list[Any]:
        if not self.unlisted:
            return rows
        return [r for r in rows if not (isinstance(r, dict) and r.get("id") in self.unlisted)]

    def _break(self, row: dict[str, Any]) -> None:
        real = row.get("id")
        for name in self.extra:
            target, _, leaf = name.rpartition(".")
            holder = row.get(target) if target else row
            if isinstance(holder, dict):
                holder[leaf] = f"{name}-{real}"
        for name in self.omit:
            target, _, leaf = name.rpartition(".")
            holder = row.get(target) if target else row
            if isinstance(holder, dict):
                holder.pop(leaf, None)
        words = dict(self.state_words)
        if row.get("state") in words:
            row["state"] = words[row["state"]]
        if self.string_ids:
            for holder in (row, row.get("eventType"), row.get("user")):
                if isinstance(holder, dict) and isinstance(holder.get("id"), int):
                    holder["id"] = str(holder["id"])
        if real in self.null_updated:
            row["updatedAt"] = None
        if real in self.bad_timestamp:
            row[self.timestamp_field] = UNPARSEABLE
        if real in self.null_id:
            row["id"] = None
        elif real in self.text_id:
            row["id"] = f"x{real}"

    def __str__(self) -> str:
        return spec_text.render(self, "none")
