"""Ambassadors' Slack adapters, built once by bot/gateway.py."""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.ambassadors.appointments import AppointmentsSlack
from bot.slack.ambassadors.greetings import GreetingCards
from bot.slack.ambassadors.home import AmbassadorHomeSlack
from bot.slack.wiring import SlackWiring


@dataclass(frozen=True)
class AmbassadorsSlack:
    wiring: SlackWiring
    greetings: GreetingCards
    home: AmbassadorHomeSlack
    appointments: AppointmentsSlack

    @classmethod
    def build(cls, wiring: SlackWiring) -> AmbassadorsSlack:
        return cls(
            wiring=wiring,
            greetings=GreetingCards(wiring),
            home=AmbassadorHomeSlack(wiring),
            appointments=AppointmentsSlack(wiring),
        )
