"""Searches that found nothing: the workspace's unanswered questions, for the secretariat and
the ambassadors. Never who searched: the query (masked) and the searcher's prefecture."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.knowledge.tokens import folded
from bot.services.knowledge.privacy import Refused, gate
from models import KnowledgeGap

QUERY_LIMIT = 200


@dataclass(frozen=True)
class Gap:
    query: str
    prefecture: str
    times: int
    last_seen_at: datetime


def log_gap(session: Session, *, clock: Clock, query: str, prefecture: str | None) -> None:
    try:
        # Cut again after masking: a masked address may be longer than the address was.
        masked = gate(" ".join(query.split())[:QUERY_LIMIT]).text[:QUERY_LIMIT]
    except Refused:
        return  # a labelled text is not kept, even as a query
    key = folded(masked)[:QUERY_LIMIT]
    if not key.strip():
        return
    place = (prefecture or "")[:8]
    now = clock.now()
    found = select(KnowledgeGap).where(
        KnowledgeGap.folded_query == key, KnowledgeGap.prefecture == place
    )
    gap = session.scalar(found)
    if gap is None:
        try:  # two members may search the same words at once: the second one counts
            with session.begin_nested():
                session.add(
                    KnowledgeGap(
                        folded_query=key,
                        query=masked,
                        prefecture=place,
                        times=1,
                        first_seen_at=now,
                        last_seen_at=now,
                    )
                )
            return
        except IntegrityError:
            gap = session.scalar(found)
            if gap is None:
                return
    gap.times += 1
    gap.last_seen_at = now


def recent_gaps(
    session: Session, *, since: datetime, prefecture: str | None = None, limit: int = 20
) -> list[Gap]:
    statement = select(KnowledgeGap).where(KnowledgeGap.last_seen_at >= since)
    if prefecture:
        statement = statement.where(KnowledgeGap.prefecture == prefecture)
    statement = statement.order_by(KnowledgeGap.times.desc(), KnowledgeGap.last_seen_at.desc())
    return [
        Gap(g.query, g.prefecture, g.times, g.last_seen_at)
        for g in session.scalars(statement.limit(limit))
    ]
