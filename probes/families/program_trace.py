"""Program tracing: predict what a small generated program prints.

The generator builds the program as data and computes its output with its own tiny interpreter;
nothing a model writes is ever executed. Novelty 2 renames variables and adds dead code;
novelty 3 shows the same program as pseudocode.
Scoring: exact integer match on the extracted final number; no partial credit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, numeric_score, pick, wrap_answer

# Expressions: ("c", int) | ("v", name) | (op, e1, e2) with op in + - * %.
# Statements: ("set", name, expr) | ("for", count, [stmts], loop variable)
#           | ("if", (name, ">", int), [then stmts], [else stmts]) | ("print", name).
Expr = Any
Stmt = Any
_VARS = ("a", "b", "c", "d")
_ODD = {"a": "tally", "b": "quux", "c": "zeta_k", "d": "mrv", "i": "step", "j": "inner"}
# (straight-line statements, loop kind, use if) per level.
_PLAN = {
    1: (2, "", False), 2: (3, "", False), 3: (4, "", False), 4: (2, "loop", False), 5: (3, "", True),
    6: (2, "loop_i", False), 7: (2, "loop_if", False), 8: (2, "nested", False), 9: (3, "two", True),
    10: (3, "nested_if", True),
}


def ev(e: Expr, env: dict[str, int]) -> int:
    """Value of an expression."""
    if e[0] == "c":
        return int(e[1])
    if e[0] == "v":
        return env[e[1]]
    a, b = ev(e[1], env), ev(e[2], env)
    if e[0] == "+":
        return a + b
    if e[0] == "-":
        return a - b
    if e[0] == "*":
        return a * b
    return a % b


def run(stmts: list[Stmt], env: dict[str, int]) -> None:
    """Execute generated statements (our own data structure, never model text)."""
    for s in stmts:
        if s[0] == "set":
            env[s[1]] = ev(s[2], env)
        elif s[0] == "for":
            for i in range(s[1]):
                env[s[3]] = i
                run(s[2], env)
        else:
            name, _, bound = s[1]
            run(s[2] if env[name] > bound else s[3], env)


def _update(rng: random.Random, target: str, known: list[str], loop_var: bool) -> Stmt:
    other = pick(rng, known)
    op = pick(rng, ("+", "-", "*") if not loop_var else ("+", "+", "-"))
    right: Expr = ("v", "i") if loop_var and rng.random() < 0.6 else ("c", rng.randint(1, 5))
    if op == "*":
        right = ("c", rng.randint(2, 3))
    first: Expr = ("v", target) if target in known else ("v", other)
    return ("set", target, (op, first, right))


def _program(rng: random.Random, difficulty: int) -> list[Stmt]:
    straight, loop, use_if = _PLAN[difficulty]
    prog: list[Stmt] = []
    known: list[str] = []
    for v in _VARS[:2]:
        prog.append(("set", v, ("c", rng.randint(1, 9))))
        known.append(v)
    for _ in range(straight - 1):
        target = pick(rng, _VARS[:3])
        a, b = pick(rng, known), pick(rng, known)
        prog.append(("set", target, (pick(rng, ("+", "-", "*")), ("v", a), ("v", b))))
        if target not in known:
            known.append(target)
    acc = pick(rng, known)
    if loop:
        k = rng.randint(2, 4)
        body: list[Stmt] = [_update(rng, acc, known, loop in ("loop_i", "nested", "nested_if", "two"))]
        if loop in ("loop_if", "nested_if"):
            cond = (acc, ">", rng.randint(5, 30))
            body = [("if", cond, [("set", acc, ("-", ("v", acc), ("c", rng.randint(1, 9))))], body)]
        if loop in ("nested", "nested_if"):
            body = [("for", rng.randint(2, 3), body, "j")]
        prog.append(("for", k, body, "i"))
        if loop == "two":
            wrap: Expr = ("%", ("+", ("v", acc), ("v", "i")), ("c", 97))
            prog.append(("for", rng.randint(2, 4), [("set", acc, wrap)], "i"))
    if use_if:
        other = pick(rng, [v for v in known if v != acc] or known)
        cond = (acc, ">", rng.randint(0, 40))
        prog.append(("if", cond, [("set", other, ("+", ("v", other), ("v", acc)))],
                     [("set", other, ("*", ("v", other), ("c", 2)))]))
        acc = other
    prog.append(("print", acc))
    return prog


def _expr(e: Expr, nm: dict[str, str]) -> str:
    if e[0] == "c":
        return str(e[1])
    if e[0] == "v":
        return str(nm.get(e[1], e[1]))
    left, right = _expr(e[1], nm), _expr(e[2], nm)
    if not isinstance(e[1], tuple) or e[1][0] in ("c", "v"):
        return f"{left} {e[0]} {right}"
    return f"({left}) {e[0]} {right}"


def python(stmts: list[Stmt], nm: dict[str, str], depth: int = 0) -> list[str]:
    """The program as Python source lines."""
    pad = "    " * depth
    out: list[str] = []
    for s in stmts:
        if s[0] == "set":
            out.append(f"{pad}{nm.get(s[1], s[1])} = {_expr(s[2], nm)}")
        elif s[0] == "for":
            out.append(f"{pad}for {nm.get(s[3], s[3])} in range({s[1]}):")
            out.extend(python(s[2], nm, depth + 1))
        elif s[0] == "if":
            out.append(f"{pad}if {nm.get(s[1][0], s[1][0])} > {s[1][2]}:")
            out.extend(python(s[2], nm, depth + 1))
            out.append(f"{pad}else:")
            out.extend(python(s[3], nm, depth + 1))
        else:
            out.append(f"{pad}print({nm.get(s[1], s[1])})")
    return out


def pseudo(stmts: list[Stmt], depth: int = 0) -> list[str]:
    """The program as numbered-free pseudocode lines."""
    pad = "  " * depth
    out: list[str] = []
    for s in stmts:
        if s[0] == "set":
            out.append(f"{pad}SET {s[1]} TO {_expr(s[2], {}).replace('%', 'MOD')}")
        elif s[0] == "for":
            out.append(f"{pad}FOR {s[3]} FROM 0 TO {s[1] - 1} DO")
            out.extend(pseudo(s[2], depth + 1))
            out.append(f"{pad}END FOR")
        elif s[0] == "if":
            out.append(f"{pad}IF {s[1][0]} IS GREATER THAN {s[1][2]} THEN")
            out.extend(pseudo(s[2], depth + 1))
            out.append(f"{pad}OTHERWISE")
            out.extend(pseudo(s[3], depth + 1))
            out.append(f"{pad}END IF")
        else:
            out.append(f"{pad}OUTPUT {s[1]}")
    return out


@dataclass(frozen=True)
class ProgramTrace(ProbeFamily):
    """Predict the output of a small generated program."""

    name = "program_trace"
    skill = "code_tracing"
    version = "1"
    levels = (
        "two constants and one operation",
        "three straight-line operations",
        "four straight-line operations",
        "a loop of 2-4 iterations",
        "straight-line code and an if/else",
        "a loop using its counter",
        "a loop containing an if/else",
        "nested loops",
        "two loops (one with modulo) and an if/else",
        "nested loops with an inner if/else, then an if/else",
    )

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        prog = _program(rng, difficulty)
        env: dict[str, int] = {}
        run(prog[:-1], env)
        return Problem(facts={"program": prog}, answer=str(env[prog[-1][1]]))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        prog: list[Stmt] = problem.facts["program"]
        kind = format_for(novelty, rng)
        fmt = answer_instruction(kind, "integer")
        if novelty == 3:
            code = "\n".join(pseudo(prog))
            note = " (MOD gives the non-negative remainder.)" if "MOD" in code else ""
            prompt = (f"A recipe card for a mechanical calculator reads:\n{code}\n"
                      f"What number does the machine output?{note} {fmt}")
        else:
            nm = _ODD if novelty == 2 else {}
            lines = python(prog, nm)
            if novelty == 2:
                # Dead code: a variable nothing reads, so the output is unchanged.
                lines.insert(rng.randint(0, 1), f"unused_{rng.randint(10, 99)} = {rng.randint(1, 50)}")
            code = "\n".join(lines)
            q = ("What does this Python program print?" if novelty == 0 else
                 "Trace the following Python code by hand and state its output.")
            prompt = f"{q}\n```python\n{code}\n```\n{fmt}"
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        return numeric_score(item, response)
