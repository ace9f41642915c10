"""Weeks and windows in the report's time zone: what "this week" and "the last 30 days" mean."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ACTIVE_WINDOW = timedelta(days=30)
RECENT_WINDOW = timedelta(days=30)  # "in the last 30 days" for cases, applications, channels


def week_start(at: datetime, zone: ZoneInfo) -> date:
    """The Monday of `at`'s week in `zone`."""
    day = at.astimezone(zone).date()
    return day - timedelta(days=day.weekday())


def start_of(day: date, zone: ZoneInfo) -> datetime:
    """Midnight of `day` in `zone`, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def week_key(at: datetime, zone: ZoneInfo) -> str:
    """ISO week in `zone`, e.g. "2026-W48": one weekly report and snapshot per key."""
    year, week, _ = at.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def week_starts(now: datetime, zone: ZoneInfo, weeks: int) -> list[date]:
    """The Mondays of the last `weeks` weeks, oldest first; the last is this week's."""
    current = week_start(now, zone)
    return [current - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]
