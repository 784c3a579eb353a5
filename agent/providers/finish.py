"""Why a model stopped, in one vocabulary across providers: stop, length, content_filter, tool, other.

Each provider spells it differently (``finish_reason``, ``stop_reason``, ``finishReason``, the
Responses API's ``status`` and ``incomplete_details.reason``); the ledger keeps the normalised word,
so the truncation and refusal signals (``agent.stats.signals``) read the same column whatever the
endpoint. A value a provider documents but that fits none of the four is ``other``, as is any value
capmon does not know (a new one, or an endpoint's invention); a missing value stays None.
"""

from __future__ import annotations

from typing import Literal

FinishReason = Literal["stop", "length", "content_filter", "tool", "other"]
FINISH_REASONS: tuple[FinishReason, ...] = ("stop", "length", "content_filter", "tool", "other")

_OPENAI: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool",
    "function_call": "tool",  # the deprecated single-function form
}
_ANTHROPIC: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool",
    "refusal": "content_filter",  # the streaming classifiers stopped the answer
    "pause_turn": "other",
}
_GEMINI: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "LANGUAGE": "other",
    "MALFORMED_FUNCTION_CALL": "tool",
    "UNEXPECTED_TOOL_CALL": "tool",
    "OTHER": "other",
    "FINISH_REASON_UNSPECIFIED": "other",
}
#: The Responses adapter reports ``status`` ("completed"), else ``incomplete_details.reason``, and
#: "refusal" when the output held a refusal part.
_RESPONSES: dict[str, FinishReason] = {
    "completed": "stop",
    "max_output_tokens": "length",
    "content_filter": "content_filter",
    "refusal": "content_filter",
    "incomplete": "other",
    "in_progress": "other",
}
_TABLES: dict[str, dict[str, FinishReason]] = {
    "openai": _OPENAI,
    "azure-openai": _OPENAI,
    "anthropic": _ANTHROPIC,
    "gemini": _GEMINI,
    "openai-responses": _RESPONSES,
}


def normalise_finish(provider: str, raw: str | None) -> FinishReason | None:
    """The normalised finish reason of a provider's raw value; None when the endpoint sent none."""
    if raw is None:
        return None
    return _TABLES.get(provider, _OPENAI).get(raw, "other")
