"""Checking what a scan read against what the server says it holds.

Every `{meta, items}` page states the list's `itemsCount` at the moment it was answered, and
so how many items that page must carry. A page with fewer (or more) is a page the server got
wrong; a scan whose pages do not add up to the count has lost rows. Plain-array lists carry no
count and are taken as they come.

A problem that re-reading does not fix is collected in a `ScanReport`; the runner loads what
was read (nothing already loaded is lost) and then fails the run with `IncompleteScanError`,
which the command line turns into exit code 8.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from simplymeet.client.errors import SimplyMeetError
from simplymeet.client.pages import Page

log = logging.getLogger("simplymeet.sync")


class IncompleteScanError(RuntimeError):
    """What the sync read does not add up to the server's own counts, even after re-reading."""


def expected_items(page: Page[Any], on_page: int) -> int | None:
    """How many items `page` must hold per its own meta, or None when it has no count."""
    meta = page.meta
    if meta is None or meta.itemsCount is None:
        return None
    per = meta.itemsPerPage or on_page
    return max(0, min(per, meta.itemsCount - (page.number - 1) * per))


def page_problem(page: Page[Any], on_page: int) -> str | None:
    """Why `page` contradicts its own meta (a short or missing page), or None when it agrees."""
    if page.refused:
        return (
            f"page {page.number}, which the list's count included, was refused or answered "
            "with nothing"
        )
    expected = expected_items(page, on_page)
    if expected is None or len(page.items) == expected:
        return None
    assert page.meta is not None
    return (
        f"page {page.number} held {len(page.items)} items where its meta "
        f"(itemsCount {page.meta.itemsCount}) promises {expected}"
    )


def served_page_size(pages: list[Page[Any]], on_page: int) -> int:
    """The page size a list's pages are checked against: `onPage` as asked, unless no meta
    says its page size (`itemsPerPage`) and the first page, not the last read, held fewer:
    the server's own size (the reference lets a server keep to less than asked)."""
    if not pages or any(p.meta is not None and p.meta.itemsPerPage for p in pages):
        return on_page
    first = min(pages, key=lambda p: p.number)
    if first.number == 1 and len(pages) > 1 and 0 < len(first.items) < on_page:
        return len(first.items)
    return on_page


def items_count(page: Page[Any]) -> int | None:
    """The list's total per this page's meta."""
    return page.meta.itemsCount if page.meta is not None else None


def repeated_id(items: Sequence[Any]) -> str | None:
    """The first id two of `items` carry (as its repr), or None. One answer is one query,
    which writes elsewhere do not make repeat a row: an item served twice stands where
    another was not served. Items without an id are not told apart."""
    ids = [
        repr(item["id"]) for item in items if isinstance(item, dict) and item.get("id") is not None
    ]
    if len(set(ids)) == len(ids):
        return None
    return next(i for n, i in enumerate(ids) if i in ids[:n])


def list_problem(pages: list[Page[Any]], on_page: int, unique_items: int) -> str | None:
    """Why a whole list read page by page does not add up, or None when it does.

    Every page must agree with its own meta, every page must state the same total, and the
    distinct items read must number that total. Without a count (plain arrays) nothing is
    checked.
    """
    per = served_page_size(pages, on_page)
    for page in pages:
        problem = page_problem(page, per)
        if problem:
            return problem
    counts = {c for c in (items_count(p) for p in pages) if c is not None}
    if not counts:
        return None
    if len(counts) > 1:
        return f"the total changed while paging ({', '.join(map(str, sorted(counts)))})"
    [total] = counts
    numbers = sorted(p.number for p in pages)
    pages_count = pages[0].pages_count or 0
    missing = sorted(set(range(1, pages_count + 1)) - set(numbers))
    if missing:
        return f"page(s) {', '.join(map(str, missing))} never arrived"
    if unique_items != total:
        return f"read {unique_items} distinct items where the server counts {total}"
    return None


REREAD_CAP = 1000
"""The most events served twice a run reads again by id (ten requests of 100)."""
NULL_LISTS_CAP = 10_000
"""The most events served with a child list null a run considers reading again by id."""


@dataclass
class ScanReport:
    """What the run's scans found, shared by the resources (which fill it) and the runner."""

    problems: list[str] = field(default_factory=list)
    event_pages: int = 0
    """Event-list pages of rows read by the scan (the first read of each page)."""
    reread_pages: int = 0
    """Event-list pages read again to close a possible gap (a delete while paging, a short page)."""
    gaps_found: int = 0
    gaps_closed: int = 0
    window_from: str | None = None
    """The oldest `updatedAt` the events scan asked for (None: every event)."""
    scan_started: dt.datetime | None = None
    """The server's clock as the events scan's first page was answered."""
    scan_counted: int | None = None
    """The event list's `itemsCount` on the scan's first page."""
    canceled_counted: int | None = None
    """What the canceled events' read counted (`filter[state]=canceled`, its first page),
    where its pages held events the run's other reads had not: a server may leave them out
    of its list's count, and the totals are then compared with them added."""
    canceled_sample: int | None = None
    """An event that read listed (to ask whether the plain list holds it)."""
    canceled_apart: bool | None = None
    """Whether the server was shown, in this run, to list canceled events only when asked
    (None: not asked)."""
    future_rows: int = 0
    """Events stamped ahead of the server's clock: loaded, but they do not move the cursor."""
    failed: dict[str, SimplyMeetError] = field(default_factory=dict)
    """Resources (other than the events) whose read failed: nothing of theirs was loaded."""
    incomplete: dict[str, str] = field(default_factory=dict)
    """Resources (other than the events) whose list never added up, with why: nothing of
    theirs was loaded, and the run exits 8 naming them. Kept apart from `problems`, which the
    events scan compares before and after a read of its own."""
    served_twice: set[int] = field(default_factory=set)
    """Events the scan read twice with one `updatedAt` (maybe two contents: a load keeps
    either): read again by id once the run's read is loaded."""
    read_by_id: set[int] = field(default_factory=set)
    """Events a read by id (`refresh_ids`) was served: where it was served nothing, nothing of
    the event is replaced."""
    read_in_versions: set[int] = field(default_factory=set)
    """Events the run read in more than one version (changed while it read): the load keeps
    the newest, but the child rows of both. Read again by id once the run's read is loaded,
    their child rows replaced by that read's."""
    null_lists: dict[str, set[int]] = field(default_factory=dict)
    """By child list, events served with it null or left out: read again by id once the
    run's read is loaded where the warehouse holds rows of that list for them."""
    null_lists_overflow: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def read_twice(self, ids: list[int]) -> None:
        """Record events served twice; past `REREAD_CAP` the run cannot fix them (exit 8)."""
        if len(ids) > REREAD_CAP:
            self.problem(
                f"events: {len(ids):,} events were served twice with one updatedAt, more "
                f"than the {REREAD_CAP:,} a run reads again by id (those were read again)"
            )
        with self._lock:
            self.served_twice.update(ids[:REREAD_CAP])

    def read_versions(self, ids: list[int]) -> None:
        """Record events read in more than one version (at most `REREAD_CAP`)."""
        with self._lock:
            self.read_in_versions.update(ids[:REREAD_CAP])

    def lists_null(self, found: dict[str, list[int]]) -> None:
        """Record events served with a child list null (at most `NULL_LISTS_CAP` a list a
        run: a server that serves a list null for every event without one serves it for
        most; only those whose rows of it the warehouse holds are read again)."""
        with self._lock:
            for name, ids in found.items():
                kept = self.null_lists.setdefault(name, set())
                room = NULL_LISTS_CAP - len(kept)
                if len(ids) > room and not self.null_lists_overflow:
                    log.warning(
                        "events: more than %s events served with %s null in this run; those "
                        "past them are not read again by id",
                        f"{NULL_LISTS_CAP:,}",
                        name,
                    )
                    self.null_lists_overflow = True
                kept.update(ids[: max(room, 0)])

    def problem(self, text: str) -> None:
        """Record a problem that re-reading did not fix; the run will exit 8 naming it."""
        with self._lock:
            self.problems.append(text)
        log.warning("%s", text)

    def resource_failed(self, resource: str, error: SimplyMeetError) -> None:
        """Record that `resource` could not be read; the run fails naming it once loaded."""
        with self._lock:
            self.failed[resource] = error
        # Once the server was found unreachable every resource fails alike: one warning (the
        # first) and the run's error line say it; the echoes of it are details.
        level = logging.INFO if getattr(error, "echo", False) else logging.WARNING
        log.log(level, "%s: not read, its tables are kept as they were: %s", resource, error)

    def resource_incomplete(self, resource: str, error: IncompleteScanError) -> None:
        """Record that `resource`'s list never added up; the run exits 8 naming it once loaded."""
        text = f"{resource} not read (kept as they were): {error}"
        with self._lock:
            self.incomplete[resource] = text
        log.warning("%s", text)

    @property
    def unread(self) -> list[str]:
        """Resources that loaded nothing (failed or never added up): their rows are kept."""
        return sorted({*self.failed, *self.incomplete})

    def whole(self, resource: str) -> bool:
        """Whether `resource` was read and adds up, with no problem left for the run (so
        far): the warehouse holds it as the server served it when the run began."""
        return not self.problems and resource not in self.failed and resource not in self.incomplete

    def raise_if_failed(self) -> None:
        """Raise the error of the first resource that could not be read, naming every one
        (its kind, a 5xx or a 403, decides the exit code)."""
        if not self.failed:
            return
        names = sorted(self.failed)
        error = copy.copy(self.failed[names[0]])
        error.message = (
            f"{', '.join(names)} not read (kept as they were; everything else was loaded): "
            f"{error.message}"
        )
        raise error

    def raise_if_incomplete(self) -> None:
        """Raise `IncompleteScanError` naming every problem, when there is one."""
        problems = [*self.problems, *self.incomplete.values()]
        if problems:
            shown = "; ".join(problems[:3])
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            raise IncompleteScanError(
                f"the sync does not add up to the server's counts: {shown}{more}. "
                "What was read is loaded; run the sync again."
            )
