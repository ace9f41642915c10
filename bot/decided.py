"""Decided once: a status change that only one of two concurrent clicks can win.

One guarded UPDATE (`WHERE status IN allowed_from`) decides the race in the database; the
winner's change is audited in the same transaction, the loser gets `AlreadyDecided` with the
status someone else set, and nothing of theirs is written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
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


@dataclass(frozen=True)
class AuditEntry:
    """What the winner's change writes to the audit log."""

    actor: str
    action: str
    target_type: str
    target_id: str
    reason: str | None = None
    details: dict[str, Any] | None = None

    def record(self, session: Session, *, clock: Clock) -> None:
        audit.record(session, clock=clock, **asdict(self))


@dataclass(frozen=True)
class Transition:
    """A secretary's decision on a record (an application, a channel request, a case): the
    status it sets, from which statuses, under which audit action."""

    to: Enum
    allowed_from: Sequence[Enum]
    action: str


def decide(
    session: Session,
    *,
    clock: Clock,
    row: Row,
    status: InstrumentedAttribute[Any],
    transition: Transition,
    actor: str,
    reason: str | None,
    target_type: str,
    target_id: str,
    details: dict[str, Any] | None = None,
    touch: bool = True,
) -> Row:
    """Take `transition` on `row` once, with who decided, when and why, audited on the target.
    `touch`: the table has an `updated_at` to set too. Raises AlreadyDecided when someone
    decided first."""
    now = clock.now()
    values: dict[str, Any] = {
        "status": transition.to,
        "decided_by": actor,
        "decided_at": now,
        "decision_reason": reason,
    }
    if touch:
        values["updated_at"] = now
    return decide_once(
        session,
        row=row,
        status=status,
        allowed_from=transition.allowed_from,
        values=values,
        audit_entry=AuditEntry(actor, transition.action, target_type, target_id, reason, details),
        clock=clock,
    )
