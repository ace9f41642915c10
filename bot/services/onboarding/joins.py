"""`team_join`: record the join, complete the member's application, claim the welcome DM."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.decided import AlreadyDecided, AuditEntry, decide_once
from bot.domain.onboarding import UnmatchedJoin
from bot.eligibility.addresses import normalise_application_email
from bot.services import members
from bot.services.onboarding.welcomes import claim_welcome
from models import Application, ApplicationStatus, Member

# The application states a newcomer's join completes.
JOINABLE_STATUSES = (ApplicationStatus.APPROVED, ApplicationStatus.INVITED)


@dataclass(frozen=True)
class JoinOutcome:
    slack_user_id: str
    welcome: bool  # this delivery claimed the welcome DM and must send it
    matched_application: str | None  # public id of the application marked joined
    unmatched: UnmatchedJoin | None  # set only together with `welcome`


def handle_join(session: Session, *, clock: Clock, user: members.SlackUser) -> JoinOutcome:
    """Record the join, complete the member's application, and claim the welcome DM."""
    member = members.record_join(session, clock=clock, user=user)
    # Guests and Slack Connect users are no newcomers: no welcome, no "unknown joiner" notice.
    if user.is_bot or user.guest_kind is not None:
        return JoinOutcome(user.user_id, welcome=False, matched_application=None, unmatched=None)
    matched: str | None = None
    latest_status: ApplicationStatus | None = None
    email = normalise_application_email(member.email) if member.email else None
    if email:
        application = _joinable_application(session, email)
        if application is not None and _mark_joined(session, clock, application, member):
            matched = application.public_id
        else:
            latest_status = session.scalar(
                select(Application.status)
                .where(Application.email_normalized == email)
                .order_by(Application.submitted_at.desc(), Application.id.desc())
                .limit(1)
            )
    welcome = claim_welcome(session, clock=clock, slack_user_id=user.user_id)
    unmatched = None
    if welcome and matched is None:
        unmatched = UnmatchedJoin(
            slack_user_id=user.user_id,
            name=user.real_name or user.display_name,
            email=user.email,
            application_status=latest_status,
        )
    return JoinOutcome(
        user.user_id, welcome=welcome, matched_application=matched, unmatched=unmatched
    )


def _joinable_application(session: Session, normalised_email: str) -> Application | None:
    return session.scalar(
        select(Application)
        .where(
            Application.email_normalized == normalised_email,
            Application.status.in_(JOINABLE_STATUSES),
        )
        .order_by(Application.submitted_at.desc())
        .limit(1)
    )


def _mark_joined(session: Session, clock: Clock, application: Application, member: Member) -> bool:
    """Decided once: decided_at/decided_by stay the secretariat's decision."""
    try:
        decide_once(
            session,
            row=application,
            status=Application.status,
            allowed_from=JOINABLE_STATUSES,
            values={"status": ApplicationStatus.JOINED, "slack_user_id": member.slack_user_id},
            audit_entry=AuditEntry(
                actor=member.slack_user_id,
                action="application.joined",
                target_type="application",
                target_id=application.public_id,
            ),
            clock=clock,
        )
    except AlreadyDecided:
        return False
    if application.organisation_id is not None:
        member.organisation_id = application.organisation_id
    if application.department:
        member.department = application.department
    member.updated_at = clock.now()
    return True
