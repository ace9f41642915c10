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
        review = RequestReview(wiring, config)
        dormancy_round = DormancyRound(wiring, config)
        return cls(
            receipts=RequestReceipts(wiring, config),
            review=review,
            provisioning=Provisioner(wiring, config, review=review),
            registry=RegistrySync(wiring, config),
            dormancy=dormancy_round,
            answers=DormancyAnswers(wiring, config, dormancy=dormancy_round),
            tools=FacilitatorTools(wiring, config),
        )
