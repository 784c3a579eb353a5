"""Verifier and generator tests for the comprehension family."""

from __future__ import annotations

from probes.base import Item, ProbeFamily, make_item
from probes.registry import builtin_registry

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_comprehension_accepts_article() -> None:
    fam = builtin_registry().get("reading_comprehension")
    it = item(fam, 6)
    assert fam.score(it, f"Answer: The {it.problem.answer}.").score == 1.0
    other = next(c.name for c in it.problem.facts["world"] if c.name != it.problem.answer)
    assert fam.score(it, f"Answer: The {it.problem.answer} and the {other}").score == 0.0
    assert fam.score(it, f"Answer: {other}").score == 0.0


