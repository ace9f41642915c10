"""Exactly-once handling of Slack events, keyed by the globally unique `event_id`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.clock import Clock
from bot.db import insert_or_skip
from models import ProcessedEvent, SeenRequest

# Slack's last retry comes about 5 minutes after the first delivery; keep ids far longer.
RETENTION = timedelta(days=7)


def claim_event(session: Session, *, event_id: str, event_type: str, clock: Clock) -> bool:
    """Mark the event processed in the caller's transaction; False if it already was.

    Claimed in the same transaction as the event's effects, so a crash rolls both back
    and Slack's retry does the work again, while a concurrent duplicate waits on the
    primary key and then finds it taken."""
    return _first_time(
        session,
        ProcessedEvent.event_id,
        event_id=event_id,
        event_type=event_type,
        processed_at=clock.now(),
    )


def prune_processed_events(session: Session, *, clock: Clock) -> int:
    return _prune(session, ProcessedEvent.processed_at, clock.now() - RETENTION)


# Slack refuses a signature older than 5 minutes, so replay keys are useless after that; a
# day leaves room for clock skew and for the job not running every night.
REQUEST_KEY_RETENTION = timedelta(days=1)


def claim_request(session: Session, *, key: str, clock: Clock) -> bool:
    """Mark a signed command or interaction as acted on; False for a replay of it."""
    return _first_time(session, SeenRequest.key, key=key, seen_at=clock.now())


def prune_seen_requests(session: Session, *, clock: Clock) -> int:
    return _prune(session, SeenRequest.seen_at, clock.now() - REQUEST_KEY_RETENTION)


def _first_time(session: Session, unique: InstrumentedAttribute[str], /, **values: Any) -> bool:
    """Insert the row unless its `unique` column's value is taken; True when this call did."""
    table = unique.class_.__table__
    statement = insert_or_skip(session, table, unique=[unique.key], returning=unique.key)
    # RETURNING, not rowcount: psycopg reports -1 for ON CONFLICT DO NOTHING here.
    return session.connection().execute(statement, values).first() is not None


def _prune(session: Session, stamp: InstrumentedAttribute[datetime], before: datetime) -> int:
    """Delete the rows stamped before `before`; how many went."""
    result = session.execute(delete(stamp.class_).where(stamp < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
