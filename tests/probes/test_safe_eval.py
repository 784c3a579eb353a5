"""The safe expression evaluator: what it computes, and everything it refuses."""

from __future__ import annotations

import pytest

from probes.errors import ExpressionError
from probes.safe_eval import Expression


@pytest.mark.parametrize(
    ("source", "variables", "expected"),
    [
        ("qty * price + fee", {"qty": 3, "price": 4, "fee": 5}, 17),
        ("max(a, b) - min(a, b)", {"a": 3, "b": 9}, 6),
        ("abs(a - b)", {"a": 3, "b": 9}, 6),
        ("round(a / b, 2)", {"a": 1, "b": 3}, 0.33),
        ("a // b + a % b", {"a": 17, "b": 5}, 5),
        ("2 ** n", {"n": 10}, 1024),
        ("upper(name) + '!'", {"name": "rosa"}, "ROSA!"),
        ("reverse(w)[1:3]", {"w": "abcdef"}, "ed"),
        ("len(w) if w else 0", {"w": "abc"}, 3),
        ("'big' if n > 10 and n < 100 else 'other'", {"n": 50}, "big"),
        ("replace(s, 'a', 'o')", {"s": "banana"}, "bonono"),
        ("-x", {"x": 4}, -4),
        ("not flag", {"flag": False}, True),
        ("1 < x <= 3", {"x": 3}, True),
        ("str(n) + ' items'", {"n": 4}, "4 items"),
    ],
)
def test_evaluates(source: str, variables: dict[str, object], expected: object) -> None:
    assert Expression(source).evaluate(variables) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('true')",
        "().__class__.__bases__",
        "x.upper()",
        "[c for c in 'abc']",
        "lambda: 1",
        "open('/etc/passwd')",
        "eval('1')",
        "{'a': 1}",
        "[1, 2]",
        "max(a, key=len)",
        "a if b else",
        "x := 3",
        "b'bytes'",
        "f'{x}'",
        "a" * 501,
    ],
)
def test_refuses(source: str) -> None:
    with pytest.raises(ExpressionError):
        Expression(source).evaluate({"a": 1, "b": 2, "x": "s"})


@pytest.mark.parametrize(
    ("source", "variables"),
    [
        ("2 ** 100000", {}),
        ("'a' * 100000", {}),
        ("a / b", {"a": 1, "b": 0}),
        ("missing + 1", {}),
        ("s[99]", {"s": "abc"}),
        ("n[0]", {"n": 5}),
        (" * ".join(["10 ** 64"] * 17), {}),  # over 1000 digits, caught as it grows
    ],
)
def test_bounded_failures(source: str, variables: dict[str, object]) -> None:
    with pytest.raises(ExpressionError):
        Expression(source).evaluate(variables)  # type: ignore[arg-type]


def test_names_lists_variables_not_functions() -> None:
    assert Expression("max(a, b) + upper(c)").names == ["a", "b", "c"]
