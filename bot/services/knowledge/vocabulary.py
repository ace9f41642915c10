"""The synonym list the secretariat edits: its own once saved, the shipped one until then."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.knowledge.synonyms import Thesaurus, format_groups, parse_groups, shipped_groups
from bot.services import audit
from models import KnowledgeSynonymGroup

MAX_GROUPS = 500


class TooManyGroups(ValueError):
    pass


def groups(session: Session) -> list[tuple[str, ...]]:
    rows = session.scalars(select(KnowledgeSynonymGroup).order_by(KnowledgeSynonymGroup.id))
    own = [tuple(row.terms) for row in rows]
    return own or shipped_groups()


def thesaurus(session: Session) -> Thesaurus:
    return _thesaurus(tuple(groups(session)))


@lru_cache(maxsize=4)
def _thesaurus(groups: tuple[tuple[str, ...], ...]) -> Thesaurus:
    """Built once per list: every search reads the list, few change it."""
    return Thesaurus(groups)


def as_text(session: Session) -> str:
    return format_groups(groups(session))


def replace(session: Session, *, clock: Clock, actor: str, text: str) -> int:
    """Save the list as edited (one group per line); returns the number of groups."""
    parsed = parse_groups(text)
    if len(parsed) > MAX_GROUPS:
        raise TooManyGroups(len(parsed))
    session.execute(delete(KnowledgeSynonymGroup))
    now = clock.now()
    for group in parsed:
        session.add(KnowledgeSynonymGroup(terms=list(group), updated_by=actor, updated_at=now))
    audit.record(
        session,
        clock=clock,
        actor=actor,
        action="knowledge.synonyms_replaced",
        target_type="knowledge_synonyms",
        target_id="all",
        details={"groups": len(parsed)},
    )
    return len(parsed)
