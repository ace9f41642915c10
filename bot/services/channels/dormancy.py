"""Dormant and finished channels: the weekly round asks the facilitators (or the
secretariat) whether a quiet channel is still needed, reminds once, then lists the
unanswered and agreed ones for the secretariat to archive with one click.

Every step is claimed by a guarded update, so two runs (or two clicks) never ask, remind,
list or archive twice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import insert_for
from bot.decided import AlreadyDecided, AuditEntry, decide_once
from bot.domain.channels import DormantItem
from bot.services import audit
from bot.services.channels.facilitation import GONE_MEMBER_STATUSES, ensure_manages, facilitators_of
from bot.services.channels.registry import OPEN_OUTCOMES
from models import AuditEntry as AuditRow
from models import (
    Channel,
    ChannelFacilitator,
    ChannelStatus,
    DormancyOutcome,
    DormancyReview,
    Member,
    MemberRole,
    Role,
)

REMIND_AFTER = timedelta(days=7)
LIST_AFTER_REMINDER = timedelta(days=7)
REFUSED_ACTION = "channel.archive_refused"


def protected_channel_ids(session: Session, configured: Iterable[str]) -> set[str]:
    """Never asked about nor archived: the general channel, the channels Kyoso itself uses,
    and channels Slack refused to archive (required channels)."""
    protected = {c for c in configured if c}
    protected.update(session.scalars(select(Channel.slack_channel_id).where(Channel.is_general)))
    protected.update(
        session.scalars(
            select(AuditRow.target_id).where(
                AuditRow.action == REFUSED_ACTION, AuditRow.target_type == "channel"
            )
        )
    )
    return protected


@dataclass(frozen=True)
class Candidate:
    channel: Channel
    reason: str  # "quiet" | "ended" | "unknown" (no activity known: ask Slack)


def dormancy_candidates(
    session: Session, *, now: datetime, today: date, dormant_days: int, protected: set[str]
) -> list[Candidate]:
    """Active channels with no message for `dormant_days` or past their end date, without an
    open round and not kept within the period."""
    threshold = now - timedelta(days=dormant_days)
    busy = set(
        session.scalars(
            select(DormancyReview.channel_id).where(DormancyReview.outcome.in_(OPEN_OUTCOMES))
        )
    )
    kept_recently = set(
        session.scalars(
            select(DormancyReview.channel_id).where(
                DormancyReview.outcome == DormancyOutcome.KEEP,
                DormancyReview.decided_at > threshold,
            )
        )
    )
    found = []
    channels = session.scalars(
        select(Channel)
        .where(Channel.status == ChannelStatus.ACTIVE, Channel.is_general.is_(False))
        .order_by(Channel.id)
    )
    for channel in channels:
        if channel.slack_channel_id in protected or channel.id in busy:
            continue
        if channel.id in kept_recently:
            continue
        if channel.end_date is not None and channel.end_date < today:
            found.append(Candidate(channel, "ended"))
        elif channel.last_activity_at is not None:
            if channel.last_activity_at < threshold:
                found.append(Candidate(channel, "quiet"))
        elif channel.slack_created_at is None or channel.slack_created_at < threshold:
            found.append(Candidate(channel, "unknown"))
    return found


def record_activity(session: Session, *, slack_channel_id: str, at: datetime) -> None:
    """The latest message Slack reported for a channel whose activity was unknown."""
    session.execute(
        update(Channel)
        .where(
            Channel.slack_channel_id == slack_channel_id,
            or_(Channel.last_activity_at.is_(None), Channel.last_activity_at < at),
        )
        .values(last_activity_at=at)
    )


def start_review(
    session: Session, *, clock: Clock, channel: Channel, today: date, reason: str
) -> DormancyReview | None:
    """Claim a new round for the channel (once per day at most); None if already claimed."""
    now = clock.now()
    inserted = session.execute(
        insert_for(session)(DormancyReview)
        .values(
            channel_id=channel.id,
            started_on=today,
            outcome=DormancyOutcome.ASKED,
            asked_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel_id", "started_on"])
        .returning(DormancyReview.id)
    ).first()
    if inserted is None:
        return None
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="dormancy.asked",
        target_type="channel",
        target_id=channel.slack_channel_id,
        details={"review": inserted[0], "reason": reason},
    )
    return session.get(DormancyReview, inserted[0])


def get_review(session: Session, review_id: int) -> DormancyReview:
    review = session.get(DormancyReview, review_id)
    if review is None:
        raise LookupError(review_id)
    return review


def channel_of(session: Session, review: DormancyReview) -> Channel:
    channel = session.get(Channel, review.channel_id)
    assert channel is not None  # the foreign key cascades
    return channel


def due_reminders(session: Session, *, now: datetime) -> list[DormancyReview]:
    return list(
        session.scalars(
            select(DormancyReview)
            .where(
                DormancyReview.outcome == DormancyOutcome.ASKED,
                DormancyReview.reminded_at.is_(None),
                DormancyReview.asked_at <= now - REMIND_AFTER,
            )
            .order_by(DormancyReview.id)
        )
    )


def claim_reminder(session: Session, *, clock: Clock, review_id: int) -> bool:
    changed = session.execute(
        update(DormancyReview)
        .where(
            DormancyReview.id == review_id,
            DormancyReview.outcome == DormancyOutcome.ASKED,
            DormancyReview.reminded_at.is_(None),
        )
        .values(reminded_at=clock.now())
        .returning(DormancyReview.channel_id)
    ).first()
    if changed is None:
        return False
    channel = session.get(Channel, changed[0])
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="dormancy.reminded",
        target_type="channel",
        target_id=channel.slack_channel_id if channel else str(changed[0]),
        details={"review": review_id},
    )
    return True


def claim_listing(session: Session, *, clock: Clock, now: datetime) -> list[DormancyReview]:
    """Rounds the secretariat should now archive: agreed by the facilitators, or unanswered
    a week after the reminder. Each is listed once."""
    listed_at = clock.now()
    unanswered = session.execute(
        update(DormancyReview)
        .where(
            DormancyReview.outcome == DormancyOutcome.ASKED,
            DormancyReview.reminded_at <= now - LIST_AFTER_REMINDER,
            DormancyReview.listed_at.is_(None),
        )
        .values(outcome=DormancyOutcome.LISTED, listed_at=listed_at)
        .returning(DormancyReview.id)
    ).all()
    agreed = session.execute(
        update(DormancyReview)
        .where(
            DormancyReview.outcome == DormancyOutcome.ARCHIVE,
            DormancyReview.listed_at.is_(None),
        )
        .values(listed_at=listed_at)
        .returning(DormancyReview.id)
    ).all()
    ids = sorted(row[0] for row in [*unanswered, *agreed])
    reviews = [get_review(session, i) for i in ids]
    for review in reviews:
        session.refresh(review)
        channel = channel_of(session, review)
        audit.record(
            session,
            clock=clock,
            actor=audit.SYSTEM_ACTOR,
            action="dormancy.listed",
            target_type="channel",
            target_id=channel.slack_channel_id,
            details={"review": review.id, "outcome": review.outcome.value},
        )
    return reviews


def decide_review(
    session: Session, *, clock: Clock, review_id: int, actor: str, keep: bool
) -> DormancyReview:
    """A facilitator's (or the secretariat's) answer: keep, or agree to archive."""
    review = get_review(session, review_id)
    channel = channel_of(session, review)
    ensure_manages(session, actor, channel.slack_channel_id)
    allowed = (DormancyOutcome.ASKED, DormancyOutcome.LISTED) if keep else (DormancyOutcome.ASKED,)
    return decide_once(
        session,
        row=review,
        status=DormancyReview.outcome,
        allowed_from=allowed,
        values={
            "outcome": DormancyOutcome.KEEP if keep else DormancyOutcome.ARCHIVE,
            "decided_by": actor,
            "decided_at": clock.now(),
        },
        audit_entry=AuditEntry(
            actor=actor,
            action="dormancy.keep" if keep else "dormancy.archive_agreed",
            target_type="channel",
            target_id=channel.slack_channel_id,
            details={"review": review_id},
        ),
        clock=clock,
    )


def answer(session: Session, *, clock: Clock, review_id: int, actor: str, keep: bool) -> str:
    """The answer to a dormancy question; the channel's Slack id."""
    review = decide_review(session, clock=clock, review_id=review_id, actor=actor, keep=keep)
    return channel_of(session, review).slack_channel_id


def archivable(session: Session, review_id: int) -> DormancyReview:
    """A listed round the secretariat may archive now (raises AlreadyDecided otherwise)."""
    review = get_review(session, review_id)
    if review.outcome not in (DormancyOutcome.LISTED, DormancyOutcome.ARCHIVE):
        raise AlreadyDecided(review.outcome.value, review)
    return review


def mark_archived(session: Session, *, clock: Clock, review_id: int, actor: str) -> bool:
    """After conversations.archive succeeded: one decision, one audit entry."""
    now = clock.now()
    changed = session.execute(
        update(DormancyReview)
        .where(
            DormancyReview.id == review_id,
            DormancyReview.outcome.in_((DormancyOutcome.LISTED, DormancyOutcome.ARCHIVE)),
        )
        .values(outcome=DormancyOutcome.ARCHIVED, decided_by=actor, decided_at=now)
        .returning(DormancyReview.channel_id)
    ).first()
    if changed is None:
        return False
    channel = session.get(Channel, changed[0])
    assert channel is not None
    channel.status = ChannelStatus.ARCHIVED
    channel.updated_at = now
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="channel.archived",
        target_type="channel",
        target_id=channel.slack_channel_id,
        details={"review": review_id, "name": channel.name, "source": "dormancy"},
    )
    return True


def mark_archive_refused(
    session: Session, *, clock: Clock, review_id: int, actor: str, error: str
) -> None:
    """Slack will not archive it (general or required): kept, and never asked again."""
    review = get_review(session, review_id)
    channel = channel_of(session, review)
    session.execute(
        update(DormancyReview)
        .where(DormancyReview.id == review_id, DormancyReview.outcome.in_(OPEN_OUTCOMES))
        .values(outcome=DormancyOutcome.KEEP, decided_by=actor, decided_at=clock.now())
    )
    if error == "cant_archive_general":
        channel.is_general = True
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action=REFUSED_ACTION,
        target_type="channel",
        target_id=channel.slack_channel_id,
        reason=error,
        details={"review": review_id, "name": channel.name},
    )


def unclaim_listing(session: Session, *, review_ids: Sequence[int]) -> None:
    """A list that could not be posted is listed again at the next run."""
    session.execute(
        update(DormancyReview)
        .where(DormancyReview.id.in_(review_ids), DormancyReview.outcome == DormancyOutcome.LISTED)
        .values(outcome=DormancyOutcome.ASKED, listed_at=None)
    )
    session.execute(
        update(DormancyReview)
        .where(DormancyReview.id.in_(review_ids), DormancyReview.outcome == DormancyOutcome.ARCHIVE)
        .values(listed_at=None)
    )


def channels_with_facilitators(session: Session) -> list[Channel]:
    return list(
        session.scalars(
            select(Channel)
            .where(
                Channel.status == ChannelStatus.ACTIVE,
                Channel.id.in_(select(ChannelFacilitator.channel_id)),
            )
            .order_by(Channel.id)
        )
    )


def gone_facilitators(session: Session, channel: Channel) -> list[str]:
    """Facilitators Kyoso knows have left the workspace."""
    return [
        m.slack_user_id
        for m in facilitators_of(session, channel)
        if m.status in GONE_MEMBER_STATUSES
    ]


def claim_left_report(
    session: Session, *, clock: Clock, channel: Channel, slack_user_id: str
) -> bool:
    """Report a facilitator who left once per channel (the audit entry is the mark)."""
    already = session.scalar(
        select(AuditRow.id).where(
            AuditRow.action == "channel.facilitator_left",
            AuditRow.target_type == "channel",
            AuditRow.target_id == channel.slack_channel_id,
            AuditRow.reason == slack_user_id,
        )
    )
    if already is not None:
        return False
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="channel.facilitator_left",
        target_type="channel",
        target_id=channel.slack_channel_id,
        reason=slack_user_id,
        details={"name": channel.name},
    )
    return True


def secretariat_ids(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(Member.slack_user_id)
            .join(MemberRole, MemberRole.member_id == Member.id)
            .where(MemberRole.role == Role.SECRETARIAT, Member.status.not_in(GONE_MEMBER_STATUSES))
            .order_by(Member.id)
        )
    )


def dormant_item(
    session: Session, review_id: int, *, today: date, dormant_days: int, gone: Sequence[str]
) -> DormantItem:
    """The round as its question, its answer and the secretariat's list show it."""
    review = get_review(session, review_id)
    channel = channel_of(session, review)
    reason = "ended" if channel.end_date and channel.end_date < today else "quiet"
    return DormantItem(
        review_id=review.id,
        slack_channel_id=channel.slack_channel_id,
        name=channel.name,
        reason=reason,
        last_activity_at=channel.last_activity_at,
        end_date=channel.end_date,
        dormant_days=dormant_days,
        gone_facilitators=tuple(gone),
        outcome=review.outcome.value,
        decided_by=review.decided_by,
        decided_at=review.decided_at,
    )
