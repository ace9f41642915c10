"""A lease in the database: of several instances sharing one database, one runs the jobs.

Two clocks, each used where it cannot be fooled:

- The row's expiry is written and compared on the database's clock, never on an instance's:
  an instance whose clock runs ahead cannot take a live lease, and one whose clock runs behind
  cannot keep a dead one.
- Whether this instance may still act as the leader is decided on its own monotonic clock:
  from the moment *before* the renewal was sent, for the TTL minus a safety margin. The
  database's expiry starts later (when the statement runs), so this belief always ends at
  least the margin before another instance can take the lease, however late the answer came
  back or however long the process was paused after sending it (self-fencing).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select, update
from sqlalchemy.orm import Session

from bot.db import SessionFactory, insert_for
from models import SchedulerLease

# A killed leader is replaced within TTL + one tick (≤ 12 s with the runner's 2 s tick).
DEFAULT_TTL = timedelta(seconds=10)
# The share of the TTL kept between the end of the local belief and the database's expiry: it
# covers the gap between a job's check of the lease and its start (2 s of a 10 s TTL).
MARGIN_SHARE = 0.2
SCHEDULER = "scheduler"


class Lease:
    def __init__(
        self,
        *,
        session_factory: SessionFactory,
        holder: str,
        name: str = SCHEDULER,
        ttl: timedelta = DEFAULT_TTL,
        margin: timedelta | None = None,
    ) -> None:
        self.margin = ttl * MARGIN_SHARE if margin is None else margin
        if not timedelta(0) < self.margin < ttl:
            raise ValueError("the safety margin must be positive and shorter than the TTL")
        self._session_factory = session_factory
        self.holder = holder
        self.name = name
        self.ttl = ttl
        self._deadline = 0.0  # time.monotonic() until which we act as the leader
        self._ever_acquired = False

    def try_acquire(self) -> bool:
        """Take the lease if it is free or expired, or renew it if we hold it."""
        sent = time.monotonic()  # before the statement: a late answer cannot stretch the belief
        with self._session_factory.begin() as session:
            acquired = self._renew(session) or self._insert(session)
        # Only once committed: a failed commit leaves the old deadline to run out by itself.
        self._deadline = sent + (self.ttl - self.margin).total_seconds() if acquired else 0.0
        self._ever_acquired |= acquired
        return acquired

    def _renew(self, session: Session) -> bool:
        now = database_time(session)
        renewed = session.execute(
            update(SchedulerLease)
            .where(
                SchedulerLease.name == self.name,
                or_(SchedulerLease.holder == self.holder, SchedulerLease.expires_at < now),
            )
            .values(
                acquired_at=case(
                    (SchedulerLease.holder == self.holder, SchedulerLease.acquired_at),
                    else_=now,
                ),
                holder=self.holder,
                expires_at=database_time(session, self.ttl),
            )
            .returning(SchedulerLease.name)
        )
        return renewed.first() is not None

    def _insert(self, session: Session) -> bool:
        inserted = session.execute(
            insert_for(session)(SchedulerLease)
            .values(
                name=self.name,
                holder=self.holder,
                acquired_at=database_time(session),
                expires_at=database_time(session, self.ttl),
            )
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(SchedulerLease.name)
        )
        return inserted.first() is not None

    def is_held(self) -> bool:
        """Whether this instance may act as the leader now; local, so it also answers (no)
        while the database is unreachable."""
        return time.monotonic() < self._deadline

    def release(self) -> None:
        """Give the lease up on a clean stop: another instance takes it at its next tick."""
        self._deadline = 0.0  # stop acting as the leader before the row says so
        if not self._ever_acquired:
            return
        with self._session_factory.begin() as session:
            session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                .values(expires_at=database_time(session, -timedelta(seconds=1)))
            )


def current_holder(session_factory: SessionFactory, name: str = SCHEDULER) -> str | None:
    """Who holds the lease now by the database's clock (for operators, tests and benches)."""
    with session_factory() as session:
        return session.scalar(
            select(SchedulerLease.holder).where(
                SchedulerLease.name == name, SchedulerLease.expires_at > database_time(session)
            )
        )


def database_time(session: Session, offset: timedelta = timedelta(0)) -> ColumnElement[Any]:
    """The database's current time plus offset, in the form the lease's columns store."""
    if session.get_bind().dialect.name == "postgresql":
        # The transaction's start: never later than the statement, so expiries err early.
        return func.now() + offset
    # SQLite keeps text; the same form SQLAlchemy writes (microseconds), to the millisecond.
    seconds = f"{offset.total_seconds():+.3f} seconds"
    return func.strftime("%Y-%m-%d %H:%M:%f000", "now", seconds)
