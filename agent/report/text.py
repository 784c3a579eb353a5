"""Headings and one-sentence explanations, shared by the HTML and Markdown reports."""

from __future__ import annotations

from agent.report import fmt
from agent.report.model import Report

SECTIONS: dict[str, tuple[str, str]] = {
    "summary": (
        "Summary per model endpoint",
        "Pass ratio is the share of freshly generated test questions answered correctly (never seen before, "
        "so they cannot have been memorised), with a 95% interval; endpoint errors (timeouts, rate limits, "
        "outages) are counted separately and never as wrong answers.",
    ),
    "curves": (
        "Capability curves: pass ratio by difficulty",
        "Each panel is one skill; the line shows how often each model passes at each difficulty level "
        "(1 is easy; each skill's scale runs to its own top level, and only the levels probed are shown) "
        "and the shaded band is the 95% interval — a line that stays high further to the "
        "right means a more capable model.",
    ),
    "frontier": (
        "Capability frontier",
        "The difficulty level at which each model passes half the time, fitted over all levels, with its 95% "
        "interval; an arrow (▶ or ◀) means the frontier lies above or below the levels tested, so more "
        "(or easier) levels are needed to place it.",
    ),
    "gradient": (
        "Novelty gradient: robustness to unfamiliar wording",
        "The same problems asked in plain wording (level 0) and increasingly unfamiliar wording (up to 3); a "
        "negative slope means the model relies on familiar phrasing rather than on the skill itself.",
    ),
    "leakage": (
        "Leakage gap: published versus fresh questions",
        "Pass ratio on a fixed, published set of questions minus the pass ratio on fresh questions of the "
        "same kind and difficulty; a gap well above zero suggests the fixed questions have been learned "
        "(training contamination), so benchmark-style scores overstate the model.",
    ),
    "consistency": (
        "Consistency across rewordings",
        "How often the model gives the same answer to one problem asked in different words; low consistency "
        "means answers depend on phrasing, which makes the model less predictable in use.",
    ),
    "drift": (
        "Drift timeline",
        "Pass ratio over time with its 95% band; dashed lines mark changes the sequential detectors flagged "
        "(red: a drop, green: a rise), which can reveal a silent model update by the vendor.",
    ),
    "changes": (
        "What changed",
        "Per endpoint, each change a detector flagged, what moved with it (answers cut off, refusals, answer "
        "length, latency, time to first token, the served model), and the same fixed question answered "
        "before and after the change.",
    ),
    "groups": (
        "Side-by-side comparison",
        "Models in one comparison group received exactly the same questions, so differences are paired "
        "item by item; one model is called better on a skill only when the interval of the difference "
        "excludes zero and McNemar's test agrees, and cost per correct answer shows what each correct "
        "answer costs.",
    ),
    "versions": (
        "Generator versions",
        "Which version of each skill's question generator produced the results above; when a generator "
        "changes its questions its version changes, and baselines and change detection start again for "
        "that skill rather than compare questions of different kinds.",
    ),
}

METHOD = (
    "Intervals are 95% Wilson score intervals for ratios, profile-likelihood intervals for the frontier, "
    "Newcombe intervals for the leakage gap and for paired differences; p-values for paired comparisons "
    "are exact McNemar tests on the items where the models disagreed. Cost per correct answer is the "
    "token cost of every probe sent in the period (from the price table in the configuration) divided by "
    "the number of correct answers."
)


def section(key: str, confidence: float) -> tuple[str, str]:
    """Heading and explanation of a section, with the report's confidence level written in."""
    title, explain = SECTIONS[key]
    return title, explain.replace("95%", f"{confidence:.0%}")


def method(confidence: float) -> str:
    """The method note with the report's confidence level written in."""
    return METHOD.replace("95%", f"{confidence:.0%}")


def highlights(report: Report) -> list[str]:
    """A few plain sentences for the top of the report, each traceable to a section below."""
    out: list[str] = []
    scored = [s for s in report.summaries if s.pass_ratio.n]
    if scored:
        best = max(scored, key=lambda s: s.pass_ratio.k / s.pass_ratio.n)
        out.append(
            f"Highest pass ratio: {best.target}, {fmt.ratio(best.pass_ratio)} of fresh questions answered correctly."
        )
    priced = [s for s in report.summaries if s.cost_per_correct_usd is not None]
    if len(priced) > 1:
        cheap = min(priced, key=lambda s: s.cost_per_correct_usd or 0.0)
        out.append(f"Lowest cost per correct answer: {cheap.target}, {fmt.usd(cheap.cost_per_correct_usd)}.")
    for s in report.summaries:
        if s.probes and s.errors / s.probes >= 0.05:
            out.append(
                f"{s.target}: {s.errors} of {s.probes} requests failed at the endpoint (availability, "
                "not counted as wrong answers)."
            )
    for card in report.groups:
        for r in card.rows:
            if r.family == "all" and r.lower is not None and r.upper is not None:
                reading = fmt.verdict(r, report.confidence)
                out.append(
                    f"Group {card.group}: {r.target} vs {r.baseline} on {r.pairs} identical questions: "
                    f"{fmt.points(r.difference)} ({reading}, McNemar p = {fmt.p_value(r.p_value)})."
                )
    if report.change_points:
        targets = sorted({c.target for c in report.change_points})
        out.append(
            f"{len(report.change_points)} change point(s) detected ({', '.join(targets)}): see the drift timeline."
        )
    else:
        out.append("No change in behaviour was detected in this period.")
    return out
