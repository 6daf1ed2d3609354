"""Pages of events rendered as a batch are, byte for byte, what `event_json` writes per event;
as values (`items_values`, the tests' truth), what `loads` reads of that text."""

from __future__ import annotations

import numpy as np
import pytest

from simplymeet.emulator.event_handlers import STREAM_ABOVE
from simplymeet.emulator.identifiers import (
    DetailRng,
    PredrawnRng,
    detail_draws,
    detail_rng,
    detail_states,
    event_uuid,
    event_uuid_texts,
    seeded_uuid,
    seeded_uuid_texts,
)
from simplymeet.emulator.render import answer_value, iso, loads
from simplymeet.emulator.render_batch import (
    _checked_options,
    _iso_texts,
    items_json,
    items_values,
    page_json,
)
from simplymeet.emulator.running import start_emulator
from simplymeet.emulator.store import Store
from tests.emulator_support import api_http


def _scalar_items(store: Store, ids: list[int]) -> bytes:
    return ",".join(store.render.event_json(event_id) for event_id in ids).encode()


def _expected_page(store: Store, body: dict) -> bytes:
    """The page a list request answered, spelled with `event_json` for each of its events."""
    ids = [item["id"] for item in body["items"]]
    meta = body["meta"]
    head = (
        f'{{"meta":{{"pagesCount":{meta["pagesCount"]},"itemsPerPage":{meta["itemsPerPage"]},'
        f'"itemsCount":{meta["itemsCount"]},"currentPage":{meta["currentPage"]}}},"items":['
    )
    return head.encode() + _scalar_items(store, ids) + b"]}"


@pytest.mark.parametrize("seed", [1, 5, 11])
@pytest.mark.parametrize("page_size", [100, 37])
def test_every_page_of_seeded_events_is_the_text_event_json_writes(seed, page_size):
    store = Store(seed=seed, events=1_500)
    ids = store.all_event_ids()
    for start in range(0, len(ids), page_size):
        page = ids[start : start + page_size]
        assert items_json(store.render, np.array(page)) == _scalar_items(store, page), start


def test_a_page_in_any_order_is_the_text_event_json_writes():
    store = Store(seed=2, events=600)
    shuffled = np.random.default_rng(7).permutation(store.all_event_ids())[:250]
    assert items_json(store.render, shuffled) == _scalar_items(store, shuffled.tolist())


def test_an_empty_page_has_no_items():
    store = Store(seed=1, events=10)
    assert items_json(store.render, np.array([], dtype=np.int64)) == b""
    assert page_json(store.render, {"itemsCount": 0}, []) == b'{"meta":{"itemsCount":0},"items":[]}'


def test_events_written_through_the_api_are_served_as_event_json_writes_them(
    emulator, emulator_http
):
    event_ids = emulator.store.all_event_ids()
    active = [i for i in event_ids if emulator.store.event_dto(i)["state"] == "active"]
    assert emulator_http.put(f"/event/cancel/{active[0]}", json={"reason": "x"}).is_success
    assert emulator_http.put(f"/event/notes/{active[1]}", json={"notes": "n"}).is_success
    invite = {"emails": ["a.b@example.com"]}
    assert emulator_http.post(f"/event/invite-participants/{active[2]}", json=invite).is_success
    assert emulator_http.put(f"/event/no-show/{active[3]}").is_success

    for page in range(1, 4):
        response = emulator_http.get("/event/", params={"page": page, "onPage": 100})
        assert response.status_code == 200
        assert response.content == _expected_page(emulator.store, response.json()), page


def test_a_streamed_list_is_the_text_event_json_writes():
    with start_emulator(seed=3, events=STREAM_ABOVE + 100) as emulator, api_http(emulator) as http:
        assert http.put(f"/event/notes/{STREAM_ABOVE}", json={"notes": "n"}).is_success
        response = http.get("/event/", params={"skipPagination": "true"})
        body = response.json()
        assert len(body["items"]) == STREAM_ABOVE + 100
        assert response.content == _expected_page(emulator.store, body)


def test_an_amount_beyond_64_bits_is_written_as_event_json_writes_it():
    store = Store(seed=1, events=300)
    for et in store.ref.event_types:
        et.amount = 2**70
    store.changed(rendered=True)
    ids = store.all_event_ids()[:100]
    text = page_json(store.render, {"itemsCount": 100}, ids)
    assert text == b'{"meta":{"itemsCount":100},"items":[' + _scalar_items(store, ids) + b"]}"


def _read_back(store: Store, ids: list[int]) -> list:
    return loads(b"[" + items_json(store.render, np.array(ids)) + b"]")


@pytest.mark.parametrize("seed", [1, 5, 11])
def test_events_as_values_are_what_loads_reads_of_their_text(seed):
    store = Store(seed=seed, events=1_500)
    ids = store.all_event_ids()

    assert items_values(store.render, np.array(ids)) == _read_back(store, ids)


def test_events_written_through_the_api_as_values_are_what_loads_reads_of_their_text(
    emulator, emulator_http
):
    active = [i for i in emulator.store.all_event_ids()[:300] if i % 3 == 0][:3]
    assert emulator_http.put(f"/event/cancel/{active[0]}", json={"reason": "x"}).is_success
    assert emulator_http.put(f"/event/notes/{active[1]}", json={"notes": "n"}).is_success
    assert emulator_http.put(f"/event/no-show/{active[2]}").status_code < 500
    ids = emulator.store.all_event_ids()[:300]

    assert items_values(emulator.store.render, np.array(ids)) == _read_back(emulator.store, ids)


def test_an_amount_beyond_64_bits_as_a_value_is_the_number_served():
    store = Store(seed=1, events=300)
    for et in store.ref.event_types:
        et.amount = 2**70
    store.changed(rendered=True)
    ids = store.all_event_ids()[:100]

    values = items_values(store.render, np.array(ids))

    assert values == _read_back(store, ids)
    assert values[0]["eventType"]["amount"] == 2**70


def test_answers_follow_a_change_to_an_event_types_questions():
    store = Store(seed=4, events=800)
    ids = np.array(store.all_event_ids())
    items_json(store.render, ids)  # the questions as first seen are kept per generation
    for et in store.ref.event_types:
        et.questions = et.questions[1:]
    store.changed(rendered=True)
    assert items_json(store.render, ids) == _scalar_items(store, ids.tolist())


def test_event_uuids_of_many_events_are_each_events_uuid():
    ids = np.arange(1, 3_000)
    for seed in (1, 9, 2**41 + 5):
        assert event_uuid_texts(seed, ids) == [event_uuid(seed, int(i)) for i in ids]


def test_detail_draws_are_the_draws_of_each_events_detail_rng():
    keys = np.array([1, 2, 999, 123_456])
    draws = detail_draws(detail_states(3, keys, 6), 5)
    for row, key in enumerate(keys.tolist()):
        rng = detail_rng(3, key, 6)
        assert draws[row].tolist() == [rng._next() for _ in range(5)]


def test_seeded_uuids_from_two_draws_are_what_seeded_uuid_spells():
    keys = np.arange(1, 200)
    first, second = detail_draws(detail_states(8, keys, 1), 2).T
    expected = [seeded_uuid(detail_rng(8, int(key), 1)) for key in keys]
    assert seeded_uuid_texts(first, second) == expected


def test_a_predrawn_rng_answers_what_its_detail_rng_would_past_its_draws():
    state = int(detail_states(1, np.array([42]), 2)[0])
    drawn = detail_draws(np.array([state], dtype=np.uint64), 3)[0].tolist()
    predrawn, plain = PredrawnRng(state, drawn), detail_rng(1, 42, 2)
    assert [predrawn.randint(0, 10**9) for _ in range(8)] == [
        plain.randint(0, 10**9) for _ in range(8)
    ]


@pytest.mark.parametrize(
    "epochs",
    [
        [1, 86_399, 1_767_225_600, 0, 1_767_225_601],  # all within the spelled days
        [-2_208_988_801, 4_102_444_800, 1_767_225_600],  # 1899 and 2100 among them
        [-86_401, -1, 0],
    ],
)
def test_stamps_of_a_page_are_spelled_as_iso_spells_each(epochs):
    assert _iso_texts(np.array(epochs, dtype=np.int64)) == [iso(epoch) for epoch in epochs]


def test_every_day_and_second_a_page_spells_from_its_tables_is_spelled_as_numpy_spells_it():
    days = np.arange(np.datetime64("1900-01-01"), np.datetime64("2100-01-01"))
    every_day = days.astype("datetime64[s]").astype(np.int64)
    every_second_of_a_day = 1_767_225_600 + np.arange(86_400)
    epochs = np.concatenate([every_day, every_second_of_a_day])
    spelled = np.char.add(np.datetime_as_string(epochs.astype("datetime64[s]")), "+00:00")
    expected = [
        None if epoch == 0 else text for epoch, text in zip(epochs, spelled.tolist(), strict=True)
    ]
    assert _iso_texts(epochs) == expected


def test_a_checkbox_answer_from_draws_made_ahead_is_the_renderers_own():
    options = ["Email", "Phone", "SMS", "Post", "Fax"]
    states = detail_states(7, np.arange(1, 201), 3)
    rows = detail_draws(states, len(options) + 1).tolist()
    for state, row in zip(states.tolist(), rows, strict=True):
        assert _checked_options(options, row, 0) == answer_value(
            DetailRng(state), "checkbox", options
        )


def test_a_checkbox_answer_needing_more_draws_than_were_made_is_left_to_the_renderer():
    options = ["Email", "Phone", "SMS"]
    draws = [2, 0, 0]  # three options picked: four draws needed, three made
    assert _checked_options(options, draws, 0) is None
