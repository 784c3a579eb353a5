"""A canary API key goes through success and every failure path; it must appear nowhere we can look."""

from __future__ import annotations

import json
import logging
import secrets
import traceback
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import generate_latest
from pydantic import SecretStr
from starlette.testclient import TestClient

import agent.daemon as daemon_module
from agent.config import Settings, TargetConfig
from agent.daemon import Agent
from agent.errors import ProviderError
from agent.redact import RedactingFilter
from agent.report.build import build_report
from agent.report.html import render_html
from agent.report.markdown import render_markdown
from agent.serve.web import build_app
from agent.tracing import setup_tracing

# No recognisable key shape: only capmon's knowledge of its own secrets can hide these.
CANARY = "cnry" + secrets.token_hex(12)
HEADER_CANARY = "hdr" + secrets.token_hex(12)


def _body(content: object) -> dict[str, object]:
    return {
        "id": "c1",
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 3},
    }


def _echo(request: httpx.Request) -> str:
    """What a careless endpoint or proxy might repeat back: the credentials it was sent."""
    return f"{request.headers.get('authorization')} {request.headers.get('x-org')}"


def _paths() -> list[object]:
    """One entry per request: a response builder or an exception to raise."""

    def ok(r: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_body("Answer: 2"))

    def echo_ok(r: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=_body(f"You sent {_echo(r)}. Answer: 2"))

    def status(code: int, **headers: str) -> object:
        def build(r: httpx.Request) -> httpx.Response:
            err = {"error": {"message": f"Incorrect API key provided: {_echo(r)}", "code": code}}
            return httpx.Response(code, json=err, headers=headers)

        return build

    def raw(content: bytes, ctype: str = "application/json", code: int = 200, **headers: str) -> object:
        return lambda r: httpx.Response(code, content=content, headers={"content-type": ctype, **headers})

    def boom(exc_type: type[Exception]) -> object:
        def build(r: httpx.Request) -> httpx.Response:
            raise exc_type(f"failed for {r.url} with {_echo(r)}")

        return build

    return [
        ok,
        echo_ok,
        status(401),
        status(403),
        status(429, **{"retry-after": "0"}),
        status(500),
        status(503),
        raw(b'{"choices": ['),
        raw(json.dumps({"object": "x", "echo": CANARY}).encode()),
        raw(json.dumps(_body(None)).encode()),
        raw(json.dumps(_body("")).encode()),
        raw(f"<html>{CANARY}</html>".encode(), ctype="text/html"),
        raw(b"", code=302, location="http://model.test/v1/chat/completions"),
        raw(b"x" * (3 * 1024 * 1024)),
        boom(httpx.ReadTimeout),
        boom(httpx.ConnectError),
        boom(httpx.RemoteProtocolError),
        boom(httpx.ReadError),
    ]


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    monkeypatch.setattr(daemon_module, "setup_tracing", lambda settings: setup_tracing(settings, exporter=exporter))
    yield exporter


def _assert_clean(where: str, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    for canary in (CANARY, HEADER_CANARY):
        assert canary.encode() not in data, f"secret found in {where}"


async def test_canary_key_never_leaks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter
) -> None:
    paths = _paths()
    calls = {"n": 0}
    assigned: dict[str, int] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {CANARY}"  # the key is really sent
        calls["n"] += 1
        # Each prompt keeps its path, so a retry meets the same fault again.
        prompt = json.loads(request.content)["messages"][-1]["content"]
        step = paths[assigned.setdefault(prompt, len(assigned)) % len(paths)]
        return step(request)  # type: ignore[operator,no-any-return]

    target = TargetConfig(
        name="t",
        base_url="http://model.test/v1",  # type: ignore[arg-type]
        model="m",
        api_key=SecretStr(CANARY),
        headers={"X-Org": SecretStr(HEADER_CANARY)},
        families=["arithmetic"],
        probes_per_run=len(paths),
        static_per_run=1,
        fingerprint_prompts=1,
        concurrency=1,
        retry={"attempts": 2, "base_delay_s": 0.001, "max_delay_s": 0.01},  # type: ignore[arg-type]
    )
    settings = Settings(targets=[target], store=tmp_path / "capmon.db")
    agent = Agent(settings, transport=httpx.MockTransport(handler), hostname="test")

    errors: list[BaseException] = []
    for unit in agent.units:
        for member in unit.members:
            complete = member.adapter.complete

            async def recording(request, complete=complete):  # type: ignore[no-untyped-def]
                try:
                    return await complete(request)
                except ProviderError as exc:
                    errors.append(exc)
                    raise

            member.adapter.complete = recording  # type: ignore[method-assign]

    # Redact as the CLI's log handler does, with the agent's own redactor.
    caplog.handler.addFilter(RedactingFilter(agent.redact))
    caplog.set_level(logging.DEBUG)
    try:
        for _ in range(2):
            await agent.run_round()
        assert len(assigned) >= len(paths) and calls["n"] > len(assigned)  # every path, and retries
        reasons = {s.result.error_reason for s in agent.store.results()}
        assert {"http_4xx", "http_5xx", "timeout", "connect", "reset", "malformed_json", "too_large"} <= reasons
        assert any(s.result.outcome != "error" for s in agent.store.results())
        assert len(errors) >= len(paths) - 2

        for exc in errors:
            _assert_clean(f"exception {type(exc).__name__}", "".join(traceback.format_exception(exc)))
            _assert_clean("exception args", repr(exc.args))
        _assert_clean("/metrics (registry)", generate_latest(agent.metrics_registry))

        app = build_app(settings, agent.metrics_registry, agent.counters, agent.store, agent.redact)
        client = TestClient(app)
        for path in ["/", "/metrics", "/healthz", "/readyz"]:
            _assert_clean(path, client.get(path).content)
        ids = [s.id for s in agent.store.results()]
        for i in ids:
            for suffix in ("", "?debug=true"):
                resp = client.get(f"/probe/{i}{suffix}")
                assert resp.status_code == 200
                _assert_clean(f"/probe/{i}{suffix}", resp.content)

        report = build_report(agent.store, settings.targets, since=0)
        _assert_clean("HTML report", render_html(report))
        _assert_clean("Markdown report", render_markdown(report))
        _assert_clean("logs", caplog.text)
        for record in caplog.records:
            _assert_clean("log record", record.getMessage() + (record.exc_text or ""))
    finally:
        await agent.aclose()

    finished = spans.get_finished_spans()
    assert finished, "no spans were recorded"
    for span in finished:
        _assert_clean(f"span {span.name}", span.to_json())
    for f in tmp_path.iterdir():
        if f.name.startswith("capmon.db"):
            _assert_clean(f"store file {f.name}", f.read_bytes())
