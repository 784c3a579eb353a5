"""Per-target spending limits over rolling windows, read from the ledger so they hold across restarts.

Budgets (all optional, per target): ``max_probes_per_hour`` (rolling 1 h), ``max_tokens_per_day``
and ``max_cost_per_day_usd`` (rolling 24 h). Usage is what the ledger holds: every stored result
counts as one probe sent; tokens and cost are the reported usage of the stored results.

Tokens and cost are only known after a call returns, so a probe is let through only if its worst
case still fits: each probe *reserves* ``input bound + max_tokens`` tokens (``max_tokens`` caps the
output; the input bound is ``input_token_bound(prompt)`` when the caller knows the prompts, else
``DEFAULT_INPUT_RESERVE_TOKENS``) and the price of that many tokens. A run may send
``allowed_probes(planned)`` probes: the most that fit in every budget with their reservations.
The limits hold as long as runs of one target do not overlap (the scheduler guarantees it) and each
probe's reported usage stays within its reservation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Literal, Protocol

from agent.config import TargetConfig

HOUR_S = 3600.0
DAY_S = 86400.0
#: Reservation per probe when the prompts are not known; capmon's probes are far shorter.
DEFAULT_INPUT_RESERVE_TOKENS = 512
#: Chat templates add role markers and special tokens around the prompt.
TEMPLATE_OVERHEAD_TOKENS = 64
Budget = Literal["probes_per_hour", "tokens_per_day", "cost_per_day"]
BUDGETS: tuple[Budget, ...] = ("probes_per_hour", "tokens_per_day", "cost_per_day")


class UsageLedger(Protocol):
    """What the guard needs from the store."""

    def usage_since(self, target: str, since: float) -> tuple[int, int, float]:
        """(probes, tokens, cost in USD) used since a time."""
        ...


def input_token_bound(prompt: str, system: str | None = None) -> int:
    """An upper bound on a prompt's input tokens: byte-level tokenizers never emit more tokens than bytes."""
    size = len(prompt.encode("utf-8")) + (len(system.encode("utf-8")) if system else 0)
    return size + TEMPLATE_OVERHEAD_TOKENS


class BudgetGuard:
    """Answers how many probes a target may still send without exceeding any of its budgets."""

    def __init__(self, store: UsageLedger, target: TargetConfig, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._target = target
        self._clock = clock

    def cost_of(self, input_tokens: int | None, output_tokens: int | None) -> float | None:
        """USD cost of a call from the target's price table; None without a price table."""
        price = self._target.price
        if price is None:
            return None
        return ((input_tokens or 0) * price.input_per_mtok_usd + (output_tokens or 0) * price.output_per_mtok_usd) / 1e6

    def reserve_tokens(self, input_tokens_each: int | None = None) -> int:
        """Tokens reserved for one probe: its input bound plus the output cap."""
        inp = DEFAULT_INPUT_RESERVE_TOKENS if input_tokens_each is None else input_tokens_each
        return inp + self._target.max_tokens

    def remaining(self, input_tokens_each: int | None = None) -> dict[Budget, int]:
        """For each configured budget, how many more probes fit in it now."""
        budget = self._target.budget
        now = self._clock()
        out: dict[Budget, int] = {}
        if budget.max_probes_per_hour is not None:
            probes, _, _ = self._store.usage_since(self._target.name, now - HOUR_S)
            out["probes_per_hour"] = max(0, budget.max_probes_per_hour - probes)
        if budget.max_tokens_per_day is not None or budget.max_cost_per_day_usd is not None:
            _, tokens, cost = self._store.usage_since(self._target.name, now - DAY_S)
            inp = DEFAULT_INPUT_RESERVE_TOKENS if input_tokens_each is None else input_tokens_each
            if budget.max_tokens_per_day is not None:
                out["tokens_per_day"] = max(0, (budget.max_tokens_per_day - tokens) // self.reserve_tokens(inp))
            if budget.max_cost_per_day_usd is not None:
                per_probe = self.cost_of(inp, self._target.max_tokens)
                # Without a price table cost is unknown and cannot be limited (config should demand one).
                if per_probe is not None:
                    left = budget.max_cost_per_day_usd - cost
                    out["cost_per_day"] = _fit(left, per_probe)
        return out

    def allowed_probes(self, planned: int, *, input_tokens_each: int | None = None) -> int:
        """How many of ``planned`` probes may be sent now within every budget (0..planned)."""
        left = self.remaining(input_tokens_each)
        return max(0, min([planned, *left.values()]))

    def exhausted(self, *, input_tokens_each: int | None = None) -> Budget | None:
        """The first budget that leaves no room for even one probe, or None."""
        left = self.remaining(input_tokens_each)
        for name in BUDGETS:
            if left.get(name, 1) <= 0:
                return name
        return None


def _fit(left: float, per_probe: float) -> int:
    """How many probes costing ``per_probe`` fit in ``left`` (a free probe always fits while left >= 0)."""
    if left < 0:
        return 0
    if per_probe <= 0:
        return 2**31
    # A hair of tolerance keeps float rounding from letting one probe too many through.
    return max(0, math.floor(left / per_probe * (1 - 1e-12)))
