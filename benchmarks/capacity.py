"""Capacity of one agent: probes per second per CPU core, measured on a real ``capmon run`` process.

Starts the instant OpenAI-compatible endpoint (its own process, so its CPU is not charged to the agent)
and ``capmon run`` probing N targets on a short interval, lets it settle, then measures over a window:
probes stored (from the agent's own /metrics) and the agent process's CPU time (user + system, from
/proc). CPU seconds per probe is the whole agent's cost: generate, call, extract, score, store, statistics
and metrics. From it, the number of targets one agent core carries at a given interval and probes_per_run.

    python -m benchmarks.capacity                       # defaults: 20 targets, 60 s window
    python -m benchmarks.capacity --targets 40 --seconds 120 --json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Measurement:
    """One benchmark result."""

    targets: int
    probes_per_run: int
    interval_s: float
    window_s: float
    probes: int
    runs: int
    cpu_s: float
    peak_rss_mib: float

    @property
    def cpu_ms_per_probe(self) -> float:
        """Agent CPU time per probe, in milliseconds."""
        return 1000 * self.cpu_s / self.probes

    @property
    def probes_per_core_s(self) -> float:
        """Probes one fully used core sustains per second."""
        return self.probes / self.cpu_s

    @property
    def probes_per_s(self) -> float:
        """Probes per second actually sustained in the window."""
        return self.probes / self.window_s


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime field 14, stime field 15 (1-based, man 5 proc).
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def _counts(url: str) -> tuple[int, int]:
    """Probes and completed runs so far, summed over targets, from the agent's /metrics."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    totals = {"capmon_probes_total": 0.0, "capmon_runs_total": 0.0}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name in totals and s.labels.get("status", "completed") == "completed":
                totals[s.name] += s.value
    return int(totals["capmon_probes_total"]), int(totals["capmon_runs_total"])


def _listening(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"timed out waiting for {what}")


def measure(
    targets: int,
    probes_per_run: int,
    interval_s: float,
    warmup_s: float,
    window_s: float,
    families: list[str] | None = None,
) -> Measurement:
    """Run the agent against the instant endpoint and measure one window."""
    with tempfile.TemporaryDirectory(prefix="capmon-capacity-") as tmp:
        ep_port, agent_port = _free_port(), _free_port()
        base_url = f"http://127.0.0.1:{ep_port}/v1"
        config = {
            "targets": [
                {
                    "name": f"bench-{i:03d}",
                    "provider": "openai",
                    "base_url": base_url,
                    "model": "instant",
                    "interval_s": interval_s,
                    "probes_per_run": probes_per_run,
                    "concurrency": 4,
                    **({"families": families} if families else {}),
                }
                for i in range(targets)
            ],
            "store": str(Path(tmp) / "capmon.db"),
            "listen": f"127.0.0.1:{agent_port}",
            "log_level": "warning",
        }
        cfg = Path(tmp) / "capmon.yaml"
        cfg.write_text(yaml.safe_dump(config))
        endpoint = subprocess.Popen([sys.executable, "-m", "benchmarks.instant_endpoint", str(ep_port)])
        agent: subprocess.Popen[bytes] | None = None
        try:
            _wait(lambda: _listening(ep_port), 30, "endpoint")
            log = open(Path(tmp) / "agent.log", "wb")  # noqa: SIM115 - closed below, after the process ends
            agent = subprocess.Popen(
                [sys.executable, "-m", "agent.cli", "run", "--config", str(cfg)], stdout=log, stderr=subprocess.STDOUT
            )
            url = f"http://127.0.0.1:{agent_port}"
            _wait(lambda: httpx.get(f"{url}/readyz", timeout=2).status_code == 200, 60, "agent /readyz")
            # Warm up past start-up costs (imports, first statistics) so the window is the steady state.
            time.sleep(warmup_s)
            (p0, r0), c0, t0 = _counts(url), _cpu_s(agent.pid), time.monotonic()
            time.sleep(window_s)
            # CPU first: the scrape below costs the agent CPU that the probes did not.
            c1, t1 = _cpu_s(agent.pid), time.monotonic()
            p1, r1 = _counts(url)
            rss = _peak_rss_mib(agent.pid)
            if agent.poll() is not None:
                raise RuntimeError(f"agent exited early: {(Path(tmp) / 'agent.log').read_text()[-2000:]}")
        finally:
            if agent is not None:
                agent.send_signal(signal.SIGTERM)
                try:
                    agent.wait(30)
                except subprocess.TimeoutExpired:
                    agent.kill()
                    agent.wait()
                log.close()
            endpoint.terminate()
            endpoint.wait(10)
        if p1 - p0 <= 0:
            raise RuntimeError("no probes completed in the window: raise --seconds or lower --interval")
        return Measurement(targets, probes_per_run, interval_s, t1 - t0, p1 - p0, r1 - r0, c1 - c0, rss)


def stats_refresh_cpu_s(rows: int, targets: int, seed: int = 1) -> tuple[float, float]:
    """CPU seconds of one statistics refresh (new rows folded in, snapshot) over a ledger of ``rows``.

    The agent refreshes after every run and the snapshot reads the last 24 h of the whole ledger, so
    this cost grows with the store; the rows are synthetic, spread over the last 24 h. Returns the
    CPU seconds of ``snapshot()`` and of folding in one run's 20 new results (``update()``).
    """
    import logging
    import random

    from agent.config import Settings, TargetConfig
    from agent.ledger.results import ProbeResult
    from agent.ledger.store import Store
    from agent.stats.engine import StatsEngine
    from probes.registry import builtin_registry

    logging.getLogger("capmon").setLevel(logging.ERROR)  # synthetic data trips the detectors: not news
    rng = random.Random(seed)
    families = builtin_registry().names()
    names = [f"bench-{i:03d}" for i in range(targets)]
    now = time.time()

    def result(i: int, ts: float) -> ProbeResult:
        target, family, difficulty = names[i % targets], families[i % len(families)], 1 + i % 10
        kind = rng.random()
        canary, static = kind < 0.15, 0.15 <= kind < 0.25
        passed = rng.random() < 1 - difficulty / 11
        return ProbeResult(
            ts=ts, run_id=f"r{i // 20}", target=target, provider="openai", model="m", family=family,
            difficulty=difficulty, novelty=0, item_index=i, seed=i, item_key=f"{family}:{i % 500}",
            static=static, canary=canary, generator_version="1", prompt="What is 2 + 2?",
            response="Answer: 4" if passed else "Answer: 5", extracted="4" if passed else "5",
            canonical="4" if passed else "5", reference="4", score=1.0 if passed else 0.0,
            outcome="pass" if passed else "fail", error_reason=None, http_status=200, latency_s=0.5,
            input_tokens=20, output_tokens=5, response_model="m", system_fingerprint="fp",
        )  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="capmon-stats-") as tmp:
        store = Store(Path(tmp) / "capmon.db")
        for i in range(rows):
            store.add_result(result(i, now - 86_000 * (1 - i / rows)))
        settings = Settings(targets=[TargetConfig(name=n, base_url="http://127.0.0.1:1/v1", model="m") for n in names])
        engine = StatsEngine(store, settings)
        engine.update()  # the backlog, once: not the steady state
        engine.snapshot()  # the first one pays for lazy imports and caches
        for i in range(rows, rows + 20):
            store.add_result(result(i, time.time()))
        c0 = time.process_time()
        engine.update()
        c1 = time.process_time()
        engine.snapshot()
        c2 = time.process_time()
        store.close()
    return c2 - c1, c1 - c0


def split_costs(m1: Measurement, m2: Measurement) -> tuple[float, float]:
    """CPU seconds per run and per probe, solving cpu = per_run * runs + per_probe * probes for two runs."""
    det = m1.runs * m2.probes - m2.runs * m1.probes
    if det == 0:
        raise RuntimeError("the two measurements do not separate run and probe costs: use different --fit")
    per_run = (m1.cpu_s * m2.probes - m2.cpu_s * m1.probes) / det
    per_probe = (m1.runs * m2.cpu_s - m2.runs * m1.cpu_s) / det
    return per_run, per_probe


def _describe(m: Measurement) -> str:
    return (
        f"{m.targets} targets x {m.probes_per_run} probes every {m.interval_s:g}s: window {m.window_s:.0f}s, "
        f"{m.probes} probes in {m.runs} runs ({m.probes_per_s:.1f}/s), agent CPU {m.cpu_s:.2f}s = "
        f"{m.cpu_ms_per_probe:.1f} ms/probe, peak RSS {m.peak_rss_mib:.0f} MiB"
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: measure and print the capacity figures."""
    parser = argparse.ArgumentParser(description="probes/s per agent core against an instant endpoint")
    parser.add_argument("--targets", type=int, default=20)
    parser.add_argument("--probes-per-run", type=int, default=20)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between runs of a target")
    parser.add_argument("--families", default="", help="comma-separated probe families (default: all)")
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--seconds", type=float, default=60.0, help="measurement window")
    parser.add_argument(
        "--fit",
        type=int,
        default=0,
        metavar="PROBES_PER_RUN",
        help="measure again at this probes_per_run and split the CPU into per-run and per-probe costs",
    )
    parser.add_argument(
        "--stats-rows",
        default="",
        help="comma-separated ledger sizes: measure one statistics refresh over that many rows instead",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.stats_rows:
        for n in (int(x) for x in args.stats_rows.split(",")):
            snap, upd = stats_refresh_cpu_s(n, args.targets)
            print(
                f"statistics refresh over {n} ledger rows, {args.targets} targets: "
                f"snapshot {snap * 1000:.0f} ms CPU, fold in 20 results {upd * 1000:.1f} ms CPU"
            )
        return 0
    families = [f for f in args.families.split(",") if f]
    runs = [measure(args.targets, args.probes_per_run, args.interval, args.warmup, args.seconds, families)]
    if args.fit:
        runs.append(measure(args.targets, args.fit, args.interval, args.warmup, args.seconds, families))
    report: dict[str, Any] = {"measurements": [{**asdict(m), "cpu_ms_per_probe": m.cpu_ms_per_probe} for m in runs]}
    for m in runs:
        print(_describe(m))
    if len(runs) == 2:
        per_run, per_probe = split_costs(runs[0], runs[1])
        report.update(cpu_s_per_run=per_run, cpu_s_per_probe=per_probe)
        print(
            f"split: {per_run * 1000:.0f} ms CPU per run (scheduling, statistics refresh) + "
            f"{per_probe * 1000:.2f} ms CPU per probe -> {1 / per_probe:.0f} probes/s per core on the probe path"
        )
        print("targets one agent core carries at 50% use (interval x probes_per_run):")
        for interval, ppr in ((60, 20), (300, 20), (900, 20), (3600, 50)):
            n = int(0.5 * interval / (per_run + ppr * per_probe))
            report.setdefault("targets_per_half_core", {})[f"{interval}s x {ppr}"] = n
            print(f"  {interval:>5}s x {ppr:>3} probes: {n}")
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
