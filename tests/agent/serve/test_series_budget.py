"""The series budget of docs/metrics.md holds for a real agent: ``capmon run`` (a subprocess) probing all
17 families against ``benchmarks.instant_endpoint``, scraped over HTTP once every family's detectors exist.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.footprint import count_series
from probes.catalog import builtin_families

ROOT = Path(__file__).resolve().parents[3]
_ROW = re.compile(r"^\|\s*`(capmon_[a-z0-9_]+)`\s*\|[^|]*\|\s*(\d+)\s*\|$")
_TOTAL = re.compile(r"^\|\s*\*\*total\*\*\s*\|\s*\|\s*\*\*(\d+)\*\*\s*\|$")


def documented_budget() -> tuple[dict[str, int], int]:
    """Metric -> most series per target at the defaults, and the total, from docs/metrics.md."""
    text = (ROOT / "docs" / "metrics.md").read_text()
    section = text.split("## Series budget", 1)[1].split("\n## ", 1)[0]
    budget: dict[str, int] = {}
    total = 0
    for line in section.splitlines():
        if m := _ROW.match(line.strip()):
            budget[m.group(1)] = int(m.group(2))
        elif m := _TOTAL.match(line.strip()):
            total = int(m.group(1))
    return budget, total


@pytest.fixture(scope="module")
def scraped() -> Counter[str]:
    per, _, _ = count_series(targets=1, seconds=150)
    by_metric: Counter[str] = Counter()
    for name, n in per.items():  # a histogram's _bucket, _sum and _count count under its own name
        by_metric[re.sub(r"^(capmon_probe_duration_seconds)_(bucket|sum|count)$", r"\1", name)] += n
    return by_metric


def test_the_documented_budget_adds_up() -> None:
    budget, total = documented_budget()
    assert len(budget) >= 40 and total == sum(budget.values())


def test_a_real_agent_with_every_family_stays_within_the_budget(scraped: Counter[str]) -> None:
    budget, total = documented_budget()
    families = len(builtin_families())
    assert families == 17
    # The run got far enough to be the worst case: every family has a frontier and a designed baseline.
    assert scraped["capmon_frontier_level"] == families
    assert scraped["capmon_baseline_pass_ratio"] == families + 1
    over = {name: (n, budget.get(name)) for name, n in scraped.items() if n > budget.get(name, -1)}
    assert not over, f"metrics over (or missing from) the documented budget: {over}"
    assert sum(scraped.values()) <= total < 1000


def test_levels_are_counts_per_probed_level_and_no_cell_is_crossed(scraped: Counter[str]) -> None:
    # Six or more difficulties per family are probed in the run (default 1-100), six are exported; never a difficulty x
    # novelty x window cell, and novelty counts only with more than one novelty level (here: one).
    assert scraped["capmon_difficulty_passed_probes"] == scraped["capmon_difficulty_scored_probes"] == 17 * 6
    assert scraped["capmon_novelty_scored_probes"] == 0
    assert scraped["capmon_pass_ratio"] == (17 + 1) * 2
