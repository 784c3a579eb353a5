"""Verifier and generator tests for the json_output family."""

from __future__ import annotations

import json

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.json_output import JsonOutput

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_json_partial_credit_and_extra_keys() -> None:
    fam = JsonOutput()
    it = item(fam, 4)
    obj = json.loads(it.problem.answer)
    wrong = {**obj, "name": obj["name"] + "x"}
    assert fam.score(it, json.dumps(wrong)).score == pytest.approx((len(obj) - 1) / len(obj))
    extra = {**obj, "colour": "red"}
    assert fam.score(it, json.dumps(extra)).score == pytest.approx(len(obj) / (len(obj) + 1))
    assert fam.score(it, "no json here").score == 0.0


def test_json_booleans_are_not_numbers() -> None:
    fam = JsonOutput()
    it = item(fam, 4)
    obj = json.loads(it.problem.answer)
    flipped = {**obj, "in_stock": int(obj["in_stock"])}
    assert fam.score(it, json.dumps(flipped)).score < 1.0


