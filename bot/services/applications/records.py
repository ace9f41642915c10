"""Reading applications: one by its public id, and the lists the secretariat works through."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Application, ApplicationStatus

# Statuses the secretariat can still decide from (approve or reject).
DECIDABLE = (ApplicationStatus.PENDING, ApplicationStatus.INFO_REQUESTED)


class UnknownApplication(LookupError):
    pass


def get(session: Session, public_id: str) -> Application:
    application = session.scalar(select(Application).where(Application.public_id == public_id))
    if application is None:
        raise UnknownApplication(public_id)
    return application


def awaiting_decision(session: Session, *, submitted_before: datetime) -> list[Application]:
    return list(
        session.scalars(
            select(Application)
            .where(Application.status.in_(DECIDABLE), Application.submitted_at < submitted_before)
            .order_by(Application.submitted_at)
        )
    )


def awaiting_invitation(session: Session) -> list[Application]:
    """Approved applicants the secretariat still has to invite by hand (oldest first)."""
    return list(
        session.scalars(
            select(Application)
            .where(Application.status == ApplicationStatus.APPROVED)
            .order_by(Application.decided_at, Application.id)
        )
    )


def awaiting_review_message(session: Session) -> list[str]:
    """Public ids of undecided applications that never reached the review channel (imported
    where Slack was not configured, or Slack was down when they came in), oldest first."""
    return list(
        session.scalars(
            select(Application.public_id)
            .where(Application.status.in_(DECIDABLE), Application.review_message_ts.is_(None))
            .order_by(Application.submitted_at, Application.id)
        )
    )
