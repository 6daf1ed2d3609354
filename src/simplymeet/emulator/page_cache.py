"""Rendered list pages kept as bytes between writes, so a page read twice is rendered once.

Rendering an event costs tens of microseconds of Python; a sync that re-reads pages (a second
sync, a re-read after counts did not add up, several clients paging the same store) would
otherwise pay it every time. A page is kept for (endpoint, raw query string) together with the
store's data version; it is served again only while that version is unchanged, and the whole
cache is dropped on every write request, whatever it changed (correctness first: some writes,
such as a new cancellation-policy version, bump no generation). Faults and anomalies act on
the response after `dispatch`, so they apply to a cached body exactly as to a fresh one.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simplymeet.emulator.store import Store

CACHED_ENDPOINTS = frozenset({"event_list"})
"""The endpoints whose 200 bodies are kept: the event list is what a sync reads at volume."""

DEFAULT_BUDGET_BYTES = 256 * 1024 * 1024
"""Pages kept at most, in bytes of body. A 100-event page is ~800 KB (every event embeds its
host and event type), so this holds ~32,000 events' worth. When it is full, new pages are not
kept: a full scan bigger than the budget would otherwise evict every page before it is read
again (least-recently-used is the worst policy for repeated scans); the first pages stay."""


class PageCache:
    """Bodies of list pages for one store, valid while the store's data version holds."""

    def __init__(self, store: Store, *, enabled: bool = True, budget_bytes: int = 0) -> None:
        self.store = store
        self.enabled = enabled
        """False renders every page afresh (the path before this cache, for benchmarks)."""
        self.budget_bytes = budget_bytes or DEFAULT_BUDGET_BYTES
        self._pages: OrderedDict[tuple[str, str], tuple[tuple[int, int], bytes]] = OrderedDict()
        self._bytes = 0
        self._kept_version = (-1, -1)
        self.hits = 0
        self.misses = 0

    def _version(self) -> tuple[int, int]:
        return self.store.generation, self.store.ref_generation

    def get(self, endpoint: str, query: str) -> bytes | None:
        """The body kept for this request, if the store has not changed since it was kept.

        Call under the store's lock."""
        if not self._keeps(endpoint):
            return None
        key = (endpoint, query)
        found = self._pages.get(key)
        if found is None or found[0] != self._version():
            self.misses += 1
            return None
        self._pages.move_to_end(key)
        self.hits += 1
        return found[1]

    def put(self, endpoint: str, query: str, body: bytes) -> None:
        """Keep a body just rendered from the store as it is now (under the store's lock)."""
        if not self._keeps(endpoint) or len(body) > self.budget_bytes:
            return
        version = self._version()
        if version != self._kept_version:  # every page kept so far is stale: drop them all
            self.clear()
            self._kept_version = version
        key = (endpoint, query)
        old = self._pages.pop(key, None)
        if old is not None:
            self._bytes -= len(old[1])
        if self._bytes + len(body) > self.budget_bytes:
            return
        self._pages[key] = (version, body)
        self._bytes += len(body)

    def _keeps(self, endpoint: str) -> bool:
        # Under `tie_order=random` the same request is answered in another order each time.
        random_ties = self.store.readings.tie_order == "random"
        return self.enabled and endpoint in CACHED_ENDPOINTS and not random_ties

    def clear(self) -> None:
        """Forget every page (on any write request)."""
        self._pages.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._pages)
