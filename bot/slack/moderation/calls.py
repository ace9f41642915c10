"""Slack calls moderation makes after a decision or a detection has committed: a failure is
logged (or shown as a to-do), never retried blindly."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack_errors import error_code

log = logging.getLogger(__name__)

# What a best-effort Slack call may raise once slack_sdk's retries are spent.
UNDELIVERED = (SlackApiError, SlackClientError, OSError)

_MAX_LINKS = 1024


def best_effort(what: str, work: Callable[..., Any], *args: Any) -> None:
    try:
        work(*args)
    except UNDELIVERED as exc:
        log.warning("%s failed: %s", what, error_code(exc))


class Permalinks:
    """A message's permalink, asked of Slack once: it never changes."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._known: dict[tuple[str, str], str] = {}

    def __call__(self, channel_id: str | None, ts: str | None) -> str | None:
        if not (channel_id and ts):
            return None
        known = self._known.get((channel_id, ts))
        if known is not None:
            return known
        try:
            link = str(
                self._client.chat_getPermalink(channel=channel_id, message_ts=ts)["permalink"]
            )
        except UNDELIVERED as exc:
            log.info("no permalink for %s/%s: %s", channel_id, ts, error_code(exc))
            return None
        if len(self._known) >= _MAX_LINKS:
            self._known.clear()
        self._known[(channel_id, ts)] = link
        return link
