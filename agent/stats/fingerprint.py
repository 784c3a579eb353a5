"""Behaviour fingerprint: notice when the model behind an endpoint changes without notice.

The runner sends the same canary prompts at temperature 0 on every run. During a warm-up the modal
(whitespace-normalised) answer to each prompt becomes its baseline answer, and the share of warm-up
answers equal to their prompt's mode is the endpoint's own agreement rate p0: servers are not fully
deterministic even at temperature 0 (a llama.cpp server repeated itself ~70% of the time), so the
test is against p0, not against 1. Answers to one prompt are not exchangeable with answers to another
(one prompt may always come back the same, another vary), so agreement is counted per prompt and
combined with equal weight — every run asks every prompt once — and the baseline's uncertainty is the
stratified one (``learn_baseline``). After warm-up a Bernoulli CUSUM on "answer equals baseline"
tests p0 against p0/2 — a different model rarely reproduces the old answers — with the threshold set
exactly from the false-alarm budget (see ``cusum``). A changed reported model id or
system_fingerprint is an info flag (``id_changed``), not an alarm: it spends no false-alarm budget.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from agent.stats.cusum import BASELINE_QUANTILE, Cusum, CusumDesign, design

#: Warm-up answers per canary prompt before the fingerprint arms (at most ``stats.warmup_probes`` in
#: all): 5 runs at the defaults (3 prompts, one run every 300 s), so a silent swap is detectable
#: within the first hour of monitoring; the baseline guard designs for that short warm-up.
ANSWERS_PER_PROMPT = 5

#: What one canary answer did to the detector: nothing, an alarm, or a return to the baseline.
Event = Literal["alarm", "recovery"] | None

_REFUSAL = re.compile(
    r"\b(i can(?:no|')t|i cannot|i'm sorry|i am sorry|as an ai\b|i'm unable|i am unable|i won't|i will not)",
    re.IGNORECASE,
)


def normalise(text: str | None) -> str:
    """Whitespace-normalised response (None → empty)."""
    return " ".join((text or "").split())


def is_refusal(text: str | None) -> bool:
    """A heuristic: the response declines rather than answers."""
    return bool(text) and _REFUSAL.search(text or "") is not None


@dataclass(frozen=True)
class FingerprintBaseline:
    """Baseline answers per canary prompt, the endpoint's own agreement rate, and reported ids."""

    answers: dict[str, str]
    agreement: float
    n: int
    models: tuple[str, ...] = ()
    fingerprints: tuple[str, ...] = ()
    #: Per prompt: (warm-up answers equal to its baseline answer, warm-up answers).
    per_prompt: dict[str, tuple[int, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "answers": self.answers,
            "agreement": self.agreement,
            "n": self.n,
            "models": list(self.models),
            "fingerprints": list(self.fingerprints),
            "per_prompt": {k: list(v) for k, v in self.per_prompt.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FingerprintBaseline:
        """Inverse of ``to_dict``."""
        return cls(
            dict(data["answers"]),
            float(data["agreement"]),
            int(data["n"]),
            tuple(data.get("models", ())),
            tuple(data.get("fingerprints", ())),
            {str(k): (int(v[0]), int(v[1])) for k, v in data.get("per_prompt", {}).items()},
        )


def learn_baseline(rows: Iterable[tuple[str, str | None, str | None, str | None]]) -> FingerprintBaseline:
    """(item_key, response, response_model, system_fingerprint) warm-up rows → baseline.

    Per prompt j: the modal answer, and its agreement a_j = (answers equal to the mode + ½)/(answers + 1)
    (shrunk off 1: a perfectly repeatable warm-up still leaves room for rare nondeterminism). The
    baseline agreement is the mean of the a_j (the monitor sees every prompt equally often), and ``n``
    the effective sample size of that stratified mean, p0(1 − p0) / Σ a_j(1 − a_j)/(m² n_j), at most
    the number of answers: the posterior the detector design averages over.
    """
    by_key: dict[str, list[str]] = defaultdict(list)
    models: set[str] = set()
    fps: set[str] = set()
    for key, response, model, fp in rows:
        by_key[key].append(normalise(response))
        if model:
            models.add(model)
        if fp:
            fps.add(fp)
    answers: dict[str, str] = {}
    per_prompt: dict[str, tuple[int, int]] = {}
    for key, responses in by_key.items():
        mode, count = Counter(responses).most_common(1)[0]
        answers[key] = mode
        per_prompt[key] = (count, len(responses))
    total = sum(n for _, n in per_prompt.values())
    if total == 0:
        raise ValueError("no warm-up responses")
    rates = [((k + 0.5) / (n + 1.0), n) for k, n in per_prompt.values()]
    m = len(rates)
    p0 = sum(a for a, _ in rates) / m
    var = sum(a * (1 - a) / n for a, n in rates) / m**2
    n_eff = min(total, max(1, round(p0 * (1 - p0) / var)))
    return FingerprintBaseline(answers, p0, n_eff, tuple(sorted(models)), tuple(sorted(fps)), per_prompt)


def agreement_design(baseline: FingerprintBaseline, arl0: float, quantile: float = BASELINE_QUANTILE) -> CusumDesign:
    """CUSUM design for the agreement rate dropping from p0 to p0/2."""
    return design(baseline.agreement, baseline.agreement / 2, arl0, baseline_n=baseline.n, quantile=quantile)


@dataclass
class FingerprintMonitor:
    """Agreement CUSUM plus model-id / system-fingerprint change flags for one target.

    After an alarm the agreement CUSUM rests and ``recovery`` (a CUSUM for agreement back from p0/2
    to p0) watches for the baseline answers to return; when it crosses, the monitor re-arms.
    """

    baseline: FingerprintBaseline
    cusum: Cusum
    seen: int = 0
    agreed: int = 0
    alarmed: bool = False
    id_changed: bool = False
    last_model: str | None = None
    last_fingerprint: str | None = None
    recent: list[int] = field(default_factory=list)
    recovery: Cusum | None = None
    #: Per prompt since arming: [answers equal to the baseline answer, answers].
    by_prompt: dict[str, list[int]] = field(default_factory=dict)

    #: Recent agreement outcomes kept for the agreement ratio gauge.
    RECENT = 200

    def update(self, key: str, response: str | None, model: str | None, fingerprint: str | None) -> Event:
        """Feed one canary response: "alarm" when the agreement CUSUM crosses now, "recovery" when the
        recovery test does (agreement back at the baseline after an alarm), else None."""
        if model:
            self.last_model = model
            if self.baseline.models and model not in self.baseline.models:
                self.id_changed = True
        if fingerprint:
            self.last_fingerprint = fingerprint
            if self.baseline.fingerprints and fingerprint not in self.baseline.fingerprints:
                self.id_changed = True
        expected = self.baseline.answers.get(key)
        if expected is None:
            return None  # a prompt added after warm-up has no baseline answer
        same = normalise(response) == expected
        self.seen += 1
        self.agreed += int(same)
        counts = self.by_prompt.setdefault(key, [0, 0])
        counts[0] += int(same)
        counts[1] += 1
        self.recent.append(int(same))
        del self.recent[: -self.RECENT]
        if self.alarmed:
            if self.recovery is not None and self.recovery.update(same):
                self.rearm()
                return "recovery"
            return None
        if self.cusum.update(same):
            self.alarmed = True
            d = self.cusum.design
            try:
                self.recovery = Cusum(design(d.p1, d.p0, d.arl0))
            except ValueError:
                self.recovery = None  # only an acknowledgement re-arms it
            return "alarm"
        return None

    def rearm(self) -> None:
        """Back to armed: the agreement CUSUM from zero, no recovery watch."""
        self.alarmed = False
        self.recovery = None
        self.cusum.reset()

    @property
    def agreement(self) -> float | None:
        """Agreement with the baseline answers over the recent canary responses."""
        return sum(self.recent) / len(self.recent) if self.recent else None

    def prompt_agreement(self) -> dict[str, float]:
        """Agreement with the baseline answer per prompt since arming."""
        return {k: a / n for k, (a, n) in self.by_prompt.items() if n}

    @property
    def changed(self) -> bool:
        """The agreement test fired (an id change alone is info: ``id_changed``)."""
        return self.alarmed

    def to_dict(self) -> dict[str, Any]:
        """JSON-able state (the design included, the baseline stored separately)."""
        return {
            "design": self.cusum.design.to_dict(),
            **self.cusum.to_dict(),
            "seen": self.seen,
            "agreed": self.agreed,
            "alarmed": self.alarmed,
            "id_changed": self.id_changed,
            "last_model": self.last_model,
            "last_fingerprint": self.last_fingerprint,
            "recent": self.recent,
            "by_prompt": self.by_prompt,
            "recovery": None
            if self.recovery is None
            else {"design": self.recovery.design.to_dict(), **self.recovery.to_dict()},
        }

    @classmethod
    def restore(cls, baseline: FingerprintBaseline, data: dict[str, Any]) -> FingerprintMonitor:
        """Rebuild from ``to_dict`` output."""
        cusum = Cusum(CusumDesign.from_dict(data["design"]))
        cusum.load(data)
        recovery = None
        if data.get("recovery"):
            recovery = Cusum(CusumDesign.from_dict(data["recovery"]["design"]))
            recovery.load(data["recovery"])
        return cls(
            baseline,
            cusum,
            int(data["seen"]),
            int(data["agreed"]),
            bool(data["alarmed"]),
            bool(data["id_changed"]),
            data.get("last_model"),
            data.get("last_fingerprint"),
            [int(x) for x in data.get("recent", [])],
            recovery,
            {str(k): [int(v[0]), int(v[1])] for k, v in data.get("by_prompt", {}).items()},
        )
