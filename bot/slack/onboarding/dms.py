"""Onboarding's DMs after the welcome (rules re-asks, the introduction reminder, profile
nudges): paced, in the member's language, each claimed by its job before it is sent."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.db import SessionFactory
from bot.i18n import Language, as_language
from bot.locale import LocaleResolver
from bot.services import members
from bot.slack.kind_hours import KindHours
from bot.slack_errors import error_code

log = logging.getLogger(__name__)

# One DM a second: ~60 users.info + ~60 chat.postMessage a minute at most.
DM_PACE_SECONDS = 1.0
# What Slack refused, once slack_sdk's retries are spent; a job's own failures surface.
_REFUSED = (SlackApiError, SlackClientError)


@dataclass(frozen=True)
class OnboardingDMs:
    client: WebClient
    session_factory: SessionFactory
    locales: LocaleResolver
    intro_channel: str | None
    kind_hours: KindHours

    def slack_user(
        self, slack_user_id: str, *, refused: tuple[type[Exception], ...] = _REFUSED
    ) -> dict[str, Any] | None:
        """Slack's user object (users.info), or None when Slack refused."""
        try:
            answer = self.client.users_info(user=slack_user_id, include_locale=True)
        except refused as exc:
            log.warning("users.info failed for %s: %s", slack_user_id, error_code(exc))
            return None
        user: dict[str, Any] = answer["user"]
        return user

    def with_email(self, user: members.SlackUser) -> members.SlackUser:
        """A team_join carries the email with `users:read.email`; otherwise ask users.info
        (best effort: the join is recorded whatever Slack answers)."""
        if user.email or user.is_bot:
            return user
        info = self.slack_user(user.user_id, refused=(*_REFUSED, OSError))
        return members.SlackUser.from_payload(info) if info is not None else user

    def language(self, slack_user_id: str, slack_user: dict[str, Any] | None = None) -> Language:
        """The stored choice, else the locale of a user object at hand, else the resolver's."""
        if slack_user is not None:
            with self.session_factory() as session:
                member = members.find(session, slack_user_id)
                stored = member.locale if member is not None else None
            return as_language(stored or slack_user.get("locale"), self.locales.default)
        return self.locales.for_user(slack_user_id)

    def messenger(
        self, *, pause: Callable[[float], None] = time.sleep, pace_seconds: float | None = None
    ) -> Messenger:
        """A sender for one job run: it paces its DMs and counts them."""
        return Messenger(self, pause=pause, pace_seconds=pace_seconds)


@dataclass
class Messenger:
    dms: OnboardingDMs
    pause: Callable[[float], None] = time.sleep
    pace_seconds: float | None = None
    sent: int = 0
    failed: int = 0

    @property
    def intro_channel(self) -> str | None:
        return self.dms.intro_channel

    def language(self, slack_user_id: str, slack_user: dict[str, Any] | None = None) -> Language:
        return self.dms.language(slack_user_id, slack_user)

    def slack_user(self, slack_user_id: str) -> dict[str, Any] | None:
        return self.dms.slack_user(slack_user_id)

    def in_hours(self, now: datetime) -> bool:
        return self.dms.kind_hours.in_hours(now)

    def postponed(
        self, slack_user_id: str, *, now: datetime, user: dict[str, Any] | None = None
    ) -> bool:
        """Kind hours: the member is in do-not-disturb or away; the DM stays due (unclaimed)
        and a later run sends it."""
        kind = self.dms.kind_hours
        return kind.postponed_until(self.dms.client, slack_user_id, now=now, user=user) is not None

    def send(self, slack_user_id: str, blocks: list[dict[str, Any]], text: str) -> bool:
        if self.sent or self.failed:
            self.pause(DM_PACE_SECONDS if self.pace_seconds is None else self.pace_seconds)
        try:
            self.dms.client.chat_postMessage(
                channel=slack_user_id, blocks=blocks, text=text, unfurl_links=False
            )
        except _REFUSED as exc:
            # Claimed already: not retried, so a member is never told twice.
            self.failed += 1
            log.warning("DM to %s failed: %s", slack_user_id, error_code(exc))
            return False
        self.sent += 1
        return True
