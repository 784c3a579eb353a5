"""Feeds answered probes to each target's signal tests (``agent.stats.signals``) and keeps their state.

Called by the statistics engine for every row it reads (``StatsEngine.update``), so each probe is
seen once. A target's first ``stats.warmup_probes`` answered probes are its baseline; then its tests
are designed from ``DetectorDesigner.signal_arl0`` (the share of the false-alarm budget they count
against). An alarm and a recovery are change points of scope ``signals`` whose ``evidence`` says what
moved; ``evidence(target)`` gives the same for the engine's pass-ratio and fingerprint change points.
An info event (a new served model id, a header value that held through the baseline changing) is
no change point (unbudgeted, like the fingerprint's id change): it is kept, exported and shown in
every later evidence.

State lives in the ledger's ``detector_state`` table (kind ``signals``), through the store's API;
``capmon baseline reset`` (which forgets detector state) makes a target re-learn it.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.ledger.results import ProbeResult
from agent.ledger.store import Store
from agent.stats import signals
from agent.stats.design import SIGNALS_SCOPE
from agent.stats.fingerprint import is_refusal
from agent.stats.snapshot import SignalView

log = logging.getLogger(__name__)

#: Answered probes the "after" side of a comparison is taken from.
RECENT = 50


@dataclass
class TargetSignals:
    """One target's warm-up, baseline, tests and recent observations."""

    warm: list[signals.Observation] = field(default_factory=list)
    baseline: signals.Baseline | None = None
    tests: dict[str, signals.ShareTest] = field(default_factory=dict)
    recent: deque[signals.Observation] = field(default_factory=lambda: deque(maxlen=RECENT))
    seen: set[str] = field(default_factory=set)
    #: info signal (served_model, header NAME) -> (baseline value, the newest value not seen before)
    info: dict[str, tuple[str, str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "warm": [_obs_dict(o) for o in self.warm],
            "baseline": None if self.baseline is None else self.baseline.to_dict(),
            "tests": {k: t.to_dict() for k, t in self.tests.items()},
            "recent": [_obs_dict(o) for o in self.recent],
            "seen": sorted(self.seen),
            "info": {k: list(v) for k, v in self.info.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TargetSignals:
        """From ``to_dict``."""
        st = cls(
            warm=[signals.Observation(**o) for o in d.get("warm", [])],
            baseline=None if d.get("baseline") is None else signals.Baseline.from_dict(d["baseline"]),
            tests={k: signals.ShareTest.from_dict(t) for k, t in d.get("tests", {}).items()},
            seen=set(d.get("seen", [])),
            info={k: (str(v[0]), str(v[1])) for k, v in d.get("info", {}).items()},
        )
        st.recent.extend(signals.Observation(**o) for o in d.get("recent", []))
        return st


def observe(r: ProbeResult) -> signals.Observation:
    """What the signals read of one answered probe (length: output tokens, else answer characters)."""
    try:
        headers = json.loads(r.headers) if r.headers else {}
    except ValueError:
        headers = {}
    length = r.output_tokens if r.output_tokens is not None else (len(r.response) if r.response else None)
    return signals.Observation(
        truncated=r.finish_reason == "length",
        refused=r.finish_reason == "content_filter" or is_refusal(r.response),
        length=None if length is None else float(length),
        latency_s=r.latency_s,
        ttft_s=r.ttft_s,
        model=r.response_model,
        headers={str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
    )


class SignalWatch:
    """Every target's signal tests; see the module docstring."""

    def __init__(self, store: Store, arl0: Callable[[str], float], warmup: int) -> None:
        self.store = store
        self._arl0 = arl0
        self.warmup = warmup
        self._targets: dict[str, TargetSignals] = {}
        self._touched: set[str] = set()
        self.load()

    def load(self) -> None:
        """Read the saved state (at start, and when the CLI changed baselines)."""
        self._targets = {
            str(s["target"]): TargetSignals.from_dict(s["data"])
            for s in self.store.detector_states()
            if s["detector"] == SIGNALS_SCOPE
        }

    def feed(self, r: ProbeResult) -> None:
        """Feed one result (errors are skipped: availability is not a signal)."""
        if r.outcome == "error":
            return
        st = self._targets.setdefault(r.target, TargetSignals())
        self._touched.add(r.target)
        o = observe(r)
        if st.baseline is None:
            st.warm.append(o)
            if len(st.warm) >= self.warmup:
                st.baseline = signals.learn(st.warm)
                st.tests = signals.design_tests(st.baseline, self._arl0(r.target))
                st.recent.extend(st.warm[-RECENT:])
                st.warm = []
            return
        st.recent.append(o)
        base = st.baseline
        for signal, before, after in signals.info_changes(base, o, st.seen):
            # Info, not a change point (as the fingerprint's id change): providers relabel models and
            # rotate headers without changing behaviour; it is shown beside every alarm's evidence.
            log.warning("%s: %s changed %s -> %s (info)", r.target, signal, before, after)
            st.info[signal] = (before, after)
        for name, hit in signals.indicators(base, o).items():
            test = st.tests.get(name)
            if test is None:
                continue
            event = test.update(hit)
            if event is not None and test is not None:
                size = test.p1 - test.p0 if event == "alarm" else test.p0 - test.p1
                self._change_point(r.ts, r.target, name, "rise" if event == "alarm" else "recovery", size, test, st)

    def _change_point(
        self,
        ts: float,
        target: str,
        signal: str,
        kind: str,
        size: float | None,
        test: signals.ShareTest,
        st: TargetSignals,
    ) -> None:
        evidence = self.evidence(target)
        if kind != "recovery":
            log.warning("change point: %s/%s %s: %s", target, signal, kind, signals.headline(evidence) or "-")
        self.store.add_change_point(
            ts=ts, target=target, scope=SIGNALS_SCOPE, detector=signal, direction=kind, size=size,
            statistic=test.h, threshold=test.h,
            probes=len(st.recent), evidence=evidence,
        )  # fmt: skip

    def evidence(self, target: str) -> list[dict[str, Any]]:
        """Which signals moved and by how much, baseline against the recent window ([] before a baseline)."""
        st = self._targets.get(target)
        if st is None or st.baseline is None:
            return []
        return signals.movement(st.baseline, list(st.recent), st.tests, st.info)

    def save(self) -> None:
        """Persist the targets fed since the last save."""
        for target in sorted(self._touched):
            self.store.put_detector_state(target, SIGNALS_SCOPE, SIGNALS_SCOPE, self._targets[target].to_dict())
        self._touched.clear()

    def warmup_left(self, target: str) -> int:
        """Answered probes the target's signal tests still need before they are designed (0 once they are)."""
        st = self._targets.get(target)
        if st is None:
            return self.warmup
        return 0 if st.baseline is not None else max(0, self.warmup - len(st.warm))

    def views(self) -> list[SignalView]:
        """Per target with a baseline: the compared values and the alarm flags."""
        out = []
        for target, st in sorted(self._targets.items()):
            if st.baseline is None:
                continue
            values = {
                m["signal"]: (m["before"], m["after"]) for m in self.evidence(target) if m["signal"] != "served_model"
            }
            out.append(SignalView(target, values, {k: t.latched for k, t in st.tests.items()}, tuple(sorted(st.info))))
        return out


def acknowledge(store: Store, target: str, signal: str | None = None) -> list[str]:
    """Re-arm a target's alarmed signal tests (one by name, or all) from the saved state: the latch
    falls and the statistic restarts from zero against the same baseline. ``signals/NAME`` of each."""
    names: list[str] = []
    for saved in store.detector_states():
        if saved["target"] != target or saved["detector"] != SIGNALS_SCOPE:
            continue
        st = TargetSignals.from_dict(saved["data"])
        for name, test in st.tests.items():
            if test.latched and signal in (None, name):
                test.rearm()
                names.append(name)
        if names:
            store.put_detector_state(target, SIGNALS_SCOPE, SIGNALS_SCOPE, st.to_dict())
    return [f"{SIGNALS_SCOPE}/{n}" for n in names]


def _obs_dict(o: signals.Observation) -> dict[str, Any]:
    return dict(o.__dict__)
