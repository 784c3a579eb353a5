"""Detector design: the false-alarm budget split into in-control ARLs, and the detectors built from it.

A target's monthly false-alarm budget (``stats.false_alarms_per_month``) is shared by all its
detectors (union bound): every pass-ratio detector of every family scope and of the pooled "all"
scope, the fingerprint detector, and the signal tests (``agent.stats.signals``). The count comes
from the configuration — the target's families
(every registered family when it names none) times the configured detector specs — so the first
design already splits the budget as the last one will. Each detector's in-control ARL (in probes) follows from how
many probes its scope sees a month at the target's interval.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Sequence

from agent.config import Settings, TargetConfig, probe_registry
from agent.stats.cusum import Cusum, arl0_for_budget
from agent.stats.detectors import Detector, detector_specs
from agent.stats.fingerprint import ANSWERS_PER_PROMPT, FingerprintBaseline, FingerprintMonitor, agreement_design
from agent.stats.signals import SIGNALS
from agent.stats.snapshot import ALL

log = logging.getLogger(__name__)

#: A scope whose baseline is too uncertain for one of its detectors keeps learning, its warm-up
#: doubled each time, up to this factor; then it arms the detectors that can be designed.
MAX_WARMUP_FACTOR = 16
#: The scope (and detector name) of the behaviour fingerprint.
FINGERPRINT = "fingerprint"
#: Scope, detector-state kind and arming row of the signal tests (``agent.stats.signal_watch``), which
#: see every answered probe.
SIGNALS_SCOPE = "signals"
SECONDS_PER_MONTH = 30 * 86400.0
#: (interval_s, probes_per_run, fingerprint_prompts) for results of a target no longer configured.
_DEFAULT_RATE: tuple[float, int, int] = (
    float(TargetConfig.model_fields["interval_s"].default),
    int(TargetConfig.model_fields["probes_per_run"].default),
    int(TargetConfig.model_fields["fingerprint_prompts"].default),
)


class DetectorDesigner:
    """Designs a scope's detectors and a target's fingerprint monitor under the false-alarm budget.

    ``registered_families()`` names the families the probe registry holds (built from
    ``settings.probe_templates`` unless given); it is asked once, for targets whose configuration
    names no families (they probe every registered family) and for targets no longer configured.
    """

    def __init__(self, settings: Settings, registered_families: Callable[[], Sequence[str]] | None = None) -> None:
        self.settings = settings
        self._targets: dict[str, TargetConfig] = {t.name: t for t in settings.targets}
        self.specs = detector_specs(settings.stats.shifts)
        self._registered = registered_families or (lambda: probe_registry(settings.probe_templates).names())
        self._registered_names: list[str] | None = None

    def families(self, target: str) -> list[str]:
        """The families the target is configured to probe (every registered one when it names none)."""
        cfg = self._targets.get(target)
        if cfg is not None and cfg.families:
            return list(cfg.families)
        if self._registered_names is None:
            self._registered_names = list(self._registered()) or ["unknown"]
        return self._registered_names

    def family_count(self, target: str) -> int:
        """How many families the target is configured to probe."""
        return len(self.families(target))

    def _rate(self, target: str) -> tuple[float, int, int]:
        """(interval_s, items per run, canary answers per run): items are underlying fresh items."""
        cfg = self._targets.get(target)
        if cfg is None:
            return _DEFAULT_RATE
        # The detectors see one outcome per underlying item (its primary rendering).
        return cfg.interval_s, max(1, cfg.probes_per_run // len(cfg.novelties)), cfg.fingerprint_prompts

    def fingerprint_warmup(self, target: str) -> int:
        """Canary answers the fingerprint learns from: ``ANSWERS_PER_PROMPT`` per prompt, at most warmup_probes."""
        prompts = max(1, self._rate(target)[2])
        return min(self.settings.stats.warmup_probes, ANSWERS_PER_PROMPT * prompts)

    def warmup_target(self, warmup: int, seen: int) -> int:
        """The warm-up length to reach next: ``warmup``, doubled (up to ``MAX_WARMUP_FACTOR`` x) while a
        detector could not be designed from the baseline learned so far (``seen`` outcomes)."""
        target = warmup
        while target <= seen and target < warmup * MAX_WARMUP_FACTOR:
            target *= 2
        return target

    def undesigned(self, p0: float, detectors: dict[str, Detector]) -> list[str]:
        """Specs with room for their shift at ``p0`` that the baseline's uncertainty left undesigned."""
        return [s.name for s in self.specs if s.name not in detectors and s.has_room(p0)]

    def seconds_for(self, target: str, scope: str, probes: int) -> float:
        """Estimated seconds until ``probes`` more outcomes of this scope arrive at the target's cadence."""
        if probes <= 0:
            return 0.0
        interval, items, canaries = self._rate(target)
        if scope == SIGNALS_SCOPE:
            per_run = float(self._answered_per_run(target))
        elif scope == FINGERPRINT:
            per_run = canaries
        else:
            per_run = items / (1 if scope == ALL else self.family_count(target))
        return math.inf if per_run <= 0 else math.ceil(probes / per_run) * interval

    def _answered_per_run(self, target: str) -> int:
        """Probes per run the signal tests see: every fresh rendering, static item and canary."""
        _, items, canaries = self._rate(target)
        cfg = self._targets.get(target)
        return (cfg.probes_per_run + cfg.static_per_run if cfg is not None else items) + canaries

    def detector_count(self, target: str) -> int:
        """Detectors sharing the target's budget: the specs per scope (families + pooled) + fingerprint
        + the signal tests (``agent.stats.signals.SIGNALS``)."""
        cfg = self._targets.get(target)
        canaries = cfg.fingerprint_prompts if cfg is not None else _DEFAULT_RATE[2]
        return len(self.specs) * (self.family_count(target) + 1) + (1 if canaries else 0) + len(SIGNALS)

    def signal_arl0(self, target: str) -> float:
        """In-control ARL (answered probes) for one signal test: it sees every probe of the target."""
        interval = self._rate(target)[0]
        rate = self._answered_per_run(target) * SECONDS_PER_MONTH / interval
        return arl0_for_budget(self.settings.stats.false_alarms_per_month, rate, self.detector_count(target))

    def arl0(self, target: str, scope: str) -> float:
        """In-control ARL (probes) for one detector of this scope under the target's monthly budget."""
        interval, per_run, canaries = self._rate(target)
        runs = SECONDS_PER_MONTH / interval
        families = self.family_count(target)
        detectors = self.detector_count(target)
        per_scope = per_run / (1 if scope == ALL else families)
        rate = (canaries if scope == FINGERPRINT else per_scope) * runs
        return arl0_for_budget(self.settings.stats.false_alarms_per_month, rate, detectors)

    def scope_detectors(self, target: str, scope: str, p0: float, n0: int, pinned: bool) -> dict[str, Detector]:
        """Every detector of ``detector_specs`` that can be designed at baseline ``p0``."""
        arl0 = self.arl0(target, scope)
        n = None if pinned else n0  # a pinned baseline is taken as known
        dets: dict[str, Detector] = {}
        for spec in self.specs:
            det = spec.design(p0, arl0, n)
            if det is not None:
                dets[spec.name] = det
        return dets

    def fingerprint_monitor(
        self, target: str, baseline: FingerprintBaseline, pinned: bool
    ) -> FingerprintMonitor | None:
        """The CUSUM on canary agreement; a pinned baseline is taken as known (no estimation guard)."""
        b = baseline if not pinned else dataclasses.replace(baseline, n=10**9)
        try:
            return FingerprintMonitor(baseline, Cusum(agreement_design(b, self.arl0(target, FINGERPRINT))))
        except ValueError as exc:
            log.info("fingerprint detector for %s not designed: %s", target, exc)
            return None
