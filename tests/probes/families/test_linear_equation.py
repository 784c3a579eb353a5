"""Verifier and generator tests for the linear_equation family."""

from __future__ import annotations

import math
import random
import re
from fractions import Fraction

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.linear_equation import LinearEquation, invertible_mod_prime, nonsingular
from probes.registry import builtin_registry

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def _solve(rows: list[list[Fraction]]) -> list[Fraction]:
    """Gauss-Jordan elimination on an augmented matrix (independent of the generator)."""
    n = len(rows)
    for col in range(n):
        pivot = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                f = rows[r][col] / rows[col][col]
                rows[r] = [a - f * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [rows[i][n] / rows[i][i] for i in range(n)]


@pytest.mark.parametrize(
    ("d", "unknowns", "coef"),
    [(1, 1, 1), (5, 1, 3), (6, 2, 4), (10, 2, 6), (15, 3, 8), (16, 4, 9), (26, 8, 12), (36, 16, 12),
     (46, 32, 12), (56, 64, 12)],
)
def test_linear_equation_plan(d: int, unknowns: int, coef: int) -> None:
    p = LinearEquation().plan(d)
    assert (p["unknowns"], p["coef"], p["solution"]) == (unknowns, coef, 5 + 2 * d)
    assert p["negative"] == (d >= 5) and p["both_sides"] == (d >= 4)


@pytest.mark.parametrize("d", [1, 2, 4, 5, 6, 10, 16, 26, 36, 46, 56])
def test_linear_equation_answer_solves_the_system(d: int) -> None:
    fam = builtin_registry().get("linear_equation")
    p = fam.plan(d)
    for index in range(5):
        it = item(fam, d, index=index)
        eqs, n = it.problem.facts["eqs"], it.problem.facts["n"]
        assert n == len(eqs) == p["unknowns"]
        rows = []
        for lc, lk, rc, rk in eqs:
            assert all(abs(c) <= p["coef"] for c in [*lc, *rc])
            coefs = [Fraction(lc[k] if k < len(lc) else 0) - Fraction(rc[k] if k < len(rc) else 0)
                     for k in range(n)]
            rows.append([*coefs, Fraction(rk - lk)])
        sol = _solve(rows)
        assert sol[0] == Fraction(int(it.problem.answer)), d
        assert all(s.denominator == 1 and abs(s) <= p["solution"] for s in sol)
        # One equation line per unknown, each naming only the declared unknowns.
        lines = [ln for ln in it.prompt.splitlines() if " = " in ln]
        assert len(lines) == n


def test_linear_equation_level_one_is_x_plus_a() -> None:
    for index in range(10):
        it = item(LinearEquation(), 1, index=index)
        (line,) = [ln for ln in it.prompt.splitlines() if " = " in ln]
        m = re.fullmatch(r"x \+ (\d+) = (\d+)", line)
        assert m and int(m.group(2)) - int(m.group(1)) == int(it.problem.answer) > 0


def test_nonsingular() -> None:
    assert nonsingular([[1, 2], [3, 4]]) and not nonsingular([[1, 2], [2, 4]])
    assert not nonsingular([[0, 1, 2], [0, 3, 4], [0, 5, 6]])
    assert nonsingular([[0, 1, 0], [1, 0, 0], [0, 0, 1]])


def test_linear_equation_top_is_a_dense_system() -> None:
    fam = LinearEquation()
    it = item(fam, fam.top)
    assert it.problem.facts["n"] == math.floor(2 ** ((fam.top + 4) / 10)) == 64
    assert "x64" in it.prompt
    assert all(len(item(fam, fam.top, n).prompt) < 40_000 for n in range(4))


def test_invertible_mod_prime_agrees_with_the_exact_check() -> None:
    rng = random.Random(7)
    for n in range(1, 12):
        for _ in range(100):
            rows = [[rng.randint(-2, 2) for _ in range(n)] for _ in range(n)]
            assert invertible_mod_prime(rows) == nonsingular(rows), rows
    assert not invertible_mod_prime([[1, 2], [2, 4]]) and invertible_mod_prime([[0, 1], [1, 0]])
