"""Application figures: by status, submitted and decided recently."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.statistics import ApplicationStats
from bot.services.statistics.counting import count_if
from models import Application, ApplicationStatus

# Decided in favour: approved, then invited and joined.
APPROVED_STATUSES = (
    ApplicationStatus.APPROVED,
    ApplicationStatus.INVITED,
    ApplicationStatus.JOINED,
)


def figures(session: Session, *, since: datetime) -> ApplicationStats:
    by_status = dict.fromkeys((s.value for s in ApplicationStatus), 0)
    submitted = approved = rejected = 0
    for status, count, n_submitted, n_decided in session.execute(
        select(
            Application.status,
            func.count(),
            count_if(Application.submitted_at >= since),
            count_if(Application.decided_at >= since),
        ).group_by(Application.status)
    ):
        value = ApplicationStatus(status)
        by_status[value.value] = count
        submitted += n_submitted
        if value is ApplicationStatus.REJECTED:
            rejected += n_decided
        elif value in APPROVED_STATUSES:
            approved += n_decided
    return ApplicationStats(
        by_status=by_status,
        submitted_30d=submitted,
        approved_30d=approved,
        rejected_30d=rejected,
    )
