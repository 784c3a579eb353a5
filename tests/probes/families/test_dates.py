"""Verifier and generator tests for the dates family."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.dates import DateArithmetic, extract_date

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_dates_accept_several_formats() -> None:
    d = dt.date(2031, 3, 5)
    for text in ("Answer: 2031-03-05", "Answer: 5 March 2031", "Answer: March 5th, 2031", "so \\boxed{5 March 2031}"):
        assert extract_date(text) == d, text
    assert extract_date("Answer: 2031-02-30") is None


@pytest.mark.parametrize(
    ("d", "steps", "span", "kinds"),
    [(1, 1, 5, 1), (3, 1, 7, 2), (6, 2, 12, 3), (10, 3, 26, 4), (12, 3, 37, 5), (20, 7, 160, 5),
     (30, 17, 989, 5), (40, 45, 6124, 5), (50, 117, 6124, 5), (70, 790, 6124, 5)],
)
def test_dates_plan(d: int, steps: int, span: int, kinds: int) -> None:
    p = DateArithmetic().plan(d)
    assert (p["steps"], p["span"], p["kinds"], p["cross"]) == (steps, span, kinds, int(d >= 2))


def _walk(start: dt.date, steps: list[tuple[str, int]]) -> dt.date:
    """The steps replayed with the calendar module (independent of the generator)."""
    day = start.toordinal()
    for kind, n in steps:
        date = dt.date.fromordinal(day)
        if kind in ("fwd", "back", "wfwd", "wback"):
            day += n * (7 if kind[0] == "w" else 1) * (1 if kind.endswith("fwd") else -1)
        elif kind == "month_end":
            day += calendar.monthrange(date.year, date.month)[1] - date.day
        elif kind == "month_next":
            day += calendar.monthrange(date.year, date.month)[1] - date.day + 1
        else:
            day += 1
            while dt.date.fromordinal(day).weekday() != n:
                day += 1
    return dt.date.fromordinal(day)


_GROUPS = (("fwd",), ("back",), ("wfwd", "wback"), ("month_end", "month_next"), ("next_weekday",))


@pytest.mark.parametrize("d", [1, 2, 5, 9, 12, 20, 30, 40, 55, 70])
def test_dates_problem_matches_plan(d: int) -> None:
    fam = DateArithmetic()
    p = fam.plan(d)
    allowed = {k for g in _GROUPS[: p["kinds"]] for k in g}
    for index in range(15):
        it = item(fam, d, index=index)
        start, steps = it.problem.facts["start"], it.problem.facts["steps"]
        assert len(steps) == p["steps"]
        assert all(kind in allowed for kind, _ in steps)
        assert all(n <= p["span"] for kind, n in steps if kind in ("fwd", "back"))
        assert _walk(start, steps).isoformat() == it.problem.answer
        if len(steps) > 1:  # one instruction per step in the listed rendering
            assert item(fam, d, 1, index).prompt.count("\n") == len(steps) + 1
        if not p["cross"]:
            assert dt.date.fromisoformat(it.problem.answer).month == start.month


def test_dates_top_is_a_long_chain_in_a_bounded_prompt() -> None:
    fam = DateArithmetic()
    assert fam.top == 70
    for n in range(4):
        it = item(fam, fam.top, n)
        assert len(it.problem.facts["steps"]) == 790 and len(it.prompt) < 40_000
        assert 1700 <= dt.date.fromisoformat(it.problem.answer).year <= 2400


def test_weekday_steps_state_the_start_weekday() -> None:
    fam = DateArithmetic()
    it = item(fam, 15)
    start = it.problem.facts["start"]
    assert f"(a {start.strftime('%A')})" in it.prompt
