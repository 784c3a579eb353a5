"""Verifier and generator tests for the composition family."""

from __future__ import annotations

import calendar
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
     (20, 7, 4, 3, 2, 1000), (30, 17, 5, 4, 3, 1000), (35, 28, 5, 5, 4, 1000),
     (36, 31, 5, 5, 4, 1000), (60, 304, 5, 5, 4, 1000)],
)
def test_composition_plan(d: int, stages: int, operands: int, digits: int, products: int, modulus: int) -> None:
    p = Composition().plan(d)
    assert (p["stages"], p["operands"], p["digits"], p["products"], p["modulus"]) == (
        stages, operands, digits, products, modulus)
    assert p["resets"] == (d > 35)


def _replay(start: dt.date, moves: list[int], resets: list[str]) -> dt.date:
    """The moves and month jumps replayed with the calendar module (independent of the generator)."""
    date = start
    for i, move in enumerate(moves):
        date += dt.timedelta(days=move)
        reset = resets[i] if resets else ""
        if reset:
            last = calendar.monthrange(date.year, date.month)[1]
            date = date.replace(day=last) + dt.timedelta(days=1 if reset == "month_next" else 0)
    return date


@pytest.mark.parametrize("d", [1, 4, 7, 8, 15, 25, 35, 36, 48, 60])
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
        assert len(f["resets"]) == (p["stages"] if p["resets"] else 0)
        assert it.problem.answer == _replay(f["start"], f["moves"], f["resets"]).isoformat()
        assert it.prompt.count(" days") == p["stages"]
        assert it.prompt.count(" (then to ") == sum(1 for r in f["resets"] if r)
    if p["resets"]:  # about one move in three jumps to a month boundary
        resets = [r for i in range(10) for r in item(fam, d, index=i).problem.facts["resets"]]
        assert 0.2 < sum(1 for r in resets if r) / len(resets) < 0.5


def test_composition_top_prompt_is_bounded() -> None:
    fam = Composition()
    assert fam.top == 60
    assert all(len(item(fam, fam.top, n).prompt) < 40_000 for n in range(4))


def test_composition_level_one() -> None:
    it = item(Composition(), 1)
    assert re.match(r"Let N = \d \+ \d\. What date is N days after \d{4}-\d\d-\d\d\?", it.prompt)
