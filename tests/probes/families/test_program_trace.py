"""Verifier and generator tests for the program_trace family."""

from __future__ import annotations

from probes.base import Item, ProbeFamily, make_item
from probes.families.program_trace import ProgramTrace, run

SALT = b"family-tests"


def item(family: ProbeFamily, difficulty: int = 5, novelty: int = 0, index: int = 1) -> Item:
    return make_item(family, SALT, index, difficulty, novelty)


def test_program_trace_interpreter() -> None:
    env: dict[str, int] = {}
    prog = [("set", "a", ("c", 2)), ("for", 3, [("set", "a", ("+", ("v", "a"), ("v", "i")))], "i"),
            ("if", ("a", ">", 4), [("set", "b", ("c", 1))], [("set", "b", ("c", 0))])]
    run(prog, env)
    assert env["a"] == 5 and env["b"] == 1


def test_program_trace_dead_code_keeps_answer() -> None:
    fam = ProgramTrace()
    plain, perturbed = item(fam, 8, 0), item(fam, 8, 2)
    assert "unused_" in perturbed.prompt and plain.problem.answer == perturbed.problem.answer


