"""The secretariat toolkit's Slack adapters, built once by bot/gateway.py."""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.wiring import SlackWiring


@dataclass(frozen=True)
class SecretariatSlack:
    wiring: SlackWiring

    @classmethod
    def build(cls, wiring: SlackWiring) -> SecretariatSlack:
        return cls(wiring=wiring)
