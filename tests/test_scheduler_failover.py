"""Failover of the scheduler between instances sharing one database (SQLite or PostgreSQL).

Each instance runs the real Lease and LeaderElectedScheduler with a short lease, and a probe
job in place of Kyoso's jobs that records (holder, start, end) of every run in a shared file
(tests/support/scheduler_instance.py). Whatever happens to the leader, another instance must
lead within the bound, and no two runs of different holders may ever overlap in time.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event

from bot.clock import SystemClock
from bot.db import SessionFactory, make_engine, make_session_factory
from scheduler.jobs import JobContext
from scheduler.lease import Lease
from scheduler.runner import LeaderElectedScheduler
from tests.support.scheduler_instance import (
    TIMED_WAITS_STALL,
    Cluster,
    Run,
    overlapping,
    probe_job,
    read_runs,
    wait_for_leader,
    wait_for_run,
)

pytestmark = pytest.mark.skipif(
    TIMED_WAITS_STALL, reason="libfaketime stalls timed waits (APScheduler's, the election's)"
)

TTL = 2.0  # seconds: the leader fences itself 1.6 s after its last renewal was sent
TICK = 0.4
# Generous for a busy 2-core machine, yet well below what the old 60 s lease took.
SLACK = 2.5
TAKEOVER_BOUND = TTL + 2 * TICK + SLACK
STARTUP = 30.0  # processes import the whole job table first
JOB_PERIOD = 1.0  # the probe fires every second


@pytest.fixture
def make_cluster(
    database_url: str, session_factory: SessionFactory, tmp_path: Path
) -> Iterator[Any]:
    clusters: list[Cluster] = []

    def make(*, ttl: float = TTL, job_seconds: float = 0.1) -> Cluster:
        clusters.append(
            Cluster(database_url, tmp_path, ttl=ttl, tick=TICK, job_seconds=job_seconds)
        )
        return clusters[-1]

    yield make
    for cluster in clusters:  # before session_factory empties the tables
        cluster.close()


def _holders(runs: list[Run]) -> set[str]:
    return {run.holder for run in runs}


def test_a_killed_leader_is_replaced_within_the_bound_without_overlap(make_cluster: Any) -> None:
    cluster = make_cluster()
    for holder in ("a", "b", "c"):
        cluster.spawn(holder)
    leader = cluster.wait_for_leader(timeout=STARTUP)
    for _round in range(2):
        cluster.wait_for_run(leader, after=0.0, timeout=3 * JOB_PERIOD)
        killed = time.monotonic()
        cluster.kill(leader)  # wherever it is: possibly in the middle of a job
        successor = cluster.wait_for_leader(other_than=leader, timeout=TAKEOVER_BOUND)
        assert time.monotonic() - killed <= TAKEOVER_BOUND
        cluster.wait_for_run(successor, after=killed, timeout=3 * JOB_PERIOD)
        leader = successor
    cluster.close()
    runs = cluster.runs()
    assert _holders(runs) == {"a", "b", "c"}
    assert overlapping(runs) == []


def test_a_paused_leader_is_replaced_and_starts_no_job_when_it_wakes(make_cluster: Any) -> None:
    cluster = make_cluster()
    for holder in ("a", "b", "c"):
        cluster.spawn(holder)
    leader = cluster.wait_for_leader(timeout=STARTUP)
    paused = _pause_between_jobs(cluster, leader)
    successor = cluster.wait_for_leader(other_than=leader, timeout=TAKEOVER_BOUND)
    assert time.monotonic() - paused <= TAKEOVER_BOUND
    cluster.wait_for_run(successor, after=paused, timeout=3 * JOB_PERIOD)

    cluster.signal(leader, signal.SIGCONT)
    # Its job fires every second and its election ticks: time for both to misbehave.
    time.sleep(2 * JOB_PERIOD + 2 * TICK)
    cluster.close()
    runs = cluster.runs()
    assert [run for run in runs if run.holder == leader and run.start > paused] == []
    assert f"scheduler lease lost by {leader}" in cluster.log(leader)
    assert successor in _holders(runs)
    assert overlapping(runs) == []


def _pause_between_jobs(cluster: Cluster, holder: str) -> float:
    """SIGSTOP the holder while none of its jobs runs; returns when. (A process paused in the
    middle of a job finishes it when it wakes: only the job's own writes could fence that,
    see scheduler/runner.py.)"""
    cluster.wait_for_run(holder, after=0.0, timeout=3 * JOB_PERIOD)
    for _attempt in range(50):
        if not cluster.is_running_a_job(holder):
            cluster.signal(holder, signal.SIGSTOP)
            paused = time.monotonic()
            time.sleep(0.02)  # the stop has surely landed; a job that began first shows here
            if not cluster.is_running_a_job(holder):
                return paused
            cluster.signal(holder, signal.SIGCONT)
        time.sleep(0.05)
    raise AssertionError(f"{holder} could not be paused between two jobs")


def test_a_stopped_leader_finishes_its_job_and_hands_over_within_a_tick(
    make_cluster: Any,
) -> None:
    # A longer lease, so that a handover by expiry could not pass for one by release; a job
    # long enough that a successor would start one while it runs, had the stop not waited.
    ttl, job_seconds = 6.0, 1.5
    cluster = make_cluster(ttl=ttl, job_seconds=job_seconds)
    for holder in ("a", "b"):
        cluster.spawn(holder)
    leader = cluster.wait_for_leader(timeout=STARTUP)
    cluster.wait_for_run(leader, after=0.0, timeout=3 * JOB_PERIOD)
    _wait_until_running_a_job(cluster, leader)
    stopped = time.monotonic()
    assert cluster.terminate(leader) == 0  # SIGTERM → LeaderElectedScheduler.stop()
    handover_bound = job_seconds + 2 * TICK + 1.5
    assert handover_bound < ttl - TICK  # what an expiry would take at the least
    successor = cluster.wait_for_leader(other_than=leader, timeout=handover_bound)
    assert time.monotonic() - stopped <= handover_bound
    cluster.wait_for_run(successor, after=stopped, timeout=3 * JOB_PERIOD)
    cluster.close()
    runs = cluster.runs()  # nobody was killed: every run must have ended
    last = [run for run in runs if run.holder == leader][-1]
    assert last.start < stopped < last.end  # the job it was running ran to its end
    assert overlapping(runs) == []


def _wait_until_running_a_job(cluster: Cluster, holder: str) -> None:
    deadline = time.monotonic() + 3 * JOB_PERIOD
    while not cluster.is_running_a_job(holder):
        assert time.monotonic() < deadline, f"{holder} started no job"
        time.sleep(0.005)


# --- Threads in this process, each with its own engine: a leader whose renewals hang ----------


class _Gate:
    """Holds every statement of one engine while closed, as a database that stopped
    answering would (before SQLite's BEGIN IMMEDIATE, so no lock is held meanwhile)."""

    def __init__(self, engine: Engine) -> None:
        self._open = threading.Event()
        self._open.set()
        event.listen(engine, "before_cursor_execute", self._wait)

    def _wait(self, *_args: Any) -> None:
        self._open.wait(timeout=60)

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()


@dataclass
class _Instance:
    engine: Engine
    gate: _Gate
    lease: Lease
    elections: LeaderElectedScheduler


def _thread_instance(database_url: str, holder: str, lease_name: str, runs: Path) -> _Instance:
    engine = make_engine(database_url)
    gate = _Gate(engine)
    factory = make_session_factory(engine)
    lease = Lease(
        session_factory=factory, holder=holder, name=lease_name, ttl=timedelta(seconds=TTL)
    )
    elections = LeaderElectedScheduler(
        context=JobContext(session_factory=factory, clock=SystemClock()),
        lease=lease,
        timezone=ZoneInfo("UTC"),
        interval=timedelta(seconds=TICK),
        jobs=(probe_job(holder, runs, 0.05),),
    )
    return _Instance(engine, gate, lease, elections)


@pytest.fixture
def threads(
    database_url: str, session_factory: SessionFactory, tmp_path: Path
) -> Iterator[dict[str, _Instance]]:
    runs = tmp_path / "runs.txt"
    instances = {
        holder: _thread_instance(database_url, holder, f"failover-{tmp_path.name}", runs)
        for holder in ("a", "b", "c")
    }
    yield instances
    for instance in instances.values():  # before session_factory empties the tables
        instance.gate.open()
        instance.elections.stop()
        instance.engine.dispose()


def test_a_leader_whose_renewals_hang_stops_starting_jobs_before_another_takes_over(
    threads: dict[str, _Instance],
    session_factory: SessionFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="scheduler.runner")
    runs_file, lease_name = tmp_path / "runs.txt", f"failover-{tmp_path.name}"
    for instance in threads.values():
        instance.elections.start()
    leader = wait_for_leader(session_factory, lease_name, timeout=STARTUP)
    wait_for_run(runs_file, leader, after=0.0, timeout=3 * JOB_PERIOD)

    threads[leader].gate.close()  # its next renewal hangs; its jobs keep being fired
    blocked = time.monotonic()
    successor = wait_for_leader(
        session_factory, lease_name, timeout=TAKEOVER_BOUND, other_than=leader
    )
    assert time.monotonic() - blocked <= TAKEOVER_BOUND
    wait_for_run(runs_file, successor, after=blocked, timeout=3 * JOB_PERIOD)
    time.sleep(JOB_PERIOD + TICK)  # the hung leader's job fires again meanwhile
    assert not threads[leader].lease.is_held()

    threads[leader].gate.open()  # its renewal goes through at last, and finds the successor
    _wait_for(lambda: not threads[leader].elections.leading, timeout=3 * TICK + SLACK)
    for instance in threads.values():
        instance.elections.stop()
    runs = read_runs(runs_file)
    first_of_successor = min(run.start for run in runs if run.holder == successor)
    assert [run for run in runs if run.holder == leader and run.end > first_of_successor] == []
    assert overlapping(runs) == []
    assert any(
        f"job probe skipped: {leader} does not hold" in record.getMessage()
        for record in caplog.records
    )


def _wait_for(condition: Any, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
