"""The evaluator's cost is bounded for every input: adversarial expressions are refused from their
operands' sizes (before the work), and a work budget caps whatever is left.

Each refusal is asserted as ExpressionError; the wall-clock bound is only a safety net (on main,
``round(1, -10**7)`` took 29 s and ``'%100000000d' % 1`` built a 100 MB string).
"""

from __future__ import annotations

import contextlib
import random
import time

import pytest

from probes.errors import ExpressionError
from probes.safe_eval import MAX_COST, MAX_SOURCE, MAX_STRING, Expression, Value

NEAR_LIMIT: dict[str, Value] = {
    "s": "x" * 9000,
    "t": "y" * MAX_STRING,
    "big": 10**999,
    "digits": "9" * MAX_STRING,
    "n": 5,
    "f": 1.5,
}
SAFETY_NET_S = 1.0


def refused(source: str, variables: dict[str, Value] = NEAR_LIMIT) -> float:
    """Seconds spent before ``source`` was refused (it must be)."""
    start = time.perf_counter()
    with pytest.raises(ExpressionError):
        Expression(source).evaluate(variables)
    return time.perf_counter() - start


ADVERSARIAL = [
    # round() with huge ndigits computed 10**ndigits.
    "round(1, -10**7)", "round(1.5, 10**9)", "round(big, -10**4)",
    # % formatting built the padded string before any check.
    "'%100000000d' % 1", "'%.100000000f' % f", "'%0101d' % n", "'%*d' % n", "'%(a)s' % n",
    "'%a' % t", "'%c' % big",
    # replace() with an empty 'old' inserts between every character.
    "replace(s, '', t)", "replace(s, '', 'ab')", "replace(s + 'a', 'x', 'xx')",
    # Repetition and concatenation.
    "'ab' * 10**9", "s * 2", "10**9 * upper(s)", "t + 'a'", "s + s", "upper(t) * 10 ** 6",
    # Big integers: products, powers and chains of them.
    "big * big", "(10**500) * (10**500) * (10**500)", " * ".join(["10 ** 64"] * 17),
    "(10**64) ** 64", "10 ** 64 ** 64", "10 ** 64 ** 64 ** 64", "2 ** 10 ** 9", "7 ** 4000", "big ** 2",
    "(big - 1) ** 2", "2 ** -10 ** 999", "big / 3",
    # Conversions.
    "int(digits)", "int('z' * 2000, 36)", "int('1' * 5000, 2)", "int('1' * 100, 99)", "str(big * big)",
    "float(digits)",
    # Non-finite and non-scalar results.
    "(-8) ** 0.5", "1e308 * 10", "float('inf')", "float('nan') + 1",
    # Work past the budget: each step is allowed, the total is not.
    "+".join(["len(max(t))"] * 10), "strip(t, s)",
    # Parser-level limits.
    "(" * 300 + "1" + ")" * 300, "-" * 300 + "1", "a" * (MAX_SOURCE + 1),
]


@pytest.mark.parametrize("source", ADVERSARIAL, ids=[s[:40] for s in ADVERSARIAL])
def test_adversarial_expressions_are_refused_quickly(source: str) -> None:
    assert refused(source) < SAFETY_NET_S


def test_long_concatenation_chain_stops_at_the_string_bound() -> None:
    chain = " + ".join(["s"] * 40)  # 40 parts of 9000 characters: refused at the second '+'
    assert refused(chain, {"s": "x" * 4000}) < SAFETY_NET_S


def test_budget_caps_the_total_work() -> None:
    # Each len(max(t)) is allowed on its own; ten of them exceed one evaluation's budget.
    many = "+".join(["len(max(t))"] * 10)
    with pytest.raises(ExpressionError, match="budget"):
        Expression(many).evaluate({"t": "y" * MAX_STRING})
    assert Expression(many).evaluate({"t": "short"}) == 10
    with pytest.raises(ExpressionError, match="budget of 10 work units"):
        Expression("len(upper(t))").evaluate({"t": "y" * 100}, budget=10)


def test_variables_are_held_to_the_same_bounds() -> None:
    for bad in ("y" * (MAX_STRING + 1), 10**1001, float("inf")):
        with pytest.raises(ExpressionError):
            Expression("x").evaluate({"x": bad})


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("len(str(big))", 1000),
        ("round(big + 7, -999) == big", True),
        ("'%08.3f' % f", "0001.500"),
        ("'%5d|' % n", "    5|"),
        ("'%d%%' % n", "5%"),
        ("len(replace(s, 'x', 'y'))", 9000),
        ("len(replace('abc', '', '-'))", 7),
        ("2 ** 3321 > 0", True),
        ("len(str(9 ** 1000))", 955),
        ("int('ff', 16)", 255),
        ("1 ** (10 ** 999)", 1),
        ("len(t * 1)", MAX_STRING),
    ],
)
def test_values_up_to_the_limits_still_work(source: str, expected: Value) -> None:
    assert Expression(source).evaluate(NEAR_LIMIT) == expected


def _random_expression(rng: random.Random, depth: int = 0) -> str:
    atoms = ["s", "t", "big", "n", "f", "digits", "10 ** 999", "'ab'", "''", "0", "-1", "1e308", "9"]
    if depth > 4 or rng.random() < 0.25:
        return rng.choice(atoms)

    def sub() -> str:
        return _random_expression(rng, depth + 1)

    shape = rng.randrange(6)
    if shape == 0:
        return f"({sub()} {rng.choice(['+', '-', '*', '/', '//', '%', '**'])} {sub()})"
    if shape == 1:
        fn = rng.choice(["upper", "reverse", "str", "int", "float", "len", "abs", "strip", "title"])
        return f"{fn}({sub()})"
    if shape == 2:
        return f"replace({sub()}, {sub()}, {sub()})"
    if shape == 3:
        return f"round({sub()}, {sub()})"
    if shape == 4:
        return f"'%{rng.choice(['', '5', '500', '.9', '.999'])}{rng.choice('dsfxa')}' % {sub()}"
    return f"({sub()} if {sub()} else {sub()})"


def test_random_expressions_never_take_long() -> None:
    """A grammar fuzzer over the worst operands: every evaluation ends (value or error) fast."""
    rng = random.Random(13)
    worst = 0.0
    for _ in range(1500):
        source = _random_expression(rng)
        if len(source) > MAX_SOURCE:
            continue
        start = time.perf_counter()
        with contextlib.suppress(ExpressionError):
            Expression(source).evaluate(NEAR_LIMIT)
        worst = max(worst, time.perf_counter() - start)
    assert worst < SAFETY_NET_S, worst
    assert MAX_COST >= 10**5  # the budget is a bound on work, not a tight cap on normal use
