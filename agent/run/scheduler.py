"""When runs happen: one APScheduler job per target (or comparison group), jittered, never overlapping."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from agent.config import TargetConfig
from agent.run.runner import UnitRunner


def build_scheduler(
    units: Sequence[UnitRunner],
    job: Callable[[UnitRunner], Awaitable[None]],
    *,
    first_run_delay_s: float = 0.0,
) -> AsyncIOScheduler:
    """A scheduler (not started) with one job per unit at the unit's interval and jitter."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    add_unit_jobs(scheduler, units, job, first_run_delay_s=first_run_delay_s)
    return scheduler


def add_unit_jobs(
    scheduler: AsyncIOScheduler,
    units: Sequence[UnitRunner],
    job: Callable[[UnitRunner], Awaitable[None]],
    *,
    first_run_delay_s: float = 0.0,
) -> None:
    """Add (or replace) one job per unit; the first run starts after ``first_run_delay_s``."""
    start = datetime.now(UTC) + timedelta(seconds=first_run_delay_s)
    for unit in units:
        lead = unit.members[0].target
        scheduler.add_job(
            job,
            unit_trigger(lead),
            args=[unit],
            id=job_id(unit),
            name=unit.name,
            # One run of a unit at a time; a run that overruns its interval delays the next.
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=start,
            replace_existing=True,
        )


def job_id(unit: UnitRunner) -> str:
    """The scheduler job id of a unit."""
    return f"unit:{unit.name}"


def unit_trigger(lead: TargetConfig, factor: float = 1.0) -> IntervalTrigger:
    """Interval trigger for a unit, its interval scaled by ``factor`` (adaptive probing)."""
    return IntervalTrigger(seconds=lead.interval_s * factor, jitter=lead.effective_jitter_s or None, timezone=UTC)
