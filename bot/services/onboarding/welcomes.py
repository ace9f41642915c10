"""The welcome DM's bookkeeping: claimed before it is sent, marked sent when Slack took it,
given back or given up otherwise; and what it says (the rules, channels to join)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.onboarding import Welcome
from bot.services import members
from bot.services.ambassadors.greetings import prefecture_ambassadors
from bot.services.onboarding.marks import claim_mark, reachable
from bot.services.onboarding.suggestions import suggestions_for
from bot.services.rules import current
from models import Member

# How long a welcome claim may stay in flight before the job looks in Slack, and for how
# long after joining a member who was never welcomed is still worth welcoming.
WELCOME_CLAIM_LEASE = timedelta(minutes=10)
WELCOME_RETRY_FOR = timedelta(days=7)
_MAX_ERROR_CHARS = 500


def welcome_for(session: Session, slack_user_id: str, *, today: date) -> Welcome:
    member = members.find(session, slack_user_id)
    prefecture, ambassadors = prefecture_ambassadors(
        session, slack_user_id=slack_user_id, today=today
    )
    return Welcome(
        slack_user_id=slack_user_id,
        name=(member.real_name or member.display_name) if member else None,
        rules=current(session),
        suggestions=suggestions_for(session, member),
        prefecture=prefecture,
        ambassadors=ambassadors,
    )


def claim_welcome(session: Session, *, clock: Clock, slack_user_id: str) -> bool:
    return claim_mark(
        session,
        slack_user_id,
        Member.welcome_claimed_at,
        clock.now(),
        Member.welcomed_at.is_(None),
        Member.welcome_error.is_(None),
    )


def _welcome_update(slack_user_id: str) -> Any:
    return update(Member).where(
        Member.slack_user_id == slack_user_id,
        Member.welcomed_at.is_(None),
        Member.welcome_error.is_(None),
    )


def mark_welcomed(session: Session, *, at: datetime, slack_user_id: str) -> None:
    """Slack accepted the welcome DM."""
    session.execute(_welcome_update(slack_user_id).values(welcomed_at=at))


def release_welcome(session: Session, *, slack_user_id: str) -> None:
    """Slack certainly did not take it: due again for the next run."""
    session.execute(_welcome_update(slack_user_id).values(welcome_claimed_at=None))


def fail_welcome(session: Session, *, slack_user_id: str, error: str) -> None:
    """Slack refused it for good (the member cannot be DMed): never retried."""
    session.execute(
        _welcome_update(slack_user_id).values(
            welcome_error=error[:_MAX_ERROR_CHARS], welcome_claimed_at=None
        )
    )


def _unwelcomed() -> tuple[Any, ...]:
    return (
        *reachable(),
        Member.joined_at.is_not(None),
        Member.welcomed_at.is_(None),
        Member.welcome_error.is_(None),
    )


def due_welcomes(session: Session, *, now: datetime, limit: int) -> list[str]:
    """Joined lately, never welcomed, not in flight."""
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                *_unwelcomed(),
                Member.joined_at >= now - WELCOME_RETRY_FOR,
                Member.welcome_claimed_at.is_(None),
            )
            .order_by(Member.joined_at, Member.id)
            .limit(limit)
        )
    )


def stale_welcome_claims(session: Session, *, now: datetime, limit: int) -> list[str]:
    """Welcomes a sender left in flight (it died, or Slack's answer was lost)."""
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(*_unwelcomed(), Member.welcome_claimed_at <= now - WELCOME_CLAIM_LEASE)
            .order_by(Member.welcome_claimed_at, Member.id)
            .limit(limit)
        )
    )
