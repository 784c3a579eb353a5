"""`capmon demo`: starts the real model, probes it, serves /metrics, and Ctrl-C stops both."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from agent.llama import free_port
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration


def _probes_total(url: str) -> float:
    try:
        text = httpx.get(f"{url}/metrics", timeout=5).text
    except httpx.HTTPError:
        return 0.0
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("capmon_probes_total{")
    )


def test_demo_probes_the_real_model_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "demo.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "demo", "--listen", f"127.0.0.1:{port}",
             "--store", str(tmp_path / "demo.db"), "--interval", "5"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: _probes_total(url) >= 3, timeout=240, what="demo probes in /metrics")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait(10)
    text = log.read_text(errors="replace")
    assert code == 0, text[-2000:]
    assert "Stopped the model server" in text
    assert "arithmetic" in text  # the live table
    # The model server is gone with the demo: its port no longer answers.
    match = re.search(r"Model server ready at (http://127\.0\.0\.1:\d+/v1)", text)
    assert match, text[-2000:]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{match.group(1)}/models", timeout=5)
