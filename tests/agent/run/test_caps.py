"""Levels capped to a family's top and to the target's prompt limit; the cap is visible, never an outcome."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from agent.config import Settings
from agent.run.caps import LevelCapCollector, LevelCaps, estimate_tokens
from agent.run.planner import levels_for, plan_run
from probes.base import make_items
from probes.registry import builtin_registry


def test_levels_above_a_familys_top_are_capped_to_it(make_settings: Callable[..., Settings]) -> None:
    target = make_settings(difficulties="43-90").targets[0]
    arithmetic = builtin_registry().get("arithmetic")
    assert arithmetic.top == 45
    assert levels_for(target, arithmetic) == [43, 44, 45]


def test_items_over_the_prompt_limit_are_not_sent_and_the_cap_is_visible(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    limit = 2000
    target = make_settings(
        families=["needle_retrieval"],
        difficulties="30-35",
        adaptive=False,
        max_prompt_tokens=limit,
        probes_per_run=4,
        static_per_run=0,
        fingerprint_prompts=0,
    ).targets[0]
    registry = builtin_registry()
    family = registry.get("needle_retrieval")
    caps = LevelCaps()
    with caplog.at_level(logging.WARNING, logger="capmon.caps"):
        plans = [plan_run(registry, target, b"salt", 4 * r, run_seq=r, caps=caps) for r in range(3)]
    items = [p.item for plan in plans for p in plan]
    assert items and all(estimate_tokens(i.prompt) <= limit for i in items)
    # Oracle: for the first item's index, the highest level at or below 35 whose prompt fits.
    first = plans[0][0].item
    fitting = [
        d for d in range(1, 36) if estimate_tokens(make_items(family, b"salt", first.index, d, [0])[0].prompt) <= limit
    ]
    assert first.difficulty == max(d for d in fitting if d <= first.difficulty) and first.difficulty < 30
    cap = caps.cap(target.name, "needle_retrieval")
    assert cap is not None and all(i.difficulty <= cap for i in plans[-1] for i in [i.item])
    assert levels_for(target, family, caps) == [cap]
    logged = [r for r in caplog.records if "capped at level" in r.getMessage()]
    assert 1 <= len(logged) <= 3  # once per new (lower) cap, not once per item
    reg = CollectorRegistry()
    reg.register(LevelCapCollector(caps))
    text = generate_latest(reg).decode()
    assert f'capmon_level_capped{{family="needle_retrieval",target="t1"}} {float(cap)}' in text


def test_estimate_errs_high_on_digits() -> None:
    # Small models' tokenizers split digits one by one: every digit is a token, plus the template.
    assert estimate_tokens("1234567890") >= 10 + 64
    assert estimate_tokens("") == 64


def _estimate_by_character(text: str) -> int:
    """The rule as written in the docstring, one character at a time."""
    plain = sum(1 for ch in text if ch.isascii() and (ch.isalpha() or ch == " "))
    single = sum(len(ch.encode("utf-8")) for ch in text if not (ch.isascii() and (ch.isalpha() or ch == " ")))
    return single + -(-plain // 3) + 64


def test_estimate_counts_as_its_rule_says_on_any_text() -> None:
    rng = random.Random(7)
    alphabet = "abcXYZ  \t\n0123456789.,;:!?()[]{}-+*/=\"'é中😀\u00a0\u200b"
    texts = ["", " ", "Hello world", "naïve café", "中文字符", "😀" * 5]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300))) for _ in range(300)]
    for text in texts:
        assert estimate_tokens(text) == _estimate_by_character(text), text
