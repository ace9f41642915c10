"""What listeners close over: built once by app.create_app, never put into Bolt's context."""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk import WebClient

from bot.clock import Clock
from bot.db import SessionFactory
from bot.gateway import SlackGateway
from bot.locale import LocaleResolver
from bot.services.activity import ActivityRecorder
from bot.services.mail.worker import MailWorker
from bot.settings import Settings
from handlers.command_router import CommandRouter


@dataclass
class Deps:
    settings: Settings
    session_factory: SessionFactory
    clock: Clock
    client: WebClient
    admin_client: WebClient | None
    locales: LocaleResolver
    activity: ActivityRecorder
    # Delivers the email outbox; kicked automatically when a transaction that queued mail commits.
    mail: MailWorker
    # The Slack adapters of every feature, built once (bot/gateway.py).
    gateway: SlackGateway
    commands: CommandRouter = field(default_factory=CommandRouter)
