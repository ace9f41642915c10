"""Decided once: a status change that only one of two concurrent clicks can win.

One guarded UPDATE (`WHERE status IN allowed_from`) decides the race in the database; the
winner's change is audited in the same transaction, the loser gets `AlreadyDecided` with the
status someone else set, and nothing of theirs is written."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.clock import Clock
from bot.services import audit

Row = TypeVar("Row")


class AlreadyDecided(Exception):
    """Someone acted first (a double click, two secretaries): nothing changed."""

    def __init__(self, status: str, subject: object = None) -> None:
        super().__init__(status)
        self.status = status
        self.subject = subject


def decide_once(
    session: Session,
    *,
    row: Row,
    status: InstrumentedAttribute[Any],
    allowed_from: Sequence[Enum],
    values: dict[str, Any],
    audit_entry: AuditEntry | None = None,
    clock: Clock,
) -> Row:
    """Apply `values` to `row` if its `status` column is still one of `allowed_from`.

    `row` is an already loaded ORM object; it is refreshed either way, so the caller sees
    what the database holds. Raises AlreadyDecided when another transaction got there first."""
    model = type(row)
    primary_key = model.id  # type: ignore[attr-defined]
    changed = session.execute(
        update(model)
        .where(primary_key == row.id, status.in_(allowed_from))  # type: ignore[attr-defined]
        .values(**values)
        .returning(primary_key)
    ).first()
    session.refresh(row)
    if changed is None:
        current = getattr(row, status.key)
        raise AlreadyDecided(current.value if isinstance(current, Enum) else str(current), row)
    if audit_entry is not None:
        audit_entry.record(session, clock=clock)
    return row


class AuditEntry:
    """What the winner's change writes to the audit log."""

    def __init__(
        self,
        *,
        actor: str,
        action: str,
        target_type: str,
        target_id: str,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.actor = actor
        self.action = action
        self.target_type = target_type
        self.target_id = target_id
        self.reason = reason
        self.details = details

    def record(self, session: Session, *, clock: Clock) -> None:
        audit.record(
            session,
            clock=clock,
            actor=self.actor,
            action=self.action,
            target_type=self.target_type,
            target_id=self.target_id,
            reason=self.reason,
            details=self.details,
        )
