"""Scheduled work on channels: the registry sync, the weekly dormant-channel round, and the
catch-up of channel requests (unposted reviews, provisioning stopped by a passing error).

Each is a plain function of its collaborators returning what it did; pacing (page size and
seconds between calls) is a parameter so that tests measure it without waiting minutes."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.clock import Clock
from bot.db import SessionFactory
from bot.locale import LocaleResolver
from bot.services.channel_slack import (
    SYNC_PAGE_SIZE,
    TIER2_PACE_SECONDS,
    TIER3_PACE_SECONDS,
    TIER4_PACE_SECONDS,
    ChannelConfig,
    ChannelSlack,
)
from bot.settings import Settings

JobResult = dict[str, Any]


def channel_slack(
    *, session_factory: SessionFactory, clock: Clock, client: WebClient, settings: Settings
) -> ChannelSlack:
    locales = LocaleResolver(
        client=client, session_factory=session_factory, default=settings.default_locale
    )
    return ChannelSlack(
        session_factory=session_factory,
        client=client,
        clock=clock,
        config=ChannelConfig.from_settings(settings),
        language_of=locales.for_user,
    )


def sync_registry(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    client: WebClient,
    settings: Settings,
    page_size: int = SYNC_PAGE_SIZE,
    pace_seconds: float = TIER2_PACE_SECONDS,
) -> JobResult:
    """Every public channel (archived ones too) into the registry, one page per 3 s."""
    slack = channel_slack(
        session_factory=session_factory, clock=clock, client=client, settings=settings
    )
    return slack.sync_registry(page_size=page_size, pace_seconds=pace_seconds)


def dormancy_round(
    *,
    session_factory: SessionFactory,
    clock: Clock,
    client: WebClient,
    settings: Settings,
    history_pace_seconds: float = TIER3_PACE_SECONDS,
    users_pace_seconds: float = TIER4_PACE_SECONDS,
) -> JobResult:
    """Ask about quiet or finished channels, remind once, list for archiving."""
    slack = channel_slack(
        session_factory=session_factory, clock=clock, client=client, settings=settings
    )
    return slack.run_dormancy(
        history_pace_seconds=history_pace_seconds, users_pace_seconds=users_pace_seconds
    )


def catch_up_requests(
    *, session_factory: SessionFactory, clock: Clock, client: WebClient, settings: Settings
) -> JobResult:
    """Post requests that never reached the review channel; finish interrupted provisioning."""
    slack = channel_slack(
        session_factory=session_factory, clock=clock, client=client, settings=settings
    )
    posted = slack.post_unposted()
    retried = slack.retry_unfinished()
    return {**posted, **{f"provision_{k}": v for k, v in retried.items()}}
