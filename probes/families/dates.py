"""Date and calendar arithmetic on an open scale: an ever longer chain of calendar moves.

From a start date the model follows a chain of steps and names the date it reaches. What grows
with the level ``d`` (see ``DateArithmetic.plan``):

* ``steps = round(1.1**d)``: the chain's length, the main size (1 up to level 4, 3 at 10, 7 at
  20, 17 at 30, 45 at 40, 117 at 50, 304 at 60, 790 at the top level 70); it more than doubles
  every ten levels. A frontier model without tools followed 45 moves at level 40, so the chain
  goes on to hundreds: about three moves in seven are month ends, month starts or weekdays,
  which reset any running day count, so each needs a fresh calendar lookup (no summing shortcut).
* ``span = round(5 * 1.2**(min(d, 40)-1))``: the largest move in days (5 at level 1, 26 at 10,
  160 at 20, about 6000 from 40 on), so moves cross months, years and leap days; ``kinds = min(5, 1 + d // 3)``
  step kinds (forward days; back days; weeks; to a month's last day or the next month's first;
  to the next given weekday, with the start's weekday stated); ``cross`` (from level 2) lets a
  move leave the start's month.

Level 1 is one short move inside a month ("What date is 3 days after 2031-03-05?"). Answers are
ISO dates; a date is accepted in ISO form (2031-03-05), as '5 March 2031' or as 'March 5, 2031';
``Verdict.canonical`` is always ISO. Scoring: exact match; no partial credit.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from typing import Any

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, pick, wrap_answer
from probes.extract import extract_final, tail

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
_MONTH_NO = {m.casefold(): i for i, m in enumerate(MONTHS, 1)}
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[ \t]([A-Za-z]{3,9}),?[ \t](\d{4})")
_MDY = re.compile(r"([A-Za-z]{3,9})[ \t](\d{1,2})(?:st|nd|rd|th)?,?[ \t](\d{4})")


def _make(y: str, m: str | int, d: str) -> dt.date | None:
    month = m if isinstance(m, int) else _MONTH_NO.get(m.casefold(), 0)
    try:
        return dt.date(int(y), month, int(d))
    except ValueError:
        return None


def _dates_in(text: str) -> list[tuple[int, dt.date]]:
    found: list[tuple[int, dt.date]] = []
    for m in _ISO.finditer(text):
        d = _make(m.group(1), int(m.group(2)), m.group(3))
        if d:
            found.append((m.start(), d))
    for m in _DMY.finditer(text):
        d = _make(m.group(3), m.group(2), m.group(1))
        if d:
            found.append((m.start(), d))
    for m in _MDY.finditer(text):
        d = _make(m.group(3), m.group(1), m.group(2))
        if d:
            found.append((m.start(), d))
    return sorted(found, key=lambda p: p[0])


def extract_date(text: str) -> dt.date | None:
    """The final date in a response: from the final answer if it has one, else the last one written."""
    final = extract_final(text)
    if final is not None:
        hits = _dates_in(final)
        if hits:
            return hits[0][1]
    hits = _dates_in(tail(text))
    return hits[-1][1] if hits else None


def long_date(d: dt.date) -> str:
    """'5 March 2031'."""
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def score_date(response: str, expected: dt.date) -> Verdict:
    """1.0 when the response's final date is ``expected``."""
    found = extract_date(response)
    if found is None:
        return Verdict(0.0, None, None)
    return Verdict(1.0 if found == expected else 0.0, found.isoformat(), found.isoformat())


def _random_date(rng: random.Random, lo: int = 1990, hi: int = 2090) -> dt.date:
    return dt.date(rng.randint(lo, hi), 1, 1) + dt.timedelta(days=rng.randrange(365))


#: Step kinds in the order the levels add them ("fwd"/"back" days, "wfwd"/"wback" weeks).
_KIND_GROUPS: tuple[tuple[str, ...], ...] = (
    ("fwd",), ("back",), ("wfwd", "wback"), ("month_end", "month_next"), ("next_weekday",),
)
#: Moves that would leave these years are turned round, so dates stay ordinary.
_YEARS = (1700, 2400)

#: The old top: past it the largest move holds at about 6000 days (longer ones would only leave
#: the 1700..2400 window both ways) and only the chain grows.
_SPAN_HOLD = 40

#: A step: (kind, amount); the amount is days, weeks or a weekday index.
Step = tuple[str, int]


def apply_step(date: dt.date, step: Step) -> dt.date:
    """The date one step moves to."""
    kind, n = step
    if kind == "fwd":
        return date + dt.timedelta(days=n)
    if kind == "back":
        return date - dt.timedelta(days=n)
    if kind == "wfwd":
        return date + dt.timedelta(weeks=n)
    if kind == "wback":
        return date - dt.timedelta(weeks=n)
    if kind == "month_next":
        return dt.date(date.year + date.month // 12, date.month % 12 + 1, 1)
    if kind == "month_end":
        return dt.date(date.year + date.month // 12, date.month % 12 + 1, 1) - dt.timedelta(days=1)
    return date + dt.timedelta(days=(n - date.weekday() - 1) % 7 + 1)  # next weekday n, strictly later


_FLIP = {"fwd": "back", "back": "fwd", "wfwd": "wback", "wback": "wfwd"}


def step_text(step: Step, novelty: int) -> str:
    """One step as an instruction."""
    kind, n = step
    later, earlier = ("forward", "back") if novelty != 1 else ("later by", "earlier by")
    unit = "day" if kind in ("fwd", "back") else "week"
    plural = "" if n == 1 else "s"
    if kind in ("fwd", "wfwd"):
        return f"go {later} {n} {unit}{plural}"
    if kind in ("back", "wback"):
        return f"go {earlier} {n} {unit}{plural}"
    if kind == "month_end":
        return "go to the last day of that month"
    if kind == "month_next":
        return "go to the first day of the following month"
    return f"go to the next {WEEKDAYS[n]} (strictly after the current date)"


@dataclass(frozen=True)
class DateArithmetic(ProbeFamily):
    """Follow a chain of calendar moves from a start date."""

    name = "date_arithmetic"
    skill = "calendar"
    version = "2"
    top = 70
    grows = "steps"
    formula = (
        "steps = round(1.1**d); span = round(5 * 1.2**(min(d, 40)-1)) days; kinds = min(5, 1 + d//3); "
        "cross from d=2"
    )

    def plan(self, difficulty: int) -> dict[str, int]:
        d = difficulty
        return {
            "steps": int(1.1**d + 0.5),
            "span": int(5 * 1.2 ** (min(d, _SPAN_HOLD) - 1) + 0.5),
            "kinds": min(5, 1 + d // 3),
            "cross": min(1, d - 1),
        }

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        span = p["span"]
        start = _random_date(rng)
        if not p["cross"]:
            start = start.replace(day=rng.randint(1, 28 - span))
        kinds = [k for group in _KIND_GROUPS[: p["kinds"]] for k in group]
        steps: list[Step] = []
        date = start
        for _ in range(p["steps"]):
            kind = pick(rng, kinds)
            if kind in ("fwd", "back"):
                n = rng.randint(1, span)
            elif kind in ("wfwd", "wback"):
                n = rng.randint(1, max(1, span // 7))
            elif kind == "next_weekday":
                n = rng.randrange(7)
            else:
                n = 0
            step: Step = (kind, n)
            if kind in _FLIP and not _YEARS[0] <= apply_step(date, step).year <= _YEARS[1]:
                step = (_FLIP[kind], n)
            date = apply_step(date, step)
            steps.append(step)
        facts: dict[str, Any] = {"start": start, "steps": steps, "weekday": p["kinds"] >= 5}
        return Problem(facts=facts, answer=date.isoformat())

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        start: dt.date = f["start"]
        steps: list[Step] = f["steps"]
        shown = start.isoformat() if novelty < 2 else long_date(start)
        if f["weekday"]:
            shown += f" (a {WEEKDAYS[start.weekday()]})"
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "date as YYYY-MM-DD")
        answer = problem.answer
        if novelty == 3:
            fmt = answer_instruction(kind, "date written like 5 March 2031")
            answer = long_date(dt.date.fromisoformat(problem.answer))
        if len(steps) == 1 and steps[0][0] in ("fwd", "back"):
            k, n = steps[0]
            verb = "after" if k == "fwd" else "before"
            q = [f"What date is {n} days {verb} {shown}?",
                 f"Count {n} days {'forward' if k == 'fwd' else 'back'} from {shown}. Which date is it?",
                 f"A parcel's date stamp reads {shown}; the record is {n} days {verb} that. Its date?",
                 f"What date is {n} days {verb} {shown}?"][novelty]
        else:
            moves = [step_text(s, novelty) for s in steps]
            if novelty == 0:
                q = f"Start at {shown}. Then " + "; then ".join(moves) + ". Which date do you reach?"
            elif novelty == 1:
                listed = "\n".join(f"{i}. {m[0].upper()}{m[1:]}." for i, m in enumerate(moves, 1))
                q = f"Begin on {shown} and carry out these moves in order:\n{listed}\nOn which date do you end?"
            else:
                q = (f"A parcel's date stamp reads {shown}. Its route record says, in order: "
                     + "; ".join(moves) + ". What date does the record end on?")
        if novelty == 3:
            q = f"In the archive of an old observatory, a note says: '{q}' The keeper needs the answer."
        return Rendering(prompt=f"{q} {fmt}", answer=wrap_answer(kind, answer))

    def score(self, item: Item, response: str) -> Verdict:
        return score_date(response, dt.date.fromisoformat(item.problem.answer))


def weekday_of(d: dt.date) -> str:
    """The English weekday name of a date."""
    return WEEKDAYS[d.weekday()]


def random_date(rng: random.Random) -> dt.date:
    """A random date in 1990..2090."""
    return _random_date(rng)

