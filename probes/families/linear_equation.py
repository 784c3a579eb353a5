"""Linear equations with integer solutions: one unknown first, then ever larger dense systems.

What grows with the level ``d`` (see ``LinearEquation.plan``):

* ``unknowns = floor(2**((d+4)/10))``: the system's size, the main one (1 up to level 5, 2 from
  6, 4 from 16, 8 from 26, 16 at 36, 32 at 46, 64 at the top level 56); it doubles every ten
  levels. A frontier model without tools solved 8 x 8 systems and missed at 16 x 16, so the
  scale goes on to dense 64 x 64 integer systems (about 28k characters): elimination there is
  some 90,000 exact multiply-adds on growing numbers, and asking for one unknown does not help
  (Cramer's rule needs two 64 x 64 determinants).
* ``coef = min(12, 1 + d // 2)`` bounds the coefficients; ``solution`` bounds the unknowns'
  values: ``5 + 2d`` up to level 36, then ``floor(77 * 2**((d-36)/4))`` (2,464 at the top), so
  a guess cannot pass (version 2 kept ``5 + 2d``: at level 56 a frontier model wrote "Guess." and
  its 3 matched, one chance in 235; no leak and no triangular structure, the systems are dense);
  ``negative`` (from level 5) allows negative values and constants;
  ``both_sides`` (from level 4) puts the unknown on both sides of a one-unknown equation.

Level 1 is ``x + a = b`` with small numbers. Every system has a unique integer solution and the
question asks for the first unknown. Systems above 16 unknowns are checked for invertibility
modulo a prime (fast); up to 16 the exact check stays, so levels up to 36 are unchanged.
Scoring: exact integer match; no partial credit.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, pick, wrap_answer
from probes.families.arithmetic import score_integer

#: An equation: (lhs coefficients, lhs constant, rhs coefficients, rhs constant).
Equation = tuple[list[int], int, list[int], int]


def variables(n: int, *, odd: bool = False) -> tuple[str, ...]:
    """Names of ``n`` unknowns: x, y, z (or p, q, r) up to three, else x1..xn (p1..pn)."""
    if n <= 3:
        return ("p", "q", "r")[:n] if odd else ("x", "y", "z")[:n]
    stem = "p" if odd else "x"
    return tuple(f"{stem}{i}" for i in range(1, n + 1))


def side(coefs: list[int], names: tuple[str, ...], const: int) -> str:
    """A linear expression like '3x - 2y + 5' (constant last, zero terms omitted)."""
    parts: list[str] = []
    for c, v in zip(coefs, names, strict=False):
        if c == 0:
            continue
        mag = "" if abs(c) == 1 else str(abs(c))
        sign = "-" if c < 0 else "+"
        parts.append(f"{sign} {mag}{v}" if parts else f"{'-' if c < 0 else ''}{mag}{v}")
    if const or not parts:
        sign = "-" if const < 0 else "+"
        parts.append(f"{sign} {abs(const)}" if parts else str(const))
    return " ".join(parts)


def nonsingular(rows: list[list[int]]) -> bool:
    """Whether an integer square matrix is invertible (fraction-free Bareiss elimination)."""
    m = [list(r) for r in rows]
    n, prev = len(m), 1
    for k in range(n - 1):
        if m[k][k] == 0:
            swap = next((r for r in range(k + 1, n) if m[r][k] != 0), None)
            if swap is None:
                return False
            m[k], m[swap] = m[swap], m[k]
        for i in range(k + 1, n):
            for j in range(k + 1, n):
                m[i][j] = (m[i][j] * m[k][k] - m[i][k] * m[k][j]) // prev
        prev = m[k][k]
    return m[n - 1][n - 1] != 0


#: The top before the scale was extended: levels up to here are generated as before.
_OLD_TOP = 36

#: A prime for the fast invertibility check of large systems (invertible mod p implies
#: invertible over Q); below 2**31, so residue products are exact in int64.
_PRIME = 2_147_483_647
#: Systems up to this size (every level up to the old top 36) keep the exact Bareiss check, so
#: their random streams, and so their items, are unchanged.
_EXACT_CHECK = 16


def invertible_mod_prime(rows: list[list[int]], p: int = _PRIME) -> bool:
    """Whether a square integer matrix is invertible modulo the prime ``p`` (then it is over Q).

    Gaussian elimination on residues in Python integers (exact; no numpy in the daemon): a 64 x 64
    system checks in milliseconds where fraction-free elimination's growing integers take hundreds.
    A matrix singular mod ``p`` but not over Q is rejected too (chance about n/p, and the caller
    just draws again).
    """
    m = [[v % p for v in row] for row in rows]
    n = len(m)
    for k in range(n):
        pivot = next((r for r in range(k, n) if m[r][k]), None)
        if pivot is None:
            return False
        m[k], m[pivot] = m[pivot], m[k]
        top = m[k][k:]
        inv = pow(top[0], -1, p)
        for i in range(k + 1, n):
            f = m[i][k] * inv % p
            if f:
                m[i][k:] = [(a - f * b) % p for a, b in zip(m[i][k:], top, strict=True)]
    return True


def _nonzero(rng: random.Random, hi: int, *, negative: bool) -> int:
    c = rng.randint(1, hi)
    return -c if negative and rng.random() < 0.5 else c


@dataclass(frozen=True)
class LinearEquation(ProbeFamily):
    """Solve linear equations for an integer unknown."""

    name = "linear_equation"
    skill = "algebra"
    version = "3"
    top = 56
    grows = "unknowns"
    formula = (
        "unknowns = floor(2**((d+4)/10)); coef = min(12, 1 + d//2); solution = 5 + 2d to d=36, "
        "then floor(77 * 2**((d-36)/4)); "
        "negative from d=5; both_sides from d=4"
    )

    def plan(self, difficulty: int) -> dict[str, int]:
        d = difficulty
        return {
            "unknowns": math.floor(2 ** ((d + 4) / 10)),
            "coef": min(12, 1 + d // 2),
            "solution": 5 + 2 * d if d <= _OLD_TOP else math.floor(77 * 2 ** ((d - _OLD_TOP) / 4)),
            "negative": min(1, d // 5),
            "both_sides": min(1, d // 4),
        }

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        n, hi, neg = p["unknowns"], p["coef"], bool(p["negative"])
        sol = [rng.randint(-p["solution"] if neg else 1, p["solution"]) for _ in range(n)]
        eqs: list[Equation] = []
        if n == 1:
            x = sol[0]
            a = _nonzero(rng, hi, negative=neg)
            bound = 2 * p["solution"]
            b = rng.randint(-bound if neg else 1, bound)
            c = 0
            if p["both_sides"]:
                c = _nonzero(rng, hi, negative=neg)
                while c == a:
                    c = _nonzero(rng, hi, negative=neg)
            eqs.append(([a], b, [c], a * x + b - c * x))
        else:
            while True:
                rows = [[rng.randint(-hi, hi) for _ in range(n)] for _ in range(n)]
                check = nonsingular if n <= _EXACT_CHECK else invertible_mod_prime
                if all(any(r) for r in rows) and check(rows):
                    break
            for row in rows:
                eqs.append((row, 0, [0] * n, sum(c * s for c, s in zip(row, sol, strict=True))))
        return Problem(facts={"eqs": eqs, "n": n, "solution": sol}, answer=str(sol[0]))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        n = f["n"]
        names = variables(n, odd=novelty == 2)
        lines = [f"{side(lc, names, lk)} = {side(rc, names, rk)}" for lc, lk, rc, rk in f["eqs"]]
        if novelty == 2:
            # Swap sides and reorder equations: the same system, written differently.
            lines = [" = ".join(reversed(line.split(" = "))) for line in lines]
            rng.shuffle(lines)
        ask = names[0]
        unknowns = ", ".join(names)
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "integer")
        system = "\n".join(lines)
        if novelty == 0:
            prompt = f"Solve for {unknowns}:\n{system}\nWhat is {ask}? {fmt}"
        elif novelty == 1:
            lead = pick(rng, ("Find the value of", "Determine", "Work out"))
            prompt = f"Given the equation(s)\n{system}\n{lead} {ask}. {fmt}"
        elif novelty == 2:
            prompt = f"The unknowns {unknowns} are integers. Consider:\n{system}\nReport {ask}. {fmt}"
        else:
            prompt = (
                f"A locksmith's notebook says the combination of a vault satisfies these rules, "
                f"where {unknowns} are the dial settings:\n{system}\nThe vault opens on the value "
                f"of {ask}. What is it? {fmt}"
            )
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        return score_integer(response, item.problem.answer)
