"""Composition: the output of one family is the input of the next (arithmetic, then calendar).

The model must evaluate an arithmetic expression (built by the arithmetic family) and use the
result as a day offset in a calendar question (as in the date family), so neither skill alone
suffices. Scoring: exact date (ISO, '5 March 2031' or 'March 5, 2031') or weekday; no partial
credit.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, score_choice, wrap_answer
from probes.families.arithmetic import Arithmetic
from probes.families.dates import WEEKDAYS, long_date, random_date, score_date

# (arithmetic level, question: "date" or "weekday") per level.
_PLAN = {1: (1, "date"), 2: (2, "date"), 3: (3, "date"), 4: (4, "date"), 5: (5, "date"),
         6: (2, "weekday"), 7: (4, "weekday"), 8: (6, "date"), 9: (7, "date"), 10: (7, "weekday")}
#: Offsets beyond this would leave the calendar's range; such expressions are redrawn.
MAX_OFFSET = 20000


@dataclass(frozen=True)
class Composition(ProbeFamily):
    """Evaluate an expression, then use its value as a calendar offset."""

    name = "composition"
    skill = "composition"
    version = "1"
    levels = tuple(
        f"arithmetic level {a} result as a day offset, answer the {q}" for a, q in _PLAN.values()
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        level, question = _PLAN[difficulty]
        arithmetic = Arithmetic()
        expr = arithmetic.build(rng, level)
        for _ in range(50):
            if expr.answer != "0" and abs(int(expr.answer)) <= MAX_OFFSET:
                break
            expr = arithmetic.build(rng, level)
        else:
            expr = arithmetic.build(rng, 1)
        offset = int(expr.answer)
        start = random_date(rng)
        end = start + dt.timedelta(days=offset)
        answer = end.isoformat() if question == "date" else WEEKDAYS[end.weekday()]
        return Problem(facts={"expr": expr.facts["expr"], "offset": offset, "start": start,
                              "question": question}, answer=answer)

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        start: dt.date = f["start"]
        shown = start.isoformat() if novelty < 2 else long_date(start)
        kind = format_for(novelty, rng)
        weekday = f["question"] == "weekday"
        fmt = answer_instruction(kind, "weekday name" if weekday else "date as YYYY-MM-DD")
        answer = problem.answer
        if novelty == 3 and not weekday:
            fmt = answer_instruction(kind, "date written like 5 March 2031")
            answer = long_date(dt.date.fromisoformat(problem.answer))
        known = f" ({shown} is a {WEEKDAYS[start.weekday()]})" if weekday else ""
        target = "weekday" if weekday else "date"
        if novelty == 0:
            prompt = (f"Let N = {f['expr']}. What {target} is N days after {shown}{known}? "
                      f"(If N is negative, go back.) {fmt}")
        elif novelty == 1:
            prompt = (f"First compute N = {f['expr']}. Then count N days on from {shown}{known} "
                      f"(backwards if N is negative). Which {target} do you land on? {fmt}")
        elif novelty == 2:
            prompt = (f"Step one: N is the value of {f['expr']}. Step two: starting on {shown}{known}, "
                      f"move N days (a negative N means earlier). Report the {target}. {fmt}")
        else:
            prompt = (f"A ship's cook counts the voyage in days: the number of days equals {f['expr']} "
                      f"(a negative number means the log runs backwards). The ship left port on "
                      f"{shown}{known}. On which {target} does the log end? {fmt}")
        return Rendering(prompt=prompt, answer=wrap_answer(kind, answer))

    def score(self, item: Item, response: str) -> Verdict:
        if item.problem.facts["question"] == "weekday":
            return score_choice(response, item.problem.answer, WEEKDAYS)
        return score_date(response, dt.date.fromisoformat(item.problem.answer))
