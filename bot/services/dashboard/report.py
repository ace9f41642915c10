"""The weekly report's figures: once per ISO week, from a snapshot written before anything is
posted (so a rerun reports the same figures), and the entry that says it was posted."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.statistics import WeeklyReport
from bot.services import audit
from bot.services.ambassadors.figures import ambassador_figures
from bot.services.statistics.figures import compute
from bot.services.statistics.history import history
from bot.services.statistics.periods import week_key
from bot.services.statistics.snapshots import (
    SNAPSHOT_TARGET,
    previous_snapshot,
    record_snapshot,
    snapshot_for,
)
from bot.services.transfers.figures import transfer_figures
from models import AuditEntry

POSTED_ACTION = "report.weekly_posted"


def already_posted(session: Session, week: str) -> bool:
    found = session.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.action == POSTED_ACTION,
            AuditEntry.target_type == SNAPSHOT_TARGET,
            AuditEntry.target_id == week,
        )
        .limit(1)
    )
    return found is not None


def prepare(session: Session, *, clock: Clock, zone: ZoneInfo) -> WeeklyReport:
    """This week's figures (its snapshot recorded first), last week's, and the series."""
    now = clock.now()
    week = week_key(now, zone)
    stats = compute(session, now=now, zone=zone)
    record_snapshot(session, clock=clock, zone=zone, headline=stats.headline)
    # The week's first snapshot: a retry later in the day reports the same figures.
    current = snapshot_for(session, week) or stats.headline
    previous = previous_snapshot(session, before_week=week)
    previous_at, previous_headline = previous if previous is not None else (None, None)
    return WeeklyReport(
        week=week,
        statistics=stats,
        current=current,
        previous=previous_headline,
        previous_at=previous_at,
        history=tuple(history(session, now=now, zone=zone, current=current)),
        transfers=transfer_figures(session, now=now, zone=zone),
        ambassadors=ambassador_figures(session, now=now, zone=zone),
    )


def record_posted(
    session: Session, *, clock: Clock, week: str, channel: str, ts: str | None
) -> None:
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action=POSTED_ACTION,
        target_type=SNAPSHOT_TARGET,
        target_id=week,
        details={"channel": channel, "ts": ts},
    )
