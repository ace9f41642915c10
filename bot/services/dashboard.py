"""What the App Home shows: a member's own record, and the secretariat's queues.

Each queue is one aggregate (count and oldest item) on the table that holds it; its list is
read a page at a time (LIMIT/OFFSET, oldest first), so ten thousand waiting items cost no more
than twenty. The stuck-onboarding queue counts business days (開庁日) and so reuses
`onboarding.stuck_in_onboarding`, which filters in SQL before it counts days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.i18n import Language
from bot.services import onboarding
from bot.services.statistics import OPEN_CASE_STATUSES
from models import (
    Application,
    ApplicationStatus,
    Channel,
    ChannelFacilitator,
    ChannelRequest,
    ChannelRequestStatus,
    ChannelStatus,
    Member,
    MemberStatus,
    ModerationCase,
    Organisation,
)

PAGE_SIZE = 20
FACILITATED_SHOWN = 10
TITLE_LIMIT = 150

# Undecided: waiting for the secretariat, or for the applicant's answer to a question.
AWAITING_DECISION = (ApplicationStatus.PENDING, ApplicationStatus.INFO_REQUESTED)


class QueueKind(StrEnum):
    APPLICATIONS = "applications"
    CHANNEL_REQUESTS = "channel_requests"
    MODERATION = "moderation"
    FLAGGED = "flagged"  # members flagged for deletion, awaiting the secretariat's approval
    ONBOARDING = "onboarding"  # joined 3 business days ago or more, rules not accepted


@dataclass(frozen=True)
class QueueSummary:
    kind: QueueKind
    count: int
    oldest_at: datetime | None


@dataclass(frozen=True)
class QueueItem:
    reference: str  # a public id, or the member's Slack user id
    title: str  # may be member-supplied: escape before it goes into mrkdwn
    at: datetime  # what the item's age counts from
    detail: str | None = None  # organisation, channel kind …
    status: str | None = None  # the row's status value
    user_id: str | None = None  # the member concerned (applicant has none yet)
    channel_id: str | None = None  # the channel a case is about
    last_seen_at: datetime | None = None  # flagged members
    business_days: int | None = None  # stuck onboardings


@dataclass(frozen=True)
class QueuePage:
    kind: QueueKind
    items: tuple[QueueItem, ...]
    total: int
    page: int  # 1-based
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


# --- the queues ----------------------------------------------------------------------------------


def _summary(session: Session, kind: QueueKind, stmt: Select[int, datetime]) -> QueueSummary:
    count, oldest = session.execute(stmt).one()
    return QueueSummary(kind, int(count), oldest)


def queues(session: Session, *, now: datetime, zone: ZoneInfo) -> tuple[QueueSummary, ...]:
    """Count and oldest item of each queue, in the order the dashboard shows them."""
    stuck = onboarding.stuck_in_onboarding(session, now=now, zone=zone)
    return (
        _summary(
            session,
            QueueKind.APPLICATIONS,
            select(func.count(), func.min(Application.submitted_at)).where(
                Application.status.in_(AWAITING_DECISION)
            ),
        ),
        _summary(
            session,
            QueueKind.CHANNEL_REQUESTS,
            select(func.count(), func.min(ChannelRequest.created_at)).where(
                ChannelRequest.status == ChannelRequestStatus.PENDING
            ),
        ),
        _summary(
            session,
            QueueKind.MODERATION,
            select(func.count(), func.min(ModerationCase.created_at)).where(
                ModerationCase.status.in_(OPEN_CASE_STATUSES)
            ),
        ),
        # No flagged_at column: a flagged member's row was last updated when it was flagged.
        _summary(
            session,
            QueueKind.FLAGGED,
            select(func.count(), func.min(Member.updated_at)).where(
                Member.status == MemberStatus.FLAGGED
            ),
        ),
        QueueSummary(QueueKind.ONBOARDING, len(stuck), stuck[0].joined_at if stuck else None),
    )


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
        stuck = onboarding.stuck_in_onboarding(session, now=now, zone=zone, language=language)
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
    condition = {
        QueueKind.APPLICATIONS: Application.status.in_(AWAITING_DECISION),
        QueueKind.CHANNEL_REQUESTS: ChannelRequest.status == ChannelRequestStatus.PENDING,
        QueueKind.MODERATION: ModerationCase.status.in_(OPEN_CASE_STATUSES),
        QueueKind.FLAGGED: Member.status == MemberStatus.FLAGGED,
    }[kind]
    return session.scalar(select(func.count()).where(condition)) or 0


def _clamp(page: int, total: int, page_size: int) -> int:
    last = max(1, -(-total // page_size))
    return min(max(page, 1), last)


def _applications(
    session: Session, offset: int, limit: int, language: Language
) -> tuple[QueueItem, ...]:
    rows = session.execute(
        select(Application, Organisation)
        .outerjoin(Organisation, Organisation.id == Application.organisation_id)
        .where(Application.status.in_(AWAITING_DECISION))
        .order_by(Application.submitted_at, Application.id)
        .offset(offset)
        .limit(limit)
    )
    return tuple(
        QueueItem(
            reference=application.public_id,
            title=application.name[:TITLE_LIMIT],
            at=application.submitted_at,
            detail=onboarding.organisation_name(organisation, language),
            status=application.status.value,
        )
        for application, organisation in rows
    )


def _channel_requests(
    session: Session, offset: int, limit: int, language: Language
) -> tuple[QueueItem, ...]:
    rows = session.scalars(
        select(ChannelRequest)
        .where(ChannelRequest.status == ChannelRequestStatus.PENDING)
        .order_by(ChannelRequest.created_at, ChannelRequest.id)
        .offset(offset)
        .limit(limit)
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
    rows = session.scalars(
        select(ModerationCase)
        .where(ModerationCase.status.in_(OPEN_CASE_STATUSES))
        .order_by(ModerationCase.created_at, ModerationCase.id)
        .offset(offset)
        .limit(limit)
    )
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
    rows = session.execute(
        select(Member, Organisation)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .where(Member.status == MemberStatus.FLAGGED)
        .order_by(Member.updated_at, Member.id)
        .offset(offset)
        .limit(limit)
    )
    return tuple(
        QueueItem(
            reference=member.slack_user_id,
            title=(member.real_name or member.display_name or "")[:TITLE_LIMIT],
            at=member.updated_at,
            detail=onboarding.organisation_name(organisation, language),
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


# --- a member's own Home -----------------------------------------------------------------------


@dataclass(frozen=True)
class FacilitatedChannel:
    slack_channel_id: str
    name: str


@dataclass(frozen=True)
class MemberHome:
    user_id: str
    status: str | None  # a MemberStatus value; None when Kyoso has no record
    organisation: str | None = None
    department: str | None = None
    roles: tuple[str, ...] = ()
    joined_at: datetime | None = None
    rules_state: str | None = None  # onboarding.RulesState value
    facilitated: tuple[FacilitatedChannel, ...] = ()
    facilitated_total: int = 0

    @property
    def is_secretariat(self) -> bool:
        return "secretariat" in self.roles


def member_home(
    session: Session, user_id: str, language: Language, *, shown: int = FACILITATED_SHOWN
) -> MemberHome:
    record = onboarding.member_record(session, user_id, language)
    if record is None:
        return MemberHome(user_id=user_id, status=None)
    facilitated = (
        select(Channel)
        .join(ChannelFacilitator, ChannelFacilitator.channel_id == Channel.id)
        .join(Member, Member.id == ChannelFacilitator.member_id)
        .where(Member.slack_user_id == user_id, Channel.status == ChannelStatus.ACTIVE)
    )
    total = session.scalar(select(func.count()).select_from(facilitated.subquery())) or 0
    channels = session.scalars(facilitated.order_by(Channel.name).limit(shown))
    return MemberHome(
        user_id=user_id,
        status=record.status,
        organisation=record.organisation,
        department=record.department,
        roles=record.roles,
        joined_at=record.joined_at,
        rules_state=record.rules_state.value,
        facilitated=tuple(FacilitatedChannel(c.slack_channel_id, c.name) for c in channels),
        facilitated_total=total,
    )
