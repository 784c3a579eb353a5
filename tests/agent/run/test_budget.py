"""Budgets: never exceeded over any rolling window, also when the agent restarts (a new guard)."""

from __future__ import annotations

import bisect
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import BudgetConfig, PriceConfig, TargetConfig
from agent.ledger.results import ProbeResult
from agent.ledger.store import Store
from agent.run.budget import (
    DAY_S,
    DEFAULT_INPUT_RESERVE_TOKENS,
    HOUR_S,
    TEMPLATE_OVERHEAD_TOKENS,
    BudgetGuard,
    input_token_bound,
)


class Ledger:
    """In-memory stand-in for Store.usage_since: (ts, tokens, cost) rows."""

    def __init__(self) -> None:
        self.rows: list[tuple[float, int, float]] = []

    def usage_since(self, target: str, since: float) -> tuple[int, int, float]:
        rows = [r for r in self.rows if r[0] >= since]
        return len(rows), sum(r[1] for r in rows), sum(r[2] for r in rows)

    def max_window(self, width: float) -> tuple[int, int, float]:
        """Largest probe count, token and cost sums over any window [T - width, T]."""
        times = [r[0] for r in self.rows]
        best = (0, 0, 0.0)
        for i, r in enumerate(self.rows):
            lo = bisect.bisect_left(times, r[0] - width)
            win = self.rows[lo : i + 1]
            best = (
                max(best[0], len(win)),
                max(best[1], sum(w[1] for w in win)),
                max(best[2], sum(w[2] for w in win)),
            )
        return best


class Clock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def target(**budget: float | int | None) -> TargetConfig:
    return TargetConfig(
        name="t",
        base_url="http://127.0.0.1:1/v1",  # type: ignore[arg-type]
        model="m",
        max_tokens=100,
        budget=BudgetConfig(**budget),  # type: ignore[arg-type]
        price=PriceConfig(input_per_mtok_usd=3.0, output_per_mtok_usd=15.0),
    )


def test_unlimited_target_allows_everything() -> None:
    guard = BudgetGuard(Ledger(), target(), clock=Clock())
    assert guard.allowed_probes(37) == 37
    assert guard.exhausted() is None


def test_probe_budget_counts_the_last_hour_only() -> None:
    ledger, clock = Ledger(), Clock()
    guard = BudgetGuard(ledger, target(max_probes_per_hour=10), clock=clock)
    ledger.rows += [(clock.now - 10, 1, 0.0)] * 7
    assert guard.allowed_probes(5) == 3
    ledger.rows += [(clock.now - 5, 1, 0.0)] * 3
    assert guard.allowed_probes(5) == 0
    assert guard.exhausted() == "probes_per_hour"
    clock.now += HOUR_S - 9  # the first 7 fall out of the window
    assert guard.allowed_probes(5) == 5
    assert guard.exhausted() is None


def test_token_budget_reserves_input_bound_plus_max_tokens() -> None:
    ledger, clock = Ledger(), Clock()
    guard = BudgetGuard(ledger, target(max_tokens_per_day=10_000), clock=clock)
    reserve = DEFAULT_INPUT_RESERVE_TOKENS + 100
    assert guard.reserve_tokens() == reserve
    assert guard.allowed_probes(100) == 10_000 // reserve
    assert guard.allowed_probes(100, input_tokens_each=150) == 10_000 // 250
    ledger.rows.append((clock.now - DAY_S + 1, 9_900, 0.0))
    assert guard.allowed_probes(100, input_tokens_each=0) == 1
    assert guard.allowed_probes(100, input_tokens_each=1) == 0
    assert guard.exhausted(input_tokens_each=1) == "tokens_per_day"
    clock.now += 2
    assert guard.exhausted(input_tokens_each=1) is None


def test_cost_budget_uses_price_table() -> None:
    ledger, clock = Ledger(), Clock()
    guard = BudgetGuard(ledger, target(max_cost_per_day_usd=0.01), clock=clock)
    assert guard.cost_of(1_000_000, 0) == pytest.approx(3.0)
    assert guard.cost_of(0, 1_000_000) == pytest.approx(15.0)
    assert guard.cost_of(None, 10) == pytest.approx(15e-5)
    per_probe = (DEFAULT_INPUT_RESERVE_TOKENS * 3.0 + 100 * 15.0) / 1e6
    assert guard.allowed_probes(1000) == int(0.01 // per_probe)
    ledger.rows.append((clock.now, 0, 0.0099))
    assert guard.exhausted() == "cost_per_day"


def test_no_price_table_means_no_cost() -> None:
    t = TargetConfig(name="t", base_url="http://x/v1", model="m")  # type: ignore[arg-type]
    assert BudgetGuard(Ledger(), t).cost_of(100, 100) is None


def test_first_exhausted_budget_is_named() -> None:
    ledger, clock = Ledger(), Clock()
    guard = BudgetGuard(ledger, target(max_probes_per_hour=2, max_tokens_per_day=10**9), clock=clock)
    ledger.rows += [(clock.now, 1, 0.0)] * 2
    assert guard.exhausted() == "probes_per_hour"


def test_input_token_bound_covers_bytes_and_template() -> None:
    assert input_token_bound("abc") == 3 + TEMPLATE_OVERHEAD_TOKENS
    assert input_token_bound("é", system="sys") == 2 + 3 + TEMPLATE_OVERHEAD_TOKENS


# -- property: random runs, usages and clock advances never exceed any rolling window ---------------

step = st.one_of(
    st.tuples(st.just("advance"), st.floats(min_value=0, max_value=30_000)),
    st.tuples(
        st.just("run"),
        st.tuples(
            st.integers(min_value=0, max_value=60),  # planned probes
            st.integers(min_value=0, max_value=300),  # input bound of this run's prompts
            st.floats(min_value=0, max_value=1),  # fraction of the reservation actually used
            st.floats(min_value=0, max_value=120),  # run duration
        ),
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    probes=st.one_of(st.none(), st.integers(min_value=1, max_value=80)),
    tokens=st.one_of(st.none(), st.integers(min_value=1, max_value=60_000)),
    cost=st.one_of(st.none(), st.floats(min_value=1e-4, max_value=0.5)),
    steps=st.lists(step, min_size=1, max_size=40),
)
def test_budgets_never_exceeded_over_any_window(
    probes: int | None,
    tokens: int | None,
    cost: float | None,
    steps: list[tuple[str, object]],
) -> None:
    ledger, clock = Ledger(), Clock()
    t = target(max_probes_per_hour=probes, max_tokens_per_day=tokens, max_cost_per_day_usd=cost)
    for kind, arg in steps:
        if kind == "advance":
            assert isinstance(arg, float)
            clock.now += arg
            continue
        assert isinstance(arg, tuple)
        planned, input_bound, used_fraction, duration = arg
        # A fresh guard per run: the guard keeps no state, so a restart changes nothing.
        guard = BudgetGuard(ledger, t, clock=clock)
        n = guard.allowed_probes(planned, input_tokens_each=input_bound)
        assert 0 <= n <= planned
        if guard.exhausted(input_tokens_each=input_bound) is not None:
            assert n == 0
        for i in range(n):
            used_in = int(input_bound * used_fraction)
            used_out = int(t.max_tokens * used_fraction)
            c = guard.cost_of(used_in, used_out)
            assert c is not None
            ledger.rows.append((clock.now + duration * i / max(n, 1), used_in + used_out, c))
        clock.now += duration
    max_probes, _, _ = ledger.max_window(HOUR_S)
    _, max_tokens, max_cost = ledger.max_window(DAY_S)
    if probes is not None:
        assert max_probes <= probes
    if tokens is not None:
        assert max_tokens <= tokens
    if cost is not None:
        assert max_cost <= cost + 1e-12


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=50),
    planned=st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=15),
)
def test_full_usage_reaches_but_never_passes_the_probe_limit(limit: int, planned: list[int]) -> None:
    ledger, clock = Ledger(), Clock()
    guard = BudgetGuard(ledger, target(max_probes_per_hour=limit), clock=clock)
    for p in planned:
        n = guard.allowed_probes(p)
        ledger.rows += [(clock.now, 1, 0.0)] * n
        clock.now += 1
    sent = len(ledger.rows)
    assert sent == min(limit, sum(planned))


# -- across restarts with the real store ----------------------------------------------------------


def _result(ts: float, tokens: int, cost: float) -> ProbeResult:
    return ProbeResult(
        ts=ts, run_id="r", target="t", provider="openai", model="m", family="arith", difficulty=1,
        novelty=0, item_index=0, seed=1, item_key="k", static=False, canary=False, generator_version="1",
        prompt="p", response="r", extracted=None, canonical=None, reference="1", score=1.0, outcome="pass",
        error_reason=None, http_status=200, latency_s=0.1, input_tokens=tokens // 2,
        output_tokens=tokens - tokens // 2, response_model=None, system_fingerprint=None, cost_usd=cost,
    )  # fmt: skip


def test_budget_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    t = target(max_probes_per_hour=5, max_tokens_per_day=100_000)
    store = Store(tmp_path / "capmon.db")
    guard = BudgetGuard(store, t, clock=clock)
    n = guard.allowed_probes(8)
    assert n == 5
    for i in range(n):
        store.add_result(_result(clock.now - i, 600, 0.001))
    store.close()

    reopened = Store(tmp_path / "capmon.db")
    after = BudgetGuard(reopened, t, clock=clock)
    assert after.allowed_probes(8) == 0
    assert after.exhausted() == "probes_per_hour"
    clock.now += HOUR_S - 2.5  # two of the five (sent 3 and 4 s earlier) have left the window
    assert after.allowed_probes(8) == 2
    clock.now += 3
    assert after.allowed_probes(8) == 5
    reopened.close()
