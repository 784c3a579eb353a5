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


def outcome_for(score: float | None) -> Outcome:
    """pass/fail from a verifier score (None means the probe errored)."""
    if score is None:
        return "error"
    return "pass" if score >= PASS_THRESHOLD else "fail"
