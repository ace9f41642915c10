"""Knowledge's plain data: what the use cases return and the views show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models import EntryKind


@dataclass(frozen=True)
class FoundEntry:
    entry_id: int
    kind: EntryKind
    title: str
    snippet: str  # Slack mrkdwn, matches in bold, personal values already masked at storage
    channel_id: str | None
    thread_ts: str | None
    answer_ts: str | None
    answered_at: datetime
    checks: int
    helpful: int
    score: float
    relevance: float  # text alone, 0..1 against the best result


@dataclass(frozen=True)
class SearchPage:
    query: str
    hits: tuple[FoundEntry, ...]
    offset: int
    total: int  # results found (at most the search's cap)

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.hits) < self.total


@dataclass(frozen=True)
class EntrySummary:
    """One line of a list (/kyoso forget, the secretariat's view)."""

    entry_id: int
    kind: EntryKind
    title: str
    channel_id: str | None
    answered_at: datetime
