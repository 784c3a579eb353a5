"""Signal detectors: what kind of change, beside whether answers are still right. Pure cores over data.

Per target, over every answered probe (outcome pass or fail; errors are availability, never a signal):

| signal | indicator per probe | alarm on |
|---|---|---|
| ``truncation`` | ``finish_reason == "length"`` | its share rising |
| ``refusal`` | ``finish_reason == "content_filter"`` or a refusal phrase (``is_refusal``) | its share rising |
| ``shorter`` / ``longer`` | output length below / above the baseline median (ties skipped) | its share rising |
| ``latency`` | latency above ``SLOW_MARGIN`` (1.25) x the baseline's 90th percentile | that share rising (slower) |
| ``ttft`` | time to first token above 1.25 x the baseline's 90th percentile (streamed probes) | that share rising |

``shorter`` and ``longer`` are a sign test on the median: under no change each share of the probes
off the median stays where the baseline put it (ties are skipped online, so the baseline share is
counted among the baseline's own off-median values). A slow probe is one past the baseline's 90th
percentile by a margin: an endpoint a few per cent slower (a busier host) is not "slower", one whose
slow tail moved by a quarter is; the baseline share is bounded by exchangeability (a new value
exceeds the k-th of n in (n + 1 - k) of n + 1 cases, more than it exceeds 1.25 x that value).

Every budgeted test is the same core (``ShareTest``): a one-sided CUSUM of Bernoulli log-likelihood
ratios, ``p0`` the baseline share (its one-sided 95 % Wilson upper bound: the baseline is estimated)
against ``p0 + SHIFT[signal]``, threshold ``h = ln(ARL0)``. For a CUSUM of exact log-likelihood
ratios the in-control ARL is at least ``e^h`` (Lorden's bound), so no table is needed and it holds
without assuming a latency or length distribution: the indicators make every test distribution-free.
``ARL0`` comes from the target's monthly false-alarm budget, shared with the pass-ratio detectors
(``design.DetectorDesigner.signal_arl0``). After an alarm a test is latched until a recovery CUSUM
(``p0 + SHIFT`` back to ``p0``, same threshold) crosses; then it re-arms from zero.

Served model id and the attribution headers are information, not tests: a reported model id, or a
value of a header that held one value through the whole baseline, not seen before is an ``info``
event (no false alarms to budget: it is a fact, not an inference).

``movement`` compares the baseline with the recent window and says which signals moved and by how
much; a change point stores it as its evidence, so an alarm reads "answers truncated:
finish_reason=length 0 % → 91 %; output tokens −84 % (median 120 → 19)".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: The budgeted tests of a target, in the order they are reported.
SIGNALS = ("truncation", "refusal", "shorter", "longer", "latency", "ttft")
#: Alternative share minus baseline share each test is designed for.
SHIFT = {"truncation": 0.25, "refusal": 0.25, "shorter": 0.25, "longer": 0.25, "latency": 0.3, "ttft": 0.3}
#: Fewest recent probes an evidence's "after" side is taken from.
MIN_AFTER = 5
#: Quantile of the baseline a latency (or TTFT) must exceed, by ``SLOW_MARGIN``, to count as slow.
SLOW_QUANTILE = 0.9
#: Factor on that quantile: a live A/A on a shared host saw TTFT's median drift 13 % (0.125 -> 0.141 s)
#: with load, which moved the share above the bare 90th percentile far enough to alarm three times in
#: five minutes; a slow tail 25 % past the baseline's is a change worth a page, load jitter is not.
SLOW_MARGIN = 1.25
#: One-sided 95 % normal quantile of the Wilson bound on a baseline share.
_Z = 1.645
#: Largest alternative share (a share of 1 makes a likelihood ratio infinite).
_MAX_SHARE = 0.98


def wilson_upper(k: int, n: int, z: float = _Z) -> float:
    """One-sided upper Wilson score bound of a share k/n."""
    if n <= 0:
        return 1.0
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + spread) / (1 + z * z / n))


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile of values (nearest rank: an observed value)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("quantile of nothing")
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass
class ShareTest:
    """One-sided Bernoulli CUSUM (``p0`` → ``p1``, threshold ``h`` nats) with a latched recovery test."""

    p0: float
    p1: float
    h: float
    statistic: float = 0.0
    latched: bool = False
    recovery: float = 0.0
    #: Indicators fed since the statistic last left zero: how long ago the change it sees began.
    run: int = 0

    @classmethod
    def design(cls, k: int, n: int, shift: float, arl0: float) -> ShareTest:
        """From a baseline of k hits in n: p0 the Wilson upper bound, p1 = p0 + shift, h = ln(arl0)."""
        p0 = min(max(wilson_upper(k, n), 0.5 / max(n, 1)), _MAX_SHARE - 0.01)
        return cls(p0=p0, p1=min(_MAX_SHARE, p0 + shift), h=math.log(max(arl0, 2.0)))

    def _llr(self, hit: bool) -> float:
        return math.log(self.p1 / self.p0) if hit else math.log((1 - self.p1) / (1 - self.p0))

    def update(self, hit: bool) -> str | None:
        """Feed one indicator; "alarm" when the test crosses, "recovery" when a latched one returns."""
        step = self._llr(hit)
        if self.latched:
            self.recovery = max(0.0, self.recovery - step)
            if self.recovery >= self.h:
                self.rearm()
                return "recovery"
            return None
        self.statistic = max(0.0, self.statistic + step)
        self.run = self.run + 1 if self.statistic > 0 else 0
        if self.statistic >= self.h:
            self.latched, self.statistic, self.recovery = True, 0.0, 0.0
            return "alarm"
        return None

    def rearm(self) -> None:
        """Unlatch and restart from zero against the same p0 and p1 (a recovery, or an acknowledgement)."""
        self.latched, self.recovery, self.statistic, self.run = False, 0.0, 0.0, 0

    @property
    def progress(self) -> float:
        """Statistic over threshold (1 at alarm); 1 while latched."""
        return 1.0 if self.latched else self.statistic / self.h

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"p0": self.p0, "p1": self.p1, "h": self.h, "s": self.statistic, "latched": self.latched,
                "r": self.recovery, "run": self.run}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ShareTest:
        """From ``to_dict``."""
        return cls(
            float(d["p0"]),
            float(d["p1"]),
            float(d["h"]),
            float(d["s"]),
            bool(d["latched"]),
            float(d["r"]),
            int(d["run"]),
        )


@dataclass(frozen=True)
class Observation:
    """What the signals read of one answered probe."""

    truncated: bool
    refused: bool
    length: float | None
    latency_s: float
    ttft_s: float | None
    model: str | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Baseline:
    """The reference each test and each comparison is made against, learned from a warm-up."""

    n: int
    truncated: int
    refused: int
    length_median: float | None
    below: int  # lengths below the median
    above: int  # lengths above it
    lengths: int  # probes with a length
    latency_slow: float
    latency_p50: float
    ttft_slow: float | None
    ttft_p50: float | None
    ttfts: int
    models: tuple[str, ...]
    headers: dict[str, str]  # headers that held one value through the whole warm-up

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {**self.__dict__, "models": list(self.models)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Baseline:
        """From ``to_dict``."""
        return cls(**{**d, "models": tuple(d["models"])})


def learn(obs: Sequence[Observation]) -> Baseline:
    """The baseline of a warm-up (at least one observation)."""
    lengths = [o.length for o in obs if o.length is not None]
    median = quantile(lengths, 0.5) if lengths else None
    latencies = [o.latency_s for o in obs]
    ttfts = [o.ttft_s for o in obs if o.ttft_s is not None]
    constant: dict[str, str] = {}
    if obs:
        first = obs[0].headers
        constant = {k: v for k, v in first.items() if all(o.headers.get(k) == v for o in obs)}
    return Baseline(
        n=len(obs),
        truncated=sum(o.truncated for o in obs),
        refused=sum(o.refused for o in obs),
        length_median=median,
        below=sum(1 for x in lengths if median is not None and x < median),
        above=sum(1 for x in lengths if median is not None and x > median),
        lengths=len(lengths),
        latency_slow=SLOW_MARGIN * quantile(latencies, SLOW_QUANTILE),
        latency_p50=quantile(latencies, 0.5),
        ttft_slow=SLOW_MARGIN * quantile(ttfts, SLOW_QUANTILE) if ttfts else None,
        ttft_p50=quantile(ttfts, 0.5) if ttfts else None,
        ttfts=len(ttfts),
        models=tuple(sorted({o.model for o in obs if o.model}))[:16],
        headers=constant,
    )


def design_tests(base: Baseline, arl0: float) -> dict[str, ShareTest]:
    """The budgeted tests a baseline supports (length and TTFT tests need values in the baseline)."""
    tests = {
        "truncation": ShareTest.design(base.truncated, base.n, SHIFT["truncation"], arl0),
        "refusal": ShareTest.design(base.refused, base.n, SHIFT["refusal"], arl0),
        "latency": ShareTest.design(*_slow_share(base.n), SHIFT["latency"], arl0),
    }
    off = base.below + base.above
    if base.length_median is not None and off:
        # Ties with the median are skipped online, so the shares are among the off-median values.
        tests["shorter"] = ShareTest.design(base.below, off, SHIFT["shorter"], arl0)
        tests["longer"] = ShareTest.design(base.above, off, SHIFT["longer"], arl0)
    if base.ttft_slow is not None and base.ttfts:
        tests["ttft"] = ShareTest.design(*_slow_share(base.ttfts), SHIFT["ttft"], arl0)
    return tests


def _slow_share(n: int) -> tuple[int, int]:
    """(hits, trials) bounding how often a new value exceeds the nearest-rank ``SLOW_QUANTILE`` of n
    values: it exceeds the k-th smallest of n exchangeable values with probability (n + 1 - k) / (n + 1),
    and the slow threshold (``SLOW_MARGIN`` x that value) less often."""
    k = min(n, max(1, math.ceil(SLOW_QUANTILE * n)))
    return n + 1 - k, n + 1


def indicators(base: Baseline, o: Observation) -> dict[str, bool]:
    """Each test's indicator for one observation (tests a value cannot speak to are left out)."""
    hits = {"truncation": o.truncated, "refusal": o.refused, "latency": o.latency_s > base.latency_slow}
    if o.length is not None and base.length_median is not None and o.length != base.length_median:
        hits["shorter"] = o.length < base.length_median
        hits["longer"] = o.length > base.length_median
    if o.ttft_s is not None and base.ttft_slow is not None:
        hits["ttft"] = o.ttft_s > base.ttft_slow
    return hits


def info_changes(base: Baseline, o: Observation, seen: set[str]) -> list[tuple[str, str, str]]:
    """(signal, before, after) for a model id or constant header value not seen before; adds it to ``seen``.

    ``signal`` is ``served_model`` or ``header NAME``."""
    out: list[tuple[str, str, str]] = []
    if o.model and base.models and o.model not in base.models and f"model={o.model}" not in seen:
        seen.add(f"model={o.model}")
        out.append(("served_model", ", ".join(base.models), o.model))
    for k, v in sorted(base.headers.items()):
        now = o.headers.get(k)
        if now is not None and now != v and f"{k}={now}" not in seen:
            seen.add(f"{k}={now}")
            out.append((f"header {k}", v, now))
    return out


def movement(
    base: Baseline,
    recent: Sequence[Observation],
    tests: dict[str, ShareTest],
    info: Mapping[str, tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """Each signal's baseline and recent value, whether it moved (its test past half its threshold or
    latched) and a one-line text, then the info changes seen (``info_changes``); moved signals first."""
    if not recent:
        return []
    # "After" is what a moving test has seen since its change began (at least MIN_AFTER probes; a
    # latched test keeps the run it alarmed on); with none moving, the whole recent window.
    runs = [t.run for t in tests.values() if t.progress >= 0.5]
    if runs:
        recent = recent[-max(MIN_AFTER, max(runs)) :]
    n = len(recent)
    out: list[dict[str, Any]] = []

    def moved(*names: str) -> bool:
        return any(t.progress >= 0.5 for name, t in tests.items() if name in names)

    trunc = sum(o.truncated for o in recent) / n
    out.append(
        _item(
            "truncation",
            base.truncated / base.n,
            trunc,
            moved("truncation"),
            f"answers truncated: finish_reason=length {_pct(base.truncated / base.n)} → {_pct(trunc)}",
        )
    )
    refused = sum(o.refused for o in recent) / n
    out.append(
        _item(
            "refusal",
            base.refused / base.n,
            refused,
            moved("refusal"),
            f"refusals: {_pct(base.refused / base.n)} → {_pct(refused)}",
        )
    )
    lengths = [o.length for o in recent if o.length is not None]
    if lengths and base.length_median:
        med = quantile(lengths, 0.5)
        change = med / base.length_median - 1
        out.append(
            _item(
                "output_length",
                base.length_median,
                med,
                moved("shorter", "longer"),
                f"output length {change:+.0%} (median {base.length_median:g} → {med:g})",
            )
        )
    lat = quantile([o.latency_s for o in recent], 0.5)
    out.append(
        _item("latency", base.latency_p50, lat, moved("latency"), f"latency p50 {base.latency_p50:.2f} s → {lat:.2f} s")
    )
    ttfts = [o.ttft_s for o in recent if o.ttft_s is not None]
    if ttfts and base.ttft_p50 is not None:
        t50 = quantile(ttfts, 0.5)
        out.append(
            _item(
                "ttft",
                base.ttft_p50,
                t50,
                moved("ttft"),
                f"time to first token p50 {base.ttft_p50:.3f} s → {t50:.3f} s",
            )
        )
    for signal, (before, after) in sorted((info or {}).items()):
        out.append(_item(signal, None, None, True, f"{signal.replace('_', ' ')} {before} → {after}"))
    return sorted(out, key=lambda m: not m["moved"])


def headline(evidence: Sequence[dict[str, Any]]) -> str:
    """The moved signals' texts joined: what an alarm says changed ("" when none moved)."""
    return "; ".join(str(m["text"]) for m in evidence if m.get("moved"))


def _item(signal: str, before: float | None, after: float | None, moved: bool, text: str) -> dict[str, Any]:
    return {"signal": signal, "before": before, "after": after, "moved": moved, "text": text}


def _pct(share: float) -> str:
    return f"{share * 100:.0f} %"
