"""Difficulty levels in the config: ranges, lists mixing levels and ranges, the default whole scale."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import DEFAULT_CONTEXT_TOKENS, load_config, parse_levels
from probes.base import MAX_TOP


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1-40", list(range(1, 41))),
        ([1, "5-9"], [1, 5, 6, 7, 8, 9]),
        (["3", 3, "2 - 4"], [2, 3, 4]),
        (7, [7]),
        (f"1-{MAX_TOP}", list(range(1, MAX_TOP + 1))),
    ],
)
def test_levels_accept_ranges_and_lists(value: object, expected: list[int]) -> None:
    assert parse_levels(value) == expected


def test_a_target_defaults_to_the_whole_scale_adaptively(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "targets:\n  - {name: a, base_url: 'http://h/v1', model: m, max_tokens: 192}\n"
        "  - {name: b, base_url: 'http://h/v1', model: m, difficulties: '2-4', adaptive: false,"
        " max_prompt_tokens: 900}\n"
    )
    a, b = load_config(path).targets
    assert a.difficulties == list(range(1, MAX_TOP + 1)) and a.adaptive is True
    assert a.prompt_token_limit == DEFAULT_CONTEXT_TOKENS - 192
    assert b.difficulties == [2, 3, 4] and b.adaptive is False and b.prompt_token_limit == 900
