"""Deterministic identifiers: event UUIDs that encode their event id, and seeded per-event RNGs.

An event's UUID is a pure function of (seed, id) and can be turned back into the id, so the
`uuid` filter needs no index and a million events need no UUID column. The low 62 bits are an
invertible scramble of the id; the high bits are a hash, with the version-4 and RFC 4122 variant
bits set so the value looks like any other random UUID.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")

_MASK62 = (1 << 62) - 1
_MASK64 = (1 << 64) - 1
_M1 = 0x5DEECE66D1B0F3A7 & _MASK62 | 1
_M2 = 0x2545F4914F6CDD1D & _MASK62 | 1
_M1_INV = pow(_M1, -1, 1 << 62)
_M2_INV = pow(_M2, -1, 1 << 62)


def _seed_key(seed: int) -> int:
    return splitmix64(seed * 0x9E3779B97F4A7C15 + 0xABCDEF) & _MASK62


def splitmix64(x: int) -> int:
    """One round of SplitMix64: a cheap, well-mixed 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def _scramble(seed: int, event_id: int) -> int:
    y = ((event_id ^ _seed_key(seed)) * _M1) & _MASK62
    y ^= y >> 31
    return (y * _M2) & _MASK62


def _unscramble(seed: int, low: int) -> int:
    y = (low * _M2_INV) & _MASK62
    y ^= y >> 31
    return ((y * _M1_INV) & _MASK62) ^ _seed_key(seed)


def event_uuid_parts(seed: int, event_id: int) -> tuple[int, int]:
    """The UUID of an event as (high 64 bits, low 64 bits); sorting by it sorts by the UUID."""
    high = splitmix64((seed << 40) ^ event_id ^ 0x5555)
    high = (high & ~0xF000) | 0x4000  # version 4
    low = (0b10 << 62) | _scramble(seed, event_id)  # RFC 4122 variant
    return high, low


def event_uuid(seed: int, event_id: int) -> str:
    """The UUID string of an event, e.g. '3f0c9d1e-…'."""
    high, low = event_uuid_parts(seed, event_id)
    h = f"{high:016x}{low:016x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def event_id_from_uuid(seed: int, value: str) -> int | None:
    """The event id a UUID names, or None when the text is no UUID this store could issue."""
    text = value.strip().lower().replace("-", "")
    if len(text) != 32:
        return None
    try:
        number = int(text, 16)
    except ValueError:
        return None
    low = number & _MASK64
    if low >> 62 != 0b10:
        return None
    event_id = _unscramble(seed, low & _MASK62)
    if event_id < 1 or event_id > 1 << 40 or event_uuid_parts(seed, event_id)[0] != number >> 64:
        return None
    return event_id


def event_uuid_sort_keys(seed: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorized (high, low) UUID halves of many events, for ordering by uuid."""
    # Python ints keep the arithmetic exact; this runs only when someone orders by uuid.
    pairs = [event_uuid_parts(seed, int(i)) for i in ids]
    high = np.fromiter((p[0] for p in pairs), dtype=np.uint64, count=len(pairs))
    low = np.fromiter((p[1] for p in pairs), dtype=np.uint64, count=len(pairs))
    return high, low


class DetailRng:
    """A tiny SplitMix64 generator: free to create, which matters at one per event field.

    Implements the few `random.Random` methods the renderer uses, with the same meaning.
    """

    __slots__ = ("_state",)

    def __init__(self, state: int) -> None:
        self._state = state & _MASK64

    def _next(self) -> int:
        self._state = (self._state + 0x9E3779B97F4A7C15) & _MASK64
        x = self._state
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
        return x ^ (x >> 31)

    def random(self) -> float:
        return (self._next() >> 11) * (1.0 / (1 << 53))

    def randint(self, a: int, b: int) -> int:
        return a + self._next() % (b - a + 1)

    def choice(self, seq: Sequence[T]) -> T:
        return seq[self._next() % len(seq)]

    def sample(self, seq: Sequence[T], k: int) -> list[T]:
        pool = list(seq)
        for i in range(k):
            j = i + self._next() % (len(pool) - i)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]

    def getrandbits(self, k: int) -> int:
        out, bits = 0, 0
        while bits < k:
            out = (out << 64) | self._next()
            bits += 64
        return out >> (bits - k)


def detail_rng(seed: int, key: int, salt: int = 0) -> DetailRng:
    """The RNG of one detail (salt) of one event (key): the source of rendered per-event data."""
    return DetailRng(splitmix64((seed << 48) ^ (salt << 40) ^ key))


def seeded_uuid(rng: random.Random | DetailRng) -> str:
    """A version-4 UUID string drawn from a seeded Random (reference data, polls, invitees)."""
    number = rng.getrandbits(128)
    number = (number & ~(0xF << 76)) | (0x4 << 76)
    number = (number & ~(0x3 << 62)) | (0x2 << 62)
    h = f"{number:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
