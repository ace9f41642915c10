"""Channels' Slack adapters, built once by bot/gateway.py: the request receipts, the review
message and the requester's DMs, provisioning, the registry sync, the dormancy round and its
answers, and the facilitators' tools."""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.channels.archiving import DormancyAnswers
from bot.slack.channels.base import ChannelConfig
from bot.slack.channels.dormancy import DormancyRound
from bot.slack.channels.facilitation import FacilitatorTools
from bot.slack.channels.provisioning import Provisioner
from bot.slack.channels.registry import RegistrySync
from bot.slack.channels.requests import RequestReceipts
from bot.slack.channels.review import RequestReview
from bot.slack.wiring import SlackWiring


@dataclass(frozen=True)
class ChannelsSlack:
    receipts: RequestReceipts
    review: RequestReview
    provisioning: Provisioner
    registry: RegistrySync
    dormancy: DormancyRound
    answers: DormancyAnswers
    tools: FacilitatorTools

    @classmethod
    def build(cls, wiring: SlackWiring) -> ChannelsSlack:
        config = ChannelConfig.from_settings(wiring.settings)
        review = RequestReview(
            session_factory=wiring.session_factory,
            client=wiring.client,
            config=config,
            language_of=wiring.locales.for_user,
        )
        dormancy_round = DormancyRound(
            session_factory=wiring.session_factory,
            client=wiring.client,
            clock=wiring.clock,
            config=config,
            language_of=wiring.locales.for_user,
        )
        return cls(
            receipts=RequestReceipts(client=wiring.client, language_of=wiring.locales.for_user),
            review=review,
            provisioning=Provisioner(
                session_factory=wiring.session_factory,
                client=wiring.client,
                clock=wiring.clock,
                config=config,
                review=review,
            ),
            registry=RegistrySync(
                session_factory=wiring.session_factory, client=wiring.client, clock=wiring.clock
            ),
            dormancy=dormancy_round,
            answers=DormancyAnswers(
                session_factory=wiring.session_factory,
                client=wiring.client,
                clock=wiring.clock,
                config=config,
                dormancy=dormancy_round,
            ),
            tools=FacilitatorTools(
                session_factory=wiring.session_factory,
                client=wiring.client,
                clock=wiring.clock,
                config=config,
            ),
        )
