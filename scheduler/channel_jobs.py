"""Scheduled work on channels: the registry sync, the weekly dormant-channel round, and the
catch-up of channel requests (unposted reviews, provisioning stopped by a passing error).

Each is a plain function of the channel adapters the composition root built, returning what
it did; pacing (page size and seconds between calls) is a parameter so that tests measure it
without waiting minutes."""

from __future__ import annotations

from typing import Any

from bot.slack.channels import ChannelsSlack
from bot.slack.channels.base import TIER2_PACE_SECONDS, TIER3_PACE_SECONDS, TIER4_PACE_SECONDS
from bot.slack.channels.registry import SYNC_PAGE_SIZE

JobResult = dict[str, Any]


def sync_registry(
    channels: ChannelsSlack,
    *,
    page_size: int = SYNC_PAGE_SIZE,
    pace_seconds: float = TIER2_PACE_SECONDS,
) -> JobResult:
    """Every public channel (archived ones too) into the registry, one page per 3 s."""
    return channels.registry.sync(page_size=page_size, pace_seconds=pace_seconds)


def dormancy_round(
    channels: ChannelsSlack,
    *,
    history_pace_seconds: float = TIER3_PACE_SECONDS,
    users_pace_seconds: float = TIER4_PACE_SECONDS,
) -> JobResult:
    """Ask about quiet or finished channels, remind once, list for archiving."""
    return channels.dormancy.run(
        history_pace_seconds=history_pace_seconds, users_pace_seconds=users_pace_seconds
    )


def catch_up_requests(channels: ChannelsSlack) -> JobResult:
    """Post requests that never reached the review channel; finish interrupted provisioning."""
    posted = channels.review.post_unposted()
    retried = channels.provisioning.retry_unfinished()
    return {**posted, **{f"provision_{k}": v for k, v in retried.items()}}
