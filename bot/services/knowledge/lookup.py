"""Searching as a member does in Slack: with their prefecture, a search that finds nothing
kept as a gap (never who searched), the entries' text for a generated answer, the past
answers strong enough to offer unasked under a question in a channel, and the gaps the
secretariat and the ambassadors read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.domain.knowledge import FoundEntry, SearchPage
from bot.knowledge.generated import Source
from bot.services import members
from bot.services.knowledge import gaps
from bot.services.knowledge.engine import KnowledgeEngine
from bot.services.knowledge.entries import get
from bot.services.knowledge.search import found_entries
from models import EntryKind, EntryStatus, KnowledgeEntry, Member, Organisation, Role

PAGE_SIZE = 5
SOURCE_CHARS = 1200  # what the answer writer reads of each entry (generated.MAX_SOURCE_CHARS)

# A suggestion speaks unasked, so only a close match may: the entry must hold most of what
# the question weighs (coverage), and a second or third result must come near the first.
SUGGEST_COVERAGE = 0.7
SUGGEST_RELEVANCE = 0.5
SUGGEST_LIMIT = 3


def searcher_prefecture(session: Session, user_id: str) -> str | None:
    """The prefecture of the member's organisation (岩手県), when Kyoso knows it."""
    return session.scalar(
        select(Organisation.prefecture)
        .join(Member, Member.organisation_id == Organisation.id)
        .where(Member.slack_user_id == user_id)
    )


def look_up(
    session: Session,
    *,
    engine: KnowledgeEngine,
    clock: Clock,
    user_id: str,
    query: str,
    offset: int = 0,
    limit: int = PAGE_SIZE,
    fresh: bool = True,
) -> SearchPage:
    """One page of results. A fresh search (typed, not a page turned or a button pressed)
    that finds nothing is kept as a gap, with the searcher's prefecture and nothing else."""
    prefecture = searcher_prefecture(session, user_id)
    page = engine.search(
        session,
        query=query,
        clock=clock,
        prefecture=prefecture,
        offset=offset,
        limit=limit,
    )
    if fresh and page.total == 0:
        gaps.log_gap(session, clock=clock, query=query, prefecture=prefecture)
    return page


def entry_title(session: Session, entry_id: int) -> str:
    return get(session, entry_id).title


def sources(session: Session, hits: Sequence[FoundEntry]) -> list[Source]:
    """The entries found, numbered as shown, with the text the answer writer may use."""
    by_id = {
        entry.id: entry
        for entry in session.scalars(
            select(KnowledgeEntry).where(
                KnowledgeEntry.id.in_([hit.entry_id for hit in hits]),
                KnowledgeEntry.status == EntryStatus.ACTIVE,
            )
        )
    }
    out: list[Source] = []
    for number, hit in enumerate(hits, start=1):
        entry = by_id.get(hit.entry_id)
        if entry is None:
            continue
        if entry.kind is EntryKind.CHANNEL:
            text = entry.question
        else:
            text = f"質問: {entry.question}\n回答: {entry.answer}"
        out.append(Source(number, entry.title, text[:SOURCE_CHARS]))
    return out


def suggestions(
    session: Session,
    *,
    engine: KnowledgeEngine,
    clock: Clock,
    user_id: str,
    question: str,
) -> list[FoundEntry]:
    """Up to three past answers that answer `question` closely, or none."""
    found = engine.ranked(
        session, query=question, clock=clock, prefecture=searcher_prefecture(session, user_id)
    )
    strong = [
        s
        for s in found.scored
        if s.coverage >= SUGGEST_COVERAGE and s.relevance >= SUGGEST_RELEVANCE
    ]
    return found_entries(session, strong[:SUGGEST_LIMIT], found.keys)


@dataclass(frozen=True)
class GapList:
    prefecture: str | None  # the ambassador's own prefecture the list keeps to; None: all
    gaps: list[gaps.Gap]


GAP_DAYS = 30
GAPS_SHOWN = 30


def gaps_for(session: Session, *, clock: Clock, viewer_id: str) -> GapList:
    """What was searched for and not found lately: every prefecture's for the secretariat;
    an ambassador's own prefecture's (when Kyoso knows it) for an ambassador."""
    prefecture = None
    if not members.has_role(session, viewer_id, Role.SECRETARIAT):
        prefecture = searcher_prefecture(session, viewer_id)
    since = clock.now() - timedelta(days=GAP_DAYS)
    found = gaps.recent_gaps(session, since=since, prefecture=prefecture, limit=GAPS_SHOWN)
    return GapList(prefecture, found)
