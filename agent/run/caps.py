"""Prompt-size caps: items that would not fit a target's prompt limit are never sent.

A family's prompt grows with the level (context length, people, program steps...), so on an open
scale some levels do not fit a small model's context. Sending them would only produce endpoint
errors (context overflow) that say nothing about capability. So before a run is sent, every
planned item's prompt is measured with ``estimate_tokens`` (which errs high); an item over the
target's ``prompt_token_limit`` is replaced by the same index at the highest lower level that
fits, and that level becomes the (target, family) cap for later runs. Capping is visible — one
warning line per (target, family) and the ``capmon_level_capped`` gauge (the capped top level) —
and is never an outcome: nothing is recorded for the item that was not sent.
"""

from __future__ import annotations

import logging
import math
import string
import threading
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agent.run.budget import TEMPLATE_OVERHEAD_TOKENS

log = logging.getLogger("capmon.caps")

#: Letters and spaces per token assumed by ``estimate_tokens`` (English BPE averages about 4).
CHARS_PER_TOKEN = 3


#: The characters ``estimate_tokens`` counts three to a token (as UTF-8 bytes: every other byte is one).
_PLAIN = bytes(string.ascii_letters + " ", "ascii")


def estimate_tokens(text: str) -> int:
    """Prompt tokens, erring high: every digit, punctuation mark and non-ASCII byte counts as a
    token (small models' tokenizers split digits one by one), other characters three to a token,
    plus the chat template's overhead."""
    # Counted on the UTF-8 bytes in C (every item of every plan is measured): ASCII letters and
    # spaces are the "plain" characters; every other byte, ASCII or part of a non-ASCII character, is one token.
    raw = text.encode("utf-8")
    plain = len(raw) - len(raw.translate(None, _PLAIN))
    return (len(raw) - plain) + math.ceil(plain / CHARS_PER_TOKEN) + TEMPLATE_OVERHEAD_TOKENS


class LevelCaps:
    """Per (target, family), the highest level whose prompts fit; shared by an agent's runs."""

    def __init__(self) -> None:
        self._caps: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def cap(self, target: str, family: str) -> int | None:
        """The capped top level, or None while every level probed so far fitted."""
        with self._lock:
            return self._caps.get((target, family))

    def lower(self, target: str, family: str, level: int, limit: int) -> None:
        """Record that nothing above ``level`` fits; logs once per (target, family) and new cap."""
        with self._lock:
            old = self._caps.get((target, family))
            if old is not None and old <= level:
                return
            self._caps[(target, family)] = level
        log.warning(
            "target %s: %s capped at level %d (higher levels' prompts exceed max_prompt_tokens %d)",
            target,
            family,
            level,
            limit,
        )

    def items(self) -> list[tuple[str, str, int]]:
        """(target, family, cap) for every capped pair, sorted."""
        with self._lock:
            return sorted((t, f, c) for (t, f), c in self._caps.items())


class LevelCapCollector(Collector):
    """``capmon_level_capped``: per (target, family) whose prompts outgrew the limit, the capped top level."""

    def __init__(self, caps: LevelCaps) -> None:
        self._caps = caps

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        fam = self._family()
        for target, family, level in self._caps.items():
            fam.add_metric([target, family], float(level))
        yield fam

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "capmon_level_capped",
            "Highest difficulty level sent to the target in this family: higher levels' prompts exceed "
            "its max_prompt_tokens, so they are not sent (absent: not capped). Cached: set when a run plans, "
            "not measured per scrape.",
            labels=["target", "family"],
        )
