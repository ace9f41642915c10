"""Small Block Kit pieces the onboarding messages share, cut to Slack's limits."""

from __future__ import annotations

from bot.domain.onboarding import ChannelRef

MESSAGE_BLOCKS_MAX = 50


def channel_link(ref: ChannelRef | str) -> str:
    return f"<#{ref.slack_channel_id if isinstance(ref, ChannelRef) else ref}>"
