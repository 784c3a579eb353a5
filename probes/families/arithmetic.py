"""Integer arithmetic expressions: more operands, more digits, multiplication and brackets with level.

Scoring: exact integer match on the extracted final number; no partial credit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, numeric_score, odd_number, wrap_answer

# (operands, max digits, operators, brackets allowed) per difficulty level.
_PLAN: dict[int, tuple[int, int, str, bool]] = {
    1: (2, 1, "+", False),
    2: (2, 2, "+-", False),
    3: (2, 3, "+-", False),
    4: (3, 2, "+-", False),
    5: (3, 2, "+-*", False),
    6: (3, 2, "*+", True),
    7: (4, 2, "+-*", True),
    8: (4, 3, "+-*", True),
    9: (5, 3, "+-*", True),
    10: (6, 4, "+-*", True),
}

# A tree is an int leaf or (op, left, right).
Tree = Any


def _operand(rng: random.Random, digits: int) -> int:
    return rng.randint(1 if digits == 1 else 10 ** (digits - 1), 10**digits - 1)


def _grow(rng: random.Random, n: int, digits: int, ops: str, brackets: bool) -> Tree:
    tree: Tree = _operand(rng, digits)
    for _ in range(n - 1):
        op = ops[rng.randrange(len(ops))]
        # Multiplication keeps one side small so answers stay within a few digits of the level.
        leaf = _operand(rng, min(digits, 2) if op == "*" else digits)
        tree = (op, leaf, tree) if brackets and rng.random() < 0.4 else (op, tree, leaf)
    return tree


def evaluate(tree: Tree) -> int:
    """The integer value of an expression tree."""
    if isinstance(tree, int):
        return tree
    op, left, right = tree
    a, b = evaluate(left), evaluate(right)
    return a + b if op == "+" else a - b if op == "-" else a * b


_PREC = {"+": 1, "-": 1, "*": 2}


def show(tree: Tree, num: Any = str, sym: dict[str, str] | None = None) -> str:
    """The expression as text, with brackets only where precedence needs them."""
    symbols = sym or {"+": "+", "-": "-", "*": "*"}
    if isinstance(tree, int):
        return str(num(tree))
    op, left, right = tree
    ls, rs = show(left, num, sym), show(right, num, sym)
    if not isinstance(left, int) and _PREC[left[0]] < _PREC[op]:
        ls = f"({ls})"
    if not isinstance(right, int) and _PREC[right[0]] <= _PREC[op]:
        rs = f"({rs})"
    return f"{ls} {symbols[op]} {rs}"


@dataclass(frozen=True)
class Arithmetic(ProbeFamily):
    """Evaluate an integer expression."""

    name = "arithmetic"
    skill = "arithmetic"
    version = "1"
    levels = (
        "add two 1-digit numbers",
        "add or subtract two 2-digit numbers",
        "add or subtract two 3-digit numbers",
        "three 2-digit operands, + and -",
        "three 2-digit operands, + - and *",
        "three 2-digit operands with * and brackets",
        "four 2-digit operands, + - * and brackets",
        "four 3-digit operands, + - * and brackets",
        "five 3-digit operands, + - * and brackets",
        "six 4-digit operands, + - * and brackets",
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        n, digits, ops, brackets = _PLAN[difficulty]
        tree = _grow(rng, n, digits, ops, brackets)
        return Problem(facts={"tree": tree, "expr": show(tree)}, answer=str(evaluate(tree)))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        tree, expr = problem.facts["tree"], problem.facts["expr"]
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "integer")
        if novelty == 0:
            prompt = f"What is {expr}? {fmt}"
        elif novelty == 1:
            lead = rng.choice(("Compute the value of", "Work out", "Evaluate the expression", "Calculate"))
            prompt = f"{lead} {expr}. {fmt}"
        elif novelty == 2:
            odd = show(tree, lambda n: odd_number(n, rng), {"+": "+", "-": "−", "*": "×"})
            noise = rng.choice(("The sky was grey that day.", "Ignore any thoughts about prime numbers.", ""))
            prompt = f"{noise} Find the result of: {odd}. {fmt}".strip()
        else:
            words = show(tree, str, {"+": "plus", "-": "minus", "*": "times"})
            prompt = (
                "On a clay tablet from the trading town of Velmar, a clerk wrote the sum of a day's "
                f"trades in words: '{words}'. What number did the clerk arrive at? {fmt}"
            )
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        return numeric_score(item, response)
