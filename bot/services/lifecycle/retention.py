"""Retention: deactivated and deleted members keep only what the audit log needs (their
Slack ID, organisation and dates) once the retention period has passed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, exists, func, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services import audit
from bot.services.lifecycle.policy import Policy
from bot.services.lifecycle.rounds import at, count
from models import (
    AffiliationCheck,
    AffiliationMove,
    ContactAttempt,
    InactivityCycle,
    Member,
    MemberStatus,
)


def reduce_personal_data(session: Session, *, clock: Clock, policy: Policy) -> int:
    """Members whose personal data was reduced now."""
    now = clock.now()
    cutoff = now - timedelta(days=policy.retention_days)
    due = and_(
        Member.status.in_((MemberStatus.DEACTIVATED, MemberStatus.DELETED)),
        Member.personal_data_reduced_at.is_(None),
        func.coalesce(Member.deactivated_at, Member.updated_at) <= at(cutoff),
    )
    # Mail servers quote the address in their refusals: those errors go too.
    session.execute(
        update(ContactAttempt)
        .where(
            ContactAttempt.error.is_not(None),
            exists().where(
                InactivityCycle.id == ContactAttempt.cycle_id,
                Member.id == InactivityCycle.member_id,
                due,
            ),
        )
        .values(error=None)
        .execution_options(synchronize_session=False)
    )
    # Moves and affiliation checks hold the addresses the member had: they go with the rest.
    of_due_member = exists().where(Member.id == AffiliationMove.member_id, due)
    session.execute(
        update(AffiliationMove)
        .where(of_due_member)
        .values(old_email=None, new_email=None, new_email_normalized=None, new_department=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(AffiliationCheck)
        .where(exists().where(Member.id == AffiliationCheck.member_id, due))
        .values(old_email=None, new_email=None)
        .execution_options(synchronize_session=False)
    )
    reduced = count(
        session,
        update(Member)
        .where(due)
        .values(
            email=None,
            email_normalized=None,
            real_name=None,
            display_name=None,
            department=None,
            locale=None,
            last_login_at=None,
            personal_data_reduced_at=now,
            updated_at=now,
        ),
    )
    if reduced:
        audit.record(
            session,
            clock=clock,
            actor=audit.SYSTEM_ACTOR,
            action="lifecycle.personal_data_reduced",
            target_type="lifecycle",
            target_id=now.date().isoformat(),
            details={"members": reduced, "retention_days": policy.retention_days},
        )
    return reduced
