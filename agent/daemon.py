"""Assembles the agent from settings and runs it: scheduler, runners, statistics, web server."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
from collections.abc import Callable
from typing import Any

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from agent.config import Settings, TargetConfig, probe_registry, secrets_of
from agent.errors import CapmonError
from agent.ledger.store import Store
from agent.providers import adapter_for
from agent.providers.pools import SplitPools
from agent.redact import Redactor
from agent.run.budget import BudgetGuard
from agent.run.caps import LevelCapCollector, LevelCaps
from agent.run.committer import GroupCommitter
from agent.run.retry import CircuitBreaker
from agent.run.runner import Member, RunSummary, UnitRunner
from agent.run.scheduler import add_unit_jobs, build_scheduler, job_id, unit_trigger
from agent.serve.counters import Counters
from agent.serve.exporter import build_metrics_registry
from agent.sharding import select_targets
from agent.stats.adaptive import interval_factor
from agent.stats.engine import StatsEngine
from agent.stats.frontier import reference_levels
from agent.stats.snapshot import StatsSnapshot
from agent.tracing import ProbeTracer, setup_tracing
from probes.registry import Registry

log = logging.getLogger("capmon.agent")


#: glibc's ``mallopt`` parameter for the number of heaps ("arenas") threads may allocate from.
M_ARENA_MAX = -8


@functools.cache
def _libc(name: str) -> Callable[..., int] | None:
    """A glibc function, or None where the C library has none (musl, macOS)."""
    import ctypes
    import ctypes.util

    lib = ctypes.util.find_library("c")
    fn = getattr(ctypes.CDLL(lib), name, None) if lib else None
    return fn if callable(fn) else None


def release_free_heap() -> None:
    """Hand the C heap's free pages back to the OS.

    A refresh's transient objects (query rows, counts, the snapshot being replaced) free ~10 MiB of
    malloc'd memory that glibc keeps for reuse; measured in a 10-target agent, that kept RSS above
    its steady working set (docs/performance.md, "Memory"). Costs a few milliseconds per refresh.
    """
    trim = _libc("malloc_trim")
    if trim is not None:
        trim(0)


def share_one_heap() -> None:
    """Make every thread allocate from glibc's main heap; call before any thread starts.

    By default glibc gives each thread that allocates a heap of its own. The statistics refresh runs
    on a worker thread (``asyncio.to_thread``); with refreshes, one thread's heap grew and kept free
    chunks (none grew without them): in the 10-target soak glibc's free memory grew 3.6 -> 6.2 MiB
    in 10 minutes, against 2.0-2.4 MiB flat with one heap, where the loop reuses what the refresh
    frees (``python -m benchmarks.memory_breakdown --arena-max 1``; docs/performance.md, "Memory").
    Threads hold the GIL for most of their allocations, so they should seldom wait on the one heap's
    lock; that cost is not measured.
    """
    mallopt = _libc("mallopt")
    if mallopt is not None:
        mallopt(M_ARENA_MAX, 1)


class Agent:
    """The daemon's parts, wired once; ``serve`` runs it until a stop is requested."""

    def __init__(
        self,
        settings: Settings,
        *,
        source: str = "config",
        transport: httpx.AsyncBaseTransport | None = None,
        hostname: str | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.settings = settings
        self.source = source
        self.hostname = hostname or socket.gethostname()
        self.registry = registry if registry is not None else probe_registry(settings.probe_templates)
        self.store = Store(settings.store)
        self.salt = self.store.salt()
        self.counters = Counters()
        self.counters.seed_from_store(self.store)
        self.committer = GroupCommitter(self.store, self.counters)
        self.stop = asyncio.Event()
        #: Set by SIGHUP: ``serve`` reloads the configuration with ``config_loader``.
        self.reload_requested = asyncio.Event()
        self.config_loader: Callable[[], Settings] | None = None
        self.targets = select_targets(settings.targets, settings.shard, self.hostname)
        keys = {t.name: t.resolved_api_key(source) for t in self.targets}
        self.redact = Redactor(secrets_of(self.targets, keys))
        # Small pools per origin (agent.providers.pools): httpcore's pool costs CPU per request that
        # grows with the connections it holds.
        self.client = httpx.AsyncClient(
            transport=transport if transport is not None else SplitPools(),
            follow_redirects=False,
        )
        self.tracer_provider = setup_tracing(settings)
        self.tracer = ProbeTracer(self.tracer_provider) if self.tracer_provider is not None else None
        #: Prompt-size caps per (target, family), kept across reloads (``agent.run.caps``).
        self.level_caps = LevelCaps()
        self.units = self._build_units(keys)
        self.stats = StatsEngine(self.store, settings, references=reference_levels(self.registry))
        self._stats_snapshot = StatsSnapshot()
        self.metrics_registry = build_metrics_registry(self.counters, lambda: self._stats_snapshot)
        self.metrics_registry.register(LevelCapCollector(self.level_caps))
        self._stats_lock = asyncio.Lock()
        self._stats_dirty = asyncio.Event()
        self._interval_factor: dict[str, float] = {}
        #: Per adaptive target, its largest detector statistic / threshold (0..1), from the last refresh.
        self._urgency: dict[str, float] = {}

    def _build_units(self, keys: dict[str, Any]) -> list[UnitRunner]:
        groups: dict[str, list[TargetConfig]] = {}
        for t in self.targets:
            groups.setdefault(t.group or f"\0{t.name}", []).append(t)
            self.counters.add_target(t.name, t.provider, t.model)
        units = []
        for members in groups.values():
            built = []
            for t in members:
                key = keys[t.name]
                adapter = adapter_for(t, self.client, key.get_secret_value() if key is not None else None)
                built.append(
                    Member(
                        target=t,
                        adapter=adapter,
                        breaker=CircuitBreaker(t.circuit),
                        budget=BudgetGuard(self.store, t),
                        semaphore=asyncio.Semaphore(t.concurrency),
                    )
                )
            units.append(
                UnitRunner(
                    built,
                    self.registry,
                    self.store,
                    self.counters,
                    self.salt,
                    stop=self.stop,
                    tracer=self.tracer,
                    redact=Redactor(secrets_of(members, keys), patterns=False),
                    committer=self.committer,
                    caps=self.level_caps,
                )
            )
        return units

    async def refresh_stats(self) -> None:
        """Fold new results into the statistics (off the event loop) and keep the snapshot /metrics reads."""
        async with self._stats_lock:

            def work() -> tuple[StatsSnapshot, dict[str, float]]:
                self.stats.update()
                urgency = {t.name: self.stats.urgency(t.name) for t in self.targets if t.adaptive}
                snapshot = self.stats.snapshot()
                release_free_heap()
                return snapshot, urgency

            try:
                self._stats_snapshot, self._urgency = await asyncio.to_thread(work)
            except Exception:  # statistics must never stop probing
                log.exception("statistics update failed")

    async def _stats_loop(self) -> None:
        """Refresh statistics when new results arrived, at most once per refresh interval, until stop."""
        while not self.stop.is_set():
            await _first_of(self._stats_dirty, self.stop)
            if self.stop.is_set():
                return
            self._stats_dirty.clear()
            await self.refresh_stats()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=self.settings.stats.refresh_interval_s)

    async def run_unit(self, unit: UnitRunner) -> list[RunSummary]:
        """One run of one unit; marks the statistics for a refresh."""
        summaries = await unit.run_once()
        for s in summaries:
            log.info(
                "run %s target=%s status=%s pass=%d fail=%d error=%d abandoned=%d",
                s.run_id,
                s.target,
                s.status,
                s.passed,
                s.failed,
                s.errors,
                s.abandoned,
            )
        # Statistics are refreshed by _stats_loop at most once per stats.refresh_interval_s:
        # refitting every scope after every run costs O(targets x families) per run.
        self._stats_dirty.set()
        return summaries

    async def run_round(self, *, stats: bool = True) -> list[RunSummary]:
        """Every unit once, concurrently; then a statistics refresh unless ``stats`` is False
        (``capmon probe --once`` prints a result table only; a later ``capmon run`` feeds these
        results to its detectors from the ledger)."""
        self.counters.ready = True
        results = await asyncio.gather(*(u.run_once() for u in self.units))
        if stats:
            await self.refresh_stats()
        return [s for group in results for s in group]

    async def serve(self, *, web: bool = True) -> None:
        """Probe on schedule and serve HTTP until ``stop`` is set; then drain within the grace period."""
        from agent.serve.web import build_app, build_server

        await self.refresh_stats()
        server = None
        server_task: asyncio.Task[None] | None = None
        if web:
            # Through a lambda, so a reload's new secrets are redacted too.
            app = build_app(
                self.settings, self.metrics_registry, self.counters, self.store, lambda text: self.redact(text)
            )
            server = build_server(self.settings, app)
            server_task = asyncio.create_task(server.serve())
        in_flight: set[asyncio.Task[Any]] = set()

        async def job(unit: UnitRunner) -> None:
            if self.stop.is_set():
                return
            task = asyncio.current_task()
            if task is not None:
                in_flight.add(task)
            try:
                await self.run_unit(unit)
                self._adapt_interval(scheduler, unit)
            except asyncio.CancelledError:
                raise
            except Exception:  # a run must never take the scheduler down
                log.exception("run of %s failed", unit.name)
            finally:
                if task is not None:
                    in_flight.discard(task)

        scheduler = build_scheduler(self.units, job)
        scheduler.start()
        stats_task = asyncio.create_task(self._stats_loop())
        self.counters.ready = True
        log.info("capmon agent started: %d target(s), listening on %s", len(self.targets), self.settings.listen)
        try:
            while not self.stop.is_set():
                await _first_of(self.stop, self.reload_requested)
                if self.reload_requested.is_set() and not self.stop.is_set():
                    self.reload_requested.clear()
                    if await self.reload():
                        scheduler.remove_all_jobs()
                        add_unit_jobs(scheduler, self.units, job)
        finally:
            self.counters.ready = False
            # Pause first: shutting the scheduler down would cancel in-flight runs at once.
            scheduler.pause()
            await self._drain(in_flight)
            scheduler.shutdown(wait=False)
            await stats_task  # returns promptly once stop is set (after a refresh in progress)
            # Fold the last results in, so detector state on disk covers every committed result.
            await self.refresh_stats()
            if server is not None and server_task is not None:
                server.should_exit = True
                await asyncio.wait({server_task}, timeout=5)

    async def reload(self) -> bool:
        """Load the configuration again; apply it if valid, else keep running the old one.

        Targets, probe settings and statistics settings change in place; ``store``, ``listen`` and
        ``web`` need a restart (the ledger and the listening socket stay as they are).
        """
        if self.config_loader is None:
            return False
        try:
            new = self.config_loader()
            targets = select_targets(new.targets, new.shard, self.hostname)
            keys = {t.name: t.resolved_api_key(self.source) for t in targets}
        except CapmonError as exc:
            self.counters.config_reload_ok = False
            log.error("configuration reload failed, keeping the running one: %s", exc)
            return False
        for key in ("store", "listen", "web"):
            if getattr(new, key) != getattr(self.settings, key):
                log.warning("configuration reload: %s changed; it takes effect after a restart", key)
        async with self._stats_lock:
            self.settings = new.model_copy(
                update={"store": self.settings.store, "listen": self.settings.listen, "web": self.settings.web}
            )
            self.targets = targets
            self.redact = self.redact.with_secrets(secrets_of(targets, keys))
            self.units = self._build_units(keys)
            self.stats = StatsEngine(self.store, self.settings, references=reference_levels(self.registry))
        self.counters.config_reload_ok = True
        log.info("configuration reloaded: %d target(s)", len(targets))
        return True

    def _adapt_interval(self, scheduler: AsyncIOScheduler, unit: UnitRunner) -> None:
        """Adaptive targets probe faster (down to a quarter of the interval) while a detector climbs."""
        lead = unit.members[0].target
        if not lead.adaptive:
            return
        factor = interval_factor(self._urgency.get(lead.name, 0.0))
        if abs(factor - self._interval_factor.get(unit.name, 1.0)) < 0.05:
            return
        self._interval_factor[unit.name] = factor
        scheduler.reschedule_job(job_id(unit), trigger=unit_trigger(lead, factor))
        log.info("target %s: interval now %.0fs (detector urgency)", lead.name, lead.interval_s * factor)

    async def _drain(self, in_flight: set[asyncio.Task[Any]]) -> None:
        grace = self.settings.shutdown_grace_s
        pending = {t for t in in_flight if not t.done()}
        if not pending:
            return
        log.info("draining %d run(s) for up to %.0fs", len(pending), grace)
        _, still = await asyncio.wait(pending, timeout=grace)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still, timeout=5)
            log.warning("abandoned %d run(s) still in flight after the grace period", len(still))

    async def aclose(self) -> None:
        """Release the HTTP client, flush traces and close the store."""
        await self.client.aclose()
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
        self.committer.flush()  # nothing queued is left behind
        self.store.close()


async def _first_of(*events: asyncio.Event) -> None:
    """Wait until any of the events is set."""
    waiters = {asyncio.create_task(e.wait()) for e in events}
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
