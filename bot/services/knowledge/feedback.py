"""What members say of entries: 「役に立った」 (once per member) and ✅ on the answer. Both
feed the ranking (ranking.py) without touching the index."""

from __future__ import annotations

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.services.knowledge.entries import get
from models import EntryStatus, KnowledgeEntry, KnowledgeHelpful


def mark_helpful(session: Session, *, clock: Clock, entry_id: int, user_id: str) -> bool:
    """True the first time this member marks this entry; a second press changes nothing."""
    entry = get(session, entry_id)
    try:
        with session.begin_nested():
            session.add(
                KnowledgeHelpful(entry_id=entry.id, slack_user_id=user_id, created_at=clock.now())
            )
    except IntegrityError:
        return False
    session.execute(
        update(KnowledgeEntry)
        .where(KnowledgeEntry.id == entry.id)
        .values(helpful=KnowledgeEntry.helpful + 1)
    )
    return True


def count_check(session: Session, *, channel_id: str, ts: str, delta: int) -> int:
    """A ✅ added (+1) or removed (-1) on a kept answer; how many entries it concerned."""
    ids = list(
        session.scalars(
            select(KnowledgeEntry.id).where(
                KnowledgeEntry.status == EntryStatus.ACTIVE,
                KnowledgeEntry.channel_id == channel_id,
                KnowledgeEntry.answer_ts == ts,
            )
        )
    )
    if ids:
        session.execute(
            update(KnowledgeEntry)
            .where(KnowledgeEntry.id.in_(ids))
            .values(
                checks=case(
                    (KnowledgeEntry.checks + delta < 0, 0), else_=KnowledgeEntry.checks + delta
                )
            )
        )
    return len(ids)
