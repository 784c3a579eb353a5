"""ItemRandom: reproducible, independent per stream, exactly uniform where it claims to be."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from probes.rng import ItemRandom


def test_same_seed_and_stream_give_the_same_draws() -> None:
    a, b = ItemRandom(12345, b"problem"), ItemRandom(12345, b"problem")
    assert [a.randint(0, 999) for _ in range(100)] == [b.randint(0, 999) for _ in range(100)]


def test_streams_and_seeds_differ() -> None:
    draws = {
        tuple(ItemRandom(seed, stream).randrange(10**6) for _ in range(5))
        for seed in (1, 2, 2**62) for stream in (b"problem", b"render-0", b"render-1")
    }
    assert len(draws) == 9


def test_it_is_a_random_random_so_inherited_methods_work() -> None:
    rng = ItemRandom(7)
    assert isinstance(rng, random.Random)
    assert all(0.0 <= rng.random() < 1.0 for _ in range(1000))
    assert len(rng.choices("abc", k=10)) == 10
    assert isinstance(rng.gauss(0.0, 1.0), float)
    assert 0 <= rng.getrandbits(100) < 2**100
    assert 0 <= rng.randrange(10**30) < 10**30  # above 2**32: the getrandbits path
    assert rng.randrange(3, 30, 3) % 3 == 0


def test_randint_is_uniform_by_chi_square() -> None:
    rng = ItemRandom(2024)
    n, draws = 7, 70_000
    counts = Counter(rng.randint(1, n) for _ in range(draws))
    expected = draws / n
    chi2 = sum((counts[k] - expected) ** 2 / expected for k in range(1, n + 1))
    assert set(counts) == set(range(1, n + 1))
    assert chi2 < 22.46  # 99.9th percentile of chi-square with 6 degrees of freedom


def test_rejection_keeps_a_huge_modulus_exact() -> None:
    # n just above 2**31: plain multiply-shift would favour the low half by ~50%; rejection must not.
    rng = ItemRandom(99)
    n = 2**31 + 2**30
    low = sum(rng.randrange(n) < n // 2 for _ in range(20_000))
    assert abs(low / 20_000 - 0.5) < 4 * math.sqrt(0.25 / 20_000)


def test_shuffle_and_sample_are_permutations_without_repeats() -> None:
    rng = ItemRandom(3)
    xs = list(range(20))
    rng.shuffle(xs)
    assert sorted(xs) == list(range(20)) and xs != list(range(20))
    picked = rng.sample(range(50), 10)
    assert len(set(picked)) == 10 and all(0 <= p < 50 for p in picked)
    assert rng.sample("abc", 3) != [] and sorted(rng.sample("abc", 3)) == ["a", "b", "c"]


def test_state_round_trip() -> None:
    rng = ItemRandom(5)
    rng.random()
    state = rng.getstate()
    first = [rng.random() for _ in range(30)]
    rng.setstate(state)
    assert [rng.random() for _ in range(30)] == first


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda r: r.randrange(0), ValueError),
        (lambda r: r.randrange(5, 5), ValueError),
        (lambda r: r.randint(3, 2), ValueError),
        (lambda r: r.choice([]), IndexError),
        (lambda r: r.sample(range(3), 4), ValueError),
        (lambda r: r.seed("text"), TypeError),
    ],
)
def test_errors_match_random_random(call: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        call(ItemRandom(1))  # type: ignore[operator]
