"""Verifier and generator tests for the program_trace family."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from probes.base import Item, ProbeFamily, make_item
from probes.families.program_trace import PRIMES, ProgramTrace, run

SALT = b"family-tests"
FAM = ProgramTrace()


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def python_output(prompt: str) -> str:
    """Run the prompt's own generated Python (ours, never a model's) as an independent oracle."""
    code = prompt.split("```python\n", 1)[1].split("```", 1)[0]
    printed: list[Any] = []
    exec(code, {"__builtins__": {"range": range, "print": printed.append}})
    assert len(printed) == 1
    return str(printed[0])


def test_program_trace_interpreter() -> None:
    env: dict[str, int] = {}
    prog = [("set", "a", ("c", 2)), ("for", 3, [("set", "a", ("+", ("v", "a"), ("v", "i")))], "i"),
            ("if", ("a", ">", 4), [("set", "b", ("c", 1))], [("set", "b", ("c", 0))]),
            ("if", ("b", ">", "a"), [("set", "c", ("c", 1))], [("set", "c", ("c", 0))])]
    run(prog, env)
    assert env["a"] == 5 and env["b"] == 1 and env["c"] == 0


def test_program_trace_plan_formula() -> None:
    expected_steps = {1: 1, 4: 2, 6: 2, 7: 6, 10: 8, 13: 15, 20: 35, 30: 80, 40: 160, 50: 320, 60: 640,
                      80: 2560, 100: 10240}
    for d, steps in expected_steps.items():
        assert FAM.plan(d)["steps"] == steps, d
    assert FAM.plan(1) == {"steps": 1, "lines": 1, "iterations": 1, "variables": 2, "branches": 0, "operators": 1,
                           "nonlinear": 0, "modulus_digits": 0}
    assert FAM.plan(50) == {"steps": 320, "lines": 8, "iterations": 40, "variables": 6, "branches": 4,
                            "operators": 3, "nonlinear": 0, "modulus_digits": 0}
    assert FAM.plan(51)["nonlinear"] == 1 and FAM.plan(51)["modulus_digits"] == 3
    assert FAM.plan(100) == {"steps": 10240, "lines": 8, "iterations": 1280, "variables": 6, "branches": 4,
                             "operators": 3, "nonlinear": 8, "modulus_digits": 7}
    assert FAM.top == 100 and FAM.grows == "steps"
    assert FAM.chance(1) == 0.0 and FAM.chance(10) == 1 / PRIMES[0] and FAM.chance(100) == 1e-6


def _count(stmts: list[Any], kind: str) -> int:
    return sum((s[0] == kind) + (_count(s[2], kind) + _count(s[3], kind) if s[0] == "if" else 0)
               + (_count(s[2], kind) if s[0] == "for" else 0) for s in stmts)


def test_program_trace_program_matches_plan() -> None:
    for d in (1, 3, 6, 7, 10, 20, 50, 51, 75, 100):
        p = FAM.plan(d)
        for index in range(3):
            prog = item(FAM, d, 0, index).problem.facts["program"]
            loops = [s for s in prog if s[0] == "for"]
            assert all(s[0] == "set" and s[2][0] == "c" for s in prog[: p["variables"]]), "one constant each"
            assert len(prog) - 1 == p["variables"] + (1 if loops else p["lines"])
            body = loops[0][2] if loops else prog[p["variables"]:-1]
            assert len(loops) == (p["iterations"] > 1) and (not loops or loops[0][1] == p["iterations"])
            assert len(body) == p["lines"] and _count(body, "if") == p["branches"]
            assert prog[-1][0] == "print"
            lines = [s if s[0] == "set" else s[2][0] for s in body]  # an if's then-branch is the line
            products = [s for s in lines if s[2][1][0] == "+" and s[2][1][1][0] == "*" and s[2][1][1][2][0] == "v"]
            assert len(products) == p["nonlinear"]


def test_program_trace_answer_matches_python() -> None:
    for d in (1, 5, 10, 20, 35, 50, 55, 80, 100):
        for index in range(4):
            for novelty in (0, 2):
                it = item(FAM, d, novelty, index)
                assert python_output(it.prompt) == it.problem.answer


def test_program_trace_loops_stay_small() -> None:
    for index in range(20):
        it = item(FAM, 50, 0, index)
        assert 0 <= int(it.problem.answer) < max(PRIMES)
        assert len(it.prompt) < 2_000
        assert re.search(r"for i in range\(40\):", it.prompt)


def test_program_trace_top_level_is_long_and_nonlinear() -> None:
    for index in range(10):
        it = item(FAM, FAM.top, 0, index)
        modulus = int(re.findall(r"% (\d+)", it.prompt)[0])
        assert 10**6 <= modulus < 10**7 + 100 and 0 <= int(it.problem.answer) < modulus
        assert len(it.prompt) < 2_000 and "for i in range(1280):" in it.prompt
        assert len(re.findall(r"\(([a-f]) \* [a-f]\)", it.prompt)) >= 8


def test_program_trace_top_level_prompt_is_bounded() -> None:
    assert max(len(item(FAM, FAM.top, n, i).prompt) for n in range(4) for i in range(5)) < 40_000


def test_program_trace_bare_answer() -> None:
    it = item(FAM, 1)
    assert FAM.score(it, it.problem.answer).score == 1.0
    assert FAM.score(it, f"a = {it.problem.answer}").score == 1.0


def test_program_trace_dead_code_keeps_answer() -> None:
    plain, perturbed = item(FAM, 8, 0), item(FAM, 8, 2)
    assert "unused_" in perturbed.prompt and plain.problem.answer == perturbed.problem.answer


def old_level_digest(family: ProbeFamily, difficulty: int) -> str:
    """A digest of items 0..2 of a level at every novelty (prompts and answers)."""
    h = hashlib.sha256()
    for index in range(3):
        for novelty in range(4):
            it = make_item(family, b"pinned-old-levels", index, difficulty, novelty)
            h.update(it.prompt.encode() + b"\x00" + it.answer.encode() + b"\x01")
    return h.hexdigest()[:32]


#: Digests of the items at levels 1, 10 and the old top, taken before the scale was
#: extended: the levels already calibrated must never change.
OLD_LEVEL_DIGESTS = {
    1: "5f31bf56ce467d301c2b5bc1f253e4c3",
    10: "8b43cadeac98c725ce6e4d96d92bb278",
    50: "c0dfe09fe2dd57f79774b5f9d1a06864",
}


def test_program_trace_old_levels_unchanged() -> None:
    for d, expected in OLD_LEVEL_DIGESTS.items():
        assert old_level_digest(FAM, d) == expected, d


#: Version 3 changed every level past the old top (the printed line is now the last, an
#: unconditional self-squaring update); these pin what version 3 generates there.
NEW_LEVEL_DIGESTS = {
    51: "8af86e84190e9b661a704f24aaa67d3e",
    75: "7db6222aeb541a8d727ab73fe648d440",
    100: "f7864d7048937bda5eaef4816da542ca",
}


def test_program_trace_version_3_levels_pinned() -> None:
    assert FAM.version == "3"
    for d, expected in NEW_LEVEL_DIGESTS.items():
        assert old_level_digest(FAM, d) == expected, d


def _printed_values(prompt: str) -> list[int]:
    """The printed variable after every pass of the loop, from the prompt's own Python (an oracle)."""
    code = prompt.split("```python\n", 1)[1].split("```", 1)[0]
    head, rest = code.split("for i in range(", 1)
    count, body = rest.split("):\n", 1)
    var = re.findall(r"print\((\w+)\)", body)[0]
    body = body.split("print(", 1)[0]
    traced = "\n".join([head.rstrip(), f"trail = []\nfor i in range({count}):", body.rstrip(),
                        f"    trail.append({var})"])
    env: dict[str, Any] = {}
    exec(traced, {"__builtins__": {"range": range}}, env)
    return list(env["trail"])


def test_program_trace_top_has_no_frozen_or_short_cycled_output() -> None:
    """The shortcut that passed version 2's top: a printed variable that never changes.

    At the top the printed value must take a distinct value on almost every pass (a short
    cycle would let a reader stop early), and it must not equal its start value.
    """
    for index in range(12):
        it = item(FAM, FAM.top, 0, index)
        trail = _printed_values(it.prompt)
        assert len(trail) == 1280 and str(trail[-1]) == it.problem.answer
        assert len(set(trail)) >= 0.95 * len(trail), index
        printed = re.findall(r"print[(](\w+)[)]", it.prompt)[0]
        start = int(re.findall(rf"^{printed} = (\d+)$", it.prompt, re.M)[0])
        assert int(it.problem.answer) != start
        last_line = it.prompt.split("print(", 1)[0].rstrip().splitlines()[-1]
        assert re.fullmatch(r"    (\w) = \(\(\1 \* \1\) \+ \w\) % \d+", last_line), last_line
