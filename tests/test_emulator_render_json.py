"""The emulator's JSON text is exactly what the standard library writes (compact, UTF-8 kept)."""

from __future__ import annotations

import json

import pytest

from simplymeet.emulator.render import dumps
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


def test_a_float_in_exponent_form_reads_back_the_same_number():
    """orjson spells 1e-07 as 1e-7: the one known difference in text, not in value."""
    value = {"tiny": 1e-7, "huge": 1.5e300}
    assert json.loads(dumps(value)) == value


def test_every_seeded_event_renders_as_the_standard_library_would():
    store = Store(seed=3, events=1500)
    for event_id in store.all_event_ids():
        text = store.render.event_json(event_id)
        assert _STDLIB(json.loads(text)) == text, event_id
