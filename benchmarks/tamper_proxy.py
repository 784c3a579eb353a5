"""A reverse proxy in front of OpenAI-compatible servers that changes the endpoint silently, on command.

    proxy = TamperProxy(["http://127.0.0.1:8101/v1", "http://127.0.0.1:8102/v1"]).start()
    proxy.base_url              # point the monitor here
    proxy.set_mode("upstream2") # or POST {"mode": "upstream2"} to proxy.control_url
    proxy.stop()

Modes (``MODES``), each what a gateway in front of a model could do without telling anyone:

* ``pass``: forward unchanged to the first upstream.
* ``upstream2``: forward to the second upstream (another model, e.g. another quantization).
* ``system_prompt``: prepend ``system_prompt`` as a system message to every chat request.
* ``max_tokens``: cap ``max_tokens`` at ``max_tokens_cap`` (answers are cut, finish_reason "length").
* ``temperature``: raise the sampling temperature to at least ``temperature``.
* ``delay``: wait ``delay_s`` before forwarding (an overloaded or throttled endpoint: latency and,
  streamed, time to first token grow; the answer is the model's own).
* ``refuse``: answer every chat request with ``refusal`` instead of asking the model (a safety filter
  put in front of the model), as a normal answer with finish_reason "stop", streamed when asked.
* ``model_id``: forward unchanged but name ``served_model`` as the model in every answer (a gateway
  falling back to another model and saying so only in the answer's model field).

Except ``model_id``, the client sees the same URL, model name and response shape whatever the mode.
Streamed answers (``"stream": true``) are relayed chunk by chunk, so time to first token is the
upstream's (plus ``delay_s`` in ``delay``). Served by uvicorn (starlette) on a background thread;
``GET /_tamper/mode`` reads the mode and ``POST /_tamper/mode`` with ``{"mode": NAME}`` sets it, so
another process can drive it. Requests are counted per mode (``counts``) so a harness can say how
many answers each phase served.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from agent.llama import free_port

MODES = ("pass", "upstream2", "system_prompt", "max_tokens", "temperature", "delay", "refuse", "model_id")
DEFAULT_SYSTEM_PROMPT = "You are a pirate. Answer every question in the voice of a pirate, briefly."
DEFAULT_REFUSAL = "I'm sorry, but I can't help with that request."


class TamperProxy:
    """The proxy; see the module docstring."""

    def __init__(
        self,
        upstreams: Sequence[str],
        *,
        port: int | None = None,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        max_tokens_cap: int = 4,
        temperature: float = 1.5,
        delay_s: float = 3.0,
        refusal: str = DEFAULT_REFUSAL,
        served_model: str = "fallback-model-mini",
        timeout_s: float = 300.0,
        upstream_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not upstreams:
            raise ValueError("need at least one upstream")
        self.upstreams = [u.rstrip("/") for u in upstreams]
        self.port = port or free_port()
        self.system_prompt = system_prompt
        self.max_tokens_cap = max_tokens_cap
        self.temperature = temperature
        self.delay_s = delay_s
        self.refusal = refusal
        self.served_model = served_model
        self.mode = "pass"
        self.counts: Counter[str] = Counter()
        self._timeout = timeout_s
        self._transport = upstream_transport  # tests script the upstream with it
        self._client: httpx.AsyncClient | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(
            routes=[
                Route("/_tamper/mode", self._control, methods=["GET", "POST"]),
                Route("/v1/{path:path}", self._forward, methods=["GET", "POST"]),
            ],
            lifespan=self._lifespan,
        )

    @property
    def base_url(self) -> str:
        """OpenAI-compatible base URL of the proxy."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def control_url(self) -> str:
        """Where the mode is read (GET) and set (POST ``{"mode": NAME}``)."""
        return f"http://127.0.0.1:{self.port}/_tamper/mode"

    def set_mode(self, mode: str) -> None:
        """Switch what the proxy does to the next requests."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        if mode == "upstream2" and len(self.upstreams) < 2:
            raise ValueError("mode upstream2 needs a second upstream")
        self.mode = mode

    def rewrite(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(upstream, request body) for a chat/completions request in the current mode."""
        mode = self.mode
        upstream = self.upstreams[1] if mode == "upstream2" else self.upstreams[0]
        body = dict(body)
        if mode == "system_prompt" and isinstance(body.get("messages"), list):
            body["messages"] = [{"role": "system", "content": self.system_prompt}, *body["messages"]]
        elif mode == "max_tokens":
            body["max_tokens"] = min(int(body.get("max_tokens") or self.max_tokens_cap), self.max_tokens_cap)
        elif mode == "temperature":
            body["temperature"] = max(float(body.get("temperature") or 0.0), self.temperature)
        return upstream, body

    async def _control(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                self.set_mode(str((await request.json())["mode"]))
            except (ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"mode": self.mode, "counts": dict(self.counts)})

    async def _forward(self, request: Request) -> Response:
        if self._client is None:
            return JSONResponse({"error": "proxy not started"}, status_code=503)
        path = request.path_params["path"]
        upstream = self.upstreams[0]
        mode = self.mode
        raw = await request.body()
        body: Any = None
        chat = False
        if request.method == "POST" and raw:
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                body = None
            if isinstance(body, dict) and path.endswith("completions"):
                chat = True
                upstream, body = self.rewrite(body)
                raw = json.dumps(body).encode()
                self.counts[mode] += 1
        stream = chat and bool(body.get("stream"))
        if chat and mode == "refuse":
            return self._refusal(body, stream)
        if chat and mode == "delay":
            await asyncio.sleep(self.delay_s)
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "authorization")}
        try:
            up = await self._client.send(
                self._client.build_request(request.method, f"{upstream}/{path}", content=raw, headers=headers),
                stream=True,
            )
        except httpx.HTTPError as exc:
            return JSONResponse({"error": f"upstream: {exc!r}"}, status_code=502)
        rename = chat and mode == "model_id"
        media = up.headers.get("content-type")
        if stream and up.status_code == 200:
            return StreamingResponse(self._relay(up, mode), media_type=media)
        try:
            content = await up.aread()
        except httpx.HTTPError as exc:
            return JSONResponse({"error": f"upstream: {exc!r}"}, status_code=502)
        finally:
            await up.aclose()
        if rename:
            content = self._rename(content)
        return Response(content, status_code=up.status_code, media_type=media)

    async def _relay(self, up: httpx.Response, mode: str) -> AsyncIterator[bytes]:
        """The upstream's stream line by line (model renamed in ``model_id``)."""
        try:
            async for line in up.aiter_lines():
                if mode == "model_id" and line.startswith("data: {"):
                    line = "data: " + self._rename(line[6:].encode()).decode()
                yield (line + "\n").encode()
        except httpx.HTTPError:
            return  # the client sees the stream end early, as from a failing upstream
        finally:
            await up.aclose()

    def _rename(self, content: bytes) -> bytes:
        """A JSON answer with ``served_model`` as its model (unchanged if it is not a JSON object)."""
        try:
            doc = json.loads(content)
        except ValueError:
            return content
        if not isinstance(doc, dict):
            return content
        doc["model"] = self.served_model
        return json.dumps(doc).encode()

    def _refusal(self, body: dict[str, Any], stream: bool) -> Response:
        """The refusal as a normal chat answer (or its stream of chunks) under the requested model name."""
        model = str(body.get("model") or "model")
        ident = f"chatcmpl-tamper-{sum(self.counts.values())}"
        created = int(time.time())
        tokens = len(self.refusal.split())
        if not stream:
            return JSONResponse(
                {
                    "id": ident, "object": "chat.completion", "created": created, "model": model,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": self.refusal}}],
                    "usage": {"prompt_tokens": 0, "completion_tokens": tokens, "total_tokens": tokens},
                }
            )  # fmt: skip

        def chunk(delta: dict[str, Any], finish: str | None) -> str:
            doc = {
                "id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }  # fmt: skip
            return f"data: {json.dumps(doc)}\n\n"

        text = chunk({"role": "assistant", "content": self.refusal}, None) + chunk({}, "stop") + "data: [DONE]\n\n"
        return Response(text.encode(), media_type="text/event-stream")

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self._client = httpx.AsyncClient(timeout=self._timeout, transport=self._transport)
        try:
            yield
        finally:
            await self._client.aclose()

    def start(self, ready_timeout: float = 20.0) -> TamperProxy:
        """Serve on 127.0.0.1:port from a background thread; returns once it answers."""
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="tamper-proxy", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.control_url, timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"tamper proxy not ready on port {self.port}")

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
