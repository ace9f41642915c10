"""The audit log: every decision, with actor, time and reason."""

from __future__ import annotations

from typing import Any

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
