"""Which language to speak to a member: stored preference, else Slack's locale, else default."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.db import SessionFactory
from bot.expiring import ExpiringCache
from bot.i18n import Language, as_language
from bot.services import members

log = logging.getLogger(__name__)


class UsersInfoPort(Protocol):
    def users_info(self, *, user: str, include_locale: bool) -> Any: ...


class LocaleResolver:
    """Caches Slack's locale per user so that a busy member costs one users.info an hour,
    and the member's own choice for a minute: a change made through another instance is
    seen within that minute, through this one at once (`forget`)."""

    def __init__(
        self,
        *,
        client: UsersInfoPort,
        session_factory: SessionFactory,
        default: Language,
        ttl_seconds: float = 3600,
        chosen_ttl_seconds: float = 60,
        max_entries: int = 20_000,
    ) -> None:
        self._client = client
        self._session_factory = session_factory
        self._default = default
        self._slack: ExpiringCache[str, Language] = ExpiringCache(
            ttl_seconds=ttl_seconds, max_entries=max_entries
        )
        self._chosen: ExpiringCache[str, str | None] = ExpiringCache(
            ttl_seconds=chosen_ttl_seconds, max_entries=max_entries
        )

    @property
    def default(self) -> Language:
        return self._default

    def for_user(self, user_id: str | None) -> Language:
        if not user_id:
            return self._default
        chosen = self._chosen.get(user_id, lambda: self._stored_choice(user_id))
        if chosen:
            return as_language(chosen, self._default)
        try:
            return self._slack.get(user_id, lambda: self._slack_locale(user_id))
        except (SlackApiError, SlackClientError, OSError) as exc:
            # Speaking the default language beats failing the member's request.
            log.warning("users.info failed for locale of %s: %s", user_id, exc)
            return self._default

    def forget(self, user_id: str) -> None:
        self._slack.forget(user_id)
        self._chosen.forget(user_id)

    def _stored_choice(self, user_id: str) -> str | None:
        with self._session_factory() as session:
            return members.locale_of(session, user_id)

    def _slack_locale(self, user_id: str) -> Language:
        response = self._client.users_info(user=user_id, include_locale=True)
        return as_language(response["user"].get("locale"), self._default)
