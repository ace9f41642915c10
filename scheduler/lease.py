"""A lease in the database: of several instances sharing one database, one runs the jobs."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, or_, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import SessionFactory, insert_for
from models import SchedulerLease

DEFAULT_TTL = timedelta(seconds=60)


class Lease:
    def __init__(
        self,
        *,
        session_factory: SessionFactory,
        clock: Clock,
        holder: str,
        name: str = "scheduler",
        ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock
        self.holder = holder
        self.name = name
        self.ttl = ttl

    def try_acquire(self) -> bool:
        """Take the lease if it is free or expired, or renew it if we hold it."""
        now = self._clock.now()
        with self._session_factory.begin() as session:
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
                    expires_at=now + self.ttl,
                )
                .returning(SchedulerLease.name)
            )
            if renewed.first() is not None:
                return True
            return self._insert(session, now)

    def _insert(self, session: Session, now: datetime) -> bool:
        inserted = session.execute(
            insert_for(session)(SchedulerLease)
            .values(name=self.name, holder=self.holder, acquired_at=now, expires_at=now + self.ttl)
            .on_conflict_do_nothing(index_elements=["name"])
            .returning(SchedulerLease.name)
        )
        return inserted.first() is not None

    def is_held(self) -> bool:
        with self._session_factory() as session:
            lease = session.get(SchedulerLease, self.name)
            return (
                lease is not None
                and lease.holder == self.holder
                and lease.expires_at > self._clock.now()
            )

    def release(self) -> None:
        with self._session_factory.begin() as session:
            lease = session.get(SchedulerLease, self.name)
            if lease is not None and lease.holder == self.holder:
                # Expire it now so another instance takes over at its next tick.
                lease.expires_at = self._clock.now() - timedelta(seconds=1)
