"""The statistics engine: feeds new ledger rows to the detectors and builds the snapshot the metrics read.

Three parts, three modules: ``agent.stats.persistence`` keeps baselines, detector state and the last
row fed in the ledger; ``agent.stats.design`` turns a baseline and the false-alarm budget into
detectors (``agent.stats.detectors``); this module feeds results to them and builds the snapshot.

``update()`` is incremental: it reads results with an id above the last one it saw, so each probe is
seen once. Per target it runs the detectors of ``detector_specs`` for every family and pooled
(family "all") on each fresh item's primary rendering (``queries.primary_novelty``: renderings of one
item are correlated, so the detectors see one outcome per item), plus the behaviour fingerprint on
canary prompts. A scope's baseline is learned from its first ``warmup_probes`` scored fresh items
unless pinned (``capmon baseline pin``); the fingerprint's from ``ANSWERS_PER_PROMPT`` answers per
canary prompt. ``snapshot().arming`` says per detector how long until it can fire.

Baselines and detectors never mix generator versions: a family scope remembers the generator
version it learned on, and a result from another version resets that scope (baseline, pinned or
not, warm-up and detectors) and the target's pooled scope "all", whose mix of items changed too;
both learn a new baseline from the next warm-up. A reset is not a change point: the questions
changed, not the model. A restart resumes where it stopped.

Lifecycle: after an alarm the flag stays up (a latched 0/1 gauge), the detector rests, and a
recovery CUSUM watches for a return to the baseline in force (pinned or learned; nothing is re-learned
behind the operator's back); when it crosses, a ``recovery`` change point is stored, the flag falls
and the detector is re-armed from zero, so a second and third change are detected like the first.
``capmon baseline ack`` re-arms at once; ``capmon baseline reset`` accepts a lasting change as the new
normal (re-learned from the next warm-up). The CLI bumps a version in the ledger's meta table so a
running engine reloads.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping

from agent.config import Settings
from agent.ledger import queries, windows
from agent.ledger.store import Store
from agent.stats import persistence, summaries
from agent.stats.cusum import Cusum
from agent.stats.design import MAX_WARMUP_FACTOR, SIGNALS_SCOPE, DetectorDesigner
from agent.stats.detectors import FingerprintState, ScopeState, progress, recovery_cusum
from agent.stats.fingerprint import is_refusal, learn_baseline
from agent.stats.frontier import Frontier
from agent.stats.paired import paired_difference
from agent.stats.persistence import FINGERPRINT, PASS_RATIO
from agent.stats.signal_watch import SignalWatch
from agent.stats.snapshot import ALL, ArmingView, DetectorView, FingerprintView, PairedView, RatioCell, StatsSnapshot
from agent.stats.usage import UsageWindow

log = logging.getLogger(__name__)

#: Results read per query while feeding: whole rows (responses up to 32,000 characters each) are
#: held a batch at a time, so catching up on a long backlog costs one batch's memory, not the backlog's.
_BATCH = 500


def baseline_ratio(passes: int, n: int) -> float:
    """A baseline pass ratio from warm-up (or pinned) counts, kept off 0 and 1 so that every
    detector has a defined likelihood ratio."""
    return min(max(passes / n, 0.5 / n), 1 - 0.5 / n)


class StatsEngine:
    """Incremental detectors over the ledger plus windowed summaries; see the module docstring."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        references: Mapping[str, float] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        #: Per family, the level ability is measured at (``frontier.reference_levels`` of the registry).
        self.references = dict(references or {})
        self._clock = clock
        self.designer = DetectorDesigner(settings)
        self._scopes: dict[tuple[str, str], ScopeState] = {}
        self._fp: dict[str, FingerprintState] = {}
        self._last_id = 0
        self._version: str | None = None
        #: Frontier fits and cell intervals of the last snapshot by their inputs: unchanged counts are not refit.
        self._fits: summaries.Reuse[summaries.FitInputs, Frontier] = summaries.Reuse()
        self._intervals: summaries.Reuse[summaries.IntervalInputs, tuple[float, float]] = summaries.Reuse()
        #: Refusals, response lengths and cost over the longest window, read incrementally.
        self._usage = UsageWindow(is_refusal)
        self.signals = SignalWatch(store, self.designer.signal_arl0, settings.stats.warmup_probes)
        self._restore()

    def _restore(self) -> None:
        loaded = persistence.load(self.store)
        self._scopes, self._fp = loaded.scopes, loaded.fingerprints
        self._last_id, self._version = loaded.last_id, loaded.version
        # A baseline without detectors (pinned from the CLI, or designed before a crash): design now.
        for (target, scope), st in self._scopes.items():
            if st.p0 is not None and not st.detectors:
                st.detectors = self.designer.scope_detectors(target, scope, st.p0, st.n0, st.pinned)
                persistence.save_scope(self.store, target, scope, st)
        for target, fp in self._fp.items():
            if fp.baseline is not None and fp.monitor is None:
                fp.monitor = self.designer.fingerprint_monitor(target, fp.baseline, fp.pinned)
                persistence.save_fingerprint(self.store, target, fp)

    def arl0(self, target: str, scope: str) -> float:
        """In-control ARL (probes) for one detector of this scope under the target's monthly budget."""
        return self.designer.arl0(target, scope)

    def _novelties(self) -> dict[str, list[int]]:
        """Configured novelties per target (which rendering of an item is its primary one)."""
        return {t.name: list(t.novelties) for t in self.settings.targets}

    def _primary(self, target: str, seed: int, novelty: int) -> bool:
        """Whether a fresh result is its item's primary rendering (targets no longer configured: novelty 0)."""
        return novelty == queries.primary_novelty(seed, self._novelties().get(target, [0]))

    def update(self) -> int:
        """Feed every result added since the last call; returns how many non-error results were fed."""
        version = self.store.get_meta(persistence.VERSION_KEY)
        if version != self._version:
            self._restore()
            self.signals.load()
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
                self.signals.feed(r)
                if r.outcome == "error":
                    continue
                fed += 1
                if r.canary:
                    self._feed_fingerprint(
                        sr.id, r.target, r.item_key, r.response, r.response_model, r.system_fingerprint, r.ts
                    )
                    touched_fp.add(r.target)
                    continue
                if r.static or not self._primary(r.target, r.seed, r.novelty):
                    continue  # renderings of one item are correlated: one outcome per item
                if self._version_changed(r.target, r.family, r.generator_version):
                    touched.update({(r.target, r.family), (r.target, ALL)})
                for scope in (r.family, ALL):
                    self._feed(r.target, scope, r.outcome == "pass", r.ts)
                    touched.add((r.target, scope))
        for target, scope in touched:
            persistence.save_scope(self.store, target, scope, self._scopes[(target, scope)])
        for target in touched_fp:
            persistence.save_fingerprint(self.store, target, self._fp[target])
        self.signals.save()
        persistence.save_last_id(self.store, self._last_id)
        return fed

    def _version_changed(self, target: str, family: str, version: str) -> bool:
        """Adopt a family scope's first generator version; on another, reset it and the pooled scope."""
        st = self._scopes.setdefault((target, family), ScopeState())
        if st.generator_version is None or st.generator_version == version:
            st.generator_version = version
            return False
        log.warning(
            "%s/%s: generator version %s -> %s, baselines of %s and %s start again",
            target,
            family,
            st.generator_version,
            version,
            family,
            ALL,
        )
        for scope in (family, ALL):
            fresh = ScopeState(generator_version=version if scope == family else None)
            self._scopes[(target, scope)] = fresh
            data = {"p0": None, "n": 0, "reset": "generator version changed", "generator_version": version}
            self.store.put_baseline(target, scope, PASS_RATIO, data, pinned=False)
        return True

    def _feed(self, target: str, scope: str, passed: bool, ts: float) -> None:
        st = self._scopes.setdefault((target, scope), ScopeState())
        if st.p0 is None:
            st.warm_k += int(passed)
            st.warm_n += 1
            warmup = self.settings.stats.warmup_probes
            if st.warm_n >= self.designer.warmup_target(warmup, st.warm_n - 1):
                n = st.warm_n
                p0 = baseline_ratio(st.warm_k, n)
                detectors = self.designer.scope_detectors(target, scope, p0, n, False)
                missing = self.designer.undesigned(p0, detectors)
                if missing and n < warmup * MAX_WARMUP_FACTOR:
                    # Too uncertain a baseline for these detectors to keep the budget: learn longer.
                    log.info("%s/%s: %s need a longer warm-up than %d", target, scope, ", ".join(missing), n)
                    return
                st.p0, st.n0, st.warm_k, st.warm_n = p0, n, 0, 0
                st.detectors = detectors
                st.latched = {}
                self.store.put_baseline(target, scope, PASS_RATIO, {"p0": st.p0, "n": n}, pinned=False)
            return
        for name, det in st.detectors.items():
            watch = st.recovery.get(name)
            if st.latched.get(name):
                # Alarmed: the detector rests; the recovery test watches for the baseline to return.
                if watch is not None and watch.update(passed):
                    probes, rate = watch.change_estimate()
                    self._change_point(ts, target, scope, name, "recovery", rate, st.p0, watch, probes)
                    st.acknowledge(name)
                continue
            if not det.update(passed):
                continue
            arm = det.lead()
            probes, rate = arm.change_estimate() if arm is not None else (0, None)
            self._change_point(ts, target, scope, name, det.direction, rate, st.p0, arm, probes)
            log.warning("change point: %s/%s %s %s", target, scope, name, det.direction)
            st.latched[name] = True
            rec = recovery_cusum(arm.design) if arm is not None else None
            if rec is not None:
                st.recovery[name] = rec
            det.reset()

    def _change_point(
        self,
        ts: float,
        target: str,
        scope: str,
        detector: str,
        kind: str,
        rate: float | None,
        p0: float,
        arm: Cusum | None,
        probes: int,
    ) -> None:
        """Store a change point; ``kind`` (the ``direction`` column) is drop, rise or recovery."""
        self.store.add_change_point(
            ts=ts,
            target=target,
            scope=scope,
            detector=detector,
            direction=kind,
            size=None if rate is None else rate - p0,
            statistic=arm.statistic if arm is not None else None,
            threshold=arm.design.h_nats if arm is not None else None,
            probes=probes,
            evidence=self.signals.evidence(target),
        )

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
            warmup = self.designer.fingerprint_warmup(target)
            if fp.warm_n >= self.designer.warmup_target(warmup, fp.warm_n - 1):
                answers = queries.canary_answers(self.store, target, fp.warm_after_id, row_id)
                baseline = learn_baseline(
                    (a.item_key, a.response, a.response_model, a.system_fingerprint) for a in answers
                )
                monitor = self.designer.fingerprint_monitor(target, baseline, False)
                if monitor is None and fp.warm_n < warmup * MAX_WARMUP_FACTOR:
                    return  # too uncertain an agreement rate to keep the budget: learn longer
                fp.baseline, fp.monitor, fp.latched = baseline, monitor, False
                self.store.put_baseline(target, FINGERPRINT, FINGERPRINT, fp.baseline.to_dict(), pinned=False)
            return
        mon = fp.monitor
        if mon is None:
            return
        id_before = mon.id_changed
        watch = mon.recovery
        event = mon.update(key, response, model, fingerprint)
        if event == "recovery" and watch is not None:
            fp.latched = False
            probes, rate = watch.change_estimate()
            agreement = fp.baseline.agreement
            self._change_point(ts, target, FINGERPRINT, FINGERPRINT, "recovery", rate, agreement, watch, probes)
            log.warning("behaviour fingerprint of %s is back to its baseline", target)
        if mon.id_changed and not id_before:
            # Info, not a change point: providers relabel models and rotate system_fingerprint without
            # changing behaviour, and an unbudgeted alarm would break the false-alarm budget; the
            # answers decide (the agreement CUSUM), the id change is shown beside them.
            log.warning("reported model id / system_fingerprint of %s changed (info)", target)
        if event == "alarm":
            fp.latched = True
            # Size: agreement since the statistic last left zero (the estimated change) minus p0.
            probes, rate = mon.cusum.change_estimate()
            self._change_point(
                ts, target, FINGERPRINT, FINGERPRINT, "drop", rate, fp.baseline.agreement, mon.cusum, probes
            )
            log.warning("behaviour fingerprint of %s changed", target)

    # -- detector urgency (adaptive probing) -------------------------------------------------------

    def urgency(self, target: str) -> float:
        """Largest statistic / threshold over the target's detectors (0 quiet .. 1 at alarm)."""
        best = 0.0
        for (t, _), st in self._scopes.items():
            if t != target or st.p0 is None:
                continue
            for det in st.detectors.values():
                best = max(best, progress(det))
        return min(best, 1.0)

    # -- snapshot ---------------------------------------------------------------------------------

    def snapshot(self) -> StatsSnapshot:
        """Every statistic over the configured windows, from the ledger and the detectors' state."""
        cfg = self.settings.stats
        now = self._clock()
        alpha = 1 - cfg.confidence
        novelties = self._novelties()
        since = now - max(cfg.windows_s)  # the longest window: the frontier and the curves
        # Fresh and static items in one read of the kept bucket counts (the leakage gap compares them).
        counts, static = windows.window_counts(self.store, since=since)
        primary = self._primary_counts(counts, since, novelties)
        fits, abilities = summaries.frontiers(primary, cfg.confidence, self.references, reuse=self._fits)
        longest = summaries.ratio_cells(
            counts, summaries.window_label(max(cfg.windows_s)), alpha, primary, curves=True, fits=fits,
            reuse=self._intervals,
        )  # fmt: skip
        gradients = summaries.gradients(counts, cfg.confidence)
        leakage = summaries.leakage(static, counts, cfg.confidence)
        passes = summaries.scored_passes(counts, static)
        answers = (
            []  # nothing rendered twice in the window: the consistency read would return no rows
            if summaries.rendered_once(counts)
            else queries.fresh_answers(self.store, since=since, rendered_twice=True)
        )
        del counts, static, primary  # not held beside the shorter windows' counts: the refresh's peak is one window's
        ratios: list[RatioCell] = []
        for w in sorted(cfg.windows_s):
            if now - w == since:
                ratios.extend(longest)
                continue
            fresh = windows.window_counts(self.store, since=now - w).fresh
            shorter = self._primary_counts(fresh, now - w, novelties)
            ratios.extend(summaries.ratio_cells({}, summaries.window_label(w), alpha, shorter, reuse=self._intervals))
        self._fits.turn()
        self._intervals.turn()
        usage = self._usage.read(self.store, since)
        groups: dict[str, list[str]] = {}
        for t in self.settings.targets:
            if t.group:
                groups.setdefault(t.group, []).append(t.name)
        return StatsSnapshot(
            ratios=tuple(ratios),
            frontiers=fits,
            abilities=abilities,
            gradients=gradients,
            leakage=leakage,
            consistency={k: c.ratio for k, c in summaries.consistencies(answers).items()},
            detectors=tuple(self._detector_views()),
            change_points=self._change_point_counts(),
            fingerprints=self._fingerprint_views(),
            arming=tuple(self._arming_views()),
            signals=tuple(self.signals.views()),
            refusal=summaries.refusal_ratios(usage),
            response_length=summaries.response_lengths(usage),
            baselines={k: st.p0 for k, st in self._scopes.items() if st.p0 is not None},
            paired=tuple(self._paired_views(groups, since)),
            cost_per_correct=summaries.cost_per_correct(usage, passes),
            computed_at=now,
        )

    def _primary_counts(self, counts: summaries.Counts, since: float, novelties: queries.Novelties) -> summaries.Counts:
        """Each item's primary rendering's counts from ``since`` on: read off ``counts`` (every rendering's)
        with one novelty per target (the default), else read from the window's rows."""
        primary = summaries.primary_counts(counts, novelties)
        if primary is None:
            primary = summaries.counts_of(queries.cell_counts(self.store, since=since, primary=novelties))
        return primary

    def _paired_views(self, groups: dict[str, list[str]], since: float) -> list[PairedView]:
        """Each group member against the group's first target, on identical fresh items, per family and all."""
        views: list[PairedView] = []
        for group, members in sorted(groups.items()):
            for other in members[1:]:
                outcomes = queries.paired_outcomes(
                    self.store, other, members[0], since=since, primary=self._novelties()[members[0]]
                )
                for fam, (a, b) in summaries.paired_by_family(outcomes).items():
                    result = paired_difference(a, b, self.settings.stats.confidence)
                    views.append(PairedView(group, other, members[0], fam, result))
        return views

    def _detector_views(self) -> list[DetectorView]:
        views = []
        for (target, scope), st in sorted(self._scopes.items()):
            for name, det in st.detectors.items():
                arm = det.lead()
                if arm is None:
                    continue
                views.append(
                    DetectorView(
                        target,
                        scope,
                        name,
                        det.direction,
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

    def _arming_views(self) -> list[ArmingView]:
        """Per configured target, scope and detector: armed now, or warm-up outcomes (and seconds) still needed."""
        views: list[ArmingView] = []
        warmup = self.settings.stats.warmup_probes
        for cfg in self.settings.targets:
            t = cfg.name
            for scope in [*self.designer.families(t), ALL]:
                st = self._scopes.get((t, scope), ScopeState())
                left = 0 if st.p0 is not None else self.designer.warmup_target(warmup, st.warm_n) - st.warm_n
                secs = self.designer.seconds_for(t, scope, left)
                for spec in self.designer.specs:
                    designed = spec.name in st.detectors and st.p0 is not None
                    armed = designed and not st.latched.get(spec.name, False)
                    views.append(ArmingView(t, scope, spec.name, armed, left, secs))
            if cfg.fingerprint_prompts:
                fp = self._fp.get(t, FingerprintState())
                fp_warmup = self.designer.fingerprint_warmup(t)
                left = 0 if fp.baseline is not None else self.designer.warmup_target(fp_warmup, fp.warm_n) - fp.warm_n
                armed = fp.monitor is not None and not fp.latched
                secs = self.designer.seconds_for(t, FINGERPRINT, left)
                views.append(ArmingView(t, ALL, FINGERPRINT, armed, left, secs))
            # One row for the signal tests: they share one warm-up; each test's alarm is capmon_signal_alarm.
            left = self.signals.warmup_left(t)
            secs = self.designer.seconds_for(t, SIGNALS_SCOPE, left)
            views.append(ArmingView(t, ALL, SIGNALS_SCOPE, left == 0, left, secs))
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
            id_changed = fp.monitor is not None and fp.monitor.id_changed
            out[target] = FingerprintView(target, agreement, fp.latched, fp.baseline is None, id_changed)
        return out
