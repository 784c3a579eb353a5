"""Template families declared in YAML: the user's own probes, with the same contract as built-ins.

A file holds ``families:``, a list of mappings::

    name: invoice_total            # lower_snake_case, unique in the registry
    skill: finance
    version: "1"
    variables:                     # drawn in order; kinds int | float | choice | name
      qty: {type: int, min: 2, max: 9}
      price: {type: float, min: 1, max: 20, decimals: 2}
      item: {type: choice, values: [bolts, nuts]}
      buyer: {type: name}
    answer: "round(qty * price, 2)"          # safe expression (probes.safe_eval)
    verifier: {kind: numeric, tolerance: 0.01}
    levels:                        # exactly 10: a description and variable overrides
      - {description: "2-9 items", variables: {qty: {min: 2, max: 9}}}
    renderings:                    # exactly 4 (novelty 0..3): a template, or {template, format}
      - "{buyer} buys {qty} {item} at {price} each. Total? Give the final answer on the last line as
         'Answer: <number>'."

Verifier kinds: ``exact`` (case_sensitive: false by default), ``numeric`` (tolerance, absolute),
``regex`` (pattern with ``{var}``/``{answer}`` placeholders, escaped, full match on the final
answer), ``json_fields`` (fields: key -> expression; partial credit = fraction of fields right),
``choice`` (choices: list; the answer expression must give one of them).
Placeholders are ``{name}``; ``{{`` and ``}}`` are literal braces. Every rendering must state the
answer format. Loading draws and scores sample items at every level, so a template whose
reference answer would not score 1.0 is rejected at load time, never at probe time.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from probes.base import (
    NOVELTY_LEVELS,
    Item,
    ProbeFamily,
    Problem,
    Rendering,
    Verdict,
    make_item,
)
from probes.common import FORMAT_KINDS, FORMAT_MARKERS, NAMES, pick, score_choice, score_number, wrap_answer
from probes.errors import ExpressionError, ProbeError, TemplateError
from probes.extract import canonical_number, extract_final, extract_json, normalise
from probes.safe_eval import Expression, Value

_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]{0,62})\}")
_VAR_KINDS = ("int", "float", "choice", "name")
_VERIFIERS = ("exact", "numeric", "regex", "json_fields", "choice")
_FAMILY_KEYS = {"name", "skill", "version", "variables", "answer", "verifier", "levels", "renderings",
                "description"}
#: Sample items drawn per level when a file loads, to prove the reference answers score 1.0.
# Template families still declare ten levels as a table (until they take level formulas).
DIFFICULTY_LEVELS = range(1, 11)
LOAD_CHECKS_PER_LEVEL = 3


@dataclass(frozen=True)
class VarSpec:
    """One typed random variable."""

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
    """A probe family described by a YAML template."""

    name: str
    skill: str
    version: str
    notes: tuple[str, ...]
    variables: tuple[tuple[str, VarSpec], ...]
    level_overrides: tuple[Mapping[str, VarSpec], ...]
    answer_expr: Expression | None
    verifier: Mapping[str, Any]
    renderings: tuple[tuple[str, str], ...]  # (template, answer format kind) per novelty
    fields: tuple[tuple[str, Expression], ...] = ()
    source: str = field(default="", compare=False)

    def describe(self, difficulty: int) -> str:
        return self.notes[difficulty - 1]

    def build(self, rng: random.Random, difficulty: int) -> Problem:
        overrides = self.level_overrides[difficulty - 1]
        values: dict[str, Value] = {}
        for var, spec in self.variables:
            values[var] = overrides.get(var, spec).draw(rng)
        if self.verifier["kind"] == "json_fields":
            expected = {k: e.evaluate(values) for k, e in self.fields}
            return Problem(facts={"vars": values, "expected": expected},
                           answer=json.dumps(expected, sort_keys=True))
        if self.answer_expr is None:  # guarded at load time
            raise ExpressionError("no answer expression")
        return Problem(facts={"vars": values}, answer=show(self.answer_expr.evaluate(values)))

    def render(self, problem: Problem, novelty: int, rng: random.Random) -> Rendering:
        template, kind = self.renderings[novelty]
        prompt = substitute(template, problem.facts["vars"])
        if self.verifier["kind"] == "json_fields":
            return Rendering(prompt=prompt, answer=problem.answer)
        return Rendering(prompt=prompt, answer=wrap_answer(kind, problem.answer))

    def score(self, item: Item, response: str) -> Verdict:
        kind = self.verifier["kind"]
        answer = item.problem.answer
        if kind == "numeric":
            return score_number(response, answer, abs_tol=float(self.verifier.get("tolerance", 0.0)))
        if kind == "choice":
            return score_choice(response, answer, tuple(str(c) for c in self.verifier["choices"]))
        if kind == "json_fields":
            return _score_fields(item.problem.facts["expected"], response)
        final = extract_final(response)
        if final is None:
            return Verdict(0.0, None, None)
        sensitive = bool(self.verifier.get("case_sensitive", False))
        if kind == "regex":
            values = {**item.problem.facts["vars"], "answer": answer}
            pattern = substitute(str(self.verifier["pattern"]), values, escape=True)
            ok = re.fullmatch(pattern, final, 0 if sensitive else re.IGNORECASE) is not None
            return Verdict(1.0 if ok else 0.0, final, normalise(final))
        canon = " ".join(final.split()) if sensitive else normalise(final)
        target = " ".join(answer.split()) if sensitive else normalise(answer)
        return Verdict(1.0 if canon == target else 0.0, final, canon)


def _score_fields(expected: Mapping[str, Any], response: str) -> Verdict:
    got = extract_json(response)
    if not isinstance(got, dict):
        return Verdict(0.0, None, None)
    right = 0
    for key, want in expected.items():
        have = got.get(key)
        if isinstance(want, int | float) and not isinstance(want, bool) and isinstance(have, int | float) \
                and not isinstance(have, bool):
            right += math.isclose(have, want, rel_tol=1e-9, abs_tol=1e-9)
        else:
            right += have == want
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


def _var(file: str, key: str, raw: Any, base: VarSpec | None = None) -> VarSpec:
    if not isinstance(raw, dict):
        raise TemplateError(file, key, "a variable must be a mapping")
    kind = raw.get("type", base.kind if base else None)
    if kind not in _VAR_KINDS:
        raise TemplateError(file, f"{key}.type", f"must be one of {', '.join(_VAR_KINDS)}")
    extra = set(raw) - {"type", "min", "max", "decimals", "values"}
    if extra:
        raise TemplateError(file, f"{key}.{sorted(extra)[0]}", "unknown key")
    if kind in ("int", "float"):
        bounds: list[float] = []
        for label in ("min", "max"):
            v = raw.get(label, getattr(base, "lo" if label == "min" else "hi") if base else None)
            if (not isinstance(v, int | float) or isinstance(v, bool)
                    or (kind == "int" and not isinstance(v, int))):
                what = "an integer" if kind == "int" else "a number"
                raise TemplateError(file, f"{key}.{label}", f"must be {what}")
            bounds.append(v)
        lo, hi = bounds
        if lo > hi:
            raise TemplateError(file, key, f"min {lo} is above max {hi}")
        decimals = raw.get("decimals", base.decimals if base else 2)
        if not isinstance(decimals, int) or not 0 <= decimals <= 6:
            raise TemplateError(file, f"{key}.decimals", "must be an integer 0..6")
        return VarSpec(kind, lo, hi, decimals)
    if kind == "choice":
        values = raw.get("values", list(base.values) if base else None)
        if not isinstance(values, list) or not values or \
                not all(isinstance(v, str | int | float) for v in values):
            raise TemplateError(file, f"{key}.values", "must be a non-empty list of strings or numbers")
        return VarSpec(kind, values=tuple(values))
    return VarSpec(kind)


def _expr(file: str, key: str, source: Any, names: set[str]) -> Expression:
    if not isinstance(source, str | int | float) or isinstance(source, bool):
        raise TemplateError(file, key, "must be an expression string")
    try:
        expr = Expression(str(source))
    except ExpressionError as exc:
        raise TemplateError(file, key, str(exc)) from None
    missing = set(expr.names) - names
    if missing:
        raise TemplateError(file, key, f"unknown variable {sorted(missing)[0]!r}")
    return expr


def _family(file: str, key: str, spec: Any) -> TemplateFamily:
    if not isinstance(spec, dict):
        raise TemplateError(file, key, "a family must be a mapping")
    extra = set(spec) - _FAMILY_KEYS
    if extra:
        raise TemplateError(file, f"{key}.{sorted(extra)[0]}", "unknown key")
    name = _need(file, key, spec, "name", str)
    if not _NAME.fullmatch(name):
        raise TemplateError(file, f"{key}.name", "must be lower_snake_case")
    skill = _need(file, key, spec, "skill", str)
    version = str(spec.get("version", "1"))
    raw_vars = _need(file, key, spec, "variables", dict)
    variables = tuple((v, _var(file, f"{key}.variables.{v}", raw)) for v, raw in raw_vars.items())
    for v, _ in variables:
        if not _NAME.fullmatch(str(v)):
            raise TemplateError(file, f"{key}.variables.{v}", "variable names must be lower_snake_case")
    names = {v for v, _ in variables}

    verifier = _need(file, key, spec, "verifier", dict)
    vkind = verifier.get("kind")
    if vkind not in _VERIFIERS:
        raise TemplateError(file, f"{key}.verifier.kind", f"must be one of {', '.join(_VERIFIERS)}")
    fields: tuple[tuple[str, Expression], ...] = ()
    answer_expr: Expression | None = None
    if vkind == "json_fields":
        raw_fields = _need(file, f"{key}.verifier", verifier, "fields", dict)
        if not raw_fields:
            raise TemplateError(file, f"{key}.verifier.fields", "needs at least one field")
        fields = tuple(
            (str(k), _expr(file, f"{key}.verifier.fields.{k}", e, names)) for k, e in raw_fields.items()
        )
    else:
        answer_expr = _expr(file, f"{key}.answer", spec.get("answer"), names)
    if vkind == "numeric":
        tol = verifier.get("tolerance", 0)
        if not isinstance(tol, int | float) or isinstance(tol, bool) or tol < 0:
            raise TemplateError(file, f"{key}.verifier.tolerance", "must be a number >= 0")
    if vkind == "choice":
        choices = verifier.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            raise TemplateError(file, f"{key}.verifier.choices", "must be a list of at least two choices")
    if vkind == "regex":
        pattern = verifier.get("pattern")
        if not isinstance(pattern, str):
            raise TemplateError(file, f"{key}.verifier.pattern", "must be a string")
        for m in _PLACEHOLDER.finditer(pattern):
            if m.group(1) and m.group(1) not in names | {"answer"}:
                raise TemplateError(file, f"{key}.verifier.pattern", f"unknown placeholder {m.group(1)!r}")

    raw_levels = _need(file, key, spec, "levels", list)
    if len(raw_levels) != len(DIFFICULTY_LEVELS):
        raise TemplateError(file, f"{key}.levels", f"needs exactly {len(DIFFICULTY_LEVELS)} levels")
    descriptions: list[str] = []
    overrides: list[dict[str, VarSpec]] = []
    base = dict(variables)
    for i, level in enumerate(raw_levels):
        lkey = f"{key}.levels[{i}]"
        if not isinstance(level, dict):
            raise TemplateError(file, lkey, "a level must be a mapping with a description")
        descriptions.append(str(_need(file, lkey, level, "description", str)))
        over = level.get("variables", {}) or {}
        if not isinstance(over, dict):
            raise TemplateError(file, f"{lkey}.variables", "must be a mapping")
        for v in over:
            if v not in base:
                raise TemplateError(file, f"{lkey}.variables.{v}", "is not a declared variable")
        overrides.append({v: _var(file, f"{lkey}.variables.{v}", raw, base[v]) for v, raw in over.items()})

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
        if kind not in ("line", *FORMAT_KINDS):
            raise TemplateError(file, f"{rkey}.format", f"must be one of line, {', '.join(FORMAT_KINDS)}")
        for m in _PLACEHOLDER.finditer(template):
            if m.group(1) and m.group(1) not in names:
                raise TemplateError(file, rkey, f"unknown placeholder {m.group(1)!r}")
        if not any(marker in template for marker in FORMAT_MARKERS):
            raise TemplateError(file, rkey, "must state the answer format (e.g. \"... as 'Answer: <x>'\")")
        renderings.append((template, kind))

    family = TemplateFamily(
        name=name, skill=skill, version=version, notes=tuple(descriptions), variables=variables,
        level_overrides=tuple(overrides), answer_expr=answer_expr, verifier=dict(verifier),
        renderings=tuple(renderings), fields=fields, source=file,
    )
    _self_check(family, file, key)
    return family


def _self_check(family: TemplateFamily, file: str, key: str) -> None:
    """Draw items at every level and novelty: each must generate, and its reference must score 1.0."""
    for difficulty in DIFFICULTY_LEVELS:
        for index in range(LOAD_CHECKS_PER_LEVEL):
            for novelty in NOVELTY_LEVELS:
                try:
                    item = make_item(family, b"capmon-template-check", index, difficulty, novelty)
                    verdict = family.score(item, item.answer)
                except (ProbeError, KeyError, re.error) as exc:
                    raise TemplateError(file, key, f"level {difficulty}: {exc}") from None
                if verdict.score != 1.0:
                    raise TemplateError(
                        file, key, f"level {difficulty} novelty {novelty}: the reference answer "
                        f"{item.answer!r} scores {verdict.score}, not 1.0")
                if family.verifier["kind"] == "choice" and item.problem.answer not in \
                        [str(c) for c in family.verifier["choices"]]:
                    raise TemplateError(file, f"{key}.answer", f"gave {item.problem.answer!r}, not a choice")
