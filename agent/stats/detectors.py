"""Pass-ratio detectors behind one protocol, and the per-scope state that holds them.

A detector has a name, a direction (``drop`` or ``rise``), a design (the ``CusumDesign`` of the arm
it reports), ``update`` (feed one outcome; True on the probe that crosses the threshold) and
``state`` (its JSON form, design included). ``detector_specs`` lists the detectors each scope gets:
adding a detector means adding a spec there, nothing else (the engine, the metrics, ``capmon
baseline show`` and the restore path read name, direction and design from the protocol).

The stored JSON layout is the one capmon has always written: a CUSUM as ``{"design": ..., "state":
...}``, the grid GLR as ``{"glr": {"arms": [...]}}``.

Lifecycle: a detector is *armed* until it crosses its threshold; then it is *alarmed* (latched) and a
recovery CUSUM (``recovery_cusum``: the fired arm's p1 back to its p0) watches for a return to the
baseline; when that crosses, the detector is re-armed from zero against the same baseline.
``capmon baseline ack`` re-arms it at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from agent.stats.cusum import GLR_GRID, Cusum, CusumDesign, Direction, GridGlr, alternative, design
from agent.stats.fingerprint import FingerprintBaseline, FingerprintMonitor

log = logging.getLogger(__name__)


class Detector(Protocol):
    """One sequential detector of a scope's pass ratio."""

    name: str

    @property
    def direction(self) -> Direction:
        """``drop`` or ``rise``: which change it raises an alarm for."""
        ...

    @property
    def design(self) -> CusumDesign | None:
        """The design of the arm it reports (the arm closest to its threshold); None without arms."""
        ...

    def update(self, passed: bool) -> bool:
        """Feed one outcome; True on the probe that crosses the threshold."""
        ...

    def lead(self) -> Cusum | None:
        """The running CUSUM whose statistic and change estimate the detector reports."""
        ...

    def reset(self) -> None:
        """Back to zero after an alarm."""
        ...

    def state(self) -> dict[str, Any]:
        """JSON-able state, design included."""
        ...


def progress(detector: Detector) -> float:
    """Statistic as a fraction of the threshold (1 at alarm); 0 for a detector without arms."""
    arm = detector.lead()
    return 0.0 if arm is None else arm.state / arm.design.threshold


@dataclass
class CusumDetector:
    """A Bernoulli CUSUM for one shift size."""

    name: str
    cusum: Cusum

    @property
    def direction(self) -> Direction:
        """From the design: p1 below p0 is a drop."""
        return self.cusum.design.direction

    @property
    def design(self) -> CusumDesign:
        """The CUSUM's design."""
        return self.cusum.design

    def update(self, passed: bool) -> bool:
        """Feed one outcome."""
        return self.cusum.update(passed)

    def lead(self) -> Cusum:
        """The CUSUM itself."""
        return self.cusum

    def reset(self) -> None:
        """Back to zero."""
        self.cusum.reset()

    def state(self) -> dict[str, Any]:
        """``{"design": ..., "state": ..., ...}``."""
        return {"design": self.cusum.design.to_dict(), **self.cusum.to_dict()}


@dataclass
class GlrDetector:
    """The unknown-shift grid GLR: CUSUM arms over a grid of shifts, reported by the leading arm."""

    name: str
    glr: GridGlr
    fallback_direction: Direction = "drop"

    @property
    def direction(self) -> Direction:
        """The arms' direction (all arms share it)."""
        return self.glr.arms[0].design.direction if self.glr.arms else self.fallback_direction

    @property
    def design(self) -> CusumDesign | None:
        """The leading arm's design."""
        arm = self.glr.leading()
        return None if arm is None else arm.design

    def update(self, passed: bool) -> bool:
        """Feed every arm; True when any crosses."""
        return self.glr.update(passed)

    def lead(self) -> Cusum | None:
        """The arm closest to its threshold."""
        return self.glr.leading()

    def reset(self) -> None:
        """Every arm back to zero."""
        self.glr.reset()

    def state(self) -> dict[str, Any]:
        """``{"glr": {"arms": [...]}}``."""
        return {"glr": self.glr.to_dict()}


@dataclass(frozen=True)
class DetectorSpec:
    """How to design one detector of a scope: its name, direction and shift (None: unknown, grid GLR)."""

    name: str
    direction: Direction
    shift: float | None = None

    def has_room(self, p0: float) -> bool:
        """Whether the shift (the grid's smallest, for the GLR) fits between p0 and the edges."""
        return alternative(p0, self.shift if self.shift is not None else min(GLR_GRID), self.direction) is not None

    def design(self, p0: float, arl0: float, baseline_n: int | None) -> Detector | None:
        """The detector for baseline ``p0`` at in-control ARL ``arl0``; None when it cannot be designed."""
        if self.shift is None:
            glr = GridGlr.build(p0, arl0, self.direction, baseline_n=baseline_n)
            return GlrDetector(self.name, glr, self.direction) if glr.arms else None
        p1 = alternative(p0, self.shift, self.direction)
        if p1 is None:
            return None  # no room for that shift at this baseline
        try:
            return CusumDetector(self.name, Cusum(design(p0, p1, arl0, baseline_n=baseline_n)))
        except ValueError as exc:
            log.info("detector %s not designed: %s", self.name, exc)
            return None


def detector_specs(shifts: list[float]) -> list[DetectorSpec]:
    """The pass-ratio detectors of every scope: a drop CUSUM per shift, a rise CUSUM, the drop GLR."""
    specs = [DetectorSpec(f"cusum_drop_{round(s * 100)}", "drop", s) for s in shifts]
    specs.append(DetectorSpec(f"cusum_rise_{round(min(shifts) * 100)}", "rise", min(shifts)))
    specs.append(DetectorSpec("glr_drop", "drop"))
    return specs


def recovery_cusum(arm: CusumDesign) -> Cusum | None:
    """The CUSUM that declares a return to baseline after ``arm`` fired: p1 back to p0, at the arm's ARL0.

    Designed as known rates (no estimation guard): its false "recovery" while the change persists
    only re-arms the detector, which then fires again on the same change.
    """
    try:
        return Cusum(design(arm.p1, arm.p0, arm.arl0))
    except ValueError as exc:
        log.info("no recovery test for %s -> %s: %s", arm.p0, arm.p1, exc)
        return None


def cusum_state(c: Cusum) -> dict[str, Any]:
    """A CUSUM with its design, as stored."""
    return {"design": c.design.to_dict(), **c.to_dict()}


def cusum_from_state(data: dict[str, Any]) -> Cusum:
    """Inverse of ``cusum_state``."""
    c = Cusum(CusumDesign.from_dict(data["design"]))
    c.load(data)
    return c


def restore(name: str, data: dict[str, Any]) -> Detector:
    """A detector from its ``state()``."""
    if "glr" in data:
        return GlrDetector(name, GridGlr.from_dict(data["glr"]))
    cusum = Cusum(CusumDesign.from_dict(data["design"]))
    cusum.load(data)
    return CusumDetector(name, cusum)


@dataclass
class ScopeState:
    """Baseline, warm-up counts, detectors, latched flags and recovery tests for one (target, family or "all")."""

    p0: float | None = None
    n0: int = 0
    pinned: bool = False
    warm_k: int = 0
    warm_n: int = 0
    detectors: dict[str, Detector] = field(default_factory=dict)
    latched: dict[str, bool] = field(default_factory=dict)
    #: The family's generator version the baseline and detectors were learned on (None: pooled
    #: scope "all", or state written before versions were tracked: the next result's version is adopted).
    generator_version: str | None = None
    recovery: dict[str, Cusum] = field(default_factory=dict)

    def acknowledge(self, name: str | None = None) -> list[str]:
        """Re-arm alarmed detectors (one, or all): flag down, no recovery watch, statistic at zero."""
        acked = [n for n, on in sorted(self.latched.items()) if on and name in (None, n)]
        for n in acked:
            self.latched[n] = False
            self.recovery.pop(n, None)
            if n in self.detectors:
                self.detectors[n].reset()
        return acked

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state (detector designs included)."""
        return {
            "generator_version": self.generator_version,
            "warm_k": self.warm_k,
            "warm_n": self.warm_n,
            "latched": self.latched,
            "detectors": {name: det.state() for name, det in self.detectors.items()},
            "recovery": {name: cusum_state(c) for name, c in self.recovery.items()},
        }

    def load(self, data: dict[str, Any]) -> None:
        """Restore ``to_dict`` output."""
        self.warm_k, self.warm_n = int(data.get("warm_k", 0)), int(data.get("warm_n", 0))
        version = data.get("generator_version")
        self.generator_version = None if version is None else str(version)
        self.latched = {str(k): bool(v) for k, v in data.get("latched", {}).items()}
        self.detectors = {str(name): restore(str(name), d) for name, d in data.get("detectors", {}).items()}
        self.recovery = {str(name): cusum_from_state(d) for name, d in data.get("recovery", {}).items()}


@dataclass
class FingerprintState:
    """Warm-up progress and the monitor of one target's canary answers."""

    baseline: FingerprintBaseline | None = None
    pinned: bool = False
    warm_after_id: int = 0
    warm_n: int = 0
    monitor: FingerprintMonitor | None = None
    latched: bool = False

    def acknowledge(self) -> bool:
        """Re-arm the fingerprint detector after an alarm; True when it was alarmed."""
        if not self.latched:
            return False
        self.latched = False
        if self.monitor is not None:
            self.monitor.rearm()
        return True

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state."""
        return {
            "warm_after_id": self.warm_after_id,
            "warm_n": self.warm_n,
            "latched": self.latched,
            "monitor": None if self.monitor is None else self.monitor.to_dict(),
        }


def detector_progress(state: dict[str, Any]) -> dict[str, float]:
    """Each detector's statistic as a fraction of its threshold, from a scope's stored state."""
    scope = ScopeState()
    scope.load(state)
    return {name: progress(det) for name, det in scope.detectors.items()}
