"""The emulator's JSON text is exactly what the standard library writes (compact, UTF-8 kept)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from simplymeet.contract.dates import format_response_datetime
from simplymeet.emulator.render import dumps, iso, loads
from simplymeet.emulator.store import Store

_STDLIB = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@pytest.mark.parametrize(
    "value",
    [
        {"name": "Zoë Ødegård", "note": "line\nbreak \u2028 <b>&</b> /path", "tab": "\t"},
        {"lat": 52.52001, "neg": -0.5, "whole": 3.0, "amount": 49.99, "none": None},
        {"nested": [{"a": [1, 2, {"b": True}]}, [], {}], "empty": ""},
        {1: "int key", "s": "str key"},
        {"big": 2**70},
        ["\u0000\u001f\u007f", "\ud7ff", "emoji 🎉"],
    ],
    ids=["text", "floats", "nesting", "int-keys", "beyond-64-bit", "control-chars"],
)
def test_dumps_writes_the_standard_library_text(value):
    assert dumps(value) == _STDLIB(value)


@pytest.mark.parametrize(
    "value",
    [
        {"big": 2**70 + 1, "neg": -(2**80) - 3, "u64": 2**64 - 1},
        {"text": "Zoë", "floats": [0.1, 1e-7, 49.99], "none": None, "ok": True},
    ],
    ids=["beyond-64-bit", "plain"],
)
def test_loads_reads_back_exactly_what_dumps_wrote(value):
    text = dumps(value)
    assert loads(text) == value
    assert loads(text.encode()) == value
    assert loads(text) == json.loads(text)


def test_a_float_in_exponent_form_reads_back_the_same_number():
    """orjson spells 1e-07 as 1e-7: the one known difference in text, not in value."""
    value = {"tiny": 1e-7, "huge": 1.5e300}
    assert json.loads(dumps(value)) == value


def test_every_seeded_event_renders_as_the_standard_library_would():
    store = Store(seed=3, events=1500)
    for event_id in store.all_event_ids():
        text = store.render.event_json(event_id)
        assert _STDLIB(json.loads(text)) == text, event_id


@pytest.mark.parametrize(
    "epoch",
    [1, 59, 86_399, 86_400, 951_782_400, 1_700_000_000, 1_767_225_599, 4_102_444_800, -86_395],
    ids=lambda epoch: str(epoch),
)
def test_a_timestamp_renders_as_the_contract_formats_a_response_datetime(epoch):
    expected = format_response_datetime(dt.datetime.fromtimestamp(epoch, tz=dt.UTC))
    assert iso(epoch) == expected


def test_no_timestamp_renders_as_null():
    assert iso(None) is None
    assert iso(0) is None
