"""Exactly-once handling of Slack events, keyed by the globally unique `event_id`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import insert_for
from models import ProcessedEvent, SeenRequest

# Slack's last retry comes about 5 minutes after the first delivery; keep ids far longer.
RETENTION = timedelta(days=7)


def claim_event(session: Session, *, event_id: str, event_type: str, clock: Clock) -> bool:
    """Mark the event processed in the caller's transaction; False if it already was.

    Claimed in the same transaction as the event's effects, so a crash rolls both back
    and Slack's retry does the work again, while a concurrent duplicate waits on the
    primary key and then finds it taken."""
    statement = (
        insert_for(session)(ProcessedEvent)
        .values(event_id=event_id, event_type=event_type, processed_at=clock.now())
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(ProcessedEvent.event_id)
    )
    # RETURNING, not rowcount: psycopg reports -1 for ON CONFLICT DO NOTHING here.
    return session.execute(statement).first() is not None


def prune_processed_events(session: Session, *, clock: Clock) -> int:
    result = session.execute(
        delete(ProcessedEvent).where(ProcessedEvent.processed_at < clock.now() - RETENTION)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# Slack refuses a signature older than 5 minutes, so replay keys are useless after that; a
# day leaves room for clock skew and for the job not running every night.
REQUEST_KEY_RETENTION = timedelta(days=1)


def claim_request(session: Session, *, key: str, clock: Clock) -> bool:
    """Mark a signed command or interaction as acted on; False for a replay of it."""
    statement = (
        insert_for(session)(SeenRequest)
        .values(key=key, seen_at=clock.now())
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(SeenRequest.key)
    )
    return session.execute(statement).first() is not None


def prune_seen_requests(session: Session, *, clock: Clock) -> int:
    result = session.execute(
        delete(SeenRequest).where(SeenRequest.seen_at < clock.now() - REQUEST_KEY_RETENTION)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
