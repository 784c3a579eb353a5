"""The report as plain data: everything ``render_html`` and ``render_markdown`` show, nothing they compute."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Ratio:
    """k passes of n scored probes with an interval (Wilson unless stated)."""

    k: int
    n: int
    lower: float
    upper: float

    @property
    def value(self) -> float | None:
        """k/n, or None when nothing was scored."""
        return self.k / self.n if self.n else None


@dataclass(frozen=True)
class TargetSummary:
    """One row of the summary table."""

    target: str
    provider: str
    model: str
    group: str | None
    probes: int
    errors: int
    error_reasons: dict[str, int]
    pass_ratio: Ratio
    latency_p50_s: float | None
    latency_p95_s: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    cost_per_correct_usd: float | None
    response_models: list[str]
    ability_logits: float | None = None
    ability_lower: float | None = None
    ability_upper: float | None = None


@dataclass(frozen=True)
class CurvePoint:
    """Pass ratio of one target at one difficulty level of one family."""

    target: str
    family: str
    difficulty: int
    ratio: Ratio


@dataclass(frozen=True)
class FrontierRow:
    """Difficulty level passed half the time, with its interval; ``censored`` says it lies off the scale."""

    target: str
    family: str
    d50: float
    lower: float
    upper: float
    censored: str
    n: int


@dataclass(frozen=True)
class GradientRow:
    """Pass ratio per novelty level and the slope (change per level) with its interval."""

    target: str
    family: str
    by_novelty: dict[int, Ratio]
    slope: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class LeakageRow:
    """Static-minus-fresh pass ratio with its interval (positive: static items are easier for it)."""

    target: str
    family: str
    static: Ratio
    fresh: Ratio
    gap: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class ConsistencyRow:
    """Share of problems answered the same way at every novelty rendering."""

    target: str
    family: str
    items: int
    ratio: float | None


@dataclass(frozen=True)
class DriftBucket:
    """Pass ratio of one target in one time bucket."""

    target: str
    start: float
    end: float
    ratio: Ratio


@dataclass(frozen=True)
class CanaryExample:
    """One canary prompt's answer before and after a change point."""

    prompt: str
    before: str | None
    before_ts: float
    after: str | None
    after_ts: float


@dataclass(frozen=True)
class ChangePoint:
    """A change point the detectors recorded, with what moved (``agent.stats.signals.movement``)."""

    target: str
    ts: float
    scope: str
    detector: str
    direction: str
    size: float | None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    example: CanaryExample | None = None

    @property
    def headline(self) -> str:
        """The moved signals in one line ("" when none moved)."""
        return "; ".join(str(m.get("text")) for m in self.evidence if m.get("moved"))


@dataclass(frozen=True)
class PairedRow:
    """Target versus the group's baseline target on identical items (paired by item and novelty)."""

    group: str
    target: str
    baseline: str
    family: str
    pairs: int
    target_ratio: float | None
    baseline_ratio: float | None
    both_pass: int
    only_target: int
    only_baseline: int
    neither: int
    difference: float | None
    lower: float | None
    upper: float | None
    p_value: float | None


@dataclass(frozen=True)
class GroupScorecard:
    """Side-by-side scorecard of one comparison group."""

    group: str
    baseline: str
    members: list[str]
    rows: list[PairedRow]
    cost_per_correct_usd: dict[str, float | None]
    pass_ratio: dict[str, Ratio]


@dataclass(frozen=True)
class VersionRow:
    """Which generator version of a family produced an endpoint's scored fresh probes, and when."""

    family: str
    target: str
    version: str
    probes: int
    first_ts: float
    last_ts: float


@dataclass(frozen=True)
class Report:
    """Everything in one capability report."""

    since: float
    until: float
    generated: float
    targets: list[str]
    families: list[str]
    confidence: float
    summaries: list[TargetSummary]
    curves: list[CurvePoint]
    frontiers: list[FrontierRow]
    gradients: list[GradientRow]
    leakage: list[LeakageRow]
    consistency: list[ConsistencyRow]
    drift: list[DriftBucket]
    change_points: list[ChangePoint]
    groups: list[GroupScorecard]
    notes: list[str] = field(default_factory=list)
    versions: list[VersionRow] = field(default_factory=list)

    @property
    def levels(self) -> list[int]:
        """The difficulty levels probed in the period (curves and charts span these, not a fixed scale)."""
        return sorted({p.difficulty for p in self.curves})
