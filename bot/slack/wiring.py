"""What every feature's Slack adapters are built from, once, by bot/gateway.py, and the base
that takes from it what nearly all of them use."""

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


class SlackAdapter:
    """An adapter built from the wiring: the database, the clock, the bot's client and the
    members' languages. A subclass reads any other setting from `wiring.settings` and takes
    the adapters it calls as keyword arguments."""

    def __init__(self, wiring: SlackWiring) -> None:
        self._session_factory = wiring.session_factory
        self._clock = wiring.clock
        self._client = wiring.client
        self._locales = wiring.locales
