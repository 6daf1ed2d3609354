"""Handlers of the event endpoints (`/event…`): thin over `event_writes` and the event index."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from simplymeet.contract import dtos
from simplymeet.contract.vocab import STATE_CANCELED
from simplymeet.emulator import event_writes
from simplymeet.emulator.api_errors import ApiError
from simplymeet.emulator.app import Call, Json, JsonBytes, JsonChunks, handles
from simplymeet.emulator.event_index import ORDER_FIELDS
from simplymeet.emulator.listing import event_filter, parse_paging
from simplymeet.emulator.render_batch import items_json, page_head, page_json
from simplymeet.emulator.seed import STATE_CODE
from simplymeet.emulator.store import Store

_ORDER_FIELDS = set(ORDER_FIELDS)
_CANCELED = STATE_CODE[STATE_CANCELED]
STREAM_ABOVE = 2000
"""Pages with more items than this (skipPagination on a big store) are streamed, chunked."""
STREAM_BATCH = 500


@handles("event_list")
def event_list(call: Call) -> JsonBytes | JsonChunks:
    """`{meta, items}` of events; filters, ordering and paging per GetEventListRequestDTO."""
    paging, request = parse_paging(call.query, dtos.GetEventListRequestDTO, _ORDER_FIELDS)
    known = call.store.readings.order_fields
    if known is not None and paging.order_field and paging.order_field not in known:
        raise ApiError(400, f"unknown orderField {paging.order_field}")
    flt = event_filter(
        request, case_sensitive=call.store.readings.invitee_filter == "case_sensitive"
    )
    readings = call.store.readings
    newest_id_first = readings.default_order == "id_desc"
    if paging.order_field in readings.ignored_order:
        kept = paging.descending if readings.ignored_direction == "asked" else newest_id_first
        paging = replace(paging, order_field=None, descending=kept)
    elif paging.order_field is None and newest_id_first:
        paging = replace(paging, descending=True)
    ids = call.store.index.select(flt, paging.order_field, paging.descending)
    if readings.canceled_listed == "when_asked" and flt.state is None:
        ids = ids[call.store.cols.col("state")[ids - 1] != _CANCELED]
    if paging.order_field == "updatedAt" and call.store.readings.tie_order == "random":
        ids = _ties_shuffled(call.store, ids)
    start, stop = paging.bounds(len(ids))
    past_last = call.store.readings.past_last_page
    if past_last != "empty" and paging.page > 1 and start >= len(ids):
        raise ApiError(int(past_last), f"page {paging.page} is out of range")
    meta = call.store.readings.served_meta(paging.meta(len(ids)), stop - start)
    if stop - start > STREAM_ABOVE:
        head = page_head(meta).encode()
        return JsonChunks(_stream_items(call.store, head, ids[start:stop]))
    return JsonBytes(page_json(call.store.render, meta, ids[start:stop]))


def _ties_shuffled(store: Store, ids: np.ndarray) -> np.ndarray:
    """`ids` ordered by `updatedAt` with the events of one served second in a random order."""
    seconds = store.cols.col("updated_us")[ids - 1] // 1_000_000
    shuffled = ids.copy()
    starts = np.flatnonzero(np.r_[True, seconds[1:] != seconds[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    rng = np.random.default_rng()
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        if end - start > 1:
            shuffled[start:end] = rng.permutation(ids[start:end])
    return shuffled


def _stream_items(store: Store, head: bytes, ids: np.ndarray) -> Iterator[bytes]:
    """Render a huge list in batches, taking the store lock per batch (writes may interleave)."""
    yield head
    for offset in range(0, len(ids), STREAM_BATCH):
        with store.lock:
            batch = items_json(store.render, ids[offset : offset + STREAM_BATCH])
        yield (b"," if offset else b"") + batch
    yield b"]}"


@handles("event_get")
def event_get(call: Call) -> Json:
    event_id = call.params["id"]
    store = call.store
    if not (event_writes.soft_deletes(store) and event_writes.deleted_here(store, event_id)):
        event_writes.require_event(store, event_id)
    return Json(store.render.event_json(event_id))


@handles("event_create")
def event_create(call: Call) -> Json:
    """The created EventDTO, or a list of them when multipleScheduledAt books several."""
    request: dtos.CreateEventRequestDTO = call.body
    ids = event_writes.create_events(call.store, request)
    render = call.store.render.event_json
    if len(ids) == 1 and not request.multipleScheduledAt:
        return Json(render(ids[0]))
    return Json("[" + ",".join(render(i) for i in ids) + "]")


@handles("event_edit")
def event_edit(call: Call) -> None:
    event_writes.edit_event(call.store, call.params["id"], call.body)


@handles("event_delete")
def event_delete(call: Call) -> None:
    event_writes.delete_event(call.store, call.params["id"])


def _applied_ids(call: Call) -> list[int]:
    """The ids a list write acts on: all of them, the first half (`list_writes=partial`), or
    those that exist (`list_writes=existing`)."""
    ids = list(call.body.ids)
    reading = call.store.readings.list_writes
    if reading == "existing":
        return [i for i in ids if call.store.has_event(i)]
    return ids[: len(ids) // 2] if reading == "partial" else ids


@handles("event_delete_list")
def event_delete_list(call: Call) -> None:
    event_writes.delete_events(call.store, _applied_ids(call))


@handles("event_cancel")
def event_cancel(call: Call) -> None:
    event_writes.cancel_event(call.store, call.params["id"], call.body.reason)


@handles("event_cancel_list")
def event_cancel_list(call: Call) -> None:
    event_writes.cancel_events(call.store, _applied_ids(call), call.body.reason)


@handles("event_notes")
def event_notes(call: Call) -> None:
    event_writes.set_notes(call.store, call.params["id"], call.body.notes)


@handles("event_invite_participants")
def event_invite_participants(call: Call) -> None:
    event_writes.invite_participants(
        call.store, call.params["id"], call.body.emails, call.body.message
    )


@handles("event_no_show")
def event_no_show(call: Call) -> None:
    event_writes.no_show_event(call.store, call.params["id"])


@handles("event_no_show_list")
def event_no_show_list(call: Call) -> None:
    event_writes.no_show_events(call.store, _applied_ids(call))


@handles("event_reschedule")
def event_reschedule(call: Call) -> None:
    event_writes.reschedule_event(call.store, call.params["id"], call.body)


@handles("event_resend_notification")
def event_resend_notification(call: Call) -> None:
    event_writes.resend_notification(call.store, call.params["id"])
