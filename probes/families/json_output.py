"""Structured output: a JSON object that matches a generated schema and the stated facts.

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
from probes.common import ODD_NAMES, pick
from probes.extract import extract_json
from probes.families.graph_path import TOWNS

_SYL = ("ka", "lo", "mi", "zu", "ter", "van", "qui", "dro", "pel", "sha")
_COLOURS = ("amber", "cobalt", "crimson", "ivory", "jade", "ochre", "slate", "teal")
# Field: (key, type description, fact sentence template).
_FIELDS = (
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
# Fields used per level (by position in _FIELDS) and whether a derived total is asked.
_PLAN = {
    1: (2, False), 2: (3, False), 3: (4, False), 4: (5, False), 5: (6, False), 6: (7, False),
    7: (9, False), 8: (10, False), 9: (8, True), 10: (10, True),
}


def _value(rng: random.Random, key: str) -> Any:
    if key == "name":
        return "".join(pick(rng, _SYL) for _ in range(3)).capitalize()
    if key == "maker":
        return pick(rng, ODD_NAMES) + " Works"
    if key == "price_cents":
        return rng.randint(100, 99999)
    if key == "quantity":
        return rng.randint(2, 500)
    if key == "in_stock":
        return rng.random() < 0.5
    if key == "weight_kg":
        return rng.randint(1, 200) / 10
    if key == "rating":
        return rng.randint(1, 5)
    if key == "origin":
        return pick(rng, TOWNS)
    if key == "colours":
        return sorted(rng.sample(_COLOURS, rng.randint(2, 4)))
    return {"width_cm": rng.randint(5, 200), "height_cm": rng.randint(5, 200)}


def _fact(template: str, key: str, v: Any) -> str:
    if key == "in_stock":
        return template.format(v="in stock" if v else "out of stock")
    if key == "colours":
        return template.format(v=", ".join(reversed(v[1:])) + " and " + v[0])
    if key == "size":
        return template.format(w=v["width_cm"], h=v["height_cm"])
    return template.format(v=v)


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
    version = "1"
    levels = (
        "2 string fields",
        "3 fields, adds an integer",
        "4 fields",
        "5 fields, adds a boolean",
        "6 fields, adds a decimal number",
        "7 fields",
        "9 fields, adds a sorted string array",
        "10 fields, adds a nested object",
        "8 fields plus a derived total (quantity x price)",
        "10 fields, nested object and a derived total",
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        count, derived = _PLAN[difficulty]
        fields = list(_FIELDS[:count])
        obj = {key: _value(rng, key) for key, _, _ in fields}
        if derived:
            obj["total_cents"] = obj["price_cents"] * obj["quantity"]
        return Problem(facts={"obj": obj, "keys": [k for k, _, _ in fields], "derived": derived},
                       answer=json.dumps(obj, sort_keys=True))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        obj, keys = problem.facts["obj"], problem.facts["keys"]
        types = {k: t for k, t, _ in _FIELDS}
        facts = [_fact(t, k, obj[k]) for k, _, t in _FIELDS if k in keys]
        schema = [f'"{k}": {types[k]}' for k in keys]
        if problem.facts["derived"]:
            schema.append('"total_cents": integer, the price times the quantity')
        if novelty >= 1:
            rng.shuffle(facts)
        if novelty == 2:
            facts.insert(rng.randint(0, len(facts)), "Its box is recyclable, which the catalogue ignores.")
        listed = "\n".join(f"- {s}" for s in schema)
        fmt = "Reply with only the JSON object, with exactly these keys and no others."
        if novelty == 3:
            rows = "\n".join(f"| {i} | {f} |" for i, f in enumerate(facts, 1))
            prompt = (f"An inventory clerk in a sky-city market copied these notes:\n| note | text |\n"
                      f"|---|---|\n{rows}\nThe market's ledger accepts a JSON object with the keys:\n"
                      f"{listed}\nWrite the ledger entry between <answer> and </answer> as a JSON object, "
                      f"with exactly these keys and no others.")
            return Rendering(prompt=prompt, answer=f"<answer>{problem.answer}</answer>")
        lead = ("Facts about a product:" if novelty == 0 else "Here is what we know about an item:")
        prompt = f"{lead}\n" + "\n".join(facts) + f"\nProduce a JSON object with these keys:\n{listed}\n{fmt}"
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
