"""The secretariat's figures on ambassadors, as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class CoverageChange:
    prefecture: str
    since: date  # the earliest serving appointment's first day
    at_start: int  # municipalities with a member then
    now: int


@dataclass(frozen=True)
class AmbassadorFigures:
    by_region: tuple[tuple[str, int], ...]  # (region key, ambassadors serving), national order
    prefectures_without: tuple[str, ...]  # neither their own nor their region's ambassador
    greetings_claimed: int  # cards claimed in the last 30 days
    greetings_open: int  # cards waiting for a claim now
    median_hours_to_greet: float | None
    coverage: tuple[CoverageChange, ...]  # prefectures with their own ambassador

    @property
    def ambassadors(self) -> int:
        return sum(count for _, count in self.by_region)
