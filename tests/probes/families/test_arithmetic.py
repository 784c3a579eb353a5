"""Verifier and generator tests for the arithmetic family."""

from __future__ import annotations

from probes.base import Item, ProbeFamily, make_item
from probes.families.arithmetic import evaluate, show
from probes.registry import builtin_registry

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_arithmetic_show_respects_precedence() -> None:
    tree = ("*", ("+", 2, 3), ("-", 7, 4))
    assert show(tree) == "(2 + 3) * (7 - 4)"
    assert evaluate(tree) == 15
    assert show(("-", 10, ("-", 4, 1))) == "10 - (4 - 1)"


def test_arithmetic_accepts_equation_answers() -> None:
    fam = builtin_registry().get("arithmetic")
    it = item(fam, 1)
    expr = it.problem.facts["expr"]
    assert fam.score(it, f"{expr} = {it.problem.answer}.").score == 1.0
    assert fam.score(it, f"{expr} = {int(it.problem.answer) + 1}.").score == 0.0


