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
        alerts = CaseAlerts(
            session_factory=wiring.session_factory,
            client=wiring.client,
            review_channel=wiring.settings.review_channel,
            language=wiring.settings.default_locale,
            permalinks=permalinks,
        )
        return cls(
            alerts=alerts,
            effects=CaseEffects(
                session_factory=wiring.session_factory,
                clock=wiring.clock,
                client=wiring.client,
                admin_client=wiring.admin_client,
                admin_token=wiring.admin_token,
                scim_url=wiring.settings.slack_scim_url,
                locales=wiring.locales,
                permalinks=permalinks,
                alerts=alerts,
            ),
            detectors=Detectors(
                session_factory=wiring.session_factory,
                clock=wiring.clock,
                client=wiring.client,
                locales=wiring.locales,
                review_channel=wiring.settings.review_channel,
                alerts=alerts,
            ),
        )
