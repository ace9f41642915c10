"""What follows Slack's invitation of an approved applicant (bot/slack/invitations.py asks
Slack), and the email that follows its outcome.

With an Enterprise admin token the approval email waits for `admin.users.invite`:
- accepted → "invited" and the email saying Slack's invitation is on its way;
- refused for good (or the token refused) → audited as `application.invite_failed`, the
  review message keeps its to-do (invite by hand, then mark as invited) and the email says
  the secretariat will invite;
- a passing failure → nothing is said yet; the applications-invites job tries again.
An approved application whose approval email is not queued is therefore one whose
invitation outcome is still unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.decided import AlreadyDecided
from bot.services import audit
from bot.services.applications.decisions import mark_invited
from bot.services.applications.emails import (
    EMAIL_KEY_PREFIX,
    ApplicationEmailKind,
    queue_application_email,
)
from bot.services.applications.records import get
from models import Application, ApplicationStatus, OutboundEmail

SYSTEM_ACTOR = "system"
INVITE_FAILED = "application.invite_failed"


class InviteOutcome(StrEnum):
    INVITED = "invited"
    FAILED = "failed"  # the secretariat invites by hand
    LATER = "later"


@dataclass(frozen=True)
class Invitee:
    email: str
    name: str


def invitee(session: Session, public_id: str) -> Invitee:
    application = get(session, public_id)
    return Invitee(email=application.email, name=application.name)


def awaiting_invitation_outcome(session: Session) -> list[str]:
    """Approved applications whose applicant has not been told how they will be invited."""
    told = select(OutboundEmail.id).where(
        OutboundEmail.key
        == EMAIL_KEY_PREFIX + Application.public_id + f":{ApplicationEmailKind.APPROVED.value}"
    )
    return list(
        session.scalars(
            select(Application.public_id)
            .where(Application.status == ApplicationStatus.APPROVED, ~told.exists())
            .order_by(Application.decided_at, Application.id)
        )
    )


def invited_by_slack(session: Session, *, clock: Clock, public_id: str) -> None:
    """Slack took the invitation: mark it, and tell the applicant it is on its way."""
    try:
        invited = mark_invited(session, clock=clock, public_id=public_id, actor=SYSTEM_ACTOR)
    except AlreadyDecided:
        return  # marked by hand meanwhile
    queue_application_email(
        session,
        clock=clock,
        application=invited,
        kind=ApplicationEmailKind.APPROVED,
        invited_by_slack=True,
    )


def invite_by_hand(session: Session, *, clock: Clock, public_id: str, error: str) -> None:
    """Slack will not invite: audit it, and tell the applicant the secretariat will."""
    application = get(session, public_id)
    audit.record(
        session,
        clock=clock,
        actor=SYSTEM_ACTOR,
        action=INVITE_FAILED,
        target_type="application",
        target_id=public_id,
        reason=error,
    )
    queue_application_email(
        session,
        clock=clock,
        application=application,
        kind=ApplicationEmailKind.APPROVED,
        invited_by_slack=False,
    )
