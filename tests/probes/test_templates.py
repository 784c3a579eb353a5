"""YAML template families: loading, every verifier kind, and errors naming file, key and problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from probes.base import make_item
from probes.errors import TemplateError
from probes.templates import TemplateFamily, load_template_families, substitute
from tests.probes.conftest import EXAMPLE_YAML

LINE = "Give the final answer on the last line as 'Answer: <x>'."


def family_spec(**over: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "adder",
        "skill": "custom",
        "variables": {"a": {"type": "int", "min": 1, "max": 9}, "b": {"type": "int", "min": 1, "max": 9}},
        "answer": "a + b",
        "verifier": {"kind": "numeric"},
        "levels": [{"description": f"level {i}", "variables": {"a": {"min": 1, "max": 10 ** i}}}
                   for i in range(1, 11)],
        "renderings": [f"What is {{a}} + {{b}}? {LINE}", f"Add {{a}} and {{b}}. {LINE}",
                       f"Sum: {{b}} plus {{a}}. {LINE}",
                       {"template": "A merchant adds {a} and {b}. Write the number between <answer> and "
                                    "</answer>.", "format": "tag"}],
    }
    spec.update(over)
    return spec


def write(tmp_path: Path, *families: dict[str, Any]) -> Path:
    path = tmp_path / "fams.yaml"
    path.write_text(yaml.safe_dump({"families": list(families)}))
    return path


def load_one(tmp_path: Path, **over: Any) -> TemplateFamily:
    fams = load_template_families([write(tmp_path, family_spec(**over))])
    assert len(fams) == 1 and isinstance(fams[0], TemplateFamily)
    return fams[0]


def test_example_file_loads() -> None:
    fams = load_template_families([EXAMPLE_YAML])
    assert {f.name for f in fams} == {"invoice_total", "shipment_record"}
    assert all(len(f.levels) == 10 for f in fams)


def test_numeric_family_and_levels(tmp_path: Path) -> None:
    fam = load_one(tmp_path)
    easy = make_item(fam, b"s", 0, 1, 0)
    a, b = easy.problem.facts["vars"]["a"], easy.problem.facts["vars"]["b"]
    assert easy.prompt.startswith(f"What is {a} + {b}?") and easy.answer == str(a + b)
    assert fam.score(easy, f"so {a} + {b} = {a + b}.").score == 1.0
    assert fam.score(easy, f"Answer: {a + b + 1}").score == 0.0
    hard = [make_item(fam, b"s", i, 10, 0).problem.facts["vars"]["a"] for i in range(50)]
    assert max(hard) > 10**6  # level 10 widens a's range
    framed = make_item(fam, b"s", 0, 1, 3)
    assert framed.answer == f"<answer>{a + b}</answer>"


def test_exact_choice_regex_and_json(tmp_path: Path) -> None:
    exact = load_one(tmp_path, name="shout", variables={"w": {"type": "choice", "values": ["owl", "fox"]}},
                     answer="upper(w)", verifier={"kind": "exact", "case_sensitive": True},
                     levels=[{"description": "one word"}] * 10,
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

    fields = load_one(tmp_path, name="record", verifier={"kind": "json_fields",
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
        ({"levels": [{"description": "x"}] * 9}, "families[0].levels", "exactly 10"),
        ({"renderings": ["{a} {b}"] * 4}, "families[0].renderings[0]", "answer format"),
        ({"renderings": [f"{{zz}} {LINE}"] * 4}, "families[0].renderings[0]", "unknown placeholder 'zz'"),
        ({"variables": {"a": {"type": "int", "min": 5, "max": 1}}}, "families[0].variables.a", "above max"),
        ({"variables": {"a": {"type": "blob"}}}, "families[0].variables.a.type", "must be one of"),
        ({"name": "Bad Name"}, "families[0].name", "lower_snake_case"),
        ({"colour": "red"}, "families[0].colour", "unknown key"),
        ({"answer": "a - b", "verifier": {"kind": "choice", "choices": ["x", "y"]}}, "families[0]", "not 1.0"),
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
