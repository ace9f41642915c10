"""Measures of a ranking against graded relevance (bench/knowledge.py, and the test that holds
the evaluation set's floor).

    recall@k   share of a query's relevant entries (grade ≥ 1) in its first k results,
               of at most k relevant ones, averaged over queries
    MRR@k      1 / rank of the first entry that answers the query (grade 2) within the first
               k results, 0 when none does, averaged over queries
    zero rate  share of queries with no result at all"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Judged:
    query_id: str
    relevant: Mapping[str, int]  # entry id → grade (2 answers it, 1 partly useful)
    results: Sequence[str]  # entry ids, best first


@dataclass(frozen=True)
class Scores:
    queries: int
    recall_at_5: float
    related_recall_at_5: float
    mrr_at_10: float
    zero_rate: float

    def as_dict(self) -> dict[str, float]:
        return {
            "queries": self.queries,
            "recall@5": round(self.recall_at_5, 4),
            "recall@5 (related)": round(self.related_recall_at_5, 4),
            "MRR@10": round(self.mrr_at_10, 4),
            "zero-result rate": round(self.zero_rate, 4),
        }


def recall_at(judged: Judged, k: int, *, grade: int = 2) -> float:
    relevant = {e for e, g in judged.relevant.items() if g >= grade}
    if not relevant:
        return 0.0
    found = len(relevant & set(judged.results[:k]))
    return found / min(len(relevant), k)


def reciprocal_rank(judged: Judged, k: int) -> float:
    for rank, entry in enumerate(judged.results[:k], start=1):
        if judged.relevant.get(entry, 0) >= 2:
            return 1.0 / rank
    return 0.0


def score(judged: Sequence[Judged]) -> Scores:
    n = len(judged)
    if not n:
        return Scores(0, 0.0, 0.0, 0.0, 0.0)
    return Scores(
        queries=n,
        recall_at_5=sum(recall_at(j, 5) for j in judged) / n,
        related_recall_at_5=sum(recall_at(j, 5, grade=1) for j in judged) / n,
        mrr_at_10=sum(reciprocal_rank(j, 10) for j in judged) / n,
        zero_rate=sum(1 for j in judged if not j.results) / n,
    )


def misses(judged: Sequence[Judged], k: int = 5) -> list[Judged]:
    """Queries whose answer (grade 2) is not in the first k results: what to look at."""
    return [j for j in judged if reciprocal_rank(j, k) == 0.0]
