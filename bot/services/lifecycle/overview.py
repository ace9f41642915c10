"""What the secretariat sees: counts, and the flagged (or approved) rounds to decide."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session

from bot.domain.lifecycle import BATCH_SIZE, FlaggedBatch, FlaggedMember, Overview
from bot.services.applications.organisations import organisation_label
from bot.services.lifecycle.policy import DM_ATTEMPT, EMAIL_ATTEMPT
from models import (
    OPEN_CYCLE_STATUSES,
    AttemptStatus,
    ContactAttempt,
    CycleStatus,
    InactivityCycle,
    Member,
    Organisation,
)


def overview(session: Session) -> Overview:
    counts = dict(
        session.execute(
            select(InactivityCycle.status, func.count())
            .where(InactivityCycle.status.in_(OPEN_CYCLE_STATUSES))
            .group_by(InactivityCycle.status)
        ).all()
    )
    exempt = session.scalar(
        select(func.count()).select_from(Member).where(Member.inactivity_exempt.is_(True))
    )
    return Overview(
        contacting=counts.get(CycleStatus.CONTACTING, 0),
        flagged=counts.get(CycleStatus.FLAGGED, 0),
        approved=counts.get(CycleStatus.APPROVED, 0),
        exempt=exempt or 0,
    )


def first_batch(session: Session) -> FlaggedBatch:
    """The counts and the longest-flagged batch: what the list and the weekly summary show."""
    return FlaggedBatch(
        overview=overview(session), batch=flagged_members(session, limit=BATCH_SIZE)
    )


def flagged_members(
    session: Session,
    *,
    statuses: Sequence[CycleStatus] = (CycleStatus.FLAGGED,),
    limit: int | None = None,
) -> list[FlaggedMember]:
    """Flagged (or approved) rounds, longest-flagged first."""

    def failed(number: int) -> ColumnElement[bool]:
        return exists().where(
            ContactAttempt.cycle_id == InactivityCycle.id,
            ContactAttempt.number == number,
            ContactAttempt.status == AttemptStatus.FAILED,
        )

    query = (
        select(
            InactivityCycle,
            Member,
            Organisation,
            failed(DM_ATTEMPT).label("dm_failed"),
            failed(EMAIL_ATTEMPT).label("email_failed"),
        )
        .join(Member, Member.id == InactivityCycle.member_id)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .where(InactivityCycle.status.in_(list(statuses)))
        .order_by(InactivityCycle.flagged_at, InactivityCycle.id)
    )
    if limit is not None:
        query = query.limit(limit)
    out = []
    for cycle, member, organisation, dm_failed, email_failed in session.execute(query).all():
        last_active = max(
            (at for at in (member.last_seen_at, member.last_login_at) if at is not None),
            default=None,
        )
        out.append(
            FlaggedMember(
                cycle_id=cycle.id,
                slack_user_id=member.slack_user_id,
                name=member.real_name or member.display_name,
                email=member.email,
                organisation=organisation_label(organisation),
                department=member.department,
                status=cycle.status,
                last_active=last_active,
                started_at=cycle.started_at,
                flagged_at=cycle.flagged_at,
                decided_by=cycle.decided_by,
                decided_at=cycle.decided_at,
                dm_failed=bool(dm_failed),
                email_failed=bool(email_failed),
            )
        )
    return out
