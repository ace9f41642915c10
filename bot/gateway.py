"""Every Slack adapter the use cases talk through, built once by the composition root
(app.py, or the CLI for a job it runs) and handed to listeners and jobs.

Use cases that decide take these adapters (or a narrower port) as arguments; they never build
a WebClient or an adapter of their own."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from bot.clock import Clock
from bot.db import SessionFactory
from bot.locale import LocaleResolver
from bot.services.channel_slack import ChannelConfig, ChannelSlack
from bot.services.moderation_actions import CaseAlerts
from bot.services.review_messages import ReviewMessages
from bot.services.slack_sync import Deactivator
from bot.services.welcome_sender import WelcomeSender
from bot.settings import Settings


@dataclass(frozen=True)
class SlackGateway:
    client: WebClient
    admin_client: WebClient | None
    locales: LocaleResolver
    # One line per feature: each feature's adapters.
    applications: ReviewMessages
    channels: ChannelSlack
    moderation: CaseAlerts
    onboarding: WelcomeSender
    lifecycle: Deactivator


def build_gateway(
    settings: Settings,
    *,
    client: WebClient,
    admin_client: WebClient | None,
    session_factory: SessionFactory,
    clock: Clock,
    locales: LocaleResolver | None = None,
) -> SlackGateway:
    if locales is None:
        locales = LocaleResolver(
            client=client, session_factory=session_factory, default=settings.default_locale
        )
    admin_token = settings.slack_admin_user_token
    return SlackGateway(
        client=client,
        admin_client=admin_client,
        locales=locales,
        applications=ReviewMessages(
            session_factory=session_factory,
            client=client,
            review_channel=settings.review_channel,
            language=settings.default_locale,
        ),
        channels=ChannelSlack(
            session_factory=session_factory,
            client=client,
            clock=clock,
            config=ChannelConfig.from_settings(settings),
            language_of=locales.for_user,
        ),
        moderation=CaseAlerts(
            session_factory=session_factory,
            client=client,
            review_channel=settings.review_channel,
            language=settings.default_locale,
        ),
        onboarding=WelcomeSender(
            session_factory=session_factory,
            clock=clock,
            client=client,
            settings=settings,
            locales=locales,
        ),
        lifecycle=Deactivator(
            bot_client=client,
            admin_client=admin_client,
            admin_token=admin_token.get_secret_value() if admin_token is not None else None,
            scim_url=settings.slack_scim_url,
        ),
    )
