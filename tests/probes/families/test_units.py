"""Verifier and generator tests for the units family."""

from __future__ import annotations

from probes.base import Item, ProbeFamily, make_item
from probes.families.units import UnitConversion

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_units_tolerance_is_half_a_cent() -> None:
    fam = UnitConversion()
    it = item(fam, 10)
    exact = float(it.problem.facts["exact"])
    assert fam.score(it, f"Answer: {exact + 0.004:.4f}").score == 1.0
    assert fam.score(it, f"Answer: {exact + 0.02:.4f}").score == 0.0


