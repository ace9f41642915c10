"""What every channel adapter shares: its base (the wiring and the workspace's channel
settings), pacing for Slack's rate tiers, and a DM that a refusal does not turn into a
failure."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.clock import Clock
from bot.i18n import Language
from bot.settings import Settings
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.slack_errors import SLACK_CALL_ERRORS, error_code

log = logging.getLogger(__name__)

TIER2_PACE_SECONDS = 3.0  # 20 calls a minute
TIER3_PACE_SECONDS = 1.2  # 50 calls a minute
TIER4_PACE_SECONDS = 0.6  # 100 calls a minute (users.info)


@dataclass(frozen=True)
class ChannelConfig:
    review_channel: str | None
    announce_channel: str | None
    language: Language  # the workspace's: the secretariat and shared channels read it
    zone: ZoneInfo
    dormant_days: int = 90
    # Channels Kyoso itself relies on: never asked about, never archived.
    kyoso_channels: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> ChannelConfig:
        own = (
            settings.review_channel,
            settings.intro_channel,
            settings.announce_channel,
            *settings.invite_channel_ids,
        )
        return cls(
            review_channel=settings.review_channel,
            announce_channel=settings.announce_channel,
            language=settings.default_locale,
            zone=settings.zone,
            dormant_days=settings.dormant_days,
            kyoso_channels=tuple(c for c in own if c),
        )

    def today(self, clock: Clock) -> date:
        return clock.now().astimezone(self.zone).date()


class ChannelAdapter(SlackAdapter):
    """A channel adapter: the wiring's pieces and the channel settings, read once by
    ChannelsSlack.build."""

    def __init__(self, wiring: SlackWiring, config: ChannelConfig) -> None:
        super().__init__(wiring)
        self._config = config


class Pacer:
    """At least `interval` seconds between the starts of consecutive calls."""

    def __init__(
        self,
        interval: float,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._sleep = sleep
        self._monotonic = monotonic
        self._last: float | None = None

    def wait(self) -> None:
        now = self._monotonic()
        if self._last is not None:
            remaining = self._last + self.interval - now
            if remaining > 0:
                self._sleep(remaining)
                now = self._monotonic()
        self._last = now


def send_dm(client: WebClient, user_id: str, blocks: list[dict[str, Any]], text: str) -> bool:
    """A DM whose loss is logged, not raised: the flow it belongs to goes on."""
    try:
        client.chat_postMessage(channel=user_id, blocks=blocks, text=text, unfurl_links=False)
    except SLACK_CALL_ERRORS as exc:
        log.warning("DM to %s failed: %s", user_id, error_code(exc))
        return False
    return True
