"""Linear equations with integer solutions: one unknown first, then systems of two and three.

Scoring: exact integer match on the extracted final number; no partial credit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, numeric_score, pick, wrap_answer

_VARS = ("x", "y", "z")
_ODD_VARS = ("p", "q", "r")


def _coef(rng: random.Random, hi: int, *, nonzero: bool = True) -> int:
    c = 0
    while c == 0 and nonzero:
        c = rng.randint(-hi, hi)
    return c if nonzero else rng.randint(-hi, hi)


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


@dataclass(frozen=True)
class LinearEquation(ProbeFamily):
    """Solve linear equations for an integer unknown."""

    name = "linear_equation"
    skill = "algebra"
    version = "1"
    levels = (
        "x + a = b",
        "a x = b",
        "a x + b = c",
        "a x + b = c x + d",
        "a x + b = c x + d with larger, negative coefficients",
        "a (x + b) = c x + d (brackets)",
        "system of two equations, ask x, coefficients up to 5",
        "system of two equations, ask x, coefficients up to 12",
        "system of two equations, ask x + y",
        "system of three equations, ask x",
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        sol = [rng.randint(-9 if difficulty >= 5 else 1, 9 + 3 * difficulty) for _ in range(3)]
        eqs: list[tuple[list[int], int, list[int], int]] = []  # (lhs coefs, lhs const, rhs coefs, rhs const)
        x = sol[0]
        ask = "x"
        if difficulty == 1:
            a = rng.randint(1, 20)
            eqs.append(([1], a, [0], x + a))
        elif difficulty == 2:
            a = rng.randint(2, 9)
            eqs.append(([a], 0, [0], a * x))
        elif difficulty == 3:
            a, b = rng.randint(2, 9), rng.randint(1, 30)
            eqs.append(([a], b, [0], a * x + b))
        elif difficulty in (4, 5):
            hi = 9 if difficulty == 4 else 15
            a = _coef(rng, hi)
            c = _coef(rng, hi)
            while c == a:
                c = _coef(rng, hi)
            b = rng.randint(-30, 30)
            d = a * x + b - c * x
            eqs.append(([a], b, [c], d))
        elif difficulty == 6:
            a, b = rng.randint(2, 9), rng.randint(-9, 9)
            c = _coef(rng, 9)
            while c == a:
                c = _coef(rng, 9)
            d = a * (x + b) - c * x
            return Problem(facts={"eqs": [], "bracket": (a, b, c, d), "n": 1, "ask": "x"}, answer=str(x))
        else:
            n = 3 if difficulty == 10 else 2
            hi = 5 if difficulty == 7 else 12
            while True:
                rows = [[_coef(rng, hi, nonzero=False) for _ in range(n)] for _ in range(n)]
                if _det(rows) != 0:
                    break
            for row in rows:
                eqs.append((row, 0, [0] * n, sum(c * s for c, s in zip(row, sol, strict=False))))
            if difficulty == 9:
                ask = "x + y"
                return Problem(facts={"eqs": eqs, "n": n, "ask": ask}, answer=str(sol[0] + sol[1]))
        return Problem(facts={"eqs": eqs, "n": len(eqs[0][0]) if eqs else 1, "ask": ask}, answer=str(x))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        names = _ODD_VARS if novelty == 2 else _VARS
        n = f["n"]
        if "bracket" in f:
            a, b, c, d = f["bracket"]
            lines = [f"{a}({names[0]} {'+' if b >= 0 else '-'} {abs(b)}) = {side([c], names, d)}"]
        else:
            lines = [f"{side(lc, names, lk)} = {side(rc, names, rk)}" for lc, lk, rc, rk in f["eqs"]]
            if novelty == 2:
                # Swap sides and reorder equations: the same system, written differently.
                lines = [" = ".join(reversed(line.split(" = "))) for line in lines]
                rng.shuffle(lines)
        ask = f["ask"].replace("x", names[0]).replace("y", names[1])
        unknowns = ", ".join(names[:n])
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
        return numeric_score(item, response)


def _det(m: list[list[int]]) -> int:
    if len(m) == 2:
        return m[0][0] * m[1][1] - m[0][1] * m[1][0]
    return (
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    )
