"""Verifier and generator tests for the json_output family."""

from __future__ import annotations

import json
import math
import re

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.json_output import BASE_FIELDS, DERIVED, EXTRA_FIELDS, MORE_FIELDS, JsonOutput

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
    it = item(fam, 5)
    obj = json.loads(it.problem.answer)
    flipped = {**obj, "in_stock": int(obj["in_stock"])}
    assert fam.score(it, json.dumps(flipped)).score < 1.0


def test_plan_formula() -> None:
    fam = JsonOutput()
    assert fam.plan(1) == {"fields": 1, "amendments": 0, "worded": 0, "derived": 0}
    assert fam.plan(30) == {"fields": 40, "amendments": 80, "worded": 14, "derived": 3}
    assert fam.plan(30)["fields"] == len(BASE_FIELDS) + len(EXTRA_FIELDS)
    assert fam.plan(fam.top) == {"fields": 113, "amendments": 640, "worded": 21, "derived": 3}
    assert fam.plan(fam.top)["fields"] <= len(BASE_FIELDS) + len(EXTRA_FIELDS) + len(MORE_FIELDS)
    for d in fam.levels:
        assert fam.plan(d) == {
            "fields": d if d <= 10 else math.floor(10 * 2 ** ((d - 10) / 10)),
            "amendments": max(0, d - 5) if d <= 10 else math.floor(5 * 2 ** ((d - 10) / 5)),
            "worded": max(0, (d - 2) // 2),
            "derived": (d >= 9) + (d >= 15) + (d >= 20),
        }


@pytest.mark.parametrize("difficulty", [1, 2, 5, 6, 9, 10, 15, 20, 25, 30])
def test_problem_follows_the_plan(difficulty: int) -> None:
    fam = JsonOutput()
    p = fam.plan(difficulty)
    for index in range(10):
        it = item(fam, difficulty, index=index)
        f = it.problem.facts
        obj = json.loads(it.problem.answer)
        derived = [k for k, _ in DERIVED[: p["derived"]]]
        assert len(f["keys"]) == p["fields"] == len(set(f["keys"]))
        assert set(obj) == set(f["keys"]) | set(derived)
        assert [k for k, _, _ in BASE_FIELDS[: p["fields"]]] == f["keys"][: len(BASE_FIELDS)]
        assert len(f["log"]) == p["amendments"]
        assert len(f["worded"]) <= p["worded"]
        assert re.findall(r"^Update (\d+):", it.prompt, re.M) == [str(i) for i in range(1, p["amendments"] + 1)]
        assert all(f'"{k}":' in it.prompt for k in obj)
        if "total_cents" in obj:
            assert obj["total_cents"] == obj["price_cents"] * obj["quantity"]
        if "total_parts" in obj:
            assert obj["total_parts"] == sum(v for k, v in obj.items() if k.endswith("_count"))
        if "features_on" in obj:
            assert obj["features_on"] == sum(1 for k, v in obj.items() if k.startswith("has_") and v)


def _replay(initial: dict[str, object], log: list[str]) -> dict[str, object]:
    """Apply the log lines as a reader would, from their wording alone."""
    nouns = {"the price in cents": "price_cents", "the warehouse stock": "quantity"}
    obj = dict(initial)
    for line in log:
        if m := re.fullmatch(r"(.+) (went up|went down) by (\d+)", line):
            key = nouns.get(m[1]) or m[1].removeprefix("the number of ") + "_count"
            obj[key] = int(obj[key]) + (int(m[3]) if m[2] == "went up" else -int(m[3]))  # type: ignore[call-overload]
        elif m := re.fullmatch(r"(.+) doubled", line):
            key = nouns.get(m[1]) or m[1].removeprefix("the number of ") + "_count"
            obj[key] = 2 * int(obj[key])  # type: ignore[call-overload]
        elif m := re.fullmatch(r"a (\w+) was (added|removed)", line):
            obj["has_" + m[1]] = m[2] == "added"
        elif m := re.fullmatch(r"it is now (in|out of) stock", line):
            obj["in_stock"] = m[1] == "in"
        elif m := re.fullmatch(r"it is now made by (.+)", line):
            obj["maker"] = m[1]
        elif m := re.fullmatch(r"it is now assembled in (.+)", line):
            obj["origin"] = m[1]
        else:
            m = re.fullmatch(r"its (\w+) is now (.+)", line)
            assert m, line
            obj[m[1]] = m[2]
    return obj


@pytest.mark.parametrize("difficulty", [6, 10, 20, 30])
def test_the_object_is_the_end_state_of_the_log(difficulty: int) -> None:
    fam = JsonOutput()
    for index in range(10):
        it = item(fam, difficulty, index=index)
        f = it.problem.facts
        obj = json.loads(it.problem.answer)
        end = _replay(f["initial"], f["log"])
        assert {k: obj[k] for k in f["keys"]} == end
        assert all(isinstance(v, int) and v >= 0 for k, v in end.items() if k.endswith(("_count", "_cents")))


def test_level_one_is_one_copied_string() -> None:
    fam = JsonOutput()
    it = item(fam, 1)
    obj = json.loads(it.problem.answer)
    assert list(obj) == ["name"] and obj["name"] in it.prompt
    assert fam.score(it, json.dumps(obj)).score == 1.0


def test_extended_levels_stay_bounded_and_use_material_counts() -> None:
    fam = JsonOutput()
    more = {k for k, _, _ in MORE_FIELDS}
    old = {k for i in range(20) for k in make_item(fam, SALT, i, OLD_TOP, 0).problem.facts["keys"]}
    assert not old & more
    for n in range(4):
        it = make_item(fam, SALT, 3, fam.top, n)
        assert len(it.prompt) < 45_000 and set(it.problem.facts["keys"]) & more
        assert fam.score(it, it.answer).score == 1.0


OLD_TOP = 30  # the top before the scale was extended: levels 1..OLD_TOP stay byte-identical


def test_old_levels_are_byte_identical() -> None:
    """Items at levels 1, 10 and the old top, and every old plan, hash as before the extension."""
    import hashlib
    import json

    from probes.base import make_item as _make
    from probes.families.json_output import JsonOutput as _Family

    family = _Family()
    h = hashlib.sha256()
    for d in (1, 10, OLD_TOP):
        for i in range(3):
            for n in range(4):
                it = _make(family, b"pin-old-levels", i, d, n)
                h.update(it.prompt.encode() + b"\0" + it.answer.encode() + b"\1")
    assert h.hexdigest() == "dcc1e2782714d0de33b3470bb3f53bd5391c634a3750a8b55f820e065d63a74f"
    old_keys = ('fields', 'amendments', 'worded', 'derived')  # keys added above the old top are 0 below it
    plans = json.dumps([{k: family.plan(d)[k] for k in old_keys} for d in range(1, OLD_TOP + 1)])
    digest = hashlib.sha256(plans.encode()).hexdigest()
    assert digest == "3902177b5c458cd6d85875c82eb021b93096babf262c3d88ae7b221866b1fba6"
