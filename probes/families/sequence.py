"""Sequence-rule induction: find the rule behind the shown terms and give the next term.

What grows (``plan``): the ``order`` of the sequence's rule, i.e. how many earlier terms the
next one depends on when the rule is written as a linear recurrence with constant
coefficients (the main size: 2 at level 1, one more every four levels to 4 at level 10, then
doubling every ten levels, 16 at the top level 30). Every rule family used has exactly that
order: arithmetic steps and "k times plus c" (2), Fibonacci-like sums, polynomials of degree
order-1, interleaved polynomials, a polynomial plus a geometric term, and from level 14 on
recurrences with random small coefficients. ``terms = 2*order + 1`` terms are shown, one more
than the 2*order that determine a recurrence of that order, so the intended continuation is
the unique one of minimal order. Level 1 is "add a one-digit step" with five small terms; level
30 (the top before the scale was extended, unchanged since) asks for the continuation of an
order-16 recurrence with terms below 1e14. Above level 30 every rule is a recurrence with random
coefficients in -3..3 and no cap on the terms (exact big integers): the order keeps doubling
every ten levels, to 64 at the top level 50, where 129 terms of up to ~60 digits are shown and
the next one needs a 64x64 integer system solved (no named pattern, no shortcut).
Scoring: exact integer match on the extracted final number (above level 30 every digit, as
arithmetic's ``score_integer``); no partial credit.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, numeric_score, odd_number, pick, wrap_answer
from probes.families.arithmetic import score_integer

#: From this level on, some rules are recurrences with random coefficients (no named pattern).
RANDOM_RECURRENCE_FROM = 14
#: Every term stays below this in size: answers compare exactly as numbers (floats are exact here).
MAX_TERM = 10**14


#: The top before the scale was extended: levels up to here are unchanged (terms below MAX_TERM).
OLD_TOP = 30


def order_at(d: int) -> int:
    """Recurrence order at level ``d``: 2 + (d-1)//4 up to level 10, then doubling every ten levels."""
    return 2 + (d - 1) // 4 if d <= 10 else int(4 * 2 ** ((d - 10) / 10))


def _poly(rng: random.Random, degree: int) -> list[int]:
    """Coefficients c0..c_degree with a non-zero leading one (so the degree is exact)."""
    coeffs = [rng.randint(-20, 60)] + [rng.randint(-9, 15) for _ in range(degree - 1)]
    return [*coeffs, rng.randint(1, 4)]


def _eval(coeffs: list[int], n: int) -> int:
    return sum(c * n**i for i, c in enumerate(coeffs))


def _recur(seed: list[int], coeffs: list[int], count: int, const: int = 0) -> list[int]:
    """Extend ``seed`` by a_n = sum(coeffs[j] * a_{n-1-j}) + const to ``count`` terms."""
    seq = list(seed)
    while len(seq) < count:
        seq.append(sum(c * seq[-1 - j] for j, c in enumerate(coeffs)) + const)
    return seq[:count]


def _terms(rng: random.Random, difficulty: int, order: int, count: int) -> tuple[list[int], str]:
    """``count`` terms of a sequence whose minimal linear recurrence has exactly ``order``."""
    d = difficulty
    if d <= 4:  # order 2
        if d == 1:
            a, step = rng.randint(1, 20), rng.randint(1, 9)
            return [a + step * i for i in range(count)], f"add {step}"
        if d == 2:
            a, step = rng.randint(20, 90), rng.choice([-1, 1]) * rng.randint(3, 25)
            return [a + step * i for i in range(count)], f"add {step}"
        if d == 3:
            return _recur([rng.randint(1, 30), rng.randint(1, 30)], [1, 1], count), "sum of the previous two"
        k, c = rng.randint(2, 3), rng.randint(-9, 20)
        a = rng.randint(1, 20)
        while a * (k - 1) + c == 0:  # the fixed point would make the sequence constant (order 1)
            a += 1
        return _recur([a], [k], count, c), f"times {k} plus {c}"
    if d <= 8:  # order 3
        if d == 5:
            s, c = rng.randint(1, 6), rng.randint(-5, 10)
            return [(s + i) ** 2 + c for i in range(count)], f"squares from {s} plus {c}"
        if d == 6:
            coeffs, s = _poly(rng, 2), rng.randint(0, 5)
            return [_eval(coeffs, s + i) for i in range(count)], f"quadratic {coeffs}"
        if d == 7:
            seed = [rng.randint(0, 15), rng.randint(1, 15), rng.randint(1, 15)]
            return _recur(seed, [1, 1, 1], count), "sum of the previous three"
        c = rng.choice([-1, 1]) * rng.randint(1, 9)
        return _recur([rng.randint(1, 20), rng.randint(1, 20)], [1, 1], count, c), f"sum of previous two plus {c}"
    styles = ["polynomial", "k-bonacci", "polynomial plus geometric"]
    if order % 2 == 0:
        styles.append("interleaved")
    if d >= RANDOM_RECURRENCE_FROM:
        styles.append("recurrence")
    style = pick(rng, styles)
    for _ in range(20):
        seq, rule = _styled(rng, style, order, count)
        if max(abs(v) for v in seq) < MAX_TERM:
            return seq, rule
    return _styled(rng, "polynomial", order, count)  # binomial polynomials always stay small


def _big_recurrence(rng: random.Random, order: int, count: int) -> tuple[list[int], str]:
    """Above the old top: a recurrence with random coefficients in -3..3 and exact big integers.

    No named pattern and no size cap: the continuation needs the order-``order`` system solved
    over numbers with dozens of digits (the minimal order is ``order`` for all but a vanishing
    share of seeds, which the family test checks on samples).
    """
    coeffs = [rng.randint(-3, 3) for _ in range(order - 1)] + [rng.choice([-3, -2, -1, 1, 2, 3])]
    seed = [rng.randint(-99, 99) for _ in range(order)]
    return _recur(seed, coeffs, count), f"a_n = sum {coeffs} * previous"


def _binomial(coeffs: list[int], n: int) -> int:
    """sum c_k * C(n, k): a polynomial of degree len-1 whose values grow only like 2**n."""
    return sum(c * math.comb(n, k) for k, c in enumerate(coeffs))


def _styled(rng: random.Random, style: str, order: int, count: int) -> tuple[list[int], str]:
    """``count`` terms of one rule style with minimal recurrence order ``order`` (order >= 4)."""
    s = rng.randint(0, 5)
    if style == "polynomial":
        coeffs = _poly(rng, order - 1)
        return [_binomial(coeffs, s + i) for i in range(count)], f"binomial polynomial {coeffs}"
    if style == "k-bonacci":
        seed = [rng.randint(0, 19) for _ in range(order - 1)] + [rng.randint(1, 19)]
        return _recur(seed, [1] * order, count), f"sum of the previous {order}"
    if style == "polynomial plus geometric":
        coeffs, g, r = _poly(rng, order - 2), rng.randint(1, 5), rng.randint(2, 3)
        seq = [_binomial(coeffs, s + i) + g * r ** (s + i) for i in range(count)]
        return seq, f"binomial polynomial {coeffs} + {g}*{r}^n"
    if style == "interleaved":
        even, odd = _poly(rng, order // 2 - 1), _poly(rng, order // 2 - 1)
        odd[-1] = even[-1] % 4 + 1  # different leading terms, or the halves merge into a lower order
        seq = [_binomial(even if i % 2 == 0 else odd, s + i // 2) for i in range(count)]
        return seq, f"interleaved binomial polynomials {even} and {odd}"
    coeffs = [rng.randint(-2, 2) for _ in range(order - 1)] + [rng.choice([-2, -1, 1, 2])]
    seed = [rng.randint(-9, 9) for _ in range(order)]
    return _recur(seed, coeffs, count), f"a_n = sum {coeffs} * previous"


@dataclass(frozen=True)
class SequenceInduction(ProbeFamily):
    """Give the next term of an integer sequence."""

    name = "sequence_induction"
    skill = "induction"
    version = "2"
    top = 50
    grows = "order"
    formula = ("order = 2 + (d-1)//4 to d=10, then floor(4 * 2**((d-10)/10)); terms shown = 2*order + 1; "
               "above d=30 random-coefficient recurrences over uncapped big integers")

    def plan(self, difficulty: int) -> dict[str, int]:
        order = order_at(difficulty)
        return {"order": order, "terms": 2 * order + 1}

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        # Starting a few terms in multiplies the number of distinct problems per rule.
        skip = rng.randint(0, 3) if difficulty <= 8 else 0
        if difficulty > OLD_TOP:
            seq, rule = _big_recurrence(rng, p["order"], p["terms"] + 1)
        else:
            seq, rule = _terms(rng, difficulty, p["order"], skip + p["terms"] + 1)
        seq = seq[skip:]
        return Problem(facts={"shown": seq[:-1], "rule": rule}, answer=str(seq[-1]))

    def chance(self, difficulty: int) -> float:
        return 0.0

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        shown: list[int] = problem.facts["shown"]
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "integer")
        text = ", ".join(str(v) for v in shown)
        if novelty == 0:
            prompt = f"What is the next number in the sequence {text}, ...? {fmt}"
        elif novelty == 1:
            prompt = f"Here is a list that follows a rule: {text}. Which number comes next? {fmt}"
        elif novelty == 2:
            odd = "; ".join(odd_number(v, rng) for v in shown)
            prompt = f"Terms (separated by semicolons): {odd}; ?. Find the missing term. {fmt}"
        else:
            rows = "\n".join(f"| {i} | {v} |" for i, v in enumerate(shown, 1))
            who = pick(rng, ("a lighthouse keeper", "an astronomer", "a beekeeper"))
            prompt = (
                f"Every night {who} logs a count that follows one fixed rule:\n| night | count |\n"
                f"|---|---|\n{rows}\nWhat will the count be on night {len(shown) + 1}? {fmt}"
            )
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        if item.difficulty > OLD_TOP:  # big integers: exact comparison of every digit
            return score_integer(response, item.problem.answer)
        return numeric_score(item, response)
