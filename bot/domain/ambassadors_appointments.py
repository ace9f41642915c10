"""Plain data of the secretariat's appointments, shared by the use cases and the views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# An appointment's term: at most four years (the platform's terms are one or two).
MAX_TERM_YEARS = 4
ROSTER_PAGE_SIZE = 10


class AppointmentInvalid(ValueError):
    """What is wrong with an appointment, per field (member, area, starts_on, ends_on):
    codes the views turn into words."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(problems)
        self.problems = problems


class UnknownAppointment(LookupError):
    """No such appointment."""


@dataclass(frozen=True)
class RosterLine:
    public_id: str
    slack_user_id: str
    prefectures: tuple[str, ...]
    region: str | None
    starts_on: date
    ends_on: date
    active: bool  # not ended (serving, or starting later)
    end_reason: str | None  # ended | term | departure


@dataclass(frozen=True)
class RosterPage:
    today: date
    lines: tuple[RosterLine, ...]
    offset: int
    total: int
    serving: int  # appointments running today

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.lines) < self.total


@dataclass(frozen=True)
class TermReminder:
    """A term ending within a month, for the secretariat's review channel."""

    public_id: str
    slack_user_id: str
    prefectures: tuple[str, ...]
    region: str | None
    ends_on: date
    previous_reminder: date | None  # what reminded_for held before this claim
