"""Suggestions' Slack side: a member asks a question in a public channel whose facilitators
turned suggestions on, and a kept answer already answers it closely → 「過去の回答が見つかり
ました」, to the asker alone (chat.postEphemeral), with up to three results.

Runs in the `message` listener for every message, so it is cheap where it does nothing: a
reply in a thread, an edit, a bot's post or a message that asks nothing costs no database
work, and whether a channel wants suggestions is one primary-key lookup, remembered a minute.
It never raises: a suggestion is a courtesy, and the event's other work must not be retried
for it. Its log lines name no text: what members write stays out of the logs."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from bot.expiring import ExpiringCache
from bot.knowledge.questions import looks_like_question, question_core
from bot.services.knowledge import channel_choices, lookup
from bot.services.knowledge.engine import KnowledgeEngine
from bot.slack.knowledge.links import WorkspaceLinks
from bot.slack.wiring import SlackAdapter, SlackWiring
from bot.slack_errors import SLACK_CALL_ERRORS, error_code
from bot.views.blocks import to_dicts
from bot.views.knowledge.search import suggestion_blocks, suggestion_text

log = logging.getLogger(__name__)

CHOICE_TTL_SECONDS = 60.0
CHOICES_KEPT = 5000  # channels remembered at most
HANDLED_KEPT = 2000  # recent messages remembered, so that one is answered at most once


class SuggestSlack(SlackAdapter):
    def __init__(self, wiring: SlackWiring, *, links: WorkspaceLinks) -> None:
        super().__init__(wiring)
        self.wiring = wiring
        self.links = links
        # Text only: the thresholds below are about the words a question shares with an
        # answer, which a meaning-only neighbour (coverage 0) never passes anyway.
        self._engine = KnowledgeEngine()
        self._lock = threading.Lock()
        self._choices: ExpiringCache[str, bool] = ExpiringCache(
            ttl_seconds=CHOICE_TTL_SECONDS, max_entries=CHOICES_KEPT
        )
        self._handled: OrderedDict[tuple[str, str], None] = OrderedDict()

    def on_message(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        """A new message that may be a question a kept answer already answers."""
        try:
            self._consider(event)
        except Exception as exc:  # a courtesy: whatever fails, the event stands
            log.warning("suggestion skipped: %s", type(exc).__name__)

    def forget_choice(self, channel_id: str) -> None:
        """A facilitator switched the channel's suggestions: heed it at once in this process."""
        self._choices.forget(channel_id)

    def _consider(self, event: dict[str, Any]) -> None:
        asked = _question(event)
        if asked is None:
            return
        channel_id, ts, user_id, text = asked
        if not self._suggests(channel_id) or not self._first_time(channel_id, ts):
            return
        with self._session_factory() as session:
            hits = lookup.suggestions(
                session,
                engine=self._engine,
                clock=self._clock,
                user_id=user_id,
                question=question_core(text),
            )
        if not hits:
            return
        language = self._locales.for_user(user_id)
        blocks = suggestion_blocks(hits, language, workspace_url=self.links.workspace_url())
        try:
            self._client.chat_postEphemeral(
                channel=channel_id,
                user=user_id,
                blocks=to_dicts(blocks),
                text=suggestion_text(language),
            )
        except SLACK_CALL_ERRORS as exc:
            log.warning("suggestion in %s not delivered: %s", channel_id, error_code(exc))
            return
        log.info("suggested %d past answer(s) in %s", len(hits), channel_id)

    def _suggests(self, channel_id: str) -> bool:
        def load() -> bool:
            with self._session_factory() as session:
                return channel_choices.choice(session, channel_id).suggest

        return self._choices.get(channel_id, load)

    def _first_time(self, channel_id: str, ts: str) -> bool:
        key = (channel_id, ts)
        with self._lock:
            if key in self._handled:
                return False
            self._handled[key] = None
            while len(self._handled) > HANDLED_KEPT:
                self._handled.popitem(last=False)
        return True


def _question(event: dict[str, Any]) -> tuple[str, str, str, str] | None:
    """(channel, ts, asker, text) of a member's new top-level post in a public channel that
    asks something; None for anything else. A reply in a thread is left alone: it is part of
    a conversation already under way, where an unasked suggestion would only interrupt."""
    if event.get("type") != "message" or event.get("subtype") or event.get("bot_id"):
        return None
    if event.get("channel_type") != "channel":
        return None
    ts, thread_ts = event.get("ts"), event.get("thread_ts")
    if thread_ts and thread_ts != ts:
        return None
    channel_id, user_id, text = event.get("channel"), event.get("user"), event.get("text")
    if not (
        isinstance(channel_id, str)
        and isinstance(ts, str)
        and isinstance(user_id, str)
        and isinstance(text, str)
    ):
        return None
    if not looks_like_question(text):
        return None
    return channel_id, ts, user_id, text
