"""Finding entries: candidates from the database's index, ordered in Python (ranking.py).

Candidates are the entries holding the query's rarest keys, as many keys as keep the expected
number of candidates under a budget, so a query full of common words (申請, について) costs no
more than a precise one. The same candidates come back from SQLite (FTS5) and PostgreSQL (GIN),
and the same Python code orders them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Row, bindparam, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from bot.clock import Clock
from bot.domain.knowledge import FoundEntry, SearchPage
from bot.knowledge.embedding import Embedder
from bot.knowledge.fusion import reciprocal_rank_fusion
from bot.knowledge.ranking import Candidate, Corpus, Scored, preselect, rank
from bot.knowledge.snippets import snippet
from bot.knowledge.synonyms import Concept, Thesaurus, plain_concepts
from bot.services.knowledge import index, vectors
from models import EntryKind, KnowledgeEntry

CANDIDATE_BUDGET = 500  # entries read per query at most
PRESELECTED = 150  # of those, scored in full (ranking.preselect)
MAX_QUERY = 200  # characters of a query considered
MAX_RESULTS = 50  # results a search keeps (pages of 5 → 10 pages)

_FIELDS = (
    KnowledgeEntry.id,
    KnowledgeEntry.search_keys,
    KnowledgeEntry.checks,
    KnowledgeEntry.helpful,
    KnowledgeEntry.answered_at,
    KnowledgeEntry.prefecture,
)


@dataclass(frozen=True)
class Ranked:
    scored: tuple[Scored, ...]
    keys: frozenset[str]  # every key of the query and its synonyms, for highlighting


def ranked(
    session: Session,
    *,
    query: str,
    clock: Clock,
    thesaurus: Thesaurus | None,
    prefecture: str | None = None,
    meaning: Embedder | None = None,
) -> Ranked:
    """The query's results, best first; with a meaning model, the text ranking fused with the
    entries nearest in meaning (which may share no word with the query)."""
    text = _text_ranked(
        session, query=query, clock=clock, thesaurus=thesaurus, prefecture=prefecture
    )
    if meaning is None:
        return text
    near = vectors.nearest(session, model=meaning, query=query[:MAX_QUERY], limit=MAX_RESULTS)
    by_id = {s.entry_id: s for s in text.scored}
    fused = reciprocal_rank_fusion([list(by_id), [entry_id for entry_id, _ in near]])
    scored = tuple(
        by_id.get(entry_id) or Scored(entry_id, score=0.0, relevance=0.0, coverage=0.0)
        for entry_id in fused[:MAX_RESULTS]
    )
    return Ranked(scored, text.keys)


def _text_ranked(
    session: Session,
    *,
    query: str,
    clock: Clock,
    thesaurus: Thesaurus | None,
    prefecture: str | None,
) -> Ranked:
    query = query[:MAX_QUERY]
    concepts = thesaurus.concepts(query) if thesaurus else plain_concepts(query)
    all_keys = frozenset(k for c in concepts for a in c.alternatives for k in a.keys)
    if not all_keys:
        return Ranked((), all_keys)
    corpus = index.corpus(session, all_keys)
    wanted = _candidate_keys(concepts, corpus)
    rows = preselect(_candidates(session, wanted), wanted.keys, corpus, keep=PRESELECTED)
    candidates = [
        Candidate(r.id, r.search_keys, r.checks, r.helpful, r.answered_at, r.prefecture)
        for r in rows
    ]
    scored = rank(concepts, candidates, corpus, now=clock.now(), prefecture=prefecture)
    return Ranked(tuple(scored[:MAX_RESULTS]), all_keys)


def search(
    session: Session,
    *,
    query: str,
    clock: Clock,
    thesaurus: Thesaurus | None,
    prefecture: str | None = None,
    offset: int = 0,
    limit: int = 5,
    meaning: Embedder | None = None,
) -> SearchPage:
    found = ranked(
        session,
        query=query,
        clock=clock,
        thesaurus=thesaurus,
        prefecture=prefecture,
        meaning=meaning,
    )
    page = found.scored[offset : offset + limit]
    return SearchPage(
        query=query,
        hits=tuple(found_entries(session, page, found.keys)),
        offset=offset,
        total=len(found.scored),
    )


def found_entries(
    session: Session, scored: Sequence[Scored], keys: frozenset[str]
) -> list[FoundEntry]:
    by_id = {
        e.id: e
        for e in session.scalars(
            select(KnowledgeEntry).where(KnowledgeEntry.id.in_([s.entry_id for s in scored]))
        )
    }
    out: list[FoundEntry] = []
    for s in scored:
        entry = by_id.get(s.entry_id)
        if entry is None:
            continue
        body = entry.answer if entry.kind is not EntryKind.CHANNEL else entry.question
        out.append(
            FoundEntry(
                entry_id=entry.id,
                kind=entry.kind,
                title=entry.title,
                snippet=snippet(body or entry.question, keys),
                channel_id=entry.channel_id,
                thread_ts=entry.thread_ts,
                answer_ts=entry.answer_ts,
                answered_at=entry.answered_at,
                checks=entry.checks,
                helpful=entry.helpful,
                score=s.score,
                relevance=s.relevance,
            )
        )
    return out


@dataclass(frozen=True)
class CandidateKeys:
    keys: tuple[str, ...]
    every: bool  # entries must hold all of them (the query has only very common keys)


def _candidate_keys(concepts: Sequence[Concept], corpus: Corpus) -> CandidateKeys:
    """The rarest keys, as many as keep the expected candidates within the budget. When even
    the rarest key is too common, entries must hold the rarest key of two different words of
    the query as written (not of a synonym: they are alternatives, not requirements)."""
    held = sorted(
        {k for c in concepts for a in c.alternatives for k in a.keys if corpus.holding.get(k)},
        key=lambda k: (corpus.holding[k], k),
    )
    if not held:
        return CandidateKeys((), False)
    if corpus.holding[held[0]] > CANDIDATE_BUDGET:
        return CandidateKeys(_rarest_of_two_words(concepts, corpus), True)
    chosen: list[str] = []
    expected = 0
    for key in held:
        if expected + corpus.holding[key] > CANDIDATE_BUDGET:
            break
        chosen.append(key)
        expected += corpus.holding[key]
    return CandidateKeys(tuple(chosen), False)


def _rarest_of_two_words(concepts: Sequence[Concept], corpus: Corpus) -> tuple[str, ...]:
    rarest: list[tuple[int, str]] = []
    for concept in concepts:
        own = [k for k in concept.alternatives[0].keys if corpus.holding.get(k)]
        if own:
            rarest.append(min((corpus.holding[k], k) for k in own))
    rarest = sorted(set(rarest))
    return tuple(key for _, key in rarest[:2])


def _candidates(
    session: Session, wanted: CandidateKeys
) -> Sequence[Row[int, str, int, int, datetime, str | None]]:
    """At most CANDIDATE_BUDGET entries holding the wanted keys, the newest first. Removed
    entries hold no keys (entries._remove clears them), so the index alone decides."""
    if not wanted.keys:
        return []
    held: ColumnElement[bool]
    if index.is_sqlite(session):
        joiner = " AND " if wanted.every else " OR "
        match = joiner.join(f'"{key}"' for key in wanted.keys)
        held = KnowledgeEntry.id.in_(
            select(text("rowid"))
            .select_from(text("knowledge_fts"))
            .where(text("knowledge_fts MATCH :match"))
        )
        params: dict[str, object] = {"match": match}
    else:
        # The very expression of the GIN index (migration 0009), so the planner can use it.
        as_array = func.string_to_array(
            KnowledgeEntry.search_keys, literal_column("' '"), type_=ARRAY(Text)
        )
        array = bindparam("keys", type_=ARRAY(Text))
        held = as_array.contains(array) if wanted.every else as_array.overlap(array)
        params = {"keys": list(wanted.keys)}
    # Newest first, by an expression: walking the primary key backwards and testing every
    # row is what a planner would otherwise pick for ORDER BY id LIMIT, at a thousand times
    # the cost of the index lookup.
    newest_first = (KnowledgeEntry.id + 0).desc()
    statement = select(*_FIELDS).where(held).order_by(newest_first).limit(CANDIDATE_BUDGET)
    # Plain rows through the connection: the ORM's per-row bookkeeping is not needed here.
    return session.connection().execute(statement, params).all()
