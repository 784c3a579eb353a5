"""The CUSUM threshold design's numerics, run in a short-lived worker process and cached.

A design (``cusum.design``) needs Beta posterior quantiles (the guard, pessimistic references,
the cells its alarm rate is averaged over) and exact thresholds (Markov-chain ARLs, sparse solves):
numpy and scipy, ~100 MiB of RSS once imported. The
daemon designs detectors in bursts (a warm-up ending, an alarm's recovery test, a re-learned
baseline) and otherwise never needs them, so ``design_fields`` sends each design to one worker
process (``python -m agent.stats.offload``: a fresh interpreter reading one JSON request per line on
stdin and answering on stdout) that imports them; the worker exits once no design has been asked for
``IDLE_S`` seconds, and the daemon's own process never holds numpy or scipy. Results are cached by
their inputs (a design depends on nothing else; the engine also stores every design it uses in the
ledger, so a restart does not redesign).

``mode``: ``"auto"`` (the default) computes in this process when scipy is already loaded here (a
test, a benchmark, ``capmon baseline``: no memory to save) and in the worker otherwise;
``"process"`` always uses the worker, ``"inline"`` never.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import OrderedDict
from pathlib import Path
from typing import IO, Literal

#: Seconds without a design request after which the worker process is shut down.
IDLE_S = 5.0
#: Designs remembered (inputs -> guard and threshold); a few per scope, so this covers hundreds of scopes.
CACHE_SIZE = 4096

Mode = Literal["auto", "process", "inline"]
mode: Mode = "auto"

#: A design's inputs: p0, p1, arl0, baseline_n, quantile, unit (``cusum.design``'s arguments).
Key = tuple[float, float, float, int | None, float, float | None]
#: A design's fields, in ``cusum.CusumDesign``'s order.
Fields = tuple[float, float, int, int, int, float, float, float]

_lock = threading.Lock()
_cache: OrderedDict[Key, Fields] = OrderedDict()
_worker: subprocess.Popen[str] | None = None
_timer: threading.Timer | None = None


def compute(key: Key) -> Fields:
    """One design's fields from its inputs, in this process (the worker's entry point)."""
    from agent.stats.cusum import compute_design

    d = compute_design(*key)
    return (d.p0, d.p1, d.inc_pass, d.inc_fail, d.threshold, d.arl0, d.unit, d.p_guard)


def design_fields(
    p0: float, p1: float, arl0: float, baseline_n: int | None, quantile: float, unit: float | None
) -> Fields:
    """``cusum.compute_design``'s result as fields, from the cache, this process or the worker (``mode``)."""
    key: Key = (p0, p1, arl0, baseline_n, quantile, unit)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    here = mode == "inline" or (mode == "auto" and "scipy" in sys.modules)
    out = compute(key) if here else _in_worker(key)
    with _lock:
        _cache[key] = out
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return out


class WorkerError(RuntimeError):
    """The worker process died or answered nonsense (it is replaced on the next request)."""


def _start() -> subprocess.Popen[str]:
    root = str(Path(__file__).resolve().parents[2])  # the directory holding the agent package
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    return subprocess.Popen(
        [sys.executable, "-m", "agent.stats.offload"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _in_worker(key: Key) -> Fields:
    global _worker, _timer
    with _lock:  # one request at a time on the worker's pipes
        if _timer is not None:
            _timer.cancel()
            _timer = None
        if _worker is None or _worker.poll() is not None:
            _worker = _start()
        proc = _worker
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(key) + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            if not line:
                raise WorkerError(f"design worker exited with {proc.wait()}")
            reply = json.loads(line)
        except BaseException:
            _stop(proc)
            _worker = None
            raise
        _timer = threading.Timer(IDLE_S, shutdown)
        _timer.daemon = True
        _timer.start()
    if "error" in reply:
        raise ValueError(reply["error"])
    f = reply["fields"]
    return (float(f[0]), float(f[1]), int(f[2]), int(f[3]), int(f[4]), float(f[5]), float(f[6]), float(f[7]))


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.stdin is not None:
        proc.stdin.close()  # end of input: the worker exits
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def shutdown() -> None:
    """Stop the worker process now (it is started again by the next design that needs it)."""
    global _worker, _timer
    with _lock:
        proc, _worker = _worker, None
        if _timer is not None:
            _timer.cancel()
            _timer = None
        if proc is not None:
            _stop(proc)


def worker_running() -> bool:
    """Whether a worker process is up (for tests and the footprint benchmark)."""
    return _worker is not None and _worker.poll() is None


def clear_cache() -> None:
    """Forget every cached design (here and ``cusum.design``'s own cache)."""
    from agent.stats.cusum import design

    design.cache_clear()
    with _lock:
        _cache.clear()


def serve(requests: IO[str], replies: IO[str]) -> None:
    """The worker: one JSON list of ``Key`` fields per line in, ``{"fields": [...]}`` (or
    ``{"error"}`` for a design that cannot be made) per line out, until end of input."""
    for line in requests:
        p0, p1, arl0, baseline_n, quantile, unit = json.loads(line)
        try:
            reply: dict[str, object] = {"fields": list(compute((p0, p1, arl0, baseline_n, quantile, unit)))}
        except ValueError as exc:
            reply = {"error": str(exc)}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


if __name__ == "__main__":
    serve(sys.stdin, sys.stdout)
