"""The record of one probe: what was asked, what came back, how it scored. The ledger's row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["pass", "fail", "error"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "fail", "error")
#: A score at or above this counts as a pass (scores below 1 are partial credit).
PASS_THRESHOLD = 1.0


@dataclass(frozen=True)
class ProbeResult:
    """One probe's result. ``outcome == "error"`` is an availability failure: ``score`` is None."""

    ts: float
    run_id: str
    target: str
    provider: str
    model: str
    family: str
    difficulty: int
    novelty: int
    item_index: int
    seed: int
    item_key: str
    static: bool
    canary: bool
    generator_version: str
    prompt: str
    response: str | None
    extracted: str | None
    canonical: str | None
    reference: str
    score: float | None
    outcome: Outcome
    error_reason: str | None
    http_status: int | None
    latency_s: float
    input_tokens: int | None
    output_tokens: int | None
    response_model: str | None
    system_fingerprint: str | None
    request_id: str | None = None
    group: str | None = None
    cost_usd: float | None = None
    temperature: float | None = None
    #: Why the model stopped, normalised (``agent.providers.finish``): stop, length, content_filter, tool, other.
    finish_reason: str | None = None
    #: Calls made for this probe (1 + retries); None in rows written before the ledger kept it.
    attempts: int | None = None
    #: Seconds from sending the (last) request to the first answer text; only for streamed answers.
    ttft_s: float | None = None
    #: The attribution headers kept (``agent.providers.base.ATTRIBUTION_HEADERS``), a JSON object.
    headers: str | None = None
    #: Each failed attempt in order, a JSON list of {reason, status, seconds, wait_s (before the next)}.
    attempt_log: str | None = None
    #: The request as sent (``ProviderAdapter.request_record``: secrets redacted, prompt marked), JSON.
    request: str | None = None


def outcome_for(score: float | None) -> Outcome:
    """pass/fail from a verifier score (None means the probe errored)."""
    if score is None:
        return "error"
    return "pass" if score >= PASS_THRESHOLD else "fail"
