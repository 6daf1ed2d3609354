"""Seeded fault injection: what can go wrong between a client and the API, and how often.

A `FaultSpec` is built in Python or parsed from a string such as

    latency=50,429=0.05,500=0.02,502=0.01,503=0.01,504=0.01,stall=0.01,drop=0.01,truncate=0.01,
    retry_after=1,stall_s=30,endpoints=event_list|event_get,methods=GET,max=3,seed=7

Rates are per-request probabilities (their sum must not exceed 1). `latency` (ms) is added to
every request in scope. Scope: `endpoints` (contract endpoint names, `|`-separated) and
`methods` (and `pages`, `orders`: below); out-of-scope requests are never faulted. `max` caps
the number of faults injected (e.g. `500=1,max=2`: the first two requests in scope fail, then
all succeed).

When a fault fires relative to the write it answers:
- 429, 500, 502, 503, 504, stall and drop fire before the request is handled: the write did
  not happen;
- with `after_apply=1`, 500/502/503/504, stall and drop on non-GET requests fire after the
  write was applied (the client cannot know it succeeded; a blind retry of any write sends it
  twice); `after_apply=429` fires 429 after the write too (a quota counted after the work, a
  gateway's limiter answering on the way back);
- with `apply_later=2`, 500/502/503/504 and drop (and `unapplied`, `said_failed`, below) on
  non-GET requests are answered at once and the write is applied 2 s later: a gateway that
  gave up on a backend still working on it (nginx's 504, a dropped connection). Read back at
  once, the target shows the write not done; sent again, it is done twice. The request is
  logged once, with the fault's status; with `apply_each=0.8` too, a list write's ids are
  applied one at a time, 0.8 s apart, the first `apply_later` s after the answer: a backend
  working through a chunk (each cancel e-mails an invitee) for longer than its client waits.
  A 429 so answered is a gateway's limiter answering on the way back while the backend
  works on; truncate so answered is that gateway's 504 cut short (its status lost with it);
- otherwise truncate answers a handled request (the server did respond, the body got cut).

Two faults answer 200 with a list page that breaks its own `meta`, as a buggy or overloaded
backend might: `short` keeps only the first `short_keep` of the page's items (60% by default),
`missing` sends the page with no items at all. Either keeps `meta` as computed for the full
page. `hide` drops the last item of a full page that is not the list's last (the meta still
counts it), as a backend that filters rows after counting them would: `hide=1,pages=1` hides
one row of page 1 of every ordering for good, while the one-page answers of `filter[ids]`
requests keep every row. `hole` is `hide` of the page's middle row: no gap between pages
shows it. `shift` answers a page as if a row before it had been deleted since the page
before was read: its rows start one later and it ends with the next page's first row, its
meta (a delete and a create elsewhere: the count unchanged) as computed; a plain array
too. The row the shift skips is read by no page of that read. `repeat` answers a page (past
the first) with the rows of the page before it, its own meta kept (`currentPage` as asked), as
a cache or proxy keyed without the page number might: the page's own rows are read by no
page of that read. `pages=2|3` scopes any fault to those page numbers (e.g.
`short=1,pages=2`), and `orders=updatedAt` to the requests ordered by that field that filter
nothing (a sync's newest-first pages, not its reads of canceled events or of ids beside them).

Seven more answer 200 with a page no write explains, as a buggy backend or cache might, each
found by an outside audit: `swap` serves the page with its last row replaced by the next
page's first (the meta exact: that row is read twice, the one it replaced never); `overlap`
adds the next page's first row, its `notes` changed, to the page (two contents of one
`updatedAt`); `null_body` answers the JSON literal `null`; `bad_utf8` puts one byte that is
not UTF-8 in the page's first `uuid` (not JSON, as a Latin-1 database connection serves it);
`low_pages` states `pagesCount: 1` in the meta, its `itemsCount` and `itemsPerPage` exact;
`twin` serves the page's middle row as a copy of the row before it, its `notes` changed (the
middle row is on no page of that read); `phantom` adds to the page a copy of its last row
under an id the store never held (one item more than the meta promises; a read of that id
by itself answers 404). `double` serves the page's middle row as an exact copy of the row
before it (one version served twice, alike: a join or cache glitch; the middle row is on no
page of that read). `first_page` answers the page asked with the list's first page,
whole, its meta saying so (`currentPage: 1`), as a server or a cache that ignores `page`.

`unapplied` answers 204, the success answer of most writes, without handling the request
(nothing applied): a backend that acknowledges a write it then drops. With `apply_later=3`
the write is applied 3 s after that 204: a backend that queues the write (a bulk job) and
answers success at once, so a read-back at once shows it not done yet.

`said_failed` answers 200 with `{"success": false, "message": ...}` before the request is
handled (nothing applied), whatever the endpoint's success answer is: a front end or a
framework that reports a failure in the body under a 2xx. With `apply_later=3` the write is
applied 3 s after that answer: a front end that gave up on a backend still working on it.

`page_cap=50` is no fault but a server that serves fewer rows per page than asked (the
reference bounds `onPage` by 100; a backend may cap it lower): a list request in scope is
answered as if it asked `onPage=min(onPage, 50)`, and its meta says so (`itemsPerPage: 50`).
`cap_requests=1` lifts the cap after one request it held for: the pages after it are served
as asked, as a cap raised between two pages of a read (a deploy) serves them.
`cap_counts=asked` has a capped page's meta count its pages by the `onPage` asked
(`pagesCount` 3 for 250 rows asked 100 a page and served 50: `itemsPerPage` still 50), as a
backend that computes the count before its cap applies.

`limit=20` is a rate limit as a server enforces it: at most 20 requests a second in scope
(a token bucket holding 20), any request over it answered 429 with `Retry-After:
<retry_after>`. That answer opens a hold of `retry_after` seconds: a request in scope that
arrives during it, later than `EARLY_GRACE` after it opened (what was already in flight),
is counted as `early` in `injected` (a client that did not pause) and answered 429 too.

`date_ahead=600` is no fault either but a front end whose clock runs ahead of the one that
stamps rows: every answer's `Date` header is 600 s later than the clock `updatedAt` is read
from (the same as a database clock 600 s behind the web servers').
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import parse_qs, parse_qsl, urlencode

from simplymeet.emulator import spec_text

FaultKind = Literal[
    "429", "500", "502", "503", "504", "stall", "drop", "truncate", "short", "missing", "hide",
    "hole", "shift", "repeat", "said_failed", "swap", "overlap", "null_body", "bad_utf8",
    "low_pages", "unapplied", "twin", "phantom", "first_page", "double",
]  # fmt: skip
FAULT_KINDS: tuple[FaultKind, ...] = (
    "429", "500", "502", "503", "504", "stall", "drop", "truncate", "short", "missing", "hide",
    "hole", "shift", "repeat", "said_failed", "swap", "overlap", "null_body", "bad_utf8",
    "low_pages", "unapplied", "twin", "phantom", "first_page", "double",
)  # fmt: skip
APPLIED_LATER: frozenset[FaultKind] = frozenset(
    {"429", "500", "502", "503", "504", "drop", "truncate", "unapplied", "said_failed"}
)
"""Faults that `apply_later` answers before the write it then applies."""
PAGE_FAULTS: frozenset[FaultKind] = frozenset(
    {"short", "missing", "hide", "hole", "shift", "repeat", "swap", "overlap", "null_body",
     "bad_utf8", "low_pages", "twin", "phantom", "first_page", "double"}
)  # fmt: skip
"""Faults that answer normally, with a page that breaks its meta or the contract."""
NEXT_PAGE_FAULTS: frozenset[FaultKind] = frozenset({"shift", "swap", "overlap"})
"""Page faults that serve rows of the page after the one asked (`next_page_fault`)."""
GARBLING_FAULTS: frozenset[FaultKind] = frozenset(
    {"null_body", "bad_utf8", "low_pages", "twin", "phantom", "double"}
)
"""Page faults that break the page's body or meta (`garbled_page`)."""
PHANTOM_ID_BASE = 900_000_000
"""What `phantom` adds to the id of the row it copies."""
CUTTING_FAULTS: frozenset[FaultKind] = frozenset({"short", "missing", "hide", "hole"})
"""Page faults that leave items out (`cut_page`)."""

_RATE_FIELDS: dict[FaultKind, str] = {
    "429": "rate_429",
    "500": "rate_500",
    "502": "rate_502",
    "503": "rate_503",
    "504": "rate_504",
    "stall": "stall",
    "drop": "drop",
    "truncate": "truncate",
    "short": "short_page",
    "missing": "missing_page",
    "hide": "hide_row",
    "hole": "hole_row",
    "shift": "shift_page",
    "repeat": "repeat_page",
    "said_failed": "said_failed",
    "swap": "swap_row",
    "overlap": "overlap_row",
    "null_body": "null_body",
    "bad_utf8": "bad_utf8",
    "low_pages": "low_pages",
    "unapplied": "unapplied",
    "twin": "twin_row",
    "phantom": "phantom_row",
    "first_page": "first_page",
    "double": "double_row",
}
_ALIASES = {
    "latency": "latency_ms",
    "latency_ms": "latency_ms",
    "retry_after": "retry_after",
    "stall_s": "stall_s",
    "stall_then": "stall_then",
    "after_apply": "after_apply",
    "apply_later": "apply_later",
    "apply_each": "apply_each",
    "endpoints": "endpoints",
    "methods": "methods",
    "short_keep": "short_keep",
    "pages": "pages",
    "orders": "orders",
    "page_cap": "page_cap",
    "cap_requests": "cap_requests",
    "cap_counts": "cap_counts",
    "date_ahead": "date_ahead",
    "limit": "limit",
    "max": "max_faults",
    "max_faults": "max_faults",
    "seed": "seed",
}


def _ordered_unfiltered(query: str, orders: frozenset[str]) -> bool:
    """Whether a request's query asks for one of `orders` and filters nothing."""
    asked = parse_qs(query)
    return asked.get("orderField", [""])[0] in orders and not any(
        key.startswith("filter") for key in asked
    )


@dataclass(frozen=True)
class FaultSpec:
    """Which faults to inject, how often, and where. See the module docstring for the syntax."""

    latency_ms: float = 0.0
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_502: float = 0.0
    rate_503: float = 0.0
    rate_504: float = 0.0
    stall: float = 0.0
    drop: float = 0.0
    truncate: float = 0.0
    short_page: float = 0.0
    missing_page: float = 0.0
    hide_row: float = 0.0
    hole_row: float = 0.0
    shift_page: float = 0.0
    repeat_page: float = 0.0
    said_failed: float = 0.0
    swap_row: float = 0.0
    overlap_row: float = 0.0
    null_body: float = 0.0
    bad_utf8: float = 0.0
    low_pages: float = 0.0
    unapplied: float = 0.0
    twin_row: float = 0.0
    phantom_row: float = 0.0
    first_page: float = 0.0
    double_row: float = 0.0
    short_keep: float = 0.6
    """Fraction of a page's items a `short` page keeps (the first ones)."""
    retry_after: float = 1.0
    """Seconds announced in the Retry-After header of 429 and 503 answers."""
    stall_s: float = 30.0
    """How long a stalled request hangs before the server answers (or closes)."""
    stall_then: Literal["respond", "close"] = "respond"
    after_apply: bool = False
    after_apply_429: bool = False
    """With `after_apply`: a 429 fires after the write too."""
    apply_later: float = 0.0
    """Seconds after a 5xx or drop (fired before the write) the write is applied anyway."""
    apply_each: float = 0.0
    """With `apply_later`: seconds between the ids of a list write, applied one at a time."""
    endpoints: frozenset[str] | None = None
    methods: frozenset[str] | None = None
    pages: frozenset[int] | None = None
    """Page numbers (the `page` query parameter, 1 when absent) that may be faulted."""
    orders: frozenset[str] | None = None
    """`orderField` values that may be faulted, of requests with no `filter`: `updatedAt`
    scopes a fault to a sync's newest-first pages, not to its reads of the canceled events or
    of the newest ids, which go out beside them."""
    page_cap: int | None = None
    """The most rows a list page in scope serves, whatever `onPage` asked (None: as asked)."""
    cap_requests: int | None = None
    """How many requests `page_cap` holds for before it lifts (None: for good): a cap
    raised between two pages of a read, as by a deploy."""
    cap_counts: Literal["served", "asked"] = "served"
    """Whether a capped page's `pagesCount` counts the pages served or the `onPage` asked."""
    limit: float = 0.0
    """Requests a second the server accepts in scope (0: no limit); see the module docstring."""
    date_ahead: float = 0.0
    """Seconds every `Date` header runs ahead of the clock that stamps rows (any scope)."""
    max_faults: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for spec_field in dataclasses.fields(self):
            value = getattr(self, spec_field.name)
            # NaN passes every comparison below (each compares false).
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{spec_field.name} must be a number, not {value}")
        rates = [getattr(self, name) for name in _RATE_FIELDS.values()]
        if any(r < 0 or r > 1 for r in rates) or sum(rates) > 1 + 1e-9:
            raise ValueError("fault rates must be within [0, 1] and sum to at most 1")
        if not 0 <= self.short_keep < 1:
            raise ValueError("short_keep must be within [0, 1)")
        if self.apply_later < 0:
            raise ValueError("apply_later must be at least 0 seconds")
        if self.apply_each < 0 or (self.apply_each and not self.apply_later):
            raise ValueError("apply_each needs apply_later, and at least 0 seconds")
        if self.apply_later and self.after_apply:
            raise ValueError("apply_later and after_apply exclude each other")
        if self.limit < 0:
            raise ValueError("limit must be at least 0 requests a second")
        if self.page_cap is not None and self.page_cap < 1:
            raise ValueError("page_cap must be at least 1")
        if self.stall_then not in ("respond", "close"):
            raise ValueError("stall_then must be 'respond' or 'close'")
        if self.cap_counts not in ("served", "asked"):
            raise ValueError("cap_counts must be 'served' or 'asked'")
        if self.endpoints is not None:
            from simplymeet.contract.endpoints import ENDPOINTS

            unknown = sorted(set(self.endpoints) - set(ENDPOINTS))
            if unknown:
                raise ValueError(f"unknown endpoint name(s) in fault scope: {', '.join(unknown)}")

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """Build a spec from `key=value,…` (see the module docstring)."""
        values: dict[str, object] = {}
        for key, raw in spec_text.pairs(text, "fault"):
            if key in _RATE_FIELDS:
                values[_RATE_FIELDS[key]] = float(raw)
            elif key in ("rate_429", "rate_500", "rate_502", "rate_503", "rate_504"):
                values[key] = float(raw)
            elif key in _ALIASES:
                name = _ALIASES[key]
                if name in ("endpoints", "methods", "pages", "orders"):
                    items = spec_text.items(raw)
                    if name == "methods":
                        values[name] = frozenset(x.upper() for x in items)
                    elif name == "pages":
                        values[name] = frozenset(int(x) for x in items)
                    else:
                        values[name] = frozenset(items)
                elif name == "after_apply":
                    values["after_apply_429"] = raw.strip() == "429"
                    values[name] = raw.lower() in ("1", "true", "yes", "on", "429")
                elif name in ("max_faults", "seed", "page_cap", "cap_requests"):
                    values[name] = int(raw)
                elif name in ("stall_then", "cap_counts"):
                    values[name] = raw
                else:
                    values[name] = float(raw)
            else:
                known = sorted([*_RATE_FIELDS, *_ALIASES])
                raise ValueError(f"unknown fault setting {key!r}; known: {', '.join(known)}")
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def coerce(cls, value: FaultSpec | str | None) -> FaultSpec | None:
        """Accept a spec, its string form, or None (no faults)."""
        if value is None or isinstance(value, FaultSpec):
            return value
        return cls.parse(value) if value.strip() else None

    def rate(self, kind: FaultKind) -> float:
        return float(getattr(self, _RATE_FIELDS[kind]))

    def in_scope(
        self, endpoint: str | None, method: str, page: int | None = None, query: str = ""
    ) -> bool:
        """True when requests to this endpoint and method (and page, and query) may be
        faulted."""
        if self.methods is not None and method.upper() not in self.methods:
            return False
        if self.pages is not None and (page or 1) not in self.pages:
            return False
        if self.orders is not None and not _ordered_unfiltered(query, self.orders):
            return False
        return self.endpoints is None or endpoint in self.endpoints

    def caps(self, endpoint: str | None, method: str) -> bool:
        """True when `page_cap` limits this request's pages (every page: `pages` scopes the
        faults, not the cap)."""
        if self.page_cap is None:
            return False
        if self.methods is not None and method.upper() not in self.methods:
            return False
        return self.endpoints is None or endpoint in self.endpoints

    def with_(self, **changes: object) -> FaultSpec:
        """A copy with some settings changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return spec_text.render(self, "none")


EARLY_GRACE = 0.25
"""Seconds after a `limit` 429 in which a request still counts as sent before the client knew."""


class FaultInjector:
    """Draws faults for requests from a spec, with its own seeded RNG; thread-safe."""

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self._rng = random.Random(spec.seed)
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self._tokens = spec.limit
        self._refilled = time.monotonic()
        self._hold: tuple[float, float] | None = None  # (opened, until), monotonic
        self._caps = 0  # requests `page_cap` held for

    def cap_for(self, endpoint: str | None, method: str) -> int | None:
        """The `page_cap` that holds for this request (counted against `cap_requests`), or
        None."""
        spec = self.spec
        if spec.page_cap is None or not spec.caps(endpoint, method):
            return None
        with self._lock:
            if spec.cap_requests is not None and self._caps >= spec.cap_requests:
                return None
            self._caps += 1
        return spec.page_cap

    def draw(
        self, endpoint: str | None, method: str, page: int | None = None, query: str = ""
    ) -> FaultKind | None:
        """The fault for one request in scope, or None."""
        spec = self.spec
        if not spec.in_scope(endpoint, method, page, query):
            return None
        with self._lock:
            if spec.limit and self._over_limit():
                self.injected["429"] += 1
                return "429"
            if spec.max_faults is not None and sum(self.injected.values()) >= spec.max_faults:
                return None
            roll = self._rng.random()
            edge = 0.0
            for kind in FAULT_KINDS:
                edge += spec.rate(kind)
                if roll < edge:
                    self.injected[kind] += 1
                    return kind
        return None

    def _over_limit(self) -> bool:
        """Whether this request breaks `limit` (under the lock): over the bucket, or in a hold."""
        now = time.monotonic()
        if self._hold is not None:
            opened, until = self._hold
            if now < until:
                if now - opened > EARLY_GRACE:
                    self.injected["early"] += 1
                return True
            self._hold = None
        limit = self.spec.limit
        self._tokens = min(limit, self._tokens + (now - self._refilled) * limit)
        self._refilled = now
        if self._tokens >= 1:
            self._tokens -= 1
            return False
        self._hold = (now, now + self.spec.retry_after)
        return True


def page_number(query: str) -> int | None:
    """The `page` parameter of a raw query string, or None when absent or not a number."""
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "page":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def counted_as_asked(body: bytes, query: str) -> bytes:
    """A capped list page's body with its `pagesCount` counted by the `onPage` `query` asked
    (`cap_counts=asked`); a body without such a meta as it was."""
    asked = next((v for k, v in parse_qsl(query) if k == "onPage" and v.isdigit()), None)
    try:
        page = json.loads(body)
        count = page["meta"]["itemsCount"]
    except (ValueError, KeyError, TypeError):
        return body
    if asked is None or not isinstance(count, int) or int(asked) < 1:
        return body
    page["meta"]["pagesCount"] = math.ceil(count / int(asked))
    return json.dumps(page).encode()


def cap_on_page(query: str, cap: int) -> str:
    """The raw query string with every `onPage` above `cap` lowered to it."""
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(key == "onPage" for key, _ in pairs):
        return query
    capped = [
        (key, str(min(int(value), cap)) if key == "onPage" and value.isdigit() else value)
        for key, value in pairs
    ]
    return urlencode(capped)


def next_page_query(query: str) -> str:
    """The raw query string asking the page after the one `query` asks."""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "page"]
    return urlencode([*pairs, ("page", str((page_number(query) or 1) + 1))])


def first_page_query(query: str) -> str:
    """The raw query string asking the first page of what `query` asks."""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "page"]
    return urlencode([*pairs, ("page", "1")])


def previous_page_query(query: str) -> str | None:
    """The raw query string asking the page before the one `query` asks (None for page 1)."""
    number = page_number(query) or 1
    if number < 2:
        return None
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "page"]
    return urlencode([*pairs, ("page", str(number - 1))])


def repeat_page(body: bytes, before: bytes) -> bytes:
    """A list page as `repeat` serves it: the rows of `before` (the page before's body) under
    its own meta."""
    try:
        page, earlier = json.loads(body), json.loads(before)
    except ValueError:
        return body
    rows = earlier.get("items") if isinstance(earlier, dict) else earlier
    if not isinstance(rows, list):
        return body
    if isinstance(page, dict):
        page["items"] = rows
    else:
        page = rows
    return json.dumps(page, separators=(",", ":")).encode()


def _two_pages(body: bytes, following: bytes) -> tuple[Any, list[Any], list[Any]] | None:
    """A list page (`{meta, items}` or a plain array), its rows and the rows of `following`
    (the next page's body); None when the page is not one or holds no row."""
    try:
        page, after = json.loads(body), json.loads(following)
    except ValueError:
        return None
    items = page.get("items") if isinstance(page, dict) else page
    more = after.get("items") if isinstance(after, dict) else after
    if not isinstance(items, list) or not items:
        return None
    return page, items, more if isinstance(more, list) else []


def _with_rows(page: Any, rows: list[Any]) -> bytes:
    if isinstance(page, dict):
        page["items"] = rows
    else:
        page = rows
    return json.dumps(page, separators=(",", ":")).encode()


def shift_page(body: bytes, following: bytes) -> bytes:
    """A list page (`{meta, items}` or a plain array) as `shift` serves it: its rows from the
    second on, then the first row of `following` (the next page's body), if it has one."""
    pages = _two_pages(body, following)
    if pages is None:
        return body
    page, items, more = pages
    return _with_rows(page, items[1:] + more[:1])


def next_page_fault(body: bytes, following: bytes, fault: FaultKind) -> bytes:
    """A list page as `shift`, `swap` or `overlap` serves it, given the next page's body."""
    if fault == "shift":
        return shift_page(body, following)
    pages = _two_pages(body, following)
    if pages is None or not pages[2]:
        return body
    page, items, more = pages
    if fault == "swap":
        return _with_rows(page, [*items[:-1], more[0]])
    stale = dict(more[0])
    stale["notes"] = f"{stale.get('notes') or ''} (stale copy)"
    return _with_rows(page, [*items, stale])


def garbled_page(body: bytes, fault: FaultKind) -> bytes:
    """A list page as `null_body`, `bad_utf8`, `low_pages`, `twin`, `double` or `phantom`
    serves it."""
    if fault == "null_body":
        return b"null"
    if fault == "bad_utf8":
        return body.replace(b'"uuid":"', b'"uuid":"\xe9', 1)
    try:
        page = json.loads(body)
    except ValueError:
        return body
    if fault in ("twin", "double"):
        items = page.get("items") if isinstance(page, dict) else page
        if isinstance(items, list) and len(items) > 2:
            middle = len(items) // 2
            items[middle] = dict(items[middle - 1])
            if fault == "twin":
                items[middle]["notes"] = f"{items[middle].get('notes') or ''} (twin)"
    elif fault == "phantom":
        items = page.get("items") if isinstance(page, dict) else page
        if isinstance(items, list) and items and isinstance(items[-1], dict):
            ghost = dict(items[-1])
            # Far above any id the store hands out, so no other answer serves it.
            ghost["id"] = PHANTOM_ID_BASE + int(ghost.get("id") or 0)
            items.append(ghost)
    elif isinstance(page, dict) and isinstance(page.get("meta"), dict):
        page["meta"]["pagesCount"] = 1
    return json.dumps(page, separators=(",", ":")).encode()


def cut_page(body: bytes, fault: FaultKind, keep: float) -> bytes:
    """A `{meta, items}` body with its items cut short (`short`), gone (`missing`), or short
    of their last one (`hide`) or their middle one (`hole`) on a full page that is not the last.

    Any other body (a plain array, an error, an object without items) is returned unchanged:
    the fault acts on paged lists only.
    """
    try:
        page = json.loads(body)
    except ValueError:
        return body
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        return body
    items = page["items"]
    if fault in ("hide", "hole"):
        meta = page.get("meta") or {}
        full = len(items) == meta.get("itemsPerPage")
        if not (full and items and meta.get("currentPage", 1) < meta.get("pagesCount", 1)):
            return body
        left_out = len(items) - 1 if fault == "hide" else len(items) // 2
        page["items"] = items[:left_out] + items[left_out + 1 :]
    else:
        page["items"] = items[: int(len(items) * keep)] if fault == "short" else []
    return json.dumps(page, separators=(",", ":")).encode()
