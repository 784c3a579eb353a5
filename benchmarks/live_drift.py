"""Live evidence on the real model: capmon watching SmolLM2 behind a proxy that changes silently.

    python -m benchmarks.live_drift [--interval 5] [--phase-s 300] [--aa-extra-s 300]
                                    [--changes upstream2 system_prompt max_tokens delay refuse model_id]

Starts two llama.cpp servers (``agent.llama.start_llama_server``, own ports): SmolLM2-135M-Instruct
as bundled (Q4_1) and a copy re-quantized to Q5_0 with ``llama_model_quantize`` (allow_requantize),
a ``benchmarks.tamper_proxy.TamperProxy`` in front of them, and a real ``capmon run`` (``python -m
agent.cli run``) with a generated config pointing at the proxy: a short interval (runs back to back
on a loaded machine), one family, canary (fingerprint) prompts, streamed answers, the default budget
of 1 false alarm a month and the shortest warm-up the config allows. Then:

1. A/A on ``pass`` with estimated baselines until capmon's /metrics shows **every** configured
   detector armed (``capmon_detector_armed`` = 1 for the pass-ratio detectors of both scopes, the
   fingerprint and the signal tests), then ``--aa-extra-s`` more with all of them armed: any change
   point in the A/A is a false alarm. Then the baselines are pinned from the A/A window (``capmon
   baseline pin``, the documented workflow; ``--no-pin`` keeps the estimated ones).
2. Phases, each a silent change followed by a return to ``pass``: ``upstream2`` (the other
   quantization), ``system_prompt``, ``max_tokens``, ``delay``, ``refuse`` and ``model_id`` (see the
   proxy). A change phase ends once a detector expected for it (``EXPECTED``) fires, or after
   ``--phase-s``; ``model_id`` expects no change point (a served-model change is info) and runs
   ``--info-s``. A return phase ends once every detector that fired in the change has recovered, or
   after ``--phase-s``.

Per phase it reports, from capmon's own ledger: which detectors fired, canary answers and fresh
items served in the phase until the first change point, and minutes; for each return, which
recoveries were recorded and how long they took; the evidence headline of the signal change points.
Change points are read from the ledger; the armed state from /metrics. Everything runs in a
temporary directory; nothing else is touched.
"""

from __future__ import annotations

import argparse
import ctypes
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from agent.ledger.store import Store
from agent.llama import LlamaServer, find_gguf, free_port, start_llama_server
from agent.stats.signals import headline
from benchmarks.tamper_proxy import TamperProxy

CHANGES = ("upstream2", "system_prompt", "max_tokens", "delay", "refuse", "model_id", "temperature")
#: Detectors (scope/detector; "*" any detector of the scope) whose alarm ends a change phase.
EXPECTED: dict[str, tuple[str, ...]] = {
    "upstream2": ("fingerprint/fingerprint",),
    "system_prompt": ("fingerprint/fingerprint",),
    "max_tokens": ("signals/truncation",),
    "delay": ("signals/latency", "signals/ttft"),
    "refuse": ("signals/refusal",),
    "model_id": (),
    "temperature": ("fingerprint/fingerprint",),
}


def requantize(src: Path, dst: Path) -> Path:
    """A Q5_0 copy of the Q4_1 GGUF (allow_requantize): another quantization of the same model."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_0
    params.allow_requantize = True
    params.nthread = 1
    if llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(params)):
        raise SystemExit("re-quantization failed")
    return dst


def config(base_url: str, store: Path, port: int, interval: float, canaries: int = 4) -> dict[str, Any]:
    """The capmon config of the run: one target behind the proxy, short interval, canary prompts."""
    return {
        "targets": [
            {
                "name": "smollm2",
                "base_url": base_url,
                "model": "smollm2",
                "interval_s": interval,
                "jitter_s": 0,
                "probes_per_run": 4,
                "static_per_run": 0,
                # Canary answers carry the fingerprint: half of each run, so a phase sees enough of them.
                "fingerprint_prompts": canaries,
                "max_tokens": 32,
                "concurrency": 1,
                "timeout_s": 120,
                # The family SmolLM2-135M passes at level 1 about 75% of the time (docs/probes.md).
                "families": ["arithmetic"],
                "difficulties": [1],
                "adaptive": False,
                "stream": True,
            }
        ],
        "store": str(store),
        "listen": f"127.0.0.1:{port}",
        "log_level": "warning",
        "stats": {"warmup_probes": 20, "refresh_interval_s": 2},
    }


def metrics(url: str) -> dict[str, float]:
    """capmon's /metrics as {series: value}."""
    out: dict[str, float] = {}
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                continue
    return out


def armed(m: dict[str, float], value: float = 1.0) -> list[str]:
    """The detectors armed now (``value`` 0: not armed), as family/detector."""
    out = []
    for k, v in m.items():
        if k.startswith("capmon_detector_armed{") and v == value:
            labels = dict(part.split("=", 1) for part in k[k.index("{") + 1 : -1].split(","))
            out.append(f"{labels['family'].strip(chr(34))}/{labels['detector'].strip(chr(34))}")
    return sorted(out)


def left(m: dict[str, float]) -> list[str]:
    """The detectors still learning (warm-up outcomes to come), as family/detector."""
    out = []
    for k, v in m.items():
        if k.startswith("capmon_detector_probes_to_armed{") and v > 0:
            labels = dict(part.split("=", 1) for part in k[k.index("{") + 1 : -1].split(","))
            out.append(f"{labels['family'].strip(chr(34))}/{labels['detector'].strip(chr(34))}")
    return sorted(out)


def all_armed(m: dict[str, float]) -> bool:
    """Every detector that can be armed is: no warm-up left anywhere, and the fingerprint and the
    signal tests armed. A pass-ratio detector whose baseline leaves its shift no room under the budget
    is never designed (armed 0 with no warm-up left: reported, not waited for)."""
    return bool(armed(m)) and not left(m) and {"all/fingerprint", "all/signals"} <= set(armed(m))


@dataclass
class Phase:
    """One phase: the proxy mode, when it started and ended, and what capmon recorded in it."""

    mode: str
    start: float
    end: float = 0.0
    events: tuple[dict[str, Any], ...] = ()

    def line(self, store: Store) -> str:
        """Detection (or recovery) figures of the phase, read from the ledger."""
        first = self.events[0] if self.events else None
        until = first["ts"] if first else self.end
        canary = fresh = 0
        for sr in store.results(after_id=0, limit=10**9):
            r = sr.result
            if self.start <= r.ts <= until and r.outcome != "error":
                canary += int(r.canary)
                fresh += int(not r.canary and not r.static)
        what = ", ".join(f"{key(e)} {e['direction']} at {(e['ts'] - self.start) / 60:.1f} min" for e in self.events)
        what = what or "none"
        said = {headline(e["evidence"]) for e in self.events if e["direction"] != "recovery" and e["evidence"]}
        if said:
            what += "; evidence: " + " | ".join(sorted(s for s in said if s))
        minutes = (until - self.start) / 60
        head = f"{self.mode:14s} {(self.end - self.start) / 60:5.1f} min"
        if first is None:
            return f"{head}: nothing recorded ({canary} canary answers, {fresh} fresh items)"
        return (
            f"{head}: first {first['scope']}/{first['detector']} {first['direction']} after {minutes:.1f} min, "
            f"{canary} canary answers, {fresh} fresh items; all: {what}"
        )


def key(cp: dict[str, Any]) -> str:
    """scope/detector of a change point."""
    return f"{cp['scope']}/{cp['detector']}"


def wait_for(store: Store, since: float, done: Any, limit_s: float) -> tuple[dict[str, Any], ...]:
    """Change points from ``since`` on; returns once ``done(change points)`` or after limit_s."""
    deadline = time.time() + limit_s
    while True:
        got = tuple(store.change_points(since=since))
        if done(got) or time.time() > deadline:
            return got
        time.sleep(2)


def main() -> None:
    """Run the phases and print one line per phase."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--interval", type=float, default=5.0, help="capmon interval_s")
    ap.add_argument("--phase-s", type=float, default=300.0, help="longest change or return phase")
    ap.add_argument("--aa-extra-s", type=float, default=300.0, help="A/A time after every detector is armed")
    ap.add_argument("--arm-timeout-s", type=float, default=1200.0)
    ap.add_argument("--canaries", type=int, default=4, help="fingerprint_prompts of the target")
    ap.add_argument("--info-s", type=float, default=90.0, help="how long the model_id phase runs")
    ap.add_argument("--no-pin", dest="pin", action="store_false", help="keep the estimated baselines")
    ap.add_argument("--changes", nargs="+", default=list(CHANGES[:6]), choices=CHANGES)
    args = ap.parse_args()
    # A SIGTERM (a timeout, a CI runner) unwinds like Ctrl-C, so the servers and the agent are stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    started = time.time()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        q2 = requantize(find_gguf(), tmp / "smollm2-q5_0.gguf")
        servers: list[LlamaServer] = []
        proc: subprocess.Popen[bytes] | None = None
        proxy: TamperProxy | None = None
        try:
            servers.append(start_llama_server(port=free_port(), n_threads=1, log_path=tmp / "llama1.log"))
            servers.append(start_llama_server(q2, port=free_port(), n_threads=1, log_path=tmp / "llama2.log"))
            proxy = TamperProxy([s.base_url for s in servers]).start()
            port = free_port()
            db = tmp / "live.db"
            cfg = tmp / "live.yaml"
            cfg.write_text(yaml.safe_dump(config(proxy.base_url, db, port, args.interval, args.canaries)))
            log = open(tmp / "capmon.log", "wb")  # noqa: SIM115 - closed with the process
            proc = subprocess.Popen(
                [sys.executable, "-m", "agent.cli", "run", "--config", str(cfg)], stdout=log, stderr=log
            )
            url = f"http://127.0.0.1:{port}"
            print(
                f"servers up after {time.time() - started:.0f} s; capmon on {url}, proxy {proxy.base_url}", flush=True
            )
            aa = Phase("A/A pass", time.time())
            deadline = time.time() + args.arm_timeout_s
            m: dict[str, float] = {}
            while time.time() < deadline:
                try:
                    m = metrics(url)
                    if all_armed(m):
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(3)
            armed_at = time.time()
            store = Store(db)
            early = tuple(cp for cp in store.change_points(since=aa.start) if cp["direction"] != "recovery")
            print(
                f"every detector armed after {(armed_at - aa.start) / 60:.1f} min ({len(early)} change points"
                f" while learning); armed: {armed(m)}; not designed at the learned baseline:"
                f" {armed(m, 0.0) or 'none'}; still learning: {left(m) or 'none'}",
                flush=True,
            )
            time.sleep(args.aa_extra_s)
            aa.end = time.time()
            m = metrics(url)
            aa.events = tuple(cp for cp in store.change_points(since=aa.start) if cp["direction"] != "recovery")
            armed_aa = Phase("A/A all armed", armed_at, aa.end, tuple(e for e in aa.events if e["ts"] >= armed_at))
            print(aa.line(store), flush=True)
            print(armed_aa.line(store), f"; still armed at its end: {len(armed(m))}, not: {armed(m, 0.0) or 'none'}",
                  flush=True)  # fmt: skip
            if args.pin:
                # The documented workflow once an A/A window looks right: pin the baselines from it, so the
                # detectors test against known rates (the posterior guard of a short warm-up falls away).
                window = f"{max(1, round((time.time() - aa.start) / 60))}m"
                pin = ["baseline", "pin", "--config", str(cfg), "--target", "smollm2", "--window", window]
                subprocess.run([sys.executable, "-m", "agent.cli", *pin], check=True, capture_output=True)
                time.sleep(3 * args.interval)  # the running engine reloads on its next update
                print(f"baselines pinned from the A/A window ({window})", flush=True)
            for change in args.changes:
                expected = EXPECTED[change]
                proxy.set_mode(change)
                ph = Phase(change, time.time())
                if expected:
                    def hit(got: tuple[dict[str, Any], ...], expected: tuple[str, ...] = expected) -> bool:
                        return any(key(c) in expected for c in got)

                    ph.events = wait_for(store, ph.start, hit, args.phase_s)
                    if ph.events:
                        time.sleep(3 * args.interval)  # let the other detectors see the change too
                else:
                    time.sleep(args.info_s)
                ph.events = tuple(cp for cp in store.change_points(since=ph.start) if cp["direction"] != "recovery")
                ph.end = time.time()
                info = {k: v for k, v in metrics(url).items() if k.startswith("capmon_signal_info_changed") and v}
                print(ph.line(store), f"; info flags: {info or 'none'}", flush=True)
                fired = {key(c) for c in ph.events}
                proxy.set_mode("pass")
                back = Phase("back to pass", time.time())

                def recovered(got: tuple[dict[str, Any], ...], fired: set[str] = fired) -> bool:
                    return fired <= {key(c) for c in got if c["direction"] == "recovery"}

                back.events = wait_for(store, back.start, recovered, args.phase_s if fired else 3 * args.interval)
                back.end = time.time()
                pending = sorted(fired - {key(c) for c in back.events if c["direction"] == "recovery"})
                print(back.line(store), f"; not recovered: {pending or 'none'}", flush=True)
            m = metrics(url)
            print(
                "final gauges:",
                {
                    k: v
                    for k, v in m.items()
                    if k.startswith(("capmon_fingerprint_changed", "capmon_regression_detected", "capmon_signal_alarm"))
                },
            )
            print("all change points:")
            for cp in store.change_points():
                print(
                    f"  {cp['ts'] - aa.start:7.0f} s {cp['scope']}/{cp['detector']} {cp['direction']}"
                    f" size {cp['size']} probes {cp['probes']}"
                )
            print(f"proxy requests per mode: {dict(proxy.counts)}; total {(time.time() - started) / 60:.1f} min")
        finally:
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
            if proxy is not None:
                proxy.stop()
            for s in servers:
                s.stop()


if __name__ == "__main__":
    main()
