"""A sidecar's footprint: series per target, scrape time, start-up, RSS over time.

    python -m benchmarks.footprint series [--targets 1] [--seconds 20]
    python -m benchmarks.footprint scrape [--targets 100] [--rows 1000000]
    python -m benchmarks.footprint startup [--rounds 5]
    python -m benchmarks.footprint soak [--targets 10] [--seconds 240]

``series`` starts ``capmon run`` (a subprocess) against ``benchmarks.instant_endpoint`` with every
probe family enabled, scrapes ``/metrics`` once the statistics have refreshed, and prints the number
of series per target by metric. The other modes are described at their functions.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def instant_endpoint() -> Iterator[str]:
    """``benchmarks.instant_endpoint`` as a child process; yields its OpenAI base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.instant_endpoint", str(port)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                import socket

                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(10)


def target(name: str, base_url: str, **overrides: Any) -> dict[str, Any]:
    """A target with every family (``families: []``) and otherwise default settings but a short interval."""
    t: dict[str, Any] = {
        "name": name,
        "provider": "openai",
        "base_url": base_url,
        "model": "instant",
        "api_key": "none",
        "interval_s": 2,
        "jitter_s": 0,
        "families": [],
    }
    t.update(overrides)
    return t


@dataclass
class Agent:
    """A ``capmon run`` subprocess."""

    process: subprocess.Popen[bytes]
    url: str
    store: Path

    def stop(self) -> None:
        """SIGTERM, then kill if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def rss_kib(self) -> int:
        """Resident set size of the agent process."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")


@contextlib.contextmanager
def capmon_run(workdir: Path, targets: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> Iterator[Agent]:
    """``capmon run`` on a free port; yields once /readyz answers 200."""
    port = free_port()
    store = workdir / "capmon.db"
    config: dict[str, Any] = {"targets": targets, "store": str(store), "listen": f"127.0.0.1:{port}"}
    config.update(extra or {})
    cfg = workdir / "capmon.yaml"
    cfg.write_text(yaml.safe_dump(config, sort_keys=False))
    log = open(workdir / "capmon.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "run", "--config", str(cfg)], cwd=ROOT, stdout=log, stderr=log
    )
    agent = Agent(proc, f"http://127.0.0.1:{port}", store)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"capmon run not ready:\n{(workdir / 'capmon.log').read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{agent.url}/readyz", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        yield agent
    finally:
        agent.stop()
        log.close()


def parse_series(text: str) -> list[tuple[str, dict[str, str]]]:
    """(metric name, labels) of every sample line of a text exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    return [(s.name, dict(s.labels)) for fam in text_string_to_metric_families(text) for s in fam.samples]


def series_by_metric(text: str, target_name: str) -> Counter[str]:
    """Series per metric name that carry ``target=target_name``."""
    return Counter(name for name, labels in parse_series(text) if labels.get("target") == target_name)


def wait_for_stats(agent: Agent, seconds: float, families: int) -> str:
    """Scrape once every family has a frontier and a baseline (so its detectors exist) and every
    level has been probed, or after ``seconds``; returns the exposition."""
    deadline = time.monotonic() + seconds
    text = ""
    while time.monotonic() < deadline:
        text = httpx.get(f"{agent.url}/metrics", timeout=30).text
        per = series_by_metric(text, "t0")
        if per["capmon_baseline_pass_ratio"] > families and per["capmon_frontier_level"] >= families:
            break
        time.sleep(1)
    return text


#: Statistics settings of the ``series`` run: refit every second, detectors after 20 probes (so every
#: family's detectors exist within the run, the most series the defaults produce).
SERIES_STATS = {"refresh_interval_s": 1, "warmup_probes": 20}


def count_series(targets: int, seconds: float) -> tuple[Counter[str], int, int]:
    """Run an agent probing every family; (series of target t0 by metric, all series, bytes per scrape)."""
    from probes.catalog import builtin_families

    families = len(builtin_families())
    with tempfile.TemporaryDirectory() as tmp, instant_endpoint() as base:
        probing = [target(f"t{i}", base, probes_per_run=100, interval_s=1, concurrency=8) for i in range(targets)]
        with capmon_run(Path(tmp), probing, {"stats": SERIES_STATS}) as agent:
            text = wait_for_stats(agent, seconds, families)
    return series_by_metric(text, "t0"), len(parse_series(text)), len(text.encode())


def cmd_series(args: argparse.Namespace) -> int:
    """Series per target by metric for an agent probing every family."""
    per, total, size = count_series(args.targets, args.seconds)
    for name, n in sorted(per.items()):
        print(f"{n:6d}  {name}")
    print(f"{sum(per.values()):6d}  series carrying target=t0 ({args.targets} target(s); {total} in all,"
          f" {size / 1024:.1f} KiB per scrape)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.footprint", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("series", help="series per target by metric")
    s.add_argument("--targets", type=int, default=1)
    s.add_argument("--seconds", type=float, default=120)
    s.set_defaults(func=cmd_series)
    args = p.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
