"""YAML template families: loading, every verifier kind, and errors naming file, key and problem."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from probes.base import MAX_TOP, make_item
from probes.errors import ExpressionError, ProbeError, TemplateError
from probes.templates import TemplateFamily, load_template_families, substitute
from tests.probes.conftest import EXAMPLE_YAML

SAFETY_NET_S = 1.0  # a backstop for runaway matching, not what the tests assert
LINE = "Give the final answer on the last line as 'Answer: <x>'."


def family_spec(**over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "adder",
        "skill": "custom",
        "top": 10,
        "grows": "width",
        "plan": {"width": "d"},
        "variables": {"a": {"type": "int", "min": 1, "max": "10 ** width"},
                      "b": {"type": "int", "min": 1, "max": 9}},
        "answer": "a + b",
        "verifier": {"kind": "numeric"},
        "renderings": [f"What is {{a}} + {{b}}? {LINE}", f"Add {{a}} and {{b}}. {LINE}",
                       f"Sum: {{b}} plus {{a}}. {LINE}",
                       {"template": "A merchant adds {a} and {b}. Write the number between <answer> and "
                                    "</answer>.", "format": "tag"}],
    }
    spec.update(over)
    return {k: v for k, v in spec.items() if v is not None}  # None drops a key


def write(tmp_path: Path, *families: dict[str, Any]) -> Path:
    path = tmp_path / "fams.yaml"
    path.write_text(yaml.safe_dump({"families": list(families)}, sort_keys=False))
    return path


def load_one(tmp_path: Path, **over: Any) -> TemplateFamily:
    fams = load_template_families([write(tmp_path, family_spec(**over))])
    assert len(fams) == 1 and isinstance(fams[0], TemplateFamily)
    return fams[0]


def test_example_file_loads() -> None:
    fams = load_template_families([EXAMPLE_YAML])
    assert {f.name for f in fams} == {"invoice_total", "shipment_record"}
    for fam in fams:
        assert fam.top >= 20 and list(fam.levels) == list(range(1, fam.top + 1))
        assert fam.grows in fam.plan(1) and fam.formula.startswith(f"{fam.grows} = ")
        sizes = [fam.plan(d)[fam.grows] for d in fam.levels]
        assert sizes[0] == 1 and sizes == sorted(sizes)
        for d in range(10, fam.top - 9):  # like the built-ins: doubling every ten levels past 10
            assert sizes[d + 9] >= 2 * sizes[d - 1]
        assert "digit" in fam.describe(1) and fam.chance(1) == 0.0
    invoice = next(f for f in fams if f.name == "invoice_total")
    assert invoice.describe(1).startswith("1-digit quantity") and invoice.describe(30).startswith("16-digit")
    top = make_item(invoice, b"s", 0, invoice.top, 0)
    assert len(str(top.problem.facts["vars"]["qty"])) == 16


def test_plan_describe_and_chance(tmp_path: Path) -> None:
    fam = load_one(tmp_path)
    assert fam.plan(3) == {"width": 3} and fam.formula == "width = d"
    assert fam.describe(3) == "width 3"  # from the plan when there is no description
    with pytest.raises(ProbeError):
        fam.plan(11)
    described = load_one(tmp_path, description="sums of {width}-digit numbers (level {d})")
    assert described.describe(4) == "sums of 4-digit numbers (level 4)"
    choice = load_one(tmp_path, name="bigger", answer="'first' if a > b else 'second'",
                      verifier={"kind": "choice", "choices": ["first", "second"]})
    assert choice.chance(1) == 0.5 and fam.chance(1) == 0.0


def test_plan_and_level_are_in_scope(tmp_path: Path) -> None:
    fam = load_one(tmp_path, plan={"width": "d", "terms": "1 + width // 4"}, grows="terms",
                   answer="a * terms + d",
                   renderings=[f"Level {{d}}: {{terms}} times {{a}}, plus {{d}}. {LINE}"] * 4)
    item = make_item(fam, b"s", 0, 8, 0)
    a = item.problem.facts["vars"]["a"]
    assert item.prompt.startswith(f"Level 8: 3 times {a}, plus 8.") and item.problem.answer == str(3 * a + 8)
    assert item.problem.facts["level"] == {"d": 8, "width": 8, "terms": 3}


def test_numeric_family_and_levels(tmp_path: Path) -> None:
    fam = load_one(tmp_path)
    easy = make_item(fam, b"s", 0, 1, 0)
    a, b = easy.problem.facts["vars"]["a"], easy.problem.facts["vars"]["b"]
    assert easy.prompt.startswith(f"What is {a} + {b}?") and easy.answer == str(a + b)
    assert fam.score(easy, f"so {a} + {b} = {a + b}.").score == 1.0
    assert fam.score(easy, f"Answer: {a + b + 1}").score == 0.0
    hard = [make_item(fam, b"s", i, 10, 0).problem.facts["vars"]["a"] for i in range(50)]
    assert max(hard) > 10**6  # level 10 widens a's range (max: "10 ** width")
    framed = make_item(fam, b"s", 0, 1, 3)
    assert framed.answer == f"<answer>{a + b}</answer>"


def test_exact_choice_regex_and_json(tmp_path: Path) -> None:
    exact = load_one(tmp_path, name="shout", variables={"w": {"type": "choice", "values": ["owl", "fox"]}},
                     answer="upper(w)", verifier={"kind": "exact", "case_sensitive": True},
                     renderings=[f"Shout {{w}}. {LINE}"] * 4)
    it = make_item(exact, b"s", 1, 1, 0)
    assert exact.score(it, f"Answer: {it.problem.answer}").score == 1.0
    assert exact.score(it, f"Answer: {it.problem.answer.lower()}").score == 0.0

    choice = load_one(tmp_path, name="bigger", answer="'first' if a > b else 'second'",
                      verifier={"kind": "choice", "choices": ["first", "second"]})
    it = make_item(choice, b"s", 1, 1, 0)
    other = "second" if it.problem.answer == "first" else "first"
    assert choice.score(it, f"Answer: **{it.problem.answer}**").score == 1.0
    assert choice.score(it, f"Answer: {other}").score == 0.0

    regex = load_one(tmp_path, name="coded", answer="a * b",
                     verifier={"kind": "regex", "pattern": "(code )?{answer}"})
    it = make_item(regex, b"s", 1, 1, 0)
    assert regex.score(it, f"Answer: code {it.problem.answer}").score == 1.0
    assert regex.score(it, f"Answer: code {it.problem.answer}0").score == 0.0

    fields = load_one(tmp_path, name="record", answer=None, verifier={"kind": "json_fields",
                                                         "fields": {"sum": "a + b", "prod": "a * b"}},
                      renderings=[f"Facts {{a}}, {{b}}. Reply with a JSON object with sum and prod. {i}"
                                  for i in range(4)])
    it = make_item(fields, b"s", 1, 1, 0)
    v = it.problem.facts["vars"]
    assert fields.score(it, it.answer).score == 1.0
    half = fields.score(it, f'{{"sum": {v["a"] + v["b"]}, "prod": -1}}')
    assert half.score == 0.5


def test_substitute_has_no_format_spec_language() -> None:
    assert substitute("{a} {{literal}} {b}", {"a": 1, "b": 2.50}) == "1 {literal} 2.5"
    assert substitute("{a.__class__}", {"a": 1}) == "{a.__class__}"


@pytest.mark.parametrize(
    ("over", "key", "problem"),
    [
        ({"answer": "__import__('os')"}, "families[0].answer", "only calls of"),
        ({"answer": "a.real"}, "families[0].answer", "Attribute is not allowed"),
        ({"answer": "a + c"}, "families[0].answer", "unknown variable 'c'"),
        ({"verifier": {"kind": "fuzzy"}}, "families[0].verifier.kind", "must be one of"),
        ({"levels": [{"description": "x"}] * 10}, "families[0].levels", "declare 'top', 'grows' and 'plan'"),
        ({"top": 0}, "families[0].top", f"1..{MAX_TOP}"),
        ({"top": MAX_TOP + 1}, "families[0].top", f"1..{MAX_TOP}"),
        ({"top": "30"}, "families[0].top", "must be int"),
        ({"plan": {}}, "families[0].plan", "size parameters"),
        ({"plan": {"width": "d / 2"}}, "families[0].plan.width", "level 1: gave 0.5, not an integer"),
        ({"plan": {"width": "10 - d"}}, "families[0].plan.width", "level 2: 8 is below level 1's 9"),
        ({"plan": {"width": "d + depth"}}, "families[0].plan.width", "unknown variable 'depth'"),
        ({"plan": {"width": "10 ** (d * 100 + 100)"}}, "families[0].plan.width", "level 10"),
        ({"plan": {"d": "d"}}, "families[0].plan.d", "lower_snake_case"),
        ({"grows": "depth"}, "families[0].grows", "must name a plan parameter"),
        ({"description": "{depth} digits"}, "families[0].description", "unknown placeholder 'depth'"),
        ({"variables": {"a": {"type": "int", "min": "d", "max": 5}, "b": {"type": "int", "min": 1, "max": 2}}},
         "families[0].variables.a", "level 6: min 6 is above max 5"),
        ({"variables": {"a": {"type": "int", "min": 1, "max": "10 ** width / 2"}}},
         "families[0].variables.a.max", "not an integer"),
        ({"variables": {"a": {"type": "int", "min": 1, "max": "10 ** (width * 200)"}}},
         "families[0].variables.a.max", "level 6"),
        ({"variables": {"a": {"type": "int", "min": 1}}}, "families[0].variables.a.max", "is required"),
        ({"variables": {"width": {"type": "int", "min": 1, "max": 2}}}, "families[0].variables.width",
         "not d or a plan name"),
        ({"variables": {"a": {"type": "name", "min": 1}}}, "families[0].variables.a.min", "unknown key"),
        ({"verifier": {"kind": "numeric", "tolerence": 1}}, "families[0].verifier.tolerence", "unknown key"),
        ({"renderings": ["{a} {b}"] * 4}, "families[0].renderings[0]", "answer format"),
        ({"renderings": [f"{{zz}} {LINE}"] * 4}, "families[0].renderings[0]", "unknown placeholder 'zz'"),
        ({"variables": {"a": {"type": "int", "min": 5, "max": 1}}}, "families[0].variables.a", "above max"),
        # Explodes only at the extreme of a's range (a > 10000): the extremes are drawn at load.
        ({"variables": {"a": {"type": "int", "min": 1, "max": 20000}, "b": {"type": "int", "min": 1, "max": 2}},
          "answer": "len('x' * a)"},
         "families[0].answer", "string result longer than"),
        # Explodes for one draw in seven, never at the extremes (1 and 10**6 are 1 mod 7).
        ({"variables": {"a": {"type": "int", "min": 1, "max": 10**6}, "b": {"type": "int", "min": 1, "max": 2}},
          "answer": "len('x' * (20000 if a % 7 == 3 else 1))"}, "families[0].answer", "string result longer than"),
        ({"variables": {"a": {"type": "blob"}}}, "families[0].variables.a.type", "must be one of"),
        ({"name": "Bad Name"}, "families[0].name", "lower_snake_case"),
        ({"colour": "red"}, "families[0].colour", "unknown key"),
        ({"answer": "a - b", "verifier": {"kind": "choice", "choices": ["x", "y"]}}, "families[0].answer",
         "not a choice"),
        ({"answer": "''", "verifier": {"kind": "exact"}}, "families[0]", "not 1.0"),  # empty answer
    ],
)
def test_errors_name_file_key_problem(tmp_path: Path, over: dict[str, Any], key: str, problem: str) -> None:
    path = write(tmp_path, family_spec(**over))
    with pytest.raises(TemplateError) as err:
        load_template_families([path])
    assert err.value.file == str(path)
    assert err.value.key == key
    assert problem in err.value.problem
    assert str(path) in str(err.value)


def test_file_level_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(TemplateError, match="cannot read"):
        load_template_families([missing])
    bad = tmp_path / "bad.yaml"
    bad.write_text("families: [unclosed")
    with pytest.raises(TemplateError, match="YAML syntax error"):
        load_template_families([bad])
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("- just a list\n")
    with pytest.raises(TemplateError, match="families"):
        load_template_families([wrong])


def test_integers_past_float_precision_are_compared_exactly(tmp_path: Path) -> None:
    twenty_digits = {"type": "int", "min": 10**19, "max": 10**20 - 1}
    wide = {"a": twenty_digits, "b": twenty_digits}
    fam = load_one(tmp_path, variables=wide, answer="a * b")
    item = make_item(fam, b"s", 0, 1, 0)
    exact = int(item.problem.answer)
    assert len(item.problem.answer) >= 38
    assert fam.score(item, f"Answer: {exact}").score == 1.0
    assert fam.score(item, f"Answer: {exact:,}").score == 1.0
    assert fam.score(item, f"Answer: {exact + 1}").score == 0.0  # the same float, not the same number
    assert fam.score(item, f"Answer: {float(exact)!r}").score == 0.0
    assert fam.score(item, f"{exact + 1}, no wait").score == 0.0
    assert fam.score(item, "Answer: none").score == 0.0
    fields = load_one(tmp_path, variables=wide, answer=None, verifier={"kind": "json_fields", "fields": {"p": "a * b"}},
                      renderings=[f"{{a}} {{b}}. Reply with a JSON object with p. {i}" for i in range(4)])
    item = make_item(fields, b"s", 0, 1, 0)
    p = item.problem.facts["expected"]["p"]
    assert fields.score(item, f'{{"p": {p}}}').score == 1.0
    assert fields.score(item, f'{{"p": {p + 1}}}').score == 0.0


def test_an_item_that_fails_at_probe_time_fails_fast(tmp_path: Path) -> None:
    # One value in 10**9 explodes: too rare for the load-time draws, so the family loads; that
    # draw still costs no more than the evaluator's budget and ends in ExpressionError.
    rare = {"a": {"type": "int", "min": 1, "max": 10**9}, "b": {"type": "int", "min": 1, "max": 2}}
    fam = load_one(tmp_path, variables=rare,
                   answer="len('x' * (10**9 if a == 123456789 else 1)) + b")
    start = time.perf_counter()
    with pytest.raises(ExpressionError, match="string result longer"):
        fam.problem(3, {"a": 123456789, "b": 1})
    assert time.perf_counter() - start < 0.1


def test_prompt_size_is_bounded_at_load(tmp_path: Path) -> None:
    long_values = {"a": {"type": "choice", "values": ["x" * 1000]}, "b": {"type": "int", "min": 1, "max": 9}}
    template = " ".join(["{a}"] * 300) + f" {LINE}"
    path = write(tmp_path, family_spec(variables=long_values, answer="b", renderings=[template] * 4))
    with pytest.raises(TemplateError, match=r"could render \d+ characters"):
        load_template_families([path])


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("(a+)+{answer}", "repeat inside a repeat"),
        ("(x|xy)*{answer}", "alternation inside a repeat"),
        ("(code)\\1{answer}", "groupref is not allowed"),
        (".*.*.*{answer}", "can backtrack more than"),
        ("(unclosed{answer}", "not a valid regular expression"),
    ],
)
def test_regex_patterns_that_backtrack_without_bound_are_refused(tmp_path: Path, pattern: str, problem: str) -> None:
    path = write(tmp_path, family_spec(verifier={"kind": "regex", "pattern": pattern}))
    with pytest.raises(TemplateError) as err:
        load_template_families([path])
    assert err.value.key == "families[0].verifier.pattern" and problem in err.value.problem


def test_regex_verifier_cost_is_bounded_on_hostile_answers(tmp_path: Path) -> None:
    fam = load_one(tmp_path, answer="a * b", verifier={"kind": "regex", "pattern": "(?:a|aa|aaa)?a*a*{answer}"})
    item = make_item(fam, b"s", 0, 1, 0)
    for hostile in ("a" * 399 + "!", "a" * 100_000):
        start = time.perf_counter()
        assert fam.score(item, f"Answer: {hostile}").score == 0.0
        assert time.perf_counter() - start < SAFETY_NET_S
    assert fam.score(item, f"Answer: aa{item.problem.answer}").score == 1.0
