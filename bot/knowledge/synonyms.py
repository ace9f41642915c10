"""Synonym groups and how a query grows with them.

A query is a list of concepts. A word of the query that belongs to a group becomes one concept
whose alternatives are the keys of every term of the group (ガバクラ → ガバクラ or ガバメントク
ラウド): an entry scores for the best-matching alternative, never twice for saying both. The
other keys of the query are concepts of one key each."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from bot.knowledge.tokens import folded, keys

SHIPPED_FILE = "knowledge-synonyms.txt"
_SEPARATORS = re.compile(r"[,、，⇔＝=]")
MAX_TERM = 40
MAX_GROUP = 12


@dataclass(frozen=True)
class Alternative:
    keys: tuple[str, ...]
    weight: float  # 1 for the query's own words, less for a synonym


@dataclass(frozen=True)
class Concept:
    alternatives: tuple[Alternative, ...]

    @property
    def size(self) -> int:
        """How many keys of the query it stands for: its weight in the query."""
        return len(self.alternatives[0].keys)


SYNONYM_WEIGHT = 0.85


def parse_groups(text: str) -> list[tuple[str, ...]]:
    """Groups from the editable text form: one per line, terms separated by commas (or 、⇔).
    Blank lines and # comments are skipped; a group needs two different terms."""
    groups: list[tuple[str, ...]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        terms: list[str] = []
        for raw in _SEPARATORS.split(line):
            term = " ".join(raw.split())[:MAX_TERM]
            if term and folded(term) not in {folded(t) for t in terms} and keys(term):
                terms.append(term)
        if len(terms) >= 2:
            groups.append(tuple(terms[:MAX_GROUP]))
    return groups


def format_groups(groups: Iterable[Sequence[str]]) -> str:
    return "\n".join(", ".join(group) for group in groups)


def shipped_groups() -> list[tuple[str, ...]]:
    return list(_shipped())


@lru_cache(maxsize=1)
def _shipped() -> tuple[tuple[str, ...], ...]:
    """Read once: the shipped list changes only with an upgrade."""
    text = resources.files("bot.data").joinpath(SHIPPED_FILE).read_text(encoding="utf-8")
    return tuple(parse_groups(text))


class Thesaurus:
    """Groups ready for matching against queries. A term is found in a query when its keys
    appear there in a row: so 引っ越し also matches 引っ越す and 申込 matches 申し込み (the
    keys fold okurigana and kana), and a Latin term only matches whole words."""

    def __init__(self, groups: Iterable[Sequence[str]]) -> None:
        self.groups = [tuple(g) for g in groups]
        self._terms: list[tuple[tuple[str, ...], int]] = []  # (the term's keys, its group)
        for index, group in enumerate(self.groups):
            for term in group:
                term_keys = tuple(keys(term))
                if term_keys:
                    self._terms.append((term_keys, index))
        # Longest first: マイナンバーカード before マイナ.
        self._terms.sort(key=lambda item: -len(item[0]))
        self._group_keys = [[tuple(keys(term)) for term in group] for group in self.groups]

    def concepts(self, query: str) -> list[Concept]:
        query_keys = keys(query)
        taken = [False] * len(query_keys)
        concepts: list[Concept] = []
        matched_groups: set[int] = set()
        for term_keys, index in self._terms:
            if index in matched_groups:
                continue
            start = _find(query_keys, term_keys, taken)
            if start is None:
                continue
            matched_groups.add(index)
            for i in range(start, start + len(term_keys)):
                taken[i] = True
            alternatives = [Alternative(term_keys, 1.0)]
            alternatives += [
                Alternative(other, SYNONYM_WEIGHT)
                for other in self._group_keys[index]
                if other and other != term_keys
            ]
            concepts.append(Concept(tuple(alternatives)))
        concepts += [
            Concept((Alternative((key,), 1.0),))
            for key, used in zip(query_keys, taken, strict=True)
            if not used
        ]
        return concepts


def _find(query_keys: Sequence[str], term_keys: Sequence[str], taken: Sequence[bool]) -> int | None:
    n = len(term_keys)
    for start in range(len(query_keys) - n + 1):
        if tuple(query_keys[start : start + n]) == tuple(term_keys) and not any(
            taken[start : start + n]
        ):
            return start
    return None


def plain_concepts(query: str) -> list[Concept]:
    """The query without synonyms: one concept per key."""
    return [Concept((Alternative((key,), 1.0),)) for key in keys(query)]
