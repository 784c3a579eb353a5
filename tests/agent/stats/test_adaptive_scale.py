"""The staircase on an open scale: crosses 40 levels quickly, starts at a calibrated frontier."""

from __future__ import annotations

import math
import random

from agent.stats.adaptive import START_LEVEL, chooser, first_step, next_levels, staircase_position


def _simulate(d50: float, probes: int, seed: int, start: float | None = None) -> list[tuple[int, bool]]:
    rng = random.Random(seed)
    history: list[tuple[int, bool]] = []
    for _ in range(probes):
        (lvl,) = next_levels(history, range(1, 41), 1, rng, start=start)
        history.append((lvl, rng.random() < 1 / (1 + math.exp(1.0 * (lvl - d50)))))
    return history


def test_a_frontier_at_level_30_is_reached_within_a_few_dozen_probes() -> None:
    assert first_step(40) == 5 and first_step(10) == 1
    hits = 0
    for seed in range(20):
        history = _simulate(30.0, 30, seed)
        # Index 29 is level 30; a unit-step staircase from level 2 could reach at most level ~25 in 30 probes
        # (three quarters of them on the staircase).
        if abs(staircase_position(history, range(1, 41)) - 29) <= 4:
            hits += 1
    assert hits >= 16, hits
    late = _simulate(30.0, 200, 99)
    assert abs(staircase_position(late, range(1, 41)) - 29) <= 2.5


def test_no_history_starts_low_or_at_the_calibrated_frontier() -> None:
    rng = random.Random(1)
    choose = chooser({}, explore=0.0, starts={"b": 27.0})
    low = [choose("a", list(range(1, 41)), rng) for _ in range(50)]
    assert max(low) <= START_LEVEL + 1
    calibrated = [choose("b", list(range(1, 41)), rng) for _ in range(50)]
    assert min(calibrated) >= 26 and max(calibrated) <= 28
