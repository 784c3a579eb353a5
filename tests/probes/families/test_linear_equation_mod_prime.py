"""The invertibility check mod p in Python integers against numpy's vectorised elimination (the
implementation it replaced: the daemon no longer imports numpy) and against exact elimination over Q in fractions."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest

from probes.families.linear_equation import invertible_mod_prime


def _numpy_check(rows: list[list[int]], p: int) -> bool:
    m = np.array(rows, dtype=np.int64) % p
    n = len(m)
    for k in range(n):
        nonzero = np.flatnonzero(m[k:, k])
        if nonzero.size == 0:
            return False
        pivot = k + int(nonzero[0])
        if pivot != k:
            m[[k, pivot]] = m[[pivot, k]]
        inv = pow(int(m[k, k]), -1, p)
        factors = m[k + 1 :, k] * inv % p
        m[k + 1 :, k:] = (m[k + 1 :, k:] - (factors[:, None] * m[k, k:] % p)) % p
    return True


def _full_rank_over_q(rows: list[list[int]]) -> bool:
    m = [[Fraction(v) for v in row] for row in rows]
    n = len(m)
    for k in range(n):
        pivot = next((r for r in range(k, n) if m[r][k] != 0), None)
        if pivot is None:
            return False
        m[k], m[pivot] = m[pivot], m[k]
        for i in range(k + 1, n):
            f = m[i][k] / m[k][k]
            m[i] = [a - f * b for a, b in zip(m[i], m[k], strict=True)]
    return True


@pytest.mark.parametrize("p", [2_147_483_647, 7, 3])
def test_same_answer_as_numpy_elimination(p: int) -> None:
    rng = random.Random(p)
    singular = 0
    for _ in range(400):
        n = rng.randint(1, 24)
        hi = rng.choice([1, 2, 12])
        rows = [[rng.randint(-hi, hi) for _ in range(n)] for _ in range(n)]
        if n > 2 and rng.random() < 0.3:
            rows[-1] = [a + b for a, b in zip(rows[0], rows[1], strict=True)]
        got = invertible_mod_prime(rows, p)
        assert got == _numpy_check(rows, p)
        singular += not got
    assert singular > 50


def test_large_prime_agrees_with_rank_over_q() -> None:
    rng = random.Random(5)
    for n in (17, 30):
        rows = [[rng.randint(-12, 12) for _ in range(n)] for _ in range(n)]
        assert invertible_mod_prime(rows) == _full_rank_over_q(rows)
        rows[3] = [2 * v for v in rows[5]]
        assert not invertible_mod_prime(rows)
