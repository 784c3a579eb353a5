"""Integer arithmetic expressions on an open scale: longer operands, more of them, more products.

What grows with the level ``d`` (see ``Arithmetic.plan``):

* ``digits = round(1.1**d)``: the operands' digit count (1 at level 1, 3 at 10, 7 at 20, 17 at
  30, 45 at 40, 73 at the top level 45), the main size; it more than doubles every ten levels.
  A frontier model without tools still multiplied 17-digit numbers exactly at level 30, so the
  scale goes on to chained products of 73-digit numbers: the single-digit multiplications grow
  with the square of ``digits`` (about 30,000 at the top), with no shortcut. The top stops at
  45 because the answer (up to four 73-digit factors, under 300 digits) must fit the shared
  extraction's 400-character answer window even when written with thousands separators.
* ``operands = 2 + min(d, 30) // 6``, ``products = min(operands - 1, (min(d, 30) + 5) // 10)``
  multiplications among the operators (none below level 5; both hold at 7 and 3 past level 30,
  so the answer stays under 300 digits), ``minus`` (subtraction from level 2) and ``brackets``
  (from level 6).

Level 1 is a one-digit sum ("What is 9 + 6?"). Scoring: exact integer match on the extracted
final number, compared digit for digit (the shared float-based extraction cannot tell two
30-digit numbers apart); from 10**15 on, an answer in exponent notation is a float's
approximation and scores 0; no partial credit. ``score_integer`` serves the other integer
families too.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, odd_number, wrap_answer
from probes.extract import clean, extract_final, tail

# A tree is an int leaf or (op, left, right).
Tree = Any

# The shared number pattern (probes.extract._NUMBER): comma/space groups of three, decimals, exponent.
_NUMBER = re.compile(r"[-−]?(?:\d{1,3}(?:[,  _']\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d{1,3})?")


def exact_number(token: str) -> str | None:
    """A number token as an exact canonical string ('1,234' -> '1234', '2.50' -> '2.5', '-0' -> '0')."""
    s = token.replace("−", "-")
    for sep in (",", " ", " ", "_", "'"):
        s = s.replace(sep, "")
    try:
        value = Decimal(s)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def _token_in(fragment: str, *, last: bool) -> str | None:
    if "=" in fragment:  # in an equation line the result is after the last '='
        fragment = fragment.rsplit("=", 1)[1]
    matches: list[str] = [m for m in _NUMBER.findall(fragment) if exact_number(m) is not None]
    if not matches:
        return None
    return matches[-1] if last else matches[0]


def extract_number_token(text: str) -> str | None:
    """The final number of a response as written (the rules of ``probes.extract.extract_number``)."""
    final = extract_final(text)
    if final is not None:
        lines = [clean(line) for line in tail(text).splitlines() if clean(line)]
        # After an explicit marker the first number is the answer; on a bare last line, the last.
        marked = not lines or final != lines[-1]
        found = _token_in(final, last=not marked)
        if found is not None:
            return found
    for line in reversed(tail(text).splitlines()):
        found = _token_in(line, last=True)
        if found is not None:
            return found
    return None


def extract_exact_number(text: str) -> str | None:
    """The final number of a response, exactly (no float rounding: every digit is kept)."""
    token = extract_number_token(text)
    return None if token is None else exact_number(token)


#: From this size on a number in exponent notation ('1.2119571355791131e+17') is a float's
#: approximation, not an exact answer (the shared extraction's exact-integer range too).
_FLOAT_EXACT = 10**15


def score_integer(response: str, expected: str) -> Verdict:
    """1.0 when the response's final number is exactly the integer ``expected`` (any length).

    A long integer written in exponent notation scores 0: it is how a float prints, and an
    exact task asks for every digit.
    """
    token = extract_number_token(response)
    found = None if token is None else exact_number(token)
    if token is None or found is None:
        return Verdict(0.0, None, None)
    target = str(int(expected))
    approximate = "e" in token.lower() and abs(int(target)) >= _FLOAT_EXACT
    return Verdict(1.0 if found == target and not approximate else 0.0, found, found)


def iround(x: float) -> int:
    """Round half up (the formulas' ``round``; Python's rounds half to even)."""
    return int(x + 0.5)


def _operand(rng: random.Random, digits: int) -> int:
    return rng.randint(1 if digits == 1 else 10 ** (digits - 1), 10**digits - 1)


def expression(
    rng: random.Random, operands: int, digits: int, products: int, *, minus: bool, brackets: bool
) -> Tree:
    """A random expression tree: ``operands`` leaves of ``digits`` digits, exactly ``products`` '*'."""
    slots = operands - 1
    stars = set(rng.sample(range(slots), min(products, slots)))
    tree: Tree = _operand(rng, digits)
    for i in range(slots):
        op = "*" if i in stars else ("-" if minus and rng.random() < 0.5 else "+")
        leaf = _operand(rng, digits)
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


def count_operands(tree: Tree) -> int:
    """How many number leaves an expression tree has."""
    return 1 if isinstance(tree, int) else count_operands(tree[1]) + count_operands(tree[2])


#: The old top: from here on the operand and product counts hold and only the digits grow, so
#: the answer stays a few hundred digits while the long multiplications grow quadratically.
_HOLD = 30


@dataclass(frozen=True)
class Arithmetic(ProbeFamily):
    """Evaluate an integer expression."""

    name = "arithmetic"
    skill = "arithmetic"
    version = "2"
    top = 45
    grows = "digits"
    formula = (
        "digits = round(1.1**d); operands = 2 + min(d, 30)//6; "
        "products = min(operands-1, (min(d, 30)+5)//10); minus from d=2; brackets from d=6"
    )

    def plan(self, difficulty: int) -> dict[str, int]:
        d = difficulty
        held = min(d, _HOLD)  # past the old top only the operands' length grows
        operands = 2 + held // 6
        return {
            "digits": iround(1.1**d),
            "operands": operands,
            "products": min(operands - 1, (held + 5) // 10),
            "minus": min(1, d - 1),
            "brackets": min(1, d // 6),
        }

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        tree = expression(rng, p["operands"], p["digits"], p["products"],
                          minus=bool(p["minus"]), brackets=bool(p["brackets"]))
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
        return score_integer(response, item.problem.answer)
