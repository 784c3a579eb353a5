"""Verifier and generator tests for the composition family."""

from __future__ import annotations

import datetime as dt

from probes.base import Item, ProbeFamily, make_item
from probes.families.composition import Composition

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_composition_chains_arithmetic_into_dates() -> None:
    fam = Composition()
    it = item(fam, 3)
    f = it.problem.facts
    assert f["expr"] in it.prompt
    end = f["start"] + dt.timedelta(days=f["offset"])
    assert it.problem.answer == end.isoformat()


