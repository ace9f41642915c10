"""Composition root: build Kyoso's services and its Bolt app from settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from slack_bolt import App
from slack_sdk import WebClient

import handlers
from bot.clock import Clock, SystemClock
from bot.db import SessionFactory, make_engine, make_session_factory
from bot.gateway import build_gateway
from bot.inbox.runtime import EventInbox
from bot.locale import LocaleResolver
from bot.services.activity import ActivityRecorder
from bot.services.mail import MailWorker, SmtpSender
from bot.settings import Settings
from bot.slack_client import make_web_client
from handlers import intake
from handlers.command_router import CommandRouter
from handlers.deps import Deps


@dataclass(frozen=True)
class Kyoso:
    bolt: App
    deps: Deps
    inbox: EventInbox

    def start_background_work(self) -> None:
        self.deps.activity.start()
        self.deps.mail.start()
        self.inbox.start()

    def close(self) -> None:
        """Finish and flush what is under way; call once the server stopped taking requests."""
        self.inbox.stop()
        self.deps.activity.stop()
        self.deps.mail.stop()


def build_deps(
    settings: Settings,
    *,
    client: WebClient | None = None,
    session_factory: SessionFactory | None = None,
    clock: Clock | None = None,
) -> Deps:
    if session_factory is None:
        session_factory = make_session_factory(make_engine(settings.database_url))
    if client is None:
        client = make_web_client(
            settings.slack_bot_token.get_secret_value(), settings.slack_api_url
        )
    admin_token = settings.slack_admin_user_token
    clock = clock or SystemClock()
    admin_client = (
        make_web_client(admin_token.get_secret_value(), settings.slack_api_url)
        if admin_token is not None
        else None
    )
    locales = LocaleResolver(
        client=client, session_factory=session_factory, default=settings.default_locale
    )
    return Deps(
        settings=settings,
        session_factory=session_factory,
        clock=clock,
        client=client,
        admin_client=admin_client,
        locales=locales,
        activity=ActivityRecorder(session_factory),
        mail=MailWorker(session_factory, SmtpSender(settings, clock=clock), clock=clock),
        gateway=build_gateway(
            settings,
            client=client,
            admin_client=admin_client,
            session_factory=session_factory,
            clock=clock,
            locales=locales,
        ),
    )


class _SkipTokenWarning(logging.Filter):
    """Bolt also reads SLACK_BOT_TOKEN itself and warns that the client's token wins; it
    is the same token, so the warning only confuses operators."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_SKIP_TOKEN_WARNING = _SkipTokenWarning()


def build_bolt_app(settings: Settings, client: WebClient) -> App:
    signing_secret = settings.slack_signing_secret
    logging.getLogger("slack_bolt.App").addFilter(_SKIP_TOKEN_WARNING)  # a no-op the 2nd time
    return App(
        client=client,
        signing_secret=signing_secret.get_secret_value() if signing_secret else None,
        # HTTP requests are verified by handlers/slack_gate.py before Bolt sees them (Bolt's own
        # check logs whole bodies); Socket Mode payloads come over an authenticated websocket.
        request_verification_enabled=False,
        process_before_response=False,
    )


def build_event_worker(client: WebClient, deps: Deps) -> App:
    """The same listeners, run to completion by the inbox's workers on recorded events
    (already verified when they were received)."""
    worker = App(
        client=client,
        signing_secret="",
        request_verification_enabled=False,
        process_before_response=True,
    )
    # Its own command router: the slash command's listeners are registered on both apps.
    handlers.register_all(worker, replace(deps, commands=CommandRouter()))
    return worker


def create_app(
    settings: Settings,
    *,
    client: WebClient | None = None,
    session_factory: SessionFactory | None = None,
    clock: Clock | None = None,
) -> Kyoso:
    deps = build_deps(settings, client=client, session_factory=session_factory, clock=clock)
    inbox = EventInbox(
        deps.session_factory,
        deps.clock,
        intake.event_dispatcher(build_event_worker(deps.client, deps)),
        workers=settings.event_workers,
        lease=timedelta(seconds=settings.event_lease_seconds),
    )
    bolt = build_bolt_app(settings, deps.client)
    intake.register(bolt, deps, inbox)
    handlers.register_all(bolt, deps)
    return Kyoso(bolt=bolt, deps=deps, inbox=inbox)
