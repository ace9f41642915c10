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
from bot.settings import Settings
from bot.slack.ambassadors import AmbassadorsSlack
from bot.slack.applications import ApplicationsSlack
from bot.slack.channels import ChannelsSlack
from bot.slack.dashboard import DashboardSlack
from bot.slack.knowledge import KnowledgeSlack
from bot.slack.lifecycle import LifecycleSlack
from bot.slack.moderation import ModerationSlack
from bot.slack.onboarding import OnboardingSlack
from bot.slack.secretariat import SecretariatSlack
from bot.slack.transfers import TransfersSlack
from bot.slack.wiring import SlackWiring
from bot.slack_client import make_web_client


@dataclass(frozen=True)
class SlackGateway:
    client: WebClient
    admin_client: WebClient | None
    locales: LocaleResolver
    # One line per feature: each feature's adapters.
    applications: ApplicationsSlack
    channels: ChannelsSlack
    moderation: ModerationSlack
    onboarding: OnboardingSlack
    lifecycle: LifecycleSlack
    dashboard: DashboardSlack
    knowledge: KnowledgeSlack
    transfers: TransfersSlack
    ambassadors: AmbassadorsSlack
    secretariat: SecretariatSlack


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
    wiring = SlackWiring(
        settings=settings,
        client=client,
        admin_client=admin_client,
        session_factory=session_factory,
        clock=clock,
        locales=locales,
    )
    return SlackGateway(
        client=client,
        admin_client=admin_client,
        locales=locales,
        applications=ApplicationsSlack.build(wiring),
        channels=ChannelsSlack.build(wiring),
        moderation=ModerationSlack.build(wiring),
        onboarding=OnboardingSlack.build(wiring),
        lifecycle=LifecycleSlack.build(wiring),
        dashboard=DashboardSlack(client=client),
        knowledge=KnowledgeSlack.build(wiring),
        transfers=TransfersSlack.build(wiring),
        ambassadors=AmbassadorsSlack.build(wiring),
        secretariat=SecretariatSlack.build(wiring),
    )


def bot_client_for(settings: Settings) -> WebClient:
    return make_web_client(settings.slack_bot_token.get_secret_value(), settings.slack_api_url)


def admin_client_for(settings: Settings) -> WebClient | None:
    """The workspace admin's client, when an admin user token is configured."""
    token = settings.slack_admin_user_token
    return make_web_client(token.get_secret_value(), settings.slack_api_url) if token else None


def gateway_from_settings(
    settings: Settings, *, session_factory: SessionFactory, clock: Clock
) -> SlackGateway:
    """For a command run outside the server (the CLI): the clients come from the settings."""
    return build_gateway(
        settings,
        client=bot_client_for(settings),
        admin_client=admin_client_for(settings),
        session_factory=session_factory,
        clock=clock,
    )
