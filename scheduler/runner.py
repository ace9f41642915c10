"""APScheduler, started only on the instance that holds the lease."""

from __future__ import annotations

import logging
import threading
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.cron import CronTrigger

from scheduler.jobs import JOBS, JobContext, JobSpec
from scheduler.lease import Lease

log = logging.getLogger(__name__)


def build_scheduler(context: JobContext, lease: Lease, timezone: ZoneInfo) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=timezone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for job in JOBS:
        scheduler.add_job(
            _run_if_leader,
            CronTrigger(timezone=timezone, **job.cron),
            args=(job, context, lease),
            id=job.id,
            name=job.description,
            replace_existing=True,
        )
    return scheduler


def _run_if_leader(job: JobSpec, context: JobContext, lease: Lease) -> None:
    # The lease may have lapsed since the last renewal (a long pause, a lost database).
    if not lease.is_held():
        log.warning("job %s skipped: this instance no longer holds the scheduler lease", job.id)
        return
    result = job.run(context)
    log.info("job %s done: %s", job.id, result)


class LeaderElectedScheduler:
    """Renews the lease every ttl/3; runs the scheduler while it holds the lease."""

    def __init__(self, *, context: JobContext, lease: Lease, timezone: ZoneInfo) -> None:
        self._lease = lease
        self._scheduler = build_scheduler(context, lease, timezone)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.leading = False

    def tick(self) -> bool:
        """One election round; returns whether this instance now leads."""
        holds = self._lease.try_acquire()
        if holds and not self.leading:
            log.info("scheduler lease acquired by %s; running jobs here", self._lease.holder)
            if self._scheduler.state == STATE_STOPPED:
                self._scheduler.start()
            else:
                self._scheduler.resume()
        elif not holds and self.leading:
            log.warning("scheduler lease lost by %s; pausing jobs", self._lease.holder)
            self._scheduler.pause()
        self.leading = holds
        return holds

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="kyoso-scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        interval = self._lease.ttl.total_seconds() / 3
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a database blip must not kill the election loop for good
                log.exception("scheduler election failed; retrying in %.0f s", interval)
            self._stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._scheduler.state != STATE_STOPPED:
            self._scheduler.shutdown(wait=False)
        if self.leading:
            self._lease.release()
            self.leading = False
