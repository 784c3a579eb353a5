"""Soak: the whole agent at a high probe rate for a bounded time; does it leak memory, fds or tasks?

    python -m benchmarks.soak [--duration 120] [--warmup 20] [--interval 0.05] [--probes-per-run 20]

Runs ``Agent.serve`` (scheduler, runner, store, statistics, exporter, web server) in this process
against the fault-injection endpoint in ``ok`` mode, started as a separate process so its memory and
CPU are not counted. ``/metrics`` and ``/`` are scraped every second, as Prometheus and a curious
user would. After the warm-up, RSS, open file descriptors and asyncio tasks are sampled; the report
compares the first sample with the last. Goal: RSS growth under 5%, no fd or task growth.
Exit status 0 when the goals are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from agent.config import Settings, TargetConfig
from agent.daemon import Agent
from agent.llama import free_port


@dataclass(frozen=True)
class Sample:
    """Resource use at one moment."""

    t: float
    rss_kib: int
    fds: int
    tasks: int
    results: int


def rss_kib() -> int:
    """Resident set size of this process, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def open_fds() -> int:
    """Open file descriptors of this process."""
    return len(os.listdir("/proc/self/fd"))


def start_endpoint() -> tuple[subprocess.Popen[str], str]:
    """The fault endpoint in ``ok`` mode as a child process; returns it and its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fault.server", "--mode", "ok"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}/v1"


async def soak(args: argparse.Namespace, base_url: str, store: Path) -> tuple[list[Sample], float]:
    """Serve for the warm-up plus the duration; returns the samples after warm-up and probes/s."""
    port = free_port()
    target = TargetConfig(
        name="soak",
        base_url=base_url,
        model="ok",
        interval_s=args.interval,
        jitter_s=0,
        probes_per_run=args.probes_per_run,
        static_per_run=2,
        fingerprint_prompts=2,
        concurrency=args.concurrency,
        timeout_s=10,
        max_tokens=32,
    )
    settings = Settings(targets=[target], store=store, listen=f"127.0.0.1:{port}")
    agent = Agent(settings, hostname="soak")
    serving = asyncio.create_task(agent.serve())
    samples: list[Sample] = []
    start = time.monotonic()
    first_results = 0
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        next_sample = start + args.warmup
        while time.monotonic() - start < args.warmup + args.duration:
            await asyncio.sleep(1.0)
            if serving.done():
                raise RuntimeError(f"agent stopped: {serving.exception()!r}")
            for path in ("/metrics", "/"):
                try:
                    (await client.get(path)).raise_for_status()
                except httpx.HTTPError as exc:
                    print(f"scrape {path} failed: {exc!r}", file=sys.stderr)
            if time.monotonic() >= next_sample:
                gc.collect()
                n = agent.store.count(target="soak")
                if not samples:
                    first_results = n
                samples.append(Sample(time.monotonic() - start, rss_kib(), open_fds(), len(asyncio.all_tasks()), n))
                next_sample += args.sample_every
    rate = (samples[-1].results - first_results) / max(samples[-1].t - samples[0].t, 1e-9)
    agent.stop.set()
    await asyncio.wait_for(serving, timeout=settings.shutdown_grace_s + 10)
    await agent.aclose()
    return samples, rate


def main() -> int:
    """Run the soak and print the report."""
    parser = argparse.ArgumentParser(description="capmon soak test")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds measured after warm-up")
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between runs")
    parser.add_argument("--probes-per-run", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--sample-every", type=float, default=5.0)
    parser.add_argument("--json", action="store_true", help="print the samples as JSON too")
    args = parser.parse_args()

    endpoint, base_url = start_endpoint()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            samples, rate = asyncio.run(soak(args, base_url, Path(tmp) / "soak.db"))
    finally:
        endpoint.terminate()
        endpoint.wait(10)
    first, last = samples[0], samples[-1]
    growth = (last.rss_kib - first.rss_kib) / first.rss_kib
    peak = max(s.rss_kib for s in samples)
    ok = growth < 0.05 and last.fds <= first.fds and last.tasks <= first.tasks
    print(f"soak: {last.t - first.t:.0f}s measured after {args.warmup:.0f}s warm-up, {rate:.1f} probes/s")
    print(f"  results stored : {first.results} -> {last.results}")
    print(f"  RSS            : {first.rss_kib / 1024:.1f} MiB -> {last.rss_kib / 1024:.1f} MiB "
          f"({growth:+.1%}, peak {peak / 1024:.1f} MiB)")  # fmt: skip
    print(f"  open fds       : {first.fds} -> {last.fds} (max {max(s.fds for s in samples)})")
    print(f"  asyncio tasks  : {first.tasks} -> {last.tasks} (max {max(s.tasks for s in samples)})")
    print(f"  goals (RSS < +5%, no fd/task growth): {'met' if ok else 'NOT met'}")
    if args.json:
        print(json.dumps([asdict(s) for s in samples]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
