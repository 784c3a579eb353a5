"""Adaptive probing: spend probes near each family's frontier with an up-down staircase.

A 1-up-1-down staircase (harder after a pass, easier after a fail) settles where the model passes
half the time, where one probe carries the most information about ability (Fisher information
p(1-p) is largest at p = 0.5): a 0.5-logit ability drop is caught in ~157 probes at p = 0.5 against
~417 at p = 0.95. The cost: pass ratios from adaptive probes are not comparable across time at a
fixed difficulty mix, and a model far better than the range is seen mostly at the top level. So a
share ``explore`` of probes stays uniform over the allowed levels (the family's whole scale by
default), which also keeps the frontier fit anchored on both sides.

The scale is open (tops of 30-50 levels), so the staircase takes big steps first and shrinks them
as evidence accumulates: it starts at the calibrated frontier when one is stored (``capmon
calibrate``), else at level ``START_LEVEL``; the first step is an eighth of the allowed levels (5
on a 40-level scale) and halves at every reversal down to one level, so a model whose frontier is
at level 30 is reached in about seven passes instead of 28.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Mapping, Sequence

#: Share of probes drawn uniformly over the allowed levels.
EXPLORE = 0.25
#: Reversals averaged for the staircase's estimate of the frontier.
REVERSALS = 8
#: Where a staircase without history or calibration starts: level 1 is trivial, 2 nearly so.
START_LEVEL = 2
#: The first step is this share of the allowed levels (at least one level); it halves at each reversal.
FIRST_STEP_SHARE = 1 / 8
#: The first probes of a history whose median level seeds the replay (robust to explore probes).
SEED_PROBES = 9


def _nearest(levels: Sequence[int], level: float) -> int:
    return min(range(len(levels)), key=lambda i: abs(levels[i] - level))


def first_step(n_levels: int) -> int:
    """The staircase's first step, in levels, over ``n_levels`` allowed levels."""
    return max(1, round(n_levels * FIRST_STEP_SHARE))


def staircase_position(
    history: Sequence[tuple[int, bool]], allowed: Sequence[int], start: float | None = None
) -> float:
    """Replay a 1-up-1-down staircase over (difficulty, passed) history (oldest first); an index estimate.

    ``start`` (a level, e.g. the calibrated frontier) is where a staircase without history begins;
    with history the replay begins at the median level of its first probes (the stored history is
    the most recent window, so its first probe may be anywhere). Steps start at ``first_step`` and
    halve at each reversal.
    """
    levels = sorted(set(allowed))
    if not levels:
        raise ValueError("no allowed levels")
    if history:
        pos = _nearest(levels, statistics.median_low([d for d, _ in history[:SEED_PROBES]]))
    else:
        pos = _nearest(levels, START_LEVEL if start is None else start)
    step = first_step(len(levels))
    reversals: list[int] = []
    last_dir = 0
    for difficulty, passed in history:
        # Step from the level actually probed (explored probes included), not from a replayed position.
        at = _nearest(levels, difficulty)
        if abs(at - pos) > step + 1:
            # An explore probe far from the staircase: counting it as a step (or a reversal) would
            # drag the estimate towards the range's ends (fails at the top, passes at the bottom).
            continue
        direction = 1 if passed else -1
        if last_dir and direction != last_dir:
            reversals.append(at)
            step = max(1, step // 2)
        last_dir = direction
        pos = min(len(levels) - 1, max(0, at + direction * step))
    recent = reversals[-REVERSALS:]
    return sum(recent) / len(recent) if len(recent) >= 2 else float(pos)


def next_levels(
    history: Sequence[tuple[int, bool]],
    allowed_levels: Sequence[int],
    n: int,
    rng: random.Random,
    explore: float = EXPLORE,
    start: float | None = None,
    centre: float | None = None,
) -> list[int]:
    """n difficulty levels: around the staircase's frontier estimate, a share ``explore`` uniform.

    ``centre``: the staircase position over ``history`` when the caller already has it."""
    levels = sorted(set(allowed_levels))
    if not levels:
        raise ValueError("no allowed levels")
    if centre is None:
        centre = staircase_position(history, levels, start)
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
    histories: Mapping[str, Sequence[tuple[int, bool]]],
    explore: float = EXPLORE,
    starts: Mapping[str, float] | None = None,
) -> Callable[[str, Sequence[int], random.Random], int]:
    """A planner difficulty chooser (family, allowed levels, rng) -> level over per-family histories.

    ``starts``: per family, the level a staircase without history starts at (the calibrated d50).
    """
    begin = starts or {}
    # The histories are fixed for the plan, so each family's position is replayed once, not once per
    # item: a run of 1,000 items over a 2,000-outcome history spent 47 s replaying it (2026-12-03).
    centres: dict[tuple[str, tuple[int, ...]], float] = {}

    def choose(family: str, allowed: Sequence[int], rng: random.Random) -> int:
        history = histories.get(family, ())
        key = (family, tuple(sorted(set(allowed))))
        if key not in centres:
            centres[key] = staircase_position(history, key[1], begin.get(family))
        return next_levels(history, allowed, 1, rng, explore, begin.get(family), centres[key])[0]

    return choose


def interval_factor(urgency: float, fastest: float = 0.25) -> float:
    """Multiplier for a target's probe interval: 1 when its detectors are quiet, down to ``fastest`` near alarm.

    ``urgency`` is the largest detector statistic / threshold (0..1). Probing faster while a statistic
    climbs shortens the time (not the probes) to a decision; the false-alarm budget is per probe, so
    it is unchanged, but the spend rises while the statistic is high.
    """
    u = min(max(urgency, 0.0), 1.0)
    return 1.0 - (1.0 - fastest) * max(0.0, (u - 0.5) / 0.5)
