"""Self-introduction: the modal's prefill, the first introduction, the one reminder."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.onboarding import IntroDraft
from bot.i18n import Language
from bot.services import audit, members
from bot.services.onboarding.marks import claim_mark, reachable
from bot.services.onboarding.organisations import organisation_name
from models import Application, Member, Organisation

INTRO_REMINDER_AFTER = timedelta(days=7)


def intro_draft(session: Session, slack_user_id: str, language: Language) -> IntroDraft:
    """Prefill the modal from what Kyoso knows: the member, else their application."""
    member = members.find(session, slack_user_id)
    application = session.scalar(
        select(Application)
        .where(Application.slack_user_id == slack_user_id)
        .order_by(Application.submitted_at.desc())
        .limit(1)
    )
    organisation_id = (member.organisation_id if member else None) or (
        application.organisation_id if application else None
    )
    organisation = session.get(Organisation, organisation_id) if organisation_id else None
    name = (member.real_name if member else None) or (application.name if application else None)
    department = (member.department if member else None) or (
        application.department if application else None
    )
    return IntroDraft(
        name=name or "",
        organisation=organisation_name(organisation, language) or "",
        department=department or "",
    )


def record_introduction(session: Session, *, clock: Clock, slack_user_id: str) -> bool:
    """Note the first introduction; True the first time."""
    members.ensure_member(session, clock=clock, slack_user_id=slack_user_id)
    first = claim_mark(session, slack_user_id, Member.introduced_at, clock.now())
    audit.record(
        session,
        clock=clock,
        actor=slack_user_id,
        action="member.introduced",
        target_type="member",
        target_id=slack_user_id,
    )
    return first


def due_intro_reminders(session: Session, *, now: datetime, limit: int) -> list[str]:
    """Welcomed a week ago or more, not introduced, never reminded."""
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .where(
                *reachable(),
                Member.welcomed_at <= now - INTRO_REMINDER_AFTER,
                Member.introduced_at.is_(None),
                Member.intro_reminded_at.is_(None),
            )
            .order_by(Member.welcomed_at)
            .limit(limit)
        )
    )


def claim_intro_reminder(session: Session, *, clock: Clock, slack_user_id: str) -> bool:
    return claim_mark(
        session,
        slack_user_id,
        Member.intro_reminded_at,
        clock.now(),
        Member.introduced_at.is_(None),
    )
