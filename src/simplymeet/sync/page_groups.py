"""Event pages read into Arrow a group at a time, by the page thread that completes a group.

`pyarrow.json` costs ~0.4 ms a call before it reads a byte: for a page of 100 events, about
a fifth of what reading its landed fields costs. The page threads of a concurrent scan check
each page's keys as before (`arrow_pages.check_event_page`) and hand the checked page to its
group of consecutive page numbers; the thread that hands over a group's last page reads the
whole group in one call, and reads as JSON any page Arrow cannot judge, as a page thread
always has. No page thread waits for another: the consumer, which takes pages in order
anyway, waits for a page's group before it is handed the page.

A page that never arrives checked (its request failed, or Arrow judged it alone) still
completes its group as absent, so no one waits for it; a failure reaches the consumer from
the page's own request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simplymeet.client.pages import Page
from simplymeet.sync.arrow_pages import ArrowBody, CheckedPage, read_checked

GROUP_PAGES = 8
"""Pages read by one `pyarrow.json` call: its fixed cost an eighth of a page's, and a group no
more than a wave of the default concurrency (8) wide."""

Outcome = Page[Any] | BaseException
"""A page of a group as read, or what reading it as JSON raised."""


@dataclass(frozen=True)
class AwaitedPage(Page[Any]):
    """A page a page thread handed to its group: empty until the group is read
    (`PageGroups.page`); the pager reads only the first page's meta, which is never one."""


@dataclass
class _Group:
    expected: frozenset[int]
    checked: dict[int, CheckedPage] = field(default_factory=dict)
    arrived: set[int] = field(default_factory=set)
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)


class PageGroups:
    """Pages `first..last` of one scan, read `size` consecutive page numbers at a time.

    `as_json(number, content)` reads a page Arrow cannot judge, as a page thread reads a
    body that is not Arrow's (it may raise: the consumer gets the error with the page).
    """

    def __init__(
        self,
        first: int,
        last: int,
        as_json: Callable[[int, bytes], Page[Any]],
        size: int = GROUP_PAGES,
    ) -> None:
        self.first = first
        self.last = last
        self.size = max(1, size)
        self._as_json = as_json
        self._lock = threading.Lock()
        self._groups: dict[int, _Group] = {}

    def covers(self, number: int) -> bool:
        """Whether page `number` is read with its group."""
        return self.first <= number <= self.last

    def _group(self, number: int) -> _Group:
        key = (number - self.first) // self.size
        group = self._groups.get(key)
        if group is None:
            start = self.first + key * self.size
            numbers = range(start, min(start + self.size, self.last + 1))
            group = self._groups[key] = _Group(frozenset(numbers))
        return group

    def hand_over(self, number: int, checked: CheckedPage | None) -> None:
        """Page `number` arrived checked, or will not be read with its group (None). The
        thread that completes a group reads it, before returning."""
        with self._lock:
            group = self._group(number)
            if number in group.arrived:
                return
            group.arrived.add(number)
            if checked is not None:
                group.checked[number] = checked
            complete = group.arrived >= group.expected
        if complete:
            self._read(group)

    def _read(self, group: _Group) -> None:
        numbers = sorted(group.checked)
        try:
            bodies = read_checked([group.checked[number] for number in numbers])
            for number, body in zip(numbers, bodies, strict=True):
                group.outcomes[number] = self._outcome(number, body, group.checked[number])
        except BaseException as exc:  # every waiting page gets it: none is left waiting
            for number in numbers:
                group.outcomes.setdefault(number, exc)
        finally:
            group.checked.clear()
            group.done.set()

    def _outcome(self, number: int, body: ArrowBody | None, checked: CheckedPage) -> Outcome:
        if body is not None:
            return Page(number, body.rows, body.meta)  # type: ignore[arg-type]
        try:
            return self._as_json(number, checked.content)
        except Exception as exc:  # raised where the page is consumed, as from its request
            return exc

    def page(self, awaited: AwaitedPage) -> Page[Any]:
        """The page a page thread handed over checked, once its group is read."""
        with self._lock:
            group = self._group(awaited.number)
        group.done.wait()
        outcome = group.outcomes.pop(awaited.number)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome
