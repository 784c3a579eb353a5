"""Detection delay of the shipped engine end to end, against a randomized exact batch test.

Every figure runs the code the daemon runs: ``benchmarks.engine_detection.Stream`` writes simulated
runs (5 fresh items x 4 correlated renderings + 3 canaries every 300 s, 3 families) into a real
ledger and ``StatsEngine.update`` learns the baselines from the stream (estimated, warm-up
``--warmup``), designs the configured 17 detectors at the default budget (1 false alarm per target
per month) and raises change points. For each of ``--baselines`` independent warm-ups the armed
ledger is copied once per repetition (the engine restores its detectors from it, as after a
restart), runs ``--settle`` in-control items, then every item's pass probability drops by each of
``--shifts`` (off the GLR's 5/10/20/35-point grid and the CUSUMs' 10/20 points). Delay: fresh items
(and hours at the default cadence) from the change to the first pass-ratio change point of any
detector; mean and 90th percentile over baselines x repetitions (runs that found nothing within
``--cap`` items count as the cap, and are reported).

Baseline method: a fixed-size batch test on the pooled items, the randomized exact one-sided binomial
test of "pass ratio below p0" (uniformised at the critical count, so its size is exactly the level),
at a level giving it the *whole target's* false-alarm rate (1 per month over every pooled item:
level = batch / items per month) and the *true* p0 (both favourable to it); its delay is exact: a
change at a uniformly random point of a batch waits for the batch's end, then batches until one
rejects. The best batch size on a grid is reported.

Run:  python -m benchmarks.detection --quick     (2 baselines x 2 repetitions x 3 shifts; ~6 min)
      python -m benchmarks.detection --peeking   (Wilson vs confidence sequence under peeking)
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.stats import binom

from benchmarks.engine_detection import INTERVAL_S, ITEMS_PER_RUN, RUNS_PER_MONTH, Stream

ITEMS_PER_MONTH = ITEMS_PER_RUN * RUNS_PER_MONTH


def marginal(centre: float, spread: float, draws: int = 400_000, seed: int = 0) -> float:
    """Pass probability of a random item whose logit is logit(centre) + N(0, spread) + N(0, 0.3)."""
    rng = np.random.default_rng(seed)
    logit = math.log(centre / (1 - centre)) + rng.normal(0.0, spread, draws) + rng.normal(0.0, 0.3, draws)
    return float(np.mean(1 / (1 + np.exp(-logit))))


def randomized_batch_delay(p0: float, p1: float, batch: int, level: float) -> float:
    """Expected items from a change (uniform within a batch) to the first rejecting batch.

    Reject when X < c, and with probability g when X = c, so that P0(reject) = level exactly.
    """
    c = int(binom.ppf(level, batch, p0))
    below = float(binom.cdf(c - 1, batch, p0)) if c > 0 else 0.0
    at = float(binom.pmf(c, batch, p0))
    g = min(max((level - below) / at, 0.0), 1.0) if at > 0 else 0.0
    below1 = float(binom.cdf(c - 1, batch, p1)) if c > 0 else 0.0
    power = below1 + g * float(binom.pmf(c, batch, p1))
    if power <= 0:
        return math.inf
    # The batch in progress at the change mixes both rates; counting it as a loss (waiting for its end,
    # batch/2 on average) favours the batch test slightly.
    return batch / 2 + batch / power


def best_batch(p0: float, p1: float) -> tuple[int, float]:
    """(batch size, delay) of the best randomized exact batch test at the target's false-alarm rate."""
    best = (0, math.inf)
    for b in sorted({int(x) for x in np.geomspace(10, 5000, 60)}):
        d = randomized_batch_delay(p0, p1, b, min(b / ITEMS_PER_MONTH, 0.5))
        if d < best[1]:
            best = (b, d)
    return best


def engine_delays(
    shifts: list[float], baselines: int, reps: int, args: argparse.Namespace, rng: random.Random
) -> dict[float, list[int]]:
    """Items to the first pass-ratio change point after each shift, over baselines x repetitions."""
    out: dict[float, list[int]] = {s: [] for s in shifts}
    with tempfile.TemporaryDirectory() as tmp:
        for b in range(baselines):
            armed_db = Path(tmp) / f"armed{b}.db"
            s = Stream(armed_db, 1.0, args.warmup, rng, args.spread)
            while not s.armed():
                s.run(args.p0)
            s.store.close()
            for shift in shifts:
                for r in range(reps):
                    db = Path(tmp) / f"b{b}-s{shift}-r{r}.db"
                    shutil.copy(armed_db, db)
                    rs = Stream(db, 1.0, args.warmup, rng, args.spread)
                    rs.ts = s.ts
                    for _ in range(args.settle // ITEMS_PER_RUN):
                        rs.run(args.p0)
                    before = len(rs.alarms())
                    n = 0
                    while len(rs.alarms()) == before and n < args.cap:
                        rs.run(args.p0 - shift)
                        n += ITEMS_PER_RUN
                    out[shift].append(n)
                    rs.store.close()
    return out


def peeking(p: float, runs: int, horizon: int, rng: np.random.Generator, alpha: float = 0.05) -> tuple[float, float]:
    """Share of streams whose 95% Wilson interval / confidence sequence excluded p at some n in 20..horizon.

    Calls the shipped ``wilson`` and ``log_mixture`` (the sequence excludes p exactly when the mixture
    martingale at p reaches 1/alpha).
    """
    from agent.stats.intervals import log_mixture, wilson

    bound = math.log(1 / alpha)
    wilson_miss = cs_miss = 0
    for _ in range(runs):
        k = np.cumsum(rng.random(horizon) < p)
        looks = [(int(k[i - 1]), i) for i in range(20, horizon + 1)]
        wilson_miss += any(not (lo <= p <= hi) for lo, hi in (wilson(kk, nn, 1 - alpha) for kk, nn in looks))
        cs_miss += any(log_mixture(kk, nn, p) >= bound for kk, nn in looks)
    return wilson_miss / runs, cs_miss / runs


def main() -> None:
    """Print the delay table (or the peeking figures)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shifts", type=float, nargs="+", default=[0.03, 0.07, 0.12])
    ap.add_argument("--baselines", type=int, default=4)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--p0", type=float, default=0.8, help="centre of the item pass probabilities")
    ap.add_argument("--spread", type=float, default=1.5, help="sd of the item logit (renderings share it)")
    ap.add_argument("--settle", type=int, default=250, help="in-control items after arming, before the shift")
    ap.add_argument("--cap", type=int, default=6000, help="items without an alarm before giving up")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="2 baselines x 2 repetitions")
    ap.add_argument("--peeking", action="store_true")
    args = ap.parse_args()
    if args.peeking:
        w, cs = peeking(0.8, 2000, 2000, np.random.default_rng(args.seed))
        print(f"peeking n = 20..2000 at p = 0.8: Wilson excluded p in {w:.1%} of streams, the sequence in {cs:.1%}")
        return
    if args.quick:
        args.baselines, args.reps = 2, 2
    started = time.time()
    delays = engine_delays(args.shifts, args.baselines, args.reps, args, random.Random(args.seed))
    p_before = marginal(args.p0, args.spread)
    hours = INTERVAL_S / ITEMS_PER_RUN / 3600
    print(
        f"StatsEngine.update, estimated baselines (warm-up {args.warmup}), 4 correlated renderings, budget 1/month;"
        f" marginal pass ratio before {p_before:.3f}; {args.baselines} baselines x {args.reps} repetitions per shift"
    )
    print("| shift (centre) | pass ratio after | engine mean items (h) | engine p90 items (h) | not found |"
          " best randomized batch: size, mean items (h) | engine / batch |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for shift, d in delays.items():
        p_after = marginal(args.p0 - shift, args.spread)
        mean = statistics.fmean(d)
        p90 = float(np.percentile(d, 90))
        b, bd = best_batch(p_before, p_after)
        print(
            f"| {args.p0:g} -> {args.p0 - shift:g} | {p_after:.3f} (-{p_before - p_after:.3f})"
            f" | {mean:.0f} ({mean * hours:.1f}) | {p90:.0f} ({p90 * hours:.1f}) | {sum(x >= args.cap for x in d)}"
            f" | {b}, {bd:.0f} ({bd * hours:.1f}) | {mean / bd:.2f} |"
        )
    print(f"({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
