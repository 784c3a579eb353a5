"""When runs happen: one APScheduler job per target (or comparison group), jittered, never overlapping."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from agent.runner import UnitRunner


def build_scheduler(
    units: Sequence[UnitRunner],
    job: Callable[[UnitRunner], Awaitable[None]],
    *,
    first_run_delay_s: float = 0.0,
) -> AsyncIOScheduler:
    """A scheduler (not started) with one job per unit at the unit's interval and jitter."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    start = datetime.now(UTC) + timedelta(seconds=first_run_delay_s)
    for unit in units:
        lead = unit.members[0].target
        scheduler.add_job(
            job,
            IntervalTrigger(seconds=lead.interval_s, jitter=lead.effective_jitter_s or None, timezone=UTC),
            args=[unit],
            id=f"unit:{unit.name}",
            name=unit.name,
            # One run of a unit at a time; a run that overruns its interval delays the next.
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=start,
        )
    return scheduler
