"""Detection benchmark: false-alarm ARL and detection delay of capmon's detectors on Bernoulli streams.

For each scenario (pass rate p0 -> p1, and the fingerprint's agreement rate) it measures, by
simulation vectorised over many streams:
  * ARL0: probes between false alarms with no change (renewal estimate: streams restart after each
    alarm; ARL0 = probes simulated / alarms);
  * worst-case delay: post-change data from a zero statistic (the CUSUM's worst start);
  * steady-state delay: change after ``--warm`` in-control probes (streams that alarmed before are dropped);
for (1) the known-shift CUSUM designed for the true shift, (2) the unknown-shift grid GLR designed
from p0 only and (3) for the fingerprint, the agreement CUSUM designed for p0 -> p0/2. It compares
with (a) the exact Markov-chain (oracle) figures for the known-shift CUSUM at the same ARL0 and
(b) a fixed batch test (one-sided exact binomial every B probes, level B/ARL0 so the false alarms per
probe are equal), whose delay is computed exactly. Finally it measures the effect of a baseline
estimated from n0 probes on ARL0 (exactly, by Markov chain, over many simulated baselines).

Run:  python benchmarks/detection.py            (about 5 minutes on 2 cores)
      python benchmarks/detection.py --quick    (a smoke run)
      python benchmarks/detection.py --real-swap 14 8   (A/A then a re-quantized model, real SmolLM2)
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import binom

from agent.stats.cusum import GridGlr, arl, design, steady_state_arl

Arm = tuple[int, int, int]  # (increment on pass, increment on fail, threshold)


@dataclass(frozen=True)
class Scenario:
    """A shift to detect."""

    name: str
    p0: float
    p1: float
    fingerprint: bool = False


SCENARIOS = (
    Scenario("pass 0.80 -> 0.70", 0.80, 0.70),
    Scenario("pass 0.80 -> 0.60", 0.80, 0.60),
    Scenario("pass 0.95 -> 0.90", 0.95, 0.90),
    Scenario("agreement 0.95 -> 0.50", 0.95, 0.50, fingerprint=True),
)


def _step(state: np.ndarray, x: np.ndarray, arms: list[Arm]) -> np.ndarray:
    """Advance every arm's statistic; returns a boolean alarm vector (any arm at or over threshold)."""
    alarm = np.zeros(x.shape[0], dtype=bool)
    for j, (up, down, h) in enumerate(arms):
        state[:, j] = np.maximum(0, state[:, j] + np.where(x, up, down))
        alarm |= state[:, j] >= h
    return alarm


def arl0_renewal(arms: list[Arm], p: float, streams: int, steps: int, rng: np.random.Generator) -> tuple[float, int]:
    """Probes per false alarm: run ``streams`` x ``steps`` in-control probes, restarting after each alarm."""
    state = np.zeros((streams, len(arms)), dtype=np.int64)
    alarms = 0
    for _ in range(steps):
        hit = _step(state, rng.random(streams) < p, arms)
        n = int(hit.sum())
        if n:
            alarms += n
            state[hit] = 0
    return (streams * steps / alarms if alarms else math.inf), alarms


def delays(
    arms: list[Arm], p0: float, p1: float, streams: int, warm: int, rng: np.random.Generator, cap: int = 20_000
) -> tuple[float, float]:
    """(worst-case zero-start delay, steady-state delay after ``warm`` in-control probes), means."""
    out = []
    for pre in (0, warm):
        state = np.zeros((streams, len(arms)), dtype=np.int64)
        valid = np.ones(streams, dtype=bool)
        for _ in range(pre):
            valid &= ~_step(state, rng.random(streams) < p0, arms)
        length = np.full(streams, cap, dtype=np.int64)
        alive = valid.copy()
        t = 0
        while alive.any() and t < cap:
            t += 1
            hit = _step(state, rng.random(streams) < p1, arms) & alive
            length[hit] = t
            alive &= ~hit
        out.append(float(length[valid].mean()))
    return out[0], out[1]


def batch_delay(p0: float, p1: float, arl0: float, batch: int) -> tuple[float, float]:
    """Exact (worst-case, steady-state) delay of a one-sided binomial test every ``batch`` probes at level
    batch/arl0."""
    alpha = min(batch / arl0, 0.5)
    # Reject when passes <= c, with c the largest count whose in-control tail stays within alpha.
    c = int(binom.ppf(alpha, batch, p0))
    while c >= 0 and binom.cdf(c, batch, p0) > alpha:
        c -= 1
    if c < 0:
        return math.inf, math.inf
    power_full = float(binom.cdf(c, batch, p1))
    wait = batch / power_full  # expected probes over further full batches until a rejection
    # Change after u in-control probes of a batch: j = batch - u post-change probes in it. The mean over
    # u uses up to 200 evenly spaced change positions (exact for batches of up to 200 probes).
    positions = np.unique(np.linspace(0, batch - 1, min(batch, 200)).round().astype(int))
    total = 0.0
    for u in positions:
        j = batch - int(u)
        a = np.arange(int(u) + 1)
        power_j = float(np.sum(binom.pmf(a, int(u), p0) * binom.cdf(c - a, j, p1)))
        total += j + (1 - power_j) * wait
    return wait, total / len(positions)


def best_batch(p0: float, p1: float, arl0: float) -> tuple[int, float, float]:
    """The batch size with the smallest steady-state delay (the most favourable fixed test)."""
    best = (0, math.inf, math.inf)
    for b in sorted({int(x) for x in np.geomspace(10, 4000, 40)}):
        worst, steady = batch_delay(p0, p1, arl0, b)
        if steady < best[2]:
            best = (b, worst, steady)
    return best


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


def _arms_of(glr: GridGlr) -> list[Arm]:
    return [(a.design.inc_pass, a.design.inc_fail, a.design.threshold) for a in glr.arms]


def baseline_effect(
    p0: float, p1: float, arl0: float, n0: int, draws: int, rng: np.random.Generator
) -> dict[str, float]:
    """Exact ARL0 at the true p0 of detectors designed from estimated baselines (naive vs guarded)."""
    naive, guarded, guarded_delay = [], [], []
    for _ in range(draws):
        est = min(max(rng.binomial(n0, p0) / n0, 0.5 / n0), 1 - 0.5 / n0)
        alt = est - (p0 - p1)
        d_n = design(est, alt, arl0)
        d_g = design(est, alt, arl0, baseline_n=n0)
        naive.append(arl(d_n.inc_pass, d_n.inc_fail, d_n.threshold, p0))
        guarded.append(arl(d_g.inc_pass, d_g.inc_fail, d_g.threshold, p0))
        guarded_delay.append(arl(d_g.inc_pass, d_g.inc_fail, d_g.threshold, p1))
    return {
        "naive_p10": float(np.percentile(naive, 10)),
        "naive_median": float(np.median(naive)),
        "guarded_p10": float(np.percentile(guarded, 10)),
        "guarded_median": float(np.median(guarded)),
        "guarded_delay": float(np.mean(guarded_delay)),
    }


def real_swap(aa_runs: int, swap_runs: int, workdir: Path) -> None:
    """A/A then model swap against the real SmolLM2 on llama.cpp: the fingerprint must stay quiet, then fire."""
    import asyncio
    import ctypes
    import json

    import llama_cpp

    from agent.config import load_config
    from agent.daemon import Agent
    from agent.llama import find_gguf, free_port, start_llama_server

    workdir.mkdir(parents=True, exist_ok=True)
    src, requantized = find_gguf(), workdir / "smollm2-requantized.gguf"
    if not requantized.exists():
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q2_K  # most tensors fall back to q4_0/q3_K (576 columns)
        params.allow_requantize = True
        params.nthread = 1
        if llama_cpp.llama_model_quantize(str(src).encode(), str(requantized).encode(), ctypes.byref(params)):
            raise SystemExit("re-quantization failed")
    port = free_port()
    db = workdir / "swap.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    cfg = workdir / "swap.yaml"
    cfg.write_text(
        f"targets:\n  - name: local\n    base_url: http://127.0.0.1:{port}/v1\n    model: smollm2\n"
        "    probes_per_run: 1\n    static_per_run: 0\n    fingerprint_prompts: 8\n    max_tokens: 32\n"
        "    difficulties: [1, 2, 3]\n    concurrency: 1\n    timeout_s: 60\n"
        f"store: {db}\nstats:\n  warmup_probes: 24\n"
    )
    settings = load_config(cfg)

    async def rounds(agent: Agent, n: int, phase: str) -> None:
        for i in range(n):
            await agent.run_round()
            fp = agent.stats.snapshot().fingerprints.get("local")
            print(
                json.dumps(
                    {
                        "phase": phase,
                        "run": i,
                        "agreement": fp and fp.agreement,
                        "changed": fp and fp.changed,
                        "warming_up": fp and fp.warming_up,
                    }
                ),
                flush=True,
            )

    async def go() -> None:
        server = start_llama_server(src, port=port, n_threads=1)
        agent = Agent(settings)
        try:
            await rounds(agent, aa_runs, "A/A original")
            server.stop()
            server = start_llama_server(requantized, port=port, n_threads=1)
            await rounds(agent, swap_runs, "swapped re-quantized")
        finally:
            server.stop()
            print("change points:", json.dumps(agent.store.change_points()))
            await agent.aclose()

    asyncio.run(go())


def main() -> None:
    """Run every scenario and print markdown tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arl0", type=float, default=1e4)
    ap.add_argument("--streams", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=20_000, help="in-control probes per stream for ARL0")
    ap.add_argument("--warm", type=int, default=500)
    ap.add_argument("--n0", type=int, nargs="*", default=[200, 500, 2000])
    ap.add_argument("--baselines", type=int, default=100)
    ap.add_argument("--tokens-per-probe", type=float, default=100.0)
    ap.add_argument("--seed", type=int, default=20260101)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--real-swap",
        nargs=2,
        type=int,
        metavar=("AA_RUNS", "SWAP_RUNS"),
        help="instead: A/A then model-swap runs against the real SmolLM2 (needs capmon[demo])",
    )
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/capmon-swap"))
    ap.add_argument("--peeking", action="store_true", help="instead: Wilson vs confidence-sequence peeking")
    args = ap.parse_args()
    if args.real_swap:
        real_swap(args.real_swap[0], args.real_swap[1], args.workdir)
        return
    if args.peeking:
        w, c = peeking(0.8, 2000, 2000, np.random.default_rng(args.seed))
        print(f"peeking after every probe, n = 20..2000, p = 0.8, 2000 streams: Wilson {w:.1%}, sequence {c:.1%}")
        return
    if args.quick:
        args.streams, args.steps, args.baselines, args.n0 = 300, 3000, 20, [500]
    rng = np.random.default_rng(args.seed)
    started = time.time()
    a0 = args.arl0
    print(f"ARL0 target {a0:g} probes; {args.streams} streams; ARL0 from {args.streams}x{args.steps} probes\n")
    print(
        "| scenario | detector | h (nats) | ARL0 exact (chain) | ARL0 measured [95% CI] | worst delay"
        " | steady delay | oracle worst / steady | steady / oracle |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    batch_rows = []
    for sc in SCENARIOS:
        oracle = design(sc.p0, sc.p1, a0)
        o_worst = arl(oracle.inc_pass, oracle.inc_fail, oracle.threshold, sc.p1)
        o_steady = steady_state_arl(oracle.inc_pass, oracle.inc_fail, oracle.threshold, sc.p0, sc.p1)
        candidates: list[tuple[str, list[Arm], float]] = []
        if sc.fingerprint:
            fp = design(sc.p0, sc.p0 / 2, a0)  # what the fingerprint monitor runs: p0 -> p0/2
            candidates.append(("fingerprint p0->p0/2", [(fp.inc_pass, fp.inc_fail, fp.threshold)], fp.h_nats))
        else:
            candidates.append(
                ("known-shift CUSUM", [(oracle.inc_pass, oracle.inc_fail, oracle.threshold)], oracle.h_nats)
            )
            glr = GridGlr.build(sc.p0, a0, "drop")
            h_range = f"{min(a.design.h_nats for a in glr.arms):.2f}-{max(a.design.h_nats for a in glr.arms):.2f}"
            candidates.append((f"grid GLR ({len(glr.arms)} arms)", _arms_of(glr), math.nan))
        for label, arms, h in candidates:
            arl0_hat, alarms = arl0_renewal(arms, sc.p0, args.streams, args.steps, rng)
            worst, steady = delays(arms, sc.p0, sc.p1, args.streams, args.warm, rng)
            h_txt = f"{h:.2f}" if not math.isnan(h) else h_range
            exact = f"{arl(*arms[0], sc.p0):,.0f}" if len(arms) == 1 else "n/a (max of arms)"
            half = 1.96 / math.sqrt(max(alarms, 1))  # alarm counts are close to Poisson
            ci = f"[{arl0_hat / (1 + half):,.0f}, {arl0_hat / (1 - half):,.0f}]" if half < 1 else ""
            print(
                f"| {sc.name} | {label} | {h_txt} | {exact} | {arl0_hat:,.0f} {ci} | {worst:.1f} | {steady:.1f}"
                f" | {o_worst:.1f} / {o_steady:.1f} | {steady / o_steady:.2f} |"
            )
        b, b_worst, b_steady = best_batch(sc.p0, sc.p1, a0)
        batch_rows.append((sc, b, b_worst, b_steady, o_steady))
    print("\nFixed batch test (one-sided exact binomial every B probes at level B/ARL0: same false alarms per probe)\n")
    print(
        "| scenario | best B | batch steady delay | batch worst delay | CUSUM steady delay | probes saved"
        f" | tokens saved (at {args.tokens_per_probe:g}/probe) |"
    )
    print("|---|---|---|---|---|---|---|")
    for sc, b, b_worst, b_steady, o_steady in batch_rows:
        saved = b_steady - o_steady
        print(
            f"| {sc.name} | {b} | {b_steady:.1f} | {b_worst:.1f} | {o_steady:.1f} | {saved:.0f}"
            f" ({saved / b_steady:.0%}) | {saved * args.tokens_per_probe:,.0f} |"
        )
    daily = 5760  # 20 probes every 5 minutes (the default target settings)
    print(
        f"\nDaily batch at the default rate (B = {daily}):",
        ", ".join(f"{sc.name}: steady delay {batch_delay(sc.p0, sc.p1, a0, daily)[1]:,.0f}" for sc in SCENARIOS),
    )
    print("\nBaseline estimated from n0 probes (true 0.80, detector 0.80 -> 0.70; exact ARL0 at the true rate)\n")
    print("| n0 | naive ARL0 p10 | naive median | guarded ARL0 p10 | guarded median | guarded mean delay |")
    print("|---|---|---|---|---|---|")
    for n0 in args.n0:
        r = baseline_effect(0.8, 0.7, a0, n0, args.baselines, rng)
        print(
            f"| {n0} | {r['naive_p10']:,.0f} | {r['naive_median']:,.0f} | {r['guarded_p10']:,.0f}"
            f" | {r['guarded_median']:,.0f} | {r['guarded_delay']:.0f} |"
        )
    print(f"\n({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
