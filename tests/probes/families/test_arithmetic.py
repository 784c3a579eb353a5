"""Verifier and generator tests for the arithmetic family."""

from __future__ import annotations

import ast
import dataclasses
import re

import pytest

from probes.base import Item, ProbeFamily, Problem, make_item
from probes.families.arithmetic import Arithmetic, count_operands, evaluate, extract_exact_number, show
from probes.registry import builtin_registry
from probes.safe_eval import Expression

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


@pytest.mark.parametrize(
    ("d", "digits", "operands", "products"),
    [(1, 1, 2, 0), (4, 1, 2, 0), (5, 2, 2, 1), (10, 3, 3, 1), (15, 4, 4, 2), (20, 7, 5, 2), (30, 17, 7, 3),
     (40, 45, 7, 3), (45, 73, 7, 3)],
)
def test_arithmetic_plan(d: int, digits: int, operands: int, products: int) -> None:
    p = Arithmetic().plan(d)
    assert (p["digits"], p["operands"], p["products"]) == (digits, operands, products)
    assert p["minus"] == (d >= 2) and p["brackets"] == (d >= 6)


@pytest.mark.parametrize("d", [1, 2, 5, 10, 17, 25, 30, 31, 40, 45])
def test_arithmetic_problem_matches_plan(d: int) -> None:
    fam = Arithmetic()
    p = fam.plan(d)
    for index in range(20):
        it = item(fam, d, index=index)
        expr = it.problem.facts["expr"]
        numbers = re.findall(r"\d+", expr)
        assert len(numbers) == count_operands(it.problem.facts["tree"]) == p["operands"]
        assert all(len(n) == p["digits"] for n in numbers)
        assert expr.count("*") == p["products"]
        assert ("-" in expr) <= bool(p["minus"]) and ("(" in expr) <= bool(p["brackets"])
        if len(expr) <= 500:  # the safe evaluator's source limit
            assert str(Expression(expr).evaluate({})) == it.problem.answer
        else:  # long operands: Python's own arithmetic on the parsed text
            assert str(_eval(ast.parse(expr, mode="eval").body)) == it.problem.answer


def test_arithmetic_top_multiplies_long_numbers_in_a_short_prompt() -> None:
    fam = Arithmetic()
    assert fam.top == 45 and fam.plan(fam.top)["digits"] > 70
    for index in range(30):
        it = item(fam, fam.top, index % 4, index)
        assert len(it.prompt) < 4_000
        assert fam.score(it, f"The answer is {int(it.problem.answer):,}.").score == 1.0  # fits the window


def _eval(node: ast.AST) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    assert isinstance(node, ast.BinOp)
    a, b = _eval(node.left), _eval(node.right)
    return {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}[type(node.op)]


def test_arithmetic_level_one_is_a_one_digit_sum() -> None:
    it = item(Arithmetic(), 1)
    assert re.fullmatch(r"What is \d \+ \d\? .*", it.prompt)


def test_long_answers_are_compared_digit_for_digit() -> None:
    fam = Arithmetic()
    it = item(fam, fam.top)
    answer = it.problem.answer
    assert len(answer.lstrip("-")) > 40
    off_by_one = str(int(answer) + 1)
    assert fam.score(it, f"Answer: {answer}").score == 1.0
    assert fam.score(it, f"Answer: {off_by_one}").score == 0.0
    grouped = f"{int(answer):,}"
    assert fam.score(it, f"Answer: {grouped}").score == 1.0
    assert fam.score(it, f"so the total is\n{grouped.replace(',', ' ')}").score == 1.0


def test_exact_extraction_follows_the_shared_rules() -> None:
    assert extract_exact_number("Answer: 12 apples, 3 left") == "12"
    assert extract_exact_number("so 3 + 4 gives 7") == "7"
    assert extract_exact_number("9 + 6 = 15") == "15"
    assert extract_exact_number("<answer>-1,234</answer>") == "-1234"
    assert extract_exact_number("Answer: 2.50") == "2.5"
    assert extract_exact_number("no digits here") is None


def test_long_integers_in_exponent_notation_are_not_exact() -> None:
    fam = Arithmetic()
    exact = "121195713557911310"  # 17 significant digits: its float repr is exact
    it = dataclasses.replace(item(fam, 18), problem=Problem(facts={}, answer=exact))
    assert fam.score(it, f"Answer: {exact}").score == 1.0
    assert fam.score(it, "Answer: 1.2119571355791131e+17").score == 0.0  # a float's repr, same value
    small = item(fam, 5)
    assert fam.score(small, f"Answer: {int(small.problem.answer):.6e}").score == 1.0
