"""Onboarding's Slack adapters, built once by bot/gateway.py: the welcome DM, the later DMs,
the replies to a member's clicks, and the secretariat's notices."""

from __future__ import annotations

from dataclasses import dataclass

from bot.slack.kind_hours import KindHours
from bot.slack.onboarding.dms import OnboardingDMs
from bot.slack.onboarding.notices import SecretariatNotices
from bot.slack.onboarding.replies import OnboardingReplies
from bot.slack.onboarding.welcome import WelcomeSender
from bot.slack.wiring import SlackWiring


@dataclass(frozen=True)
class OnboardingSlack:
    welcome: WelcomeSender
    dms: OnboardingDMs
    replies: OnboardingReplies
    notices: SecretariatNotices

    @classmethod
    def build(cls, wiring: SlackWiring) -> OnboardingSlack:
        workspace_language = wiring.settings.default_locale
        return cls(
            welcome=WelcomeSender(
                session_factory=wiring.session_factory,
                clock=wiring.clock,
                client=wiring.client,
                locales=wiring.locales,
                intro_channel=wiring.settings.intro_channel,
                zone=wiring.settings.zone,
            ),
            dms=OnboardingDMs(
                client=wiring.client,
                session_factory=wiring.session_factory,
                locales=wiring.locales,
                intro_channel=wiring.settings.intro_channel,
                kind_hours=KindHours.from_settings(wiring.settings),
            ),
            replies=OnboardingReplies(client=wiring.client, channel_language=workspace_language),
            notices=SecretariatNotices(
                client=wiring.client,
                review_channel=wiring.settings.review_channel,
                language=workspace_language,
            ),
        )
