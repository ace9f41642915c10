"""Moderation figures: cases by status, opened and detected recently."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.statistics import ModerationStats
from bot.services.statistics.counting import count_if
from models import CaseStatus, Detection, ModerationCase

OPEN_CASE_STATUSES = (CaseStatus.OPEN, CaseStatus.CLAIMED, CaseStatus.EDIT_REQUESTED)
CLOSED_CASE_STATUSES = tuple(s for s in CaseStatus if s not in OPEN_CASE_STATUSES)


def figures(session: Session, *, since: datetime) -> ModerationStats:
    by_status = dict.fromkeys((s.value for s in CaseStatus), 0)
    opened = 0
    for status, count, recent in session.execute(
        select(
            ModerationCase.status,
            func.count(),
            count_if(ModerationCase.created_at >= since),
        ).group_by(ModerationCase.status)
    ):
        by_status[CaseStatus(status).value] = count
        opened += recent
    detections = session.scalar(
        select(func.count()).select_from(Detection).where(Detection.created_at >= since)
    )
    return ModerationStats(
        open=sum(by_status[s.value] for s in OPEN_CASE_STATUSES),
        opened_30d=opened,
        by_status=by_status,
        detections_30d=detections or 0,
    )
