"""The secretariat's decisions on an application, each taken once (bot/decided.py): of two
concurrent clicks exactly one changes the status; the other gets AlreadyDecided and nothing.

What the applicant is told is queued in the same transaction as the decision: told exactly
once, and never before the decision holds."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.decided import Transition, decide
from bot.services.applications.emails import ApplicationEmailKind, queue_application_email
from bot.services.applications.records import DECIDABLE, get
from models import Application, ApplicationStatus

_APPROVE = Transition(ApplicationStatus.APPROVED, DECIDABLE, "application.approved")
_MARK_INVITED = Transition(
    ApplicationStatus.INVITED, (ApplicationStatus.APPROVED,), "application.invited"
)
# The decisions the secretariat explains in a modal, and what the applicant is told: the
# reason (or the question) as typed; a question is answered by replying to the email.
_WITH_REASON = {
    "reject": (
        Transition(ApplicationStatus.REJECTED, DECIDABLE, "application.rejected"),
        ApplicationEmailKind.REJECTED,
    ),
    "info": (
        Transition(
            ApplicationStatus.INFO_REQUESTED,
            (ApplicationStatus.PENDING,),
            "application.info_requested",
        ),
        ApplicationEmailKind.INFO_REQUESTED,
    ),
}


def approve(
    session: Session, *, clock: Clock, public_id: str, actor: str, tell_applicant: bool = False
) -> Application:
    """`tell_applicant`: queue the approval email now. Leave it off when Slack's invitation
    follows (bot/slack/invitations.py): its outcome decides what the email says."""
    email = ApplicationEmailKind.APPROVED if tell_applicant else None
    return _decide(
        session, clock=clock, public_id=public_id, actor=actor, transition=_APPROVE, email=email
    )


def decide_with_reason(
    session: Session, *, clock: Clock, public_id: str, actor: str, kind: str, reason: str
) -> Application:
    """ "reject" (the reason) or "info" (the question about the applicant's affiliation)."""
    transition, email = _WITH_REASON[kind]
    return _decide(
        session,
        clock=clock,
        public_id=public_id,
        actor=actor,
        transition=transition,
        reason=reason,
        email=email,
    )


def mark_invited(session: Session, *, clock: Clock, public_id: str, actor: str) -> Application:
    return _decide(session, clock=clock, public_id=public_id, actor=actor, transition=_MARK_INVITED)


def _decide(
    session: Session,
    *,
    clock: Clock,
    public_id: str,
    actor: str,
    transition: Transition,
    reason: str | None = None,
    email: ApplicationEmailKind | None = None,
) -> Application:
    decided = decide(
        session,
        clock=clock,
        row=get(session, public_id),
        status=Application.status,
        transition=transition,
        actor=actor,
        reason=reason,
        target_type="application",
        target_id=public_id,
        touch=False,  # applications keep no updated_at
    )
    if email is not None:
        queue_application_email(
            session, clock=clock, application=decided, kind=email, reason=reason
        )
    return decided
