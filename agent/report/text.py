"""Headings and one-sentence explanations, shared by the HTML and Markdown reports."""

from __future__ import annotations

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
        "(1 easy, 10 hard) and the shaded band is the 95% interval — a line that stays high further to the "
        "right means a more capable model.",
    ),
    "frontier": (
        "Capability frontier",
        "The difficulty level at which each model passes half the time, fitted over all levels, with its 95% "
        "interval; an arrow means the model passed (▶) or failed (◀) everything tested, so its frontier lies "
        "outside the range.",
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
    "groups": (
        "Side-by-side comparison",
        "Models in one comparison group received exactly the same questions, so differences are paired "
        "item by item (McNemar's test); an interval that excludes zero means one model is reliably better on "
        "that skill, and cost per correct answer shows what each correct answer costs.",
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
