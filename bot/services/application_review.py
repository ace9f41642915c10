"""What the review message shows: an application and the decisions taken on it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import Language
from bot.i18n.reasons import stored_reason_text
from bot.views.applications import Decision, ReviewItem
from models import Application, ApplicationStatus, AuditEntry, Organisation

_DECISION_ACTIONS = {
    "application.approved": ApplicationStatus.APPROVED,
    "application.rejected": ApplicationStatus.REJECTED,
    "application.info_requested": ApplicationStatus.INFO_REQUESTED,
    "application.invited": ApplicationStatus.INVITED,
    "application.joined": ApplicationStatus.JOINED,
    # Slack's invitation failed: the to-do below the message says what to do instead.
    "application.invite_failed": "invite_failed",
}


def organisation_label(organisation: Organisation | None) -> str | None:
    if organisation is None:
        return None
    if organisation.code is None:
        return organisation.name
    place = f"{organisation.prefecture} " if organisation.prefecture != organisation.name else ""
    return f"{place}{organisation.name}（{organisation.code}）"


def review_item(session: Session, application: Application, language: Language) -> ReviewItem:
    organisation = (
        session.get(Organisation, application.organisation_id)
        if application.organisation_id
        else None
    )
    return ReviewItem(
        public_id=application.public_id,
        name=application.name,
        email=application.email,
        organisation=organisation_label(organisation),
        department=application.department,
        submitted_at=application.submitted_at,
        source=application.source.value,
        outcome=application.outcome,
        reasons=tuple(stored_reason_text(r, language) for r in application.reasons),
        is_reapplication=application.is_reapplication,
    )


def decisions_of(session: Session, public_id: str) -> tuple[Decision, ...]:
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.target_type == "application",
            AuditEntry.target_id == public_id,
            AuditEntry.action.in_(_DECISION_ACTIONS),
        )
        .order_by(AuditEntry.occurred_at, AuditEntry.id)
    )
    return tuple(
        Decision(
            status=str(_DECISION_ACTIONS[e.action]),
            actor=e.actor,
            at=e.occurred_at,
            reason=e.reason,
        )
        for e in entries
    )
