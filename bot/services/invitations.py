"""Slack's invitation of an approved applicant, and the email that follows its outcome.

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

import logging
from collections.abc import Sequence
from enum import StrEnum

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import SessionFactory
from bot.services import applications, audit
from bot.services.application_emails import (
    EMAIL_KEY_PREFIX,
    ApplicationEmailKind,
    queue_application_email,
)
from bot.slack_errors import SLACK_CALL_ERRORS, alert_auth_failure, classify
from models import Application, ApplicationStatus, OutboundEmail

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"
INVITE_FAILED = "application.invite_failed"


class InviteOutcome(StrEnum):
    INVITED = "invited"
    FAILED = "failed"  # the secretariat invites by hand
    LATER = "later"


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


def invite(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    admin: WebClient,
    channel_ids: Sequence[str],
    public_id: str,
) -> InviteOutcome:
    with session_factory() as session:
        application = applications.get(session, public_id)
        email, name = application.email, application.name
    try:
        team_id = admin.auth_test()["team_id"]
        admin.admin_users_invite(
            team_id=team_id, email=email, channel_ids=list(channel_ids), real_name=name, resend=True
        )
    except SLACK_CALL_ERRORS as exc:
        failure = classify(exc)
        if failure.transient:
            log.warning("admin.users.invite for %s: %s; retried later", public_id, failure.error)
            return InviteOutcome.LATER
        if failure.auth:
            alert_auth_failure(failure, job="the Slack invitation")
        with session_factory.begin() as session:
            invite_by_hand(session, clock=clock, public_id=public_id, error=failure.error)
        return InviteOutcome.FAILED
    with session_factory.begin() as session:
        try:
            invited = applications.mark_invited(
                session, clock=clock, public_id=public_id, actor=SYSTEM_ACTOR
            )
        except applications.AlreadyDecided:
            return InviteOutcome.INVITED  # marked by hand meanwhile
        queue_application_email(
            session,
            clock=clock,
            application=invited,
            kind=ApplicationEmailKind.APPROVED,
            invited_by_slack=True,
        )
    return InviteOutcome.INVITED


def invite_by_hand(session: Session, *, clock: Clock, public_id: str, error: str) -> None:
    """Slack will not invite: audit it, and tell the applicant the secretariat will."""
    application = applications.get(session, public_id)
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
