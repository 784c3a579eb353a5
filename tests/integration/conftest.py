"""Real components for integration tests: the llama.cpp server with SmolLM2, and capmon agent processes.

These fixtures fail (never skip) when a component is missing: CI installs them (see .ci/run).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from agent.llama import LlamaServer, free_port, start_llama_server


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """One real llama.cpp server serving SmolLM2-135M-Instruct for the whole session."""
    log = tmp_path_factory.mktemp("llama") / "server.log"
    server = start_llama_server(log_path=log)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class AgentProcess:
    """A ``capmon run`` subprocess."""

    process: subprocess.Popen[bytes]
    config_path: Path
    store_path: Path
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        """Base URL of its HTTP server."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send a signal and wait; kill if it does not exit."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode

    def log(self) -> str:
        """What the agent printed."""
        return self.log_path.read_text(errors="replace")


def write_config(path: Path, config: dict[str, Any]) -> Path:
    """Write a YAML config file."""
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def start_agent(
    tmp_path: Path,
    targets: list[dict[str, Any]],
    *,
    extra: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    name: str = "agent",
    ready_timeout: float = 60.0,
) -> AgentProcess:
    """Start ``capmon run`` on a free port with the given targets; wait until /readyz answers 200."""
    port = free_port()
    store = tmp_path / f"{name}.db"
    config: dict[str, Any] = {"targets": targets, "store": str(store), "listen": f"127.0.0.1:{port}"}
    config.update(extra or {})
    cfg = write_config(tmp_path / f"{name}.yaml", config)
    log_path = tmp_path / f"{name}.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "run", "--config", str(cfg)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    agent = AgentProcess(process, cfg, store, port, log_path)
    wait_ready(process, f"{agent.url}/readyz", ready_timeout, "capmon run", agent.log, on_timeout=agent.stop)
    return agent


def wait_ready(
    process: subprocess.Popen[bytes],
    url: str,
    timeout: float,
    name: str,
    log: Callable[[], str],
    on_timeout: Callable[[], object] | None = None,
) -> None:
    """Poll ``url`` until it answers 200; fail the test if the process exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with {process.returncode}:\n{log()[-2000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    if on_timeout is not None:
        on_timeout()
    pytest.fail(f"{name} not ready after {timeout:.0f}s:\n{log()[-2000:]}")


def smollm2_target(base_url: str, **overrides: Any) -> dict[str, Any]:
    """A target config for the real local model, small and quick."""
    target: dict[str, Any] = {
        "name": "smollm2",
        "provider": "openai",
        "base_url": base_url,
        "model": "smollm2",
        "interval_s": 5,
        "jitter_s": 0,
        "probes_per_run": 4,
        "static_per_run": 1,
        "fingerprint_prompts": 1,
        "max_tokens": 48,
        "timeout_s": 60,
        "concurrency": 1,
        "families": ["arithmetic"],
        "difficulties": [1, 2],
        # llama-cpp-python 0.3 sends no token usage in a stream (with or without stream_options), and
        # these tests hold token accounting; test_streaming_real.py covers the streamed path.
        "stream": False,
    }
    target.update(overrides)
    return target


def wait_for(predicate: Any, timeout: float, interval: float = 0.5, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
