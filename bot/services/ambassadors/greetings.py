"""Greeting newcomers: a card in the ambassadors' channel for each member who accepted the
rules, claimed once by an ambassador, who is then introduced to the newcomer.

The greeting is recorded in the transaction that records the acceptance; the card is posted
after it commits, so a crash or a Slack failure leaves a row the job posts later. A claim
is a guarded UPDATE: of any number of clicks exactly one wins. Unclaimed after two 開庁日,
the ambassadors are reminded once; two 開庁日 after that, the secretariat is told once (each
recorded before it is sent, given back when Slack certainly did not take it).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, exists, select, update
from sqlalchemy.orm import Session

from bot.business_days import business_days_between
from bot.clock import Clock
from bot.domain.ambassador_greetings import GreetingCard, Introduction, Nudge
from bot.i18n import Language
from bot.services import audit, members
from bot.services.ambassadors.roster import ambassadors_for
from bot.services.onboarding.organisations import organisation_name
from models import (
    AmbassadorGreeting,
    AuditEntry,
    GreetingStatus,
    Member,
    MemberStatus,
    Organisation,
)

# Who counts as a newcomer when they accept the rules (not a member accepting a new version).
NEWCOMER_WINDOW = timedelta(days=30)
REMIND_AFTER_BUSINESS_DAYS = 2
ESCALATE_AFTER_BUSINESS_DAYS = 2
# The claimer's listener sends the introduction at once; the job takes over after this.
INTRODUCTION_LEASE = timedelta(minutes=10)
INTRODUCTION_RETRY_FOR = timedelta(days=7)
UNDELIVERABLE_ACTION = "ambassadors.introduction_undeliverable"
_GONE = (MemberStatus.DEACTIVATED, MemberStatus.DELETED)
_TARGET = "ambassador_greeting"


def local_today(clock: Clock, zone: ZoneInfo) -> date:
    return clock.now().astimezone(zone).date()


def _prefecture_of(session: Session, member: Member) -> str | None:
    if member.organisation_id is None:
        return None
    return session.scalar(
        select(Organisation.prefecture).where(Organisation.id == member.organisation_id)
    )


def prefecture_ambassadors(
    session: Session, *, slack_user_id: str, today: date
) -> tuple[str | None, tuple[str, ...]]:
    """The member's prefecture and its ambassadors (the region's when it has none)."""
    member = members.find(session, slack_user_id)
    prefecture = _prefecture_of(session, member) if member else None
    return prefecture, ambassadors_for(session, prefecture=prefecture, today=today)


def open_greeting(
    session: Session, *, clock: Clock, zone: ZoneInfo, slack_user_id: str
) -> int | None:
    """Record the newcomer's greeting (not yet posted); None when the member is no newcomer
    or already has one."""
    now = clock.now()
    member = members.find(session, slack_user_id)
    if member is None or member.is_bot or member.status in _GONE:
        return None
    if member.joined_at is None or member.joined_at < now - NEWCOMER_WINDOW:
        return None
    if session.scalar(
        select(AmbassadorGreeting.id).where(AmbassadorGreeting.member_id == member.id)
    ):
        return None
    prefecture = _prefecture_of(session, member)
    greeting = AmbassadorGreeting(
        member_id=member.id,
        status=GreetingStatus.OPEN,
        prefecture=prefecture,
        mentioned=list(
            ambassadors_for(session, prefecture=prefecture, today=now.astimezone(zone).date())
        ),
        created_at=now,
        updated_at=now,
    )
    with session.begin_nested():  # the unique member_id settles a race: no second card
        session.add(greeting)
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="ambassadors.greeting_opened",
        target_type=_TARGET,
        target_id=str(greeting.id),
        details={"member": slack_user_id, "ambassadors": len(greeting.mentioned)},
    )
    return greeting.id


def greeting_card(
    session: Session, *, greeting_id: int, language: Language, intro_channel: str | None
) -> GreetingCard | None:
    row = session.execute(
        select(AmbassadorGreeting, Member)
        .join(Member, Member.id == AmbassadorGreeting.member_id)
        .where(AmbassadorGreeting.id == greeting_id)
    ).first()
    if row is None:
        return None
    greeting, member = row
    organisation = (
        session.get(Organisation, member.organisation_id) if member.organisation_id else None
    )
    return GreetingCard(
        greeting_id=greeting.id,
        newcomer=member.slack_user_id,
        organisation=organisation_name(organisation, language),
        prefecture=greeting.prefecture,
        ambassadors=tuple(greeting.mentioned or ()),
        introduced_at=member.introduced_at,
        intro_channel=intro_channel,
        status=greeting.status,
        claimed_by=greeting.claimed_by,
        claimed_at=greeting.claimed_at,
    )


def unposted(session: Session, *, limit: int) -> list[int]:
    """Cards that never reached the channel (Slack failed, or no channel was set)."""
    return list(
        session.scalars(
            select(AmbassadorGreeting.id)
            .where(
                AmbassadorGreeting.message_ts.is_(None),
                AmbassadorGreeting.status != GreetingStatus.CLOSED,
            )
            .order_by(AmbassadorGreeting.id)
            .limit(limit)
        )
    )


def placement(session: Session, greeting_id: int) -> tuple[str, str] | None:
    row = session.execute(
        select(AmbassadorGreeting.channel_id, AmbassadorGreeting.message_ts).where(
            AmbassadorGreeting.id == greeting_id
        )
    ).first()
    if row is None or not (row[0] and row[1]):
        return None
    return str(row[0]), str(row[1])


def store_placement(
    session: Session, *, clock: Clock, greeting_id: int, channel_id: str, ts: str
) -> bool:
    """Where the card is; False when another process stored its own copy first."""
    stored = session.execute(
        update(AmbassadorGreeting)
        .where(AmbassadorGreeting.id == greeting_id, AmbassadorGreeting.message_ts.is_(None))
        .values(channel_id=channel_id, message_ts=ts, updated_at=clock.now())
        .returning(AmbassadorGreeting.id)
    ).first()
    return stored is not None


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"  # this click won
    TAKEN = "taken"  # someone claimed it before
    CLOSED = "closed"  # the newcomer left
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    claimed_by: str | None = None


def claim(session: Session, *, clock: Clock, greeting_id: int, slack_user_id: str) -> Claim:
    """「担当します」: the first click claims the card, however many come at once."""
    greeting = session.get(AmbassadorGreeting, greeting_id)
    if greeting is None:
        return Claim(ClaimOutcome.UNKNOWN)
    if _close_if_gone(session, clock=clock, greeting=greeting):
        return Claim(ClaimOutcome.CLOSED)
    now = clock.now()
    won = session.execute(
        update(AmbassadorGreeting)
        .where(
            AmbassadorGreeting.id == greeting_id,
            AmbassadorGreeting.status == GreetingStatus.OPEN,
            AmbassadorGreeting.claimed_by.is_(None),
        )
        .values(
            status=GreetingStatus.CLAIMED,
            claimed_by=slack_user_id,
            claimed_at=now,
            updated_at=now,
        )
        .returning(AmbassadorGreeting.id)
    ).first()
    session.refresh(greeting)
    if won is None:
        if greeting.status is GreetingStatus.CLOSED:
            return Claim(ClaimOutcome.CLOSED)
        return Claim(ClaimOutcome.TAKEN, greeting.claimed_by)
    audit.record(
        session,
        clock=clock,
        actor=slack_user_id,
        action="ambassadors.greeting_claimed",
        target_type=_TARGET,
        target_id=str(greeting_id),
    )
    return Claim(ClaimOutcome.CLAIMED, slack_user_id)


def _close_if_gone(session: Session, *, clock: Clock, greeting: AmbassadorGreeting) -> bool:
    status = session.scalar(select(Member.status).where(Member.id == greeting.member_id))
    if greeting.status is not GreetingStatus.OPEN or status not in _GONE:
        return False
    now = clock.now()
    closed = session.execute(
        update(AmbassadorGreeting)
        .where(
            AmbassadorGreeting.id == greeting.id,
            AmbassadorGreeting.status == GreetingStatus.OPEN,
        )
        .values(status=GreetingStatus.CLOSED, updated_at=now)
        .returning(AmbassadorGreeting.id)
    ).first()
    session.refresh(greeting)
    if closed is None:
        return False
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action="ambassadors.greeting_closed",
        target_type=_TARGET,
        target_id=str(greeting.id),
        reason="the newcomer left",
    )
    return True


def close_departed(session: Session, *, clock: Clock) -> list[int]:
    """Close the open cards of newcomers who left before anyone claimed them."""
    open_of_gone = session.scalars(
        select(AmbassadorGreeting)
        .join(Member, Member.id == AmbassadorGreeting.member_id)
        .where(AmbassadorGreeting.status == GreetingStatus.OPEN, Member.status.in_(_GONE))
    ).all()
    return [g.id for g in open_of_gone if _close_if_gone(session, clock=clock, greeting=g)]


# --- the newcomer's introduction DM ---------------------------------------------------------


def introduction(session: Session, *, greeting_id: int) -> Introduction | None:
    """The introduction still owed for a claimed card (None once sent or when not claimed)."""
    row = session.execute(
        select(AmbassadorGreeting, Member.slack_user_id)
        .join(Member, Member.id == AmbassadorGreeting.member_id)
        .where(
            AmbassadorGreeting.id == greeting_id,
            AmbassadorGreeting.status == GreetingStatus.CLAIMED,
            AmbassadorGreeting.introduced_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    greeting, newcomer = row
    if greeting.claimed_by is None:
        return None
    return Introduction(
        greeting_id=greeting.id,
        newcomer=newcomer,
        ambassador=greeting.claimed_by,
        prefecture=greeting.prefecture,
    )


def _undeliverable() -> Any:
    return exists().where(
        AuditEntry.action == UNDELIVERABLE_ACTION,
        AuditEntry.target_type == _TARGET,
        AuditEntry.target_id == cast(AmbassadorGreeting.id, String),
    )


def due_introductions(session: Session, *, now: datetime, limit: int) -> list[int]:
    """Claimed cards whose introduction the claimer's listener did not get through."""
    return list(
        session.scalars(
            select(AmbassadorGreeting.id)
            .join(Member, Member.id == AmbassadorGreeting.member_id)
            .where(
                AmbassadorGreeting.status == GreetingStatus.CLAIMED,
                AmbassadorGreeting.introduced_at.is_(None),
                AmbassadorGreeting.claimed_at <= now - INTRODUCTION_LEASE,
                AmbassadorGreeting.claimed_at >= now - INTRODUCTION_RETRY_FOR,
                Member.status.not_in(_GONE),
                ~_undeliverable(),
            )
            .order_by(AmbassadorGreeting.claimed_at)
            .limit(limit)
        )
    )


def mark_introduced(session: Session, *, clock: Clock, greeting_id: int) -> bool:
    """Slack took the introduction DM."""
    now = clock.now()
    marked = session.execute(
        update(AmbassadorGreeting)
        .where(AmbassadorGreeting.id == greeting_id, AmbassadorGreeting.introduced_at.is_(None))
        .values(introduced_at=now, updated_at=now)
        .returning(AmbassadorGreeting.id)
    ).first()
    if marked is not None:
        audit.record(
            session,
            clock=clock,
            actor=audit.SYSTEM_ACTOR,
            action="ambassadors.newcomer_introduced",
            target_type=_TARGET,
            target_id=str(greeting_id),
        )
    return marked is not None


def mark_undeliverable(session: Session, *, clock: Clock, greeting_id: int, error: str) -> None:
    """Slack refused the introduction for good (the newcomer cannot be DMed): not retried."""
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action=UNDELIVERABLE_ACTION,
        target_type=_TARGET,
        target_id=str(greeting_id),
        reason=error[:200],
    )


# --- the reminder and the escalation --------------------------------------------------------


def _open_posted(session: Session, *more: Any) -> list[tuple[AmbassadorGreeting, str]]:
    rows = session.execute(
        select(AmbassadorGreeting, Member.slack_user_id)
        .join(Member, Member.id == AmbassadorGreeting.member_id)
        .where(
            AmbassadorGreeting.status == GreetingStatus.OPEN,
            AmbassadorGreeting.message_ts.is_not(None),
            Member.status.not_in(_GONE),
            *more,
        )
        .order_by(AmbassadorGreeting.id)
    ).all()
    return [(g, user) for g, user in rows]


def _nudge(session: Session, greeting: AmbassadorGreeting, newcomer: str, today: date) -> Nudge:
    assert greeting.channel_id is not None and greeting.message_ts is not None
    # Today's roster: someone appointed since the card was posted is reminded too.
    current = ambassadors_for(session, prefecture=greeting.prefecture, today=today)
    return Nudge(
        greeting_id=greeting.id,
        newcomer=newcomer,
        prefecture=greeting.prefecture,
        ambassadors=current,
        channel_id=greeting.channel_id,
        message_ts=greeting.message_ts,
    )


def due_reminders(session: Session, *, now: datetime, zone: ZoneInfo) -> list[Nudge]:
    """Open for two 開庁日 or more, never reminded."""
    today = now.astimezone(zone).date()
    return [
        _nudge(session, g, user, today)
        for g, user in _open_posted(session, AmbassadorGreeting.reminded_at.is_(None))
        if business_days_between(g.created_at.astimezone(zone).date(), today)
        >= REMIND_AFTER_BUSINESS_DAYS
    ]


def due_escalations(session: Session, *, now: datetime, zone: ZoneInfo) -> list[Nudge]:
    """Still open two 開庁日 after the reminder; the secretariat not yet told."""
    today = now.astimezone(zone).date()
    return [
        _nudge(session, g, user, today)
        for g, user in _open_posted(
            session,
            AmbassadorGreeting.reminded_at.is_not(None),
            AmbassadorGreeting.escalated_at.is_(None),
        )
        if g.reminded_at is not None
        and business_days_between(g.reminded_at.astimezone(zone).date(), today)
        >= ESCALATE_AFTER_BUSINESS_DAYS
    ]


def _mark(session: Session, clock: Clock, greeting_id: int, column: Any, action: str) -> bool:
    now = clock.now()
    marked = session.execute(
        update(AmbassadorGreeting)
        .where(
            AmbassadorGreeting.id == greeting_id,
            AmbassadorGreeting.status == GreetingStatus.OPEN,
            column.is_(None),
        )
        .values({column.key: now, "updated_at": now})
        .returning(AmbassadorGreeting.id)
    ).first()
    if marked is None:
        return False
    audit.record(
        session,
        clock=clock,
        actor=audit.SYSTEM_ACTOR,
        action=action,
        target_type=_TARGET,
        target_id=str(greeting_id),
    )
    return True


def claim_reminder(session: Session, *, clock: Clock, greeting_id: int) -> bool:
    """Recorded before the reminder is posted: a rerun never reminds twice."""
    return _mark(
        session, clock, greeting_id, AmbassadorGreeting.reminded_at, "ambassadors.greeting_reminded"
    )


def claim_escalation(session: Session, *, clock: Clock, greeting_id: int) -> bool:
    return _mark(
        session,
        clock,
        greeting_id,
        AmbassadorGreeting.escalated_at,
        "ambassadors.greeting_escalated",
    )


def give_back(session: Session, *, greeting_id: int, escalation: bool) -> None:
    """Slack certainly did not take the reminder (or the escalation): due again."""
    column = "escalated_at" if escalation else "reminded_at"
    session.execute(
        update(AmbassadorGreeting)
        .where(AmbassadorGreeting.id == greeting_id)
        .values({column: None})
    )


# --- figures for the secretariat ------------------------------------------------------------


def greeting_figures(
    session: Session, *, now: datetime, zone: ZoneInfo, days: int = 30
) -> tuple[int, int, float | None]:
    """Of the cards posted in the last `days` days (from midnight in `zone`): how many were
    claimed, how many are still open, and the median hours from card to claim."""
    start_day = now.astimezone(zone).date() - timedelta(days=days)
    start = datetime.combine(start_day, time(0), tzinfo=zone)
    rows = session.execute(
        select(
            AmbassadorGreeting.status,
            AmbassadorGreeting.created_at,
            AmbassadorGreeting.claimed_at,
        ).where(AmbassadorGreeting.created_at >= start, AmbassadorGreeting.created_at <= now)
    ).all()
    waits = [
        (claimed_at - created_at).total_seconds() / 3600
        for status, created_at, claimed_at in rows
        if status is GreetingStatus.CLAIMED and claimed_at is not None
    ]
    still_open = sum(1 for status, _, _ in rows if status is GreetingStatus.OPEN)
    median = round(statistics.median(waits), 1) if waits else None
    return len(waits), still_open, median
