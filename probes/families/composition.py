"""Composition: arithmetic results become calendar moves (the arithmetic family feeds the dates one).

The model evaluates arithmetic expressions (built by the arithmetic family's generator) and moves
a date forward or back by each result, in order, so neither skill alone suffices. What grows with
the level ``d`` (see ``Composition.plan``):

* ``stages = round(1.1**d)``: how many expressions feed moves, the main size (1 up to level 4,
  3 at 10, 7 at 20, 17 at 30, 28 at the top level 35); it more than doubles every ten levels.
* Each expression has ``operands = 2 + d // 10`` numbers of ``digits = 1 + d // 8`` digits with
  ``products = min(operands - 1, (d + 5) // 10)`` multiplications; from level 8 (``modulus = 1000``)
  a move is the expression's remainder modulo 1000, which keeps dates in range while the
  expressions grow. Expressions use only + and *, so every value is a non-negative day count.

Level 1 is "Let N = 2 + 3. What date is N days after 2031-03-05?". Scoring: exact date (ISO,
'5 March 2031' or 'March 5, 2031'); no partial credit.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, wrap_answer
from probes.families.arithmetic import evaluate, expression, iround, show
from probes.families.dates import long_date, random_date, score_date

#: Moves that would leave these years go the other way instead.
_YEARS = (1700, 2400)


@dataclass(frozen=True)
class Composition(ProbeFamily):
    """Evaluate expressions, then use their values as calendar moves."""

    name = "composition"
    skill = "composition"
    version = "2"
    top = 35
    grows = "stages"
    formula = (
        "stages = round(1.1**d); operands = 2 + d//10; digits = 1 + d//8; "
        "products = min(operands-1, (d+5)//10); modulus = 1000 from d=8"
    )

    def plan(self, difficulty: int) -> dict[str, int]:
        d = difficulty
        operands = 2 + d // 10
        return {
            "stages": iround(1.1**d),
            "operands": operands,
            "digits": 1 + d // 8,
            "products": min(operands - 1, (d + 5) // 10),
            "modulus": 1000 * min(1, d // 8),
        }

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        start = random_date(rng)
        date = start
        exprs: list[str] = []
        moves: list[int] = []  # signed day counts
        for _ in range(p["stages"]):
            tree = expression(rng, p["operands"], p["digits"], p["products"], minus=False, brackets=True)
            value = evaluate(tree)
            days = value % p["modulus"] if p["modulus"] else value
            sign = 1 if p["stages"] == 1 or rng.random() < 0.5 else -1
            if not _YEARS[0] <= (date + dt.timedelta(days=sign * days)).year <= _YEARS[1]:
                sign = -sign
            date += dt.timedelta(days=sign * days)
            exprs.append(show(tree))
            moves.append(sign * days)
        facts: dict[str, Any] = {"start": start, "exprs": exprs, "moves": moves, "modulus": p["modulus"]}
        return Problem(facts=facts, answer=date.isoformat())

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        start: dt.date = f["start"]
        exprs: list[str] = f["exprs"]
        moves: list[int] = f["moves"]
        modulus: int = f["modulus"]
        shown = start.isoformat() if novelty < 2 else long_date(start)
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "date as YYYY-MM-DD")
        answer = problem.answer
        if novelty == 3:
            fmt = answer_instruction(kind, "date written like 5 March 2031")
            answer = long_date(dt.date.fromisoformat(problem.answer))
        names = ["N"] if len(exprs) == 1 else [f"N{i}" for i in range(1, len(exprs) + 1)]
        if modulus:
            defs = [f"{n} = the remainder of {e} divided by {modulus}" for n, e in zip(names, exprs, strict=True)]
        else:
            defs = [f"{n} = {e}" for n, e in zip(names, exprs, strict=True)]
        if len(exprs) == 1 and moves[0] >= 0:
            moves_text = f"What date is {names[0]} days after {shown}?"
        else:
            steps = [f"{'forward' if m >= 0 else 'back'} {n} days" for n, m in zip(names, moves, strict=True)]
            moves_text = f"Start at {shown} and go " + ", then ".join(steps) + ". Which date do you reach?"
        listing = "; ".join(defs)
        if novelty == 0:
            prompt = f"Let {listing}. {moves_text} {fmt}"
        elif novelty == 1:
            prompt = f"First compute {listing}. Then answer: {moves_text} {fmt}"
        elif novelty == 2:
            prompt = f"Step one: work out {listing}. Step two: {moves_text} {fmt}"
        else:
            prompt = f"A ship's cook counts the voyage in days, where {listing}. {moves_text} {fmt}"
        return Rendering(prompt=prompt, answer=wrap_answer(kind, answer))

    def score(self, item: Item, response: str) -> Verdict:
        return score_date(response, dt.date.fromisoformat(item.problem.answer))
