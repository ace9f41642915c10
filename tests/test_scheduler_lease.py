"""Of several instances sharing one database, exactly one runs the scheduler.

The lease's expiry lives on the database's clock and each instance's belief that it leads on
its own monotonic clock (scheduler/lease.py), so these tests let real time pass on short
leases; the injected FixedClock only reaches the jobs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.clock import FixedClock
from bot.db import SessionFactory
from bot.settings import Settings
from bot.settings_errors import describe_settings_error
from scheduler.jobs import JobContext, JobResult, JobSpec
from scheduler.lease import Lease, current_holder
from scheduler.runner import JobRunner, LeaderElectedScheduler
from tests.support.kyoso_server import make_settings
from tests.support.scheduler_instance import (
    TIMED_WAITS_STALL,
    probe_job,
    read_runs,
    wait_for_run,
)

JST = ZoneInfo("Asia/Tokyo")


def _instance(
    session_factory: SessionFactory,
    clock: FixedClock,
    holder: str,
    *,
    ttl: timedelta = timedelta(seconds=10),
    margin: timedelta | None = None,
    jobs: tuple[JobSpec, ...] | None = None,
) -> LeaderElectedScheduler:
    lease = Lease(session_factory=session_factory, holder=holder, ttl=ttl, margin=margin)
    context = JobContext(session_factory=session_factory, clock=clock)
    extra = {} if jobs is None else {"jobs": jobs}
    return LeaderElectedScheduler(
        context=context, lease=lease, timezone=JST, interval=ttl / 5, **extra
    )


def test_one_leader_and_takeover_on_release(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    a, b = _instance(session_factory, clock, "a"), _instance(session_factory, clock, "b")
    try:
        assert a.tick() and not b.tick()
        assert a.tick() and not b.tick()  # renewal keeps the lease with a
        a.stop()  # a shuts down cleanly and releases: b need not wait for the 10 s lease
        assert current_holder(session_factory) is None
        assert b.tick()
    finally:
        a.stop()
        b.stop()


def test_takeover_after_the_leader_stops_renewing(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    ttl, margin = timedelta(seconds=3), timedelta(seconds=1)
    a = _instance(session_factory, clock, "a", ttl=ttl, margin=margin)
    b = _instance(session_factory, clock, "b", ttl=ttl, margin=margin)
    try:
        sent = time.monotonic()
        assert a.tick()
        renewed = time.monotonic()
        # a crashed (no renewal). Past ttl − margin it no longer believes it leads, while the
        # database still keeps the lease for it: the margin in which nobody runs jobs.
        _sleep_until(sent + (ttl - margin).total_seconds() + 0.1)
        assert not a._lease.is_held()
        assert not b.tick()
        _sleep_until(renewed + ttl.total_seconds() + 0.2)  # expired by the database's clock
        assert b.tick()
        assert not a.tick()  # a comes back and finds b leading: it pauses its jobs
        assert not a.leading and b.leading
    finally:
        a.stop()
        b.stop()


def test_an_instance_whose_clock_runs_ahead_cannot_take_a_live_lease(
    session_factory: SessionFactory,
) -> None:
    # Expiries are compared on the database's clock: an instance's own clock, however far
    # ahead, does not make a live lease look expired.
    past, ahead = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    a = _instance(session_factory, FixedClock(past), "a")
    b = _instance(session_factory, FixedClock(ahead), "b")
    try:
        assert a.tick()
        assert not b.tick()
        assert current_holder(session_factory) == "a"
    finally:
        a.stop()
        b.stop()


def test_concurrent_instances_elect_exactly_one(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    instances = [_instance(session_factory, clock, f"i{n}") for n in range(6)]
    barrier = threading.Barrier(len(instances))
    results: dict[int, bool] = {}

    def contend(n: int) -> None:
        barrier.wait()
        results[n] = instances[n].tick()

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(len(instances))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sum(results.values()) == 1
    finally:
        for instance in instances:
            instance.stop()


def test_a_job_starts_only_while_the_lease_is_held(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    ran: list[str] = []

    def job(_context: JobContext) -> JobResult:
        ran.append("ran")
        return {}

    spec = JobSpec(id="j", description="j", cron={"minute": "0"}, run=job)
    ttl, margin = timedelta(seconds=1), timedelta(seconds=0.2)
    lease = Lease(session_factory=session_factory, holder="a", ttl=ttl, margin=margin)
    runner = JobRunner(JobContext(session_factory=session_factory, clock=clock), lease)
    runner(spec)
    assert ran == []  # never acquired
    sent = time.monotonic()
    assert lease.try_acquire()
    runner(spec)
    assert ran == ["ran"]
    _sleep_until(sent + (ttl - margin).total_seconds() + 0.05)
    runner(spec)  # no renewal since: it lapsed locally, before the database lets anyone in
    assert ran == ["ran"]
    lease.release()


@pytest.mark.skipif(
    TIMED_WAITS_STALL, reason="libfaketime stalls timed waits (APScheduler's, the election's)"
)
def test_a_job_longer_than_the_lease_keeps_it_and_a_stop_waits_for_it(
    session_factory: SessionFactory, clock: FixedClock, tmp_path: Path
) -> None:
    runs = tmp_path / "runs.txt"
    ttl = timedelta(seconds=1.5)
    job = probe_job("a", runs, seconds=3.0)  # twice the lease
    a = _instance(session_factory, clock, "a", ttl=ttl, jobs=(job,))
    b = _instance(session_factory, clock, "b", ttl=ttl, jobs=(probe_job("b", runs, 0.1),))
    try:
        a.start()
        _wait_for(lambda: current_holder(session_factory) == "a", timeout=5)
        b.start()
        _wait_for(runs.exists, timeout=5)  # a's job started
        holders = _watch_holders(session_factory, seconds=2.0)
        assert holders == {"a"}  # renewed beside the job, past the 1.5 s lease
        stopping = time.monotonic()
        a.stop()  # in the middle of the job: waits for it, still renewing, then releases
        stopped = time.monotonic()
        run = wait_for_run(runs, "a", after=0.0, timeout=0.1)
        assert run.start < stopping < run.end <= stopped
        wait_for_run(runs, "b", after=stopped, timeout=5)
    finally:
        a.stop()
        b.stop()
    [first, second] = read_runs(runs)[:2]
    assert (first.holder, second.holder) == ("a", "b") and first.end <= second.start


def test_the_tick_must_fit_the_lease(session_factory: SessionFactory, clock: FixedClock) -> None:
    lease = Lease(session_factory=session_factory, holder="a", ttl=timedelta(seconds=3))
    with pytest.raises(ValueError, match="three times"):
        LeaderElectedScheduler(
            context=JobContext(session_factory=session_factory, clock=clock),
            lease=lease,
            timezone=JST,
            interval=timedelta(seconds=1.5),
        )


def _watch_holders(session_factory: SessionFactory, *, seconds: float) -> set[str | None]:
    seen: set[str | None] = set()
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        seen.add(current_holder(session_factory))
        time.sleep(0.02)
    return seen


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def _wait_for(condition: Callable[[], bool], *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_the_settings_refuse_a_tick_longer_than_a_third_of_the_lease() -> None:
    def settings(lease: str, tick: str) -> Settings:
        return make_settings(
            "http://127.0.0.1:9/api/",
            "sqlite://",
            KYOSO_SCHEDULER_LEASE_SECONDS=lease,
            KYOSO_SCHEDULER_TICK_SECONDS=tick,
        )

    with pytest.raises(ValidationError) as refused:
        settings("6", "3")
    assert "KYOSO_SCHEDULER_TICK_SECONDS is malformed" in describe_settings_error(refused.value)
    accepted = settings("6", "2")
    assert (accepted.scheduler_lease_seconds, accepted.scheduler_tick_seconds) == (6, 2)
