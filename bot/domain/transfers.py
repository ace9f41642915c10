"""Plain data about people moving, shared by the transfer use cases and the views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.domain.transfers_season import SeasonBanner


@dataclass(frozen=True)
class MonthFigures:
    month: str  # "2027-04" in the secretariat's zone
    confirmed_moves: int
    leavers: int


@dataclass(frozen=True)
class TransferFigures:
    """The secretariat's view of people moving: what waits, what happened month by month, and
    whose affiliation nobody has confirmed."""

    pending_moves: int  # awaiting the member's confirmation or the secretariat's decision
    # (a SCHEDULED move waits for neither: it counts as confirmed in the month it applies)
    scheduled_leavers: int  # a last day ahead
    months: tuple[MonthFigures, ...]  # oldest first, the current month last
    unverified: tuple[tuple[str, int], ...]  # (prefecture, members), most first
    unverified_total: int


@dataclass(frozen=True)
class MemberTransfers:
    """What a member's Home shows about their own move or departure."""

    move_awaiting: bool = False  # a confirmation mail is out
    move_in_review: bool = False
    move_scheduled_on: date | None = None  # a confirmed move applies on this day
    last_day: date | None = None  # a departure is scheduled
    season: SeasonBanner | None = None  # the 異動 season's question, during its window
