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
    """Vectorized (high, low) UUID halves of many events (`event_uuid_parts` of each id).

    Sorting by (high, low) sorts by the UUID text; `event_uuid_texts` spells them.
    """
    # uint64 arithmetic wraps modulo 2**64, as the masks of the scalar functions do, and
    # modulo 2**64 then masking to 62 bits is modulo 2**62.
    keys = np.asarray(ids, dtype=np.int64).astype(np.uint64)
    high = _mix_array((keys ^ np.uint64(((seed << 40) ^ 0x5555) & _MASK64)) + _GAMMA)
    high = (high & np.uint64(~0xF000 & _MASK64)) | np.uint64(0x4000)
    y = ((keys ^ np.uint64(_seed_key(seed))) * np.uint64(_M1)) & np.uint64(_MASK62)
    y ^= y >> np.uint64(31)
    low = ((y * np.uint64(_M2)) & np.uint64(_MASK62)) | np.uint64(0b10 << 62)
    return high, low


def event_uuid_texts(seed: int, ids: np.ndarray) -> list[str]:
    """`event_uuid` of many events at once."""
    return uuid_texts(*event_uuid_sort_keys(seed, ids))


def uuid_texts(high: np.ndarray, low: np.ndarray) -> list[str]:
    """UUID strings from their (high, low) 64-bit halves, lower-case hex with dashes."""
    halves = np.empty((len(high), 2), dtype=">u8")
    halves[:, 0] = high
    halves[:, 1] = low
    digits = np.frombuffer(halves.tobytes().hex().encode(), dtype="S1").reshape(-1, 32)
    spelled = np.full((len(high), 36), b"-", dtype="S1")
    spelled[:, _UUID_DIGIT_COLUMNS] = digits
    return spelled.view("S36").ravel().astype("U36").tolist()


_UUID_DIGIT_COLUMNS = [i for i in range(36) if i not in (8, 13, 18, 23)]


def seeded_uuid_texts(first: np.ndarray, second: np.ndarray) -> list[str]:
    """`seeded_uuid` of many RNGs, given the two draws each one's `getrandbits(128)` takes."""
    high = (first & np.uint64(~(0xF << 12) & _MASK64)) | np.uint64(0x4 << 12)
    low = (second & np.uint64(~(0x3 << 62) & _MASK64)) | np.uint64(0x2 << 62)
    return uuid_texts(high, low)


_GAMMA = np.uint64(0x9E3779B97F4A7C15)


def _mix_array(z: np.ndarray) -> np.ndarray:
    """SplitMix64's output function on uint64 values (`splitmix64` is x + gamma, then this)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


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


def detail_states(seed: int, keys: np.ndarray, salt: int = 0) -> np.ndarray:
    """The start state of `detail_rng(seed, key, salt)` for many keys (uint64)."""
    prefix = np.uint64(((seed << 48) ^ (salt << 40)) & _MASK64)
    return _mix_array((np.asarray(keys, dtype=np.int64).astype(np.uint64) ^ prefix) + _GAMMA)


def detail_draws(states: np.ndarray, count: int) -> np.ndarray:
    """The first `count` raw draws of the RNG of each start state: row i, column k is what the
    (k+1)-th `_next()` of `DetailRng(states[i])` returns (uint64, shape (len(states), count)).

    SplitMix64 steps its state by a constant, so every draw of a page of events is one
    vectorized mix instead of a Python call per draw.
    """
    steps = _GAMMA * np.arange(1, count + 1, dtype=np.uint64)
    return _mix_array(states[:, None] + steps[None, :])


def unit_floats(draws: np.ndarray) -> np.ndarray:
    """`DetailRng.random()` of raw draws: the same float for the same draw."""
    return (draws >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


class PredrawnRng(DetailRng):
    """A `DetailRng` whose first draws were computed ahead (`detail_draws`); later ones follow
    from the state, so it answers exactly what `DetailRng(state)` would."""

    __slots__ = ("_drawn", "used")

    def __init__(self, state: int, drawn: list[int], used: int = 0) -> None:
        super().__init__(state)
        self._drawn = drawn
        self.used = used
        """Draws taken so far (including `used` given: the first ones are skipped)."""

    def _next(self) -> int:
        index = self.used
        self.used = index + 1
        if index < len(self._drawn):
            return self._drawn[index]
        return splitmix64((self._state + index * 0x9E3779B97F4A7C15) & _MASK64)


def seeded_uuid(rng: random.Random | DetailRng) -> str:
    """A version-4 UUID string drawn from a seeded Random (reference data, polls, invitees)."""
    number = rng.getrandbits(128)
    number = (number & ~(0xF << 76)) | (0x4 << 76)
    number = (number & ~(0x3 << 62)) | (0x2 << 62)
    h = f"{number:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
