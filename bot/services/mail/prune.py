"""Forgetting sent and failed emails: they hold names and reasons; the audit log keeps the
decisions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.clock import Clock
from models import EmailStatus, OutboundEmail

OUTBOX_RETENTION = timedelta(days=30)


def prune_outbox(session: Session, *, clock: Clock) -> int:
    """Delete delivered (or given-up) emails older than the retention period."""
    cutoff = clock.now() - OUTBOX_RETENTION
    deleted = session.execute(
        delete(OutboundEmail)
        .where(
            OutboundEmail.status.in_((EmailStatus.SENT, EmailStatus.FAILED)),
            OutboundEmail.created_at < cutoff,
        )
        .returning(OutboundEmail.id)
    )
    return len(deleted.all())
