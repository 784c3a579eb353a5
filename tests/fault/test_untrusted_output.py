"""Untrusted model output: capped before scoring, never executed, scored at bounded cost."""

from __future__ import annotations

import ast
import time
from pathlib import Path

import pytest

from agent.run.runner import MAX_RESPONSE_CHARS
from probes.base import make_item
from probes.registry import builtin_registry

ROOT = Path(__file__).resolve().parents[2]

#: Texts built to trip backtracking regexes and naive parsers, at the size the runner lets through.
ADVERSARIAL = {
    "digits": "9" * MAX_RESPONSE_CHARS,
    "digit-spaces": "1 " * (MAX_RESPONSE_CHARS // 2),
    "commas": "1," * (MAX_RESPONSE_CHARS // 2),
    "minus-dots": "-." * (MAX_RESPONSE_CHARS // 2),
    "answer-spam": "Answer: " * (MAX_RESPONSE_CHARS // 8),
    "boxed-open": "\\boxed{" * (MAX_RESPONSE_CHARS // 7),
    "boxed-nested": "\\boxed{" * 2000 + "1" + "}" * 2000,
    "braces": "{" * (MAX_RESPONSE_CHARS // 2) + "}" * (MAX_RESPONSE_CHARS // 2),
    "brackets": "[" * (MAX_RESPONSE_CHARS // 2),
    "quotes": '"' * MAX_RESPONSE_CHARS,
    "json-deep": '{"a":' * 3000 + "1" + "}" * 3000,
    "newlines": "\n" * MAX_RESPONSE_CHARS,
    "spaces-then-x": " " * (MAX_RESPONSE_CHARS - 1) + "x",
    "markdown": "**" * (MAX_RESPONSE_CHARS // 2),
    "unicode": "٣" * MAX_RESPONSE_CHARS,
    "mixed": ("The answer is 12.5e+ " * (MAX_RESPONSE_CHARS // 21)),
    "python": "__import__('os').system('touch /tmp/capmon-pwned')  # Answer: 1",
}
#: Per score() call; generous for a 2-core shared machine, far below catastrophic backtracking.
LIMIT_S = 1.0


def test_adversarial_texts_are_at_the_cap() -> None:
    assert all(len(t) <= MAX_RESPONSE_CHARS for t in ADVERSARIAL.values())


@pytest.mark.parametrize("family_name", builtin_registry().names())
def test_scoring_adversarial_text_is_bounded(family_name: str) -> None:
    family = builtin_registry().get(family_name)
    item = make_item(family, b"untrusted-salt", 0, 5, 0)
    slowest = ("", 0.0)
    for name, text in ADVERSARIAL.items():
        start = time.perf_counter()
        verdict = family.score(item, text)
        took = time.perf_counter() - start
        assert 0.0 <= verdict.score <= 1.0
        if took > slowest[1]:
            slowest = (name, took)
    assert slowest[1] < LIMIT_S, f"{family_name} took {slowest[1]:.2f}s on {slowest[0]!r}"
    assert not Path("/tmp/capmon-pwned").exists()


def _calls(path: Path, names: set[str]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name in names:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}()")
    return found


def test_nothing_a_model_says_is_executed_or_evaluated() -> None:
    """No eval/exec/compile, pickle or shell in the code that handles responses."""
    banned = {"eval", "exec", "compile", "__import__", "loads_pickle", "system", "popen"}
    sources = sorted((ROOT / "probes").rglob("*.py")) + sorted((ROOT / "agent" / "providers").rglob("*.py"))
    sources += [ROOT / "agent" / "run" / "runner.py"]
    assert len(sources) > 5
    hits = [h for p in sources for h in _calls(p, banned)]
    # re.compile builds a regex, not code.
    hits = [h for h in hits if not (h.endswith(" compile()") and "re.compile" in _line(h))]
    assert not hits, f"code execution primitives on the response path: {hits}"
    for p in sources:
        text = p.read_text()
        assert "import pickle" not in text and "import marshal" not in text, p


def _line(hit: str) -> str:
    rel, rest = hit.split(":", 1)
    return (ROOT / rel).read_text().splitlines()[int(rest.split()[0]) - 1]
