"""The real ``capmon run`` with a canary key from the environment, against every fault: no leak anywhere.

Complements tests/agent/test_secrets.py (in-process, every path) by checking the wiring a user
gets: the CLI's log handler at debug level, the HTTP pages over a socket, the store on disk.
"""

from __future__ import annotations

import re
import secrets
import signal
from pathlib import Path

import httpx

from tests.fault.expected import EXPECTED
from tests.fault.server import FaultServer
from tests.integration.conftest import start_agent, wait_for

CANARY = "live" + secrets.token_hex(14)


def test_canary_key_from_env_never_leaks_from_a_running_agent(tmp_path: Path, fault_server: FaultServer) -> None:
    slow = ("hang", "hang_body", "dribble", "header_drip")
    modes = ["ok", "echo_key", *sorted(m for m in EXPECTED if m not in slow)]
    target = {
        "name": "live",
        "base_url": fault_server.base_url,
        "model": "m",
        "api_key_env": "CAPMON_TEST_CANARY_KEY",
        "families": ["arithmetic"],
        "interval_s": 0.3,
        "jitter_s": 0,
        "probes_per_run": 4,
        "static_per_run": 1,
        "fingerprint_prompts": 1,
        "concurrency": 2,
        "timeout_s": 2,
        "retry": {"attempts": 2, "base_delay_s": 0.01, "max_delay_s": 0.05},
    }
    agent = start_agent(
        tmp_path,
        [target],
        extra={"log_level": "debug"},
        env={"CAPMON_TEST_CANARY_KEY": CANARY},
        name="live",
    )
    try:
        for mode in modes:
            fault_server.mode = mode
            seen = fault_server.seen[mode]
            wait_for(lambda m=mode, n=seen: fault_server.seen[m] >= n + 2, timeout=30, interval=0.1, what=mode)
        fault_server.mode = "ok"
        pages = [agent.url + p for p in ("/metrics", "/", "/healthz", "/readyz")]
        bodies = {url: httpx.get(url, timeout=10).text for url in pages}
        ids = sorted({int(i) for i in re.findall(r"/probe/(\d+)", bodies[agent.url + "/"])})
        assert ids, "the status page links no probes"
        for i in ids:
            for suffix in ("", "?debug=true"):
                url = f"{agent.url}/probe/{i}{suffix}"
                resp = httpx.get(url, timeout=10)
                assert resp.status_code == 200
                bodies[url] = resp.text
    finally:
        code = agent.stop(signal.SIGTERM)
    assert code == 0
    log = agent.log()
    assert "DEBUG" in log or "INFO" in log, "no logs were written to scan"
    assert fault_server.seen["echo_key"] >= 2
    for where, text in [*bodies.items(), ("agent log", log)]:
        assert CANARY not in text, f"canary key found in {where}"
    for f in tmp_path.iterdir():
        if f.name.startswith("live.db"):
            assert CANARY.encode() not in f.read_bytes(), f"canary key found in {f.name}"
