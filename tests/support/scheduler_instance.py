"""One scheduler instance as its own process, for the failover tests and bench/failover.py.

    python -m tests.support.scheduler_instance DATABASE_URL HOLDER RUNS_FILE \\
        [--lease-name scheduler] [--ttl 10] [--tick 2] [--job-seconds 0.1]

The real Lease and LeaderElectedScheduler against the given database, with one probe job in
place of Kyoso's: every second it appends `HOLDER start T` and `HOLDER end T` to RUNS_FILE
(T on time.monotonic(), which all processes of a machine share), so a reader can tell whether
two instances ever ran a job at the same time. SIGTERM stops it as `kyoso run` stops
(LeaderElectedScheduler.stop()); SIGKILL and SIGSTOP are what the tests do to a leader.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import SystemClock
from bot.db import SessionFactory, make_engine, make_session_factory
from scheduler.jobs import JobContext, JobResult, JobSpec
from scheduler.lease import DEFAULT_TTL, SCHEDULER, Lease, current_holder
from scheduler.runner import DEFAULT_TICK, LeaderElectedScheduler

PROBE = "probe"
# Under libfaketime (CI's run "a year from now") a timed wait never times out, and APScheduler
# and the election loop wait that way: tests that run them skip there (they involve no date).
TIMED_WAITS_STALL = "faketime" in os.environ.get("LD_PRELOAD", "")
_COMMAND = (sys.executable, "-m", "tests.support.scheduler_instance")


def probe_job(holder: str, runs_file: Path, seconds: float) -> JobSpec:
    """A job that fires every second, lasts `seconds` and records when it ran."""

    def run(_context: JobContext) -> JobResult:
        record(runs_file, holder, "start")
        time.sleep(seconds)
        record(runs_file, holder, "end")
        return {"slept": seconds}

    return JobSpec(id=PROBE, description=PROBE, cron={"second": "*"}, run=run)


def record(runs_file: Path, holder: str, event: str) -> None:
    # One short write in append mode: lines from several processes never interleave.
    with runs_file.open("a", encoding="utf-8") as out:
        out.write(f"{holder} {event} {time.monotonic():.6f}\n")


@dataclass(frozen=True)
class Run:
    holder: str
    start: float
    end: float


def read_runs(runs_file: Path, ended_by: dict[str, float] | None = None) -> list[Run]:
    """The probe's runs; a run a killed holder never finished ends when it was killed
    (`ended_by`: holder -> when its process was reaped)."""
    runs, unfinished = _parse(runs_file)
    for holder, start in unfinished.items():
        if holder not in (ended_by or {}):
            raise AssertionError(f"{holder} started a run at {start} that never ended")
        runs.append(Run(holder, start, (ended_by or {})[holder]))
    return sorted(runs, key=lambda run: run.start)


def _parse(runs_file: Path) -> tuple[list[Run], dict[str, float]]:
    """Finished runs, and when each holder's unfinished run (if any) started."""
    lines = runs_file.read_text(encoding="utf-8").splitlines() if runs_file.exists() else []
    started: dict[str, float] = {}
    runs = []
    for holder, event, at in (line.split() for line in lines):
        if event == "start":
            started[holder] = float(at)
        else:
            runs.append(Run(holder, started.pop(holder), float(at)))
    return runs, started


def overlapping(runs: Iterable[Run]) -> list[tuple[Run, Run]]:
    """Pairs of runs of different holders that were running at the same time."""
    ordered = sorted(runs, key=lambda run: run.start)
    pairs = []
    for index, first in enumerate(ordered):
        for second in ordered[index + 1 :]:
            if second.start >= first.end:
                break
            if second.holder != first.holder:
                pairs.append((first, second))
    return pairs


def wait_for_leader(
    session_factory: SessionFactory,
    lease_name: str,
    *,
    timeout: float,
    other_than: str | None = None,
) -> str:
    """The lease's holder (by the database's clock) once it is someone other than `other_than`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        holder = current_holder(session_factory, lease_name)
        if holder is not None and holder != other_than:
            return holder
        time.sleep(0.01)
    raise AssertionError(f"no leader other than {other_than} within {timeout} s")


def wait_for_run(runs_file: Path, holder: str, *, after: float, timeout: float) -> Run:
    """The first finished run of `holder` that started after `after`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        finished, _ = _parse(runs_file)
        later = [run for run in finished if run.holder == holder and run.start > after]
        if later:
            return later[0]
        time.sleep(0.01)
    raise AssertionError(f"{holder} ran no job within {timeout} s")


class Cluster:
    """Instances started as processes against one database and one lease, and what a test or
    a bench does to them."""

    def __init__(
        self,
        database_url: str,
        folder: Path,
        *,
        ttl: float,
        tick: float,
        job_seconds: float = 0.1,
    ) -> None:
        self.database_url = database_url
        self.folder = folder
        self.runs_file = folder / "runs.txt"
        self.lease_name = f"failover-{uuid.uuid4().hex[:8]}"
        self.options = ["--lease-name", self.lease_name, "--ttl", str(ttl), "--tick", str(tick)]
        self.options += ["--job-seconds", str(job_seconds)]
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.killed_at: dict[str, float] = {}  # holder -> when its process was reaped
        self._engine = make_engine(database_url)
        self._session_factory = make_session_factory(self._engine)

    def spawn(self, holder: str) -> None:
        with (self.folder / f"{holder}.log").open("wb") as log:
            self.processes[holder] = subprocess.Popen(
                [*_COMMAND, self.database_url, holder, str(self.runs_file), *self.options],
                cwd=Path(__file__).resolve().parents[2],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def leader(self) -> str | None:
        """The lease's holder now, by the database's clock."""
        return current_holder(self._session_factory, self.lease_name)

    def wait_for_leader(self, *, timeout: float, other_than: str | None = None) -> str:
        return wait_for_leader(
            self._session_factory, self.lease_name, timeout=timeout, other_than=other_than
        )

    def wait_for_run(self, holder: str, *, after: float, timeout: float) -> Run:
        return wait_for_run(self.runs_file, holder, after=after, timeout=timeout)

    def is_running_a_job(self, holder: str) -> bool:
        return holder in _parse(self.runs_file)[1]

    def kill(self, holder: str) -> float:
        """SIGKILL; returns when the process was reaped (its unfinished run ends by then)."""
        process = self.processes[holder]
        process.kill()  # a paused (SIGSTOP) process dies at once all the same
        process.wait()
        self.killed_at[holder] = time.monotonic()
        return self.killed_at[holder]

    def terminate(self, holder: str, *, timeout: float = 30) -> int:
        process = self.processes[holder]
        process.terminate()
        return process.wait(timeout)

    def signal(self, holder: str, signum: int) -> None:
        self.processes[holder].send_signal(signum)

    def log(self, holder: str) -> str:
        return (self.folder / f"{holder}.log").read_text(encoding="utf-8", errors="replace")

    def runs(self) -> list[Run]:
        """Every run; those of killed holders that never finished end when they were killed."""
        return read_runs(self.runs_file, self.killed_at)

    def close(self) -> None:
        """Stop the instances still alive (cleanly), kill those that do not stop."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
        for holder, process in self.processes.items():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill(holder)
        self._engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    engine = make_engine(args.database_url)
    session_factory = make_session_factory(engine)
    lease = Lease(
        session_factory=session_factory,
        holder=args.holder,
        name=args.lease_name,
        ttl=timedelta(seconds=args.ttl),
    )
    elections = LeaderElectedScheduler(
        context=JobContext(session_factory=session_factory, clock=SystemClock()),
        lease=lease,
        timezone=ZoneInfo("UTC"),
        interval=timedelta(seconds=args.tick),
        jobs=(probe_job(args.holder, Path(args.runs_file), args.job_seconds),),
    )
    stopping = _event_on(signal.SIGTERM)
    elections.start()
    print(f"ready {os.getpid()}", flush=True)
    while not stopping.wait(0.1):
        pass
    elections.stop()
    engine.dispose()
    return 0


def _event_on(signum: int) -> threading.Event:
    event = threading.Event()
    handler: Callable[[int, object], None] = lambda _signum, _frame: event.set()  # noqa: E731
    signal.signal(signum, handler)
    return event


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("database_url")
    parser.add_argument("holder")
    parser.add_argument("runs_file")
    parser.add_argument("--lease-name", default=SCHEDULER)
    parser.add_argument("--ttl", type=float, default=DEFAULT_TTL.total_seconds())
    parser.add_argument("--tick", type=float, default=DEFAULT_TICK.total_seconds())
    parser.add_argument("--job-seconds", type=float, default=0.1)
    return parser


if __name__ == "__main__":
    sys.exit(main())
