"""False alarms and delays measured on the shipped code path: ``StatsEngine.update`` over a real ledger.

Simulated runs at the target's cadence: each fresh item has a latent logit (difficulty) shared by its
renderings, and is rendered at every configured novelty, so renderings are correlated (intra-item
correlation ~0.5 at the default spread); results go into a real ``Store`` and the engine the daemon
runs reads them through the ledger queries, learns its baselines from the stream (estimated, not
known), designs every detector from the configured budget, and raises change points.

* A/A: ``--months`` of in-control runs at a raised budget (``--budget`` false alarms per target per
  month, so that a few months show enough alarms to compare): change points counted.
* Shift: after warm-up plus ``--settle`` items, the pass probability of every item drops by
  ``--shift`` (off the detectors' grid by default, 7 points); items (and hours) until the first
  pooled drop change point, over ``--reps`` repetitions.

Run:  python benchmarks/engine_detection.py --quick   (about 2 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from pathlib import Path

from agent.config import Settings, StatsConfig, TargetConfig
from agent.ledger.results import ProbeResult
from agent.ledger.store import Store
from agent.stats.engine import StatsEngine

FAMILIES = ["arithmetic", "logic", "counting"]
NOVELTIES = [0, 1, 2, 3]


def _settings(db: Path, budget: float, warmup: int) -> Settings:
    target = TargetConfig(
        name="t1",
        base_url="http://x.test/v1",  # type: ignore[arg-type]
        model="m",
        families=FAMILIES,
        novelties=NOVELTIES,
        probes_per_run=20,
        interval_s=300.0,
        fingerprint_prompts=0,
    )
    return Settings(
        targets=[target],
        store=db,
        stats=StatsConfig(false_alarms_per_month=budget, warmup_probes=warmup, windows_s=[3600.0]),
    )


def _row(seed: int, fam: str, nov: int, passed: bool, ts: float) -> ProbeResult:
    return ProbeResult(
        ts=ts, run_id="r", target="t1", provider="openai", model="m", family=fam, difficulty=1,
        novelty=nov, item_index=seed, seed=seed, item_key=f"{fam}:fresh:1:{seed}", static=False,
        canary=False, generator_version="1", prompt="p", response="a", extracted=None, canonical=None,
        reference="a", score=float(passed), outcome="pass" if passed else "fail", error_reason=None,
        http_status=None, latency_s=0.1, input_tokens=1, output_tokens=1, response_model="m",
        system_fingerprint=None,
    )  # fmt: skip


class Stream:
    """Runs of 5 items x 4 renderings into a ledger, fed to the engine after every run."""

    def __init__(self, db: Path, budget: float, warmup: int, rng: random.Random, spread: float) -> None:
        self.store = Store(db)
        self.engine = StatsEngine(self.store, _settings(db, budget, warmup))
        self.rng, self.spread, self.ts, self.seed = rng, spread, 0.0, rng.randrange(1 << 40)

    def run(self, p: float) -> None:
        centre = math.log(p / (1 - p))
        for i in range(5):
            self.seed += 1
            # Latent item logit: the renderings of one item share it (correlated outcomes).
            logit = centre + self.rng.gauss(0.0, self.spread)
            for nov in NOVELTIES:
                q = 1 / (1 + math.exp(-(logit + self.rng.gauss(0.0, 0.3))))
                self.store.add_result(_row(self.seed, FAMILIES[i % 3], nov, self.rng.random() < q, self.ts))
        self.engine.update()
        self.ts += 300.0

    def drops(self) -> list[dict[str, object]]:
        return [cp for cp in self.store.change_points() if cp["direction"] in ("drop", "rise")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--months", type=float, default=1.0)
    ap.add_argument("--budget", type=float, default=30.0)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--shift", type=float, default=0.07)
    ap.add_argument("--p0", type=float, default=0.8)
    ap.add_argument("--spread", type=float, default=1.5, help="sd of the item logit (renderings share it)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--settle", type=int, default=500, help="in-control items after warm-up before the shift")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.months, args.reps = 0.25, 3
    rng = random.Random(args.seed)
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        s = Stream(Path(tmp) / "aa.db", args.budget, args.warmup, rng, args.spread)
        runs = int(args.months * 30 * 86400 / 300)
        for _ in range(runs):
            s.run(args.p0)
        alarms = len(s.drops())
        print(
            f"A/A: {runs} runs ({args.months:g} months, {runs * 5} items, {runs * 20} renderings), budget "
            f"{args.budget:g}/month: {alarms} change points = {alarms / args.months:.1f}/month"
        )
        delays = []
        for r in range(args.reps):
            s = Stream(Path(tmp) / f"shift{r}.db", 1.0, args.warmup, rng, args.spread)
            while not any(b["scope"] == "all" and b["data"].get("p0") for b in s.store.baselines()):
                s.run(args.p0)
            for _ in range(args.settle // 5):
                s.run(args.p0)
            before = len(s.drops())
            n = 0
            while len(s.drops()) == before and n < 20_000:
                s.run(args.p0 - args.shift)
                n += 5
            delays.append(n)
        mean = sum(delays) / len(delays)
        print(
            f"shift {args.p0:g} -> {args.p0 - args.shift:g} (budget 1/month, estimated baseline, 4 correlated"
            f" renderings): items to first alarm {delays}, mean {mean:.0f} items = {mean / 5 * 300 / 3600:.1f} h"
        )
    print(f"({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
