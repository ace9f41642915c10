"""Entries' meaning vectors: kept per embedding model, searched by cosine.

A vector belongs to the model that made it (`model_key`): after a model change the old ones
are simply not found and `missing` lists their entries again. The search is brute force in
numpy over a matrix cached in this process, reloaded only when the table's cheap version
stamp moves, so a query does not read tens of thousands of vectors again. Removed entries
may linger in the cached matrix; the status is checked for the few ids a query returns.

numpy is imported inside the functions: they run only with a model loaded, which needs it,
and the module itself stays importable without the `embedding` extra."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.db import insert_for
from bot.knowledge.embedding import Embedder
from models import EntryStatus, KnowledgeEntry, KnowledgeVector

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

WRITE_BATCH = 256  # texts embedded and rows written at a time
MIN_CANDIDATES = 100  # ids checked for being active per round trip in `nearest`


def embedding_text(entry: KnowledgeEntry) -> str:
    """What an entry's vector is made from: everything a searcher might be asking about."""
    return "\n".join([entry.title, entry.question, entry.answer, " ".join(entry.tags)])


def store(
    session: Session,
    *,
    model: Embedder,
    entries: Sequence[tuple[int, str]],
    clock: Clock,
) -> int:
    """Embed each (entry id, text) and write its vector, replacing any earlier one."""
    import numpy as np

    now = clock.now()
    insert = insert_for(session)
    for start in range(0, len(entries), WRITE_BATCH):
        batch = entries[start : start + WRITE_BATCH]
        vectors = model.embed([text for _, text in batch]).astype(np.float32, copy=False)
        statement = insert(KnowledgeVector).values(
            [
                {
                    "entry_id": entry_id,
                    "model_key": model.key,
                    "vector": vector.tobytes(),
                    "updated_at": now,
                }
                for (entry_id, _), vector in zip(batch, vectors, strict=True)
            ]
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["entry_id"],
                set_={
                    "model_key": statement.excluded.model_key,
                    "vector": statement.excluded.vector,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )
    if entries:
        # The stamp would see the change too, but not a rewrite within the same instant.
        _forget(model.key)
    return len(entries)


def missing(session: Session, *, model: Embedder, limit: int) -> list[int]:
    """Active entries without a current vector of this model: none yet, one from another
    model, or one older than the entry's last change. Oldest entries first."""
    vector = KnowledgeVector
    rows = session.scalars(
        select(KnowledgeEntry.id)
        .outerjoin(
            vector, and_(vector.entry_id == KnowledgeEntry.id, vector.model_key == model.key)
        )
        .where(KnowledgeEntry.status == EntryStatus.ACTIVE)
        .where(or_(vector.entry_id.is_(None), vector.updated_at < KnowledgeEntry.updated_at))
        .order_by(KnowledgeEntry.id)
        .limit(limit)
    )
    return list(rows)


def embed_missing(session: Session, *, model: Embedder, clock: Clock, limit: int) -> int:
    """`missing` then `store`, for a job that catches up a little at a time."""
    ids = missing(session, model=model, limit=limit)
    if not ids:
        return 0
    entries = session.scalars(
        select(KnowledgeEntry).where(KnowledgeEntry.id.in_(ids)).order_by(KnowledgeEntry.id)
    )
    texts = [(entry.id, embedding_text(entry)) for entry in entries]
    return store(session, model=model, entries=texts, clock=clock)


def nearest(
    session: Session, *, model: Embedder, query: str, limit: int
) -> list[tuple[int, float]]:
    """Active entries closest in meaning to `query`, best first, with their cosine.

    Only positive cosines: an orthogonal or opposite vector shares no meaning with the query.
    A query without any token the model knows finds nothing."""
    import numpy as np

    if limit <= 0 or not query.strip():
        return []
    query_vector = model.embed([query])[0]
    if not query_vector.any():
        return []
    matrix = _matrix(session, model)
    if matrix.ids.size == 0:
        return []
    scores = matrix.rows @ query_vector
    positive = np.flatnonzero(scores > 0)
    # Stable, so equal cosines keep the lower entry id first.
    order = positive[np.argsort(-scores[positive], kind="stable")]

    found: list[tuple[int, float]] = []
    step = max(limit * 2, MIN_CANDIDATES)
    for start in range(0, len(order), step):
        positions = order[start : start + step]
        active = _active_ids(session, matrix.ids[positions].tolist())
        for position in positions:
            entry_id = int(matrix.ids[position])
            if entry_id in active:
                found.append((entry_id, float(scores[position])))
                if len(found) == limit:
                    return found
    return found


# ---- the in-process matrix cache -----------------------------------------------------------

Stamp = tuple[int, datetime | None]  # how many vectors of the model, and the newest write


@dataclass(frozen=True)
class _Matrix:
    stamp: Stamp
    ids: NDArray[np.int64]
    rows: NDArray[np.float32]  # one normalised vector per id, same order


# Keyed by (database, model key): tests and tools may open more than one database.
_cache: dict[tuple[str, str], _Matrix] = {}
# One loader at a time: concurrent queries after a change wait for one reload, not make many.
_cache_lock = threading.Lock()


def _matrix(session: Session, model: Embedder) -> _Matrix:
    # The stamp is read before the rows: a write landing in between makes the next stamp
    # differ, so a reload can come early but the cache never stays behind.
    stamp = _stamp(session, model.key)
    cache_key = (str(session.get_bind().engine.url), model.key)
    with _cache_lock:
        cached = _cache.get(cache_key)
        if cached is not None and cached.stamp == stamp:
            return cached
        loaded = _load(session, model, stamp)
        _cache[cache_key] = loaded
        return loaded


def _stamp(session: Session, model_key: str) -> Stamp:
    count, newest = session.execute(
        select(func.count(), func.max(KnowledgeVector.updated_at)).where(
            KnowledgeVector.model_key == model_key
        )
    ).one()
    return int(count), newest


def _load(session: Session, model: Embedder, stamp: Stamp) -> _Matrix:
    import numpy as np

    width = model.dims * np.dtype(np.float32).itemsize
    ids: list[int] = []
    blobs: list[bytes] = []
    rows = session.execute(
        select(KnowledgeVector.entry_id, KnowledgeVector.vector)
        .where(KnowledgeVector.model_key == model.key)
        .order_by(KnowledgeVector.entry_id)
    )
    for entry_id, blob in rows:
        if len(blob) == width:  # the key names the model, so only a damaged row differs
            ids.append(entry_id)
            blobs.append(bytes(blob))
    matrix = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(ids), model.dims)
    return _Matrix(stamp=stamp, ids=np.array(ids, dtype=np.int64), rows=matrix)


def _forget(model_key: str) -> None:
    with _cache_lock:
        for cache_key in [key for key in _cache if key[1] == model_key]:
            del _cache[cache_key]


def _active_ids(session: Session, entry_ids: list[int]) -> set[int]:
    return set(
        session.scalars(
            select(KnowledgeEntry.id).where(
                KnowledgeEntry.id.in_(entry_ids), KnowledgeEntry.status == EntryStatus.ACTIVE
            )
        )
    )
