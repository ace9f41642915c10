"""The 異動 season's days: its window, the survey's day and the reminders' day, from
KYOSO_TRANSFER_SEASON, KYOSO_TRANSFER_SURVEY_DAY and KYOSO_TRANSFER_REMINDER_DAY (MM-DD)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.settings import CoreSettings

MonthDay = tuple[int, int]


def month_day(text: str) -> MonthDay:
    parsed = date.fromisoformat(f"2001-{text.strip()}")  # ValueError when not a day
    return parsed.month, parsed.day


@dataclass(frozen=True)
class SeasonCalendar:
    """A season is named by the year of the April it asks about. The window may run over the
    new year (e.g. 12-01..05-31): its days before January then belong to the next season."""

    starts: MonthDay = (3, 1)
    ends: MonthDay = (5, 31)
    survey_day: MonthDay = (3, 15)
    reminder_day: MonthDay = (4, 8)

    @classmethod
    def from_settings(cls, settings: CoreSettings) -> SeasonCalendar:
        starts, ends = settings.transfer_season.split("..")
        return cls(
            starts=month_day(starts),
            ends=month_day(ends),
            survey_day=month_day(settings.transfer_survey_day),
            reminder_day=month_day(settings.transfer_reminder_day),
        )

    @property
    def _wraps(self) -> bool:
        return self.starts > self.ends

    def _day(self, season: int, day: MonthDay) -> date:
        year = season - 1 if self._wraps and day >= self.starts else season
        return date(year, *day)

    def season_on(self, day: date) -> int | None:
        """The season whose window holds `day`, None outside every window."""
        today = (day.month, day.day)
        if not self._wraps:
            return day.year if self.starts <= today <= self.ends else None
        if today >= self.starts:
            return day.year + 1
        return day.year if today <= self.ends else None

    def season_at(self, now: datetime, zone: ZoneInfo) -> int | None:
        return self.season_on(now.astimezone(zone).date())

    def window(self, season: int) -> tuple[date, date]:
        return self._day(season, self.starts), self._day(season, self.ends)

    def survey_on(self, season: int) -> date:
        return self._day(season, self.survey_day)

    def reminders_from(self, season: int) -> date:
        return self._day(season, self.reminder_day)


def effective_on(season: int) -> date:
    """The day people move: April 1."""
    return date(season, 4, 1)


def last_day_before(season: int) -> date:
    """A fixed-term appointment ends on March 31."""
    return date(season, 3, 31)
