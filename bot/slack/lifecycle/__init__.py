"""The account lifecycle's Slack adapters, built once by bot/gateway.py: the contact sender
(a fresh one per run), the directory reads (users.list, team.accessLogs), deactivation (a fresh
deactivator per batch), and the messages to the secretariat."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.lifecycle.policy import Policy
from bot.slack.lifecycle.contacts import ContactSenders
from bot.slack.lifecycle.deactivator import Deactivators
from bot.slack.lifecycle.directory import SlackDirectory
from bot.slack.lifecycle.messages import LifecycleMessages
from bot.slack.wiring import SlackWiring


@dataclass(frozen=True)
class LifecycleSlack:
    policy: Policy
    contacts: ContactSenders
    directory: SlackDirectory
    deactivators: Deactivators
    messages: LifecycleMessages

    @classmethod
    def build(cls, wiring: SlackWiring) -> LifecycleSlack:
        return cls(
            policy=Policy.from_settings(wiring.settings),
            contacts=ContactSenders(wiring),
            directory=SlackDirectory(wiring),
            deactivators=Deactivators(wiring),
            messages=LifecycleMessages(
                client=wiring.client,
                review_channel=wiring.settings.review_channel,
                language=wiring.settings.default_locale,
            ),
        )
