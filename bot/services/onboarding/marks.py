"""Once-only marks on a member's row, and who Kyoso may still write to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.services.rules import REACHABLE_STATUSES
from models import Member


def claim_mark(
    session: Session, slack_user_id: str, column: Any, now: datetime, *more: Any
) -> bool:
    """Set a once-only mark; True for the one caller that set it."""
    changed = session.execute(
        update(Member)
        .where(Member.slack_user_id == slack_user_id, column.is_(None), *more)
        .values({column.key: now})
        .returning(Member.id)
    ).first()
    return changed is not None


def reachable() -> tuple[Any, ...]:
    """People, not guests, not flagged for deletion, deactivated or deleted."""
    return (
        Member.is_bot.is_(False),
        Member.guest_kind.is_(None),  # guests are never sent onboarding messages
        Member.status.in_(REACHABLE_STATUSES),
    )
