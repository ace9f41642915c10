"""What every feature's Slack adapters are built from, once, by bot/gateway.py."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from bot.clock import Clock
from bot.db import SessionFactory
from bot.locale import LocaleResolver
from bot.settings import Settings


@dataclass(frozen=True)
class SlackWiring:
    settings: Settings
    client: WebClient
    admin_client: WebClient | None
    session_factory: SessionFactory
    clock: Clock
    locales: LocaleResolver

    @property
    def admin_token(self) -> str | None:
        token = self.settings.slack_admin_user_token
        return token.get_secret_value() if token is not None else None
