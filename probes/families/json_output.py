"""Structured output: a JSON object that matches a generated schema and the stated facts.

What grows (``plan``): the number of stated fields (``fields = d`` up to level 10, then doubling
every ten levels, 40 at the top level 30: the ten classic product fields of every type, then
part counts, ``has_*`` flags and people), the ``amendments`` that later change a field
(``max(0, d-5)`` to level 10, then doubling every five levels: 80 at the top, several on the
same field, so the object is the end state of a log), the integers stated in words
(``worded = max(0, (d-2)//2)``) and ``derived`` keys (from level 9 ``total_cents`` = price x
quantity, from 15 ``total_parts`` = the sum of every ``*_count``, from 20 ``features_on`` = the
number of true ``has_*`` flags). Level 1 is one string field copied from one sentence. Level
30 (the top before the scale was extended, unchanged since) states all 40 classic fields with
80 amendments. Above it the same formulas continue to the top level 45: 113 fields, drawn also
from part counts by material (``brass_gears_count`` beside ``gears_count``: near-twin names a
log line must be matched to word for word), and 640 amendments (~40k characters), so the object
is the end state of a long log and ``total_parts`` sums ~90 amended counts exactly.
Partial credit (documented): the score is the fraction of required fields whose value and type
are right; any key outside the schema counts as one more wrong field; a reply with no JSON
object scores 0. Only a perfect object passes. ``Verdict.canonical`` is the object restricted to
the schema's keys, serialised with sorted keys.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import ODD_NAMES, number_words, pick
from probes.extract import extract_json

#: Assembly towns (the same invented names the graph families use; kept here so this module stands alone).
TOWNS = (
    "Ardel", "Brisk", "Corvan", "Dunmere", "Eskor", "Fallow", "Grint", "Holm", "Ister", "Jarro",
    "Kelm", "Lorn", "Mardle", "Nisk", "Ostry", "Pell", "Quarn", "Rusk", "Sable", "Tarn", "Ulm",
    "Vesk", "Wold", "Yarl",
)
_SYL = ("ka", "lo", "mi", "zu", "ter", "van", "qui", "dro", "pel", "sha")
_COLOURS = ("amber", "cobalt", "crimson", "ivory", "jade", "ochre", "slate", "teal")
_PARTS = ("screws", "buttons", "hinges", "gears", "springs", "valves", "dials", "levers", "wheels", "pins",
          "latches", "knobs", "fans", "lamps", "ports")
_FEATURES = ("timer", "lid", "handle", "battery", "remote", "display", "alarm", "lock", "clip", "stand")
_ROLES = ("designer", "inspector", "tester", "packer", "courier")
# Field: (key, type description, fact sentence template).
BASE_FIELDS = (
    ("name", "string", "The gadget is called {v}."),
    ("maker", "string", "It is made by {v}."),
    ("price_cents", "integer", "It costs {v} cents."),
    ("quantity", "integer", "The warehouse holds {v} of them."),
    ("in_stock", "boolean", "It is {v}."),
    ("weight_kg", "number", "Each one weighs {v} kg."),
    ("rating", "integer", "Reviewers give it {v} stars out of 5."),
    ("origin", "string", "It is assembled in {v}."),
    ("colours", "array of strings in alphabetical order", "It comes in {v}."),
    ("size", 'object {"width_cm": integer, "height_cm": integer}', "It is {w} cm wide and {h} cm high."),
)
EXTRA_FIELDS = (
    *((f"{p}_count", "integer", f"It has {{v}} {p}.") for p in _PARTS),
    *((f"has_{x}", "boolean", f"It has {{v}} {x}.") for x in _FEATURES),
    *((r, "string", f"Its {r} is {{v}}.") for r in _ROLES),
)
#: The top before the scale was extended: levels up to here draw only from EXTRA_FIELDS, unchanged.
OLD_TOP = 30
_MATERIALS = ("brass", "steel", "oak", "glass", "copper", "bone", "tin", "clay")
#: Fields that come in above the old top: part counts by material ("brass_gears_count"), near-twins
#: of the plain part counts, so a log line must be matched to its field word for word.
MORE_FIELDS = tuple((f"{m}_{p}_count", "integer", f"It has {{v}} {m} {p}.") for m in _MATERIALS for p in _PARTS)
FIELDS = BASE_FIELDS + EXTRA_FIELDS + MORE_FIELDS
_TYPES = {k: t for k, t, _ in FIELDS}
_TEMPLATES = {k: s for k, _, s in FIELDS}
#: Derived keys in the order the levels bring them in, with their schema description.
DERIVED = (
    ("total_cents", "integer, the final price times the final quantity"),
    ("total_parts", "integer, the sum of all the *_count values in this object (0 if none)"),
    ("features_on", "integer, how many has_* values in this object are true (0 if none)"),
)
_DERIVED_FROM = (9, 15, 20)
#: Integer fields an amendment may raise or lower, and how the log names them.
_NOUNS = {"price_cents": "the price in cents", "quantity": "the warehouse stock",
          **{f"{p}_count": f"the number of {p}" for p in _PARTS},
          **{f"{m}_{p}_count": f"the number of {m} {p}" for m in _MATERIALS for p in _PARTS}}


def _geo(d: int, at10: int, per: int) -> int:
    return int(at10 * 2 ** ((d - 10) / per))


def plan_at(d: int) -> dict[str, int]:
    """The size parameters at level ``d`` (see the module docstring)."""
    return {
        "fields": d if d <= 10 else _geo(d, 10, 10),
        "amendments": max(0, d - 5) if d <= 10 else _geo(d, 5, 5),
        "worded": max(0, (d - 2) // 2),
        "derived": sum(d >= start for start in _DERIVED_FROM),
    }


def _value(rng: random.Random, key: str) -> Any:
    if key == "name":
        return "".join(pick(rng, _SYL) for _ in range(3)).capitalize()
    if key == "maker":
        return pick(rng, ODD_NAMES) + " Works"
    if key in _ROLES:
        return pick(rng, ODD_NAMES)
    if key == "price_cents":
        return rng.randint(100, 99999)
    if key == "quantity":
        return rng.randint(2, 500)
    if key == "in_stock" or key.startswith("has_"):
        return rng.random() < 0.5
    if key == "weight_kg":
        return rng.randint(1, 200) / 10
    if key == "rating":
        return rng.randint(1, 5)
    if key.endswith("_count"):
        return rng.randint(1, 40)
    if key == "origin":
        return pick(rng, TOWNS)
    if key == "colours":
        return sorted(rng.sample(_COLOURS, rng.randint(2, 4)))
    return {"width_cm": rng.randint(5, 200), "height_cm": rng.randint(5, 200)}


def _fact(key: str, v: Any, worded: bool) -> str:
    template = _TEMPLATES[key]
    if key == "in_stock":
        return template.format(v="in stock" if v else "out of stock")
    if key.startswith("has_"):
        return template.format(v="a" if v else "no")
    if key == "colours":
        return template.format(v=", ".join(reversed(v[1:])) + " and " + v[0])
    if key == "size":
        return template.format(w=v["width_cm"], h=v["height_cm"])
    return template.format(v=number_words(v) if worded else v)


def _amend(rng: random.Random, obj: dict[str, Any], key: str) -> str:
    """Change ``obj[key]`` in place and return the log line that says so."""
    if key in _NOUNS:
        old = obj[key]
        roll = rng.random()
        if roll < 0.15 and old < 10**6:
            obj[key] = old * 2
            return f"{_NOUNS[key]} doubled"
        k = rng.randint(1, max(1, min(old - 1, 50 if key != "price_cents" else 5000)))
        if roll < 0.55 and old > k:
            obj[key] = old - k
            return f"{_NOUNS[key]} went down by {k}"
        obj[key] = old + k
        return f"{_NOUNS[key]} went up by {k}"
    if key == "in_stock":
        obj[key] = not obj[key]
        return "it is now " + ("in stock" if obj[key] else "out of stock")
    if key.startswith("has_"):
        obj[key] = not obj[key]
        return f"a {key[4:]} was " + ("added" if obj[key] else "removed")
    new = obj[key]
    while new == obj[key]:
        new = _value(rng, key)
    obj[key] = new
    if key == "maker":
        return f"it is now made by {new}"
    if key == "origin":
        return f"it is now assembled in {new}"
    return f"its {key} is now {new}"


def _same(a: Any, b: Any) -> bool:
    # bool is an int in Python, but not in JSON: true must not match 1.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(b))
    return type(a) is type(b) and a == b


@dataclass(frozen=True)
class JsonOutput(ProbeFamily):
    """Produce a JSON object matching a schema and a set of facts."""

    name = "json_output"
    skill = "structured_output"
    version = "2"
    top = 45
    grows = "fields"
    formula = ("fields = d to d=10, then floor(10 * 2**((d-10)/10)); amendments = max(0, d-5) to d=10, "
               "then floor(5 * 2**((d-10)/5)); worded = max(0, (d-2)//2); derived = [d>=9] + [d>=15] + [d>=20]; "
               "above d=30 fields include material part counts")

    def plan(self, difficulty: int) -> dict[str, int]:
        return plan_at(difficulty)

    def chance(self, difficulty: int) -> float:
        return 0.0

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        p = self.plan(difficulty)
        count = p["fields"]
        keys = [k for k, _, _ in BASE_FIELDS[:count]]
        extra = EXTRA_FIELDS if difficulty <= OLD_TOP else EXTRA_FIELDS + MORE_FIELDS
        keys += [k for k, _, _ in rng.sample(extra, max(0, count - len(BASE_FIELDS)))]
        obj = {key: _value(rng, key) for key in keys}
        small = [k for k in keys if _TYPES[k] == "integer" and obj[k] < 1000]
        worded = sorted(rng.sample(small, min(len(small), p["worded"])))
        stated = [_fact(k, obj[k], k in worded) for k in keys]
        initial = json.loads(json.dumps(obj))
        amendable = [k for k in keys if k in _NOUNS or (_TYPES[k] in ("boolean", "string") and k != "name")]
        log = [_amend(rng, obj, pick(rng, amendable)) for _ in range(p["amendments"] if amendable else 0)]
        derived = [k for k, _ in DERIVED[: p["derived"]]]
        if "total_cents" in derived:
            obj["total_cents"] = obj["price_cents"] * obj["quantity"]
        if "total_parts" in derived:
            obj["total_parts"] = sum(v for k, v in obj.items() if k.endswith("_count"))
        if "features_on" in derived:
            obj["features_on"] = sum(v is True for k, v in obj.items() if k.startswith("has_"))
        return Problem(facts={"obj": obj, "keys": keys, "stated": stated, "log": log, "derived": derived,
                              "worded": worded, "initial": initial},
                       answer=json.dumps(obj, sort_keys=True))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        f = problem.facts
        keys, derived_keys = f["keys"], f["derived"]
        facts = list(f["stated"])
        derived = dict(DERIVED)
        schema = [f'"{k}": {_TYPES[k]}' for k in keys] + [f'"{k}": {derived[k]}' for k in derived_keys]
        if novelty >= 1:
            rng.shuffle(facts)
        if novelty == 2:
            facts.insert(rng.randint(0, len(facts)), "Its box is recyclable, which the catalogue ignores.")
        updates = [f"Update {i}: {line}." for i, line in enumerate(f["log"], 1)]
        later = ("\nLater updates, in order (the JSON object must describe the product after all of them):\n"
                 + "\n".join(updates)) if updates else ""
        listed = "\n".join(f"- {s}" for s in schema)
        fmt = "Reply with only the JSON object, with exactly these keys and no others."
        if novelty == 3:
            rows = "\n".join(f"| {i} | {x} |" for i, x in enumerate(facts, 1))
            prompt = (f"An inventory clerk in a sky-city market copied these notes:\n| note | text |\n"
                      f"|---|---|\n{rows}{later}\nThe market's ledger accepts a JSON object with the keys:\n"
                      f"{listed}\nWrite the ledger entry between <answer> and </answer> as a JSON object, "
                      f"with exactly these keys and no others.")
            return Rendering(prompt=prompt, answer=f"<answer>{problem.answer}</answer>")
        lead = ("Facts about a product:" if novelty == 0 else "Here is what we know about an item:")
        prompt = (f"{lead}\n" + "\n".join(facts) + f"{later}\nProduce a JSON object with these keys:\n"
                  f"{listed}\n{fmt}")
        return Rendering(prompt=prompt, answer=problem.answer)

    def score(self, item: Item, response: str) -> Verdict:
        expected: dict[str, Any] = json.loads(item.problem.answer)
        got = extract_json(response)
        if not isinstance(got, dict):
            return Verdict(0.0, None, None)
        right = sum(1 for k, v in expected.items() if k in got and _same(got[k], v))
        extra = 1 if set(got) - set(expected) else 0
        canonical = json.dumps({k: got[k] for k in expected if k in got}, sort_keys=True)
        return Verdict(right / (len(expected) + extra), json.dumps(got, sort_keys=True)[:2000], canonical)
