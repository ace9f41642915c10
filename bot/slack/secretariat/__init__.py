"""The secretariat toolkit's Slack adapters, built once by bot/gateway.py."""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.secretariat.announcements import AnnouncementSlack
from bot.slack.secretariat.guests import GuestChannels
from bot.slack.wiring import SlackWiring


@dataclass(frozen=True)
class SecretariatSlack:
    wiring: SlackWiring
    announcements: AnnouncementSlack
    guests: GuestChannels

    @classmethod
    def build(cls, wiring: SlackWiring) -> SecretariatSlack:
        return cls(
            wiring=wiring, announcements=AnnouncementSlack(wiring), guests=GuestChannels(wiring)
        )
