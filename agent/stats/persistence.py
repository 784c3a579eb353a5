"""Where the statistics keep their state in the ledger: baselines, detector state, progress markers.

Rows of the ``baselines`` and ``detector_state`` tables, keyed (target, scope, kind):

- ``pass_ratio``: a scope's pass-ratio baseline ``{"p0", "n"}`` (``p0`` None: re-learning, as
  versions before issue 15 did after an alarm; the warm-up resumes);
  its detectors, warm-up, latched flags and recovery tests in ``detector_state`` under the same kind;
- ``fingerprint`` (scope ``fingerprint``): a target's canary-answer baseline and its monitor.

Two meta keys: ``stats_last_id`` (the last result row fed) and ``stats_baseline_version``, which
``capmon baseline pin|reset|ack`` bump so that a running engine reloads (the CLI → meta → engine flow).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from agent.ledger.store import Store
from agent.stats import signal_watch
from agent.stats.detectors import FingerprintState, ScopeState
from agent.stats.fingerprint import FingerprintBaseline, FingerprintMonitor

LAST_ID_KEY = "stats_last_id"
VERSION_KEY = "stats_baseline_version"
#: Kind of the pass-ratio baseline and of the pass-ratio detectors' state.
PASS_RATIO = "pass_ratio"
#: Kind (and scope) of the behaviour fingerprint's baseline and state.
FINGERPRINT = "fingerprint"


@dataclass
class Loaded:
    """Everything the engine resumes from."""

    scopes: dict[tuple[str, str], ScopeState] = field(default_factory=dict)
    fingerprints: dict[str, FingerprintState] = field(default_factory=dict)
    last_id: int = 0
    version: str | None = None


def load(store: Store) -> Loaded:
    """Baselines, detector state and the progress markers, as the engine left them."""
    out = Loaded(last_id=int(store.get_meta(LAST_ID_KEY) or 0), version=store.get_meta(VERSION_KEY))
    for b in store.baselines():
        target, scope, data = str(b["target"]), str(b["scope"]), b["data"]
        if b["detector"] == PASS_RATIO:
            st = out.scopes.setdefault((target, scope), ScopeState())
            st.pinned = bool(b["pinned"])
            if data.get("p0") is not None:  # None: re-learning after an alarm
                st.p0, st.n0 = float(data["p0"]), int(data["n"])
        elif b["detector"] == FINGERPRINT and "answers" in data:
            fp = out.fingerprints.setdefault(target, FingerprintState())
            fp.baseline, fp.pinned = FingerprintBaseline.from_dict(data), bool(b["pinned"])
    for s in store.detector_states():
        target, scope, data = str(s["target"]), str(s["scope"]), s["data"]
        if s["detector"] == PASS_RATIO:
            out.scopes.setdefault((target, scope), ScopeState()).load(data)
        elif s["detector"] == FINGERPRINT:
            fp = out.fingerprints.setdefault(target, FingerprintState())
            fp.warm_after_id, fp.warm_n = int(data["warm_after_id"]), int(data["warm_n"])
            fp.latched = bool(data["latched"])
            if data.get("monitor") is not None and fp.baseline is not None:
                fp.monitor = FingerprintMonitor.restore(fp.baseline, data["monitor"])
    return out


def save_scope(store: Store, target: str, scope: str, st: ScopeState) -> None:
    """Persist a scope's warm-up, detectors and latched flags."""
    store.put_detector_state(target, scope, PASS_RATIO, st.to_dict())


def save_fingerprint(store: Store, target: str, fp: FingerprintState) -> None:
    """Persist a target's fingerprint warm-up and monitor."""
    store.put_detector_state(target, FINGERPRINT, FINGERPRINT, fp.to_dict())


def save_last_id(store: Store, last_id: int) -> None:
    """Remember the last result row fed."""
    store.set_meta(LAST_ID_KEY, str(last_id))


def bump_version(store: Store) -> None:
    """Tell a running engine that baselines changed under it (``capmon baseline pin|reset``)."""
    store.set_meta(VERSION_KEY, repr(time.time()))


def acknowledge(store: Store, target: str, detector: str | None = None) -> list[str]:
    """Re-arm a target's alarmed detectors and signal tests (one by name, or all): ``scope/detector``
    of each one re-armed.

    The flag falls, the recovery watch stops and the statistic restarts from zero against the same
    baseline; the caller bumps the version so that a running engine reloads.
    """
    loaded = load(store)
    acked: list[str] = []
    for (t, scope), st in sorted(loaded.scopes.items()):
        if t != target:
            continue
        names = st.acknowledge(detector)
        if names:
            save_scope(store, t, scope, st)
            acked += [f"{scope}/{name}" for name in names]
    fp = loaded.fingerprints.get(target)
    if fp is not None and detector in (None, FINGERPRINT) and fp.acknowledge():
        save_fingerprint(store, target, fp)
        acked.append(f"{FINGERPRINT}/{FINGERPRINT}")
    return acked + signal_watch.acknowledge(store, target, detector)
