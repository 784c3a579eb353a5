"""A sidecar's footprint: series per target, start-up, scrape time, RSS over time.

    python -m benchmarks.footprint series [--targets 1] [--seconds 120]
    python -m benchmarks.footprint startup [--rounds 5]
    python -m benchmarks.footprint scrape [--targets 100] [--rows 1000000] [--recent 200] [--spread 3000]
    python -m benchmarks.footprint soak [--targets 10] [--seconds 240] [--windows SECONDS ...]
    python -m benchmarks.footprint fits [--fits 50]
    python -m benchmarks.footprint seed [--rows 10000 1000000] [--rounds 3]
    python -m benchmarks.footprint imports [--rounds 3]
    python -m benchmarks.footprint triggers [--results 9000] [--rounds 4]

``series`` starts ``capmon run`` (a subprocess) against ``benchmarks.instant_endpoint`` with every
probe family enabled, scrapes ``/metrics`` once every family has a frontier and designed detectors,
and prints the number of series per target by metric. ``startup`` times ``capmon check-config``
(wall, CPU, max RSS of the child) beside ``python -c pass`` and ``import pydantic_settings``, and
``capmon probe --once`` from spawn to its first request at an in-process endpoint. ``soak`` prints
the agent's RSS over time, its design worker's RSS and whether numpy/scipy are mapped in the agent;
``--windows`` sets the statistics windows (short ones fill within the soak, so it can show a plateau).
``fits`` times the pure-Python frontier fit against the scipy fit it replaced (the tests' oracle).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
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


def _run_child(
    cmd: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT
) -> tuple[float, float, int]:
    """Run a command; (wall seconds, CPU seconds, max RSS KiB) of the child."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{cmd} exited with {proc.returncode}")
    return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


@contextlib.contextmanager
def first_request_endpoint() -> Iterator[tuple[str, list[float]]]:
    """A threaded OpenAI-compatible endpoint in this process; yields its URL and the times of requests."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[float] = []
    body = json.dumps(
        {
            "id": "x", "object": "chat.completion", "model": "instant",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "Answer: 0"}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 20, "completion_tokens": 4, "total_tokens": 24},
        }
    ).encode()  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(time.perf_counter())
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()


def cmd_startup(args: argparse.Namespace) -> int:
    """``capmon check-config`` wall/CPU/RSS and ``capmon probe --once``'s time to its first probe."""
    capmon = [sys.executable, "-m", "agent.cli"]
    rows: dict[str, list[tuple[float, float, int]]] = {"python -c pass": [], "import pydantic_settings": [],
                                                       "capmon check-config": []}  # fmt: skip
    first: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, first_request_endpoint() as (base, seen):
        cfg = Path(tmp) / "c.yaml"
        t = target("t0", base, families=["arithmetic"], probes_per_run=4, static_per_run=0, fingerprint_prompts=0)
        cfg.write_text(yaml.safe_dump({"targets": [t], "store": str(Path(tmp) / "c.db")}))
        for _ in range(args.rounds):
            rows["python -c pass"].append(_run_child([sys.executable, "-c", "pass"]))
            rows["import pydantic_settings"].append(_run_child([sys.executable, "-c", "import pydantic_settings"]))
            rows["capmon check-config"].append(_run_child([*capmon, "check-config", str(cfg)]))
            seen.clear()
            t0 = time.perf_counter()
            _run_child([*capmon, "probe", "--once", "--config", str(cfg)])
            first.append(min(seen) - t0)
    for name, rs in rows.items():
        walls = sorted(r[0] for r in rs)
        print(f"{name:26s} wall median {walls[len(walls) // 2]:.2f} s (min {walls[0]:.2f}),"
              f" CPU {sorted(r[1] for r in rs)[len(rs) // 2]:.2f} s, max RSS {max(r[2] for r in rs) / 1024:.0f} MiB")
    first.sort()
    print(f"{'capmon probe --once':26s} first probe {first[len(first) // 2]:.2f} s after start (median;"
          f" min {first[0]:.2f}, max {first[-1]:.2f})")
    return 0


IMPORTS = """
import sys
if sys.argv[1] == "blocked":
    sys.modules["httpx._main"] = None  # as capmon's entry point does
import agent.daemon, agent.serve.web
rss = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:")) / 1024
libs = [m for m in ("rich", "pygments", "click", "opentelemetry.sdk", "numpy", "scipy") if m in sys.modules]
print(f"{rss:.1f} MiB, {len(sys.modules)} modules; loaded: {', '.join(libs) or '-'}")
"""


def cmd_imports(args: argparse.Namespace) -> int:
    """RSS after importing what ``capmon run`` imports, with httpx's command line imported (as a plain
    ``import httpx`` does) and blocked (as ``capmon``'s entry point does), alternating."""
    for _ in range(args.rounds):
        for mode in ("httpx CLI imported", "blocked"):
            out = subprocess.run([sys.executable, "-c", IMPORTS, mode.split()[0]], cwd=ROOT, capture_output=True,
                                 text=True, check=True).stdout.strip()  # fmt: skip
            print(f"{mode:20s} {out}")
    return 0


def build_ledger(path: Path, targets: list[str], rows: int, recent: int, now: float, spread: int = 3000) -> None:
    """``rows`` results through ``agent.ledger``: ``recent`` per target spread over the last ``spread``
    seconds (50 minutes unless told), the rest older than every statistics window (a long-running
    agent's history)."""
    from agent.ledger.results import ProbeResult
    from agent.ledger.store import Store
    from probes.catalog import builtin_families

    families = [f.name for f in builtin_families()]
    store = Store(path)
    batch: list[ProbeResult] = []
    for i in range(rows):
        t = targets[i % len(targets)]
        fresh = i < recent * len(targets)
        ts = now - 60 - (i % spread) if fresh else now - 3 * 86400 - i * 0.01
        d = 1 + (i // len(targets)) % 10
        passed = (i * 2654435761 >> 8) % 100 >= 10 * d  # falls with the level; counts differ per target
        batch.append(
            ProbeResult(
                ts=ts, run_id=f"r{i // 1000}", target=t, provider="openai", model="m",
                family=families[(i // 10) % len(families)], difficulty=d, novelty=0, item_index=i, seed=i,
                item_key=f"k{i}", static=False, canary=False, generator_version="bench", prompt="What is 1 + 1?",
                response="Answer: 2", extracted="2", canonical="2", reference="2", score=1.0 if passed else 0.0,
                outcome="pass" if passed else "fail", error_reason=None, http_status=200, latency_s=0.01,
                input_tokens=12, output_tokens=4, response_model="m", system_fingerprint=None,
            )
        )  # fmt: skip
        if len(batch) == 20_000:
            store.add_results(batch)
            batch = []
    if batch:
        store.add_results(batch)
    store.close()


def cmd_scrape(args: argparse.Namespace) -> int:
    """Scrape time of an agent's metrics registry with ``--targets`` targets over a ``--rows`` ledger.

    Builds the ledger, then does what the agent does: seeds the counters from the ledger (start-up),
    takes one statistics snapshot (the refresh task's work over the windows), and times ``/metrics``'
    work (the registry's exposition) ``--scrapes`` times, reading only the cached snapshots.
    """
    from prometheus_client import generate_latest

    from agent.config import Settings, TargetConfig
    from agent.ledger.store import Store
    from agent.serve.counters import Counters
    from agent.serve.exporter import build_metrics_registry
    from agent.stats.engine import StatsEngine

    names = [f"t{i:03d}" for i in range(args.targets)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.db"
        now = time.time()
        t0 = time.perf_counter()
        build_ledger(path, names, args.rows, args.recent, now, args.spread)
        took = time.perf_counter() - t0
        print(f"ledger: {args.rows} rows ({args.recent} per target in the last {args.spread} s) in {took:.0f} s")
        targets = [TargetConfig(name=n, provider="openai", base_url="http://127.0.0.1:9/v1", model="m") for n in names]
        settings = Settings(targets=targets, store=path)
        store = Store(path)
        t0 = time.perf_counter()
        counters = Counters()
        counters.seed_from_store(store)
        print(f"counters seeded from the ledger (agent start): {time.perf_counter() - t0:.2f} s")
        t0 = time.perf_counter()
        # The snapshot's SQL and fits over the windows; detectors are fed separately (engine.update) and
        # feeding a never-persisted 1M-row history through them is a one-off, not what a scrape costs.
        engine = StatsEngine(store, settings, clock=lambda: now)
        snapshot = engine.snapshot()
        print(f"statistics snapshot (refresh task, not scrape): {time.perf_counter() - t0:.2f} s")
        t0 = time.perf_counter()
        snapshot = engine.snapshot()  # the next refresh, nothing new: every frontier fit reused
        print(f"the next snapshot, no new results: {time.perf_counter() - t0:.2f} s")
        _every_read_beside(engine, args.rounds)
        registry = build_metrics_registry(counters, lambda: snapshot)
        times, size = [], 0
        for _ in range(args.scrapes):
            t0 = time.perf_counter()
            size = len(generate_latest(registry))
            times.append(time.perf_counter() - t0)
        times.sort()
        print(f"scrape: median {times[len(times) // 2]:.3f} s, max {times[-1]:.3f} s over {args.scrapes} scrapes;"
              f" {size / 1e6:.2f} MB")
        store.close()
    return 0


def _every_read_beside(engine: Any, rounds: int) -> None:
    """The next snapshot as the refresh takes it, alternating with the same engine made to read every row
    of its window each time, as it did before the window was kept by time bucket: cell counts by a
    scan of the window's rows (``queries.cell_counts``) and the usage (refusals, tokens, cost) read
    whole by a new ``UsageWindow``."""
    from agent.ledger import windows
    from agent.stats.fingerprint import is_refusal
    from agent.stats.usage import UsageWindow

    timed: dict[str, list[float]] = {"as shipped": [], "every row of the window": []}
    shipped, kept = windows.window_counts, engine._usage
    for _ in range(rounds):
        for side in timed:
            if side == "as shipped":
                windows.window_counts, engine._usage = shipped, kept
            else:
                windows.window_counts = lambda store, since: _scanned(store, since)
                engine._usage = UsageWindow(is_refusal)
            t0 = time.perf_counter()
            engine.snapshot()
            timed[side].append(time.perf_counter() - t0)
    windows.window_counts, engine._usage = shipped, kept
    sides = (f"{k} {', '.join(f'{x:.2f}' for x in v)} s" for k, v in timed.items())
    print(f"next snapshot, alternating: {'; '.join(sides)}")


def _scanned(store: Any, since: float) -> Any:
    """``windows.window_counts`` read by a scan of the window's rows, as the refresh read it before."""
    from agent.ledger import queries
    from agent.ledger.windows import WindowCounts

    out = WindowCounts({}, {})
    for c in queries.cell_counts(store, since=since, static=None):
        out[c.static][(c.target, c.family, c.difficulty, c.novelty)] = [c.passes, c.total]
    return out


def _children_rss_kib(pid: int) -> int:
    """Summed RSS of a process's children (the design worker while one runs)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                for line in Path(f"/proc/{child}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
    return total


def _numeric_libs_mapped(pid: int) -> str:
    """Which of numpy/scipy have shared objects mapped in the process ('-' for neither)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return ",".join(lib for lib in ("numpy", "scipy") if f"/{lib}/" in maps) or "-"


def cmd_soak(args: argparse.Namespace) -> int:
    """RSS of ``capmon run`` with ``--targets`` targets over time, the probe rate, the cells in the ledger's
    window counts (``window_cells``: since the soak started, all inside the default windows), and the growth.
    With ``--prefill`` the ledger starts with every cell a day's window reaches (``cell_rows``), so the
    refresh works at its bound from the start instead of after a day."""
    import sqlite3

    from agent.ledger.store import Store
    from agent.stats.persistence import save_last_id

    samples: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp, instant_endpoint() as base:
        probing = [target(f"t{i}", base, interval_s=args.interval, probes_per_run=20) for i in range(args.targets)]
        prefilled = 0
        if args.prefill:  # the window as a day of probing leaves it: every reachable cell, over 23 hours
            store = Store(Path(tmp) / "capmon.db")
            reachable = reachable_levels()
            fresh_cells = len(probing) * sum(len(ds) for ds in reachable.values())
            per_cell = max(3, args.prefill_rows // max(fresh_cells, 1))
            t0 = time.perf_counter()
            prefilled = add_in_batches(store, cell_rows([p["name"] for p in probing], reachable, time.time(), per_cell))
            if args.prefill_rows:  # fed already, as by an agent restarted after a day: its engine starts past them
                save_last_id(store, prefilled)
            store.close()
            print(f"prefilled {prefilled} results in {time.perf_counter() - t0:.0f} s", flush=True)
        extra = {"stats": {"windows_s": args.windows}} if args.windows else None
        with capmon_run(Path(tmp), probing, extra) as agent:
            start = time.monotonic()
            while (elapsed := time.monotonic() - start) <= args.seconds:
                with sqlite3.connect(agent.store) as db:
                    n = db.execute("SELECT COUNT(*) FROM results").fetchone()[0] - prefilled
                    # Cells the refresh's window holds (what its counts and fits grow with).
                    cells = db.execute(
                        "SELECT COUNT(*) FROM (SELECT DISTINCT target, family, difficulty, novelty, static"
                        " FROM window_cells)"
                    ).fetchone()[0]
                httpx.get(f"{agent.url}/metrics", timeout=30)  # scraped, as Prometheus would
                pid = agent.process.pid
                rss = agent.rss_kib() / 1024
                samples.append((elapsed, rss))
                print(f"t={elapsed:5.0f} s  RSS {rss:6.1f} MiB  results {n}  ({n / max(elapsed, 1):.1f} probes/s)"
                      f"  cells {cells}"
                      f"  worker {_children_rss_kib(pid) / 1024:5.1f} MiB  numpy/scipy mapped: "
                      f"{_numeric_libs_mapped(pid)}", flush=True)
                time.sleep(args.every)
    # Growth over the second half (after the warm-ups and first designs): least-squares slope.
    late = [(t, r) for t, r in samples if t >= samples[-1][0] / 2]
    if len(late) >= 2:
        tm = sum(t for t, _ in late) / len(late)
        rm = sum(r for _, r in late) / len(late)
        slope = sum((t - tm) * (r - rm) for t, r in late) / sum((t - tm) ** 2 for t, _ in late)
        print(f"RSS max {max(r for _, r in samples):.1f} MiB; second half {min(r for _, r in late):.1f}-"
              f"{max(r for _, r in late):.1f} MiB, slope {slope * 60:+.2f} MiB/min")
    return 0


def cmd_fits(args: argparse.Namespace) -> int:
    """Frontier fit time: pure Python (``agent.stats.frontier``) vs the scipy fit (tests' oracle), same data."""
    import math
    import random

    from agent.stats.frontier import fit_frontier
    from tests.agent.stats.scipy_frontier import scipy_frontier

    rng = random.Random(3)
    levels = list(range(1, 11))
    data = []
    for _ in range(args.fits):
        passes = [sum(rng.random() < 1 / (1 + math.exp(0.8 * (x - 5))) for _ in range(20)) for x in levels]
        data.append((levels, passes, [20] * 10))
    for name, fit in (("pure Python", fit_frontier), ("scipy", scipy_frontier)):
        t0 = time.perf_counter()
        for d in data:
            fit(*d)
        print(f"{name}: {(time.perf_counter() - t0) / len(data) * 1000:.1f} ms per fit ({len(data)} fits, 10 levels)")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    """Counter seed at agent start over ledgers of 100 targets and each ``--rows`` size: the seed from
    the trigger-kept totals beside the ledger scans the seed used to run (``target_totals``,
    ``latency_histograms``, ``error_counts``), alternating; then the one-off migration of that ledger
    from schema 4 (it fills the totals with one scan)."""
    import sqlite3

    from agent.ledger import queries
    from agent.ledger.schema import LATENCY_BUCKETS
    from agent.ledger.store import Store
    from agent.serve.counters import Counters

    for rows in args.rows:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "ledger.db"
            t0 = time.perf_counter()
            build_ledger(path, [f"t{i:03d}" for i in range(100)], rows, 200, time.time())
            print(f"{rows} rows: built in {time.perf_counter() - t0:.1f} s", flush=True)
            store = Store(path)
            seeds, scans = [], []
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                Counters().seed_from_store(store)
                t1 = time.perf_counter()
                queries.target_totals(store)
                queries.latency_histograms(store, LATENCY_BUCKETS)
                queries.error_counts(store)
                t2 = time.perf_counter()
                seeds.append(t1 - t0)
                scans.append(t2 - t1)
            store.close()
            print(f"{rows} rows: seed from totals {', '.join(f'{x * 1000:.1f}' for x in seeds)} ms;"
                  f" the scans the seed used to run {', '.join(f'{x:.2f}' for x in scans)} s", flush=True)
            with sqlite3.connect(path) as conn:  # back to schema 5, as a ledger written before window cells
                conn.executescript(
                    "DROP TRIGGER window_cells_result; DROP TABLE window_cells; PRAGMA user_version = 5;"
                )
            t0 = time.perf_counter()
            Store(path).close()
            took = time.perf_counter() - t0
            print(f"{rows} rows: migration 5 -> 6 (fills the window cells) {took:.2f} s", flush=True)
            with sqlite3.connect(path) as conn:  # back to schema 4, as a ledger written before totals
                conn.executescript(
                    "DROP TRIGGER totals_result; DROP TRIGGER totals_run; DROP TABLE totals;"
                    " DROP TRIGGER window_cells_result; DROP TABLE window_cells; PRAGMA user_version = 4;"
                )
            t0 = time.perf_counter()
            Store(path).close()
            took = time.perf_counter() - t0
            print(f"{rows} rows: migrations 4 -> 6 (fill the totals and the window cells) {took:.2f} s", flush=True)
    return 0


def cmd_triggers(args: argparse.Namespace) -> int:
    """Commit cost per result with the totals and window-cells triggers, with the totals one only, and
    with neither (dropped on a scratch ledger), batches of 9 as the group committer writes them under
    load, alternating rounds."""
    from agent.ledger.results import ProbeResult
    from agent.ledger.store import Store

    rows = [
        ProbeResult(
            ts=1000.0 + i, run_id="r", target=f"t{i % 3}", provider="openai", model="m", family="arithmetic",
            difficulty=3, novelty=0, item_index=i, seed=i, item_key=f"k{i}", static=False, canary=False,
            generator_version="bench", prompt="What is 1 + 1?", response="Answer: 2", extracted="2", canonical="2",
            reference="2", score=None if i % 3 == 2 else 1.0, outcome=("pass", "fail", "error")[i % 3],
            error_reason="timeout" if i % 3 == 2 else None, http_status=200, latency_s=0.01 * (i % 50),
            input_tokens=12, output_tokens=4, response_model="m", system_fingerprint=None, cost_usd=0.001,
        )
        for i in range(args.results)
    ]  # fmt: skip
    dropped = {
        "both triggers": [],
        "totals only (schema 5)": ["window_cells_result"],
        "without": ["window_cells_result", "totals_result"],
    }
    per: dict[str, list[float]] = {mode: [] for mode in dropped}
    for rnd in range(args.rounds):
        for mode in list(per) if rnd % 2 == 0 else list(reversed(per)):
            with tempfile.TemporaryDirectory() as tmp:
                store = Store(Path(tmp) / "s.db")
                for trigger in dropped[mode]:
                    store._conn.execute(f"DROP TRIGGER {trigger}")
                t0 = time.perf_counter()
                for i in range(0, len(rows), 9):
                    store.add_results(rows[i : i + 9])
                per[mode].append((time.perf_counter() - t0) / len(rows) * 1e6)
                store.close()
    for mode, xs in per.items():
        print(f"{mode:24s} {min(xs):5.1f} us per result fastest (rounds: {', '.join(f'{x:.1f}' for x in xs)})")
    return 0


def reachable_levels() -> dict[str, list[int]]:
    """Per family, the levels a default target probes (``planner.levels_for``) whose prompts fit its
    ``prompt_token_limit``: where the staircase's exploration and the static rotation lead in a day."""
    from agent.config import TargetConfig
    from agent.run.planner import _longest, levels_for
    from probes.base import make_items
    from probes.catalog import builtin_families

    t = TargetConfig(name="t", provider="openai", base_url="http://127.0.0.1:9/v1", model="m")
    return {
        family.name: [
            d for d in levels_for(t, family)
            if _longest(make_items(family, b"cells", 0, d, t.novelties)) <= t.prompt_token_limit
        ]
        for family in builtin_families()
    }  # fmt: skip


def cell_rows(targets: list[str], levels: dict[str, list[int]], now: float, per_cell: int = 3) -> Iterator[Any]:
    """Results that fill every (target, family, level) cell, fresh (``per_cell`` each) and static (1 each),
    spread over the 23 hours before ``now``: a day's window as full as the staircase makes it."""
    from agent.ledger.results import ProbeResult

    i = 0
    for t, (fam, ds) in itertools.product(targets, levels.items()):
        for d, static in itertools.product(ds, (False, True)):
            for _ in range(1 if static else per_cell):
                passed = (i * 2654435761 >> 8) % 100 >= 2 * d
                yield ProbeResult(
                    ts=now - 60 - (i * 7919) % 82800, run_id="prefill", target=t, provider="openai", model="m",
                    family=fam, difficulty=d, novelty=0, item_index=i, seed=i, item_key=f"prefill{i}",
                    static=static, canary=False, generator_version="1", prompt="p", response="Answer: 2",
                    extracted="2", canonical="2", reference="2", score=1.0 if passed else 0.0,
                    outcome="pass" if passed else "fail", error_reason=None, http_status=200, latency_s=0.01,
                    input_tokens=12, output_tokens=4, response_model="m", system_fingerprint=None,
                )  # fmt: skip
                i += 1


def add_in_batches(store: Any, rows: Iterable[Any]) -> int:
    """``store.add_results`` 20,000 rows at a time; how many were added."""
    added = 0
    for batch in _batches(rows):
        store.add_results(batch)
        added += len(batch)
    return added


def _batches(rows: Iterable[Any]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 20_000:
            yield batch
            batch = []
    if batch:
        yield batch


def cmd_cells(args: argparse.Namespace) -> int:
    """The most cells a statistics window can hold with ``--targets`` default targets (``reachable_levels``),
    fresh and static items each."""
    reachable = reachable_levels()
    for name, levels in reachable.items():
        print(f"{name:22s} {len(levels):3d} levels within the default prompt-token limit")
    total = sum(len(levels) for levels in reachable.values())
    print(f"{total} levels per target; at most {args.targets * total * 2} cells for {args.targets} targets"
          " (one novelty level, fresh and static)")
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    """Python memory one statistics refresh allocates beyond what it keeps (``tracemalloc`` peak), and its
    time, as the cells in its window grow: 10 targets, every family, ``--levels`` levels each, then the
    levels a default target reaches (``reachable_levels``: the most a day's window holds), fresh and
    static items at every level, rows over 23 hours (``cell_rows``).

    The peak is what the allocator must find room for at each refresh: what it frees in between stays
    as free space inside Python's arenas, so an agent's RSS follows the largest peak so far.
    """
    import gc
    import tracemalloc

    from agent.config import Settings, TargetConfig
    from agent.ledger.store import Store
    from agent.stats.engine import StatsEngine
    from probes.catalog import builtin_families

    families = [f.name for f in builtin_families()]
    names = [f"t{i}" for i in range(args.targets)]
    sets = {f"{n} levels": {f: list(range(1, n + 1)) for f in families} for n in args.levels}
    sets["the reachable levels"] = reachable_levels()
    for label, levels in sets.items():
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "ledger.db"
            store = Store(path)
            now = time.time()
            add_in_batches(store, cell_rows(names, levels, now))
            cells = len(names) * sum(len(ds) for ds in levels.values()) * 2
            targets = [
                TargetConfig(name=n, provider="openai", base_url="http://127.0.0.1:9/v1", model="m") for n in names
            ]
            engine = StatsEngine(store, Settings(targets=targets, store=path), clock=lambda now=now: now)
            peaks = []
            for _ in range(2):  # the first refresh fits every family; the next reuses the fits
                gc.collect()
                tracemalloc.start()
                base = tracemalloc.get_traced_memory()[0]
                snapshot = engine.snapshot()
                peaks.append(tracemalloc.get_traced_memory()[1] - base)
                tracemalloc.stop()
                del snapshot
            t0 = time.perf_counter()
            engine.snapshot()
            took = time.perf_counter() - t0
            store.close()
        print(f"{cells:6d} cells ({label}): refresh peak {peaks[0] / 2**20:5.2f} MiB first,"
              f" {peaks[1] / 2**20:5.2f} MiB next ({peaks[1] / cells:.0f} B per cell); next refresh {took:.2f} s",
              flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.footprint", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("series", help="series per target by metric")
    s.add_argument("--targets", type=int, default=1)
    s.add_argument("--seconds", type=float, default=120)
    s.set_defaults(func=cmd_series)
    u = sub.add_parser("startup", help="check-config and probe --once start-up")
    u.add_argument("--rounds", type=int, default=5)
    u.set_defaults(func=cmd_startup)
    c = sub.add_parser("scrape", help="scrape time at many targets over a large ledger")
    c.add_argument("--targets", type=int, default=100)
    c.add_argument("--rows", type=int, default=1_000_000)
    c.add_argument("--recent", type=int, default=200)
    c.add_argument("--spread", type=int, default=3000, help="seconds the recent rows spread over")
    c.add_argument("--scrapes", type=int, default=5)
    c.add_argument("--rounds", type=int, default=2, help="alternating rounds of the two snapshots")
    c.set_defaults(func=cmd_scrape)
    k = sub.add_parser("soak", help="RSS of capmon run over time")
    k.add_argument("--targets", type=int, default=10)
    k.add_argument("--seconds", type=float, default=240)
    k.add_argument("--every", type=float, default=20)
    k.add_argument("--interval", type=float, default=10, help="each target's interval_s")
    k.add_argument("--windows", type=float, nargs="+", help="stats.windows_s (default: the agent's, 1 h and 24 h)")
    k.add_argument("--prefill", action="store_true", help="start with every reachable cell in the day's window")
    k.add_argument("--prefill-rows", type=int, default=0,
                   help="with --prefill: about this many fresh results (default 3 per cell), marked as fed to the"
                   " detectors, as an agent restarted after a day of probing finds them")  # fmt: skip
    k.set_defaults(func=cmd_soak)
    f = sub.add_parser("fits", help="frontier fit time, pure Python vs scipy")
    f.add_argument("--fits", type=int, default=50)
    f.set_defaults(func=cmd_fits)
    g = sub.add_parser("triggers", help="commit cost per result with and without the totals trigger")
    g.add_argument("--results", type=int, default=9000)
    g.add_argument("--rounds", type=int, default=4)
    g.set_defaults(func=cmd_triggers)
    i = sub.add_parser("imports", help="RSS of the daemon's imports, httpx's CLI imported vs blocked")
    i.add_argument("--rounds", type=int, default=3)
    i.set_defaults(func=cmd_imports)
    e = sub.add_parser("seed", help="counter seed from totals vs the ledger scans it replaced")
    e.add_argument("--rows", type=int, nargs="+", default=[10_000, 1_000_000])
    e.add_argument("--rounds", type=int, default=3)
    e.set_defaults(func=cmd_seed)
    r = sub.add_parser("refresh", help="a statistics refresh's peak Python memory as the cells in its window grow")
    r.add_argument("--targets", type=int, default=10)
    r.add_argument("--levels", type=int, nargs="+", default=[10, 25, 55])
    r.set_defaults(func=cmd_refresh)
    b = sub.add_parser("cells", help="the most cells a statistics window holds at the default targets")
    b.add_argument("--targets", type=int, default=10)
    b.set_defaults(func=cmd_cells)
    args = p.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
