"""Of several instances sharing one database, exactly one runs the scheduler."""

from __future__ import annotations

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.clock import FixedClock
from bot.db import SessionFactory
from scheduler.jobs import JobContext
from scheduler.lease import Lease
from scheduler.runner import LeaderElectedScheduler

JST = ZoneInfo("Asia/Tokyo")


def _instance(session_factory: SessionFactory, clock: FixedClock, holder: str):
    lease = Lease(session_factory=session_factory, clock=clock, holder=holder)
    context = JobContext(session_factory=session_factory, clock=clock)
    return LeaderElectedScheduler(context=context, lease=lease, timezone=JST)


def test_one_leader_and_takeover_on_release(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    a, b = _instance(session_factory, clock, "a"), _instance(session_factory, clock, "b")
    try:
        assert a.tick() and not b.tick()
        assert a.tick() and not b.tick()  # renewal keeps the lease with a
        a.stop()  # a shuts down cleanly and releases
        assert b.tick()
    finally:
        a.stop()
        b.stop()


def test_takeover_after_the_leader_stops_renewing(
    session_factory: SessionFactory, clock: FixedClock
) -> None:
    a, b = _instance(session_factory, clock, "a"), _instance(session_factory, clock, "b")
    try:
        assert a.tick()
        clock.advance(timedelta(seconds=30))
        assert not b.tick()  # not yet expired
        clock.advance(timedelta(seconds=31))  # a crashed: no renewal for over a minute
        assert b.tick()
        assert not a.tick()  # a comes back and finds b leading: it pauses its jobs
        assert not a.leading and b.leading
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
