"""The frozen view of all statistics that the metrics (and pages) read: computed once per probe run."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.stats.frontier import Ability, Frontier
from agent.stats.gradient import Gradient
from agent.stats.leakage import Difference
from agent.stats.paired import PairedResult

ALL = "all"


@dataclass(frozen=True, slots=True)
class RatioCell:
    """Pass ratio of one (target, family, difficulty, novelty) cell — or an "all" aggregate — in a window."""

    target: str
    family: str
    difficulty: str
    novelty: str
    window: str
    passes: int
    total: int
    ratio: float
    lower: float
    upper: float


@dataclass(frozen=True, slots=True)
class DetectorView:
    """One detector's statistic, threshold and latched alarm flags."""

    target: str
    family: str
    detector: str
    direction: str
    statistic: float
    threshold: float
    detected: bool


@dataclass(frozen=True, slots=True)
class ArmingView:
    """Whether a configured detector can fire now, and if not how many outcomes (and seconds) it still needs.

    ``probes_to_armed`` counts warm-up outcomes still to come (0 once designed; an alarmed detector is
    not armed but needs no warm-up: its recovery test or an acknowledgement re-arms it);
    ``seconds_to_armed`` estimates them from the target's cadence.
    """

    target: str
    family: str
    detector: str
    armed: bool
    probes_to_armed: int
    seconds_to_armed: float


@dataclass(frozen=True, slots=True)
class PairedView:
    """A target against its group's baseline target on identical items."""

    group: str
    target: str
    baseline_target: str
    family: str
    result: PairedResult


@dataclass(frozen=True, slots=True)
class FingerprintView:
    """Agreement of canary answers with the baseline answers, and whether the model looks changed."""

    target: str
    agreement: float | None
    changed: bool
    warming_up: bool
    id_changed: bool = False


@dataclass(frozen=True, slots=True)
class SignalView:
    """One target's signals (``agent.stats.signals``): baseline against recent values, and alarms."""

    target: str
    #: signal -> (baseline value, recent value): truncation, refusal (shares), output_length (median),
    #: latency and ttft (p50 seconds)
    values: dict[str, tuple[float | None, float | None]]
    #: budgeted test -> latched alarm
    alarms: dict[str, bool]
    #: info signals that changed since the baseline: ``served_model``, ``header NAME``
    info: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """Everything the statistics metrics need, computed from the ledger over the configured windows."""

    ratios: tuple[RatioCell, ...] = ()
    frontiers: dict[tuple[str, str], Frontier] = field(default_factory=dict)
    abilities: dict[str, Ability] = field(default_factory=dict)
    gradients: dict[tuple[str, str], Gradient] = field(default_factory=dict)
    leakage: dict[tuple[str, str], Difference] = field(default_factory=dict)
    consistency: dict[tuple[str, str], float] = field(default_factory=dict)
    detectors: tuple[DetectorView, ...] = ()
    change_points: dict[tuple[str, str, str, str], int] = field(default_factory=dict)
    fingerprints: dict[str, FingerprintView] = field(default_factory=dict)
    refusal: dict[str, float] = field(default_factory=dict)
    response_length: dict[str, float] = field(default_factory=dict)
    baselines: dict[tuple[str, str], float] = field(default_factory=dict)
    paired: tuple[PairedView, ...] = ()
    cost_per_correct: dict[str, float] = field(default_factory=dict)
    arming: tuple[ArmingView, ...] = ()
    signals: tuple[SignalView, ...] = ()
    computed_at: float = 0.0
