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
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._chosen_ttl = chosen_ttl_seconds
        self._cache: OrderedDict[str, tuple[float, Language]] = OrderedDict()
        self._chosen: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def default(self) -> Language:
        return self._default

    def for_user(self, user_id: str | None) -> Language:
        if not user_id:
            return self._default
        chosen = self._chosen_locale(user_id)
        if chosen:
            return as_language(chosen, self._default)
        return self._slack_locale(user_id)

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._cache.pop(user_id, None)
            self._chosen.pop(user_id, None)

    def _chosen_locale(self, user_id: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            hit = self._chosen.get(user_id)
            if hit is not None and hit[0] > now:
                return hit[1]
        with self._session_factory() as session:
            chosen = members.locale_of(session, user_id)
        self._remember(self._chosen, user_id, (now + self._chosen_ttl, chosen))
        return chosen

    def _remember(self, cache: OrderedDict[str, Any], user_id: str, entry: Any) -> None:
        with self._lock:
            cache[user_id] = entry
            cache.move_to_end(user_id)
            while len(cache) > self._max_entries:
                cache.popitem(last=False)

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
        self._remember(self._cache, user_id, (now + self._ttl, language))
        return language
