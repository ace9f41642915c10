"""A message's one case: found, opened (reports and detections merge into it), listed."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import insert_for
from bot.domain.moderation import OPEN_STATUSES
from bot.services import audit
from bot.services.activity import slack_ts_to_datetime
from models import CaseSource, CaseStatus, ModerationCase

TARGET_TYPE = "moderation_case"
SYSTEM_ACTOR = audit.SYSTEM_ACTOR


class UnknownCase(LookupError):
    pass


@dataclass(frozen=True)
class ReportedMessage:
    channel_id: str
    message_ts: str
    author_id: str
    excerpt: str  # already safe: see privacy.safe_excerpt


@dataclass(frozen=True)
class Opened:
    public_id: str
    new_case: bool
    new_report: bool  # False when this reporter had already reported the message
    status: CaseStatus


def get(session: Session, public_id: str) -> ModerationCase:
    found = session.scalar(select(ModerationCase).where(ModerationCase.public_id == public_id))
    if found is None:
        raise UnknownCase(public_id)
    return found


def find_by_message(session: Session, channel_id: str, message_ts: str) -> ModerationCase | None:
    return session.scalar(
        select(ModerationCase).where(
            ModerationCase.channel_id == channel_id, ModerationCase.message_ts == message_ts
        )
    )


def open_case(
    session: Session, *, clock: Clock, message: ReportedMessage, source: CaseSource
) -> tuple[ModerationCase, bool]:
    """The message's case, created if need be, locked for this transaction."""
    now = clock.now()
    created = session.execute(
        insert_for(session)(ModerationCase)
        .values(
            public_id=secrets.token_hex(4),
            channel_id=message.channel_id,
            message_ts=message.message_ts,
            author_id=message.author_id,
            excerpt=message.excerpt,
            source=source,
            reasons=[],
            status=CaseStatus.OPEN,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel_id", "message_ts"])
        .returning(ModerationCase.id)
    ).first()
    # Row lock on PostgreSQL: concurrent reports of one message merge one after another.
    locked = session.scalar(
        select(ModerationCase)
        .where(
            ModerationCase.channel_id == message.channel_id,
            ModerationCase.message_ts == message.message_ts,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    return locked, created is not None


def add_reasons(case: ModerationCase, reasons: Sequence[str], now: datetime) -> None:
    merged = list(case.reasons or [])
    for reason in reasons:
        if reason in merged:
            merged.remove(reason)
        merged.append(reason)  # most recent last
    case.reasons = merged
    case.updated_at = now


def posted_at(found: ModerationCase) -> datetime | None:
    try:
        return slack_ts_to_datetime(found.message_ts)
    except (ValueError, OverflowError):
        return None


def unposted(session: Session) -> list[str]:
    """Undecided cases whose alert never reached the review channel (Slack was down, say)."""
    return list(
        session.scalars(
            select(ModerationCase.public_id)
            .where(ModerationCase.status.in_(OPEN_STATUSES), ModerationCase.alert_ts.is_(None))
            .order_by(ModerationCase.created_at)
        )
    )
