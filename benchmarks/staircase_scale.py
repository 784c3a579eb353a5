"""How fast the adaptive staircase finds a frontier on a 40-level scale, against uniform sampling.

A simulated model passes level x with probability 1 / (1 + exp(slope * (x - d50))). For each d50,
over ``--runs`` seeds: the probes until the staircase estimate (``adaptive.staircase_position``) first
comes within 3 levels of d50, and after ``--probes`` probes the absolute error of the frontier fitted
(``frontier.fit_frontier``) on the staircase's probes versus on as many probes drawn uniformly over
1..40 (``adaptive: false``). Run: ``python -m benchmarks.staircase_scale`` (about 15 s of CPU).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics

from agent.stats.adaptive import next_levels, staircase_position
from agent.stats.frontier import fit_frontier

LEVELS = list(range(1, 41))


def _passes(rng: random.Random, level: int, d50: float, slope: float) -> bool:
    return rng.random() < 1 / (1 + math.exp(slope * (level - d50)))


def _fit_error(history: list[tuple[int, bool]], d50: float) -> float:
    by: dict[int, list[int]] = {}
    for lvl, ok in history:
        cell = by.setdefault(lvl, [0, 0])
        cell[0] += ok
        cell[1] += 1
    xs = sorted(by)
    fit = fit_frontier(xs, [by[x][0] for x in xs], [by[x][1] for x in xs])
    return abs(fit.d50 - d50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--probes", type=int, default=40)
    parser.add_argument("--slope", type=float, default=1.0)
    args = parser.parse_args()
    print(f"| d50 | probes to within 3 levels (median) | fit error after {args.probes}: staircase | uniform |")
    print("|---|---|---|---|")
    for d50 in (5.5, 15.5, 30.5):
        reach, stair_err, uni_err = [], [], []
        for seed in range(args.runs):
            rng = random.Random(seed)
            history: list[tuple[int, bool]] = []
            first = None
            for i in range(args.probes):
                (lvl,) = next_levels(history, LEVELS, 1, rng)
                history.append((lvl, _passes(rng, lvl, d50, args.slope)))
                if first is None and abs(staircase_position(history, LEVELS) + 1 - d50) <= 3:
                    first = i + 1
            reach.append(first if first is not None else args.probes + 1)
            stair_err.append(_fit_error(history, d50))
            uniform = [(lvl, _passes(rng, lvl, d50, args.slope)) for lvl in rng.choices(LEVELS, k=args.probes)]
            uni_err.append(_fit_error(uniform, d50))
        print(
            f"| {d50} | {statistics.median(reach):.0f} | {statistics.median(stair_err):.2f} "
            f"| {statistics.median(uni_err):.2f} |"
        )


if __name__ == "__main__":
    main()
