"""Verifier and generator tests for the dates family."""

from __future__ import annotations

import datetime as dt

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


def test_date_weekday_and_between() -> None:
    fam = DateArithmetic()
    weekday = item(fam, 5)
    assert weekday.problem.answer in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    start, n = weekday.problem.facts["start"], weekday.problem.facts["n"]
    assert (start + dt.timedelta(days=n)).strftime("%A") == weekday.problem.answer
    between = item(fam, 6)
    assert int(between.problem.answer) == between.problem.facts["n"]


