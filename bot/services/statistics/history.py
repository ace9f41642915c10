"""Members and active members week by week, for the weekly report's chart."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.domain.statistics import Headline, HistoryPoint
from bot.services.statistics import members
from bot.services.statistics.periods import start_of, week_start, week_starts
from bot.services.statistics.snapshots import snapshots

HISTORY_WEEKS = 26


def history(
    session: Session,
    *,
    now: datetime,
    zone: ZoneInfo,
    current: Headline,
    weeks: int = HISTORY_WEEKS,
) -> list[HistoryPoint]:
    """Members and active members week by week: snapshots where the weekly report recorded
    them, estimates from join dates elsewhere, and today's figures as the last point."""
    recorded = {
        week_start(at, zone): headline
        for at, headline in snapshots(
            session, since=start_of(week_starts(now, zone, weeks)[0], zone)
        )
    }
    this_week = week_start(now, zone)
    points = []
    for day, estimate in members.estimates(session, now=now, zone=zone, weeks=weeks):
        if day == this_week:
            continue  # today's figures stand for this week
        snapshot = recorded.get(day)
        if snapshot is not None:
            points.append(HistoryPoint(day, snapshot.members, snapshot.active_30d, False))
        else:
            points.append(HistoryPoint(day, estimate, None, True))
    today = now.astimezone(zone).date()
    points.append(HistoryPoint(today, current.members, current.active_30d, False))
    return points
