"""The secretariat's queues: a count and the oldest item of each, and its list a page at a time.

Each queue is one aggregate (count and oldest item) on the table that holds it; its list is
read a page at a time (LIMIT/OFFSET, oldest first), so ten thousand waiting items cost no more
than twenty. The stuck-onboarding queue counts business days (開庁日) and so reuses
`stuck_in_onboarding`, which filters in SQL before it counts days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Result, Select, func, select
from sqlalchemy.orm import Session

from bot.domain.dashboard import QueueItem, QueueKind, QueuePage, QueueSummary
from bot.i18n import Language
from bot.services.onboarding.organisations import organisation_name
from bot.services.onboarding.stuck import stuck_in_onboarding
from bot.services.statistics.moderation import OPEN_CASE_STATUSES
from models import (
    Application,
    ApplicationStatus,
    ChannelRequest,
    ChannelRequestStatus,
    Member,
    MemberStatus,
    ModerationCase,
    Organisation,
)

# A queue list's SELECT, whatever its columns: _in_order keeps its row type.
_Rows = TypeVar("_Rows", bound=Select[*tuple[Any, ...]])

PAGE_SIZE = 20
TITLE_LIMIT = 150

# Undecided: waiting for the secretariat, or for the applicant's answer to a question.
AWAITING_DECISION = (ApplicationStatus.PENDING, ApplicationStatus.INFO_REQUESTED)


@dataclass(frozen=True)
class _TableQueue:
    waiting: ColumnElement[bool]  # what puts a row in the queue
    since: Any  # the column its age counts from: oldest first
    id: Any  # ties broken by id, so that pages never overlap


# The queues on tables, in the order the dashboard shows them (onboarding, counted in business
# days, comes after them).
_QUEUES: dict[QueueKind, _TableQueue] = {
    QueueKind.APPLICATIONS: _TableQueue(
        Application.status.in_(AWAITING_DECISION), Application.submitted_at, Application.id
    ),
    QueueKind.CHANNEL_REQUESTS: _TableQueue(
        ChannelRequest.status == ChannelRequestStatus.PENDING,
        ChannelRequest.created_at,
        ChannelRequest.id,
    ),
    QueueKind.MODERATION: _TableQueue(
        ModerationCase.status.in_(OPEN_CASE_STATUSES), ModerationCase.created_at, ModerationCase.id
    ),
    # No flagged_at column: a flagged member's row was last updated when it was flagged.
    QueueKind.FLAGGED: _TableQueue(
        Member.status == MemberStatus.FLAGGED, Member.updated_at, Member.id
    ),
}


def queues(session: Session, *, now: datetime, zone: ZoneInfo) -> tuple[QueueSummary, ...]:
    """Count and oldest item of each queue, in the order the dashboard shows them."""
    summaries = []
    for kind, queue in _QUEUES.items():
        count, oldest = session.execute(
            select(func.count(), func.min(queue.since)).where(queue.waiting)
        ).one()
        summaries.append(QueueSummary(kind, int(count), oldest))
    stuck = stuck_in_onboarding(session, now=now, zone=zone)
    oldest_stuck = stuck[0].joined_at if stuck else None
    return (*summaries, QueueSummary(QueueKind.ONBOARDING, len(stuck), oldest_stuck))


def queue_page(
    session: Session,
    kind: QueueKind,
    *,
    page: int,
    now: datetime,
    zone: ZoneInfo,
    language: Language,
    page_size: int = PAGE_SIZE,
) -> QueuePage:
    """One page of a queue, oldest first; a page past the end shows the last one."""
    if kind is QueueKind.ONBOARDING:
        stuck = stuck_in_onboarding(session, now=now, zone=zone, language=language)
        total = len(stuck)
        page = _clamp(page, total, page_size)
        start = (page - 1) * page_size
        items = tuple(
            QueueItem(
                reference=s.slack_user_id,
                title=s.name or "",
                at=s.joined_at,
                detail=s.organisation,
                user_id=s.slack_user_id,
                business_days=s.business_days,
            )
            for s in stuck[start : start + page_size]
        )
        return QueuePage(kind, items, total, page, page_size)
    total = queues_total(session, kind)
    page = _clamp(page, total, page_size)
    offset = (page - 1) * page_size
    loader = _LOADERS[kind]
    return QueuePage(kind, loader(session, offset, page_size, language), total, page, page_size)


def queues_total(session: Session, kind: QueueKind) -> int:
    return session.scalar(select(func.count()).where(_QUEUES[kind].waiting)) or 0


def _in_order(kind: QueueKind, stmt: _Rows, offset: int, limit: int) -> _Rows:
    """One page of the rows waiting in `kind`'s queue, oldest first."""
    queue = _QUEUES[kind]
    return stmt.where(queue.waiting).order_by(queue.since, queue.id).offset(offset).limit(limit)


def _with_organisation(
    session: Session,
    kind: QueueKind,
    model: type[Application] | type[Member],
    offset: int,
    limit: int,
) -> Result[Any, Organisation | None]:
    """A page of `kind`'s rows, each with the organisation it names (None if it names none)."""
    stmt = select(model, Organisation).outerjoin(
        Organisation, Organisation.id == model.organisation_id
    )
    return session.execute(_in_order(kind, stmt, offset, limit))


def _clamp(page: int, total: int, page_size: int) -> int:
    last = max(1, -(-total // page_size))
    return min(max(page, 1), last)


def _applications(
    session: Session, offset: int, limit: int, language: Language
) -> tuple[QueueItem, ...]:
    rows = _with_organisation(session, QueueKind.APPLICATIONS, Application, offset, limit)
    return tuple(
        QueueItem(
            reference=application.public_id,
            title=application.name[:TITLE_LIMIT],
            at=application.submitted_at,
            detail=organisation_name(organisation, language),
            status=application.status.value,
        )
        for application, organisation in rows
    )


def _channel_requests(
    session: Session, offset: int, limit: int, language: Language
) -> tuple[QueueItem, ...]:
    rows = session.scalars(
        _in_order(QueueKind.CHANNEL_REQUESTS, select(ChannelRequest), offset, limit)
    )
    return tuple(
        QueueItem(
            reference=request.public_id,
            title=request.name[:TITLE_LIMIT],
            at=request.created_at,
            detail=request.category.value,
            status=request.status.value,
            user_id=request.requester_id,
        )
        for request in rows
    )


def _moderation(
    session: Session, offset: int, limit: int, language: Language
) -> tuple[QueueItem, ...]:
    rows = session.scalars(_in_order(QueueKind.MODERATION, select(ModerationCase), offset, limit))
    # The excerpt stays in the case alert: the list shows why, where and whose, not what.
    return tuple(
        QueueItem(
            reference=case.public_id,
            title=", ".join(dict.fromkeys(case.reasons))[:TITLE_LIMIT],
            at=case.created_at,
            detail=case.source.value,
            status=case.status.value,
            user_id=case.author_id,
            channel_id=case.channel_id,
        )
        for case in rows
    )


def _flagged(
    session: Session, offset: int, limit: int, language: Language
) -> tuple[QueueItem, ...]:
    rows = _with_organisation(session, QueueKind.FLAGGED, Member, offset, limit)
    return tuple(
        QueueItem(
            reference=member.slack_user_id,
            title=(member.real_name or member.display_name or "")[:TITLE_LIMIT],
            at=member.updated_at,
            detail=organisation_name(organisation, language),
            status=member.status.value,
            user_id=member.slack_user_id,
            last_seen_at=member.last_seen_at,
        )
        for member, organisation in rows
    )


_LOADERS = {
    QueueKind.APPLICATIONS: _applications,
    QueueKind.CHANNEL_REQUESTS: _channel_requests,
    QueueKind.MODERATION: _moderation,
    QueueKind.FLAGGED: _flagged,
}
