"""OpenTelemetry traces: one CLIENT span per probe request, following the GenAI semantic conventions.

Tracing is off unless the standard ``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` variable is set (and ``OTEL_SDK_DISABLED`` is not true); then
spans go over OTLP/HTTP. Nothing is installed globally: ``setup_tracing`` returns a provider the
daemon owns and shuts down. Spans carry what the request was and how it ended — never the API key,
headers, the prompt or the response text.

How the runner uses it::

    tracer = ProbeTracer(provider)                  # provider from setup_tracing(settings)
    with tracer.probe_span(target_cfg, item) as span:
        ...call the endpoint, score, build the ProbeResult...
        tracer.finish(span, result, error)          # error: the ProviderError or None

or, without ``ProbeTracer``: ``probe_span(tracer, target_cfg, item)`` and
``record_response(span, response_or_error, verdict)``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from agent.config import Provider, TargetConfig
from agent.errors import ProviderError
from agent.ledger.results import ProbeResult, outcome_for
from agent.providers.base import ChatResponse

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from agent.config import Settings
    from probes.base import Item, Verdict

TRACER_NAME = "capmon"
ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
#: capmon provider names -> ``gen_ai.provider.name`` values of the semantic conventions.
GEN_AI_PROVIDERS: Mapping[Provider, str] = {
    "openai": "openai",
    "openai-responses": "openai",
    "azure-openai": "azure.ai.openai",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
}


def tracing_enabled(env: Mapping[str, str] | None = None) -> bool:
    """True when an OTLP traces endpoint is configured and the SDK is not disabled."""
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return any(env.get(name, "").strip() for name in ENDPOINT_VARS)


def setup_tracing(
    settings: Settings | None = None,
    *,
    env: Mapping[str, str] | None = None,
    exporter: SpanExporter | None = None,
) -> TracerProvider | None:
    """A tracer provider exporting over OTLP/HTTP, or None when tracing is not configured."""
    if exporter is None:
        if not tracing_enabled(env):
            return None
        # Imported here: the exporter pulls in protobuf and requests, which a run without tracing never needs.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # The exporter reads the endpoint, headers, timeout and compression from OTEL_EXPORTER_OTLP_*.
        exporter = OTLPSpanExporter()
    # The SDK is imported only when spans are exported (36 modules, ~1.4 MiB a run without tracing never needs).
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from agent import __version__

    attributes: dict[str, str | int] = {"service.version": __version__}
    if settings is not None and settings.shard.count > 1 and settings.shard.index is not None:
        attributes["capmon.shard.index"] = settings.shard.index
        attributes["capmon.shard.count"] = settings.shard.count
    # Resource.create adds OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME; "capmon" when neither names it.
    resource = Resource.create(attributes)
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": "capmon"}))
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def request_attributes(
    target: TargetConfig, item: Item, temperature: float | None = None
) -> dict[str, object]:
    """Span attributes known before the request is sent."""
    url = target.base_url
    attrs: dict[str, object] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": GEN_AI_PROVIDERS.get(target.provider, target.provider),
        "gen_ai.request.model": target.model,
        "gen_ai.request.max_tokens": target.max_tokens,
        "gen_ai.request.temperature": target.temperature if temperature is None else temperature,
        "capmon.target": target.name,
        "capmon.family": item.family,
        "capmon.difficulty": item.difficulty,
        "capmon.novelty": item.novelty,
        "capmon.static": item.static,
    }
    if url.host:
        attrs["server.address"] = url.host
    if url.port is not None:
        attrs["server.port"] = url.port
    return attrs


@contextmanager
def probe_span(
    tracer: Tracer | None, target: TargetConfig, item: Item, temperature: float | None = None
) -> Iterator[Span]:
    """A CLIENT span named ``chat {model}`` around one probe request (a no-op span without a tracer)."""
    if tracer is None:
        yield trace.INVALID_SPAN
        return
    # The SDK would put the exception's text in the status and an event; it may quote a request, so
    # only the exception's class name is recorded.
    with tracer.start_as_current_span(
        f"chat {target.model}",
        kind=SpanKind.CLIENT,
        attributes=request_attributes(target, item, temperature),  # type: ignore[arg-type]
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as exc:
            span.set_attribute("error.type", type(exc).__name__)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def record_response(
    span: Span, response_or_error: ChatResponse | ProviderError, verdict: Verdict | None = None
) -> None:
    """Put what came back on the span: model, usage, or the error class; and the verdict."""
    if not span.is_recording():
        return
    if isinstance(response_or_error, ProviderError):
        _record_error(span, response_or_error.reason, response_or_error.status)
        return
    response = response_or_error
    if response.response_model:
        span.set_attribute("gen_ai.response.model", response.response_model)
    if response.input_tokens is not None:
        span.set_attribute("gen_ai.usage.input_tokens", response.input_tokens)
    if response.output_tokens is not None:
        span.set_attribute("gen_ai.usage.output_tokens", response.output_tokens)
    if response.finish_reason:
        span.set_attribute("gen_ai.response.finish_reasons", [response.finish_reason])
    if response.request_id:
        span.set_attribute("gen_ai.response.id", response.request_id)
    span.set_attribute("http.response.status_code", response.status)
    if verdict is not None:
        span.set_attribute("capmon.score", verdict.score)
        span.set_attribute("capmon.outcome", outcome_for(verdict.score))


def record_result(span: Span, result: ProbeResult, error: ProviderError | None = None) -> None:
    """Put a finished probe's result on the span (what ``ProbeTracer.finish`` does)."""
    if not span.is_recording():
        return
    if result.response_model:
        span.set_attribute("gen_ai.response.model", result.response_model)
    if result.input_tokens is not None:
        span.set_attribute("gen_ai.usage.input_tokens", result.input_tokens)
    if result.output_tokens is not None:
        span.set_attribute("gen_ai.usage.output_tokens", result.output_tokens)
    if result.request_id:
        span.set_attribute("gen_ai.response.id", result.request_id)
    span.set_attribute("capmon.outcome", result.outcome)
    if result.score is not None:
        span.set_attribute("capmon.score", result.score)
    if result.outcome == "error":
        reason = error.reason if error is not None else (result.error_reason or "error")
        status = error.status if error is not None else result.http_status
        _record_error(span, reason, status)
    elif result.http_status is not None:
        span.set_attribute("http.response.status_code", result.http_status)


def _record_error(span: Span, reason: str, status: int | None) -> None:
    span.set_attribute("error.type", reason)
    span.set_attribute("capmon.outcome", "error")
    if status is not None:
        span.set_attribute("http.response.status_code", status)
    # Only the short reason: a message could echo request details.
    span.set_status(Status(StatusCode.ERROR, reason))


class ProbeTracer:
    """The runner's handle: spans from one provider's tracer."""

    def __init__(self, provider: trace.TracerProvider) -> None:
        from agent import __version__

        self._tracer = provider.get_tracer(TRACER_NAME, __version__)

    def probe_span(
        self, target: TargetConfig, item: Item, temperature: float | None = None
    ) -> AbstractContextManager[Span]:
        """Context manager for one probe request's span."""
        return probe_span(self._tracer, target, item, temperature)

    def finish(self, span: Span, result: ProbeResult, error: ProviderError | None = None) -> None:
        """Record the probe's result on its span before the span ends."""
        record_result(span, result, error)
