"""Channel figures by category: active, archived, lively and quiet."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bot.domain.statistics import ChannelKindStats
from bot.services.statistics.counting import count_if
from bot.services.statistics.periods import RECENT_WINDOW
from models import Channel, ChannelCategory, ChannelStatus

QUIET_CHANNEL_AFTER = timedelta(days=90)


def by_category(session: Session, *, now: datetime) -> tuple[ChannelKindStats, ...]:
    """Every ChannelCategory, in its order."""
    active = Channel.status == ChannelStatus.ACTIVE
    # A channel without any message seen is as quiet as its age.
    last = func.coalesce(Channel.last_activity_at, Channel.slack_created_at, Channel.created_at)
    found: dict[str, ChannelKindStats] = {}
    for category, n_active, n_archived, lively, quiet in session.execute(
        select(
            Channel.category,
            count_if(active),
            count_if(Channel.status == ChannelStatus.ARCHIVED),
            count_if(and_(active, Channel.last_activity_at >= now - RECENT_WINDOW)),
            count_if(and_(active, last < now - QUIET_CHANNEL_AFTER)),
        ).group_by(Channel.category)
    ):
        key = ChannelCategory(category).value
        found[key] = ChannelKindStats(key, n_active, n_archived, lively, quiet)
    return tuple(found.get(c.value, ChannelKindStats(c.value, 0, 0, 0, 0)) for c in ChannelCategory)
