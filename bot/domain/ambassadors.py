"""What an ambassador's Home section shows, as plain data: for each prefecture they serve,
members, coverage, newcomers, open questions and searches that found nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class UncoveredMunicipality:
    code: str
    name: str
    homepage: str | None


@dataclass(frozen=True)
class Newcomer:
    user_id: str
    joined_at: datetime
    greeted_by: str | None  # the ambassador who claimed the greeting; None: not greeted yet


@dataclass(frozen=True)
class OpenQuestion:
    channel_id: str
    message_ts: str
    user_id: str
    asked_at: datetime
    business_days: int  # 開庁日 since it was asked, without an answer


@dataclass(frozen=True)
class SearchGap:
    query: str  # masked by the privacy gate; never who searched
    times: int


@dataclass(frozen=True)
class PrefectureOverview:
    prefecture: str
    name_en: str | None  # from the master data (the prefecture's own row)
    members: int
    active: int  # seen in the last 30 days, as the statistics count "active"
    municipalities: int
    municipalities_covered: int
    government_covered: bool  # the prefecture's own government has a member
    uncovered: tuple[UncoveredMunicipality, ...]  # the first few, in code order
    newcomers: tuple[Newcomer, ...]  # this month's, the first few
    newcomers_total: int
    newcomers_greeted: int
    questions: tuple[OpenQuestion, ...]  # the oldest few
    questions_total: int
    gaps: tuple[SearchGap, ...]

    @property
    def uncovered_total(self) -> int:
        return self.municipalities - self.municipalities_covered


@dataclass(frozen=True)
class AmbassadorSection:
    prefectures: tuple[PrefectureOverview, ...]
