"""Verifier and generator tests for the instructions family."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest

from probes.base import Item, ProbeFamily, make_item
from probes.families.instructions import REPEATED_FROM, SINGLE_FROM, InstructionFollowing, check

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_instruction_constraints() -> None:
    assert check(("words", 3), "one two three")
    assert not check(("words", 3), "one two")
    assert check(("include", "moon"), "the Moon rises")
    assert not check(("forbid", "e"), "tree")
    assert check(("start", "blue"), "Blue sky")
    assert check(("end", "owl"), "an owl")
    assert not check(("lower", ""), "Hello")
    assert check(("maxlen", 4), "tiny word")
    assert check(("position", 2, "owl"), "an owl sat")
    assert not check(("position", 4, "owl"), "an owl sat")
    assert check(("count", "owl", 2), "owl and OWL")
    assert not check(("count", "owl", 1), "owl and owl")
    assert check(("before", "an", "owl"), "an owl an")
    assert not check(("before", "owl", "an"), "an owl an")
    assert not check(("before", "cat", "an"), "an owl")
    assert check(("letters", "o", 3), "Owl or cow")
    assert not check(("letters", "o", 2), "Owl or cow")
    assert check(("only", "cow owl", ""), "Owl cow owl") and not check(("only", "cow owl", ""), "owl or cow")
    assert not check(("only", "cow", ""), "")
    assert check(("initial", 2, "o"), "a Owl b") and not check(("initial", 3, "o"), "a owl b")
    assert not check(("initial", 4, "b"), "a owl b")


def test_instruction_partial_credit() -> None:
    fam = InstructionFollowing()
    it = item(fam, 6)
    constraints = it.problem.facts["constraints"]
    words = it.problem.answer.split()
    shorter = " ".join(words[:-1])
    verdict = fam.score(it, "Answer: " + shorter)
    broken = [c for c in constraints if not check(c, shorter)]
    assert ("words", len(words), "") in broken  # the word count always breaks
    assert verdict.score == pytest.approx(1 - len(broken) / len(constraints))
    assert 0.0 < verdict.score < 1.0
    assert verdict.canonical is not None and verdict.canonical.count("0") == len(broken)


def test_plan_formula() -> None:
    fam = InstructionFollowing()
    assert fam.plan(1) == {"constraints": 1, "words": 1, "forbidden_letters": 0}
    assert fam.plan(30) == {"constraints": 44, "words": 59, "forbidden_letters": 4}
    assert fam.plan(40) == {"constraints": 88, "words": 59, "forbidden_letters": 4}
    assert fam.top == 80 and fam.plan(fam.top) == {"constraints": 1408, "words": 59, "forbidden_letters": 4}
    for d in fam.levels:
        assert fam.plan(d) == {
            "constraints": 1 if d == 1 else d + 1 if d <= 10 else math.floor(11 * 2 ** ((d - 10) / 10)),
            "words": min(2 * d - 1, 59),
            "forbidden_letters": min(4, d // 4),
        }


@pytest.mark.parametrize("difficulty", [1, 2, 3, 4, 7, 8, 10, 12, 14, 20, 30])
def test_problem_follows_the_plan(difficulty: int) -> None:
    fam = InstructionFollowing()
    p = fam.plan(difficulty)
    for index in range(15):
        it = item(fam, difficulty, index=index)
        constraints = it.problem.facts["constraints"]
        kinds = Counter(c[0] for c in constraints)
        assert len(constraints) == p["constraints"] == len(set(constraints))
        # Level 1 states only its word to include (version 5); the word count comes in at level 2.
        assert kinds["words"] == int(difficulty > 1) and (("words", p["words"], "") in constraints) == (difficulty > 1)
        assert len(it.problem.answer.split()) == p["words"]
        assert kinds["forbid"] == p["forbidden_letters"]
        singles = {k for k, start in SINGLE_FROM.items() if difficulty >= start}
        assert {"start", "end", "nocomma", "maxlen"} & singles == {"start", "end", "nocomma", "maxlen"} & set(kinds)
        assert ("case" in singles) == (kinds["lower"] + kinds["upper"] == 1)
        repeated = {k for k, start in REPEATED_FROM.items() if difficulty >= start}
        allowed = {"words", "forbid", "lower", "upper", *singles, *repeated}
        assert set(kinds) <= allowed
        assert all(check(c, it.problem.answer) for c in constraints)
        assert fam.score(it, it.answer).score == 1.0


def test_level_one_names_its_one_word() -> None:
    fam = InstructionFollowing()
    it = item(fam, 1)
    (word,) = [c[1] for c in it.problem.facts["constraints"] if c[0] == "include"]
    assert it.problem.facts["constraints"] == [("include", word, "")]  # the only rule
    assert it.problem.answer == word and f"'{word}'" in it.prompt and "exactly" not in it.prompt
    assert fam.score(it, f"{word}").score == 1.0
    assert fam.score(it, f"Answer: The old mill keeps a {word} by the door.").score == 1.0
    assert fam.score(it, "Answer: The old mill keeps a lantern by the door.").score == 0.0


def test_top_level_is_consistent_and_bounded() -> None:
    """At version 3's top the reference line meets all 88 constraints (all distinct) in a short prompt."""
    fam = InstructionFollowing()
    for n in range(4):
        it = make_item(fam, b"family-tests", n, 40, n)
        constraints = it.problem.facts["constraints"]
        assert len(constraints) == len(set(constraints)) == 88
        assert fam.score(it, it.answer).score == 1.0 and len(it.prompt) < 40_000


OLD_TOP = 30  # the top before the scale was extended: levels 1..OLD_TOP stay byte-identical


def test_old_levels_are_byte_identical() -> None:
    """Items at levels 2, 10 and the old top, and the old plans from level 2, hash as in version 4.

    Version 5 changed level 1 only (one rule: include the word; its answer is unchanged); these
    digests were taken from version 4's code and equal version 5's.
    """
    import hashlib
    import json

    from probes.base import make_item as _make
    from probes.families.instructions import InstructionFollowing as _Family

    family = _Family()
    h = hashlib.sha256()
    for d in (2, 10, OLD_TOP):
        for i in range(3):
            for n in range(4):
                it = _make(family, b"pin-old-levels", i, d, n)
                h.update(it.prompt.encode() + b"\0" + it.answer.encode() + b"\1")
    assert h.hexdigest() == "4d001e48843c99b10a89d7cd8a9060340866d8288e404aeb644f53280aff2fa8"
    old_keys = ('constraints', 'words', 'forbidden_letters')  # keys added above the old top are 0 below it
    plans = json.dumps([{k: family.plan(d)[k] for k in old_keys} for d in range(2, OLD_TOP + 1)])
    digest = hashlib.sha256(plans.encode()).hexdigest()
    assert digest == "6fb56015e361ae2036914f4fa6bb6dd2b5a127d66ca0cc15043ac8e79f472582"


def test_version_5_level_one_pinned() -> None:
    import hashlib

    fam = InstructionFollowing()
    h = hashlib.sha256()
    for i in range(3):
        for n in range(4):
            it = make_item(fam, b"pin-v5-levels", i, 1, n)
            h.update(it.prompt.encode() + b"\0" + it.answer.encode() + b"\1")
    assert h.hexdigest() == "50e5317b662911a2a76641ad442c9ff79c59a86c7d9402fbfb6fb70471a1dfc2"


def _rules_hold(prompt: str, line: str) -> tuple[int, int]:
    """Read every rule of a novelty-0 prompt with its own patterns and check ``line`` against it.

    Independent of ``check`` and ``say``: (rules read, rules met); every rule line must be read.
    """
    words = re.findall(r"[A-Za-z']+", line)
    low = [w.casefold() for w in words]
    read = met = 0
    for rule in re.findall(r"^- (.+)$", prompt, re.M):
        read += 1
        if m := re.fullmatch(r"use exactly (\d+) words?", rule):
            ok = len(line.split()) == int(m[1])
        elif m := re.fullmatch(r"(start|end) with the word '(\w+)'", rule):
            ok = low[0 if m[1] == "start" else -1] == m[2]
        elif rule == "write everything in lowercase":
            ok = line == line.lower()
        elif rule == "write everything in UPPERCASE":
            ok = line == line.upper()
        elif rule == "use no commas":
            ok = "," not in line
        elif m := re.fullmatch(r"use no word longer than (\d+) letters", rule):
            ok = max(map(len, words)) <= int(m[1])
        elif m := re.fullmatch(r"do not use the letter '(\w)' anywhere", rule):
            ok = m[1] not in line.casefold()
        elif m := re.fullmatch(r"use only words from this list \(each as often as you like\): (.+)", rule):
            ok = set(low) <= set(m[1].split(", "))
        elif m := re.fullmatch(r"the letter '(\w)' must appear exactly (once|twice|\d+ times) in total \(any case\)",
                               rule):
            n = {"once": 1, "twice": 2}.get(m[2]) or int(m[2].split()[0])
            ok = sum(ch == m[1] for ch in line.casefold()) == n
        elif m := re.fullmatch(r"word number (\d+) \(counting from 1\) must start with the letter '(\w)'", rule):
            ok = low[int(m[1]) - 1][0] == m[2]
        else:
            m = re.fullmatch(r"the first '(\w+)' must come before the first '(\w+)'", rule)
            assert m, rule
            ok = low.index(m[1]) < low.index(m[2])
        met += ok
    return read, met


@pytest.mark.parametrize("difficulty", [31, 35, 40])
def test_above_the_old_top_constraints_are_joint(difficulty: int) -> None:
    """Above 30: a listed vocabulary, exact totals only for letters two listed words share, first
    letters at positions and first-use orders; no word counts, words at positions or required words
    (version 2's counts fixed the multiset of words). An independent reader of the prompt confirms
    the reference meets every rule and a line off by one letter does not."""
    fam = InstructionFollowing()
    p = fam.plan(difficulty)
    for index in range(10):
        it = item(fam, difficulty, index=index)
        constraints = it.problem.facts["constraints"]
        kinds = Counter(c[0] for c in constraints)
        assert len(constraints) == p["constraints"] == len(set(constraints))
        assert not {"count", "position", "include"} & set(kinds) and kinds["only"] == 1
        vocab = next(str(c[1]).split() for c in constraints if c[0] == "only")
        pinned = [str(c[1]) for c in constraints if c[0] == "letters"]
        assert all(sum(ch in w for w in vocab) >= 2 for ch in pinned)
        assert len(pinned) == min(2 * (difficulty - 30), len(
            {ch for ch in it.problem.answer.casefold() if ch.isalpha() and sum(ch in w for w in vocab) >= 2}))
        assert kinds["initial"] >= 10 and kinds["before"] >= 10
        assert _rules_hold(it.prompt, it.problem.answer) == (len(constraints), len(constraints))
        words = it.problem.answer.split()
        swapped = " ".join([*words[:-2], words[-1], words[-2]]) if words[-1] != words[-2] else None
        if swapped:
            assert _rules_hold(it.prompt, swapped)[1] < len(constraints)
        assert len(it.prompt) < 48_000 and len(it.problem.answer) < 400


def _edited_from_prompt(prompt: str) -> list[str]:
    """The line an item above level 40 asks for, from its prompt text alone: parse and apply every edit."""
    m = re.search(r"Start from this line of (\d+) words:\n([a-z ]+)\nApply these (\d+) edits in order", prompt)
    assert m, prompt[:600]
    line = m[2].split()
    assert len(line) == int(m[1])
    edits = re.findall(r"^(\d+)\. (swap|reverse|move|exchange) (\w+) (\w+)$", prompt, re.M)
    assert [int(e[0]) for e in edits] == list(range(1, int(m[3]) + 1))
    for _, kind, a, b in edits:
        if kind == "swap":
            i, j = int(a) - 1, int(b) - 1
            line[i], line[j] = line[j], line[i]
        elif kind == "reverse":
            line = line[: int(a) - 1] + line[int(a) - 1 : int(b)][::-1] + line[int(b) :]
        elif kind == "move":
            rest = line[: int(a) - 1] + line[int(a) :]
            line = [*rest[: int(b) - 1], line[int(a) - 1], *rest[int(b) - 1 :]]
        else:
            line = [b if w == a else a if w == b else w for w in line]
    return line


@pytest.mark.parametrize("difficulty", [41, 42, 50, 60, 70, 80])
def test_above_version_3_the_line_is_an_edit_chain(difficulty: int) -> None:
    """Above 40 the prompt gives a start line and ``constraints`` edits; an independent reader of the
    prompt (every novelty) applies them and gets the reference; scoring is per position."""
    fam = InstructionFollowing()
    p = fam.plan(difficulty)
    for index in range(4):
        for novelty in range(4):
            it = item(fam, difficulty, novelty, index)
            line = _edited_from_prompt(it.prompt)
            assert " ".join(line) == it.problem.answer and len(line) == p["words"] == 59
            assert len(it.problem.facts["edits"]) == p["constraints"]
            assert len(it.problem.answer) <= 400 and len(it.prompt) < 48_000
            assert Counter(e[0] for e in it.problem.facts["edits"]).keys() == {"swap", "reverse", "move", "exchange"}
            assert fam.score(it, it.answer).score == 1.0
            start = " ".join(it.problem.facts["start"])
            assert start != it.problem.answer and fam.score(it, start).score < 1.0
            assert it.problem.answer not in it.prompt


def test_edit_chain_answers_spread() -> None:
    """One edit left out changes the line in most items (every edit matters), and the lines differ."""
    from probes.families.instructions import apply_edit

    fam = InstructionFollowing()
    changed = 0
    for index in range(20):
        f = item(fam, 50, index=index).problem.facts
        line = list(f["start"])
        skip = index * 7 % len(f["edits"])
        for k, e in enumerate(f["edits"]):
            if k != skip:
                line = apply_edit(line, e)
        changed += " ".join(line) != item(fam, 50, index=index).problem.answer
    assert changed >= 15
    assert fam.chance(fam.top) == 0.0


#: Version 3 changed levels 31..40 (joint constraints); these pin what it generates there (kept by v4).
V3_DIGESTS = {31: "9483f2ba7e8506eaae3a4bc841508496", 35: "04da97aca8346acc387fa5542a4cc724",
              40: "50eca33e0fc60ebbb0cf354dba9f1103"}
#: Version 4 added levels 41..80 (an edit chain); these pin them.
V4_DIGESTS = {41: "5f9216beee515843ba77642cb5b39db9", 60: "5a7409f5d2a0c6114df44b38e94439dd",
              80: "43d39bb28b2491202355bdd0a3c40ed6"}


@pytest.mark.parametrize("digests", [V3_DIGESTS, V4_DIGESTS])
def test_version_3_and_4_levels_pinned(digests: dict[int, str]) -> None:
    import hashlib

    fam = InstructionFollowing()
    assert fam.version == "5"  # version 5 changed level 1 only
    for d, expected in digests.items():
        h = hashlib.sha256()
        for i in range(3):
            for n in range(4):
                it = make_item(fam, b"pin-v3-levels", i, d, n)
                h.update(it.prompt.encode() + b"\0" + it.answer.encode() + b"\1")
        assert h.hexdigest()[:32] == expected, d
