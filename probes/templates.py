"""Template families declared in YAML: the user's own probes, with the same contract as built-ins.

A file holds ``families:``, a list of mappings. Levels are declared like a built-in family's: a
formula in the level ``d`` with a declared top, never a table of rows::

    name: invoice_total            # lower_snake_case, unique in the registry
    skill: finance
    version: "1"
    top: 30                        # levels run 1..top (top at most probes.base.MAX_TOP)
    grows: digits                  # the plan parameter that carries the difficulty
    plan:                          # size parameters: safe expressions in d (and earlier parameters),
      digits: "1 + d // 3"         #   integers, never shrinking from one level to the next
      max_fee: "0 if d < 4 else 50"
    description: "{digits}-digit quantities"   # optional; {d} and plan placeholders
    variables:                     # drawn in order; kinds int | float | choice | name
      qty: {type: int, min: "10 ** (digits - 1)", max: "10 ** digits - 1"}  # bounds: numbers, or
      price: {type: float, min: 1, max: 20, decimals: 2}                     # expressions in d and
      fee: {type: int, min: 0, max: "max_fee"}                               # the plan
      item: {type: choice, values: [bolts, nuts]}
      buyer: {type: name}
    answer: "round(qty * price, 2) + fee"    # safe expression (probes.safe_eval) over the
    verifier: {kind: numeric, tolerance: 0.01}   # variables, the plan and d
    renderings:                    # exactly 4 (novelty 0..3): a template, or {template, format}
      - "{buyer} buys {qty} {item} at {price} each. Total? Give the final answer on the last line as
         'Answer: <number>'."

Verifier kinds: ``exact`` (case_sensitive: false by default), ``numeric`` (tolerance, absolute;
integer answers past float precision are compared digit for digit), ``regex`` (pattern with
``{var}``/``{answer}`` placeholders, escaped, full match on the final answer; the pattern's
backtracking is bounded at load), ``json_fields`` (fields: key -> expression; partial credit =
fraction of fields right), ``choice`` (choices: list; the answer expression must give one of them;
``chance`` is 1/len(choices)). Placeholders are ``{name}`` (a variable, a plan parameter or ``d``);
``{{`` and ``}}`` are literal braces. Every rendering must state the answer format.

Loading checks everything it can before a probe is sent: the plan at every level 1..top (integers,
non-decreasing), every variable's bounds at every level (they evaluate, min <= max), and at every
level it draws ``LOAD_DRAWS_PER_LEVEL`` items from distinct seeds plus every variable's extreme
bounds, so an expression that fails or explodes only for some draws is refused at load, with a
one-line ``TemplateError(file, key, problem)``. Files in the old form (a ``levels:`` list of ten
rows) are refused with a line saying how to convert them.

Cost of one item at probe time, whatever the file and the seed: at most ``MAX_VARIABLES`` draws,
at most ``1 + MAX_FIELDS`` expression evaluations each capped by the evaluator's work budget
(``probes.safe_eval.MAX_COST``, a few milliseconds), and four renderings whose length is bounded
at load by ``MAX_PROMPT`` characters.
"""

from __future__ import annotations

import importlib
import json
import math
import random
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from probes.base import (
    MAX_TOP,
    NOVELTY_LEVELS,
    Item,
    ProbeFamily,
    Problem,
    Rendering,
    Verdict,
    derive_seed,
    make_items,
)
from probes.common import FORMAT_KINDS, FORMAT_MARKERS, NAMES, pick, score_choice, score_number, wrap_answer
from probes.errors import ExpressionError, ProbeError, TemplateError
from probes.extract import canonical_number, extract_final, extract_json, extract_number, normalise, tail
from probes.safe_eval import Expression, Value

_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]{0,62})\}")
_VAR_KINDS = ("int", "float", "choice", "name")
#: Keys each verifier kind takes, besides ``kind``.
_VERIFIER_KEYS: dict[str, set[str]] = {
    "exact": {"case_sensitive"}, "numeric": {"tolerance"}, "regex": {"pattern", "case_sensitive"},
    "json_fields": {"fields"}, "choice": {"choices"},
}
_FAMILY_KEYS = {"name", "skill", "version", "top", "grows", "plan", "description", "variables", "answer",
                "verifier", "renderings"}
#: The level's name inside expressions and placeholders.
LEVEL = "d"
#: Items drawn per level when a file loads (each from its own seed), besides the extreme bounds.
LOAD_DRAWS_PER_LEVEL = 50
#: Of those, how many per level are also rendered at every novelty and scored.
LOAD_RENDERS_PER_LEVEL = 3
MAX_VARIABLES = 32
MAX_FIELDS = 32
MAX_PLAN = 16
#: Longest choice value and most values in one choice variable.
MAX_VALUE_CHARS = 1000
MAX_VALUES = 1000
MAX_TEMPLATE = 20_000
#: Longest prompt a rendering may produce (its template with every placeholder at its widest).
MAX_PROMPT = 200_000
#: Longest final answer the regex verifier matches, and most backtracking paths its pattern may have
#: on an answer that long (checked at load: a pattern like '(a+)+b' is refused).
MAX_REGEX_SUBJECT = 400
MAX_REGEX_PATHS = 10**6
_OLD_FORM = ("the ten-row 'levels' list is gone: declare 'top', 'grows' and 'plan' (size parameters "
             "as expressions in d) and write variable min/max as expressions over the plan "
             "(docs/probes.md, 'A YAML template family')")


@dataclass(frozen=True)
class VarSpec:
    """One typed random variable at one level (bounds already evaluated)."""

    kind: str
    lo: float = 0
    hi: float = 0
    decimals: int = 2
    values: tuple[Value, ...] = ()

    def draw(self, rng: random.Random) -> Value:
        """A value drawn with ``rng``."""
        if self.kind == "int":
            return rng.randint(int(self.lo), int(self.hi))
        if self.kind == "float":
            return round(rng.uniform(self.lo, self.hi), self.decimals)
        if self.kind == "choice":
            return pick(rng, self.values)
        return pick(rng, NAMES)

    def extremes(self) -> tuple[Value, ...]:
        """The values at the ends of the range (every value of a choice)."""
        if self.kind == "int":
            return (int(self.lo), int(self.hi))
        if self.kind == "float":
            return (round(self.lo, self.decimals), round(self.hi, self.decimals))
        if self.kind == "choice":
            return self.values
        return (NAMES[0],)

    def widest(self) -> int:
        """The most characters a drawn value shows as in a prompt."""
        if self.kind == "int":
            return max(len(show(int(self.lo))), len(show(int(self.hi))))
        if self.kind == "float":
            return 32
        if self.kind == "choice":
            return max(len(show(v)) for v in self.values)
        return max(len(n) for n in NAMES)


def substitute(template: str, values: Mapping[str, Value], escape: bool = False) -> str:
    """Fill ``{name}`` placeholders (``{{``/``}}`` are literal braces); no format-spec mini-language."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "{{":
            return "{"
        if m.group(0) == "}}":
            return "}"
        text = show(values[m.group(1)])
        return re.escape(text) if escape else text

    return _PLACEHOLDER.sub(one, template)


def show(v: Value) -> str:
    """A value as prompt text (floats without trailing zeros, booleans lower-case)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return canonical_number(repr(v)) or repr(v)
    return str(v)


@dataclass(frozen=True, kw_only=True)
class TemplateFamily(ProbeFamily):
    """A probe family described by a YAML template, on the open scale (levels 1..top)."""

    name: str
    skill: str
    version: str
    top: int
    grows: str
    formula: str
    plans: tuple[Mapping[str, int], ...]  # the plan at each level, index d - 1
    level_variables: tuple[tuple[tuple[str, VarSpec], ...], ...]  # resolved bounds, index d - 1
    answer_expr: Expression | None
    verifier: Mapping[str, Any]
    renderings: tuple[tuple[str, str], ...]  # (template, answer format kind) per novelty
    fields: tuple[tuple[str, Expression], ...] = ()
    description: str | None = None
    source: str = field(default="", compare=False)

    def _check_level(self, difficulty: int) -> None:
        if not 1 <= difficulty <= self.top:
            raise ProbeError(f"difficulty {difficulty} is outside {self.name}'s levels 1..{self.top}")

    def plan(self, difficulty: int) -> dict[str, int]:
        self._check_level(difficulty)
        return dict(self.plans[difficulty - 1])

    def describe(self, difficulty: int) -> str:
        if self.description is None:
            return super().describe(difficulty)
        return substitute(self.description, {LEVEL: difficulty, **self.plan(difficulty)})

    def chance(self, difficulty: int) -> float:
        if self.verifier["kind"] == "choice":
            return 1.0 / len(self.verifier["choices"])
        return 0.0

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        self._check_level(difficulty)
        values = {var: spec.draw(rng) for var, spec in self.level_variables[difficulty - 1]}
        return self.problem(difficulty, values)

    def problem(self, difficulty: int, values: Mapping[str, Value]) -> Problem:
        """The problem these variable values make at a level (the answer computed from them)."""
        level = {LEVEL: difficulty, **self.plans[difficulty - 1]}
        env = {**level, **values}
        facts = {"vars": dict(values), "level": level}
        if self.verifier["kind"] == "json_fields":
            expected = {k: e.evaluate(env) for k, e in self.fields}
            return Problem(facts={**facts, "expected": expected}, answer=json.dumps(expected, sort_keys=True))
        if self.answer_expr is None:  # guarded at load time
            raise ExpressionError("no answer expression")
        return Problem(facts=facts, answer=show(self.answer_expr.evaluate(env)))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        template, kind = self.renderings[novelty]
        prompt = substitute(template, {**problem.facts["level"], **problem.facts["vars"]})
        if self.verifier["kind"] == "json_fields":
            return Rendering(prompt=prompt, answer=problem.answer)
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        kind = self.verifier["kind"]
        answer = item.problem.answer
        if kind == "numeric":
            tolerance = float(self.verifier.get("tolerance", 0.0))
            if _BIG_INT.fullmatch(answer):
                return _score_big_int(response, int(answer), tolerance)
            return score_number(response, answer, abs_tol=tolerance)
        if kind == "choice":
            return score_choice(response, answer, tuple(str(c) for c in self.verifier["choices"]))
        if kind == "json_fields":
            return _score_fields(item.problem.facts["expected"], response)
        final = extract_final(response)
        if final is None:
            return Verdict(0.0, None, None)
        sensitive = bool(self.verifier.get("case_sensitive", False))
        if kind == "regex":
            if len(final) > MAX_REGEX_SUBJECT:
                return Verdict(0.0, final[:MAX_REGEX_SUBJECT], None)
            values = {**item.problem.facts["level"], **item.problem.facts["vars"], "answer": answer}
            pattern = substitute(str(self.verifier["pattern"]), values, escape=True)
            ok = re.fullmatch(pattern, final, 0 if sensitive else re.IGNORECASE) is not None
            return Verdict(1.0 if ok else 0.0, final, normalise(final))
        canon = " ".join(final.split()) if sensitive else normalise(final)
        target = " ".join(answer.split()) if sensitive else normalise(answer)
        return Verdict(1.0 if canon == target else 0.0, final, canon)


# Integers with more digits than a float holds exactly (2**53 has 16) are compared digit for digit.
_BIG_INT = re.compile(r"-?\d{16,}")
_NUMBER_TOKEN = re.compile(r"[-−]?(?:\d{1,3}(?:[,  _']\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d{1,3})?")


def _exact(token: str) -> Fraction | None:
    cleaned = token.replace("−", "-")
    for sep in (",", " ", " ", "_", "'"):
        cleaned = cleaned.replace(sep, "")
    try:
        return Fraction(Decimal(cleaned))
    except (InvalidOperation, ValueError):
        return None


def _score_big_int(response: str, expected: int, tolerance: float) -> Verdict:
    """The numeric verifier for an integer past float precision: the same number the extractor
    picks (``extract_number``), read exactly from the response's digits."""
    found = extract_number(response)
    if found is None:
        return Verdict(0.0, None, None)
    final = extract_final(response) or ""
    for fragment in (final, *reversed(tail(response).splitlines())):
        for token in _NUMBER_TOKEN.findall(fragment):
            if canonical_number(token) != found:
                continue
            value = _exact(token)
            if value is None:
                break
            canon = str(value.numerator) if value.denominator == 1 else str(float(value))
            ok = abs(value - expected) <= Fraction(tolerance)
            return Verdict(1.0 if ok else 0.0, token, canon)
    return Verdict(0.0, found, found)


def _score_fields(expected: Mapping[str, Any], response: str) -> Verdict:
    got = extract_json(response)
    if not isinstance(got, dict):
        return Verdict(0.0, None, None)
    right = 0
    for key, want in expected.items():
        have: Any = got.get(key)
        numbers = [isinstance(x, int | float) and not isinstance(x, bool) for x in (want, have)]
        if all(numbers) and not (isinstance(want, int) and isinstance(have, int)):
            right += math.isclose(float(have), float(want), rel_tol=1e-9, abs_tol=1e-9)
        else:
            right += have == want  # integers exactly, however long
    canonical = json.dumps({k: got[k] for k in expected if k in got}, sort_keys=True)
    return Verdict(right / len(expected), json.dumps(got, sort_keys=True)[:2000], canonical)


# -- loading ----------------------------------------------------------------------------------------


def load_template_families(paths: Iterable[str | Path]) -> list[ProbeFamily]:
    """Every family declared in these YAML files; TemplateError names file, key and problem."""
    families: list[ProbeFamily] = []
    for path in paths:
        families.extend(load_template_file(Path(path)))
    return families


def load_template_file(path: Path) -> list[ProbeFamily]:
    """The families declared in one YAML file."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(file, "", f"cannot read: {exc.strerror}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TemplateError(file, "", f"YAML syntax error: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("families"), list):
        raise TemplateError(file, "families", "the file must be a mapping with a 'families' list")
    unknown = set(doc) - {"families"}
    if unknown:
        raise TemplateError(file, sorted(unknown)[0], "unknown key")
    return [_family(file, f"families[{i}]", spec) for i, spec in enumerate(doc["families"])]


def _need(file: str, key: str, spec: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in spec:
        raise TemplateError(file, f"{key}.{name}", "is required")
    value = spec[name]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise TemplateError(file, f"{key}.{name}", f"must be {getattr(kind, '__name__', kind)}")
    return value


def _expr(file: str, key: str, source: Any, names: Iterable[str]) -> Expression:
    if not isinstance(source, str | int | float) or isinstance(source, bool):
        raise TemplateError(file, key, "must be an expression string")
    try:
        expr = Expression(str(source))
    except ExpressionError as exc:
        raise TemplateError(file, key, str(exc)) from None
    missing = set(expr.names) - set(names)
    if missing:
        raise TemplateError(file, key, f"unknown variable {sorted(missing)[0]!r}")
    return expr


def _value(file: str, key: str, expr: Expression, env: Mapping[str, Value]) -> Value:
    try:
        return expr.evaluate(env)
    except ExpressionError as exc:
        raise TemplateError(file, key, f"level {env[LEVEL]}: {exc}") from None


def _plan(file: str, key: str, spec: Mapping[str, Any], top: int) -> tuple[tuple[Mapping[str, int], ...], str]:
    """Every level's plan, checked (integers, never shrinking), and the formula text."""
    raw = _need(file, key, spec, "plan", dict)
    if not raw or len(raw) > MAX_PLAN:
        raise TemplateError(file, f"{key}.plan", f"needs 1..{MAX_PLAN} size parameters")
    exprs: list[tuple[str, Expression]] = []
    for p, source in raw.items():
        pkey = f"{key}.plan.{p}"
        if not isinstance(p, str) or not _NAME.fullmatch(p) or p == LEVEL:
            raise TemplateError(file, pkey, f"plan names must be lower_snake_case and not {LEVEL!r}")
        exprs.append((p, _expr(file, pkey, source, [LEVEL, *(q for q, _ in exprs)])))
    plans: list[Mapping[str, int]] = []
    for d in range(1, top + 1):
        env: dict[str, Value] = {LEVEL: d}
        for p, expr in exprs:
            v = _value(file, f"{key}.plan.{p}", expr, env)
            if not isinstance(v, int) or isinstance(v, bool):
                raise TemplateError(file, f"{key}.plan.{p}", f"level {d}: gave {v!r}, not an integer")
            if plans and v < plans[-1][p]:
                raise TemplateError(file, f"{key}.plan.{p}", f"level {d}: {v} is below level {d - 1}'s "
                                    f"{plans[-1][p]} (plan parameters never shrink)")
            env[p] = v
        plans.append({p: int(env[p]) for p, _ in exprs})
    formula = "; ".join(f"{p} = {e.source}" for p, e in exprs)
    return tuple(plans), formula


def _variables(
    file: str, key: str, raw_vars: Mapping[Any, Any], plans: tuple[Mapping[str, int], ...]
) -> tuple[tuple[tuple[str, VarSpec], ...], ...]:
    """Each level's variables with their bounds evaluated and checked."""
    if not raw_vars or len(raw_vars) > MAX_VARIABLES:
        raise TemplateError(file, f"{key}.variables", f"needs 1..{MAX_VARIABLES} variables")
    scope = [LEVEL, *plans[0]]
    declared: list[tuple[str, str, Any, Any, int, tuple[Value, ...]]] = []
    for v, raw in raw_vars.items():
        vkey = f"{key}.variables.{v}"
        if not isinstance(v, str) or not _NAME.fullmatch(v) or v in scope:
            raise TemplateError(file, vkey, "variable names must be lower_snake_case, not d or a plan name")
        if not isinstance(raw, dict):
            raise TemplateError(file, vkey, "a variable must be a mapping")
        kind = raw.get("type")
        if kind not in _VAR_KINDS:
            raise TemplateError(file, f"{vkey}.type", f"must be one of {', '.join(_VAR_KINDS)}")
        allowed = {"type", "min", "max", "decimals"} if kind in ("int", "float") else \
            {"type", "values"} if kind == "choice" else {"type"}
        extra = set(raw) - allowed
        if extra:
            raise TemplateError(file, f"{vkey}.{sorted(extra)[0]}", f"unknown key for a {kind} variable")
        lo = hi = None
        decimals = 2
        values: tuple[Value, ...] = ()
        if kind in ("int", "float"):
            for label in ("min", "max"):
                if label not in raw:
                    raise TemplateError(file, f"{vkey}.{label}", "is required")
            lo = _expr(file, f"{vkey}.min", raw["min"], scope)
            hi = _expr(file, f"{vkey}.max", raw["max"], scope)
            decimals = raw.get("decimals", 2)
            if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
                raise TemplateError(file, f"{vkey}.decimals", "must be an integer 0..6")
        if kind == "choice":
            vals = raw.get("values")
            if not isinstance(vals, list) or not 0 < len(vals) <= MAX_VALUES or not all(
                    isinstance(x, str | int | float) and len(show(x)) <= MAX_VALUE_CHARS for x in vals):
                raise TemplateError(file, f"{vkey}.values", f"must be a list of 1..{MAX_VALUES} strings "
                                    f"or numbers of at most {MAX_VALUE_CHARS} characters")
            values = tuple(vals)
        declared.append((v, kind, lo, hi, decimals, values))

    levels: list[tuple[tuple[str, VarSpec], ...]] = []
    for d, plan in enumerate(plans, start=1):
        env: dict[str, Value] = {LEVEL: d, **plan}
        specs: list[tuple[str, VarSpec]] = []
        for v, kind, lo_expr, hi_expr, decimals, values in declared:
            vkey = f"{key}.variables.{v}"
            if kind not in ("int", "float"):
                specs.append((v, VarSpec(kind, values=values)))
                continue
            bounds: list[float] = []
            for label, expr in (("min", lo_expr), ("max", hi_expr)):
                b = _value(file, f"{vkey}.{label}", expr, env)
                if not isinstance(b, int | float) or isinstance(b, bool) or (kind == "int" and not isinstance(b, int)):
                    what = "an integer" if kind == "int" else "a number"
                    raise TemplateError(file, f"{vkey}.{label}", f"level {d}: gave {b!r}, not {what}")
                bounds.append(b)
            if bounds[0] > bounds[1]:
                raise TemplateError(file, vkey, f"level {d}: min {bounds[0]} is above max {bounds[1]}")
            specs.append((v, VarSpec(kind, bounds[0], bounds[1], decimals)))
        levels.append(tuple(specs))
    return tuple(levels)


def _verifier(file: str, key: str, spec: Mapping[str, Any], names: list[str]) -> tuple[
        dict[str, Any], Expression | None, tuple[tuple[str, Expression], ...]]:
    verifier = _need(file, key, spec, "verifier", dict)
    vkey = f"{key}.verifier"
    vkind = verifier.get("kind")
    if vkind not in _VERIFIER_KEYS:
        raise TemplateError(file, f"{vkey}.kind", f"must be one of {', '.join(_VERIFIER_KEYS)}")
    extra = set(verifier) - {"kind"} - _VERIFIER_KEYS[vkind]
    if extra:
        raise TemplateError(file, f"{vkey}.{sorted(extra)[0]}", f"unknown key for a {vkind} verifier")
    fields: tuple[tuple[str, Expression], ...] = ()
    answer_expr: Expression | None = None
    if vkind == "json_fields":
        raw_fields = _need(file, vkey, verifier, "fields", dict)
        if not 0 < len(raw_fields) <= MAX_FIELDS:
            raise TemplateError(file, f"{vkey}.fields", f"needs 1..{MAX_FIELDS} fields")
        fields = tuple((str(k), _expr(file, f"{vkey}.fields.{k}", e, names)) for k, e in raw_fields.items())
        if "answer" in spec:
            raise TemplateError(file, f"{key}.answer", "json_fields takes its answers from verifier.fields")
    else:
        answer_expr = _expr(file, f"{key}.answer", spec.get("answer"), names)
    if vkind == "numeric":
        tol = verifier.get("tolerance", 0)
        if not isinstance(tol, int | float) or isinstance(tol, bool) or not 0 <= tol < math.inf:
            raise TemplateError(file, f"{vkey}.tolerance", "must be a number >= 0")
    if vkind == "choice":
        choices = verifier.get("choices")
        if not isinstance(choices, list) or not 2 <= len(choices) <= MAX_VALUES or not all(
                isinstance(c, str | int | float) and not isinstance(c, bool) for c in choices):
            raise TemplateError(file, f"{vkey}.choices", "must be a list of at least two strings or numbers")
    if vkind in ("exact", "regex") and not isinstance(verifier.get("case_sensitive", False), bool):
        raise TemplateError(file, f"{vkey}.case_sensitive", "must be true or false")
    if vkind == "regex":
        pattern = verifier.get("pattern")
        if not isinstance(pattern, str):
            raise TemplateError(file, f"{vkey}.pattern", "must be a string")
        for m in _PLACEHOLDER.finditer(pattern):
            if m.group(1) and m.group(1) not in [*names, "answer"]:
                raise TemplateError(file, f"{vkey}.pattern", f"unknown placeholder {m.group(1)!r}")
        _check_regex(file, f"{vkey}.pattern", pattern, bool(verifier.get("case_sensitive", False)))
    return dict(verifier), answer_expr, fields


_SRE_PARSER: Any = importlib.import_module("re._parser")  # the stdlib's regex parser (no public API)
_FIXED = {"LITERAL", "NOT_LITERAL", "ANY", "IN", "AT", "CATEGORY", "RANGE", "NEGATE", "CHARSET"}


def _regex_paths(items: Any, in_repeat: bool = False) -> int:
    """How many ways the pattern can split a ``MAX_REGEX_SUBJECT``-character answer, bounded above
    (backtracking tries at most about that many); ValueError for what backtracks exponentially."""
    total = 1
    for op, av in items:
        kind = str(op)
        if kind in _FIXED:
            continue
        if kind in ("SUBPATTERN", "ATOMIC_GROUP"):
            inner = _regex_paths(av[-1], in_repeat)
        elif kind in ("ASSERT", "ASSERT_NOT"):
            inner = _regex_paths(av[1], in_repeat)
        elif kind == "BRANCH":
            if in_repeat:
                raise ValueError("an alternation inside a repeat can backtrack exponentially")
            inner = sum(_regex_paths(alt) for alt in av[1])
        elif kind in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = av
            if lo == hi:
                inner = min(_regex_paths(sub, in_repeat), MAX_REGEX_PATHS + 1) ** min(lo, 64)
            elif hi <= 1:  # optional: taken once or not at all
                inner = _regex_paths(sub, in_repeat) + 1
            else:
                if in_repeat:
                    raise ValueError("a repeat inside a repeat can backtrack exponentially")
                _regex_paths(sub, in_repeat=True)
                inner = min(hi, MAX_REGEX_SUBJECT) - lo + 1
        else:  # back-references and conditionals make matching cost unbounded
            raise ValueError(f"{kind.lower()} is not allowed")
        total = min(total * max(inner, 1), MAX_REGEX_PATHS + 1)
    return total


def _check_regex(file: str, key: str, pattern: str, case_sensitive: bool) -> None:
    """The pattern compiles for any values, and its backtracking is bounded on any answer."""
    probe = _PLACEHOLDER.sub(lambda m: "x" if m.group(1) else m.group(0)[0], pattern)
    try:
        re.compile(probe, 0 if case_sensitive else re.IGNORECASE)
        paths = _regex_paths(_SRE_PARSER.parse(probe))
    except re.error as exc:
        raise TemplateError(file, key, f"not a valid regular expression: {exc}") from None
    except ValueError as exc:
        raise TemplateError(file, key, str(exc)) from None
    if paths > MAX_REGEX_PATHS:
        raise TemplateError(file, key, f"can backtrack more than {MAX_REGEX_PATHS} ways on a "
                            f"{MAX_REGEX_SUBJECT}-character answer (use fewer unbounded repeats)")


def _renderings(
    file: str, key: str, spec: Mapping[str, Any], widths: Mapping[str, int]
) -> tuple[tuple[str, str], ...]:
    raw_renderings = _need(file, key, spec, "renderings", list)
    if len(raw_renderings) != len(NOVELTY_LEVELS):
        raise TemplateError(file, f"{key}.renderings", f"needs exactly {len(NOVELTY_LEVELS)} (novelty 0..3)")
    renderings: list[tuple[str, str]] = []
    for i, r in enumerate(raw_renderings):
        rkey = f"{key}.renderings[{i}]"
        template, kind = (r, "line") if isinstance(r, str) else (
            (r.get("template"), r.get("format", "line")) if isinstance(r, dict) else (None, ""))
        if not isinstance(template, str):
            raise TemplateError(file, rkey, "must be a template string or {template, format}")
        if len(template) > MAX_TEMPLATE:
            raise TemplateError(file, rkey, f"longer than {MAX_TEMPLATE} characters")
        if kind not in ("line", *FORMAT_KINDS):
            raise TemplateError(file, f"{rkey}.format", f"must be one of line, {', '.join(FORMAT_KINDS)}")
        widest = len(template)
        for m in _PLACEHOLDER.finditer(template):
            if m.group(1) and m.group(1) not in widths:
                raise TemplateError(file, rkey, f"unknown placeholder {m.group(1)!r}")
            widest += widths[m.group(1)] if m.group(1) else 0
        if widest > MAX_PROMPT:
            raise TemplateError(file, rkey, f"could render {widest} characters, above {MAX_PROMPT}")
        if not any(marker in template for marker in FORMAT_MARKERS):
            raise TemplateError(file, rkey, "must state the answer format (e.g. \"... as 'Answer: <x>'\")")
        renderings.append((template, kind))
    return tuple(renderings)


def _family(file: str, key: str, spec: Any) -> TemplateFamily:
    if not isinstance(spec, dict):
        raise TemplateError(file, key, "a family must be a mapping")
    if "levels" in spec:
        raise TemplateError(file, f"{key}.levels", _OLD_FORM)
    extra = set(spec) - _FAMILY_KEYS
    if extra:
        raise TemplateError(file, f"{key}.{sorted(extra)[0]}", "unknown key")
    name = _need(file, key, spec, "name", str)
    if not _NAME.fullmatch(name):
        raise TemplateError(file, f"{key}.name", "must be lower_snake_case")
    skill = _need(file, key, spec, "skill", str)
    version = str(spec.get("version", "1"))
    top = _need(file, key, spec, "top", int)
    if not 1 <= top <= MAX_TOP:
        raise TemplateError(file, f"{key}.top", f"must be an integer 1..{MAX_TOP}")
    plans, formula = _plan(file, key, spec, top)
    grows = _need(file, key, spec, "grows", str)
    if grows not in plans[0]:
        raise TemplateError(file, f"{key}.grows", f"must name a plan parameter ({', '.join(plans[0])})")
    description = spec.get("description")
    if description is not None:
        if not isinstance(description, str) or not description.strip():
            raise TemplateError(file, f"{key}.description", "must be a template string")
        for m in _PLACEHOLDER.finditer(description):
            if m.group(1) and m.group(1) not in [LEVEL, *plans[0]]:
                raise TemplateError(file, f"{key}.description", f"unknown placeholder {m.group(1)!r} "
                                    f"(only {LEVEL} and plan parameters)")

    level_variables = _variables(file, key, _need(file, key, spec, "variables", dict), plans)
    names = [LEVEL, *plans[0], *(v for v, _ in level_variables[0])]
    verifier, answer_expr, fields = _verifier(file, key, spec, names)
    widths = {LEVEL: len(str(top)), **{p: len(str(plans[-1][p])) for p in plans[0]}}
    for specs in level_variables:
        for v, vs in specs:
            widths[v] = max(widths.get(v, 0), vs.widest())
    renderings = _renderings(file, key, spec, widths)

    family = TemplateFamily(
        name=name, skill=skill, version=version, top=top, grows=grows, formula=formula, plans=plans,
        level_variables=level_variables, answer_expr=answer_expr, verifier=verifier,
        renderings=renderings, fields=fields, description=description, source=file,
    )
    _self_check(family, file, key)
    return family


# -- the load-time self-check ------------------------------------------------------------------------


def _extremes(specs: tuple[tuple[str, VarSpec], ...]) -> Iterator[dict[str, Value]]:
    """Every variable at its lowest and at its highest, alone and together (choices: every value)."""
    lows = {v: s.extremes()[0] for v, s in specs}
    highs = {v: s.extremes()[-1] for v, s in specs}
    yield lows
    yield highs
    for v, s in specs:
        for value in s.extremes():
            yield {**lows, v: value}
            yield {**highs, v: value}


def _self_check(family: TemplateFamily, file: str, key: str) -> None:
    """At every level: the extremes and many seeded draws must generate, and the reference answers
    of some of them, rendered at every novelty, must score 1.0."""
    salt = b"capmon-template-check"
    choices = [str(c) for c in family.verifier["choices"]] if family.verifier["kind"] == "choice" else []
    for d in family.levels:
        # (where, problem, the novelties its reference answer is scored at)
        problems: list[tuple[str, Problem, Iterable[int]]] = []
        for i, values in enumerate(_extremes(family.level_variables[d - 1])):
            where = f"level {d} with {_brief(values)}"
            problems.append((where, _checked(family, file, key, d, values), (i % len(NOVELTY_LEVELS),)))
        for index in range(LOAD_DRAWS_PER_LEVEL):
            rng = random.Random(derive_seed(salt, family.name, index, d))
            values = {var: spec.draw(rng) for var, spec in family.level_variables[d - 1]}
            problem = _checked(family, file, key, d, values)
            problems.append((f"level {d}", problem, NOVELTY_LEVELS if index < LOAD_RENDERS_PER_LEVEL else ()))
        for where, problem, novelties in problems:
            if choices and problem.answer not in choices:
                raise TemplateError(file, f"{key}.answer", f"{where}: gave {problem.answer!r}, not a choice")
            for novelty in novelties:
                _check_scores(family, file, key, where, problem, novelty)
    # And through the public path, as a probe run would make them.
    for d in family.levels:
        try:
            make_items(family, salt, 0, d, NOVELTY_LEVELS)
        except (ProbeError, KeyError, re.error) as exc:
            raise TemplateError(file, key, f"level {d}: {exc}") from None


# Template renderings draw nothing from their random stream; one shared instance saves seeding it.
_RENDER_RNG = random.Random(0)


def _brief(values: Mapping[str, Value]) -> str:
    return ", ".join(f"{k}={show(v)[:20]}" for k, v in values.items())[:200]


def _checked(family: TemplateFamily, file: str, key: str, d: int, values: Mapping[str, Value]) -> Problem:
    try:
        return family.problem(d, values)
    except ExpressionError as exc:
        where = f"{key}.verifier.fields" if family.fields else f"{key}.answer"
        raise TemplateError(file, where, f"level {d} with {_brief(values)}: {exc}") from None


def _check_scores(family: TemplateFamily, file: str, key: str, where: str, problem: Problem, novelty: int) -> None:
    try:
        rendering = family.render(problem, novelty, _RENDER_RNG)
        item = Item(family=family.name, index=0, difficulty=problem.facts["level"][LEVEL], novelty=novelty,
                    seed=0, prompt=rendering.prompt, answer=rendering.answer, problem=problem,
                    generator_version=family.version)
        verdict = family.score(item, item.answer)
    except (ProbeError, KeyError, re.error) as exc:
        raise TemplateError(file, key, f"{where}: {exc}") from None
    if verdict.score != 1.0:
        raise TemplateError(file, key, f"{where} novelty {novelty}: the reference answer {item.answer!r} "
                            f"scores {verdict.score}, not 1.0")
