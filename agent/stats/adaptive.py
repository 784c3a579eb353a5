"""Adaptive probing: spend probes near each family's frontier with an up-down staircase.

A 1-up-1-down staircase (harder after a pass, easier after a fail) settles where the model passes
half the time, where one probe carries the most information about ability (Fisher information
p(1-p) is largest at p = 0.5): a 0.5-logit ability drop is caught in ~157 probes at p = 0.5 against
~417 at p = 0.95. The cost: pass ratios from adaptive probes are not comparable across time at a
fixed difficulty mix, and a model far better than the range is seen mostly at the top level. So a
share ``explore`` of probes stays uniform over the allowed levels, which also keeps the frontier fit
anchored on both sides.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence

#: Share of probes drawn uniformly over the allowed levels.
EXPLORE = 0.25
#: Reversals averaged for the staircase's estimate of the frontier.
REVERSALS = 8


def staircase_position(history: Sequence[tuple[int, bool]], allowed: Sequence[int]) -> float:
    """Replay a 1-up-1-down staircase over (difficulty, passed) history (oldest first); an index estimate."""
    levels = sorted(set(allowed))
    if not levels:
        raise ValueError("no allowed levels")
    pos = len(levels) // 2
    reversals: list[int] = []
    last_step = 0
    started = False
    for difficulty, passed in history:
        # Step from the level actually probed (explored probes included), not from a replayed position.
        at = min(range(len(levels)), key=lambda i: abs(levels[i] - difficulty))
        if not started:
            pos, started = at, True
        if abs(at - pos) > 2:
            # An explore probe far from the staircase: counting it as a step (or a reversal) would
            # drag the estimate towards the range's ends (fails at the top, passes at the bottom).
            continue
        step = 1 if passed else -1
        if last_step and step != last_step:
            reversals.append(at)
        last_step = step
        pos = min(len(levels) - 1, max(0, at + step))
    recent = reversals[-REVERSALS:]
    return sum(recent) / len(recent) if len(recent) >= 2 else float(pos)


def next_levels(
    history: Sequence[tuple[int, bool]],
    allowed_levels: Sequence[int],
    n: int,
    rng: random.Random,
    explore: float = EXPLORE,
) -> list[int]:
    """n difficulty levels: around the staircase's frontier estimate, a share ``explore`` uniform."""
    levels = sorted(set(allowed_levels))
    if not levels:
        raise ValueError("no allowed levels")
    centre = staircase_position(history, levels)
    out: list[int] = []
    for _ in range(n):
        if rng.random() < explore:
            out.append(rng.choice(levels))
            continue
        # Stochastic rounding: a centre of 2.5 gives indexes 2 and 3 equally (round() is banker's
        # rounding and would never probe one side of a half-way frontier).
        idx = math.floor(centre + rng.choice((-1, 0, 0, 1)) + rng.random())
        out.append(levels[min(len(levels) - 1, max(0, idx))])
    return out


def chooser(
    histories: Mapping[str, Sequence[tuple[int, bool]]], explore: float = EXPLORE
) -> Callable[[str, Sequence[int], random.Random], int]:
    """A planner difficulty chooser (family, allowed levels, rng) -> level over per-family histories."""

    def choose(family: str, allowed: Sequence[int], rng: random.Random) -> int:
        return next_levels(histories.get(family, ()), allowed, 1, rng, explore)[0]

    return choose


def interval_factor(urgency: float, fastest: float = 0.25) -> float:
    """Multiplier for a target's probe interval: 1 when its detectors are quiet, down to ``fastest`` near alarm.

    ``urgency`` is the largest detector statistic / threshold (0..1). Probing faster while a statistic
    climbs shortens the time (not the probes) to a decision; the false-alarm budget is per probe, so
    it is unchanged, but the spend rises while the statistic is high.
    """
    u = min(max(urgency, 0.0), 1.0)
    return 1.0 - (1.0 - fastest) * max(0.0, (u - 0.5) / 0.5)
