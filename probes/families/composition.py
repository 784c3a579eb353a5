"""Composition: arithmetic results become calendar moves (the arithmetic family feeds the dates one).

The model evaluates arithmetic expressions (built by the arithmetic family's generator) and moves
a date forward or back by each result, in order, so neither skill alone suffices. What grows with
the level ``d`` (see ``Composition.plan``):

* ``stages = round(1.1**d)``: how many expressions feed moves, the main size (1 up to level 4,
  3 at 10, 7 at 20, 17 at 30, 28 at 35, 73 at 45, 189 at 55, 304 at the top level 60); it more
  than doubles every ten levels. A frontier model without tools did all 28 at level 35.
* Each expression has ``operands = 2 + h // 10`` numbers of ``digits = 1 + h // 8`` digits with
  ``products = min(operands - 1, (h + 5) // 10)`` multiplications, ``h = min(d, 35)`` (they hold
  at 5, 5 and 4 past the old top); from level 8 (``modulus = 1000``) a move is the expression's
  remainder modulo 1000, which keeps dates in range while the expressions grow. Expressions use
  only + and *, so every value is a non-negative day count.
* ``resets`` (from level 36): after about one move in three the date jumps to that month's last
  day or the next month's first, so the moves cannot be summed into one net move; the date must
  be carried through all of them.

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
from probes.families.dates import apply_step, long_date, random_date, score_date

#: Moves that would leave these years go the other way instead.
_YEARS = (1700, 2400)
#: The old top. Past it the expressions keep their size (modulo 1000 only their last three digits
#: matter, so longer operands would add text, not work), the chain of stages grows, and about one
#: move in three is followed by a jump to its month's last day or the next month's first, so the
#: moves no longer add up to one net move: the date must be tracked through the whole chain.
_HOLD = 35
_RESET_TEXT = {
    "month_end": "then to the last day of that month",
    "month_next": "then to the first day of the next month",
}


@dataclass(frozen=True)
class Composition(ProbeFamily):
    """Evaluate expressions, then use their values as calendar moves."""

    name = "composition"
    skill = "composition"
    version = "2"
    top = 60
    grows = "stages"
    formula = (
        "stages = round(1.1**d); h = min(d, 35); operands = 2 + h//10; digits = 1 + h//8; "
        "products = min(operands-1, (h+5)//10); modulus = 1000 from d=8; month resets from d=36"
    )

    def plan(self, difficulty: int) -> dict[str, int]:
        d = difficulty
        h = min(d, _HOLD)  # past the old top the expressions hold their size; the chain grows
        operands = 2 + h // 10
        return {
            "stages": iround(1.1**d),
            "operands": operands,
            "digits": 1 + h // 8,
            "products": min(operands - 1, (h + 5) // 10),
            "modulus": 1000 * min(1, d // 8),
            "resets": min(1, d // (_HOLD + 1)),
        }

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        start = random_date(rng)
        date = start
        exprs: list[str] = []
        moves: list[int] = []  # signed day counts
        resets: list[str] = []  # per stage past the old top: "", "month_end" or "month_next"
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
            if p["resets"]:  # drawn only past the old top, so lower levels keep their streams
                reset = rng.choice(("month_end", "month_next")) if rng.random() < 1 / 3 else ""
                if reset:
                    date = apply_step(date, (reset, 0))
                resets.append(reset)
        facts: dict[str, Any] = {
            "start": start, "exprs": exprs, "moves": moves, "modulus": p["modulus"], "resets": resets,
        }
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
            resets: list[str] = f.get("resets", [])
            for i, reset in enumerate(resets):
                if reset:
                    steps[i] += f" ({_RESET_TEXT[reset]})"
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
