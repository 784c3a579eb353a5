"""False alarms and delays measured on the shipped code path: ``StatsEngine.update`` over a real ledger.

Simulated runs at the target's cadence: each fresh item has a latent logit (difficulty) shared by its
renderings, and is rendered at every configured novelty, so renderings are correlated (intra-item
correlation ~0.5 at the default spread); each run also answers the canary (fingerprint) prompts, each
answer equal to its prompt's usual answer with probability ``--agreement``. Results go into a real
``Store`` and the engine the daemon runs reads them through the ledger queries, learns its baselines
from the stream (estimated, not known), designs every detector of the configured set (3 families x 4
specs + pooled + the fingerprint: 17 detectors) from the budget, and raises change points.

* A/A (``aa``): for each warm-up length, ``--reps`` independent targets (each its own baselines: the
  false-alarm rate varies far more between baselines than within one), each monitored for
  ``--months`` after every detector is armed, at a raised budget (``--budget`` false alarms per target
  per month, so that a few months show enough alarms to count). Rate = change points / months, with
  a 95% Wilson interval on change points per monitored item, scaled to a month.
* Shift (``delays``): after warm-up plus ``--settle`` items, every item's pass probability drops by
  ``--shift``; items (and hours) until the first pass-ratio change point.

Run:  python -m benchmarks.engine_detection --quick   (A/A at warm-ups 20, 100 and 500; ~10 minutes
      on 2 shared cores, most of it designing detectors)
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from agent.config import Settings, StatsConfig, TargetConfig
from agent.ledger.results import ProbeResult
from agent.ledger.store import Store
from agent.stats.engine import StatsEngine
from agent.stats.intervals import wilson

FAMILIES = ["arithmetic", "logic", "counting"]
NOVELTIES = [0, 1, 2, 3]
ITEMS_PER_RUN = 5
CANARIES = 3
INTERVAL_S = 300.0
RUNS_PER_MONTH = 30 * 86400 / INTERVAL_S


def settings(db: Path, budget: float, warmup: int) -> Settings:
    """One target: 3 families, 4 novelties, 20 renderings and 3 canaries a run every 300 s."""
    target = TargetConfig(
        name="t1",
        base_url="http://x.test/v1",
        model="m",
        families=FAMILIES,
        novelties=NOVELTIES,
        probes_per_run=ITEMS_PER_RUN * len(NOVELTIES),
        interval_s=INTERVAL_S,
        fingerprint_prompts=CANARIES,
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


def _canary(key: str, response: str, ts: float) -> ProbeResult:
    return ProbeResult(
        ts=ts, run_id="r", target="t1", provider="openai", model="m", family="fingerprint", difficulty=1,
        novelty=0, item_index=0, seed=0, item_key=key, static=True, canary=True, generator_version="1",
        prompt="p", response=response, extracted=None, canonical=None, reference="", score=None,
        outcome="fail", error_reason=None, http_status=None, latency_s=0.1, input_tokens=1, output_tokens=1,
        response_model="m", system_fingerprint=None,
    )  # fmt: skip


class Stream:
    """Runs of 5 items x 4 renderings plus 3 canaries into a ledger, fed to the engine after every run."""

    def __init__(
        self, db: Path, budget: float, warmup: int, rng: random.Random, spread: float, agreement: float = 0.95
    ) -> None:
        self.store = Store(db)
        self.engine = StatsEngine(self.store, settings(db, budget, warmup))
        self.rng, self.spread, self.agreement = rng, spread, agreement
        self.ts, self.seed, self.runs = 0.0, rng.randrange(1 << 40), 0

    def run(self, p: float, agreement: float | None = None) -> None:
        """One run: items whose pass probability centres on p, canaries agreeing with probability agreement."""
        centre = math.log(p / (1 - p))
        rows = []
        for i in range(ITEMS_PER_RUN):
            self.seed += 1
            # Latent item logit: the renderings of one item share it (correlated outcomes).
            logit = centre + self.rng.gauss(0.0, self.spread)
            for nov in NOVELTIES:
                q = 1 / (1 + math.exp(-(logit + self.rng.gauss(0.0, 0.3))))
                rows.append(_row(self.seed, FAMILIES[i % 3], nov, self.rng.random() < q, self.ts))
        a = self.agreement if agreement is None else agreement
        for k in range(CANARIES):
            same = self.rng.random() < a
            rows.append(_canary(f"canary:{k}", f"usual {k}" if same else f"other {self.rng.random()}", self.ts))
        self.store.add_results(rows)
        self.engine.update()
        self.ts += INTERVAL_S
        self.runs += 1

    def armed(self) -> bool:
        """Every scope (3 families, pooled) and the fingerprint has its baseline."""
        return len(self.store.baselines()) == len(FAMILIES) + 2

    def alarms(self, since: float = -1.0) -> list[dict[str, object]]:
        """Change points (drops and rises, not recoveries) from ``since`` on."""
        return [cp for cp in self.store.change_points(since=since) if cp["direction"] in ("drop", "rise")]


@dataclass(frozen=True)
class AaResult:
    """False alarms of ``reps`` independent targets at one warm-up length."""

    warmup: int
    reps: int
    months: float
    alarms: int
    items: int
    by_detector: dict[str, int]
    armed_runs: tuple[int, ...]

    def per_month(self) -> tuple[float, float, float]:
        """(rate, Wilson 95% low, high) in change points per target per month."""
        per_item_month = ITEMS_PER_RUN * RUNS_PER_MONTH
        low, high = wilson(self.alarms, self.items)
        return self.alarms / self.months, low * per_item_month, high * per_item_month


def aa(warmup: int, budget: float, reps: int, months: float, rng: random.Random, spread: float, p0: float) -> AaResult:
    """A/A: change points over ``months`` of in-control runs after arming, for ``reps`` new targets."""
    alarms, items, armed_runs = 0, 0, []
    by_detector: dict[str, int] = {}
    runs = int(months * RUNS_PER_MONTH)
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(reps):
            s = Stream(Path(tmp) / f"aa{warmup}-{r}.db", budget, warmup, rng, spread)
            while not s.armed():
                s.run(p0)
            armed_runs.append(s.runs)
            start = s.ts
            for _ in range(runs):
                s.run(p0)
            got = s.alarms(since=start)
            alarms += len(got)
            items += runs * ITEMS_PER_RUN
            for cp in got:
                key = f"{cp['scope'] if cp['scope'] in ('all', 'fingerprint') else 'family'}/{cp['detector']}"
                by_detector[key] = by_detector.get(key, 0) + 1
            s.store.close()
    return AaResult(warmup, reps, reps * runs / RUNS_PER_MONTH, alarms, items, by_detector, tuple(armed_runs))


def delays(
    warmup: int, p0: float, shift: float, reps: int, settle: int, rng: random.Random, spread: float
) -> list[int]:
    """Items from a drop of ``shift`` (at budget 1) to the first pass-ratio change point, per repetition."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(reps):
            s = Stream(Path(tmp) / f"shift{r}.db", 1.0, warmup, rng, spread)
            while not s.armed():
                s.run(p0)
            for _ in range(settle // ITEMS_PER_RUN):
                s.run(p0)
            before = len(s.alarms())
            n = 0
            while len(s.alarms()) == before and n < 20_000:
                s.run(p0 - shift)
                n += ITEMS_PER_RUN
            out.append(n)
            s.store.close()
    return out


def main() -> None:
    """Print the A/A table per warm-up length (and, with --shift-reps, delays)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warmups", type=int, nargs="+", default=[20, 100, 500])
    ap.add_argument("--reps", type=int, default=8, help="independent targets (baselines) per warm-up")
    ap.add_argument("--months", type=float, default=0.25, help="monitored months per target after arming")
    ap.add_argument("--budget", type=float, default=30.0)
    ap.add_argument("--p0", type=float, default=0.8, help="centre of the item pass probabilities")
    ap.add_argument("--spread", type=float, default=1.5, help="sd of the item logit (renderings share it)")
    ap.add_argument("--shift", type=float, default=0.07)
    ap.add_argument("--shift-reps", type=int, default=0)
    ap.add_argument("--settle", type=int, default=500, help="in-control items after warm-up before the shift")
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="4 targets x 0.1 month per warm-up")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.months = 4, 0.1
    rng = random.Random(args.seed)
    started = time.time()
    print(
        f"A/A on StatsEngine.update: {len(FAMILIES)} families, {len(NOVELTIES)} novelties, {ITEMS_PER_RUN} items"
        f" + {CANARIES} canaries a run every {INTERVAL_S:.0f} s, 17 detectors, budget {args.budget:g}/target/month"
    )
    print(
        "| warm-up | targets x months | change points | rate / month [95% Wilson] | budget | by detector"
        " | armed after (runs) |"
    )
    print("|---|---|---|---|---|---|---|")
    for w in args.warmups:
        res = aa(w, args.budget, args.reps, args.months, rng, args.spread, args.p0)
        rate, low, high = res.per_month()
        detail = ", ".join(f"{k} {v}" for k, v in sorted(res.by_detector.items())) or "-"
        print(
            f"| {w} | {res.reps} x {args.months:g} | {res.alarms} | {rate:.1f} [{low:.1f}, {high:.1f}]"
            f" | {args.budget:g} | {detail} | {min(res.armed_runs)}-{max(res.armed_runs)} |",
            flush=True,
        )
    if args.shift_reps:
        d = delays(args.warmups[-1], args.p0, args.shift, args.shift_reps, args.settle, rng, args.spread)
        mean = sum(d) / len(d)
        print(f"shift -{args.shift:g} (budget 1/month): items to first alarm {d}, mean {mean:.0f}")
    print(f"({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
