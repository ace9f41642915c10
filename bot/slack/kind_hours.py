"""Kind hours: one policy for every DM Kyoso starts on its own (onboarding reminders and
nudges, rules re-asks, inactivity contacts, the 異動 season, announcements).

A DM goes out only
- on 開庁日 between 9:00 and 17:00 in KYOSO_TIMEZONE (bot/services/lifecycle/policy.py
  `in_contact_hours`),
- outside the member's do-not-disturb (dnd.info),
- when the member's Slack status does not say they are away (bot/away_status.py).

An away member's DM is postponed, never dropped: until the status expires
(`status_expiration`), else to the next business morning, when the status is read again.
The status comes from users.info, one call per DM (Tier 4, ~100/min: above every sender's pace).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.away_status import AwayStatus
from bot.business_days import is_business_day
from bot.services.lifecycle.contacts import dnd_ends
from bot.services.lifecycle.policy import CONTACT_HOURS, in_contact_hours
from bot.settings import Settings
from bot.slack_errors import SLACK_CALL_ERRORS, error_code

log = logging.getLogger(__name__)


def next_business_morning(now: datetime, zone: ZoneInfo) -> datetime:
    """The start of contact hours on the next 開庁日 after `now`'s day."""
    day = now.astimezone(zone).date() + timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, CONTACT_HOURS[0], tzinfo=zone)


@dataclass(frozen=True)
class KindHours:
    zone: ZoneInfo
    away: AwayStatus

    @classmethod
    def from_settings(cls, settings: Settings) -> KindHours:
        return cls(
            zone=settings.zone,
            away=AwayStatus.of(settings.away_status_words, settings.away_status_emoji),
        )

    def in_hours(self, now: datetime) -> bool:
        return in_contact_hours(now, self.zone)

    def away_until(self, user: Mapping[str, Any], *, now: datetime) -> datetime | None:
        """When to look again, if the user object's status says the member is away now."""
        profile = user.get("profile") or {}
        if not self.away.says_away(profile):
            return None
        return AwayStatus.expires_at(profile, now=now) or next_business_morning(now, self.zone)

    def postponed_until(
        self,
        client: WebClient,
        slack_user_id: str,
        *,
        now: datetime,
        user: Mapping[str, Any] | None = None,
    ) -> datetime | None:
        """For a sender of its own (not PacedDMSender): when to try again, or None to send
        now. Slack refusing to answer does not hold a DM back; the post will tell."""
        if not self.in_hours(now):
            return now  # the next run in hours sends it
        try:
            if user is None:
                user = client.users_info(user=slack_user_id)["user"]
            until = self.away_until(user, now=now)
            if until is not None:
                return until
            answer = client.dnd_info(user=slack_user_id).data
        except SLACK_CALL_ERRORS as exc:
            log.info("kind hours for %s: %s; sending anyway", slack_user_id, error_code(exc))
            return None
        return dnd_ends(answer if isinstance(answer, dict) else {}, now=now)
