"""Program tracing: predict what a small generated program prints.

What grows: the executed ``steps`` = ``lines`` (body statements, 1 at level 1, up to 8) times
``iterations`` of the loop around them (1 until level 6, 2 at level 10, then doubling every ten
levels: 40 at level 50, so 320 steps; 1280 at the top, 100, so 10240 steps). Variables (2..6),
if/else statements among the lines and operators (+, then -, then *) grow slowly with the level.
Inside a loop every assignment takes a remainder (``% m``), so values stay below ``m`` however
long the loop runs; the program stays a dozen lines while its trace gets long.

Up to level 50 (the original top) every looped update is affine in one variable modulo a
two-digit prime, so a strong model can find a closed form or a short cycle. Past it two more
dimensions switch on: ``nonlinear`` body lines multiply two variables (``t = (t * u + c) % m`` or
``t = (t * t + u) % m``; 1 at level 51, all 8 from level 93) and the remainder is a random prime
of ``modulus_digits`` digits (3 at level 51, 7 from level 91). Several interacting quadratic
updates modulo a large prime have no closed form and no short cycle, so the only route is to run
thousands of multi-digit multiplications in order. Past level 50 the printed variable is the
target of the body's last line, which is always unconditional and nonlinear: version 2 could print
a variable written only inside branches whose condition never held, so its start value was the
answer (a frontier model passed level 100 that way). Levels 1..50 are generated exactly as before.

The generator builds the program as data and computes its output with its own tiny interpreter;
nothing a model writes is ever executed. Novelty 2 renames variables and adds dead code;
novelty 3 shows the same program as pseudocode.
Scoring: exact integer match on the extracted final number; no partial credit.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from probes.base import Item, ProbeFamily, Problem, Rendering, Verdict
from probes.common import answer_instruction, format_for, numeric_score, pick, wrap_answer

# Expressions: ("c", int) | ("v", name) | (op, e1, e2) with op in + - * %.
# Statements: ("set", name, expr) | ("for", count, [stmts], loop variable)
#           | ("if", (name, ">", int), [then stmts], [else stmts]) | ("print", name).
Expr = Any
Stmt = Any
_VARS = ("a", "b", "c", "d", "e", "f")
_ODD = {"a": "tally", "b": "quux", "c": "zeta_k", "d": "mrv", "e": "flonk", "f": "vesh", "i": "step"}
_OPS = ("+", "-", "*")
#: Loop remainders: primes, so multiplying by 2..9 never collapses values to 0 and a blind
#: guess at a looped answer (one of 0..p-1) passes at most 1/53 of the time.
PRIMES = (53, 59, 61, 67, 71, 73, 79, 83, 89, 97)
#: The last level of the original scale: everything up to it is generated exactly as before.
_OLD_TOP = 50


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


def _compiled(e: Expr) -> Callable[[dict[str, int]], int]:
    """An expression as a closure (``ev`` without re-walking the tree on every loop step)."""
    if e[0] == "c":
        k = int(e[1])
        return lambda env: k
    if e[0] == "v":
        name = e[1]
        return lambda env: env[name]
    f, g = _compiled(e[1]), _compiled(e[2])
    if e[0] == "+":
        return lambda env: f(env) + g(env)
    if e[0] == "-":
        return lambda env: f(env) - g(env)
    if e[0] == "*":
        return lambda env: f(env) * g(env)
    return lambda env: f(env) % g(env)


def _block(stmts: list[Stmt]) -> Callable[[dict[str, int]], None]:
    """Statements as one closure; the same semantics as walking them with ``ev``."""
    steps: list[Callable[[dict[str, int]], None]] = []
    for s in stmts:
        if s[0] == "set":
            steps.append(_setter(s[1], _compiled(s[2])))
        elif s[0] == "for":
            steps.append(_loop(s[1], s[3], _block(s[2])))
        elif s[0] == "if":
            steps.append(_branch(s[1], _block(s[2]), _block(s[3])))

    def block(env: dict[str, int]) -> None:
        for step in steps:
            step(env)
    return block


def _setter(name: str, value: Callable[[dict[str, int]], int]) -> Callable[[dict[str, int]], None]:
    def step(env: dict[str, int]) -> None:
        env[name] = value(env)
    return step


def _loop(count: int, var: str, body: Callable[[dict[str, int]], None]) -> Callable[[dict[str, int]], None]:
    def step(env: dict[str, int]) -> None:
        for i in range(count):
            env[var] = i
            body(env)
    return step


def _branch(cond: tuple[str, str, str | int], then: Callable[[dict[str, int]], None],
            other: Callable[[dict[str, int]], None]) -> Callable[[dict[str, int]], None]:
    name, _, bound = cond

    def step(env: dict[str, int]) -> None:
        limit = env[bound] if isinstance(bound, str) else bound
        (then if env[name] > limit else other)(env)
    return step


def run(stmts: list[Stmt], env: dict[str, int]) -> None:
    """Execute generated statements (our own data structure, never model text)."""
    _block(stmts)(env)


def _prime(rng: random.Random, digits: int) -> int:
    """A random prime with ``digits`` digits (trial division: at most seven digits are asked for)."""
    n = rng.randrange(10 ** (digits - 1), 10**digits) | 1
    while any(n % q == 0 for q in range(3, math.isqrt(n) + 1, 2)):
        n += 2
    return n


def _nonlinear(rng: random.Random, target: str, names: list[str], modulus: int) -> Stmt:
    """``target = (target * other + c) % m`` or ``target = (target * target + other) % m``.

    Products of variables make the loop a nonlinear map of several interacting values: no
    closed form, and (modulo a large prime) no short cycle to exploit.
    """
    other = pick(rng, [v for v in names if v != target])
    if rng.random() < 0.5:
        expr: Expr = ("+", ("*", ("v", target), ("v", other)), ("c", rng.randint(1, 9)))
    else:
        expr = ("+", ("*", ("v", target), ("v", target)), ("v", other))
    return ("set", target, ("%", expr, ("c", modulus)))


def _printed_line(rng: random.Random, target: str, names: list[str], body: list[Stmt], modulus: int) -> Stmt:
    """The last line past the old top: ``target = (target * target + other) % m``, printed after the loop.

    Squaring the target itself (not multiplying by another variable, which may sit at 0) keeps
    the printed value moving on every pass; ``other`` is a variable an earlier unconditional line
    writes when there is one, so the printed value mixes in the rest of the state.
    """
    written = [s[1] for s in body if s[0] == "set" and s[1] != target]
    other = pick(rng, written or [v for v in names if v != target])
    expr: Expr = ("+", ("*", ("v", target), ("v", target)), ("v", other))
    return ("set", target, ("%", expr, ("c", modulus)))


def _assign(rng: random.Random, target: str, names: list[str], ops: tuple[str, ...], loop: bool,
            modulus: int) -> Stmt:
    """``target = target op operand``; inside a loop wrapped in ``% modulus``."""
    op = pick(rng, ops)
    if op == "*" and loop:
        # Affine, not plain products: a value that reaches 0 would otherwise stay there.
        scaled: Expr = ("*", ("v", target), ("c", rng.randint(2, 9)))
        return ("set", target, ("%", ("+", scaled, ("c", rng.randint(1, 9))), ("c", modulus)))
    if op == "*":
        operand: Expr = ("c", rng.randint(2, 9))
    else:
        pool: list[Expr] = [("v", v) for v in names if v != target] + [("c", rng.randint(1, 9))]
        if loop:
            pool.append(("v", "i"))
        operand = pick(rng, pool)
    expr: Expr = (op, ("v", target), operand)
    return ("set", target, ("%", expr, ("c", modulus)) if loop else expr)


def _program(rng: random.Random, p: dict[str, int]) -> list[Stmt]:
    names = list(_VARS[: p["variables"]])
    ops = _OPS[: p["operators"]]
    loop = p["iterations"] > 1
    # Past the old top (level 50) the remainder is a random prime of several digits.
    modulus = _prime(rng, p["modulus_digits"]) if p["modulus_digits"] else pick(rng, PRIMES)
    prog: list[Stmt] = [("set", v, ("c", rng.randint(1, 9))) for v in names]
    if p["nonlinear"]:
        # Past the old top the printed line is the last one, unconditional and nonlinear, so the
        # printed value changes on every pass (no variable frozen behind a branch that never fires).
        last = p["lines"] - 1
        branchy = set(rng.sample(range(last), p["branches"]))
        products = {last, *rng.sample(range(last), p["nonlinear"] - 1)}
    else:
        branchy = set(rng.sample(range(p["lines"]), p["branches"]))
        products = set()
    body: list[Stmt] = []
    for k in range(p["lines"]):
        target = pick(rng, names)
        if p["nonlinear"] and k == p["lines"] - 1:
            stmt = _printed_line(rng, target, names, body, modulus)
        elif k in products:
            stmt = _nonlinear(rng, target, names, modulus)
        else:
            stmt = _assign(rng, target, names, ops, loop, modulus)
        if k in branchy:
            other = pick(rng, [v for v in names if v != target])
            limit = rng.randint(modulus // 4, 3 * modulus // 4) if loop else rng.randint(1, 20)
            bound: str | int = other if rng.random() < 0.5 else limit
            stmt = ("if", (target, ">", bound), [stmt], [_assign(rng, other, names, ops, loop, modulus)])
        body.append(stmt)
    prog.extend([("for", p["iterations"], body, "i")] if loop else body)
    last = body[-1]
    prog.append(("print", last[1] if last[0] == "set" else pick(rng, [last[2][0][1], last[3][0][1]])))
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
            bound = s[1][2]
            shown = nm.get(bound, bound) if isinstance(bound, str) else bound
            out.append(f"{pad}if {nm.get(s[1][0], s[1][0])} > {shown}:")
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
    version = "3"
    top = 100
    grows = "steps"
    formula = ("lines = min(1 + (d-1)//3, 8); iterations = max(1, floor(2.5 * 2**((d-10)/10))); "
               "steps = lines * iterations; variables = min(2 + d//8, 6); branches = min(lines//2, (d+2)//8); "
               "operators = min(3, 1 + (d-1)//3); past d=50: nonlinear = min(lines, 1 + (d-51)//6) "
               "lines multiply two variables (the last, printed one squares itself), "
               "modulus_digits = min(7, 3 + (d-51)//10)")

    def plan(self, difficulty: int) -> dict[str, int]:
        d = difficulty
        lines = min(1 + (d - 1) // 3, 8)
        iterations = max(1, math.floor(2.5 * 2 ** ((d - 10) / 10)))
        return {
            "steps": lines * iterations,
            "lines": lines,
            "iterations": iterations,
            "variables": min(2 + d // 8, len(_VARS)),
            "branches": min(lines // 2, (d + 2) // 8),
            "operators": min(len(_OPS), 1 + (d - 1) // 3),
            "nonlinear": min(lines, 1 + (d - 51) // 6) if d > _OLD_TOP else 0,
            "modulus_digits": min(7, 3 + (d - 51) // 10) if d > _OLD_TOP else 0,
        }

    def chance(self, difficulty: int) -> float:
        # Open integers without a loop; with one, the answer is a remainder below a prime >= 53
        # (past the old top, a prime of ``modulus_digits`` digits).
        p = self.plan(difficulty)
        if p["modulus_digits"]:
            return float(10.0 ** -(p["modulus_digits"] - 1))
        return 1 / PRIMES[0] if p["iterations"] > 1 else 0.0

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        prog = _program(rng, self.plan(difficulty))
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
