"""Verifier and generator tests for the sequence family."""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.sequence import SequenceInduction
from probes.registry import builtin_registry

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def minimal_recurrence(seq: list[int]) -> list[Fraction]:
    """Berlekamp-Massey over the rationals: the shortest c with s_n = sum c_j s_{n-1-j}."""
    s = [Fraction(v) for v in seq]
    c: list[Fraction] = [Fraction(1)]  # connection polynomial C(x), C[0] = 1
    b: list[Fraction] = [Fraction(1)]
    length, shift, last = 0, 1, Fraction(1)
    for n in range(len(s)):
        disc = s[n] + sum(c[i] * s[n - i] for i in range(1, length + 1) if i < len(c))
        if disc == 0:
            shift += 1
            continue
        coef = disc / last
        new = c + [Fraction(0)] * max(0, len(b) + shift - len(c))
        for i, v in enumerate(b):
            new[i + shift] -= coef * v
        if 2 * length <= n:
            b, length, last, shift = c, n + 1 - length, disc, 1
        else:
            shift += 1
        c = new
    c += [Fraction(0)] * (length + 1 - len(c))
    return [-v for v in c[1 : length + 1]]


def test_berlekamp_massey_helper() -> None:
    assert minimal_recurrence([1, 1, 2, 3, 5, 8, 13]) == [1, 1]
    assert minimal_recurrence([1, 4, 9, 16, 25, 36, 49]) == [3, -3, 1]
    assert minimal_recurrence([3, 6, 12, 24, 48]) == [2]


def test_sequence_rules() -> None:
    fam = builtin_registry().get("sequence_induction")
    first = item(fam, 1)
    shown = first.problem.facts["shown"]
    step = shown[1] - shown[0]
    assert 1 <= step <= 9 and len(shown) == 5
    assert all(b - a == step for a, b in itertools.pairwise(shown))
    assert int(first.problem.answer) == shown[-1] + step
    fib = item(fam, 3)
    s = [*fib.problem.facts["shown"], int(fib.problem.answer)]
    assert all(s[i] == s[i - 1] + s[i - 2] for i in range(2, len(s)))


def _expected_order(d: int) -> int:
    # Independent restatement: 2 for levels 1-4, 3 for 5-8, 4 for 9-10, then x2 per ten levels (floored).
    if d <= 10:
        return [2, 2, 2, 2, 3, 3, 3, 3, 4, 4][d - 1]
    return int(4 * 2 ** ((d - 10) / 10))


def test_plan_formula() -> None:
    fam = SequenceInduction()
    assert [fam.plan(d)["order"] for d in (1, 10, 20, 30, 40, fam.top)] == [2, 4, 8, 16, 32, 64]
    for d in fam.levels:
        assert fam.plan(d) == {"order": _expected_order(d), "terms": 2 * _expected_order(d) + 1}


@pytest.mark.parametrize("difficulty", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 17, 20, 25, 30])
def test_problem_has_the_planned_order(difficulty: int) -> None:
    """The shown terms plus the answer have a minimal recurrence of exactly the planned order."""
    fam = SequenceInduction()
    p = fam.plan(difficulty)
    for index in range(12):
        it = item(fam, difficulty, index=index)
        shown = it.problem.facts["shown"]
        assert len(shown) == p["terms"]
        full = [*shown, int(it.problem.answer)]
        rec = minimal_recurrence(full)
        assert len(rec) == p["order"], (it.problem.facts["rule"], rec)
        # The answer is the unique continuation of the recurrence found from the shown terms alone.
        from_shown = minimal_recurrence(shown)
        assert len(from_shown) == p["order"]
        assert sum(c * shown[-1 - j] for j, c in enumerate(from_shown)) == int(it.problem.answer)


def test_random_recurrences_appear_from_their_level() -> None:
    fam = SequenceInduction()
    rules = {item(fam, 20, index=i).problem.facts["rule"].split(" ")[0] for i in range(60)}
    assert "a_n" in rules and "binomial" in rules
    low = {item(fam, 12, index=i).problem.facts["rule"] for i in range(60)}
    assert not any(r.startswith("a_n") for r in low)


def test_terms_stay_exactly_comparable() -> None:
    """Up to the old top answers stay below 1e14, where a float is still an exact integer."""
    fam = SequenceInduction()
    for d in (20, 25, OLD_TOP):
        for index in range(40):
            it = item(fam, d, index=index)
            assert max(abs(v) for v in [*it.problem.facts["shown"], int(it.problem.answer)]) < 10**14
            assert fam.score(it, str(int(it.problem.answer) + 1)).score == 0.0


@pytest.mark.parametrize("difficulty", [31, 40, 50])
def test_extended_levels_have_the_planned_order_and_exact_big_answers(difficulty: int) -> None:
    """Above the old top: random recurrences of the planned order over big integers, scored exactly."""
    fam = SequenceInduction()
    p = fam.plan(difficulty)
    for index in range(3):
        it = item(fam, difficulty, index=index)
        shown = it.problem.facts["shown"]
        assert len(shown) == p["terms"] and it.problem.facts["rule"].startswith("a_n")
        assert len(minimal_recurrence([*shown, int(it.problem.answer)])) == p["order"]
        answer = int(it.problem.answer)
        assert fam.score(it, str(answer)).score == 1.0
        assert fam.score(it, str(answer + 1)).score == 0.0
        if abs(answer) >= 10**15:  # a float's rounding of a long answer is not the answer
            assert fam.score(it, f"{float(answer):e}").score == 0.0
    assert max(len(make_item(fam, SALT, 0, fam.top, n).prompt) for n in range(4)) < 40_000


OLD_TOP = 30  # the top before the scale was extended: levels 1..OLD_TOP stay byte-identical


def test_old_levels_are_byte_identical() -> None:
    """Items at levels 1, 10 and the old top, and every old plan, hash as before the extension."""
    import hashlib
    import json

    from probes.base import make_item as _make
    from probes.families.sequence import SequenceInduction as _Family

    family = _Family()
    h = hashlib.sha256()
    for d in (1, 10, OLD_TOP):
        for i in range(3):
            for n in range(4):
                it = _make(family, b"pin-old-levels", i, d, n)
                h.update(it.prompt.encode() + b"\0" + it.answer.encode() + b"\1")
    assert h.hexdigest() == "141659ff6cda637323de6b9a005c503d0260515894c36f0fb62f47a417dc722a"
    old_keys = ('order', 'terms')  # keys added above the old top are 0 below it
    plans = json.dumps([{k: family.plan(d)[k] for k in old_keys} for d in range(1, OLD_TOP + 1)])
    digest = hashlib.sha256(plans.encode()).hexdigest()
    assert digest == "8d70917c655f7ab36bfd9d87ce81b656b23d8a9c5ab4296c8e73c0d94d879511"
