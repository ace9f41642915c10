"""The job registry. Jobs are plain functions of a context that return what they did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.clock import Clock
from bot.db import SessionFactory
from bot.services.events import prune_processed_events


@dataclass(frozen=True)
class JobContext:
    session_factory: SessionFactory
    clock: Clock


JobResult = dict[str, Any]


@dataclass(frozen=True)
class JobSpec:
    id: str
    description: str
    # APScheduler CronTrigger fields, interpreted in the configured time zone (JST).
    cron: dict[str, str]
    run: Callable[[JobContext], JobResult]


def _prune_processed_events(ctx: JobContext) -> JobResult:
    with ctx.session_factory.begin() as session:
        return {"deleted": prune_processed_events(session, clock=ctx.clock)}


JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        id="prune-processed-events",
        description="Forget Slack event ids older than 7 days (retries stop after minutes)",
        cron={"hour": "3", "minute": "30"},
        run=_prune_processed_events,
    ),
)


class UnknownJob(LookupError):
    pass


def find_job(job_id: str) -> JobSpec:
    for job in JOBS:
        if job.id == job_id:
            return job
    raise UnknownJob(job_id)
