"""Verifier and generator tests for the composition family."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.composition import Composition
from probes.safe_eval import Expression

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_composition_chains_arithmetic_into_dates() -> None:
    fam = Composition()
    it = item(fam, 3)
    f = it.problem.facts
    assert all(e in it.prompt for e in f["exprs"])
    end = f["start"] + dt.timedelta(days=sum(f["moves"]))
    assert it.problem.answer == end.isoformat()


@pytest.mark.parametrize(
    ("d", "stages", "operands", "digits", "products", "modulus"),
    [(1, 1, 2, 1, 0, 0), (5, 2, 2, 1, 1, 0), (8, 2, 2, 2, 1, 1000), (10, 3, 3, 2, 1, 1000),
     (20, 7, 4, 3, 2, 1000), (30, 17, 5, 4, 3, 1000), (35, 28, 5, 5, 4, 1000)],
)
def test_composition_plan(d: int, stages: int, operands: int, digits: int, products: int, modulus: int) -> None:
    p = Composition().plan(d)
    assert (p["stages"], p["operands"], p["digits"], p["products"], p["modulus"]) == (
        stages, operands, digits, products, modulus)


@pytest.mark.parametrize("d", [1, 4, 7, 8, 15, 25, 35])
def test_composition_problem_matches_plan(d: int) -> None:
    fam = Composition()
    p = fam.plan(d)
    for index in range(10):
        it = item(fam, d, index=index)
        f = it.problem.facts
        assert len(f["exprs"]) == len(f["moves"]) == p["stages"]
        for expr, move in zip(f["exprs"], f["moves"], strict=True):
            numbers = re.findall(r"\d+", expr)
            assert len(numbers) == p["operands"] and all(len(n) == p["digits"] for n in numbers)
            assert expr.count("*") == p["products"] and "-" not in expr
            value = Expression(expr).evaluate({})
            assert isinstance(value, int)
            assert abs(move) == (value % p["modulus"] if p["modulus"] else value)
            assert (f"divided by {p['modulus']}" in it.prompt) == bool(p["modulus"])
        end = f["start"] + dt.timedelta(days=sum(f["moves"]))
        assert it.problem.answer == end.isoformat()
        assert it.prompt.count(" days") == p["stages"]


def test_composition_level_one() -> None:
    it = item(Composition(), 1)
    assert re.match(r"Let N = \d \+ \d\. What date is N days after \d{4}-\d\d-\d\d\?", it.prompt)
