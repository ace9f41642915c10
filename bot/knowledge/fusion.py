"""Reciprocal rank fusion: several rankings of the same ids made into one.

Only ranks count, never the rankers' scores, so a text search's scores and a cosine can be
combined without calibrating one against the other (Cormack et al., 2009)."""

from __future__ import annotations

import math
from collections.abc import Sequence

DEFAULT_K = 60  # the paper's constant: damps the weight of the very first ranks


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]],
    *,
    k: int = DEFAULT_K,
    weights: Sequence[float] | None = None,
) -> list[int]:
    """Ids ordered by the sum over rankings of weight / (k + rank), rank counted from 1.

    An id repeated within a ranking counts once, at its first place, and ranks are counted
    over distinct ids. Equal sums keep the order in which the ids first appear, reading the
    first ranking first."""
    if k < 0:
        raise ValueError("k must not be negative")
    if weights is None:
        weights = [1.0] * len(rankings)
    elif len(weights) != len(rankings):
        raise ValueError("one weight per ranking")

    contributions: dict[int, list[float]] = {}  # insertion order is first appearance
    for ranking, weight in zip(rankings, weights, strict=True):
        distinct = dict.fromkeys(ranking)  # a repeat neither counts nor pushes others down
        for rank, item in enumerate(distinct, start=1):
            contributions.setdefault(item, []).append(weight / (k + rank))

    # fsum is exact, so equal contributions in another order still make an exact tie.
    scores = {item: math.fsum(parts) for item, parts in contributions.items()}
    return sorted(scores, key=lambda item: -scores[item])  # sorted() is stable
