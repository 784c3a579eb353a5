"""Verifier and generator tests for the knights family."""

from __future__ import annotations

from probes.base import Item, ProbeFamily, make_item
from probes.families.knights import KnightsKnaves, solutions

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_knights_puzzles_have_one_solution() -> None:
    fam = KnightsKnaves()
    for difficulty in (1, 5, 10):
        it = item(fam, difficulty)
        f = it.problem.facts
        sols = solutions(f["n"], f["stmts"])
        assert len(sols) == 1
        assert [i for i, k in enumerate(sols[0]) if k] == f["knights"]


def test_knights_novelty3_asks_for_knaves_with_same_canonical() -> None:
    fam = KnightsKnaves()
    plain, framed = item(fam, 4, 0), item(fam, 4, 3)
    assert "tricksters" in framed.prompt
    assert fam.score(plain, plain.answer).canonical == fam.score(framed, framed.answer).canonical


def test_knights_requires_explicit_none() -> None:
    fam = KnightsKnaves()
    it = next(i for i in (item(fam, 8, 0, k) for k in range(400)) if not i.problem.facts["knights"])
    assert fam.score(it, "Answer: none").score == 1.0
    assert fam.score(it, "Answer: I cannot tell").score == 0.0


