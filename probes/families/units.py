"""Unit conversion: metric prefixes first, then time, speed, imperial units (factor stated) and sums.

Scoring: the extracted number must lie within 0.005 of the exact value (a correct rounding to two
decimals or better); no partial credit.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, pick, score_number, wrap_answer

# name -> (dimension, size in base unit, long name)
UNITS: dict[str, tuple[str, float, str]] = {
    "mm": ("length", 0.001, "millimetres"), "cm": ("length", 0.01, "centimetres"),
    "m": ("length", 1.0, "metres"), "km": ("length", 1000.0, "kilometres"),
    "in": ("length", 0.0254, "inches"), "ft": ("length", 0.3048, "feet"),
    "mi": ("length", 1609.344, "miles"),
    "g": ("mass", 0.001, "grams"), "kg": ("mass", 1.0, "kilograms"), "t": ("mass", 1000.0, "tonnes"),
    "lb": ("mass", 0.45359237, "pounds"),
    "s": ("time", 1.0, "seconds"), "min": ("time", 60.0, "minutes"), "h": ("time", 3600.0, "hours"),
    "d": ("time", 86400.0, "days"),
    "m/s": ("speed", 1.0, "metres per second"), "km/h": ("speed", 1000 / 3600, "kilometres per hour"),
    "mph": ("speed", 1609.344 / 3600, "miles per hour"),
}
_IMPERIAL_FACT = {
    "in": "1 inch = 2.54 cm", "ft": "1 foot = 0.3048 m", "mi": "1 mile = 1.609344 km",
    "lb": "1 pound = 0.45359237 kg", "mph": "1 mile = 1.609344 km",
}
# (pairs to draw from, value range, decimals in the given value) per level.
_PLAN: dict[int, tuple[tuple[tuple[str, str], ...], tuple[int, int], int]] = {
    1: ((("m", "cm"), ("kg", "g")), (1, 99), 0),
    2: ((("km", "m"), ("kg", "g"), ("m", "mm")), (2, 99), 0),
    3: ((("cm", "m"), ("g", "kg"), ("m", "km")), (10, 999), 0),
    4: ((("h", "s"), ("d", "min"), ("h", "min")), (2, 48), 0),
    5: ((("mm", "m"), ("g", "kg"), ("min", "h")), (100, 99999), 0),
    6: ((("km/h", "m/s"), ("m/s", "km/h")), (5, 999), 0),
    7: ((("in", "cm"), ("ft", "m"), ("lb", "kg")), (2, 99), 0),
    8: ((("mi", "m"), ("lb", "g"), ("ft", "cm")), (2, 999), 1),
    9: ((("km", "m"),), (1, 9), 0),
    10: ((("mph", "m/s"), ("mph", "km/h")), (5, 999), 3),
}


def _fmt(v: float) -> str:
    r = round(v, 2)
    return str(int(r)) if r == int(r) else f"{r:.2f}".rstrip("0")


@dataclass(frozen=True)
class UnitConversion(ProbeFamily):
    """Convert a quantity between units."""

    name = "unit_conversion"
    skill = "units"
    version = "1"
    levels = (
        "m to cm or kg to g, up to two digits",
        "km to m, kg to g, m to mm, two digits",
        "cm to m, g to kg, m to km (decimals)",
        "hours or days to seconds and minutes",
        "mm to m, g to kg, minutes to hours, up to 5 digits (rounding)",
        "km/h <-> m/s, up to three digits",
        "inches, feet, pounds to metric (factor given)",
        "miles, pounds, feet with one decimal (factor given)",
        "sum of km, m and cm quantities, in metres",
        "mph to m/s or km/h, three decimals (factor given)",
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        pairs, (lo, hi), decimals = _PLAN[difficulty]
        src, dst = pick(rng, pairs)
        # Rounded so the prompt shows exactly the decimals drawn (no 12.007000000000001).
        value = round(rng.randint(lo, hi) + rng.randint(1, 10**decimals - 1) / 10**decimals, decimals) \
            if decimals else float(rng.randint(lo, hi))
        if difficulty == 9:
            parts = [(float(rng.randint(1, 9)), "km"), (float(rng.randint(10, 999)), "m"),
                     (float(rng.randint(10, 9999)), "cm")]
            exact = sum(v * UNITS[u][1] for v, u in parts)
            return Problem(facts={"parts": parts, "dst": "m", "exact": exact}, answer=_fmt(exact))
        exact = value * UNITS[src][1] / UNITS[dst][1]
        return Problem(facts={"parts": [(value, src)], "dst": dst, "exact": exact}, answer=_fmt(exact))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        parts: list[tuple[float, str]] = problem.facts["parts"]
        dst: str = problem.facts["dst"]
        long = novelty in (1, 2)
        name = (lambda u: UNITS[u][2]) if long else (lambda u: u)

        def num(v: float) -> str:
            text = str(int(v)) if v == int(v) else str(v)
            return text.replace(".", ",") + " (decimal comma)" if novelty == 2 and v != int(v) else text

        qty = " plus ".join(f"{num(v)} {name(u)}" for v, u in parts)
        facts = sorted({_IMPERIAL_FACT[u] for _, u in parts if u in _IMPERIAL_FACT})
        given = (" Use " + "; ".join(facts) + ".") if facts else ""
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "number") + " Round to 2 decimal places if needed."
        if novelty == 0:
            q = f"Convert {qty} to {name(dst)}."
        elif novelty == 1:
            q = f"How many {name(dst)} is {qty}?"
        elif novelty == 2:
            q = f"Express the quantity {qty} in {name(dst)}, giving only the number."
        else:
            q = (f"A caravan master in the desert town of Qalbor records a load as {qty}. The buyer "
                 f"only understands {UNITS[dst][2]}. What figure should the master quote?")
        return Rendering(prompt=f"{q}{given} {fmt}", answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        exact = float(item.problem.facts["exact"])
        verdict = score_number(response, repr(exact), abs_tol=0.005 + 1e-9 * max(1.0, abs(exact)))
        if verdict.extracted is None:
            return verdict
        return Verdict(verdict.score, verdict.extracted, _fmt(float(verdict.extracted)) if
                       math.isfinite(float(verdict.extracted)) else None)
