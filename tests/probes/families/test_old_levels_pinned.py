"""Raising a family's top must leave every level up to the old top exactly as it was.

The low levels are calibrated on a real model, so their plans and items are pinned: a hash of
``make_item`` prompts and answers at levels 1, 10 and the old top (three items, every novelty),
and a hash of every old level's plan over the old keys; keys added above the old top are 0 below.
The hashes were taken from the generators before their tops were raised, except where a family
changed its level 1 on purpose (generator version 3 of unit_conversion and word_problem: the
smallest instance, so SmolLM2-135M passes it): their items hash was retaken then, with every
level from 2 to the top checked byte-identical to version 2 (plans unchanged).
"""

from __future__ import annotations

import hashlib
import json

import pytest

from probes.base import ProbeFamily, make_item
from probes.families.arithmetic import Arithmetic
from probes.families.composition import Composition
from probes.families.dates import DateArithmetic
from probes.families.linear_equation import LinearEquation
from probes.families.units import UnitConversion
from probes.families.word_problem import WordProblem

SALT = b"old-levels-pin"

#: name -> (old top, old plan keys, items hash, plans hash).
PINNED: dict[str, tuple[int, tuple[str, ...], str, str]] = {
    "arithmetic": (
        30, ("digits", "operands", "products", "minus", "brackets"),
        "2fbca2e8d9197dcc74e6ef5954719d4140da79f47b4d8e6f0875a226ec637b05",
        "f96ccf18db9172c2239a5292141aeff485721ec65f8d85ba67f2c7f7714c7096",
    ),
    "composition": (
        35, ("stages", "operands", "digits", "products", "modulus"),
        "9615b0b3f99b7c8efb19e3cd55cd63bc2e784fc4f9bc4150e975d191022a480d",
        "60e4359f771aec50ff8c650feab3976a755765c8c1e812bc18556e219ecd0d63",
    ),
    "date_arithmetic": (
        40, ("steps", "span", "kinds", "cross"),
        "02d8b980cad467c18ba72fe6d72159aeacb597ce6250e791ee8f74cbfbfeb313",
        "e237ea9f9b820f4a654b3004c8429b4896a88b27eb81ad33bb865cabf8d4a872",
    ),
    "linear_equation": (
        36, ("unknowns", "coef", "solution", "negative", "both_sides"),
        "489d04cc07524e66f8a1c587a753ead68d4f7a4e870ee2a19a137ec46854d55d",
        "970a339e4dc6dd711ac175e536fa59451d07aa8a551e32846bcded9007ef9621",
    ),
    "unit_conversion": (
        40, ("terms", "kinds", "digits", "decimals", "unstated", "any_direction", "ratio_digits"),
        "a4635b061acb01431125d9aaaf7fc5e39f9edb8f5355ff738c41b1d2a0ca7375",  # v3: level 1 is 1 unit
        "2da2a2f2b8b155e146f61a8413babe7c9533fcc5dc9a4cec7a8a4c85ea5ff446",
    ),
    "word_problem": (
        40, ("events", "people", "amount", "kinds", "price"),
        "5637fed05c8452eb7d56b0563b5a54244e1c9a0badada87501a0b6acf78679ea",  # v3: level 1 gets 1 more
        "4de30a8ae0a9f19ffbfb2a7e019040e31dc0533f72eab7d19c6f1fa270f0497f",
    ),
}

FAMILIES: list[ProbeFamily] = [
    Arithmetic(), Composition(), DateArithmetic(), LinearEquation(), UnitConversion(), WordProblem(),
]


@pytest.mark.parametrize("family", FAMILIES, ids=[f.name for f in FAMILIES])
def test_old_levels_are_byte_identical(family: ProbeFamily) -> None:
    old_top, keys, items_hash, plans_hash = PINNED[family.name]
    assert family.top >= old_top
    h = hashlib.sha256()
    for d in (1, 10, old_top):
        for i in range(3):
            for n in range(4):
                it = make_item(family, SALT, i, d, n)
                h.update(f"{d}|{i}|{n}|{it.prompt}|{it.answer}\n".encode())
    assert h.hexdigest() == items_hash
    plans = [family.plan(d) for d in range(1, old_top + 1)]
    old = [{k: p[k] for k in keys} for p in plans]
    assert hashlib.sha256(json.dumps(old).encode()).hexdigest() == plans_hash
    assert all(v == 0 for p in plans for k, v in p.items() if k not in keys), "new keys switch on above the old top"
