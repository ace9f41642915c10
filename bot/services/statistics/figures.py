"""Every figure at once: what `/kyoso stats`, the dashboard, the report and the export show."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.domain.statistics import Statistics
from bot.services.statistics import applications, channels, coverage, members, moderation
from bot.services.statistics.periods import RECENT_WINDOW


def compute(session: Session, *, now: datetime, zone: ZoneInfo) -> Statistics:
    """All figures, in a dozen aggregate queries whatever the number of members."""
    recent_since = now - RECENT_WINDOW
    members_by_kind = members.by_kind(session, now=now)
    prefectures, municipalities = coverage.by_prefecture(session)
    agencies, agencies_covered = coverage.agencies(session)
    return Statistics(
        generated_at=now,
        members=sum(k.members for k in members_by_kind),
        active_30d=sum(k.active_30d for k in members_by_kind),
        members_by_status=members.by_status(session),
        members_by_kind=members_by_kind,
        local_governments=sum(p.local_governments for p in prefectures),
        local_governments_covered=sum(p.covered for p in prefectures),
        municipalities=municipalities[0],
        municipalities_covered=municipalities[1],
        agencies=agencies,
        agencies_covered=agencies_covered,
        coverage_by_prefecture=prefectures,
        new_members_by_week=members.new_by_week(session, now=now, zone=zone),
        new_members_7d=members.new_in_last_week(session, now=now),
        channels=channels.by_category(session, now=now),
        moderation=moderation.figures(session, since=recent_since),
        applications=applications.figures(session, since=recent_since),
    )
