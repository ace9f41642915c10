"""The secretariat's decisions on an application, each taken once (bot/decided.py): of two
concurrent clicks exactly one changes the status; the other gets AlreadyDecided and nothing.

What the applicant is told is queued in the same transaction as the decision: told exactly
once, and never before the decision holds."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.decided import AuditEntry, decide_once
from bot.services.applications.emails import ApplicationEmailKind, queue_application_email
from bot.services.applications.records import DECIDABLE, get
from models import Application, ApplicationStatus


def approve(
    session: Session, *, clock: Clock, public_id: str, actor: str, tell_applicant: bool = False
) -> Application:
    """`tell_applicant`: queue the approval email now. Leave it off when Slack's invitation
    follows (bot/slack/invitations.py): its outcome decides what the email says."""
    return _decide(
        session,
        clock=clock,
        public_id=public_id,
        actor=actor,
        to=ApplicationStatus.APPROVED,
        allowed_from=DECIDABLE,
        action="application.approved",
        email=ApplicationEmailKind.APPROVED if tell_applicant else None,
    )


def reject(
    session: Session, *, clock: Clock, public_id: str, actor: str, reason: str
) -> Application:
    """The reason goes to the applicant as typed."""
    return _decide(
        session,
        clock=clock,
        public_id=public_id,
        actor=actor,
        to=ApplicationStatus.REJECTED,
        allowed_from=DECIDABLE,
        action="application.rejected",
        reason=reason,
        email=ApplicationEmailKind.REJECTED,
    )


def request_info(
    session: Session, *, clock: Clock, public_id: str, actor: str, message: str
) -> Application:
    """The question goes to the applicant, who answers by replying to the email."""
    return _decide(
        session,
        clock=clock,
        public_id=public_id,
        actor=actor,
        to=ApplicationStatus.INFO_REQUESTED,
        allowed_from=(ApplicationStatus.PENDING,),
        action="application.info_requested",
        reason=message,
        email=ApplicationEmailKind.INFO_REQUESTED,
    )


def mark_invited(session: Session, *, clock: Clock, public_id: str, actor: str) -> Application:
    return _decide(
        session,
        clock=clock,
        public_id=public_id,
        actor=actor,
        to=ApplicationStatus.INVITED,
        allowed_from=(ApplicationStatus.APPROVED,),
        action="application.invited",
    )


def _decide(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    actor: str,
    to: ApplicationStatus,
    allowed_from: Sequence[ApplicationStatus],
    action: str,
    reason: str | None = None,
    email: ApplicationEmailKind | None = None,
) -> Application:
    decided = decide_once(
        session,
        row=get(session, public_id),
        status=Application.status,
        allowed_from=allowed_from,
        values={
            "status": to,
            "decided_at": clock.now(),
            "decided_by": actor,
            "decision_reason": reason,
        },
        audit_entry=AuditEntry(
            actor=actor,
            action=action,
            target_type="application",
            target_id=public_id,
            reason=reason,
        ),
        clock=clock,
    )
    if email is not None:
        queue_application_email(
            session, clock=clock, application=decided, kind=email, reason=reason
        )
    return decided
