"""The channels each guest on the secretariat's App Home is in: users.conversations for the
few guests shown (GUESTS_SHOWN, Tier 3), best effort. Asking Slack when the Home is opened
keeps no copy of channel memberships to go stale; the Home shows only a handful of guests."""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.domain.secretariat_guests import Guest, GuestList
from bot.slack.wiring import SlackAdapter
from bot.slack_errors import SLACK_CALL_ERRORS, error_code

log = logging.getLogger(__name__)

CHANNELS_PER_GUEST = 20


class GuestChannels(SlackAdapter):
    def with_channels(self, guests: GuestList) -> GuestList:
        return replace(guests, shown=tuple(self._channels(g) for g in guests.shown))

    def _channels(self, guest: Guest) -> Guest:
        try:
            answer = self._client.users_conversations(
                user=guest.slack_user_id,
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=CHANNELS_PER_GUEST,
            )
        except SLACK_CALL_ERRORS as exc:
            log.info("users.conversations for %s: %s", guest.slack_user_id, error_code(exc))
            return guest
        names = tuple(str(ch.get("name") or ch["id"]) for ch in answer.get("channels") or [])
        return replace(guest, channels=names)
