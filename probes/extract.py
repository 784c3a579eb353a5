"""Answer extraction that tolerates what real models write.

Models wrap answers in prose, markdown, ``\\boxed{}``, tags or equations ("7 + 5 = 12.").
Every prompt states a format (usually a last line ``Answer: <x>``); extraction prefers the
stated markers and falls back to weaker cues. Cost is bounded on adversarial text: only the
last ``MAX_CHARS`` characters are looked at and every regex is free of nested quantifiers,
so matching stays linear in that capped length.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: Only the tail of a response is searched; answers come last and this bounds the work.
MAX_CHARS = 4000
#: At most this many JSON decode attempts per response (each is linear in the tail).
MAX_JSON_ATTEMPTS = 64

_TAG = re.compile(r"<answer>([^<]{0,400})</answer>", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{([^{}]{0,400})\}")
_JSON_ANSWER = re.compile(
    r"\"answer\"[ \t]{0,8}:[ \t]{0,8}(\"[^\"\n]{0,400}\"|[^,}\n]{1,400})", re.IGNORECASE
)
_MARKER = re.compile(
    r"(?:final[ \t]+answer|answer|final[ \t]+result)[*_ \t]{0,6}(?:is)?[*_ \t]{0,6}[:=][ \t]{0,8}([^\n]{0,400})",
    re.IGNORECASE,
)
_ANSWER_IS = re.compile(
    r"(?:the[ \t]+)?(?:final[ \t]+)?answer[ \t]+is[ \t:]{0,8}([^\n]{0,400})", re.IGNORECASE
)
# Digit groups of exactly three after a separator, so "1,234,567" and "1 234" are one number
# while "3, 4" stays two; the group repeats but its body is fixed-width (no nested quantifier).
_NUMBER = re.compile(r"[-−]?(?:\d{1,3}(?:[,  _']\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d{1,3})?")
_WORD = re.compile(r"\S+")
_FENCE = re.compile(r"```(?:json)?[ \t]*\n([^`]{0,3900})```", re.IGNORECASE)
_MARKUP = str.maketrans("", "", "*`")


def tail(text: str) -> str:
    """The part of a response that extraction looks at (its last ``MAX_CHARS`` characters)."""
    return text[-MAX_CHARS:]


def clean(fragment: str) -> str:
    """Strip markdown emphasis, code ticks, quotes, surrounding space and a trailing period."""
    s = fragment.translate(_MARKUP).strip()
    s = s.strip("\"'“”‘’ \t")
    while s and s[-1] in ".;!":
        s = s[:-1].rstrip()
    if s.startswith("$") and s.endswith("$") and len(s) > 1:
        s = s.strip("$").strip()
    return s


def normalise(text: str) -> str:
    """Case-folded, markup-free, whitespace-collapsed form for comparing short text answers."""
    return " ".join(clean(text).casefold().split())


def _last(pattern: re.Pattern[str], text: str) -> str | None:
    found: str | None = None
    for m in pattern.finditer(text):
        found = m.group(1)
    return found


def _final(text: str) -> tuple[str | None, bool]:
    """The final answer and whether an explicit marker (not just the last line) gave it."""
    t = tail(text)
    low = t.lower()
    # Substring checks first: most responses carry at most one kind of marker, and a C-level
    # ``in`` is far cheaper than a regex scan that finds nothing.
    for needle, pattern in (("<answer>", _TAG), ("\\boxed{", _BOXED)):
        if needle in low:
            hit = _last(pattern, t)
            # "between <answer> and </answer>" is the model echoing our instruction, not an answer.
            if hit is not None and clean(hit) and clean(hit).lower() != "and":
                return clean(hit), True
    if "answer" in low or "final result" in low:
        if '"answer"' in t:
            # A JSON reply: decode it properly so quotes and commas inside the value survive.
            obj = extract_json(t)
            if isinstance(obj, dict) and "answer" in obj and not isinstance(obj["answer"], dict | list):
                return clean(str(obj["answer"])), True
        for pattern in (_JSON_ANSWER, _MARKER, _ANSWER_IS):
            hit = _last(pattern, t)
            if hit is not None and clean(hit):
                return clean(hit), True
    for line in reversed(t.splitlines()):
        if clean(line):
            return clean(line), False
    return None, False


def extract_final(text: str) -> str | None:
    """The final answer as written: tag, boxed, JSON "answer", 'Answer:' line, 'answer is', last line."""
    return _final(text)[0]


def canonical_number(token: str) -> str | None:
    """A number token as a canonical string: no separators, no trailing zeros, '-0' -> '0'."""
    s = token.replace("−", "-")
    for sep in (",", " ", " ", "_", "'"):
        s = s.replace(sep, "")
    try:
        value = float(s)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _number_in(fragment: str, *, last: bool) -> str | None:
    # In an equation line the result is after the last '='.
    if "=" in fragment:
        fragment = fragment.rsplit("=", 1)[1]
    matches = _NUMBER.findall(fragment)
    if not matches:
        return None
    return canonical_number(matches[-1] if last else matches[0])


def extract_number(text: str) -> str | None:
    """The final numeric answer as a canonical string, or None when there is none."""
    final, marked = _final(text)
    if final is not None:
        # After an explicit marker the first number is the answer ("Answer: 12 apples, 3 left"
        # is rare); on a bare last line the result comes last ("so 3 + 4 gives 7").
        found = _number_in(final, last=not marked)
        if found is not None:
            return found
    t = tail(text)
    for line in reversed(t.splitlines()):
        found = _number_in(line, last=True)
        if found is not None:
            return found
    return None


def parse_number(text: str) -> float | None:
    """The float value of ``extract_number(text)``."""
    found = extract_number(text)
    return None if found is None else float(found)


def extract_json(text: str) -> Any | None:
    """The last top-level JSON object or array in the response (fenced blocks first), or None."""
    t = tail(text)
    decoder = json.JSONDecoder()
    fenced = _last(_FENCE, t)
    if fenced is not None:
        try:
            return json.loads(fenced)
        except (ValueError, RecursionError):
            pass
    found: Any | None = None
    pos = 0
    attempts = 0
    while attempts < MAX_JSON_ATTEMPTS:
        starts = [i for i in (t.find("{", pos), t.find("[", pos)) if i >= 0]
        if not starts:
            break
        start = min(starts)
        attempts += 1
        try:
            obj, end = decoder.raw_decode(t, start)
        except (ValueError, RecursionError):
            pos = start + 1
            continue
        if isinstance(obj, dict | list):
            found = obj
        pos = end
    return found


def extract_choice(text: str, choices: tuple[str, ...]) -> str | None:
    """Which of ``choices`` the final answer names (case-insensitive, whole words), or None."""
    final = extract_final(text)
    candidates = [final] if final is not None else []
    candidates.append(tail(text))
    folded = {c.casefold(): c for c in choices}
    for fragment in candidates:
        words = [w.strip(".,;:!?()[]*`\"'").casefold() for w in _WORD.findall(fragment)]
        hits = [w for w in words if w in folded]
        if hits:
            return folded[hits[-1]] if fragment is not final else folded[hits[0]]
    return None
