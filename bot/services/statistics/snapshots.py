"""Weekly snapshots of the headline figures, kept in the audit log (one per ISO week)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.statistics import Headline
from bot.services import audit
from bot.services.statistics.periods import week_key
from models import AuditEntry

SNAPSHOT_ACTION = "statistics.weekly_snapshot"
SNAPSHOT_TARGET = "report"


def record_snapshot(session: Session, *, clock: Clock, zone: ZoneInfo, headline: Headline) -> bool:
    """Keep this week's headline figures once; False when this week already has a snapshot."""
    key = week_key(clock.now(), zone)
    if snapshot_for(session, key) is not None:
        return False
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action=SNAPSHOT_ACTION,
        target_type=SNAPSHOT_TARGET,
        target_id=key,
        details=headline.to_dict(),
    )
    session.flush()
    return True


def snapshot_for(session: Session, key: str) -> Headline | None:
    details = session.scalar(
        select(AuditEntry.details)
        .where(
            AuditEntry.action == SNAPSHOT_ACTION,
            AuditEntry.target_type == SNAPSHOT_TARGET,
            AuditEntry.target_id == key,
        )
        .order_by(AuditEntry.id)
        .limit(1)
    )
    return Headline.from_dict(details) if details is not None else None


def snapshots(session: Session, *, since: datetime) -> list[tuple[datetime, Headline]]:
    """Snapshots taken since `since`, oldest first."""
    rows = session.execute(
        select(AuditEntry.occurred_at, AuditEntry.details)
        .where(AuditEntry.action == SNAPSHOT_ACTION, AuditEntry.occurred_at >= since)
        .order_by(AuditEntry.occurred_at, AuditEntry.id)
    )
    return [(at, Headline.from_dict(details or {})) for at, details in rows]


def previous_snapshot(session: Session, *, before_week: str) -> tuple[datetime, Headline] | None:
    """The latest snapshot of an earlier week (normally last week's)."""
    row = session.execute(
        select(AuditEntry.occurred_at, AuditEntry.details)
        .where(
            AuditEntry.action == SNAPSHOT_ACTION,
            AuditEntry.target_type == SNAPSHOT_TARGET,
            AuditEntry.target_id < before_week,
        )
        .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return row[0], Headline.from_dict(row[1] or {})
