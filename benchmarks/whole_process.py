"""Whole-process comparison against one instant endpoint, alternating rounds: each side's wall, CPU, RSS
and steady-state rate.

    python -m benchmarks.whole_process [--probes 1000] [--concurrency 16] [--rounds 3]
                                       [--inspect-python PATH]

Sides: a bare httpx loop (its own process: ``--probes`` POSTs of "What is 2 + 3?" at ``--concurrency``),
the same loop on capmon's transport (``agent.providers.pools.SplitPools``: connections spread over small
pools, so capmon's own work can be told from what the transport saves),
``capmon probe --once`` with one target sending ``--probes`` arithmetic probes at the same concurrency
(start-up, generation, scoring, the ledger and the result table included; streamed, the default for an
OpenAI-compatible target), the same with ``stream: false`` (the bare loop's kind of request), and
Inspect AI (``inspect eval`` of a task of ``--probes`` arithmetic samples, ``generate()`` and
``match()``, at ``--max-connections`` = concurrency, its log written as usual) when
``--inspect-python`` names a Python that has ``inspect_ai`` (default: this one, if it has it). This
script never installs Inspect AI.

Every side asks the same size of question: capmon's target is held at arithmetic level 1 ("What is
3 + 9?", ``difficulties: [1]``, ``adaptive: false``), as Inspect's samples are two-digit sums; left
adaptive, its staircase would explore up to level 45 (expressions of 17-digit numbers), other work
than the bare loop's.

The endpoint is ``benchmarks.instant_endpoint`` in its own process. Wall, CPU and max RSS are of the
child process alone (``os.wait4``). The steady-state rate is measured at the endpoint: requests per
second between the arrival of the 10th and the 90th percentile request of the round, so start-up,
the first connections and the tail are outside it.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
from pathlib import Path

import httpx
import yaml

from benchmarks.footprint import ROOT, _run_child, instant_endpoint, target

BARE = """
import asyncio, sys, httpx
async def main(url, n, c):
    body = {"model": "instant", "messages": [{"role": "user", "content": "What is 2 + 3?"}]}
    sem = asyncio.Semaphore(c)
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=c)) as client:
        async def one():
            async with sem:
                r = await client.post(url + "/chat/completions", json=body)
                r.raise_for_status()
                r.json()
        await asyncio.gather(*(one() for _ in range(n)))
asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""

#: The bare loop on capmon's transport (``agent.providers.pools.SplitPools``): what capmon's own work costs
#: beside an HTTP client that spreads its connections the same way.
BARE_SPLIT = BARE.replace(
    "import asyncio, sys, httpx", "import asyncio, sys, httpx\nfrom agent.providers.pools import SplitPools"
).replace("limits=httpx.Limits(max_connections=c))", "transport=SplitPools(limits=httpx.Limits(max_connections=c)))")

INSPECT_TASK = """
import random
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import match
from inspect_ai.solver import generate

@task
def arithmetic(n: int = 1000, seed: int = 0):
    rng = random.Random(seed)
    pairs = [(rng.randint(10, 99), rng.randint(10, 99)) for _ in range(n)]
    samples = [Sample(input=f"What is {a} + {b}?", target=str(a + b)) for a, b in pairs]
    return Task(dataset=samples, solver=generate(), scorer=match(numeric=True))
"""

BARE_SIDE, SPLIT_SIDE, CAPMON_SIDE, PLAIN_SIDE, INSPECT_SIDE = (
    "bare httpx loop", "bare, split pools", "capmon probe --once", "capmon, stream: false", "Inspect AI"
)


def steady_rate(arrivals: list[float]) -> float:
    """Requests per second between the 10th and the 90th percentile arrival."""
    ts = sorted(arrivals)
    lo, hi = len(ts) // 10, len(ts) * 9 // 10
    return (hi - lo) / (ts[hi] - ts[lo]) if hi > lo and ts[hi] > ts[lo] else float("nan")


def _inspect_python(arg: str | None) -> str | None:
    if arg:
        return arg
    return sys.executable if importlib.util.find_spec("inspect_ai") is not None else None


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.whole_process", description=__doc__.split("\n")[0])
    p.add_argument("--probes", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--inspect-python", help="a Python with inspect_ai installed (default: this one, if it has it)")
    args = p.parse_args(argv)
    inspect_python = _inspect_python(args.inspect_python)
    sides = [BARE_SIDE, SPLIT_SIDE, CAPMON_SIDE, PLAIN_SIDE] + ([INSPECT_SIDE] if inspect_python else [])
    results: dict[str, list[tuple[float, float, int]]] = {s: [] for s in sides}
    rates: dict[str, list[float]] = {s: [] for s in sides}
    with tempfile.TemporaryDirectory() as tmp, instant_endpoint() as base:
        cfg = Path(tmp) / "c.yaml"
        t = target(
            "t0", base, families=["arithmetic"], probes_per_run=args.probes, static_per_run=0,
            fingerprint_prompts=0, concurrency=args.concurrency, difficulties=[1], adaptive=False,
        )  # fmt: skip
        cfg.write_text(yaml.safe_dump({"targets": [t], "store": str(Path(tmp) / "c.db")}))
        plain = Path(tmp) / "plain.yaml"  # the same request as the bare loop: no event stream
        plain.write_text(yaml.safe_dump({"targets": [{**t, "stream": False}], "store": str(Path(tmp) / "p.db")}))
        task_file = Path(tmp) / "arith_task.py"
        task_file.write_text(INSPECT_TASK)
        arrivals_url = base.removesuffix("/v1") + "/_arrivals"
        inspect_env = {**os.environ, "BENCH_API_KEY": "none", "BENCH_BASE_URL": base}
        for r in range(args.rounds):
            order = sides if r % 2 == 0 else list(reversed(sides))
            for side in order:
                httpx.get(arrivals_url, timeout=10)  # forget earlier arrivals
                env, cwd = None, ROOT
                if side in (BARE_SIDE, SPLIT_SIDE):
                    script = BARE if side == BARE_SIDE else BARE_SPLIT
                    cmd = [sys.executable, "-c", script, base, str(args.probes), str(args.concurrency)]
                elif side in (CAPMON_SIDE, PLAIN_SIDE):
                    config = cfg if side == CAPMON_SIDE else plain
                    cmd = [sys.executable, "-m", "agent.cli", "probe", "--once", "--config", str(config)]
                else:
                    assert inspect_python is not None
                    cmd = [
                        inspect_python, "-m", "inspect_ai", "eval", task_file.name, "-T", f"n={args.probes}",
                        "--model", "openai-api/bench/instant", "--max-connections", str(args.concurrency),
                        "--display", "none", "--log-dir", str(Path(tmp) / f"inspect-logs-{r}"),
                    ]  # fmt: skip
                    env, cwd = inspect_env, Path(tmp)  # Inspect takes a task file relative to its directory
                results[side].append(_run_child(cmd, env=env, cwd=cwd))
                arrivals = httpx.get(arrivals_url, timeout=10).json()
                if len(arrivals) < args.probes:
                    raise RuntimeError(f"{side}: {len(arrivals)} requests reached the endpoint, not {args.probes}")
                rates[side].append(steady_rate(arrivals))
    for side, rs in results.items():
        walls = ", ".join(f"{w:.2f}" for w, _, _ in rs)
        cpus = ", ".join(f"{c:.2f}" for _, c, _ in rs)
        steady = ", ".join(f"{x:.0f}" for x in rates[side])
        print(f"{side:20s} wall {walls} s; CPU {cpus} s; max RSS {max(m for _, _, m in rs) / 1024:.0f} MiB;"
              f" steady {steady} req/s")
    bare_wall, capmon_wall = (min(w for w, _, _ in results[s]) for s in (BARE_SIDE, CAPMON_SIDE))
    for side in (CAPMON_SIDE, PLAIN_SIDE):
        for bare in (BARE_SIDE, SPLIT_SIDE):
            pairs = [c / b for b, c in zip(rates[bare], rates[side], strict=True)]
            fastest = max(rates[side]) / max(rates[bare])
            print(f"{side}: steady-state rate / {bare}'s, per round: {', '.join(f'{x:.2f}' for x in pairs)}"
                  f" (median {statistics.median(pairs):.2f}; fastest rounds {fastest:.2f})")
    print(f"capmon whole-process throughput / bare loop's (fastest rounds): {bare_wall / capmon_wall:.2f}")
    if inspect_python:
        inspect_wall = min(w for w, _, _ in results[INSPECT_SIDE])
        capmon_walls = [w for w, _, _ in results[CAPMON_SIDE]]
        per = [i / c for c, (i, _, _) in zip(capmon_walls, results[INSPECT_SIDE], strict=True)]
        print(f"capmon whole-process throughput / Inspect AI's: fastest rounds {inspect_wall / capmon_wall:.1f}x;"
              f" per round {', '.join(f'{x:.1f}' for x in per)}")
    else:
        print("Inspect AI: not installed (not measured); pass --inspect-python PATH")
    return 0


if __name__ == "__main__":
    sys.exit(main())
