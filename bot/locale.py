"""Which language to speak to a member: stored preference, else Slack's locale, else default."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.db import SessionFactory
from bot.i18n import Language, as_language
from bot.services import members

log = logging.getLogger(__name__)


class UsersInfoPort(Protocol):
    def users_info(self, *, user: str, include_locale: bool) -> Any: ...


class LocaleResolver:
    """Caches Slack's locale per user so that a busy member costs one users.info an hour."""

    def __init__(
        self,
        *,
        client: UsersInfoPort,
        session_factory: SessionFactory,
        default: Language,
        ttl_seconds: float = 3600,
        max_entries: int = 20_000,
    ) -> None:
        self._client = client
        self._session_factory = session_factory
        self._default = default
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._cache: OrderedDict[str, tuple[float, Language]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def default(self) -> Language:
        return self._default

    def for_user(self, user_id: str | None) -> Language:
        if not user_id:
            return self._default
        with self._session_factory() as session:
            member = members.find(session, user_id)
            if member is not None and member.locale:
                return as_language(member.locale, self._default)
        return self._slack_locale(user_id)

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._cache.pop(user_id, None)

    def _slack_locale(self, user_id: str) -> Language:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(user_id)
            if hit is not None and hit[0] > now:
                self._cache.move_to_end(user_id)
                return hit[1]
        try:
            response = self._client.users_info(user=user_id, include_locale=True)
            language = as_language(response["user"].get("locale"), self._default)
        except (SlackApiError, SlackClientError, OSError) as exc:
            # Speaking the default language beats failing the member's request.
            log.warning("users.info failed for locale of %s: %s", user_id, exc)
            return self._default
        with self._lock:
            self._cache[user_id] = (now + self._ttl, language)
            self._cache.move_to_end(user_id)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)
        return language
