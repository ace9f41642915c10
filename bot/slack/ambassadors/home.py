"""The ambassador's Home: the outreach CSV sent to their DM, and the questions of the
prefectures' デジ_re_ channels heard in the `message` listener.

`on_message` runs for every message in the workspace, so it is cheap where it does nothing:
a bot's post, an edit, a join or a DM costs nothing, and whether a channel is a prefecture's
デジ_re_ channel is one lookup remembered a minute (channels are registered rarely). It never
raises for the database: the event's other work must not be retried for a question's
bookkeeping. Log lines name no text."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.expiring import ExpiringCache
from bot.i18n import Language, t
from bot.knowledge.questions import looks_like_question
from bot.services.activity import slack_ts_to_datetime
from bot.services.ambassadors.outreach import OutreachCsv
from bot.services.ambassadors.questions import mark_answered, record_question, regional_prefecture
from bot.slack.wiring import SlackAdapter, SlackWiring

log = logging.getLogger(__name__)

CHANNEL_TTL_SECONDS = 60.0
CHANNELS_KEPT = 5000
# A member's own message; a reply sent to the channel too is still a reply.
_OWN_SUBTYPES = {None, "thread_broadcast", "file_share"}


class AmbassadorHomeSlack(SlackAdapter):
    def __init__(self, wiring: SlackWiring) -> None:
        super().__init__(wiring)
        self._prefectures: ExpiringCache[str, str | None] = ExpiringCache(
            ttl_seconds=CHANNEL_TTL_SECONDS, max_entries=CHANNELS_KEPT
        )

    def send_csv(self, user_id: str, export: OutreachCsv, language: Language) -> None:
        """The CSV as a file in the member's DM."""
        channel = self._client.conversations_open(users=user_id)["channel"]["id"]
        self._client.files_upload_v2(
            channel=channel,
            file=export.content,
            filename=export.filename,
            title=export.filename,
            initial_comment=t(
                "ambassadors.home.export_sent",
                language,
                prefectures="、".join(export.prefectures),
                rows=f"{export.rows:,}",
            ),
        )

    def tell(self, user_id: str, text: str) -> None:
        """A line in the member's DM (a Home-tab button has no other place to answer)."""
        self._client.chat_postMessage(channel=user_id, text=text)

    def on_message(self, event: dict[str, Any]) -> None:
        """A question asked in a prefecture's デジ_re_ channel, or a reply that answers one."""
        seen = _member_message(event)
        if seen is None:
            return
        channel_id, ts, thread_ts, user_id = seen
        try:
            prefecture = self._prefecture(channel_id)
            if prefecture is None:
                return
            at = slack_ts_to_datetime(ts)
            with self._session_factory.begin() as session:
                if thread_ts and thread_ts != ts:
                    mark_answered(
                        session, channel_id=channel_id, thread_ts=thread_ts, user_id=user_id, at=at
                    )
                elif looks_like_question(str(event.get("text") or "")):
                    record_question(
                        session,
                        channel_id=channel_id,
                        message_ts=ts,
                        user_id=user_id,
                        prefecture=prefecture,
                        asked_at=at,
                    )
        except SQLAlchemyError as exc:
            log.warning("regional question in %s not recorded: %s", channel_id, type(exc).__name__)

    def _prefecture(self, channel_id: str) -> str | None:
        def load() -> str | None:
            with self._session_factory() as session:
                return regional_prefecture(session, channel_id)

        return self._prefectures.get(channel_id, load)


def _member_message(event: dict[str, Any]) -> tuple[str, str, str | None, str] | None:
    """(channel, ts, thread_ts, user) of a person's own new message in a channel; None for
    a bot's post, an edit, a deletion, a join or a DM."""
    if event.get("bot_id") or event.get("subtype") not in _OWN_SUBTYPES:
        return None
    if event.get("channel_type") not in ("channel", "group"):
        return None
    channel_id, ts, user_id = event.get("channel"), event.get("ts"), event.get("user")
    thread_ts = event.get("thread_ts")
    if not (isinstance(channel_id, str) and isinstance(ts, str) and isinstance(user_id, str)):
        return None
    return channel_id, ts, thread_ts if isinstance(thread_ts, str) else None, user_id
