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
    solution = 5 + 2 * d if d <= 36 else math.floor(77 * 2 ** ((d - 36) / 4))
    assert (p["unknowns"], p["coef"], p["solution"]) == (unknowns, coef, solution)
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


def test_linear_equation_top_has_no_substitution_order_and_no_guessable_answer() -> None:
    """Every equation of a large system names nearly every unknown (no triangular or sparse row to
    substitute from), and the answers spread over thousands of values (version 2's top was passed by
    a guess of 3 among 235 values)."""
    fam = LinearEquation()
    answers = []
    for d in (46, fam.top):
        for index in range(6):
            it = item(fam, d, index=index)
            n = it.problem.facts["n"]
            for lc, _, _, _ in it.problem.facts["eqs"]:
                assert sum(c != 0 for c in lc) >= 0.7 * n
            answers.append(abs(int(it.problem.answer)))
    assert fam.plan(fam.top)["solution"] == 2464 and max(answers) > 300


def _digest(family: ProbeFamily, difficulty: int) -> str:
    import hashlib

    h = hashlib.sha256()
    for index in range(3):
        for novelty in range(4):
            it = make_item(family, b"pin-v3-levels", index, difficulty, novelty)
            h.update(it.prompt.encode() + b"\0" + it.answer.encode() + b"\1")
    return h.hexdigest()[:32]


#: Version 3 widened the solutions above level 36 (levels 1..36 stay pinned in
#: test_old_levels_pinned.py); these pin what version 3 generates there.
V3_DIGESTS = {37: "d351b2a9e5d1558def992dd4b6dfcab9", 46: "72a890a75f66cdd9e2bfa42dbe5ef283",
              56: "b929476f4825a8ca9087dd1a7420cdd7"}


def test_linear_equation_version_3_levels_pinned() -> None:
    fam = LinearEquation()
    assert fam.version == "3"
    for d, expected in V3_DIGESTS.items():
        assert _digest(fam, d) == expected, d
