"""Date and calendar arithmetic: adding days, weekdays, days between dates, across leap years.

Answers are ISO dates, weekday names or day counts. A date answer is accepted in ISO form
(2031-03-05), as '5 March 2031' or as 'March 5, 2031'; ``Verdict.canonical`` is always ISO.
Scoring: exact match; no partial credit.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, score_choice, score_number, wrap_answer
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


# (task, low delta, high delta) per level.
_PLAN = {
    1: ("add", 1, 9), 2: ("add", 10, 40), 3: ("sub", 10, 60), 4: ("add", 50, 200),
    5: ("weekday", 2, 30), 6: ("between", 20, 300), 7: ("add", 200, 900), 8: ("weekday", 100, 1000),
    9: ("between", 300, 1500), 10: ("mixed", 100, 2000),
}


@dataclass(frozen=True)
class DateArithmetic(ProbeFamily):
    """Calendar arithmetic over random dates."""

    name = "date_arithmetic"
    skill = "calendar"
    version = "1"
    levels = (
        "add 1-9 days within a month",
        "add 10-40 days (crosses a month)",
        "subtract 10-60 days",
        "add 50-200 days (may cross a year)",
        "weekday 2-30 days after a known weekday",
        "days between two dates, 20-300 apart",
        "add 200-900 days (leap years)",
        "weekday 100-1000 days after a known weekday",
        "days between two dates, 300-1500 apart",
        "add weeks and days, then subtract days, across leap years",
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        task, lo, hi = _PLAN[difficulty]
        start = _random_date(rng)
        if difficulty == 1:
            start = start.replace(day=rng.randint(1, 18))
        n = rng.randint(lo, hi)
        facts: dict[str, object] = {"task": task, "start": start, "n": n}
        if task == "add":
            return Problem(facts=facts, answer=(start + dt.timedelta(days=n)).isoformat())
        if task == "sub":
            return Problem(facts=facts, answer=(start - dt.timedelta(days=n)).isoformat())
        if task == "weekday":
            return Problem(facts=facts, answer=WEEKDAYS[(start + dt.timedelta(days=n)).weekday()])
        if task == "between":
            return Problem(facts=facts, answer=str(n))
        weeks, back = rng.randint(2, 150), rng.randint(1, 60)
        facts.update(weeks=weeks, back=back)
        end = start + dt.timedelta(days=7 * weeks + n - back)
        return Problem(facts=facts, answer=end.isoformat())

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        task, start, n = f["task"], f["start"], f["n"]
        show = (lambda d: d.isoformat()) if novelty < 2 else long_date
        kind = format_for(novelty, rng)
        what = {"weekday": "weekday name", "between": "number of days"}.get(task, "date as YYYY-MM-DD")
        fmt = answer_instruction(kind, what)
        answer = problem.answer
        if novelty == 3 and task in ("add", "sub", "mixed"):
            fmt = answer_instruction(kind, "date written like 5 March 2031")
            answer = long_date(dt.date.fromisoformat(problem.answer))
        if task in ("add", "sub"):
            verb = "after" if task == "add" else "before"
            way = "forward" if task == "add" else "back"
            q = [f"What date is {n} days {verb} {show(start)}?",
                 f"Count {n} days {way} from {show(start)}. Which date is it?",
                 f"A parcel's date stamp reads {show(start)}; the record is {n} days {verb} that. "
                 f"Its date?"][min(novelty, 2)]
        elif task == "weekday":
            q = f"{show(start)} is a {WEEKDAYS[start.weekday()]}. Which weekday is {n} days later?"
        elif task == "between":
            end = start + dt.timedelta(days=n)
            q = f"How many days are there from {show(start)} to {show(end)}?"
        else:
            q = (f"Start at {show(start)}, go forward {f['weeks']} weeks and {n} days, then back "
                 f"{f['back']} days. Which date do you reach?")
        if novelty == 3:
            q = f"In the archive of an old observatory, a note says: '{q}' The keeper needs the answer."
        elif novelty == 1 and task not in ("add", "sub"):
            q = "Calendar question: " + q
        return Rendering(prompt=f"{q} {fmt}", answer=wrap_answer(kind, answer))

    def score(self, item: Item, response: str) -> Verdict:
        task = item.problem.facts["task"]
        if task == "weekday":
            return score_choice(response, item.problem.answer, WEEKDAYS)
        if task == "between":
            return score_number(response, item.problem.answer)
        return score_date(response, dt.date.fromisoformat(item.problem.answer))


def weekday_of(d: dt.date) -> str:
    """The English weekday name of a date."""
    return WEEKDAYS[d.weekday()]


def random_date(rng: random.Random) -> dt.date:
    """A random date in 1990..2090."""
    return _random_date(rng)

