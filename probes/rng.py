"""The random stream each probe item draws from: cheap to seed, reproducible everywhere.

Every item needs two independent streams (problem and rendering) seeded from its own key, and
seeding ``random.Random`` costs about 5 µs (Mersenne Twister fills 624 words) against the few
microseconds an item takes to build. ``ItemRandom`` is the subclass the ``random`` docs describe
for "a different basic generator": BLAKE2b in counter mode over the item's key supplies 32-bit
words, so seeding is storing the key, and ``random()``/``getrandbits()`` — hence every inherited
method (gauss, choices, …) — draw from it. The methods families call in their inner loops
(randrange, randint, choice, shuffle, sample, uniform) are overridden with direct paths.

Integers below ``n`` use Lemire's multiply-shift with rejection, so they are exactly uniform.
Streams are stable across processes, platforms and Python versions (nothing depends on ``hash``).
"""

from __future__ import annotations

import random
import struct
from collections.abc import MutableSequence, Sequence
from hashlib import blake2b
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

T = TypeVar("T")

_WORDS = struct.Struct("<16I").unpack  # one 64-byte BLAKE2b digest = sixteen 32-bit words
_MASK32 = 0xFFFFFFFF
_TWO32 = 1 << 32
_RES53 = 1.0 / (1 << 53)
_BLOCK0 = (0).to_bytes(8, "little")


class ItemRandom(random.Random):
    """A deterministic stream of random draws keyed by an integer seed and a stream label."""

    _key: bytes
    _block: int
    _words: list[int]

    def __init__(self, seed: int, stream: bytes = b"") -> None:  # no super(): no Twister to fill
        self.seed(seed, stream)

    def seed(self, a: Any = None, version: int | bytes = 2) -> None:
        """Restart the stream at ``a`` (an int); ``version`` may carry a bytes stream label."""
        if type(a) is not int:
            raise TypeError("ItemRandom needs an integer seed")
        label = version if type(version) is bytes else b""
        self._key = b"capmon-item-rng\x1f%b%b\x1f" % ((a & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little"), label)
        # Nearly every item draws something, so fill the first block now rather than on a miss.
        self._words = list(_WORDS(blake2b(self._key + _BLOCK0).digest()))
        self._block = 1
        self.gauss_next = None

    def getstate(self) -> tuple[Any, ...]:
        return self._key, self._block, tuple(self._words)

    def setstate(self, state: Any) -> None:
        key, block, words = state
        self._key, self._block, self._words = key, block, list(words)

    def _refill(self) -> int:
        """Fill the buffer with the next block of the stream and return one word from it."""
        self._words = list(_WORDS(blake2b(self._key + self._block.to_bytes(8, "little")).digest()))
        self._block += 1
        return self._words.pop()

    def _word(self) -> int:
        """The next 32-bit word."""
        try:
            return self._words.pop()
        except IndexError:
            return self._refill()

    def random(self) -> float:
        """A float in [0, 1) with 53 random bits (as CPython's Twister builds it)."""
        return ((self._word() >> 5) * 67108864 + (self._word() >> 6)) * _RES53

    def getrandbits(self, k: int) -> int:
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        value, have = 0, 0
        while have < k:
            value = (value << 32) | self._word()
            have += 32
        return value >> (have - k)

    def _below(self, n: int) -> int:
        """Uniform in [0, n) for n > 0: Lemire's multiply-shift, rejecting the biased sliver."""
        if n > _TWO32:
            bits = n.bit_length()
            value = self.getrandbits(bits)
            while value >= n:
                value = self.getrandbits(bits)
            return value
        try:
            product = self._words.pop() * n
        except IndexError:
            product = self._refill() * n
        if (product & _MASK32) < n:
            threshold = (_TWO32 - n) % n
            while (product & _MASK32) < threshold:
                product = self._word() * n
        return product >> 32

    # random.Random routes choice/shuffle/sample/randrange through _randbelow.
    _randbelow = _below

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            if start <= 0:
                raise ValueError("empty range for randrange()")
            return self._below(start)
        if step == 1:
            if stop <= start:
                raise ValueError(f"empty range in randrange({start}, {stop})")
            return start + self._below(stop - start)
        return super().randrange(start, stop, step)

    def randint(self, a: int, b: int) -> int:
        if b < a:
            raise ValueError(f"empty range in randint({a}, {b})")
        return a + self._below(b - a + 1)

    def choice(self, seq: SupportsLenAndGetItem[T]) -> T:
        if not seq:
            raise IndexError("cannot choose from an empty sequence")
        return seq[self._below(len(seq))]

    def shuffle(self, x: MutableSequence[Any]) -> None:
        below = self._below
        for i in range(len(x) - 1, 0, -1):
            j = below(i + 1)
            x[i], x[j] = x[j], x[i]

    def sample(self, population: Sequence[T], k: int, *, counts: Any = None) -> list[T]:
        if counts is not None:
            return super().sample(population, k, counts=counts)
        n = len(population)
        if not 0 <= k <= n:
            raise ValueError("sample larger than population or is negative")
        pool = list(population)
        below = self._below
        for i in range(k):  # partial Fisher-Yates: the first k slots are the sample, in order
            j = i + below(n - i)
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.random()
