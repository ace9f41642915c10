"""Keeping the search index in step with the entries.

Each active entry's keys are in `search_keys` (title and tags count twice) and in the database's
own index: the FTS5 table `knowledge_fts` on SQLite (rowid = entry id), a GIN expression index
on PostgreSQL (kept by the database itself). `knowledge_terms` counts the entries holding each
key, plus two totals (`#entries`, `#length`) for BM25; keys are upserted in sorted order so two
writers never wait on each other in opposite orders."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Protocol

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bot.knowledge.ranking import Corpus
from bot.knowledge.tokens import keys
from models import EntryStatus, KnowledgeEntry, KnowledgeTerm

ENTRIES = "#entries"
LENGTH = "#length"
_TITLE_WEIGHT = 2  # the title and tags say what an entry is about: their keys count twice


def entry_keys(*, title: str, question: str, answer: str, tags: Sequence[str]) -> str:
    title_keys = keys(title) + keys(" ".join(tags))
    return " ".join(title_keys * _TITLE_WEIGHT + keys(question) + keys(answer))


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


class Indexed(Protocol):
    """What the index needs of an entry (a KnowledgeEntry, or a row a bulk load wrote)."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> EntryStatus: ...
    @property
    def search_keys(self) -> str: ...


def add(session: Session, entries: Sequence[Indexed]) -> None:
    """Index active entries that have an id (after a flush)."""
    active = [e for e in entries if e.status is EntryStatus.ACTIVE]
    if not active:
        return
    if is_sqlite(session):
        session.execute(
            text("INSERT INTO knowledge_fts(rowid, search_keys) VALUES (:id, :keys)"),
            [{"id": e.id, "keys": e.search_keys} for e in active],
        )
    _count(session, active, +1)


def remove(session: Session, entries: Sequence[Indexed]) -> None:
    """Take entries out of the index; call before their keys or status change."""
    active = [e for e in entries if e.status is EntryStatus.ACTIVE]
    if not active:
        return
    if is_sqlite(session):
        session.execute(
            text("DELETE FROM knowledge_fts WHERE rowid = :id"), [{"id": e.id} for e in active]
        )
    _count(session, active, -1)


def _count(session: Session, entries: Iterable[Indexed], sign: int) -> None:
    counts: Counter[str] = Counter()
    length = 0
    for entry in entries:
        entry_keys = entry.search_keys.split()
        counts.update(set(entry_keys))
        counts[ENTRIES] += 1
        length += len(entry_keys)
    counts[LENGTH] = length
    rows = sorted((key[:64], sign * n) for key, n in counts.items())
    if is_sqlite(session):
        statement = sqlite_insert(KnowledgeTerm)
        statement = statement.on_conflict_do_update(
            index_elements=[KnowledgeTerm.key],
            set_={"entries": KnowledgeTerm.entries + statement.excluded.entries},
        )
        session.execute(statement, [{"key": k, "entries": n} for k, n in rows])
    else:
        # One statement for thousands of keys: a round trip per key is what a batch costs
        # on a server otherwise. Sorted keys: concurrent writers lock them in the same order.
        session.execute(
            text(
                "INSERT INTO knowledge_terms (key, entries) "
                "SELECT * FROM unnest(CAST(:keys AS varchar[]), CAST(:counts AS integer[])) "
                "ON CONFLICT (key) DO UPDATE "
                "SET entries = knowledge_terms.entries + excluded.entries"
            ),
            {"keys": [k for k, _ in rows], "counts": [n for _, n in rows]},
        )
    if sign < 0:  # keys no entry holds any more
        for start in range(0, len(rows), 500):
            touched = [key for key, _ in rows[start : start + 500]]
            session.execute(
                delete(KnowledgeTerm).where(
                    KnowledgeTerm.key.in_(touched), KnowledgeTerm.entries <= 0
                )
            )


def corpus(session: Session, wanted: Iterable[str]) -> Corpus:
    names = sorted({*wanted, ENTRIES, LENGTH})
    counts = dict(
        session.execute(
            select(KnowledgeTerm.key, KnowledgeTerm.entries).where(KnowledgeTerm.key.in_(names))
        ).all()
    )
    entries = counts.pop(ENTRIES, 0)
    length = counts.pop(LENGTH, 0)
    return Corpus(entries=entries, mean_length=length / entries if entries else 1.0, holding=counts)


def rebuild(session: Session) -> int:
    """Recompute every active entry's keys and the whole index (after the tokenizer changed,
    or to repair it). Returns the number of entries indexed."""
    if is_sqlite(session):
        session.execute(text("DELETE FROM knowledge_fts"))
    session.execute(delete(KnowledgeTerm))
    active = list(
        session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.status == EntryStatus.ACTIVE))
    )
    for entry in active:
        entry.search_keys = entry_keys(
            title=entry.title, question=entry.question, answer=entry.answer, tags=entry.tags
        )
    session.flush()
    for start in range(0, len(active), 1000):
        add(session, active[start : start + 1000])
    return len(active)
