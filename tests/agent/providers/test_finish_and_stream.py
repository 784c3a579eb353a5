"""Finish reasons in one vocabulary per provider, the event splitter, and the stored request record."""

from __future__ import annotations

import json

import httpx
import pytest

from agent.config import TargetConfig
from agent.errors import BadResponse
from agent.providers import ChatRequest, adapter_for
from agent.providers.base import PROMPT_MARK
from agent.providers.finish import normalise_finish
from agent.providers.limits import MAX_EVENT_BYTES
from agent.providers.stream import EventSplitter

#: (provider, raw value as the provider documents it, normalised)
TABLE = [
    ("openai", "stop", "stop"),
    ("openai", "length", "length"),
    ("openai", "content_filter", "content_filter"),
    ("openai", "tool_calls", "tool"),
    ("openai", "function_call", "tool"),
    ("azure-openai", "content_filter", "content_filter"),
    ("anthropic", "end_turn", "stop"),
    ("anthropic", "stop_sequence", "stop"),
    ("anthropic", "max_tokens", "length"),
    ("anthropic", "tool_use", "tool"),
    ("anthropic", "refusal", "content_filter"),
    ("anthropic", "pause_turn", "other"),
    ("gemini", "STOP", "stop"),
    ("gemini", "MAX_TOKENS", "length"),
    ("gemini", "SAFETY", "content_filter"),
    ("gemini", "RECITATION", "content_filter"),
    ("gemini", "PROHIBITED_CONTENT", "content_filter"),
    ("gemini", "MALFORMED_FUNCTION_CALL", "tool"),
    ("gemini", "OTHER", "other"),
    ("openai-responses", "completed", "stop"),
    ("openai-responses", "max_output_tokens", "length"),
    ("openai-responses", "content_filter", "content_filter"),
    ("openai-responses", "refusal", "content_filter"),
    ("openai", "eos", "other"),  # unknown values are other, never guessed
    ("gemini", "stop", "other"),  # the spelling is the provider's: Gemini says STOP
]


@pytest.mark.parametrize(("provider", "raw", "expected"), TABLE)
def test_finish_reason_is_normalised(provider: str, raw: str, expected: str) -> None:
    assert normalise_finish(provider, raw) == expected


def test_a_missing_finish_reason_stays_missing() -> None:
    assert normalise_finish("openai", None) is None


def test_events_are_cut_across_chunks() -> None:
    s = EventSplitter()
    assert s.feed(b'data: {"a"') == []
    assert s.feed(b': 1}\r\n\r\n: comment\n\nevent: x\ndata: 2\ndata: 3\n') == [b'{"a": 1}']
    assert s.feed(b"\n") == [b"2\n3"]
    assert s.feed(b"data: [DONE]") == []
    assert s.close() == [b"[DONE]"]


def test_an_event_that_never_ends_is_refused_at_the_bound() -> None:
    s = EventSplitter()
    s.feed(b"data: " + b"x" * (MAX_EVENT_BYTES - 100))
    with pytest.raises(BadResponse) as info:
        s.feed(b"x" * 200)
    assert info.value.reason == "too_large"


def test_request_record_shows_the_request_without_secrets() -> None:
    target = TargetConfig(
        name="t",
        base_url="https://api.example/v1",  # type: ignore[arg-type]
        model="m",
        headers={"X-Gateway-Token": "gw-secret-123"},  # type: ignore[dict-item]
    )
    adapter = adapter_for(target, httpx.AsyncClient(), "sk-very-secret")
    record = adapter.request_record(ChatRequest(prompt="What is 2 + 2?", max_tokens=16, temperature=0.0))
    assert "sk-very-secret" not in record and "gw-secret-123" not in record
    data = json.loads(record)
    assert data["url"] == "https://api.example/v1/chat/completions"
    assert data["headers"] == {
        "Authorization": "[redacted]",
        "X-Gateway-Token": "[redacted]",
        "Accept-Encoding": "gzip, deflate",
    }
    assert data["body"]["messages"] == [{"role": "user", "content": PROMPT_MARK}]
    assert data["body"]["stream"] is True and data["body"]["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("provider", ["openai", "azure-openai", "anthropic", "gemini", "openai-responses"])
def test_request_record_is_the_request_as_sent_with_the_prompt_marked(provider: str) -> None:
    # Oracle: the body each adapter actually sends, with the prompt's JSON text swapped for the mark.
    target = TargetConfig(
        name="t", provider=provider, base_url="https://x/v1", model="m", api_version="1"  # type: ignore[arg-type]
    )
    adapter = adapter_for(target, httpx.AsyncClient(), "sk-1")
    for prompt, temperature, system in [("What is 2 + 2?", 0.0, None), ("Sort: b a", 0.7, "Be brief.")]:
        request = ChatRequest(prompt=prompt, max_tokens=16, temperature=temperature, system=system)
        _, _, body = adapter.prepare(request)
        sent = json.dumps(body, sort_keys=True).replace(json.dumps(prompt), json.dumps(PROMPT_MARK))
        record = json.loads(adapter.request_record(request))
        assert json.dumps(record["body"], sort_keys=True) == sent
        other = ChatRequest(prompt=prompt + " again", max_tokens=16, temperature=temperature, system=system)
        assert adapter.request_record(other) == adapter.request_record(request)  # the prompt is not in it
    cold = json.loads(adapter.request_record(ChatRequest(prompt="x", max_tokens=16, temperature=0.0)))
    warm = json.loads(adapter.request_record(ChatRequest(prompt="x", max_tokens=16, temperature=0.7)))
    assert cold != warm


def test_streaming_is_on_for_openai_only_by_default() -> None:
    def t(provider: str, **kw: object) -> TargetConfig:
        return TargetConfig(name="t", provider=provider, base_url="https://x/v1", model="m", api_version="1", **kw)  # type: ignore[arg-type]

    assert t("openai").streams and not t("anthropic").streams and not t("azure-openai").streams
    assert t("azure-openai", stream=True).streams and not t("openai", stream=False).streams
    with pytest.raises(ValueError, match="not streamed"):
        t("gemini", stream=True)


def test_space_separators_other_than_space_become_space() -> None:
    """A no-break space in an id is not printable (Python's isprintable): it became a flaky
    hypothesis failure in test_hostile_fields; it is now a plain space."""
    from agent.providers.base import clean_str

    assert clean_str("0\xa00") == "0 0" and clean_str("a\u3000b\u200bc") == "a bc"
