"""The event inbox in the database: record, claim, complete, fail, list, retry, prune."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import insert_for
from models import InboxEvent, InboxStatus

# After this many failed attempts an event is dead-lettered for an operator to look at.
MAX_ATTEMPTS = 8
# Done events are kept this long to recognise Slack's redeliveries (its last retry comes
# about 5 minutes after the first delivery).
DONE_RETENTION = timedelta(days=7)
_ERROR_LENGTH = 500
_TABLE: Table = InboxEvent.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class NewEvent:
    event_id: str
    event_type: str
    body: str


@dataclass(frozen=True)
class DueEvent:
    event_id: str
    event_type: str
    body: str
    attempts: int


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … capped at 1 hour: a short outage heals fast, a long one is not
    hammered; eight attempts span about four hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def record(
    session: Session, events: Sequence[NewEvent], *, clock: Clock, lease: timedelta
) -> set[str]:
    """Insert the events not seen before; return the ids that were new.

    Each new event is claimed at once by the recording instance (it processes the event from
    memory); should it die, the lease runs out and the event is taken up again."""
    if not events:
        return set()
    now = clock.now()
    # Core executemany with RETURNING: compiled once and cached, where a multi-row VALUES
    # built per batch would be compiled again each time (most of the cost on the ack path).
    statement = (
        insert_for(session)(_TABLE)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(_TABLE.c.event_id)
    )
    rows = [
        {
            "event_id": e.event_id,
            "event_type": e.event_type[:64],
            "body": e.body,
            "status": InboxStatus.PENDING.value,
            "attempts": 0,
            "received_at": now,
            "next_attempt_at": now,
            "claimed_until": now + lease,
        }
        for e in events
    ]
    result = session.connection().execute(statement, rows)
    return {row[0] for row in result}


def complete(session: Session, event_ids: Sequence[str], *, clock: Clock) -> None:
    if not event_ids:
        return
    session.connection().execute(
        update(_TABLE)
        .where(_TABLE.c.event_id.in_(event_ids), _TABLE.c.status == InboxStatus.PENDING.value)
        .values(status=InboxStatus.DONE.value, done_at=clock.now(), body=None, claimed_until=None)
    )


def fail(session: Session, event_id: str, error: str, *, clock: Clock) -> InboxStatus | None:
    """Count a failed attempt: due again after a backoff, or dead after MAX_ATTEMPTS."""
    event = session.get(InboxEvent, event_id, with_for_update=True)
    if event is None or event.status is not InboxStatus.PENDING:
        return None
    event.attempts += 1
    event.last_error = error[:_ERROR_LENGTH]
    event.claimed_until = None
    if event.attempts >= MAX_ATTEMPTS:
        event.status = InboxStatus.DEAD
    else:
        event.next_attempt_at = clock.now() + backoff(event.attempts)
    return event.status


def release(session: Session, event_ids: Sequence[str]) -> None:
    """Give back claims not worked on (a graceful stop): the next instance starts at once."""
    if event_ids:
        session.execute(
            update(InboxEvent)
            .where(InboxEvent.event_id.in_(event_ids), InboxEvent.status == InboxStatus.PENDING)
            .values(claimed_until=None)
        )


def claim_due(
    session: Session, *, clock: Clock, lease: timedelta, limit: int = 100
) -> list[DueEvent]:
    """Take up to `limit` pending events that are due and held by nobody, oldest first."""
    now = clock.now()
    candidates = (
        select(InboxEvent.event_id)
        .where(
            InboxEvent.status == InboxStatus.PENDING,
            InboxEvent.next_attempt_at <= now,
            (InboxEvent.claimed_until.is_(None)) | (InboxEvent.claimed_until <= now),
        )
        .order_by(InboxEvent.received_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(session.scalars(candidates))
    if not ids:
        return []
    rows = session.execute(
        update(InboxEvent)
        .where(InboxEvent.event_id.in_(ids))
        .values(claimed_until=now + lease)
        .returning(InboxEvent.event_id, InboxEvent.event_type, InboxEvent.body, InboxEvent.attempts)
    ).all()
    by_id = {row.event_id: row for row in rows}
    return [
        DueEvent(row.event_id, row.event_type, row.body or "", row.attempts)
        for event_id in ids
        if (row := by_id.get(event_id)) is not None
    ]


@dataclass(frozen=True)
class InboxSummary:
    pending: int
    dead: int
    oldest_pending: datetime | None


def summary(session: Session) -> InboxSummary:
    counts = dict(
        session.execute(
            select(InboxEvent.status, func.count())
            .where(InboxEvent.status != InboxStatus.DONE)
            .group_by(InboxEvent.status)
        ).all()
    )
    oldest = session.scalar(
        select(func.min(InboxEvent.received_at)).where(InboxEvent.status == InboxStatus.PENDING)
    )
    return InboxSummary(
        pending=counts.get(InboxStatus.PENDING, 0),
        dead=counts.get(InboxStatus.DEAD, 0),
        oldest_pending=oldest,
    )


def dead_events(session: Session, *, limit: int = 200) -> list[InboxEvent]:
    return list(
        session.scalars(
            select(InboxEvent)
            .where(InboxEvent.status == InboxStatus.DEAD)
            .order_by(InboxEvent.received_at)
            .limit(limit)
        )
    )


def retry(session: Session, event_ids: Sequence[str] | None, *, clock: Clock) -> int:
    """Put dead events (all of them when `event_ids` is None) back in line, attempts reset."""
    statement = update(InboxEvent).where(InboxEvent.status == InboxStatus.DEAD)
    if event_ids is not None:
        statement = statement.where(InboxEvent.event_id.in_(event_ids))
    result = session.execute(
        statement.values(
            status=InboxStatus.PENDING, attempts=0, next_attempt_at=clock.now(), claimed_until=None
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def prune(session: Session, *, clock: Clock) -> int:
    result = session.execute(
        delete(InboxEvent).where(
            InboxEvent.status == InboxStatus.DONE,
            InboxEvent.done_at < clock.now() - DONE_RETENTION,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
