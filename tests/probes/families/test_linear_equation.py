"""Verifier and generator tests for the linear_equation family."""

from __future__ import annotations

from fractions import Fraction

from probes.base import Item, ProbeFamily, make_item
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


def test_linear_equation_answer_solves_the_system() -> None:
    fam = builtin_registry().get("linear_equation")
    for difficulty in (1, 2, 3, 4, 5, 7, 8, 9, 10):
        it = item(fam, difficulty)
        eqs, n = it.problem.facts["eqs"], it.problem.facts["n"]
        rows = []
        for lc, lk, rc, rk in eqs:
            coefs = [Fraction(lc[k] if k < len(lc) else 0) - Fraction(rc[k] if k < len(rc) else 0)
                     for k in range(n)]
            rows.append([*coefs, Fraction(rk - lk)])
        sol = _solve(rows)
        expected = sol[0] + sol[1] if it.problem.facts["ask"] == "x + y" else sol[0]
        assert expected == Fraction(int(it.problem.answer)), difficulty


def test_linear_equation_brackets() -> None:
    fam = builtin_registry().get("linear_equation")
    it = item(fam, 6)
    a, b, c, d = it.problem.facts["bracket"]
    x = int(it.problem.answer)
    assert a * (x + b) == c * x + d


