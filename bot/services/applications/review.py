"""What an application's review message shows: the application, the verdict's reasons, the
decisions taken on it, and what the secretariat can still do."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.domain.applications import Decision, PossibleDuplicate, ReviewItem
from bot.i18n import Language
from bot.i18n.reasons import stored_reason_text
from bot.services import audit
from bot.services.applications.organisations import label_of
from bot.services.applications.records import DECIDABLE, get
from models import Application, ApplicationStatus, Member

_DECISION_ACTIONS = {
    "application.approved": ApplicationStatus.APPROVED,
    "application.rejected": ApplicationStatus.REJECTED,
    "application.info_requested": ApplicationStatus.INFO_REQUESTED,
    "application.invited": ApplicationStatus.INVITED,
    "application.joined": ApplicationStatus.JOINED,
    # Slack's invitation failed: the to-do below the message says what to do instead.
    "application.invite_failed": "invite_failed",
}


@dataclass(frozen=True)
class ReviewState:
    item: ReviewItem
    decisions: tuple[Decision, ...]
    open_for_decision: bool  # approve / reject / request info buttons
    awaiting_invitation: bool  # the invite-by-hand to-do and its "mark as invited" button


def review_state(session: Session, *, public_id: str, language: Language) -> ReviewState:
    application = get(session, public_id)
    return ReviewState(
        item=review_item(session, application, language),
        decisions=decisions_of(session, public_id),
        open_for_decision=application.status in DECIDABLE,
        awaiting_invitation=application.status is ApplicationStatus.APPROVED,
    )


def review_item(session: Session, application: Application, language: Language) -> ReviewItem:
    return ReviewItem(
        public_id=application.public_id,
        name=application.name,
        email=application.email,
        organisation=label_of(session, application.organisation_id),
        department=application.department,
        submitted_at=application.submitted_at,
        source=application.source.value,
        outcome=application.outcome,
        reasons=tuple(stored_reason_text(r, language) for r in application.reasons),
        is_reapplication=application.is_reapplication,
        duplicate=possible_duplicate(session, application),
    )


def possible_duplicate(session: Session, application: Application) -> PossibleDuplicate | None:
    if not application.duplicate_hints:
        return None
    member = (
        session.get(Member, application.existing_member_id)
        if application.existing_member_id
        else None
    )
    return PossibleDuplicate(
        hints=tuple(application.duplicate_hints),
        member_user_id=member.slack_user_id if member else None,
        member_name=(member.real_name or member.display_name) if member else None,
        previous_email=application.previous_email,
    )


def decisions_of(session: Session, public_id: str) -> tuple[Decision, ...]:
    entries = audit.entries_of(
        session, target_type="application", target_id=public_id, actions=_DECISION_ACTIONS
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
