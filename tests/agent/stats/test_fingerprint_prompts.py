"""The fingerprint counts agreement per prompt and combines the prompts with equal weight."""

from __future__ import annotations

import pytest

from agent.stats.cusum import Cusum, design
from agent.stats.fingerprint import FingerprintBaseline, FingerprintMonitor, learn_baseline


def _rows(answers: dict[str, list[str]]) -> list[tuple[str, str | None, str | None, str | None]]:
    return [(key, a, None, None) for key, values in answers.items() for a in values]


def test_agreement_is_the_mean_over_prompts_not_over_answers() -> None:
    # Prompt A answered the same 10 times; prompt B twice, differently (a prompt that varies, or one
    # added late). Pooled, A's answers would swamp B: (11 + 1/2)/13 = 0.885.
    b = learn_baseline(_rows({"A": ["same"] * 10, "B": ["x", "y"]}))
    a_a, a_b = 10.5 / 11, 1.5 / 3
    assert b.per_prompt == {"A": (10, 10), "B": (1, 2)}
    assert b.agreement == pytest.approx((a_a + a_b) / 2)
    # Effective n of the stratified mean: p0(1 - p0) / (sum_j a_j(1 - a_j)/n_j / m^2) = 6.13 -> 6.
    var = (a_a * (1 - a_a) / 10 + a_b * (1 - a_b) / 2) / 4
    assert b.n == round(b.agreement * (1 - b.agreement) / var) == 6


def test_equal_prompts_keep_the_answer_count() -> None:
    b = learn_baseline(_rows({k: ["same"] * 5 for k in "ABC"}))
    assert b.agreement == pytest.approx(5.5 / 6) and b.n == 15  # capped at the answers


def test_baseline_round_trip_keeps_per_prompt_counts() -> None:
    b = learn_baseline(_rows({"A": ["p", "p", "q"], "B": ["r"] * 3}))
    assert FingerprintBaseline.from_dict(b.to_dict()) == b


def test_monitor_reports_agreement_per_prompt() -> None:
    b = learn_baseline(_rows({"A": ["p"] * 5, "B": ["r"] * 5}))
    mon = FingerprintMonitor(b, Cusum(design(b.agreement, b.agreement / 2, 1e6)))
    for answer_a, answer_b in [("p", "r"), ("p", "other"), ("p", "r"), ("p", "other")]:
        mon.update("A", answer_a, None, None)
        mon.update("B", answer_b, None, None)
    assert mon.prompt_agreement() == {"A": 1.0, "B": 0.5}
    again = FingerprintMonitor.restore(b, mon.to_dict())
    assert again.prompt_agreement() == {"A": 1.0, "B": 0.5}
