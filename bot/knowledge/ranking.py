"""How entries are ordered: text relevance first, then what members found useful, how recent
the answer is and whether it comes from the searcher's prefecture.

Text relevance is BM25 over the search keys, computed here in Python from the keys stored
with each candidate and the key counts kept in the database, so SQLite and PostgreSQL order the
same candidates the same way. A concept (synonyms.py) scores for its best alternative."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from bot.knowledge.synonyms import Concept

K1 = 1.2
B = 0.75
# Below this share of the query's weight matched, an entry is not a result: a query that only
# shares particles or one common word with it finds nothing rather than noise.
MIN_COVERAGE = 0.3
# How much each signal adds to the text relevance (normalised to 1 for the best candidate).
SOCIAL_WEIGHT = 0.08  # ✅ and 「役に立った」
RECENCY_WEIGHT = 0.03  # 制度 change every 年度: newer answers first among equals
LOCAL_WEIGHT = 0.2  # the searcher's own prefecture
RECENCY_HALF_LIFE_DAYS = 730.0
SOCIAL_SATURATION = 10  # this many marks count fully


@dataclass(frozen=True)
class Candidate:
    entry_id: int
    search_keys: str
    checks: int
    helpful: int
    answered_at: datetime
    prefecture: str | None


@dataclass(frozen=True)
class Corpus:
    """The counts BM25 needs: entries, their mean length, and how many hold each key."""

    entries: int
    mean_length: float
    holding: Mapping[str, int]

    def idf(self, key: str) -> float:
        held = self.holding.get(key, 0)
        return math.log(1 + (self.entries - held + 0.5) / (held + 0.5))


@dataclass(frozen=True)
class Scored:
    entry_id: int
    score: float
    relevance: float  # text alone, 0..1 against the best candidate
    coverage: float  # share of the query's weight the entry matched


def concept_weight(concept: Concept, corpus: Corpus) -> float:
    own = concept.alternatives[0].keys
    return sum(corpus.idf(k) for k in own) if own else 0.0


@dataclass(frozen=True)
class _Alternative:
    scale: float  # its weight, spread over its keys so a long synonym counts as the query word
    cover: float  # what one matched key adds to the coverage
    keys: tuple[tuple[str, float], ...]  # (" key ", idf): the needle in the padded keys


@dataclass(frozen=True)
class _Concept:
    weight: float
    alternatives: tuple[_Alternative, ...]


def _prepared(concepts: Sequence[Concept], corpus: Corpus) -> tuple[list[_Concept], float]:
    """The query's concepts with their idf computed once, not once per candidate."""
    prepared = [
        _Concept(
            concept_weight(concept, corpus),
            tuple(
                _Alternative(
                    a.weight * concept.size / len(a.keys),
                    a.weight / len(a.keys),
                    tuple((f" {k} ", corpus.idf(k)) for k in a.keys),
                )
                for a in concept.alternatives
                if a.keys
            ),
        )
        for concept in concepts
    ]
    return prepared, sum(c.weight for c in prepared)


def _text_score(
    concepts: Sequence[_Concept], weights: float, padded: str, norm: float, needles: Sequence[str]
) -> tuple[float, float]:
    # Each distinct key counted once (synonyms share keys), then looked up.
    tfs = {needle: tf for needle in needles if (tf := padded.count(needle))}
    if not tfs:
        return 0.0, 0.0
    total = matched = 0.0
    for concept in concepts:
        best = best_cover = 0.0
        for alternative in concept.alternatives:
            score = hits = 0.0
            for needle, idf in alternative.keys:
                tf = tfs.get(needle, 0)
                if tf:
                    hits += 1
                    score += idf * tf * (K1 + 1) / (tf + norm)
            if hits:
                best = max(best, score * alternative.scale)
                best_cover = max(best_cover, hits * alternative.cover)
        total += best
        matched += concept.weight * best_cover
    return total, (matched / weights if weights else 0.0)


class _Keyed(Protocol):
    @property
    def search_keys(self) -> str: ...


Row = TypeVar("Row", bound=_Keyed)


def preselect(rows: Sequence[Row], keys: Sequence[str], corpus: Corpus, *, keep: int) -> list[Row]:
    """The `keep` rows holding the most of the query's rarest keys (weighted by idf): a cheap
    first pass so that BM25 in full runs on a few hundred candidates, not thousands. The rare
    keys carry most of BM25's weight, so the best entries survive it."""
    if len(rows) <= keep:
        return list(rows)
    needles = [(f" {k} ", corpus.idf(k)) for k in keys]
    weighed = [
        (sum(idf for needle, idf in needles if needle in padded), position)
        for position, padded in enumerate(f" {row.search_keys} " for row in rows)
    ]
    weighed.sort(key=lambda item: (-item[0], item[1]))
    return [rows[position] for _, position in weighed[:keep]]


def rank(
    concepts: Sequence[Concept],
    candidates: Sequence[Candidate],
    corpus: Corpus,
    *,
    now: datetime,
    prefecture: str | None,
) -> list[Scored]:
    prepared, weights = _prepared(concepts, corpus)
    needles = sorted({n for c in prepared for a in c.alternatives for n, _ in a.keys})
    mean_length = max(corpus.mean_length, 1.0)
    texts: list[tuple[Candidate, float, float]] = []
    for candidate in candidates:
        length = candidate.search_keys.count(" ") + 1
        norm = K1 * (1 - B + B * length / mean_length)
        text, coverage = _text_score(prepared, weights, f" {candidate.search_keys} ", norm, needles)
        if text > 0 and coverage >= MIN_COVERAGE:
            texts.append((candidate, text, coverage))
    if not texts:
        return []
    best = max(text for _, text, _ in texts)
    scored = [
        Scored(
            candidate.entry_id,
            text / best + _priors(candidate, now=now, prefecture=prefecture),
            text / best,
            coverage,
        )
        for candidate, text, coverage in texts
    ]
    scored.sort(key=lambda s: (-s.score, -s.entry_id))
    return scored


def _priors(candidate: Candidate, *, now: datetime, prefecture: str | None) -> float:
    marks = candidate.checks + candidate.helpful
    social = min(1.0, math.log1p(marks) / math.log1p(SOCIAL_SATURATION))
    age_days = max(0.0, (now - candidate.answered_at).total_seconds() / 86400)
    recency = 0.5 ** (age_days / RECENCY_HALF_LIFE_DAYS)
    local = 1.0 if prefecture and candidate.prefecture == prefecture else 0.0
    return float(SOCIAL_WEIGHT * social + RECENCY_WEIGHT * recency + LOCAL_WEIGHT * local)
