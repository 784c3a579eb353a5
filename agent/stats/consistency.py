"""Consistency: do the model's answers agree across novelty renderings of the same underlying item?

For each item_key answered at two or more novelty levels, every pair of renderings whose canonical
answers are equal counts as agreeing; the ratio is agreeing pairs over all pairs. A missing canonical
answer (nothing extracted) counts as disagreeing, since the model did not give the same answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Consistency:
    """Pairwise agreement ratio over items seen at several renderings."""

    ratio: float
    pairs: int
    items: int


def consistency(rows: Iterable[tuple[str, int, str | None]]) -> Consistency | None:
    """(item_key, novelty, canonical answer) rows → agreement; None when no item has two renderings."""
    by_item: dict[str, dict[int, str | None]] = defaultdict(dict)
    for key, novelty, canonical in rows:
        by_item[key][novelty] = canonical  # a repeated rendering keeps its latest answer
    agree = pairs = items = 0
    for answers in by_item.values():
        vals = list(answers.values())
        if len(vals) < 2:
            continue
        items += 1
        for i in range(len(vals)):
            for j in range(i + 1, len(vals)):
                pairs += 1
                agree += int(vals[i] is not None and vals[i] == vals[j])
    if pairs == 0:
        return None
    return Consistency(agree / pairs, pairs, items)
