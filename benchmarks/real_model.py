"""Probes per second the agent sustains against the real SmolLM2 model, and the agent's memory.

    python -m benchmarks.real_model [--seconds 90] [--concurrency 1 2]

Starts llama.cpp with SmolLM2-135M-Instruct on 127.0.0.1, then for each concurrency runs
``capmon run`` as its own process for a fixed time with a back-to-back schedule, and reports the
probes committed per second (from the ledger) and the agent's RSS (from its own /metrics).
The model server's CPU is the limit here: the agent waits on it.
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from agent.llama import free_port, start_llama_server


def _rss_mib(url: str) -> float:
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith("process_resident_memory_bytes "):
            return float(line.split()[1]) / 2**20
    raise SystemExit("no process_resident_memory_bytes in /metrics")


def measure(base_url: str, concurrency: int, seconds: float, tmp: Path) -> tuple[float, float, int]:
    """(probes/s, agent RSS MiB at the end, probes) for one concurrency."""
    port = free_port()
    store = tmp / f"real-{concurrency}.db"
    config = {
        "targets": [
            {
                "name": "smollm2",
                "base_url": base_url,
                "model": "smollm2",
                "interval_s": 1,
                "jitter_s": 0,
                "probes_per_run": 8,
                "static_per_run": 1,
                "fingerprint_prompts": 1,
                "max_tokens": 48,
                "concurrency": concurrency,
                "families": ["arithmetic", "word_problem", "string_transform"],
                "difficulties": [1, 2, 3],
            }
        ],
        "store": str(store),
        "listen": f"127.0.0.1:{port}",
        "log_level": "warning",
    }
    cfg = tmp / f"real-{concurrency}.yaml"
    cfg.write_text(yaml.safe_dump(config))
    proc = subprocess.Popen([sys.executable, "-m", "agent.cli", "run", "--config", str(cfg)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        time.sleep(10)  # warm-up: the first run and the first statistics refresh
        with sqlite3.connect(store) as db:
            n0, t0 = db.execute("SELECT COUNT(*) FROM results").fetchone()[0], time.time()
        time.sleep(seconds)
        with sqlite3.connect(store) as db:
            n1, t1 = db.execute("SELECT COUNT(*) FROM results").fetchone()[0], time.time()
        rss = _rss_mib(url)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    return (n1 - n0) / (t1 - t0), rss, n1 - n0


def main() -> None:
    """Measure and print one line per concurrency."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=90)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    server = start_llama_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for c in args.concurrency:
                rate, rss, n = measure(server.base_url, c, args.seconds, Path(tmp))
                print(f"concurrency {c}: {rate:.2f} probes/s ({n} probes in {args.seconds:.0f} s),", end=" ")
                print(f"agent RSS {rss:.0f} MiB")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
