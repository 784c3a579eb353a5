"""Verifier and generator tests for the units family."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.units import UnitConversion

SALT = b"family-tests"

# Independent factor table: size of each unit in the dimension's base unit.
_BASE = {
    "mm": 0.001, "cm": 0.01, "m": 1, "km": 1000, "in": 0.0254, "ft": 0.3048, "yd": 0.9144,
    "mi": 1609.344, "g": 0.001, "kg": 1, "t": 1000, "oz": 0.028349523125, "lb": 0.45359237,
    "s": 1, "min": 60, "h": 3600, "d": 86400, "wk": 604800, "m/s": 1, "km/h": 1 / 3.6, "mph": 0.44704,
}


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_units_tolerance_is_half_a_cent() -> None:
    fam = UnitConversion()
    it = item(fam, 10)
    exact = float(it.problem.facts["exact"])
    assert fam.score(it, f"Answer: {exact + 0.004:.4f}").score == 1.0
    assert fam.score(it, f"Answer: {exact + 0.02:.4f}").score == 0.0


@pytest.mark.parametrize(
    ("d", "terms", "kinds", "digits", "decimals"),
    [(1, 1, 1, 1, 0), (4, 1, 2, 2, 0), (5, 2, 2, 2, 1), (10, 3, 4, 3, 2), (20, 7, 4, 6, 3), (40, 45, 4, 6, 3),
     (60, 304, 4, 6, 3), (70, 790, 4, 6, 3)],
)
def test_units_plan(d: int, terms: int, kinds: int, digits: int, decimals: int) -> None:
    p = UnitConversion().plan(d)
    assert (p["terms"], p["kinds"], p["digits"], p["decimals"]) == (terms, kinds, digits, decimals)
    assert p["unstated"] == (d >= 4) and p["any_direction"] == (d >= 3)


@pytest.mark.parametrize("d", [1, 2, 3, 6, 9, 12, 20, 30, 40, 55, 70])
def test_units_problem_matches_plan(d: int) -> None:
    fam = UnitConversion()
    p = fam.plan(d)
    for index in range(15):
        it = item(fam, d, index=index)
        parts, dst = it.problem.facts["parts"], it.problem.facts["dst"]
        assert len(parts) == p["terms"] and it.prompt.count(" plus ") == p["terms"] - 1
        exact = sum(float(v) * _BASE[u] for v, u in parts) / _BASE[dst]
        assert exact == pytest.approx(it.problem.facts["exact"], rel=1e-12)
        for value, unit in parts:
            whole, _, frac = value.partition(".")
            assert len(whole) == p["digits"] and len(frac) <= p["decimals"]
            assert _BASE[unit] <= 10 ** p["ratio_digits"] * _BASE[dst]
            if not p["any_direction"]:
                assert _BASE[unit] > _BASE[dst]
        stated = re.findall(r"1 (\S+) = ([\d.]+) (\S+?)[;.]", it.prompt)
        assert bool(stated) == (not p["unstated"] or any(u in ("in", "ft", "yd", "mi", "oz", "lb", "mph")
                                                           for _, u in parts))


def test_units_top_is_a_long_exact_sum_in_a_bounded_prompt() -> None:
    fam = UnitConversion()
    assert fam.top == 70
    for n in range(4):
        it = item(fam, fam.top, n)
        exact = sum(Fraction(v) * Fraction(_BASE[u]).limit_denominator(10**15) for v, u in it.problem.facts["parts"])
        assert float(exact / Fraction(_BASE[it.problem.facts["dst"]]).limit_denominator(10**15)) == pytest.approx(
            it.problem.facts["exact"], rel=1e-14)
        assert len(it.prompt) < 40_000 and fam.score(it, it.answer).score == 1.0


def test_units_level_one_states_its_factor() -> None:
    seen = set()
    for index in range(60):
        it = item(UnitConversion(), 1, index=index)
        ((value, unit),), dst = it.problem.facts["parts"], it.problem.facts["dst"]
        factor = round(_BASE[unit] / _BASE[dst])
        assert value == "1" and f"1 {unit} = {factor} {dst}" in it.prompt
        said = {"is 1 {u} long", "weighs 1 {u}", "takes 1 {u}"}
        lead, _, rest = it.prompt.partition(". ")
        assert lead.startswith("A ") and any(lead.endswith(s.format(u=unit)) for s in said), it.prompt
        assert rest.startswith(f"Convert 1 {unit} to {dst}. Use") and it.prompt.endswith("'Answer: <number>'.")
        assert it.problem.answer == str(factor)
        seen.add((unit, dst))
    assert seen == {("km", "m"), ("m", "cm"), ("cm", "mm"), ("kg", "g"), ("h", "min"), ("min", "s"), ("d", "h"),
                    ("wk", "d")}


def test_units_level_one_prompts_are_mostly_distinct() -> None:
    # Eight conversions times eight things per dimension: fresh level-1 probes are not a static set.
    assert len({item(UnitConversion(), 1, index=i).prompt for i in range(60)}) >= 30


def test_units_chance_is_the_modal_level_one_factor() -> None:
    # Factors 1000, 100, 10, 1000, 60, 60, 24, 7: a blind "1000" or "60" hits two pairs in eight.
    assert UnitConversion().chance(1) == pytest.approx(2 / 8)
    assert UnitConversion().chance(2) == 0.0
