"""Plain data of the 異動 season, shared by its use cases and views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from models import SeasonAnswerKind


@dataclass(frozen=True)
class SeasonBanner:
    """What App Home shows during the season's window: the question and the member's answer."""

    season: int  # the year of the April it asks about
    effective_on: date  # April 1 of that year
    window_ends: date
    answer: SeasonAnswerKind | None  # None: not answered yet
    move_confirmed: bool  # a move confirmed since the answer (MOVING only)


class AnswerOutcome(StrEnum):
    RECORDED = "recorded"  # the answer is new or changed
    UNCHANGED = "unchanged"  # the same answer again (a double click)
    NOT_YOURS = "not_yours"  # the button names another member
    CLOSED = "closed"  # the button names nothing known, or another season


@dataclass(frozen=True)
class SeasonAnswered:
    """A press of one of the survey's buttons, as recorded."""

    outcome: AnswerOutcome
    season: int | None = None
    answer: SeasonAnswerKind | None = None
