"""Verifier and generator tests for the retrieval family."""

from __future__ import annotations

import math
import re

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.retrieval import NeedleRetrieval
from probes.registry import builtin_registry

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def solve(lines: list[str], vault: str) -> tuple[int, int]:
    """Follow the chain the way a careful reader would: later corrections win. (code, hops)."""
    start: dict[str, str] = {}
    ptr: dict[str, str] = {}
    num: dict[str, str] = {}
    for line in lines:
        if m := re.fullmatch(r"The code of the (\w+) vault is (\d+)\.", line):
            num["vault:" + m[1]] = m[2]
        elif m := re.fullmatch(r"The code of the (\w+) vault is kept in box (\d+)\.", line):
            start[m[1]] = m[2]
        elif m := re.fullmatch(r"Box (\d+) holds a note pointing to box (\d+)\.", line):
            ptr[m[1]] = m[2]
        elif m := re.fullmatch(r"Box (\d+) contains the number (\d+)\.", line):
            num[m[1]] = m[2]
        elif m := re.fullmatch(r"Correction: the code of the (\w+) vault is kept in box (\d+), not in box \d+\.", line):
            start[m[1]] = m[2]
        elif m := re.fullmatch(r"Correction: the note in box (\d+) points to box (\d+), not to box \d+\.", line):
            ptr[m[1]] = m[2]
        elif m := re.fullmatch(r"Correction: box (\d+) contains the number (\d+), not \d+\.", line):
            num[m[1]] = m[2]
        else:
            assert re.fullmatch(r"The \w+ \w+ in the \w+ weighs \d+ grams\.", line), line
    if "vault:" + vault in num:
        return int(num["vault:" + vault]), 1
    box, hops = start[vault], 1
    while box in ptr:
        box, hops = ptr[box], hops + 1
    return int(num[box]), hops + 1


def test_plan_formula() -> None:
    fam = NeedleRetrieval()
    assert fam.plan(1) == {"lines": 8, "hops": 1, "decoys": 0, "corrections": 0}
    for d in fam.levels:
        lines = math.floor(8 * 2 ** ((d - 1) / 5))
        assert fam.plan(d) == {
            "lines": lines,
            "hops": math.ceil(d / 2),
            "decoys": math.floor(lines * min(0.6, (d - 1) / 30)),
            "corrections": max(0, math.floor((d - 9) / 2)),
        }
    assert fam.plan(fam.top)["hops"] == 18


@pytest.mark.parametrize("difficulty", [1, 2, 3, 7, 10, 12, 15, 20, 27, 35])
def test_context_follows_the_plan(difficulty: int) -> None:
    fam = NeedleRetrieval()
    p = fam.plan(difficulty)
    for index in range(8):
        it = item(fam, difficulty, index=index)
        f = it.problem.facts
        lines = f["lines"]
        assert len(lines) == p["lines"]
        assert len(f["chain"]) == p["hops"] == f["hops"]
        assert len(f["corrections"]) == p["corrections"]
        assert sum(x.startswith("Correction") for x in lines) == p["corrections"]
        # One line per chain fact (a corrected one in its stale form), one per decoy.
        assert sum(x.startswith(("Box ", "The code of")) for x in lines) == p["hops"] + p["decoys"]
        # An independent reader following the context (with corrections) finds the answer at the planned depth.
        assert solve(lines, f["vault"]) == (int(it.problem.answer), p["hops"])
        # Every correction comes after the line it overrules.
        for old, new in zip(f["stale"], f["corrections"], strict=True):
            assert lines.index(old) < lines.index(new)
        assert all(line in it.prompt for line in lines)


def test_decoys_look_like_chain_boxes() -> None:
    fam = NeedleRetrieval()
    it = item(fam, 20)
    chain_boxes = {b for line in it.problem.facts["chain"] for b in re.findall(r"box (\d+)", line, re.I)}
    others = {b for line in it.problem.facts["lines"] for b in re.findall(r"Box (\d+)", line)} - chain_boxes

    def near(a: str, b: str) -> bool:
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 2

    assert sum(any(near(o, c) for c in chain_boxes) for o in others) >= len(others) // 3


def test_top_level_prompt_size() -> None:
    fam = NeedleRetrieval()
    assert max(len(item(fam, fam.top, n, i).prompt) for n in range(4) for i in range(3)) < 64_000


def test_needle_at_level_one_is_stated() -> None:
    fam = builtin_registry().get("needle_retrieval")
    it = item(fam, 1)
    assert it.problem.facts["chain"] == [f"The code of the {it.problem.facts['vault']} vault is {it.problem.answer}."]


OLD_TOP = 35  # the top before the scale was extended: levels 1..OLD_TOP stay byte-identical


def test_old_levels_are_byte_identical() -> None:
    """Items at levels 1, 10 and the old top, and every old plan, hash as before the extension."""
    import hashlib
    import json

    from probes.base import make_item as _make
    from probes.families.retrieval import NeedleRetrieval as _Family

    family = _Family()
    h = hashlib.sha256()
    for d in (1, 10, OLD_TOP):
        for i in range(3):
            for n in range(4):
                it = _make(family, b"pin-old-levels", i, d, n)
                h.update(it.prompt.encode() + b"\0" + it.answer.encode() + b"\1")
    assert h.hexdigest() == "4e4eb8d4a68bf3c831e3f1bb2a7bfa1ffb1e43b39518d466ca533a9dec9bd62b"
    old_keys = ('lines', 'hops', 'decoys', 'corrections')  # keys added above the old top are 0 below it
    plans = json.dumps([{k: family.plan(d)[k] for k in old_keys} for d in range(1, OLD_TOP + 1)])
    digest = hashlib.sha256(plans.encode()).hexdigest()
    assert digest == "c4366ee3a3af4d0c1ec3c036b45f9a62d388727398c826f732be322a1a88a6a5"
