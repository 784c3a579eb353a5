"""Unit conversion on an open scale: a sum of ever more quantities in mixed units, in one unit.

What grows with the level ``d`` (see ``UnitConversion.plan``):

* ``terms = round(1.1**d)``: how many quantities are added up, the main size (1 up to level 4,
  3 at 10, 7 at 20, 17 at 30, 45 at 40, 117 at 50, 304 at 60, 790 at the top level 70); each
  needs its own conversion factor. A frontier model without tools still summed 45 at level 40,
  so the sum goes on to hundreds of decimal products (up to 6 + 3 digits times factors like
  1609.344 or 0.028349523125), every one of which must be exact to land within 0.005: about
  27k characters of prompt at the top and no shortcut beyond grouping terms by unit.
* ``kinds = min(4, 1 + d // 3)`` unit families (metric length and mass; + time; + speed; +
  imperial units, whose factor is stated); ``digits = min(6, 1 + d // 4)`` integer digits and
  ``decimals = min(3, d // 5)`` decimals in each given value; ``unstated`` (from level 4) stops
  stating metric factors; ``any_direction`` (from level 3) allows small-to-large conversions;
  a quantity's unit is at most ``10**ratio_digits`` (``min(4, 3 + d//10)``) times the target's.

Level 1 is the smallest instance: one unit converted to the next smaller one with the factor
given ("A film takes 1 h. Convert 1 h to min. Use 1 h = 60 min."), the pair drawn from
``FIRST_PAIRS`` (length,
mass and time, eight pairs, so the modal answer is a quarter of them: ``chance``). The answer is
the stated factor read in the right direction: SmolLM2-135M got "Convert 6 km to m" right in 0
of 12 and the one-unit form about half the time, once the prompt ends on the answer format (no
rounding note, the answer being whole). Level 2 on is unchanged: one one-digit value
("1 m = 100 cm. Convert 3 m to cm."). Scoring:
the extracted number must lie within 0.005 of the exact value (a correct rounding to two decimals
or better); no partial credit.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, pick, score_number, wrap_answer
from probes.families.arithmetic import iround

# name -> (dimension, exact size in the dimension's base unit, long name, imperial?)
UNITS: dict[str, tuple[str, Fraction, str, bool]] = {
    "mm": ("length", Fraction("0.001"), "millimetres", False),
    "cm": ("length", Fraction("0.01"), "centimetres", False),
    "m": ("length", Fraction(1), "metres", False),
    "km": ("length", Fraction(1000), "kilometres", False),
    "in": ("length", Fraction("0.0254"), "inches", True),
    "ft": ("length", Fraction("0.3048"), "feet", True),
    "yd": ("length", Fraction("0.9144"), "yards", True),
    "mi": ("length", Fraction("1609.344"), "miles", True),
    "g": ("mass", Fraction("0.001"), "grams", False),
    "kg": ("mass", Fraction(1), "kilograms", False),
    "t": ("mass", Fraction(1000), "tonnes", False),
    "oz": ("mass", Fraction("0.028349523125"), "ounces", True),
    "lb": ("mass", Fraction("0.45359237"), "pounds", True),
    "s": ("time", Fraction(1), "seconds", False),
    "min": ("time", Fraction(60), "minutes", False),
    "h": ("time", Fraction(3600), "hours", False),
    "d": ("time", Fraction(86400), "days", False),
    "wk": ("time", Fraction(604800), "weeks", False),
    "m/s": ("speed", Fraction(1), "metres per second", False),
    "km/h": ("speed", Fraction(1000, 3600), "kilometres per hour", False),
    "mph": ("speed", Fraction("0.44704"), "miles per hour", True),
}
_SIZE = {u: size for u, (_, size, _, _) in UNITS.items()}
_IMPERIAL_FACT = {
    "in": "1 inch = 2.54 cm", "ft": "1 foot = 0.3048 m", "yd": "1 yard = 0.9144 m",
    "mi": "1 mile = 1.609344 km", "oz": "1 ounce = 28.349523125 g", "lb": "1 pound = 0.45359237 kg",
    "mph": "1 mile = 1.609344 km",
}
#: Level 1's conversions: one unit of the first into the second (distinct factors but two pairs).
FIRST_PAIRS = (("km", "m"), ("m", "cm"), ("cm", "mm"), ("kg", "g"), ("h", "min"), ("min", "s"), ("d", "h"),
               ("wk", "d"))
#: Level 1's things, per dimension, and how a sentence gives one its size: so the eight
#: conversions make many distinct prompts (fresh probes stay fresh) without adding work.
_SUBJECTS = {
    "length": (("rope", "road", "ribbon", "fence", "cable", "path", "hose", "wire"), "is {q} long"),
    "mass": (("parcel", "bag of rice", "melon", "cheese", "suitcase", "box of nails", "sack of flour", "pumpkin"),
             "weighs {q}"),
    "time": (("trip", "film", "meeting", "lesson", "nap", "voyage", "concert", "repair"), "takes {q}"),
}
#: The dimensions each step of ``kinds`` adds.
_DIMENSIONS = ("length", "mass", "time", "speed")
#: A quantity's unit is at most this many times smaller than the target unit (no answers that
#: round to 0).
_MAX_SHRINK = 1000


def _fmt(v: float) -> str:
    r = round(v, 2)
    return str(int(r)) if r == int(r) else f"{r:.2f}".rstrip("0")


def _factor(a: str, b: str) -> str:
    """The stated factor between two metric or time units, larger first ('1 h = 60 min')."""
    big, small = (a, b) if _SIZE[a] >= _SIZE[b] else (b, a)
    ratio = _SIZE[big] / _SIZE[small]
    shown = str(ratio.numerator) if ratio.denominator == 1 else str(float(ratio))
    return f"1 {big} = {shown} {small}"


@dataclass(frozen=True)
class UnitConversion(ProbeFamily):
    """Convert a sum of quantities into one unit."""

    name = "unit_conversion"
    skill = "units"
    version = "3"
    top = 70
    grows = "terms"
    formula = (
        "terms = round(1.1**d) (d=1: 1 unit, factor given); kinds = min(4, 1 + d//3); digits = min(6, 1 + d//4); "
        "decimals = min(3, d//5); ratio_digits = min(4, 3 + d//10); factors unstated from d=4; "
        "any direction from d=3"
    )

    def plan(self, difficulty: int) -> dict[str, int]:
        d = difficulty
        return {
            "terms": iround(1.1**d),
            "kinds": min(4, 1 + d // 3),
            "digits": min(6, 1 + d // 4),
            "decimals": min(3, d // 5),
            "unstated": min(1, d // 4),
            "any_direction": min(1, d // 3),
            "ratio_digits": min(4, 3 + d // 10),
        }

    def chance(self, difficulty: int) -> float:
        """Level 1: the share of ``FIRST_PAIRS`` whose factor is the most common one (a blind guess
        of it); above it one-digit or longer values times varied factors leave nothing to guess."""
        if difficulty > 1:
            return 0.0
        factors = [_SIZE[a] / _SIZE[b] for a, b in FIRST_PAIRS]
        return max(factors.count(f) for f in factors) / len(factors)

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        if difficulty == 1:
            src, dst = pick(rng, FIRST_PAIRS)
            exact = _SIZE[src] / _SIZE[dst]
            subject = pick(rng, _SUBJECTS[UNITS[src][0]][0])
            facts = {"parts": [("1", src)], "dst": dst, "exact": float(exact), "factors": [_factor(src, dst)],
                     "whole": True, "subject": subject}
            return Problem(facts=facts, answer=_fmt(float(exact)))
        dims = _DIMENSIONS[: min(4, p["kinds"] + 1)]
        dim = pick(rng, dims)
        pool = [u for u, (dm, _, _, imp) in UNITS.items() if dm == dim and (p["kinds"] >= 4 or not imp)]
        metric = [u for u in pool if not UNITS[u][3]]
        dst = pick(rng, metric)
        grow = 10 ** p["ratio_digits"]
        sources = [
            u for u in pool
            if u != dst and _SIZE[u] * _MAX_SHRINK >= _SIZE[dst] and _SIZE[u] <= grow * _SIZE[dst]
            and (p["any_direction"] or _SIZE[u] > _SIZE[dst])
        ]
        if not sources:  # nothing larger within reach of dst: convert down to the next smaller unit
            dst = max((u for u in metric if _SIZE[u] < _SIZE[dst]), key=lambda u: _SIZE[u])
            sources = [u for u in pool if u != dst and _SIZE[dst] < _SIZE[u] <= grow * _SIZE[dst]]
        digits, decimals = p["digits"], p["decimals"]
        parts: list[tuple[str, str]] = []
        scaled: dict[str, int] = {}  # per unit, the values' sum in units of 10**-decimals
        for _ in range(p["terms"]):
            whole = rng.randint(1 if digits == 1 else 10 ** (digits - 1), 10**digits - 1)
            frac = rng.randint(1, 10**decimals - 1) if decimals else 0
            value = f"{whole}.{frac:0{decimals}d}".rstrip("0") if frac else str(whole)
            unit = pick(rng, sources)
            parts.append((value, unit))
            scaled[unit] = scaled.get(unit, 0) + whole * 10**decimals + frac
        # Exact, and the same Fraction as summing each value's own Fraction, in a few operations.
        total = sum((Fraction(n, 10**decimals) * _SIZE[u] for u, n in scaled.items()), Fraction(0))
        exact = total / _SIZE[dst]
        factors = [] if p["unstated"] else sorted({_factor(u, dst) for _, u in parts if not UNITS[u][3]})
        facts = {"parts": parts, "dst": dst, "exact": float(exact), "factors": factors}
        return Problem(facts=facts, answer=_fmt(float(exact)))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        parts: list[tuple[str, str]] = problem.facts["parts"]
        dst: str = problem.facts["dst"]
        long = novelty in (1, 2)

        def name(u: str) -> str:
            return UNITS[u][2] if long else u

        def num(v: str) -> str:
            return v.replace(".", ",") if novelty == 2 else v

        qty = " plus ".join(f"{num(v)} {name(u)}" for v, u in parts)
        facts = list(problem.facts["factors"]) + sorted({_IMPERIAL_FACT[u] for _, u in parts if u in _IMPERIAL_FACT})
        given = (" Use " + "; ".join(facts) + ".") if facts else ""
        comma = " Numbers are written with a decimal comma." if novelty == 2 and any("." in v for v, _ in parts) else ""
        kind = format_for(novelty, rng)
        # A whole answer (level 1) needs no rounding note: the answer format is the last thing said.
        fmt = answer_instruction(kind, "number") + ("" if problem.facts.get("whole") else
                                                    " Round to 2 decimal places if needed.")
        lead = ""
        if novelty < 3 and "subject" in problem.facts:  # level 1: the thing measured comes first
            lead = f"A {problem.facts['subject']} {_SUBJECTS[UNITS[parts[0][1]][0]][1].format(q=qty)}. "
        if novelty == 0:
            q = f"Convert {qty} to {name(dst)}."
        elif novelty == 1:
            q = f"How many {name(dst)} is {qty}?"
        elif novelty == 2:
            q = f"Express the quantity {qty} in {name(dst)}, giving only the number."
        else:
            q = (f"A caravan master in the desert town of Qalbor records a load as {qty}. The buyer "
                 f"only understands {UNITS[dst][2]}. What figure should the master quote?")
        return Rendering(prompt=f"{lead}{q}{comma}{given} {fmt}", answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        exact = float(item.problem.facts["exact"])
        # 0.005 plus a few float ulps (sums stay below ~1e12, where an ulp is ~1e-4).
        verdict = score_number(response, repr(exact), abs_tol=0.005 + 1e-15 * abs(exact))
        if verdict.extracted is None:
            return verdict
        return Verdict(verdict.score, verdict.extracted, _fmt(float(verdict.extracted)) if
                       math.isfinite(float(verdict.extracted)) else None)
