"""Event pages parsed straight into Arrow: no Python object per event on the landing path.

A page body is read by `pyarrow.json` against the shape the landing reads (`arrow_cut`'s
`source_type(EVENTS)`), in C++ and without the GIL, where orjson would build a dict per event
and `pa.array` walk them again (B3: about four times the CPU). The served dicts are still there
when something needs them: `ArrowRows` keeps the body and parses it with orjson on first use,
so every check that reads rows one by one (the cursor's edge fingerprints, the quarantine, the
value-by-value reference cut) sees exactly what the server sent.

A page is taken on the Arrow path only when Arrow can judge all of it; otherwise it is read as
before, for that page only:

- the body parses against the shape (an id as a string, a boolean as 0/1, a fraction where an
  integer belongs, an `items` that is no list of objects: all refused by `pyarrow.json`);
- no field the reference does not know appears where the sync keeps unknown fields in
  `_extra`. msgspec checks the keys of each event, of its flattened objects and of its child
  items against the reference, keeping every value as its served bytes, unparsed, and of the
  embedded user, event type and users (~6 KB of an event's ~8) only the ids the landing
  reads; it writes that back out (values byte for byte, ~17% of the body) and only then does
  `pyarrow.json` read it: tokenizing what nothing lands was most of its cost (B3, session 23:
  a 100-event page 3.6 -> 2.2 ms). A page the check refuses is read whole with unexpected
  fields inferred, whose type names every field served, and judged on that;
- when cut, no key is null and every timestamp is ISO 8601 with an offset (`cut_events`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import GenericAlias
from typing import Any, overload

import msgspec
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from simplymeet.contract.dtos import MetaDataDTO
from simplymeet.landing_schema import EVENTS, TIMESTAMP, Table
from simplymeet.sync import arrow_cut
from simplymeet.sync.unknown_fields import field_dtos, in_wire_order, known_plan

UPDATED_AT = "updatedAt"
CREATED_AT = "createdAt"
RELATED = "relatedEventIds"

_META = pa.struct(
    [(name, pa.int64()) for name in ("pagesCount", "itemsPerPage", "itemsCount", "currentPage")]
)
EVENT_SHAPE: pa.StructType = pa.struct(
    [*arrow_cut.source_type(EVENTS), pa.field(RELATED, pa.list_(pa.int64()))]
)
"""What an event page's items are read as: every field the landing reads, typed."""
_SCHEMA = pa.schema([("meta", _META), ("items", pa.list_(EVENT_SHAPE))])
_PARSE = pj.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="infer")
_PARSE_KNOWN = pj.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="ignore")


def _landed_reader() -> msgspec.json.Decoder[Any]:
    """A decoder that accepts an event page only when every key where the sync keeps unknown
    fields in `_extra` is one the reference knows. Values stay as their served bytes
    (`msgspec.Raw`), unparsed, except the embedded objects the landing reads only ids of
    (user, event type, users): of those it keeps just the fields `EVENT_SHAPE` names, so
    encoding the result gives the page as the landing reads it."""

    def struct(name: str, known: frozenset[str], dtos: Sequence[Any], **typed: Any) -> Any:
        # Declared in the reference's order: msgspec looks for a key from the field after
        # the last one found, so keys served in that order are each found at the first try
        # (a page's check 5-10% cheaper than with the fields sorted).
        fields = [
            (key, typed.get(key, msgspec.Raw), msgspec.UNSET) for key in in_wire_order(known, dtos)
        ]
        return msgspec.defstruct(name, fields, forbid_unknown_fields=True)

    def kept(name: str, shape: pa.StructType) -> Any:
        """The fields `shape` reads of an object whose other fields are not checked."""
        fields = [(field.name, msgspec.Raw, msgspec.UNSET) for field in shape]
        return msgspec.defstruct(name, fields)

    dto = EVENTS.dto
    assert dto is not None
    known, nested = known_plan(EVENTS)
    typed: dict[str, Any] = {
        key: struct(f"Known_{key}", inner, field_dtos(dto, key)) | None for key, inner in nested
    }
    for child in EVENTS.children:
        if child.table.has_extra:
            (key,) = child.list_path  # every child list is a field of the event itself
            child_dtos = [child.table.dto] if child.table.dto else []
            items = struct(f"Known_{key}", known_plan(child.table)[0], child_dtos)
            typed[key] = GenericAlias(list, items) | None
    for field in EVENT_SHAPE:
        if field.name in typed:
            continue
        if pa.types.is_struct(field.type):
            typed[field.name] = kept(f"Kept_{field.name}", field.type) | None
        elif pa.types.is_list(field.type) and pa.types.is_struct(field.type.value_type):
            item = kept(f"Kept_{field.name}", field.type.value_type) | None
            typed[field.name] = GenericAlias(list, item) | None
    event = struct("KnownEvent", known, [dto], **typed)
    page = msgspec.defstruct(
        "KnownPage", [("items", GenericAlias(list, event)), ("meta", msgspec.Raw, msgspec.UNSET)]
    )
    return msgspec.json.Decoder(page)


_LANDED = _landed_reader()
_ENCODE = msgspec.json.Encoder()


class _RawPage(msgspec.Struct):
    """A page's items as their served bytes, unparsed (parsed one by one where needed)."""

    items: list[msgspec.Raw]


_RAW_ITEMS = msgspec.json.Decoder(_RawPage)

# The one timestamp form both `parse_api_datetime` and Arrow's cast read the same way.
_ISO_OFFSET = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$"

_ARROW_ERRORS = (pa.ArrowException, TypeError, ValueError, OverflowError, KeyError)


@dataclass(frozen=True, eq=False)
class Updated:
    """A page's `updatedAt` as integers, for numpy: a hundred rows cost pyarrow.compute
    ~10 µs a call before the first value, numpy ~1 µs."""

    micros: np.ndarray
    """Microseconds since the epoch, UTC (0 where absent)."""
    present: np.ndarray
    """Whether the row has an `updatedAt`."""

    def __getitem__(self, span: slice) -> Updated:
        return Updated(self.micros[span], self.present[span])


def updated_of(struct: pa.StructArray) -> Updated | None:
    """`updatedAt` of every row of `struct`; None if one is in a form `stamps` does not read."""
    read = stamps(struct.field(UPDATED_AT))
    if read is None:
        return None
    values = micros(read)
    return Updated(
        np.asarray(values.fill_null(0), dtype=np.int64),
        np.asarray(values.is_valid(), dtype=bool),
    )


class ArrowRows(Sequence[dict[str, Any]]):
    """One page's events as a struct array of `EVENT_SHAPE`; the served dicts on demand."""

    def __init__(self, struct: pa.StructArray, body: bytes, updated: Updated | None = None) -> None:
        """`updated`, when given, is `updated_of(struct)` already read (for a page group)."""
        self.struct = struct
        self._body = body
        self._dicts: list[dict[str, Any]] | None = None
        self._updated: tuple[Updated | None] | None = None if updated is None else (updated,)

    def dicts(self) -> list[dict[str, Any]]:
        """The events exactly as served (the page body parsed once, by orjson)."""
        if self._dicts is None:
            self._dicts = list(orjson.loads(self._body)["items"])
        return self._dicts

    def __len__(self) -> int:
        return len(self.struct)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        return self.dicts()[index]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.dicts())

    def ids(self) -> np.ndarray:
        """The page's non-null ids in the order served."""
        ids = self.struct.field("id")
        if ids.null_count:
            ids = pc.drop_null(ids)
        return np.asarray(ids)

    def updated(self) -> Updated | None:
        """`updatedAt` as UTC microseconds; None when one is in another form (the per-row
        path reads those as the reference allows)."""
        if self._updated is None:
            # Asked of every page twice: by the cursor's edge and by the scan's clock check.
            self._updated = (updated_of(self.struct),)
        return self._updated[0]

    def at_or_after(self, start: dt.datetime) -> np.ndarray | None:
        """Per row: `updatedAt` at or after `start`, or absent (a row without one counts as
        recent); None when one is in another form (ask row by row)."""
        updated = self.updated()
        if updated is None:
            return None
        return ~updated.present | (updated.micros >= micros_of(start))

    def pick(self, mask: np.ndarray) -> list[dict[str, Any]]:
        """The served dicts of the rows where `mask` is true, each parsed on its own: a page
        is read for the one or two rows at the cursor's edge, not turned into 100 dicts."""
        if not mask.any():
            return []
        chosen = np.flatnonzero(mask)
        if self._dicts is None:
            try:
                items = _RAW_ITEMS.decode(self._body).items
            except (msgspec.ValidationError, msgspec.DecodeError):
                items = None
            if items is not None and len(items) == len(self):
                return [orjson.loads(memoryview(items[i])) for i in chosen]
        rows = self.dicts()
        return [rows[i] for i in chosen]


def micros(stamps: pa.Array) -> pa.Array:
    """UTC timestamps as microseconds since the epoch (compared as integers: building a
    timezone-aware Arrow scalar costs milliseconds in pyarrow)."""
    return stamps.cast(pa.int64())


def micros_of(value: dt.datetime) -> int:
    """An aware datetime as microseconds since the epoch, exactly."""
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def stamps(raw: pa.Array) -> pa.Array | None:
    """ISO 8601 strings with an offset as UTC timestamps; None if any is in another form."""
    if raw.null_count == len(raw):
        return pa.nulls(len(raw), TIMESTAMP)
    if not pc.all(pc.match_substring_regex(raw, _ISO_OFFSET)).as_py():
        return None
    try:
        return raw.cast(TIMESTAMP)
    except _ARROW_ERRORS:
        return None


@dataclass(frozen=True)
class ArrowBody:
    """A `{meta, items}` event page body read into Arrow."""

    rows: ArrowRows
    meta: MetaDataDTO | None


@dataclass(frozen=True)
class CheckedPage:
    """An event page whose every key the reference knows, not yet read into Arrow."""

    content: bytes
    """The body as served."""
    landed: bytes
    """The same page with only the fields the landing reads: what `pyarrow.json` parses."""


def check_event_page(content: bytes) -> CheckedPage | ArrowBody | None:
    """The key check of an event page: a `CheckedPage` when every key is known (read it with
    `read_checked`, alone or beside others); otherwise the page read whole with unexpected
    fields inferred (an `ArrowBody`), or None when Arrow cannot judge it (read it as JSON)."""
    if not (content.isascii() or is_utf8(content)):
        # Not JSON (RFC 8259 is UTF-8), and neither msgspec's check (it passes the fields it
        # does not land unread) nor pyarrow's reader refuse it: the bytes would reach a load
        # file that DuckDB refuses on every later run. The JSON path refuses it.
        return None
    try:
        landed = _ENCODE.encode(_LANDED.decode(content))
    except msgspec.ValidationError:
        if content.lstrip()[:1] != b"{":
            # JSON, but not an object (`null`, an array, a number): pyarrow's reader is for
            # objects, and crashed the process on a body of `null` (pyarrow 26).
            return None
        # An unknown key, or a shape the check does not take: Arrow infers and judges.
        table = _read_json(content, _PARSE)
        if table is None or table.num_rows != 1:
            return None
        return _body(table, 0, content, known=False)
    except msgspec.DecodeError:
        # Not JSON (a NaN, a stray byte): pyarrow may take what the served dicts cannot be
        # read from later; the JSON reader refuses it where the client can say so and retry.
        return None
    return CheckedPage(content, landed)


def is_utf8(content: bytes) -> bool:
    """Whether `content` is well-formed UTF-8, as Python's strict decoder judges it.

    Arrow checks the bytes where they lie; `bytes.decode` would build a string of the whole
    page first (a 790 KB page with a few accented names: 0.1 ms against 0.9 ms)."""
    offsets = pa.py_buffer(np.array([0, len(content)], dtype=np.int64))
    text = pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(content))
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def read_event_page(content: bytes) -> ArrowBody | None:
    """An event list body as Arrow, or None when Arrow cannot judge it (read it as JSON)."""
    checked = check_event_page(content)
    if isinstance(checked, CheckedPage):
        return read_checked([checked])[0]
    return checked


def read_checked(pages: Sequence[CheckedPage]) -> list[ArrowBody | None]:
    """Checked pages read into Arrow by one `pyarrow.json` call, each as it would be alone.

    A call costs ~0.4 ms before the first byte (as much as parsing 30 events), so pages are
    read together, one line each; where that fails (a value the shape refuses, a line break
    between a served value's tokens) each page is read alone and judged on its own.
    """
    one_line = not any(b"\n" in page.landed or b"\r" in page.landed for page in pages)
    if len(pages) > 1 and one_line:
        table = _read_json(b"\n".join(page.landed for page in pages), _PARSE_KNOWN)
        if table is not None and table.num_rows == len(pages):
            updated = _group_updated(table)
            return [
                _body(table, row, page.content, updated=updated(row))
                for row, page in enumerate(pages)
            ]
    bodies: list[ArrowBody | None] = []
    for page in pages:
        table = _read_json(page.landed, _PARSE_KNOWN)
        one = table is not None and table.num_rows == 1
        bodies.append(_body(table, 0, page.content) if table is not None and one else None)
    return bodies


def _read_json(data: bytes, options: pj.ParseOptions) -> pa.Table | None:
    try:
        # A BufferReader, not io.BytesIO: pyarrow would take the GIL to call BytesIO.read,
        # and wait for it behind the other page threads.
        return pj.read_json(
            pa.BufferReader(data),
            read_options=pj.ReadOptions(use_threads=False, block_size=len(data) + 1),
            parse_options=options,
        )
    except _ARROW_ERRORS:
        return None


def _group_updated(table: pa.Table) -> Callable[[int], Updated | None]:
    """Per row of a read of several pages: that page's `updated_of`, read for all pages in
    one go (the regex check alone costs ~40 µs a call); None where it must be read alone."""
    try:
        items = table.column("items").combine_chunks()
        whole = None if items.null_count else updated_of(items.flatten())
        offsets = np.asarray(items.offsets)
    except _ARROW_ERRORS:
        whole = None  # one page's trouble must not fail the others: each is read alone
    if whole is None:
        return lambda row: None  # each page read on its own, as if alone
    base = int(offsets[0])
    return lambda row: whole[int(offsets[row]) - base : int(offsets[row + 1]) - base]


def _body(
    table: pa.Table,
    row: int,
    content: bytes,
    *,
    known: bool = True,
    updated: Updated | None = None,
) -> ArrowBody | None:
    """Row `row` of a read of `{meta, items}` lines as one page's body, or None where Arrow
    cannot judge it. `updated` is the page's `updated_of`, when already read."""
    served = table.column("items")[row]
    if not served.is_valid:
        return None
    items = served.values
    if items.null_count:
        # An item served as `null`: no row of the page's shape; the JSON path sets it aside.
        return None
    if not (known or _only_known_fields(items.type)):
        return None
    struct = items if known else _conform(items, EVENT_SHAPE)
    meta = table.column("meta")[row].as_py()
    known_meta = {k: v for k, v in (meta or {}).items() if v is not None}
    return ArrowBody(
        ArrowRows(struct, content, updated),
        MetaDataDTO.model_validate(meta) if known_meta else None,
    )


def _only_known_fields(item: pa.DataType) -> bool:
    """Whether no row of the page has a field that would land in an `_extra` column."""
    if not _known_in(EVENTS, item):
        return False
    for child in EVENTS.children:
        if not child.table.has_extra:
            continue
        found: pa.DataType | None = item
        for key in child.list_path:
            found = _child_type(found, key)
        if found is None:
            continue
        if not pa.types.is_list(found) or not _known_in(child.table, found.value_type):
            return False
    return True


def _known_in(table: Table, struct: pa.DataType) -> bool:
    if not pa.types.is_struct(struct):
        return False
    known, nested = known_plan(table)
    names = {struct.field(i).name for i in range(struct.num_fields)}
    # A served `__…` field would collide with the values the sync attaches: per row, too.
    if any(name not in known for name in names):
        return False
    for key, inner_known in nested:
        inner = _child_type(struct, key)
        if inner is None or pa.types.is_null(inner):
            continue
        if not pa.types.is_struct(inner):
            return False  # a scalar where an object belongs: the per-row path decides
        if any(inner.field(i).name not in inner_known for i in range(inner.num_fields)):
            return False
    return True


def _child_type(struct: pa.DataType | None, key: str) -> pa.DataType | None:
    if struct is None or not pa.types.is_struct(struct):
        return None
    index = struct.get_field_index(key)
    return struct.field(index).type if index >= 0 else None


def _conform(array: pa.Array, target: pa.DataType) -> pa.Array:
    """`array` with only the fields of `target` (the inferred extra fields dropped), so pages
    whose servers sent different known fields concatenate."""
    if pa.types.is_struct(target):
        children = [_conform(array.field(field.name), field.type) for field in target]
        return pa.StructArray.from_arrays(
            children, fields=list(target), mask=array.is_null() if array.null_count else None
        )
    if pa.types.is_list(target):
        values = _conform(array.values, target.value_type)
        mask = array.is_null() if array.null_count else None
        return pa.ListArray.from_arrays(array.offsets, values, type=target, mask=mask)
    return array


def related_json(struct: pa.StructArray) -> pa.Array | None:
    """`relatedEventIds` as the JSON text the reference path writes (`[1,2]`), or None when a
    list holds a null (the per-row path writes those)."""
    lists = struct.field(RELATED)
    if pc.list_flatten(lists).null_count:
        return None
    joined = pc.binary_join(pc.cast(lists, pa.list_(pa.string())), ",")
    return pc.binary_join_element_wise("[", joined, "]", "")


def cut_events(parts: Sequence[ArrowRows], synced_at: dt.datetime) -> dict[str, pa.Table] | None:
    """`raw.events` and its child tables from Arrow pages, or None where the per-row path
    must judge the batch (a null key, a timestamp no reading parses, a value Arrow refuses)."""
    struct = pa.concat_arrays([part.struct for part in parts]) if parts else None
    if struct is None or not len(struct) or struct.field("id").null_count:
        return None
    related = related_json(struct)
    if related is None:
        return None
    try:
        out = arrow_cut.cut_struct(
            EVENTS, struct, synced_at, json_columns={"related_event_ids": related}
        )
    except _ARROW_ERRORS:
        return None
    for name, arrow in out.items():
        table = EVENTS if name == EVENTS.name else _child(name)
        if any(arrow.column(key).null_count for key in table.primary_key):
            return None
        if name != EVENTS.name and _keys_repeat(arrow, table.primary_key):
            # Two items of one key within an event: alike, one lands; with other contents,
            # the event is set aside. The served rows say which (`quarantine`).
            return None
    return out


def _keys_repeat(arrow: pa.Table, key: Sequence[str]) -> bool:
    """Whether two rows of `arrow` share their `key`."""
    if arrow.num_rows < 2:
        return False
    return arrow.select(list(key)).group_by(list(key)).aggregate([]).num_rows < arrow.num_rows


def _child(name: str) -> Table:
    for child in EVENTS.children:
        if child.table.name == name:
            return child.table
    raise KeyError(name)
