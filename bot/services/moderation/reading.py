"""A case as the secretariat reads it on its alert: the trail, the reasons, the author's
earlier cases."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.moderation import CaseEvent, CaseItem, History, PastCase
from bot.services import audit
from bot.services.moderation import cases
from bot.services.moderation.cases import TARGET_TYPE
from bot.services.moderation.reports import reports_of
from models import ModerationCase

# Audit actions that the alert shows as its trail.
TRAIL_ACTIONS = (
    "moderation.claimed",
    "moderation.edit_requested",
    "moderation.edit_overdue",
    "moderation.message_edited",
    "moderation.message_deleted",
    "moderation.dismissed",
    "moderation.warned",
    "moderation.deleted",
    "moderation.removed",
    "moderation.effect",
)


def trail(session: Session, public_id: str) -> list[CaseEvent]:
    entries = audit.entries_of(
        session, target_type=TARGET_TYPE, target_id=public_id, actions=TRAIL_ACTIONS
    )
    return [
        CaseEvent(
            action=e.action.removeprefix("moderation."),
            actor=e.actor,
            at=e.occurred_at,
            reason=e.reason,
            details=dict(e.details or {}),
        )
        for e in entries
    ]


def reason_counts(session: Session, found: ModerationCase) -> list[tuple[str, int]]:
    """Each reason with how many reported it (detector kinds count once)."""
    counts = Counter(r.reason for r in reports_of(session, found.id))
    return [(reason, counts.get(reason, 1)) for reason in (found.reasons or [])]


def history_of(
    session: Session, author_id: str, *, excluding: int | None = None, recent: int = 3
) -> History:
    """The author's other cases, so that repeat behaviour is visible."""
    query = select(ModerationCase).where(ModerationCase.author_id == author_id)
    if excluding is not None:
        query = query.where(ModerationCase.id != excluding)
    found = list(session.scalars(query.order_by(ModerationCase.created_at.desc())))
    by_status = Counter(c.status.value for c in found)
    return History(
        total=len(found),
        by_status=dict(by_status),
        recent=tuple(
            PastCase(c.public_id, c.created_at, c.status, tuple(c.reasons or []))
            for c in found[:recent]
        ),
    )


def message_of(session: Session, public_id: str) -> tuple[str, str]:
    """Where the case's message is (channel, ts)."""
    found = cases.get(session, public_id)
    return found.channel_id, found.message_ts


def case_item(session: Session, public_id: str, *, permalink: str | None) -> CaseItem:
    found = cases.get(session, public_id)
    reports = reports_of(session, found.id)
    return CaseItem(
        public_id=found.public_id,
        channel_id=found.channel_id,
        author_id=found.author_id,
        posted_at=cases.posted_at(found),
        created_at=found.created_at,
        source=found.source.value,
        status=found.status,
        excerpt=found.excerpt,
        reasons=tuple(reason_counts(session, found)),
        report_count=len(reports),
        notes=tuple(r.note for r in reports if r.note),
        permalink=permalink,
        claimed_by=found.claimed_by,
        edit_deadline=found.edit_deadline,
        history=history_of(session, found.author_id, excluding=found.id),
        events=tuple(trail(session, found.public_id)),
    )
