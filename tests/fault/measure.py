"""Peak memory and time of one adapter call against a hostile endpoint, measured in a process of its own.

    python -m tests.fault.measure gzip_bomb [--timeout-s 1.0] [--repeat 3]

Starts ``python -m tests.fault.server`` in another process (so that the endpoint's own memory is not
counted), makes one warm-up call to its ``ok`` mode, then calls the mode ``repeat`` times and prints
one JSON line: the outcome (``ok`` or the error's reason), the worst call time, and the peak RSS
growth over the RSS after warm-up (Linux: ``VmHWM`` after resetting it through ``/proc/self/clear_refs``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from agent.config import TargetConfig
from agent.errors import ProviderError
from agent.providers import ChatRequest, adapter_for

REQUEST = ChatRequest(prompt="What is 2 + 2?", max_tokens=16, temperature=0.0)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        return False
    return True


async def _call(base_url: str, timeout_s: float) -> tuple[str, float, dict[str, Any]]:
    target = TargetConfig(name="m", base_url=base_url, model="m", timeout_s=timeout_s)  # type: ignore[arg-type]
    async with httpx.AsyncClient() as client:
        adapter = adapter_for(target, client, "sk-measure")
        start = time.monotonic()
        try:
            resp = await adapter.complete(REQUEST)
        except ProviderError as exc:
            return exc.reason, time.monotonic() - start, {}
        fields = {
            "response_model_len": len(resp.response_model or ""),
            "system_fingerprint_len": len(resp.system_fingerprint or ""),
            "request_id_len": len(resp.request_id or ""),
            "finish_reason_len": len(resp.finish_reason or ""),
            "input_tokens": resp.input_tokens,
            "output_tokens": resp.output_tokens,
            "headers_max_len": max((len(v) for v in resp.headers.values()), default=0),
        }
        return "ok", time.monotonic() - start, fields


def measure(mode: str, timeout_s: float = 1.0, repeat: int = 1) -> dict[str, Any]:
    """Run the measurement in this process (call it in a fresh one) and return the figures."""
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fault.server", "--port", "0", "--mode", "ok"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        warm, _, _ = asyncio.run(_call(f"{base}/v1", timeout_s))
        assert warm == "ok", warm
        rss_before = _status_kib("VmRSS")
        reset = _reset_peak()
        hwm_before = _status_kib("VmHWM")
        outcomes, times, fields = [], [], {}
        for _ in range(repeat):
            outcome, elapsed, fields = asyncio.run(_call(f"{base}/f/{mode}/v1", timeout_s))
            outcomes.append(outcome)
            times.append(elapsed)
        hwm = _status_kib("VmHWM")
    finally:
        server.terminate()
        server.wait(10)
    growth_kib = hwm - (rss_before if reset else hwm_before)
    return {
        "mode": mode,
        "outcome": sorted(set(outcomes)),
        "worst_s": round(max(times), 3),
        "timeout_s": timeout_s,
        "rss_before_mib": round(rss_before / 1024, 1),
        "peak_rss_mib": round(hwm / 1024, 1),
        "peak_growth_mib": round(growth_kib / 1024, 1),
        "peak_reset": reset,
        **fields,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode")
    parser.add_argument("--timeout-s", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(measure(args.mode, args.timeout_s, args.repeat)))


if __name__ == "__main__":
    main()
