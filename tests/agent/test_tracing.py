"""Probe spans: GenAI semantic-convention attributes, errors as error.type, no secrets, off by default."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from agent.config import Settings, TargetConfig
from agent.errors import EndpointHTTPError, EndpointTimeout
from agent.ledger.results import ProbeResult
from agent.providers.base import ChatResponse
from agent.tracing import ProbeTracer, probe_span, record_response, setup_tracing, tracing_enabled
from probes.base import Item, Problem, Verdict

API_KEY = "sk-test-SECRET-0123456789abcdef"
HEADER_SECRET = "hdr-SECRET-value-42"


def _target(**overrides: object) -> TargetConfig:
    fields: dict[str, object] = {
        "name": "local",
        "provider": "openai",
        "base_url": "http://model.example:8080/v1",
        "model": "smollm2",
        "api_key": API_KEY,
        "headers": {"X-Gateway-Key": HEADER_SECRET},
        "max_tokens": 64,
        "temperature": 0.0,
    }
    fields.update(overrides)
    return TargetConfig.model_validate(fields)


ITEM = Item(
    family="arithmetic",
    index=3,
    difficulty=4,
    novelty=2,
    seed=123456789,
    prompt="What is 17 + 25?",
    answer="42",
    problem=Problem(facts={"a": 17, "b": 25}, answer="42"),
    generator_version="1",
)


@pytest.fixture
def spans() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _only(exporter: InMemorySpanExporter) -> ReadableSpan:
    finished = exporter.get_finished_spans()
    assert len(finished) == 1
    return finished[0]


def _no_secrets(span: ReadableSpan) -> None:
    text = repr(dict(span.attributes or {})) + span.name + repr(span.status.description) + repr(span.events)
    assert API_KEY not in text and HEADER_SECRET not in text
    assert ITEM.prompt not in text  # prompt text is not telemetry either


def test_success_span_follows_gen_ai_semconv(spans: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    provider, exporter = spans
    tracer = provider.get_tracer("test")
    response = ChatResponse(
        text="Answer: 42",
        input_tokens=21,
        output_tokens=7,
        response_model="smollm2-q4",
        finish_reason="stop",
        request_id="chatcmpl-9",
    )
    with probe_span(tracer, _target(), ITEM) as span:
        record_response(span, response, Verdict(score=1.0, extracted="42", canonical="42"))
    s = _only(exporter)
    assert s.name == "chat smollm2"
    assert s.kind is SpanKind.CLIENT
    a = dict(s.attributes or {})
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == "smollm2"
    assert a["gen_ai.request.max_tokens"] == 64
    assert a["gen_ai.request.temperature"] == 0.0
    assert a["gen_ai.response.model"] == "smollm2-q4"
    assert a["gen_ai.usage.input_tokens"] == 21
    assert a["gen_ai.usage.output_tokens"] == 7
    assert a["gen_ai.response.finish_reasons"] == ("stop",)
    assert a["server.address"] == "model.example"
    assert a["server.port"] == 8080
    assert (a["capmon.family"], a["capmon.difficulty"], a["capmon.novelty"]) == ("arithmetic", 4, 2)
    assert a["capmon.score"] == 1.0
    assert a["capmon.outcome"] == "pass"
    assert "error.type" not in a
    assert s.status.status_code is StatusCode.UNSET
    _no_secrets(s)


def test_failed_verdict_is_a_fail_not_an_error(spans: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    provider, exporter = spans
    with probe_span(provider.get_tracer("t"), _target(), ITEM) as span:
        record_response(span, ChatResponse(text="41"), Verdict(score=0.0, extracted="41"))
    a = dict(_only(exporter).attributes or {})
    assert a["capmon.outcome"] == "fail"
    assert a["capmon.score"] == 0.0
    assert "error.type" not in a


@pytest.mark.parametrize(
    ("error", "reason", "status"),
    [
        (EndpointTimeout("timed out after 60s"), "timeout", None),
        (EndpointHTTPError(f"HTTP 503 with key {API_KEY}", reason="http_5xx", status=503), "http_5xx", 503),
    ],
)
def test_endpoint_error_sets_error_type_and_status(
    spans: tuple[TracerProvider, InMemorySpanExporter], error: Exception, reason: str, status: int | None
) -> None:
    provider, exporter = spans
    with probe_span(provider.get_tracer("t"), _target(), ITEM) as span:
        record_response(span, error, None)  # type: ignore[arg-type]
    s = _only(exporter)
    a = dict(s.attributes or {})
    assert a["error.type"] == reason
    assert a["capmon.outcome"] == "error"
    assert a.get("http.response.status_code") == status
    assert s.status.status_code is StatusCode.ERROR
    assert s.status.description == reason
    _no_secrets(s)  # the message quoting the key never reaches the span


def test_an_exception_escaping_the_block_marks_the_span_without_its_text(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans
    with pytest.raises(RuntimeError), probe_span(provider.get_tracer("t"), _target(), ITEM):
        raise RuntimeError(f"boom {API_KEY}")
    s = _only(exporter)
    assert s.status.status_code is StatusCode.ERROR
    assert not s.events
    _no_secrets(s)


def _result(**overrides: object) -> ProbeResult:
    fields: dict[str, object] = dict(
        ts=1.0,
        run_id="r",
        target="local",
        provider="openai",
        model="smollm2",
        family="arithmetic",
        difficulty=4,
        novelty=2,
        item_index=3,
        seed=1,
        item_key="k",
        static=False,
        canary=False,
        generator_version="1",
        prompt=ITEM.prompt,
        response="Answer: 42",
        extracted="42",
        canonical="42",
        reference="42",
        score=1.0,
        outcome="pass",
        error_reason=None,
        http_status=200,
        latency_s=0.5,
        input_tokens=10,
        output_tokens=3,
        response_model="smollm2",
        system_fingerprint="fp",
    )
    fields.update(overrides)
    return ProbeResult(**fields)  # type: ignore[arg-type]


def test_probe_tracer_finish_records_the_result(spans: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    provider, exporter = spans
    tracer = ProbeTracer(provider)
    with tracer.probe_span(_target(provider="azure-openai", api_version="2024-06-01"), ITEM, 0.7) as span:
        tracer.finish(
            span,
            _result(
                score=None,
                outcome="error",
                error_reason="http_429",
                http_status=429,
                input_tokens=None,
                output_tokens=None,
                response_model=None,
            ),
        )
    s = _only(exporter)
    a = dict(s.attributes or {})
    assert a["gen_ai.provider.name"] == "azure.ai.openai"
    assert a["gen_ai.request.temperature"] == 0.7
    assert a["error.type"] == "http_429"
    assert a["http.response.status_code"] == 429
    assert a["capmon.outcome"] == "error"
    assert "gen_ai.usage.input_tokens" not in a
    assert s.status.status_code is StatusCode.ERROR


def test_probe_tracer_finish_on_success(spans: tuple[TracerProvider, InMemorySpanExporter]) -> None:
    provider, exporter = spans
    tracer = ProbeTracer(provider)
    with tracer.probe_span(_target(), ITEM) as span:
        tracer.finish(span, _result(), None)
    a = dict(_only(exporter).attributes or {})
    assert (a["capmon.outcome"], a["capmon.score"], a["gen_ai.usage.output_tokens"]) == ("pass", 1.0, 3)


def test_without_a_tracer_the_span_is_a_no_op() -> None:
    with probe_span(None, _target(), ITEM) as span:
        assert not span.is_recording()
        record_response(span, ChatResponse(text="x"), Verdict(score=1.0, extracted="x"))


def test_tracing_is_off_unless_an_otlp_endpoint_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not tracing_enabled({})
    assert tracing_enabled({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert tracing_enabled({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"})
    assert not tracing_enabled({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"})
    assert not tracing_enabled(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}
    )
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert setup_tracing(Settings()) is None


def test_setup_installs_no_global_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    before = trace.get_tracer_provider()
    exporter = InMemorySpanExporter()
    provider = setup_tracing(Settings(), exporter=exporter)
    assert provider is not None
    try:
        assert trace.get_tracer_provider() is before
        assert provider.resource.attributes["service.name"] == "capmon"
        with ProbeTracer(provider).probe_span(_target(), ITEM):
            pass
        provider.force_flush()
        assert [s.name for s in exporter.get_finished_spans()] == ["chat smollm2"]
    finally:
        provider.shutdown()


class _Receiver(BaseHTTPRequestHandler):
    """A minimal OTLP/HTTP traces endpoint: keeps each request's path, headers and body."""

    received: list[tuple[str, dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        reply = b""  # an empty ExportTraceServiceResponse
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def otlp_receiver() -> Iterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    received: list[tuple[str, dict[str, str], bytes]] = []
    handler = type("Handler", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def test_spans_reach_a_real_otlp_http_receiver(
    otlp_receiver: tuple[str, list[tuple[str, dict[str, str], bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = otlp_receiver
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "capmon-test")
    provider = setup_tracing(Settings())
    assert provider is not None
    tracer = ProbeTracer(provider)
    try:
        with tracer.probe_span(_target(), ITEM) as span:
            tracer.finish(span, _result())
        with tracer.probe_span(_target(), ITEM) as span:
            tracer.finish(
                span, _result(score=None, outcome="error", error_reason="timeout", http_status=None)
            )
        assert provider.force_flush(10_000)
    finally:
        provider.shutdown()

    assert received, "the exporter sent nothing"
    for path, headers, body in received:
        assert path == "/v1/traces"
        assert headers.get("content-type") == "application/x-protobuf"
        assert API_KEY.encode() not in body and HEADER_SECRET.encode() not in body
        assert ITEM.prompt.encode() not in body
    decoded = [ExportTraceServiceRequest.FromString(body) for _, _, body in received]
    resource_attrs = {
        kv.key: kv.value.string_value
        for req in decoded
        for rs in req.resource_spans
        for kv in rs.resource.attributes
    }
    assert resource_attrs["service.name"] == "capmon-test"
    spans_out = [s for req in decoded for rs in req.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert [s.name for s in spans_out] == ["chat smollm2", "chat smollm2"]

    def attrs(s: object) -> dict[str, object]:
        out: dict[str, object] = {}
        for kv in s.attributes:  # type: ignore[attr-defined]
            kind = kv.value.WhichOneof("value")
            out[kv.key] = getattr(kv.value, kind)
        return out

    ok, failed = (attrs(s) for s in spans_out)
    assert spans_out[0].kind == 3  # SPAN_KIND_CLIENT in the OTLP enum
    assert ok["gen_ai.operation.name"] == "chat"
    assert ok["gen_ai.provider.name"] == "openai"
    assert ok["gen_ai.request.model"] == "smollm2"
    assert ok["gen_ai.request.max_tokens"] == 64
    assert ok["gen_ai.response.model"] == "smollm2"
    assert ok["gen_ai.usage.input_tokens"] == 10
    assert ok["gen_ai.usage.output_tokens"] == 3
    assert ok["server.address"] == "model.example"
    assert ok["server.port"] == 8080
    assert ok["capmon.family"] == "arithmetic"
    assert ok["capmon.difficulty"] == 4
    assert ok["capmon.novelty"] == 2
    assert ok["capmon.score"] == 1.0
    assert ok["capmon.outcome"] == "pass"
    assert "error.type" not in ok
    assert failed["error.type"] == "timeout"
    assert failed["capmon.outcome"] == "error"
    assert spans_out[1].status.code == 2  # STATUS_CODE_ERROR
