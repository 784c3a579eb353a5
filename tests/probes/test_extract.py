"""Answer extraction on the shapes real models write, and bounded cost on adversarial text."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from probes.extract import (
    canonical_number,
    clean,
    extract_choice,
    extract_final,
    extract_json,
    extract_number,
    normalise,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7 + 5 = 12.", "12"),  # SmolLM2's answer to "What is 7 + 5?"
        ("Answer: 42", "42"),
        ("Let me think.\nAnswer: -17 apples", "-17"),
        ("The answer is **1,234**.", "1234"),
        ("so the total is \\boxed{3.50}", "3.5"),
        ("<answer>17</answer>", "17"),
        ('{"answer": 9}', "9"),
        ("Answer: 1 234 567", "1234567"),
        ("I think 3, 4 and finally 5", "5"),
        ("**Final answer:** `81`", "81"),
        ("x = 5", "5"),
        ("Answer: −8", "-8"),  # unicode minus sign
        ("Answer: 12.0", "12"),
        ("Answer: 2.50 metres", "2.5"),
        ("Answer: 1e3", "1000"),
        ("The answer is 7 (seven).", "7"),
        ("Answer: 12\n\nExplanation: 3 times 4 is 12, not 13.", "12"),
    ],
)
def test_extract_number(text: str, expected: str) -> None:
    assert extract_number(text) == expected


@pytest.mark.parametrize("text", ["", "no digits here", "Answer: none"])
def test_extract_number_none(text: str) -> None:
    assert extract_number(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Answer: izef", "izef"),
        ("Answer: **izef**.", "izef"),
        ("The answer is `izef`.", "izef"),
        ("blah\n<answer>Tariq, Rosa</answer>\n", "Tariq, Rosa"),
        ('{"answer": "salt moss"}', "salt moss"),
        ('{"answer": "a \\"quoted\\" word"}', 'a "quoted" word'),
        ("first line\nlast line.", "last line"),
        ("\\boxed{19 May 2006}", "19 May 2006"),
        # SmolLM2 echoing the instruction: the tag pair around " and " is not an answer.
        ("To find the final integer between <answer> and </answer>, add them.\n3 + 7 = 10", "3 + 7 = 10"),
        ("Answer: 'zera'", "zera"),
    ],
)
def test_extract_final(text: str, expected: str) -> None:
    assert extract_final(text) == expected


def test_extract_final_prefers_the_last_marker() -> None:
    assert extract_final("Answer: 3\nwait, no.\nAnswer: 4") == "4"


def test_extract_final_empty() -> None:
    assert extract_final("   \n  ") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Sure!\n```json\n{"a": 1}\n```', {"a": 1}),
        ('prefix {"a": [1, 2]} suffix', {"a": [1, 2]}),
        ('first {"a": 1} then {"b": 2}', {"b": 2}),
        ('{"outer": {"inner": 1}}', {"outer": {"inner": 1}}),
        ("[1, 2, 3]", [1, 2, 3]),
        ("{not json}", None),
        ("nothing", None),
    ],
)
def test_extract_json(text: str, expected: object) -> None:
    assert extract_json(text) == expected


def test_extract_choice() -> None:
    days = ("Monday", "Tuesday", "Sunday")
    assert extract_choice("It is a Tuesday, I think.\nAnswer: **sunday**", days) == "Sunday"
    assert extract_choice("Probably Monday.", days) == "Monday"
    assert extract_choice("No idea", days) is None


def test_canonical_number() -> None:
    assert canonical_number("1,000") == "1000"
    assert canonical_number("-0") == "0"
    assert canonical_number("0.50") == "0.5"
    assert canonical_number("abc") is None
    assert canonical_number("1e999") is None  # infinity is no answer


def test_clean_and_normalise() -> None:
    assert clean("  **Tarnwick**. ") == "Tarnwick"
    assert clean("$42$") == "42"
    assert normalise("  The   GLIMMERFOX.") == "the glimmerfox"


@pytest.mark.parametrize(
    "text",
    [
        "1," * 500_000,
        "Answer:" * 150_000,
        "{" * 1_000_000,
        '[{"a":' * 150_000,
        "\\boxed{" * 140_000,
        "<answer>" * 120_000,
        ("9" * 999 + " ") * 1000,
        '"answer": ' * 100_000,
        "a" * 1_000_000,
    ],
)
def test_adversarial_megabyte_is_fast(text: str) -> None:
    start = time.perf_counter()
    extract_final(text)
    extract_number(text)
    extract_json(text)
    extract_choice(text, ("a", "b"))
    # Generous for a loaded 2-core machine; the point is linear in a capped tail, not quadratic.
    assert time.perf_counter() - start < 1.0


@given(n=st.integers(min_value=-(10**12), max_value=10**12), prose=st.sampled_from(["", "Let me see. ", "x = 3\n"]))
@settings(max_examples=60, deadline=None)
def test_any_integer_round_trips(n: int, prose: str) -> None:
    for written in (str(n), f"{n:,}", f"**{n}**."):
        assert extract_number(f"{prose}Answer: {written}") == str(n)
    assert extract_number(f"{prose}\\boxed{{{n}}}") == str(n)


@given(text=st.text(max_size=2000))
@settings(max_examples=80, deadline=None)
def test_arbitrary_text_never_raises(text: str) -> None:
    extract_final(text)
    extract_number(text)
    extract_json(text)
    extract_choice(text, ("yes", "no"))
