"""Moderation's Slack adapters: the case alerts, the effects of a decision, the detectors'
replies. Built once by bot/gateway.py."""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.moderation.alerts import CaseAlerts
from bot.slack.moderation.calls import Permalinks
from bot.slack.moderation.detection import Detectors
from bot.slack.moderation.effects import CaseEffects
from bot.slack.wiring import SlackWiring


@dataclass(frozen=True)
class ModerationSlack:
    alerts: CaseAlerts
    effects: CaseEffects
    detectors: Detectors

    @classmethod
    def build(cls, wiring: SlackWiring) -> ModerationSlack:
        permalinks = Permalinks(wiring.client)
        alerts = CaseAlerts(wiring, permalinks=permalinks)
        return cls(
            alerts=alerts,
            effects=CaseEffects(wiring, permalinks=permalinks, alerts=alerts),
            detectors=Detectors(wiring, alerts=alerts),
        )
