"""Soak: the whole agent at a high probe rate for a bounded time; does it leak memory, fds or tasks?

    python -m benchmarks.soak [--duration 120] [--warmup 20] [--interval 0.05] [--probes-per-run 20]

Runs ``Agent.serve`` (scheduler, runner, store, statistics, exporter, web server) in this process
against the fault-injection endpoint in ``ok`` mode, started as a separate process so its memory and
CPU are not counted. ``/metrics`` and ``/`` are scraped every second, as Prometheus and a curious
user would. The ledger starts with ``--prefill`` old results, as a long-running agent's does (so
SQLite's bounded page cache is full from the start). After the warm-up, RSS is sampled every few
seconds and compared first to last; asyncio tasks and open fds come and go with every run, so their
floor (lowest count, sampled every 50 ms) over the first and last quarter is compared.
Goal: RSS growth under 5%, no fd or task growth.
Exit status 0 when the goals are met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from agent.config import Settings, StatsConfig, TargetConfig
from agent.daemon import Agent
from agent.ledger.results import ProbeResult
from agent.ledger.store import Store
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


def prefill(path: Path, n: int, target: str) -> None:
    """Give the ledger ``n`` old results first, so SQLite's page cache is already full after warm-up
    (a fresh, growing database fills it slowly and looks like a leak)."""
    store = Store(path)
    old = time.time() - 3 * 86400  # outside every statistics window
    for i in range(n):
        store.add_result(
            ProbeResult(
                ts=old + i, run_id="prefill", target=target, provider="openai", model="ok", family="arithmetic",
                difficulty=1 + i % 10, novelty=0, item_index=-1 - i, seed=i, item_key=f"prefill-{i}", static=False,
                canary=False, generator_version="prefill", prompt="What is 1 + 1?", response="Answer: 2",
                extracted="2", canonical="2", reference="2", score=1.0, outcome="pass", error_reason=None,
                http_status=200, latency_s=0.01, input_tokens=12, output_tokens=4, response_model="ok",
                system_fingerprint=None,
            )
        )  # fmt: skip
    store.close()


async def count_floor(samples: list[tuple[float, int, int]], stop: asyncio.Event) -> None:
    """Tasks and fds every 50 ms: runs come and go, so only the floor of these says anything."""
    while not stop.is_set():
        samples.append((time.monotonic(), len(asyncio.all_tasks()), open_fds()))
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Report:
    """What the soak found."""

    samples: list[Sample]
    rate: float
    task_floor: tuple[int, int]
    fd_floor: tuple[int, int]
    warmed_s: float


def floors(counts: list[tuple[float, int, int]], begin: float, end: float) -> tuple[tuple[int, int], ...]:
    """(tasks, fds) floors over the first and the last quarter of [begin, end]."""
    q = (end - begin) / 4
    head = [c for c in counts if begin <= c[0] <= begin + q]
    tail = [c for c in counts if end - q <= c[0] <= end]
    return (min(c[1] for c in head), min(c[1] for c in tail)), (min(c[2] for c in head), min(c[2] for c in tail))


async def scrape(client: httpx.AsyncClient) -> None:
    """Fetch /metrics and / as Prometheus and a user would."""
    for path in ("/metrics", "/"):
        try:
            (await client.get(path)).raise_for_status()
        except httpx.HTTPError as exc:
            print(f"scrape {path} failed: {exc!r}", file=sys.stderr)


async def soak(args: argparse.Namespace, base_url: str, store: Path) -> Report:
    """Serve for the warm-up plus the duration, sampling resources after the warm-up."""
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
    prefill(store, args.prefill, target.name)
    # Few warm-up probes: baselines are learned (and detectors designed) during the warm-up.
    stats = StatsConfig(warmup_probes=20)
    settings = Settings(targets=[target], store=store, listen=f"127.0.0.1:{port}", stats=stats)
    agent = Agent(settings, hostname="soak")
    serving = asyncio.create_task(agent.serve())
    samples: list[Sample] = []
    counts: list[tuple[float, int, int]] = []
    stop_counting = asyncio.Event()
    counter: asyncio.Task[None] | None = None
    snap: tracemalloc.Snapshot | None = None
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        # Warm-up: serving, at least --warmup seconds, and enough results for the statistics to have
        # learned their baselines and designed their detectors (one-time allocations).
        start = time.monotonic()
        while True:
            await asyncio.sleep(1.0)
            if serving.done():
                raise RuntimeError(f"agent stopped: {serving.exception()!r}")
            done = agent.store.count(target="soak") - args.prefill
            ready = False
            with contextlib.suppress(httpx.HTTPError):
                ready = (await client.get("/readyz")).status_code == 200
            if ready:
                await scrape(client)
            if ready and time.monotonic() - start >= args.warmup and done >= args.warmup_results:
                break
        warmed = time.monotonic() - start
        measure_from = time.monotonic()
        next_sample = measure_from
        while time.monotonic() - measure_from < args.duration:
            await asyncio.sleep(1.0)
            if serving.done():
                raise RuntimeError(f"agent stopped: {serving.exception()!r}")
            await scrape(client)
            if time.monotonic() >= next_sample:
                gc.collect()
                if not samples:
                    counter = asyncio.create_task(count_floor(counts, stop_counting))
                    if args.tracemalloc:
                        snap = tracemalloc.take_snapshot()
                n = agent.store.count(target="soak") - args.prefill
                samples.append(
                    Sample(time.monotonic() - measure_from, rss_kib(), open_fds(), len(asyncio.all_tasks()), n)
                )
                next_sample += args.sample_every
    stop_counting.set()
    if counter is not None:
        await counter
    end = time.monotonic()
    if snap is not None:
        print("top allocation growth since the first sample:")
        for stat in tracemalloc.take_snapshot().compare_to(snap, "lineno")[:12]:
            print(f"  {stat}")
    rate = (samples[-1].results - samples[0].results) / max(samples[-1].t - samples[0].t, 1e-9)
    task_floor, fd_floor = floors(counts, measure_from, end)
    agent.stop.set()
    await asyncio.wait_for(serving, timeout=settings.shutdown_grace_s + 10)
    await agent.aclose()
    return Report(samples, rate, task_floor, fd_floor, warmed)


def main() -> int:
    """Run the soak and print the report."""
    parser = argparse.ArgumentParser(description="capmon soak test")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds measured after warm-up")
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between runs")
    parser.add_argument("--probes-per-run", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup-results", type=int, default=400, help="results before measuring")
    parser.add_argument("--prefill", type=int, default=5_000, help="old results in the ledger at start")
    parser.add_argument("--sample-every", type=float, default=5.0)
    parser.add_argument("--json", action="store_true", help="print the samples as JSON too")
    parser.add_argument("--tracemalloc", action="store_true", help="show where Python memory grew (slower)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # A run longer than the interval makes APScheduler log every skipped tick; expected at this rate.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    if args.tracemalloc:
        tracemalloc.start(5)

    endpoint, base_url = start_endpoint()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            report = asyncio.run(soak(args, base_url, Path(tmp) / "soak.db"))
    finally:
        endpoint.terminate()
        endpoint.wait(10)
    samples = report.samples
    first, last = samples[0], samples[-1]
    growth = (last.rss_kib - first.rss_kib) / first.rss_kib
    peak = max(s.rss_kib for s in samples)
    (t0, t1), (f0, f1) = report.task_floor, report.fd_floor
    ok = growth < 0.05 and t1 <= t0 and f1 <= f0
    print(f"soak: {last.t:.0f}s measured after {report.warmed_s:.0f}s warm-up, {report.rate:.1f} probes/s")
    print(f"  results stored : {last.results} ({args.prefill} old ones before)")
    print(f"  RSS            : {first.rss_kib / 1024:.1f} MiB -> {last.rss_kib / 1024:.1f} MiB ({growth:+.1%}, "
          f"peak {peak / 1024:.1f} MiB)")  # fmt: skip
    print(f"  open fds       : floor {f0} -> {f1} (first/last quarter; max {max(s.fds for s in samples)})")
    print(f"  asyncio tasks  : floor {t0} -> {t1} (first/last quarter; max {max(s.tasks for s in samples)})")
    print(f"  goals (RSS < +5%, no fd/task growth): {'met' if ok else 'NOT met'}")
    if args.json:
        print(json.dumps([asdict(s) for s in samples]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
