"""Channels the welcome DM suggests, and which of them a member may join from its buttons."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.onboarding import ChannelRef, Suggestions
from models import Channel, ChannelCategory, ChannelStatus, Member, Organisation

MAIN_CHANNELS = 4
REGIONAL_CHANNELS = 2
THEME_CHANNELS = 3
SUGGESTED_CATEGORIES = (ChannelCategory.ALL, ChannelCategory.PJ, ChannelCategory.RE)


def _ref(channel: Channel) -> ChannelRef:
    return ChannelRef(channel.slack_channel_id, channel.name, channel.prefecture)


def _active(category: ChannelCategory) -> Any:
    return select(Channel).where(
        Channel.category == category, Channel.status == ChannelStatus.ACTIVE
    )


def suggestions_for(session: Session, member: Member | None) -> Suggestions:
    """Everyone's channels, the member's prefecture's channel, the liveliest theme channels."""
    main = session.scalars(
        _active(ChannelCategory.ALL)
        .order_by(Channel.is_general.desc(), Channel.name)
        .limit(MAIN_CHANNELS)
    )
    prefecture = _prefecture_of(session, member)
    regional: list[Channel] = []
    if prefecture:
        regional = list(
            session.scalars(
                _active(ChannelCategory.RE)
                .where(Channel.prefecture == prefecture)
                .order_by(Channel.name)
                .limit(REGIONAL_CHANNELS)
            )
        )
    themes = session.scalars(
        _active(ChannelCategory.PJ)
        .order_by(Channel.last_activity_at.desc().nulls_last(), Channel.name)
        .limit(THEME_CHANNELS)
    )
    return Suggestions(
        main=tuple(_ref(c) for c in main),
        regional=tuple(_ref(c) for c in regional),
        themes=tuple(_ref(c) for c in themes),
    )


def _prefecture_of(session: Session, member: Member | None) -> str | None:
    if member is None or member.organisation_id is None:
        return None
    organisation = session.get(Organisation, member.organisation_id)
    return organisation.prefecture if organisation is not None else None


def joinable_channel(
    session: Session, slack_channel_id: str, *, excluded: tuple[str, ...] = ()
) -> ChannelRef | None:
    """A channel a member may join from a suggestion button (never the review channel)."""
    if slack_channel_id in excluded:
        return None
    channel = session.scalar(
        select(Channel).where(
            Channel.slack_channel_id == slack_channel_id,
            Channel.status == ChannelStatus.ACTIVE,
            Channel.category.in_(SUGGESTED_CATEGORIES),
        )
    )
    return _ref(channel) if channel is not None else None
