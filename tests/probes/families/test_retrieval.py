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


def solve_all(lines: list[str], vaults: list[str]) -> tuple[int, list[int]]:
    """The sum of several vaults' codes, each found the careful reader's way, and each chain's hops."""
    found = [solve(lines, v) for v in vaults]
    return sum(code for code, _ in found), [hops for _, hops in found]


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
    assert fam.plan(1) == {"reads": 8, "lines": 8, "hops": 1, "decoys": 0, "corrections": 0, "vaults": 1,
                           "steps": 0}
    for d in fam.levels:
        c = min(d, 35)
        lines = math.floor(8 * 2 ** ((c - 1) / 5))
        vaults = 1 if d <= 35 else min(16, math.floor(2 ** ((d - 35) / 4)))
        steps = 0 if d <= 47 else math.floor(8 * 2 ** ((d - 47) / 5))
        assert fam.plan(d) == {
            "reads": lines * max(vaults, steps),
            "lines": lines,
            "hops": math.ceil(c / 2),
            "decoys": math.floor(lines * min(0.6, (d - 1) / 30)),
            "corrections": max(0, math.floor((d - 9) / 2)),
            "vaults": vaults,
            "steps": steps,
        }
    assert fam.top == 100 and fam.plan(fam.top)["hops"] == 18 and fam.plan(fam.top)["vaults"] == 16
    assert fam.plan(47)["vaults"] == 8 and fam.plan(48)["steps"] == 9 and fam.plan(fam.top)["steps"] == 12416
    # The work doubles every five levels above the calibrated ones.
    assert all(fam.plan(d + 5)["steps"] >= 2 * fam.plan(d)["steps"] - 1 for d in range(48, fam.top - 4))
    assert all(fam.plan(d + 1)["reads"] >= fam.plan(d)["reads"] for d in range(1, fam.top))


def walk_from_prompt(prompt: str) -> int:
    """Answer a walk item from its prompt text alone: parse the context and the rule, follow every chain."""
    m = re.search(r"Number the vaults in this order: (.*?)\. Start with a = (\d+)\. Then for each step "
                  r"i = 1, 2, \.\.\., (\d+): take the vault whose number is a mod (\d+), and set "
                  r"a = \((\d+) \* a \+ that vault's code \+ i\) mod (\d+)\. What is a after step (\d+)\?", prompt)
    assert m, prompt[-800:]
    order = [entry.split()[1] for entry in m[1].split(", ")]
    assert [int(entry.split()[0]) for entry in m[1].split(", ")] == list(range(len(order))) == list(range(int(m[4])))
    body = prompt[: m.start()]
    lines = [re.sub(r"^\[\d{4}\] ", "", x) for x in body.split("\n")]
    if len(lines) < 10:  # novelty 1: one paragraph of sentences
        lines = re.findall(r"(?:The|Box|Correction:)[^.]*?(?:\d+|grams)\.(?= |$)", body.split("\n\n")[1])
    lines = [x for x in lines if re.match(r"(The|Box|Correction)", x) and not x.startswith("The owner")]
    codes = [solve(lines, v)[0] for v in order]
    a, mult, prime = int(m[2]), int(m[5]), int(m[6])
    for i in range(1, int(m[3]) + 1):
        a = (mult * a + codes[a % len(codes)] + i) % prime
    assert int(m[7]) == int(m[3])
    return a


@pytest.mark.parametrize("difficulty", [48, 49, 51, 60, 75, 100])
def test_walk_answers_from_the_prompt(difficulty: int) -> None:
    """Above level 47 an independent reader of the prompt text alone (every novelty) gets the reference."""
    fam = NeedleRetrieval()
    p = fam.plan(difficulty)
    for index in range(2):
        for novelty in range(4):
            it = item(fam, difficulty, novelty, index)
            assert str(walk_from_prompt(it.prompt)) in it.answer
            assert f"..., {p['steps']}:" in it.prompt and f"a mod {p['vaults']}," in it.prompt
    assert fam.chance(difficulty) == pytest.approx(1 / 10007) and fam.chance(47) == 0.0


def test_walk_visits_many_vaults_and_spreads() -> None:
    """The walk reads the codes of most vaults and its answers spread over the residues (no fixed point)."""
    from probes.families.retrieval import walk

    fam = NeedleRetrieval()
    answers = set()
    for index in range(6):
        f = item(fam, 75, index=index).problem.facts
        start, steps = f["walk"]
        seen = set()
        a = start
        for i in range(1, steps + 1):
            seen.add(a % len(f["codes"]))
            a = (31 * a + f["codes"][a % len(f["codes"])] + i) % 10007
        assert a == walk(start, steps, f["codes"]) and len(seen) == len(f["codes"])
        answers.add(a)
    assert len(answers) == 6


@pytest.mark.parametrize("difficulty", [1, 2, 3, 7, 10, 12, 15, 20, 27, 35, 36, 39, 43, 47, 48, 50, 75, 100])
def test_context_follows_the_plan(difficulty: int) -> None:
    fam = NeedleRetrieval()
    p = fam.plan(difficulty)
    for index in range(8):
        it = item(fam, difficulty, index=index)
        f = it.problem.facts
        lines = f["lines"]
        assert len(lines) == p["lines"]
        asked = f.get("asked", [f["vault"]])
        assert len(asked) == len(set(asked)) == p["vaults"]
        assert len(f["chain"]) == p["hops"] * p["vaults"] and f["hops"] == p["hops"]
        assert len(f["corrections"]) == p["corrections"]
        assert sum(x.startswith("Correction") for x in lines) == p["corrections"]
        # One line per chain fact (a corrected one in its stale form), one per decoy.
        assert sum(x.startswith(("Box ", "The code of")) for x in lines) == p["hops"] * p["vaults"] + p["decoys"]
        # An independent reader following the context (with corrections) finds the answer at the planned depth.
        total, hops = solve_all(lines, asked)
        assert hops == [p["hops"]] * p["vaults"]
        assert total == int(it.problem.answer) if not p["steps"] else total == sum(f["codes"])
        if p["vaults"] > 1 and not p["steps"]:
            assert all(v in it.prompt.rsplit("\n", 1)[-1] for v in asked) and "sum of the codes" in it.prompt
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
    # Under ~12k tokens (characters / 4) at every level from the old top up, every novelty.
    for d in (35, 43, 47, 48, 75, fam.top):
        assert max(len(item(fam, d, n, i).prompt) for n in range(4) for i in range(3)) < 48_000


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


#: Version 3 added levels 36..50 (several vaults, the sum of their codes); these pin the ones version 4
#: keeps (36..47, where a frontier model was measured). Level 50's version 3 pin moved to V4_DIGESTS.
V3_DIGESTS = {36: "e611b639c93d5a38deead026b128c4e7", 43: "989055b37a4ae9b50441e29452371d00",
              47: "68d088ceb10c77b25cdfe9cf883f9049"}
#: Version 4 made levels 48..100 a walk over the vaults' codes; these pin it.
V4_DIGESTS = {48: "774d3e072fcf21310696a8f724268576", 50: "8b5704230ad2dbe5b9227107f2ecf3ce",
               75: "88f8a314f8d886c1eb9b7b9c4519600a", 100: "f82c7d7f18b8e08af29257638d4207c9"}


@pytest.mark.parametrize("digests", [V3_DIGESTS, V4_DIGESTS])
def test_version_3_and_4_levels_pinned(digests: dict[int, str]) -> None:
    import hashlib

    fam = NeedleRetrieval()
    assert fam.version == "4"
    for d, expected in digests.items():
        h = hashlib.sha256()
        for i in range(3):
            for n in range(4):
                it = make_item(fam, b"pin-v3-levels", i, d, n)
                h.update(it.prompt.encode() + b"\0" + it.answer.encode() + b"\1")
        assert h.hexdigest()[:32] == expected, d
