"""One run for one target (or one comparison group): plan → call → score → commit, then count.

Results go to the ledger through the group committer (``agent.run.committer``), which counts each
one (``Counters.record``) only after its transaction committed. The runner reads the ledger too:
where fresh item indices continue (``Store.max_index``) and, for adaptive targets, recent outcomes
for the difficulty staircase (``queries.recent_outcomes``).

A probe that fails at the endpoint is recorded as ``outcome="error"`` with a reason; nothing a
probe does escapes as an exception: anything unforeseen while planning, calling or scoring one
probe becomes an ``error`` result with reason ``internal_error`` (logged with its traceback), a run
whose planning fails is recorded as ``failed``, and every run that started is finished in the ledger.
``capmon_target_up`` is 1 when at least one probe of the last run got a usable answer (not every
probe ended in ``error``), 0 when all did. On shutdown, probes not yet sent are abandoned (and counted as
such in the ``runs`` table) while those in flight get the grace period to finish.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agent.config import TargetConfig
from agent.errors import ProviderError
from agent.ledger import queries
from agent.ledger.results import ProbeResult, outcome_for
from agent.ledger.store import Store
from agent.providers.base import ChatRequest, ChatResponse, ProviderAdapter
from agent.providers.finish import normalise_finish
from agent.run.budget import BudgetGuard, input_token_bound
from agent.run.caps import LevelCaps
from agent.run.committer import GroupCommitter
from agent.run.planner import DifficultyChooser, PlannedProbe, fresh_count, plan_run
from agent.run.retry import CircuitBreaker, call_with_retry
from agent.serve.counters import Counters
from agent.stats.adaptive import chooser
from probes.registry import Registry

log = logging.getLogger("capmon.runner")

#: Model output is capped before any verifier sees it: bounded cost on adversarial text.
MAX_RESPONSE_CHARS = 32_000
#: The reason of a probe that raised something unforeseen in capmon itself (a bug, not the endpoint).
INTERNAL_ERROR = "internal_error"


@dataclass
class Member:
    """A target with its adapter and guards."""

    target: TargetConfig
    adapter: ProviderAdapter
    breaker: CircuitBreaker
    budget: BudgetGuard
    semaphore: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))


@dataclass(frozen=True)
class RunSummary:
    """How one target's run went."""

    target: str
    run_id: str
    status: str
    planned: int
    completed: int
    abandoned: int
    passed: int
    failed: int
    errors: int
    reached: bool | None
    result_ids: tuple[int, ...] = ()


class UnitRunner:
    """Runs the probes of one scheduling unit: a single target, or a comparison group in lockstep."""

    def __init__(
        self,
        members: Sequence[Member],
        registry: Registry,
        store: Store,
        counters: Counters,
        salt: bytes,
        *,
        stop: asyncio.Event,
        tracer: Any = None,
        difficulty_chooser: DifficultyChooser | None = None,
        clock: Callable[[], float] = time.time,
        redact: Callable[[str], str] = str,
        committer: GroupCommitter | None = None,
        caps: LevelCaps | None = None,
    ) -> None:
        self.members = list(members)
        self.registry = registry
        self.store = store
        self.counters = counters
        self.salt = salt
        self.stop = stop
        self.tracer = tracer
        self.difficulty_chooser = difficulty_chooser
        self.clock = clock
        self.redact = redact
        # Shared by every unit of an agent, so probes of different targets share transactions too.
        self.committer = committer if committer is not None else GroupCommitter(store, counters)
        #: Prompt-size caps per (target, family); shared across an agent's units and reloads.
        self.caps = caps if caps is not None else LevelCaps()
        self._run_seq = 0
        self._next_index = max(store.max_index(m.target.name) for m in self.members) + 1
        self.name = self.members[0].target.group or self.members[0].target.name

    async def run_once(self) -> list[RunSummary]:
        """One run: the same plan for every member, members probed concurrently."""
        lead = self.members[0].target
        try:
            plan = plan_run(
                self.registry,
                lead,
                self.salt,
                self._next_index,
                run_seq=self._run_seq,
                difficulty_chooser=self.difficulty_chooser or (self._adaptive_chooser() if lead.adaptive else None),
                caps=self.caps,
            )
        except Exception:  # a generator bug: the run fails visibly instead of killing the job
            log.exception("unit %s: planning the run failed", self.name)
            return [self._failed_run(m.target.name) for m in self.members]
        self._next_index += fresh_count(plan)
        self._run_seq += 1
        return list(await asyncio.gather(*(self._run_member(m, plan) for m in self.members)))

    def _failed_run(self, target: str) -> RunSummary:
        """A run that sent nothing because capmon itself failed: recorded as ``failed``, target down."""
        run_id = uuid.uuid4().hex[:16]
        try:
            self.store.start_run(run_id, target, 0)
            self.store.finish_run(run_id, "failed", 0, 0)
        except Exception:
            log.exception("target %s: recording a failed run failed", target)
        self.counters.record_run(target, "failed", self.clock(), False)
        return RunSummary(target, run_id, "failed", 0, 0, 0, 0, 0, 0, None)

    def _adaptive_chooser(self) -> DifficultyChooser:
        """Staircase on difficulty per family, from the lead target's recent scored fresh probes; a
        family without history starts at its calibrated frontier (``capmon calibrate``) if stored."""
        name = self.members[0].target.name
        starts = {c.family: c.d50 for c in queries.calibrations(self.store, name)}
        return chooser(queries.recent_outcomes(self.store, name, limit=2000), starts=starts)

    async def _run_member(self, member: Member, plan: list[PlannedProbe]) -> RunSummary:
        target = member.target
        run_id = uuid.uuid4().hex[:16]
        now = self.clock()
        if not member.breaker.allow():
            self.counters.set_flags(target.name, circuit_open=True)
            self.counters.record_run(target.name, "skipped", now, None)
            log.warning("target %s: circuit open, run skipped", target.name)
            return RunSummary(target.name, run_id, "skipped", len(plan), 0, len(plan), 0, 0, 0, None)
        exhausted = member.budget.exhausted()
        self._publish_budget(target.name, exhausted)
        if exhausted is not None:
            self.counters.record_run(target.name, "skipped", now, None)
            log.warning("target %s: budget %s exhausted, run skipped", target.name, exhausted)
            return RunSummary(target.name, run_id, "skipped", len(plan), 0, len(plan), 0, 0, 0, None)
        allowed = member.budget.allowed_probes(
            len(plan), input_tokens_each=max((input_token_bound(p.item.prompt) for p in plan), default=0)
        )
        todo = plan[:allowed]
        self.store.start_run(run_id, target.name, len(plan))
        done: list[tuple[int, ProbeResult]] = []
        try:
            await asyncio.gather(*(self._probe(member, run_id, p, done) for p in todo))
        except asyncio.CancelledError:
            # Shutdown past the grace period: what was committed stays; the rest is abandoned.
            self.committer.flush()  # results already queued are committed and counted as completed
            self.store.finish_run(run_id, "abandoned", len(done), len(plan) - len(done))
            self.counters.record_run(target.name, "abandoned", self.clock(), None)
            raise
        abandoned = len(plan) - len(done)
        reached = any(r.outcome != "error" or r.http_status is not None for _, r in done)
        status = "abandoned" if self.stop.is_set() and abandoned else "completed"
        if (done and not reached) or (todo and not done and not self.stop.is_set()):
            status = "failed"  # nothing reached the endpoint, or nothing sent could be recorded
        try:
            self.store.finish_run(run_id, status, len(done), abandoned)
        except Exception:
            log.exception("target %s: finishing run %s in the ledger failed", target.name, run_id)
        if reached:
            member.breaker.record_success()
        elif done:
            member.breaker.record_failure()
        self.counters.set_flags(target.name, circuit_open=member.breaker.is_open)
        # Up: at least one usable answer. Reached but every probe an error (bombs, bad shapes) is down.
        answered = any(r.outcome != "error" for _, r in done)
        self.counters.record_run(target.name, status, self.clock(), answered if done else None)
        self._publish_budget(target.name, member.budget.exhausted())
        counts = {o: sum(1 for _, r in done if r.outcome == o) for o in ("pass", "fail", "error")}
        return RunSummary(
            target.name,
            run_id,
            status,
            len(plan),
            len(done),
            abandoned,
            counts["pass"],
            counts["fail"],
            counts["error"],
            reached if done else None,
            tuple(i for i, _ in done),
        )

    def _publish_budget(self, target: str, exhausted: str | None) -> None:
        names = ("probes_per_hour", "tokens_per_day", "cost_per_day")
        self.counters.set_flags(target, budget={n: n == exhausted for n in names})

    async def _probe(
        self, member: Member, run_id: str, planned: PlannedProbe, done: list[tuple[int, ProbeResult]]
    ) -> None:
        async with member.semaphore:
            if self.stop.is_set():
                return
            # Reserve this item's own prompt size: long items (high levels) cost more.
            reserve = input_token_bound(planned.item.prompt)
            if member.target.budget.any_limit and member.budget.exhausted(input_tokens_each=reserve) is not None:
                return
            t0 = time.perf_counter()
            try:
                result = await self._call_and_score(member, run_id, planned)
            except Exception:  # ours, not the endpoint's: recorded, never escaping the run
                log.exception("target %s: probe %s failed inside capmon", member.target.name, planned.item.item_key)
                result = error_result(
                    member.target, run_id, planned, INTERNAL_ERROR, self.clock(), time.perf_counter() - t0
                )
        # Committed, then counted (Counters) and handed to the run (done), in one step.
        try:
            await self.committer.commit(result, lambda row_id, committed: done.append((row_id, committed)))
        except Exception:  # the ledger refused even the error row: nothing to record, the run goes on
            log.exception("target %s: committing a result failed", member.target.name)

    async def _call_and_score(self, member: Member, run_id: str, planned: PlannedProbe) -> ProbeResult:
        temperature = member.target.temperature if planned.temperature is None else planned.temperature
        if self.tracer is None:
            return (await self._send(member, run_id, planned, temperature))[0]
        with self.tracer.probe_span(member.target, planned.item, temperature) as span:
            result, error = await self._send(member, run_id, planned, temperature)
            self.tracer.finish(span, result, error)
        return result

    async def _send(
        self, member: Member, run_id: str, planned: PlannedProbe, temperature: float
    ) -> tuple[ProbeResult, ProviderError | None]:
        target, item = member.target, planned.item
        request = ChatRequest(prompt=item.prompt, max_tokens=target.max_tokens, temperature=temperature)
        started = self.clock()
        t0 = time.perf_counter()
        response: ChatResponse | None = None
        error: ProviderError | None = None
        failed: list[dict[str, Any]] = []  # each failed attempt: its reason, status, time, the wait after it

        async def attempt() -> ChatResponse:
            a0 = time.perf_counter()
            try:
                return await member.adapter.complete(request)
            except ProviderError as exc:
                failed.append({"reason": exc.reason, "status": exc.status, "seconds": time.perf_counter() - a0})
                raise

        def waited(_: int, __: ProviderError, delay: float) -> None:
            failed[-1]["wait_s"] = delay

        try:
            response = await call_with_retry(attempt, target.retry, on_retry=waited)
        except ProviderError as exc:
            error = exc
        latency = time.perf_counter() - t0
        attempts = len(failed) + (1 if response is not None else 0)
        text = extracted = canonical = None
        score: float | None = None
        reason = error.reason if error is not None else None
        if response is not None:
            # A model may echo a key it saw (e.g. in a proxy's error text): never store it.
            text = self.redact(response.text[:MAX_RESPONSE_CHARS])
            try:
                verdict = self.registry.get(item.family).score(item, text)
                score, extracted, canonical = verdict.score, verdict.extracted, verdict.canonical
            except Exception:  # a verifier bug must not stop the agent; it is ours, not the model's
                log.exception("verifier of family %s failed", item.family)
                reason = "verifier_error"
        cost = member.budget.cost_of(response.input_tokens, response.output_tokens) if response else None
        result = ProbeResult(
            ts=started,
            run_id=run_id,
            target=target.name,
            provider=target.provider,
            model=target.model,
            family=item.family,
            difficulty=item.difficulty,
            novelty=item.novelty,
            item_index=item.index,
            seed=item.seed,
            item_key=item.item_key,
            static=item.static,
            canary=planned.canary,
            generator_version=item.generator_version,
            prompt=item.prompt,
            response=text,
            extracted=extracted,
            canonical=canonical,
            reference=item.answer,
            score=score,
            outcome=outcome_for(score),
            error_reason=reason,
            http_status=response.status if response is not None else (error.status if error else None),
            latency_s=latency,
            input_tokens=response.input_tokens if response else None,
            output_tokens=response.output_tokens if response else None,
            response_model=response.response_model if response else None,
            system_fingerprint=response.system_fingerprint if response else None,
            request_id=response.request_id if response else None,
            group=target.group,
            cost_usd=cost,
            temperature=temperature,
            finish_reason=normalise_finish(target.provider, response.finish_reason) if response else None,
            attempts=attempts,
            ttft_s=response.ttft_s if response else None,
            headers=json.dumps(dict(response.headers), sort_keys=True) if response and response.headers else None,
            attempt_log=json.dumps(failed) if failed else None,
            request=self.redact(member.adapter.request_record(request)),
        )
        return result, error


def error_result(
    target: TargetConfig, run_id: str, planned: PlannedProbe, reason: str, ts: float, latency_s: float
) -> ProbeResult:
    """An ``error`` result of a planned probe carrying nothing from the endpoint."""
    item = planned.item
    return ProbeResult(
        ts=ts,
        run_id=run_id,
        target=target.name,
        provider=target.provider,
        model=target.model,
        family=item.family,
        difficulty=item.difficulty,
        novelty=item.novelty,
        item_index=item.index,
        seed=item.seed,
        item_key=item.item_key,
        static=item.static,
        canary=planned.canary,
        generator_version=item.generator_version,
        prompt=item.prompt,
        response=None,
        extracted=None,
        canonical=None,
        reference=item.answer,
        score=None,
        outcome="error",
        error_reason=reason,
        http_status=None,
        latency_s=latency_s,
        input_tokens=None,
        output_tokens=None,
        response_model=None,
        system_fingerprint=None,
        request_id=None,
        group=target.group,
        cost_usd=None,
        temperature=target.temperature if planned.temperature is None else planned.temperature,
    )
