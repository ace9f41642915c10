"""APScheduler, started only on the instance that holds the lease.

Every instance ticks every 2 s (KYOSO_SCHEDULER_TICK_SECONDS) on its own thread: the leader
renews its 10 s lease (KYOSO_SCHEDULER_LEASE_SECONDS), the others try to take it. So a killed
leader is replaced within TTL + one tick (≤ 12 s), a stopped one within a tick (it releases),
and a leader survives three failed renewals in a row before it fences itself 8 s after its last
good one. A renewal is one indexed single-row UPDATE: five per instance per 10 s costs nothing.

Two leaders never run a job at once:
- a job starts only while this instance's local lease belief holds (scheduler/lease.py), and
  that belief ends before the database lets anyone else in;
- renewals run on this module's thread, beside the jobs, so a job longer than the TTL keeps
  the lease; once the lease is lost no further job starts here;
- a clean stop waits for running jobs (still renewing) before it releases the lease.
What a lease cannot fence on its own is a job already running when its renewals stop (the
database unreachable from this instance only, the process paused in the middle of the job): it
runs to its end, and the loss is logged as an error naming it. Only the job's own writes could
refuse it then (a fencing token checked in the same transaction).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import SQLAlchemyError

from scheduler.jobs import JOBS, JobContext, JobSpec
from scheduler.lease import Lease

log = logging.getLogger(__name__)

DEFAULT_TICK = timedelta(seconds=2)


class JobRunner:
    """Runs a job only while the lease is held, and knows which jobs are running."""

    def __init__(self, context: JobContext, lease: Lease) -> None:
        self._context = context
        self._lease = lease
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self.closed = False  # set on stop: no job starts any more

    def __call__(self, job: JobSpec) -> None:
        # Checked as the job starts, not when it was fired: the lease may have lapsed since.
        with self._lock:
            if self.closed or not self._lease.is_held():
                holder = self._lease.holder
                log.warning("job %s skipped: %s does not hold the scheduler lease", job.id, holder)
                return
            self._running.add(job.id)
        try:
            result = job.run(self._context)
        finally:
            with self._lock:
                self._running.discard(job.id)
        log.info("job %s done: %s", job.id, result)

    def running(self) -> list[str]:
        with self._lock:
            return sorted(self._running)


def build_scheduler(
    jobs: Sequence[JobSpec], run: JobRunner, timezone: ZoneInfo
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for job in jobs:
        scheduler.add_job(
            run,
            CronTrigger(timezone=timezone, **job.cron),
            args=(job,),
            id=job.id,
            name=job.description,
            replace_existing=True,
        )
    return scheduler


class LeaderElectedScheduler:
    """Ticks on its own thread; runs the scheduler while it holds the lease."""

    def __init__(
        self,
        *,
        context: JobContext,
        lease: Lease,
        timezone: ZoneInfo,
        interval: timedelta = DEFAULT_TICK,
        jobs: Sequence[JobSpec] = JOBS,
    ) -> None:
        if interval * 3 > lease.ttl:
            raise ValueError("tick at least three times per lease TTL")
        self._lease = lease
        self._interval = interval
        self._runner = JobRunner(context, lease)
        self._scheduler = build_scheduler(jobs, self._runner, timezone)
        self._lock = threading.Lock()  # the scheduler's state changes: ticks against stop()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.leading = False

    def tick(self) -> bool:
        """One election round; returns whether this instance now leads."""
        try:
            self._lease.try_acquire()
        finally:  # a failed renewal still counts: the local belief may have run out meanwhile
            self._follow_lease()
        return self.leading

    def _follow_lease(self) -> None:
        holds = self._lease.is_held()
        with self._lock:
            if self._runner.closed:
                return  # stopping: the scheduler is being shut down
            if holds and not self.leading:
                self._lead()
            elif not holds and self.leading:
                self._step_down()
            self.leading = holds

    def _lead(self) -> None:
        log.info("scheduler lease acquired by %s; running jobs here", self._lease.holder)
        if self._scheduler.state == STATE_STOPPED:
            self._scheduler.start()
        else:
            self._scheduler.resume()

    def _step_down(self) -> None:
        self._scheduler.pause()
        running = self._runner.running()
        if running:
            log.error(
                "scheduler lease lost by %s while %s ran; no further job starts here",
                self._lease.holder,
                ", ".join(running),
            )
        else:
            log.warning("scheduler lease lost by %s; pausing jobs", self._lease.holder)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="kyoso-scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        interval = self._interval.total_seconds()
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.tick()
            except Exception:  # a database blip must not kill the election loop for good
                log.exception("scheduler election failed; retrying in %.1f s", interval)
            # A steady beat: a slow renewal does not push the next one later.
            self._stop.wait(max(0.0, interval - (time.monotonic() - started)))

    def stop(self) -> None:
        """Let running jobs finish while the lease is still renewed, then release it."""
        with self._lock:
            self._runner.closed = True
        if self._scheduler.state != STATE_STOPPED:
            self._scheduler.shutdown(wait=True)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._lease.ttl.total_seconds())
        self.leading = False
        try:
            self._lease.release()
        except SQLAlchemyError:
            log.warning("scheduler lease not released; it expires within %s", self._lease.ttl)
