"""The audit log: every decision, with actor, time and reason."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ScalarResult, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from models import AuditEntry

SYSTEM_ACTOR = "system"
CLI_ACTOR = "cli"


def record(
    session: Session,
    *,
    clock: Clock,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        occurred_at=clock.now(),
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        details=details,
    )
    session.add(entry)
    return entry


def entries_of(
    session: Session, *, target_type: str, target_id: str, actions: Iterable[str]
) -> ScalarResult[AuditEntry]:
    """One record's entries of `actions`, oldest first (ties in the order they were written):
    what a review message or an alert shows as its history."""
    return session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.target_type == target_type,
            AuditEntry.target_id == target_id,
            AuditEntry.action.in_(list(actions)),
        )
        .order_by(AuditEntry.occurred_at, AuditEntry.id)
    )
