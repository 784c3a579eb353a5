"""The statistics engine: feeds new ledger rows to the detectors and builds the snapshot the metrics read.

``update()`` is incremental: it reads results with an id above the last one it saw, so each probe is
seen once. Per target it runs detectors for every family and pooled (family "all"): CUSUMs for drops
of each configured size, one for a rise, and the unknown-shift grid GLR, plus the behaviour
fingerprint on canary prompts. A scope's baseline is learned from its first ``warmup_probes``
non-error fresh results unless pinned (``capmon baseline pin``). Baselines, detector state and the
last id seen live in the store, so a restart resumes where it stopped.

After an alarm the flag stays up (a latched 0/1 gauge). An unpinned scope then learns a new baseline
from the next warm-up and clears the flag when it has; a pinned one stays latched until a person
re-pins or resets. The CLI bumps a version in the store's meta table so a running engine reloads.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.config import Settings, TargetConfig
from agent.ledger import queries
from agent.ledger.store import Store
from agent.stats import summaries
from agent.stats.cusum import Cusum, CusumDesign, GridGlr, alternative, arl0_for_budget, design
from agent.stats.fingerprint import FingerprintBaseline, FingerprintMonitor, agreement_design, learn_baseline
from agent.stats.paired import paired_difference
from agent.stats.snapshot import ALL, DetectorView, FingerprintView, PairedView, StatsSnapshot

log = logging.getLogger(__name__)

LAST_ID_KEY = "stats_last_id"
VERSION_KEY = "stats_baseline_version"
PASS_RATIO = "pass_ratio"
FINGERPRINT = "fingerprint"
STATE = "state"
_SECONDS_PER_MONTH = 30 * 86400.0
_BATCH = 5000
#: (interval_s, probes_per_run, fingerprint_prompts) for results of a target no longer configured.
_DEFAULT_RATE: tuple[float, int, int] = (
    float(TargetConfig.model_fields["interval_s"].default),
    int(TargetConfig.model_fields["probes_per_run"].default),
    int(TargetConfig.model_fields["fingerprint_prompts"].default),
)

Detector = Cusum | GridGlr


def baseline_ratio(passes: int, n: int) -> float:
    """A baseline pass ratio from warm-up (or pinned) counts, kept off 0 and 1 so that every
    detector has a defined likelihood ratio."""
    return min(max(passes / n, 0.5 / n), 1 - 0.5 / n)


def detector_progress(state: dict[str, Any]) -> dict[str, float]:
    """Each detector's statistic as a fraction of its threshold, from a scope's stored state."""
    scope = ScopeState()
    scope.load(state)
    out = {}
    for name, det in scope.detectors.items():
        arm = det.leading() if isinstance(det, GridGlr) else det
        out[name] = 0.0 if arm is None else arm.state / arm.design.threshold
    return out


def detector_names(shifts: list[float]) -> list[str]:
    """Names of the pass-ratio detectors for the configured shift sizes."""
    names = [f"cusum_drop_{round(s * 100)}" for s in shifts]
    return [*names, f"cusum_rise_{round(min(shifts) * 100)}", "glr_drop"]


@dataclass
class ScopeState:
    """Baseline, warm-up counts, detectors and latched flags for one (target, family or "all")."""

    p0: float | None = None
    n0: int = 0
    pinned: bool = False
    warm_k: int = 0
    warm_n: int = 0
    detectors: dict[str, Detector] = field(default_factory=dict)
    latched: dict[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state (detector designs included)."""
        dets: dict[str, Any] = {}
        for name, det in self.detectors.items():
            if isinstance(det, GridGlr):
                dets[name] = {"glr": det.to_dict()}
            else:
                dets[name] = {"design": det.design.to_dict(), **det.to_dict()}
        return {"warm_k": self.warm_k, "warm_n": self.warm_n, "latched": self.latched, "detectors": dets}

    def load(self, data: dict[str, Any]) -> None:
        """Restore ``to_dict`` output."""
        self.warm_k, self.warm_n = int(data.get("warm_k", 0)), int(data.get("warm_n", 0))
        self.latched = {str(k): bool(v) for k, v in data.get("latched", {}).items()}
        self.detectors = {}
        for name, d in data.get("detectors", {}).items():
            if "glr" in d:
                self.detectors[name] = GridGlr.from_dict(d["glr"])
            else:
                c = Cusum(CusumDesign.from_dict(d["design"]))
                c.load(d)
                self.detectors[name] = c


@dataclass
class FingerprintState:
    """Warm-up progress and the monitor of one target's canary answers."""

    baseline: FingerprintBaseline | None = None
    pinned: bool = False
    warm_after_id: int = 0
    warm_n: int = 0
    monitor: FingerprintMonitor | None = None
    latched: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state."""
        return {
            "warm_after_id": self.warm_after_id,
            "warm_n": self.warm_n,
            "latched": self.latched,
            "monitor": None if self.monitor is None else self.monitor.to_dict(),
        }


class StatsEngine:
    """Incremental detectors over the ledger plus windowed summaries; see the module docstring."""

    def __init__(self, store: Store, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.settings = settings
        self._clock = clock
        self._targets: dict[str, TargetConfig] = {t.name: t for t in settings.targets}
        self._names = detector_names(settings.stats.shifts)
        self._scopes: dict[tuple[str, str], ScopeState] = {}
        self._fp: dict[str, FingerprintState] = {}
        self._last_id = 0
        self._version: str | None = None
        self._restore()

    # -- persistence ------------------------------------------------------------------------------

    def _restore(self) -> None:
        self._scopes.clear()
        self._fp.clear()
        self._last_id = int(self.store.get_meta(LAST_ID_KEY) or 0)
        self._version = self.store.get_meta(VERSION_KEY)
        for b in self.store.baselines():
            target, scope, data = str(b["target"]), str(b["scope"]), b["data"]
            if b["detector"] == PASS_RATIO:
                st = self._scopes.setdefault((target, scope), ScopeState())
                st.pinned = bool(b["pinned"])
                if data.get("p0") is not None:  # None: re-learning after an alarm
                    st.p0, st.n0 = float(data["p0"]), int(data["n"])
            elif b["detector"] == FINGERPRINT and "answers" in data:
                fp = self._fp.setdefault(target, FingerprintState())
                fp.baseline, fp.pinned = FingerprintBaseline.from_dict(data), bool(b["pinned"])
        for s in self.store.detector_states():
            target, scope, data = str(s["target"]), str(s["scope"]), s["data"]
            if s["detector"] == STATE:
                self._scopes.setdefault((target, scope), ScopeState()).load(data)
            elif s["detector"] == FINGERPRINT:
                fp = self._fp.setdefault(target, FingerprintState())
                fp.warm_after_id, fp.warm_n = int(data["warm_after_id"]), int(data["warm_n"])
                fp.latched = bool(data["latched"])
                if data.get("monitor") is not None and fp.baseline is not None:
                    fp.monitor = FingerprintMonitor.restore(fp.baseline, data["monitor"])
        # A baseline without detectors (pinned from the CLI, or designed before a crash): design now.
        for (target, scope), st in self._scopes.items():
            if st.p0 is not None and not st.detectors:
                st.detectors = self._design(target, st.p0, st.n0, st.pinned, scope)
                self._save_scope(target, scope, st)
        for target, fp in self._fp.items():
            if fp.baseline is not None and fp.monitor is None:
                fp.monitor = self._fp_monitor(target, fp.baseline, fp.pinned)
                self._save_fp(target, fp)

    def _save_scope(self, target: str, scope: str, st: ScopeState) -> None:
        self.store.put_detector_state(target, scope, STATE, st.to_dict())

    def _save_fp(self, target: str, fp: FingerprintState) -> None:
        self.store.put_detector_state(target, FINGERPRINT, FINGERPRINT, fp.to_dict())

    # -- false-alarm budget -----------------------------------------------------------------------

    def _family_count(self, target: str) -> int:
        cfg = self._targets.get(target)
        if cfg is not None and cfg.families:
            return len(cfg.families)
        return max(1, queries.fresh_family_count(self.store, target))

    def arl0(self, target: str, scope: str) -> float:
        """In-control ARL (probes) for one detector of this scope under the target's monthly budget."""
        cfg = self._targets.get(target)
        interval, per_run, canaries = _DEFAULT_RATE
        if cfg is not None:
            interval, per_run, canaries = cfg.interval_s, cfg.probes_per_run, cfg.fingerprint_prompts
        runs = _SECONDS_PER_MONTH / interval
        families = self._family_count(target)
        detectors = len(self._names) * (families + 1) + (1 if canaries else 0)
        per_scope = per_run / (1 if scope == ALL else families)
        rate = (canaries if scope == FINGERPRINT else per_scope) * runs
        return arl0_for_budget(self.settings.stats.false_alarms_per_month, rate, detectors)

    def _design(self, target: str, p0: float, n0: int, pinned: bool, scope: str) -> dict[str, Detector]:
        arl0 = self.arl0(target, scope)
        n = None if pinned else n0  # a pinned baseline is taken as known
        shifts = self.settings.stats.shifts
        dets: dict[str, Detector] = {}
        plans: list[tuple[str, float, str]] = [(f"cusum_drop_{round(s * 100)}", s, "drop") for s in shifts]
        plans.append((f"cusum_rise_{round(min(shifts) * 100)}", min(shifts), "rise"))
        for name, shift, direction in plans:
            p1 = alternative(p0, shift, "drop" if direction == "drop" else "rise")
            if p1 is None:
                continue  # no room for that shift at this baseline
            try:
                dets[name] = Cusum(design(p0, p1, arl0, baseline_n=n))
            except ValueError as exc:
                log.info("detector %s for %s/%s not designed: %s", name, target, scope, exc)
        glr = GridGlr.build(p0, arl0, "drop", baseline_n=n)
        if glr.arms:
            dets["glr_drop"] = glr
        return dets

    def _fp_monitor(self, target: str, baseline: FingerprintBaseline, pinned: bool) -> FingerprintMonitor | None:
        b = (
            baseline
            if not pinned
            else FingerprintBaseline(
                baseline.answers, baseline.agreement, 10**9, baseline.models, baseline.fingerprints
            )
        )
        try:
            return FingerprintMonitor(baseline, Cusum(agreement_design(b, self.arl0(target, FINGERPRINT))))
        except ValueError as exc:
            log.info("fingerprint detector for %s not designed: %s", target, exc)
            return None

    # -- update -----------------------------------------------------------------------------------

    def update(self) -> int:
        """Feed every result added since the last call; returns how many non-error results were fed."""
        version = self.store.get_meta(VERSION_KEY)
        if version != self._version:
            self._restore()
        fed = 0
        touched: set[tuple[str, str]] = set()
        touched_fp: set[str] = set()
        while True:
            rows = self.store.results(after_id=self._last_id, limit=_BATCH)
            if not rows:
                break
            for sr in rows:
                self._last_id = sr.id
                r = sr.result
                if r.outcome == "error":
                    continue
                fed += 1
                if r.canary:
                    self._feed_fingerprint(
                        sr.id, r.target, r.item_key, r.response, r.response_model, r.system_fingerprint, r.ts
                    )
                    touched_fp.add(r.target)
                    continue
                if r.static:
                    continue
                for scope in (r.family, ALL):
                    self._feed(r.target, scope, r.outcome == "pass", r.ts)
                    touched.add((r.target, scope))
        for target, scope in touched:
            self._save_scope(target, scope, self._scopes[(target, scope)])
        for target in touched_fp:
            self._save_fp(target, self._fp[target])
        self.store.set_meta(LAST_ID_KEY, str(self._last_id))
        return fed

    def _feed(self, target: str, scope: str, passed: bool, ts: float) -> None:
        st = self._scopes.setdefault((target, scope), ScopeState())
        if st.p0 is None:
            st.warm_k += int(passed)
            st.warm_n += 1
            if st.warm_n >= self.settings.stats.warmup_probes:
                n = st.warm_n
                st.p0 = baseline_ratio(st.warm_k, n)
                st.n0, st.warm_k, st.warm_n = n, 0, 0
                st.detectors = self._design(target, st.p0, n, False, scope)
                st.latched = {}
                self.store.put_baseline(target, scope, PASS_RATIO, {"p0": st.p0, "n": n}, pinned=False)
            return
        rewarm = False
        for name, det in st.detectors.items():
            if not det.update(passed):
                continue
            arm = det.leading() if isinstance(det, GridGlr) else det
            probes, rate = arm.change_estimate() if arm is not None else (0, None)
            direction = "rise" if "rise" in name else "drop"
            if not st.latched.get(name):
                st.latched[name] = True
                self.store.add_change_point(
                    ts=ts,
                    target=target,
                    scope=scope,
                    detector=name,
                    direction=direction,
                    size=None if rate is None else rate - st.p0,
                    statistic=arm.statistic if arm is not None else None,
                    threshold=arm.design.h_nats if arm is not None else None,
                    probes=probes,
                )
                log.warning("change point: %s/%s %s %s", target, scope, name, direction)
                rewarm = rewarm or not st.pinned
            det.reset()
        if rewarm:
            # Learn the new normal; detectors stay for display until the new baseline replaces them.
            self.store.put_baseline(target, scope, PASS_RATIO, {"p0": None, "n": 0, "previous": st.p0}, pinned=False)
            st.p0, st.warm_k, st.warm_n = None, 0, 0

    def _feed_fingerprint(
        self,
        row_id: int,
        target: str,
        key: str,
        response: str | None,
        model: str | None,
        fingerprint: str | None,
        ts: float,
    ) -> None:
        fp = self._fp.setdefault(target, FingerprintState(warm_after_id=row_id - 1))
        if fp.baseline is None:
            fp.warm_n += 1
            if fp.warm_n >= self.settings.stats.warmup_probes:
                answers = queries.canary_answers(self.store, target, fp.warm_after_id, row_id)
                fp.baseline = learn_baseline(
                    (a.item_key, a.response, a.response_model, a.system_fingerprint) for a in answers
                )
                fp.monitor = self._fp_monitor(target, fp.baseline, False)
                fp.latched = False
                self.store.put_baseline(target, FINGERPRINT, FINGERPRINT, fp.baseline.to_dict(), pinned=False)
            return
        mon = fp.monitor
        if mon is None:
            return
        was_changed = mon.changed
        if mon.update(key, response, model, fingerprint) or (mon.changed and not was_changed):
            fp.latched = True
            # Size: agreement since the statistic last left zero (the estimated change) minus p0.
            probes, rate = mon.cusum.change_estimate()
            self.store.add_change_point(
                ts=ts,
                target=target,
                scope=FINGERPRINT,
                detector=FINGERPRINT,
                direction="drop",
                size=None if rate is None else rate - fp.baseline.agreement,
                statistic=mon.cusum.statistic,
                threshold=mon.cusum.design.h_nats,
                probes=probes,
            )
            log.warning("behaviour fingerprint of %s changed", target)
            mon.cusum.reset()
            if not fp.pinned:
                self.store.put_baseline(target, FINGERPRINT, FINGERPRINT, {"relearning": True}, pinned=False)
                fp.baseline, fp.warm_n, fp.warm_after_id = None, 0, row_id

    # -- hooks for adaptive probing ----------------------------------------------------------------

    def urgency(self, target: str) -> float:
        """Largest statistic / threshold over the target's detectors (0 quiet .. 1 at alarm)."""
        best = 0.0
        for (t, _), st in self._scopes.items():
            if t != target or st.p0 is None:
                continue
            for det in st.detectors.values():
                arm = det.leading() if isinstance(det, GridGlr) else det
                if arm is not None:
                    best = max(best, arm.state / arm.design.threshold)
        return min(best, 1.0)

    # -- snapshot ---------------------------------------------------------------------------------

    def snapshot(self) -> StatsSnapshot:
        """Every statistic over the configured windows, from the ledger and the detectors' state."""
        cfg = self.settings.stats
        now = self._clock()
        alpha = 1 - cfg.confidence
        ratios = []
        counts: summaries.Counts = {}
        for w in sorted(cfg.windows_s):
            counts = summaries.counts_of(queries.cell_counts(self.store, since=now - w))
            ratios.extend(summaries.ratio_cells(counts, summaries.window_label(w), alpha))
        since = now - max(cfg.windows_s)  # the longest window (counts holds it after the sorted loop)
        static = summaries.counts_of(queries.cell_counts(self.store, static=True, since=since))
        fits, abilities = summaries.frontiers(counts, cfg.confidence)
        totals = queries.target_totals(self.store, since=since)
        groups: dict[str, list[str]] = {}
        for t in self.settings.targets:
            if t.group:
                groups.setdefault(t.group, []).append(t.name)
        return StatsSnapshot(
            ratios=tuple(ratios),
            frontiers=fits,
            abilities=abilities,
            gradients=summaries.gradients(counts, cfg.confidence),
            leakage=summaries.leakage(static, counts, cfg.confidence),
            consistency={
                k: c.ratio for k, c in summaries.consistencies(queries.fresh_answers(self.store, since=since)).items()
            },
            detectors=tuple(self._detector_views()),
            change_points=self._change_point_counts(),
            fingerprints=self._fingerprint_views(),
            refusal=summaries.refusal_ratios(queries.scored_responses(self.store, since=since)),
            response_length=summaries.response_lengths(totals),
            baselines={k: st.p0 for k, st in self._scopes.items() if st.p0 is not None},
            paired=tuple(self._paired_views(groups, since)),
            cost_per_correct=summaries.cost_per_correct(totals),
            computed_at=now,
        )

    def _paired_views(self, groups: dict[str, list[str]], since: float) -> list[PairedView]:
        """Each group member against the group's first target, on identical fresh items, per family and all."""
        views: list[PairedView] = []
        for group, members in sorted(groups.items()):
            for other in members[1:]:
                outcomes = queries.paired_outcomes(self.store, other, members[0], since=since)
                for fam, (a, b) in summaries.paired_by_family(outcomes).items():
                    result = paired_difference(a, b, self.settings.stats.confidence)
                    views.append(PairedView(group, other, members[0], fam, result))
        return views

    def _detector_views(self) -> list[DetectorView]:
        views = []
        for (target, scope), st in sorted(self._scopes.items()):
            for name, det in st.detectors.items():
                arm = det.leading() if isinstance(det, GridGlr) else det
                if arm is None:
                    continue
                direction = "rise" if "rise" in name else "drop"
                views.append(
                    DetectorView(
                        target,
                        scope,
                        name,
                        direction,
                        arm.statistic,
                        arm.design.h_nats,
                        bool(st.latched.get(name)),
                    )
                )
        for target, fp in sorted(self._fp.items()):
            if fp.monitor is not None:
                c = fp.monitor.cusum
                views.append(DetectorView(target, ALL, FINGERPRINT, "drop", c.statistic, c.design.h_nats, fp.latched))
        return views

    def _change_point_counts(self) -> dict[tuple[str, str, str, str], int]:
        counts: Counter[tuple[str, str, str, str]] = Counter()
        for cp in self.store.change_points():
            scope = ALL if cp["scope"] == FINGERPRINT else str(cp["scope"])
            counts[(str(cp["target"]), scope, str(cp["detector"]), str(cp["direction"]))] += 1
        return dict(counts)

    def _fingerprint_views(self) -> dict[str, FingerprintView]:
        out = {}
        for target, fp in self._fp.items():
            agreement = fp.monitor.agreement if fp.monitor is not None and fp.baseline is not None else None
            out[target] = FingerprintView(target, agreement, fp.latched, fp.baseline is None)
        return out


def probes_per_month(target: TargetConfig) -> float:
    """Fresh probes a target gets per month at its configured interval."""
    return target.probes_per_run * _SECONDS_PER_MONTH / target.interval_s


def finite_or_none(x: float | None) -> float | None:
    """None for None/NaN, else x."""
    return None if x is None or math.isnan(x) else x
